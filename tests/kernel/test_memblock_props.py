"""Properties of the memblock engine under random operation sequences, and
its cost on large machines (issue 8 benchmarks 2,000-range maps)."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.kernel.memblock import Memblock
from sratplan.kernel.profile import PROFILES

PAGE = 4096
SPAN = 1 << 24          # operations within 16 MiB, page granular

addr = st.integers(0, SPAN // PAGE).map(lambda p: p * PAGE)
size = st.integers(1, 256).map(lambda p: p * PAGE)
nid = st.sampled_from([0, 1, 2, -1, 1024])
op = st.one_of(
    st.tuples(st.just("add"), addr, size, nid),
    st.tuples(st.just("reserve"), addr, size, nid),
    st.tuples(st.just("remove"), addr, size, nid),
    st.tuples(st.just("phys_free"), addr, size, nid),
    st.tuples(st.just("set_node"), addr, size, nid),
    st.tuples(st.just("mark_hotplug"), addr, size, nid),
    st.tuples(st.just("clear_hotplug"), addr, size, nid),
    st.tuples(st.just("alloc"), st.sampled_from([0, 1 << 12, 1 << 16, 1 << 21]), size, nid),
)


def _apply(mb, o):
    kind, a, s, n = o
    if kind == "add":
        mb.add_node(a, s, n)
    elif kind == "reserve":
        mb.reserve(a, s, n)
    elif kind == "remove":
        mb.remove(a, s)
    elif kind == "phys_free":
        mb.phys_free(a, s)
    elif kind == "set_node":
        mb.set_node(a, s, n)
    elif kind == "mark_hotplug":
        mb.mark_hotplug(a, s)
    elif kind == "clear_hotplug":
        mb.clear_hotplug(a, s)
    else:
        before = mb.reserved
        got = mb.alloc_try_nid(s, a, 0, 0, n)
        if got:
            align = a or 64
            assert got % align == 0 and got >= PAGE
            # the range was free memory before and is reserved now
            assert not any(r.base < got + s and got < r.end for r in before)
            assert any(r.base <= got and got + s <= r.end for r in mb.memory)
            assert any(r.base <= got and got + s <= r.end for r in mb.reserved)


def _check(regions):
    for x, y in zip(regions, regions[1:]):
        assert x.size > 0
        assert x.end <= y.base                                   # sorted, disjoint
        assert not (x.end == y.base and x.nid == y.nid and x.flags == y.flags)   # merged


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(PROFILES)), st.booleans(), st.booleans(), st.lists(op, max_size=40))
def test_arrays_stay_sorted_disjoint_and_merged(name, bottom_up, movable, ops):
    mb = Memblock(PROFILES[name], movable_node=movable)
    mb.set_bottom_up(bottom_up)
    for o in ops:
        _apply(mb, o)
        _check(mb.memory)
        _check(mb.reserved)
        # no trim happened, so total_size is the plain sum
        assert mb.memory_size() == sum(r.size for r in mb.memory)
        assert mb.reserved_size() == sum(r.size for r in mb.reserved)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(addr, size), min_size=1, max_size=30), st.lists(st.tuples(addr, size), max_size=30))
def test_free_ranges_are_memory_minus_reserved(mem, res):
    mb = Memblock(PROFILES["6.1"])
    for a, s in mem:
        mb.add(a, s)
    for a, s in res:
        mb.reserve(a, s)
    fwd = [(s, e) for s, e, _ in mb.free_ranges()]
    rev = [(s, e) for s, e, _ in mb.free_ranges(reverse=True)]
    assert rev == fwd[::-1]
    pages = set()
    for r in mb.memory:
        pages |= set(range(r.base, r.end, PAGE))
    for r in mb.reserved:
        pages -= set(range(r.base, r.end, PAGE))
    got = set()
    for s, e in fwd:
        got |= set(range(s, e, PAGE))
    assert got == pages


def test_large_machine_is_fast():
    # 2,000 memory ranges, 2,000 reservations, 2,000 allocations
    mb = Memblock(PROFILES["7.2"])
    mb.allow_resize()
    t0 = time.perf_counter()
    for i in range(2000):
        mb.add_node((i + 1) << 30, 1 << 29, i % 64)
        mb.reserve(((i + 1) << 30) + (1 << 20), 1 << 16)
    for i in range(2000):
        assert mb.alloc_try_nid(1 << 16, 1 << 12, 0, 0, i % 64)
    assert len(mb.memory) == 2000
    assert time.perf_counter() - t0 < 10


big = st.integers(0, (1 << 70))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "reserve", "remove", "phys_free", "set_node",
                                           "mark_hotplug", "alloc", "find"]), big, big, big), max_size=20))
def test_out_of_range_values_never_raise(ops):
    # values as a corrupt log could carry them (beyond 64 bits, end < base)
    mb = Memblock(PROFILES["7.2"], movable_node=True)
    mb.allow_resize()
    for kind, a, b, c in ops:
        if kind == "alloc":
            mb.alloc_try_nid(a, b, c, a, -1)
        elif kind == "find":
            mb.find_in_range_node(a, b, c, a)
        elif kind == "set_node":
            mb.set_node(a, b, 3)
        else:
            getattr(mb, kind)(a, b)
        _check(mb.memory)
        _check(mb.reserved)
    mb.dump()


def _addresses(pieces, size, count):
    """The addresses single calls return, from alloc_try_nid_repeat's pieces
    (each filled top-down) and 0 for each call that found nothing."""
    out = [a for lo, hi in pieces for a in range(hi - size, lo - 1, -size)]
    return out + [0] * (count - len(out))


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(sorted(PROFILES)), st.booleans(), st.booleans(), st.booleans(), st.lists(op, max_size=30),
       st.integers(0, 300), st.sampled_from([(4096, 64), (4096, 4096), (1 << 16, 1 << 12), (8192, 4096),
                                             (4096, 8192), (100, 64), (1 << 21, 1 << 21)]), nid,
       st.sampled_from([0, 1 << 22, 3 << 22]))
def test_repeated_allocation_equals_single_calls(name, bottom_up, movable, resize, ops, count, req, n, min_addr):
    """alloc_try_nid_repeat is ``count`` alloc_try_nid calls: the same
    addresses, the same reserved regions (nid, flags) and bookkeeping, with
    and without a min_addr (and its retry from 0)."""
    size, align = req
    mbs = []
    for _ in range(2):
        mb = Memblock(PROFILES[name], movable_node=movable)
        if resize:
            mb.allow_resize()
        for o in ops:
            _apply(mb, o)
        mb.set_bottom_up(bottom_up)
        mbs.append(mb)
    fast, slow = mbs
    got = _addresses(fast.alloc_try_nid_repeat(count, size, align, n, min_addr=min_addr), size, count)
    want = [slow.alloc_try_nid(size, align, min_addr, 0, n) for _ in range(count)]
    assert got == want
    assert fast.reserved == slow.reserved and fast.reserved_size() == slow.reserved_size()
    assert fast.memory == slow.memory


def test_repeated_allocation_across_gaps_and_nodes():
    """A long run that exhausts several free gaps, then the node, then falls
    back to other nodes; and a reserved array at the doubling edge."""
    for name in sorted(PROFILES):
        mbs = []
        for _ in range(2):
            mb = Memblock(PROFILES[name])
            mb.allow_resize()
            for k in range(6):
                mb.add_node((k + 1) << 24, 1 << 22, k % 2)
                mb.reserve(((k + 1) << 24) + (1 << 21) + 64 * k, 4096 * (k + 1))
            for k in range(120):        # 126 reserved regions: the next inserts double the array
                mb.reserve((7 << 24) + k * 3 * PAGE, PAGE)
            mbs.append(mb)
        fast, slow = mbs
        got = _addresses(fast.alloc_try_nid_repeat(7000, 4096, 64, 1), 4096, 7000)
        want = [slow.alloc_try_nid(4096, 64, 0, 0, 1) for _ in range(7000)]
        assert got == want and 0 in got and len({a for a in got if a}) == sum(1 for a in got if a)
        assert fast.reserved == slow.reserved and fast.reserved_size() == slow.reserved_size()
