"""Placement rules of the memblock allocator, each top-down and bottom-up.

Same behaviours as the kernel's user-space suite
(tools/testing/memblock/tests/alloc_api.c, alloc_nid_api.c,
alloc_exact_nid_api.c, alloc_helpers_api.c), written for sratplan's API:
simple/disjoint/before/after/second-fit/in-between/small-gaps/all-reserved/
no-space/limited/no-memory/too-large placements, ranges (misaligned ends,
narrow, exact, capped), the min_addr retry, NUMA node preference with and
without fallback, plus the version switches (7.x RSRV_KERN, the pre-5.11
kernel_end rule, movable_node's hotplug skip, mirror fallback).
"""

import pytest

from sratplan.kernel.memblock import (
    NUMA_NO_NODE,
    SMP_CACHE_BYTES,
    Memblock,
    Region,
)
from sratplan.kernel.profile import PROFILES

G = 1 << 30
M = 1 << 20
K = 1 << 10
BASE, SIZE = G, 16 * M           # the simulated RAM of these tests
END = BASE + SIZE


@pytest.fixture(params=["top_down", "bottom_up"])
def direction(request):
    return request.param


def make(direction, profile="6.1", **kw):
    mb = Memblock(PROFILES[profile], **kw)
    mb.set_bottom_up(direction == "bottom_up")
    return mb


def pick(direction, top_down, bottom_up):
    return top_down if direction == "top_down" else bottom_up


def spans(regions):
    return [(r.base, r.size) for r in regions]


