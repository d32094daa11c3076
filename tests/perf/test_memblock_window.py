"""memblock's find functions walk only the memory regions inside [start, end)
(Memblock.free_ranges(window=...)); that must give the allocation the plain
walk over every region gives, which is what mm/memblock.c does
(__memblock_find_range_{bottom_up,top_down} over for_each_free_mem_range)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.kernel.memblock import MEMBLOCK_HOTPLUG, MEMBLOCK_MIRROR, MEMBLOCK_NOMAP, Memblock
from sratplan.kernel.profile import PROFILES

PAGE = 4096
addr = st.integers(0, 4096).map(lambda p: p * PAGE)
size = st.integers(1, 300).map(lambda p: p * PAGE)
nids = st.sampled_from([0, 1, 2, -1])
ops = st.lists(st.tuples(st.sampled_from(["add", "reserve", "hotplug", "nomap", "remove"]), addr, size, nids),
               max_size=30)
query = st.tuples(st.sampled_from([0, 1, PAGE, 3 * PAGE, 1 << 20]),        # size (0 kept exact)
                  st.sampled_from([1, 64, PAGE, 1 << 21]),                  # align
                  addr, addr, nids,
                  st.sampled_from([0, MEMBLOCK_HOTPLUG, MEMBLOCK_MIRROR, MEMBLOCK_NOMAP]))


def _clamp(v, lo, hi):
    return min(max(v, lo), hi)


def _reference(mb, start, end, size, align, nid, flags, top_down):
    """The kernel's loops over the unrestricted free-range walk."""
    ranges = mb.free_ranges(nid, flags, reverse=top_down)
    for s, e, _ in ranges:
        s, e = _clamp(s, start, end), _clamp(e, start, end)
        if top_down:
            if e < size:
                continue
            cand = (e - size) // align * align
            if cand >= s:
                return cand
        else:
            cand = -(-s // align) * align
            if cand < e and e - cand >= size:
                return cand
    return 0


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(PROFILES)), st.booleans(), ops, st.lists(query, min_size=1, max_size=8))
def test_windowed_find_equals_full_walk(name, movable, script, queries):
    mb = Memblock(PROFILES[name], movable_node=movable)
    for kind, a, s, n in script:
        if kind == "add":
            mb.add_node(a, s, n)
        elif kind == "reserve":
            mb.reserve(a, s, n)
        elif kind == "hotplug":
            mb.mark_hotplug(a, s)
        elif kind == "nomap":
            mb.mark_nomap(a, s)
        else:
            mb.remove(a, s)
    for sz, align, a, b, n, flags in queries:
        start, end = min(a, b), max(a, b)
        for top_down, fn in ((True, mb._find_top_down), (False, mb._find_bottom_up)):
            assert fn(start, end, sz, align, n, flags) == _reference(mb, start, end, sz, align, n, flags, top_down)


def _reference_free(mb, nid, flags):
    """for_each_free_mem_range written out: should_skip_region per memory
    region, then the parts not covered by reserved regions."""
    out = []
    for m in mb.memory:
        if mb._skip(m.flags, m.nid, -1 if nid is None else nid, flags):
            continue
        cur = m.base
        for r in mb.reserved:
            if r.end <= cur or r.base >= m.end:
                continue
            if r.base > cur:
                out.append((cur, r.base, m.nid))
            cur = max(cur, r.end)
        if cur < m.end:
            out.append((cur, m.end, m.nid))
    return out


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(PROFILES)), st.booleans(), ops, nids,
       st.sampled_from([0, MEMBLOCK_HOTPLUG, MEMBLOCK_MIRROR, MEMBLOCK_NOMAP]))
def test_free_ranges_skip_regions_as_should_skip_region(name, movable, script, nid, flags):
    mb = Memblock(PROFILES[name], movable_node=movable)
    for kind, a, s, n in script:
        {"add": lambda: mb.add_node(a, s, n), "reserve": lambda: mb.reserve(a, s, n),
         "hotplug": lambda: mb.mark_hotplug(a, s), "nomap": lambda: mb.mark_nomap(a, s),
         "remove": lambda: mb.remove(a, s)}[kind]()
    want = _reference_free(mb, nid, flags)
    assert list(mb.free_ranges(nid, flags)) == want
    assert list(mb.free_ranges(nid, flags, reverse=True)) == want[::-1]