# --- memblock_alloc (alloc_api.c) -----------------------------------------------
def test_alloc_simple(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    got = mb.alloc(2 * K, SMP_CACHE_BYTES)
    assert got == pick(direction, END - 2 * K, BASE)
    assert spans(mb.reserved) == [(got, 2 * K)]
    assert mb.reserved_size() == 2 * K


def test_alloc_disjoint(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.reserve(BASE + SIZE // 2, 4 * K)
    got = mb.alloc(4 * K, SMP_CACHE_BYTES)
    assert got == pick(direction, END - 4 * K, BASE)
    assert len(mb.reserved) == 2 and mb.reserved_size() == 8 * K


def test_alloc_next_to_a_reservation_merges(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    edge = pick(direction, END - 4 * K, BASE)
    mb.reserve(edge, 4 * K)
    got = mb.alloc(8 * K, SMP_CACHE_BYTES)
    assert got == pick(direction, END - 12 * K, BASE + 4 * K)
    assert spans(mb.reserved) == [(pick(direction, END - 12 * K, BASE), 12 * K)]


def test_alloc_second_fit(direction):
    # the free gap at the preferred end is too small: take the next one
    mb = make(direction)
    mb.add(BASE, SIZE)
    if direction == "top_down":
        mb.reserve(END - 64 * K, 60 * K)      # leaves 4K free above it
        expect = END - 64 * K - 8 * K
    else:
        mb.reserve(BASE + 4 * K, 60 * K)      # leaves 4K free below it
        expect = BASE + 64 * K
    assert mb.alloc(8 * K, 4 * K) == expect


def test_alloc_in_between_fills_an_exact_gap(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.reserve(BASE, 8 * M)
    mb.reserve(BASE + 8 * M + 16 * K, 8 * M - 16 * K)
    assert mb.alloc(16 * K, SMP_CACHE_BYTES) == BASE + 8 * M
    assert spans(mb.reserved) == [(BASE, SIZE)]


def test_alloc_small_gaps_fail(direction):
    mb = make(direction)
    mb.add(BASE, 256 * K)
    for i in range(0, 256 * K, 8 * K):
        mb.reserve(BASE + i, 6 * K)           # 2K gaps everywhere
    assert mb.alloc(4 * K, SMP_CACHE_BYTES) == 0


def test_reservations_beyond_the_static_array_are_dropped_before_resize(direction):
    # 128-entry arrays and no memblock_allow_resize(): memblock_reserve fails
    # (-ENOMEM) and the reservations beyond the array are dropped; an
    # allocation whose reservation fails fails too (memblock_alloc_range_nid:
    # "if (found && !memblock_reserve(found, size)) goto done"), although
    # the memory it found is free
    mb = make(direction)
    mb.add(BASE, SIZE)
    for i in range(0, SIZE, 8 * K):
        mb.reserve(BASE + i, 6 * K)
    assert len(mb.reserved) == 128 and mb.reserved[-1].end == BASE + M - 2 * K
    free = pick(direction, END - 4 * K, BASE + M)
    assert mb.find_in_range_node(4 * K, 4 * K, 0, 0) == free
    assert mb.alloc(4 * K, 4 * K) == 0
    assert len(mb.reserved) == 128


def test_alloc_all_reserved_and_no_space(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.reserve(BASE, SIZE)
    assert mb.alloc(64, SMP_CACHE_BYTES) == 0
    assert spans(mb.reserved) == [(BASE, SIZE)]


def test_alloc_limited_space_exact_fit(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.reserve(BASE, SIZE - 64 * K)
    assert mb.alloc(64 * K, SMP_CACHE_BYTES) == END - 64 * K
    assert spans(mb.reserved) == [(BASE, SIZE)]


def test_alloc_no_memory_and_too_large(direction):
    mb = make(direction)
    assert mb.alloc(64, SMP_CACHE_BYTES) == 0
    mb.add(BASE, SIZE)
    assert mb.alloc(SIZE + 4 * K, SMP_CACHE_BYTES) == 0
    assert mb.reserved == ()


def test_alloc_respects_current_limit(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.set_current_limit(BASE + M)
    got = mb.alloc(4 * K, 4 * K)
    assert got == pick(direction, BASE + M - 4 * K, BASE)


def test_alloc_never_returns_the_first_page(direction):
    mb = make(direction)
    mb.add(0, 64 * K)
    got = mb.phys_alloc_range(4 * K, 4 * K, 0, 64 * K)
    assert got == pick(direction, 60 * K, 4 * K)
    mb.reserve(4 * K, 60 * K)
    assert mb.phys_alloc_range(4 * K, 4 * K, 0, 64 * K) == 0     # page 0 stays unused


def test_align_zero_means_cache_line(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.reserve(pick(direction, END - 8, BASE), 8)
    got = mb.alloc(100, 0)
    assert got % SMP_CACHE_BYTES == 0


# --- memblock_alloc_try_nid ranges (alloc_nid_api.c) ----------------------------
def test_range_simple(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    lo, hi = BASE + 1 * M, BASE + 3 * M
    got = mb.alloc_try_nid(128, SMP_CACHE_BYTES, lo, hi)
    assert got == pick(direction, hi - 128, lo)


def test_range_misaligned_ends(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    lo, hi = BASE + M + 1, BASE + 3 * M + 777
    got = mb.alloc_try_nid(128, SMP_CACHE_BYTES, lo, hi)
    # top-down rounds the candidate down, bottom-up rounds the start up
    assert got == pick(direction, (hi - 128) & ~63, (lo + 63) & ~63)


def test_range_narrow_and_exact(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    lo = BASE + 2 * M
    assert mb.alloc_try_nid(4 * K, 4 * K, lo, lo + 4 * K) == lo
    # a range with less than size: with min_addr set, retried from 0 (min_addr retry)
    got = mb.alloc_try_nid(8 * K, 4 * K, lo, lo + 4 * K)
    assert got == pick(direction, lo - 8 * K, BASE)


def test_range_max_below_memory_fails(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    assert mb.alloc_try_nid(4 * K, 4 * K, 0, BASE - M) == 0


def test_range_caps(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    # range larger than memory on both sides: clipped to memory
    got = mb.alloc_try_nid(4 * K, 4 * K, BASE - G // 2, END + G)
    assert got == pick(direction, END - 4 * K, BASE)


def test_range_reserved_at_both_ends_merges(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    lo, hi = BASE + M, BASE + M + 64 * K
    mb.reserve(BASE, M)                       # up to lo
    mb.reserve(hi, SIZE - M - 64 * K)         # from hi
    assert mb.alloc_try_nid(64 * K, 4 * K, lo, hi) == lo
    assert spans(mb.reserved) == [(BASE, SIZE)]


def test_min_addr_retry_from_zero(direction):
    # memblock_alloc_internal: nothing above min_addr -> retried with min_addr 0
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.reserve(BASE + 8 * M, 8 * M)
    got = mb.alloc_try_nid(4 * K, 4 * K, BASE + 8 * M, 0)
    assert got == pick(direction, BASE + 8 * M - 4 * K, BASE)


def test_max_addr_clamped_to_current_limit(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.set_current_limit(BASE + 2 * M)
    got = mb.alloc_try_nid(4 * K, 4 * K, 0, END)
    assert got == pick(direction, BASE + 2 * M - 4 * K, BASE)
    # memblock_phys_alloc_range does not clamp an explicit end
    assert mb.phys_alloc_range(4 * K, 4 * K, 0, END) == pick(direction, END - 4 * K, BASE + 4 * K)


# --- NUMA (alloc_nid_api.c numa_*, alloc_exact_nid_api.c) -----------------------
NODE_SIZES = [4 * M, 1 * M, 2 * M, 2 * M, 1 * M, 2 * M, 2 * M, 2 * M]   # 8 nodes, 16 MiB


def numa(direction, profile="6.1", **kw):
    mb = make(direction, profile, **kw)
    base = BASE
    for nid, size in enumerate(NODE_SIZES):
        mb.add_node(base, size, nid)
        base += size
    return mb


def node_span(mb, nid):
    r = next(x for x in mb.memory if x.nid == nid)
    return r.base, r.end


def test_numa_simple(direction):
    mb = numa(direction)
    s, e = node_span(mb, 3)
    got = mb.alloc_try_nid(64 * K, SMP_CACHE_BYTES, 0, 0, 3)
    assert got == pick(direction, e - 64 * K, s)


def test_numa_small_node_falls_back_to_any_node(direction):
    mb = numa(direction)
    got = mb.alloc_try_nid(3 * M, SMP_CACHE_BYTES, 0, 0, 1)       # node 1 has 1 MiB
    # an allocation never spans two regions: only node 0 (4 MiB) can hold it
    assert got == pick(direction, BASE + M, BASE)


def test_numa_node_reserved_falls_back(direction):
    mb = numa(direction)
    s, e = node_span(mb, 4)
    mb.reserve(s, e - s)
    got = mb.alloc_try_nid(64 * K, SMP_CACHE_BYTES, 0, 0, 4)
    assert got == pick(direction, END - 64 * K, BASE)


def test_numa_part_reserved(direction):
    mb = numa(direction)
    s, e = node_span(mb, 5)
    mb.reserve(s + 512 * K, 1 * M)
    got = mb.alloc_try_nid(256 * K, SMP_CACHE_BYTES, 0, 0, 5)
    assert got == pick(direction, e - 256 * K, s)


def test_numa_range_outside_the_node_uses_another_node(direction):
    mb = numa(direction)
    s6, e6 = node_span(mb, 6)
    got = mb.alloc_try_nid(64 * K, SMP_CACHE_BYTES, s6, e6, 2)
    assert got == pick(direction, e6 - 64 * K, s6)


def test_numa_range_split_over_two_nodes(direction):
    mb = numa(direction)
    _s2, e2 = node_span(mb, 2)
    lo, hi = e2 - 256 * K, e2 + 256 * K           # half in node 2, half in node 3
    got = mb.alloc_try_nid(128 * K, SMP_CACHE_BYTES, lo, hi, 2)
    assert got == pick(direction, e2 - 128 * K, lo)


@pytest.mark.parametrize("exact", [False, True])
def test_exact_nid_has_no_node_fallback(direction, exact):
    mb = numa(direction)
    alloc = mb.alloc_exact_nid_raw if exact else (lambda *a: mb.alloc_try_nid(*a, raw=True))
    got = alloc(3 * M, SMP_CACHE_BYTES, 0, 0, 1)
    if exact:
        assert got == 0 and mb.reserved == ()
    else:
        assert got != 0


def test_exact_nid_keeps_the_min_addr_retry(direction):
    mb = numa(direction)
    s, e = node_span(mb, 0)
    got = mb.alloc_exact_nid_raw(64 * K, SMP_CACHE_BYTES, e - 32 * K, 0, 0)
    assert got == pick(direction, e - 64 * K, s)


def test_phys_alloc_try_nid_node_then_any(direction):
    mb = numa(direction)
    s, e = node_span(mb, 7)
    assert mb.phys_alloc_try_nid(64 * K, SMP_CACHE_BYTES, 7) == pick(direction, e - 64 * K, s)
    mb.reserve(s, e - s)
    got = mb.phys_alloc_try_nid(64 * K, SMP_CACHE_BYTES, 7)
    assert got == pick(direction, s - 64 * K, BASE)


# --- version switches ---------------------------------------------------------
def test_movable_node_skips_hotplug_memory(direction):
    mb = numa(direction, movable_node=True)
    s, e = node_span(mb, 7)
    mb.mark_hotplug(s, e - s)
    got = mb.alloc_try_nid(64 * K, SMP_CACHE_BYTES, 0, 0, 7)
    assert got == pick(direction, s - 64 * K, BASE)               # another node
    assert not (s <= got < e)
    # without movable_node the flag is ignored
    mb2 = numa(direction)
    mb2.mark_hotplug(s, e - s)
    assert mb2.alloc_try_nid(64 * K, SMP_CACHE_BYTES, 0, 0, 7) == pick(direction, e - 64 * K, s)


def test_7x_allocations_reserve_with_nid_and_rsrv_kern(direction):
    mb = numa(direction, profile="7.2")
    got = mb.alloc_try_nid(64 * K, SMP_CACHE_BYTES, 0, 0, 3)
    assert [r for r in mb.reserved] == [Region(got, 64 * K, 0x20, 3)]
    # node fallback: memblock_reserve_kern -> NUMA_NO_NODE
    got2 = mb.alloc_try_nid(3 * M, SMP_CACHE_BYTES, 0, 0, 1)
    assert Region(got2, 3 * M, 0x20, NUMA_NO_NODE) in mb.reserved
    # plain reservations: NUMA_NO_NODE, no flag
    mb.reserve(BASE + 4 * M, 4 * K)
    assert Region(BASE + 4 * M, 4 * K, 0, NUMA_NO_NODE) in mb.reserved


def test_6x_allocations_reserve_plainly(direction):
    mb = numa(direction, profile="6.12")
    got = mb.alloc_try_nid(64 * K, SMP_CACHE_BYTES, 0, 0, 3)
    assert mb.reserved == (Region(got, 64 * K, 0, mb.profile.memblock_reserve_nid),)


def test_pre_5_11_kernel_end_rule():
    # mainline before 5.11 (the 5.10-seed profile): bottom-up only above the
    # kernel image, else top-down
    mb = Memblock(PROFILES["5.10-seed"])
    mb.add(0x1000, 0x9e000)
    mb.add(M, 512 * M)
    mb.set_bottom_up(True)
    mb.kernel_end = 64 * M
    assert mb.phys_alloc_range(4 * K, 4 * K, 0, M) == 0x9e000       # end below _end: top-down
    assert mb.alloc(4 * K, 4 * K) == 64 * M                        # above _end, bottom-up
    # a window ending at or below _end goes top-down straight away: no warning
    assert mb.phys_alloc_range(4 * K, 4 * K, 0, 64 * M) == 64 * M - 4 * K
    assert mb.bottom_up_fallbacks == []
    # [start, end) entirely above _end: bottom-up from start, not from _end
    assert mb.phys_alloc_range(4 * K, 4 * K, 128 * M, 256 * M) == 128 * M
    # and 5.10.223 itself has no such rule
    mb = Memblock(PROFILES["5.10"])
    mb.add(0x1000, 0x9e000)
    mb.set_bottom_up(True)
    mb.kernel_end = 64 * M
    assert mb.phys_alloc_range(4 * K, 4 * K, 0, M) == 0x1000


def test_pre_5_11_rule_falls_back_top_down_and_records_the_warning():
    # nothing free above _end: WARN_ONCE("memblock: bottom-up allocation
    # failed, ...") and a top-down search over all of [start, end)
    mb = Memblock(PROFILES["5.10-seed"])
    mb.add(M, 127 * M)
    mb.set_bottom_up(True)
    mb.kernel_end = 120 * M
    mb.reserve(120 * M, 8 * M)                                     # everything above the image
    got = mb.alloc(64 * K, 4 * K)
    assert got == 120 * M - 64 * K                                 # top-down, just below _end
    # (size, start after the first-page floor, end = the current limit, found)
    assert mb.bottom_up_fallbacks == [(64 * K, 4 * K, mb.current_limit, got)]
    # a fit above _end is taken bottom-up again, below it everything is top-down
    mb.phys_free(124 * M, 4 * M)
    assert mb.alloc(64 * K, 4 * K) == 124 * M
    assert len(mb.bottom_up_fallbacks) == 1
    # top-down (after SRAT parsing) the rule does not apply
    mb.set_bottom_up(False)
    mb.reserve(124 * M, 4 * M)
    assert mb.alloc(64 * K, 4 * K) == 120 * M - 128 * K
    assert len(mb.bottom_up_fallbacks) == 1


def test_mirror_first_then_any(direction):
    mb = make(direction, mirrored_kernelcore=True)
    mb.add(BASE, SIZE)
    mb.mark_mirror(BASE + 4 * M, 4 * M)
    got = mb.alloc(64 * K, SMP_CACHE_BYTES)
    assert BASE + 4 * M <= got < BASE + 8 * M
    mb.reserve(BASE + 4 * M, 4 * M)
    got = mb.alloc(64 * K, SMP_CACHE_BYTES)                        # no mirror left: anywhere
    assert got == pick(direction, END - 64 * K, BASE)


# --- helpers (alloc_helpers_api.c) -----------------------------------------------
def test_alloc_from_min_addr(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    lo = BASE + 8 * M + 100                      # misaligned min_addr
    got = mb.alloc_from(4 * K, SMP_CACHE_BYTES, lo)
    assert got == pick(direction, END - 4 * K, (lo + 63) & ~63)


def test_alloc_from_above_memory_retries_below(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    got = mb.alloc_from(4 * K, SMP_CACHE_BYTES, END + G)
    assert got == pick(direction, END - 4 * K, BASE)


def test_alloc_low_stays_below_4g(direction):
    mb = make(direction)
    mb.add(BASE, SIZE)
    mb.add(8 * G, G)
    got = mb.alloc_low(4 * K, 4 * K)
    assert got < 4 * G
    assert got == pick(direction, END - 4 * K, BASE)


@pytest.mark.parametrize("name,out_of_range_nid_filters", [("6.1", True), ("6.12", False), ("7.2", False)])
def test_what_counts_as_a_node_per_version(direction, name, out_of_range_nid_filters):
    mb = numa(direction, profile=name)
    # MAX_NUMNODES and NUMA_NO_NODE mean "any node" everywhere
    for nid in (NUMA_NO_NODE, 1024):
        assert mb.alloc_exact_nid_raw(4 * K, 4 * K, 0, 0, nid) != 0
    # an out-of-range nid: 6.1 filters on it (and finds nothing), 6.12+'s
    # numa_valid_node() treats it as "any node"
    got = mb.alloc_exact_nid_raw(4 * K, 4 * K, 0, 0, 5000)
    assert (got == 0) is out_of_range_nid_filters


def test_allocation_fails_when_its_reservation_cannot_be_made():
    """memblock_alloc_range_nid: "if (found && !memblock_reserve(found, size))
    goto done" — with the reserved array full and no resizing allowed the
    reservation fails with -ENOMEM and so does the allocation (it used to
    return the address unreserved, and a run of memmap allocations took the
    same address half a million times: fuzz/regressions/memblock-full-array-*)."""
    from sratplan.kernel.memblock import Memblock
    from sratplan.kernel.profile import PROFILES

    for name in sorted(PROFILES):
        mb = Memblock(PROFILES[name])
        mb.add_node(1 << 30, 1 << 30, 0)
        for k in range(128):                       # INIT_MEMBLOCK_REGIONS disjoint reservations
            mb.reserve((1 << 30) + k * 2 * 4096, 4096)
        assert len(mb.reserved) == 128
        before = mb.reserved
        assert mb.alloc_try_nid(4096, 4096, 0, 0, 0) == 0
        assert mb.alloc_try_nid_repeat(1 << 19, 2 << 20, 2 << 20, 0, min_addr=16 << 20) == []
        assert mb.reserved == before
        mb.allow_resize()                          # after memblock_allow_resize() the array doubles
        assert mb.alloc_try_nid(4096, 4096, 0, 0, 0) != 0
