"""Region-array behaviour of the memblock engine.

Same behaviours as the kernel's own user-space suite
(tools/testing/memblock/tests/basic_api.c: add, reserve, remove, free,
bottom-up switch, trim_memory, set_node), written for sratplan's API.
"""

import pytest

from sratplan.kernel.memblock import (
    MEMBLOCK_HOTPLUG,
    MEMBLOCK_MIRROR,
    MEMBLOCK_NOMAP,
    PHYS_ADDR_MAX,
    Memblock,
    Region,
)
from sratplan.kernel.profile import MAX_NUMNODES_DEBIAN, PROFILES

NONE = MAX_NUMNODES_DEBIAN
G = 1 << 30
M = 1 << 20
K = 1 << 10


@pytest.fixture(params=sorted(PROFILES))
def mb(request):
    return Memblock(PROFILES[request.param])


def spans(regions):
    return [(r.base, r.size) for r in regions]


# --- initial state ----------------------------------------------------------
def test_initial_state(mb):
    assert mb.memory == () and mb.reserved == ()
    assert mb.memory_size() == 0 and mb.reserved_size() == 0
    assert mb.bottom_up is False
    assert mb.current_limit == PHYS_ADDR_MAX


# --- add ----------------------------------------------------------------------
def test_add_simple(mb):
    mb.add(G, 256 * M)
    assert mb.memory == (Region(G, 256 * M, 0, NONE),)
    assert mb.memory_size() == 256 * M


def test_add_node_keeps_nid_and_flags(mb):
    mb.add_node(G, 256 * M, 1, MEMBLOCK_HOTPLUG)
    assert mb.memory == (Region(G, 256 * M, MEMBLOCK_HOTPLUG, 1),)


def test_add_disjoint_kept_sorted(mb):
    mb.add(2 * G, 16 * M)
    mb.add(G, 16 * M)
    assert spans(mb.memory) == [(G, 16 * M), (2 * G, 16 * M)]
    assert mb.memory_size() == 32 * M


@pytest.mark.parametrize("base,size", [(G - 8 * M, 16 * M), (G + 8 * M, 16 * M)])
def test_add_overlap_merges(mb, base, size):
    mb.add(G, 16 * M)
    mb.add(base, size)
    lo, hi = min(G, base), max(G + 16 * M, base + size)
    assert spans(mb.memory) == [(lo, hi - lo)]
    assert mb.memory_size() == hi - lo


def test_add_within_and_twice_change_nothing(mb):
    mb.add(G, 16 * M)
    mb.add(G + M, M)
    mb.add(G, 16 * M)
    assert spans(mb.memory) == [(G, 16 * M)]
    assert mb.memory_size() == 16 * M


def test_add_between_fills_gap_and_merges(mb):
    mb.add(G, 16 * M)
    mb.add(G + 32 * M, 16 * M)
    mb.add(G + 8 * M, 32 * M)
    assert spans(mb.memory) == [(G, 48 * M)]


def test_add_near_max_is_capped(mb):
    base = PHYS_ADDR_MAX - 4 * K + 1
    mb.add(base, 64 * K)
    assert spans(mb.memory) == [(base, PHYS_ADDR_MAX - base)]


def test_add_keeps_existing_attributes(mb):
    # memblock_add_range only inserts the uncovered parts: the existing region
    # keeps its nid; the new pieces get the new nid and do not merge with it.
    mb.add_node(G + 4 * M, 4 * M, 3)
    mb.add(G, 16 * M)
    assert mb.memory == (Region(G, 4 * M, 0, NONE), Region(G + 4 * M, 4 * M, 0, 3),
                         Region(G + 8 * M, 8 * M, 0, NONE))


def test_add_many_beyond_initial_array_without_resize_is_refused(mb):
    # the static arrays hold 128 entries; before memblock_allow_resize()
    # memblock_double_array() fails and the add is dropped (-ENOMEM)
    for i in range(130):
        mb.add(G + 2 * i * M, M)
    assert len(mb.memory) == 128


def test_add_many_with_resize_doubles_and_reserves_the_new_array(mb):
    mb.add(4 * G, 4 * G)               # room for the new array
    mb.allow_resize()
    mb.trace = []
    for i in range(130):
        mb.add(G + 2 * i * M, M)
    assert len(mb.memory) == 131
    doubled = [t for t in mb.trace if t[0] == "doubled"]
    assert doubled and doubled[0][1] == "memory" and doubled[0][2] == 256
    # the array (256 * 24 bytes, page aligned) is reserved, top-down at the top of RAM
    assert mb.reserved == (Region(8 * G - 8 * K, 8 * K, 0, mb.profile.memblock_reserve_nid),)


# --- reserve ----------------------------------------------------------------
def test_reserve_simple_and_merge(mb):
    mb.reserve(G, 4 * K)
    mb.reserve(G + 4 * K, 4 * K)
    mb.reserve(G + 64 * K, 4 * K)
    assert spans(mb.reserved) == [(G, 8 * K), (G + 64 * K, 4 * K)]
    assert mb.reserved_size() == 12 * K


def test_reserve_overlap_and_within(mb):
    mb.reserve(G, 16 * K)
    mb.reserve(G + 8 * K, 16 * K)
    mb.reserve(G + 4 * K, 4 * K)
    assert spans(mb.reserved) == [(G, 24 * K)]
    assert mb.reserved_size() == 24 * K


def test_reserve_different_nid_or_flags_do_not_merge(mb):
    mb.reserve(G, 4 * K, nid=0)
    mb.reserve(G + 4 * K, 4 * K, nid=-1)
    mb.reserve(G + 8 * K, 4 * K, nid=-1, flags=0x20)
    assert len(mb.reserved) == 3


def test_reserve_all_locations(mb):
    # reserve every other page, then the holes: ends as one region
    for i in range(0, 64, 2):
        mb.reserve(G + i * 4 * K, 4 * K)
    assert len(mb.reserved) == 32
    for i in range(1, 64, 2):
        mb.reserve(G + i * 4 * K, 4 * K)
    assert spans(mb.reserved) == [(G, 256 * K)]


# --- remove / free -----------------------------------------------------------
def test_remove_simple_absent_and_only(mb):
    mb.add(G, 16 * M)
    mb.add(2 * G, 16 * M)
    mb.remove(3 * G, M)                     # absent: nothing happens
    assert len(mb.memory) == 2
    mb.remove(2 * G, 16 * M)
    assert spans(mb.memory) == [(G, 16 * M)]
    mb.remove(G, 16 * M)
    assert mb.memory == () and mb.memory_size() == 0


def test_remove_overlaps(mb):
    mb.add(G, 16 * M)
    mb.remove(G - 4 * M, 8 * M)             # overlaps the bottom
    assert spans(mb.memory) == [(G + 4 * M, 12 * M)]
    mb.remove(G + 12 * M, 8 * M)            # overlaps the top
    assert spans(mb.memory) == [(G + 4 * M, 8 * M)]
    mb.remove(G + 6 * M, 2 * M)             # within: splits
    assert spans(mb.memory) == [(G + 4 * M, 2 * M), (G + 8 * M, 4 * M)]
    assert mb.memory_size() == 6 * M


def test_remove_overlapping_two_regions(mb):
    mb.add(G, 16 * M)
    mb.add(G + 32 * M, 16 * M)
    mb.remove(G + 8 * M, 32 * M)
    assert spans(mb.memory) == [(G, 8 * M), (G + 40 * M, 8 * M)]


def test_remove_near_max(mb):
    base = PHYS_ADDR_MAX - 64 * K + 1
    mb.add(base, 64 * K - 1)
    mb.remove(base + 32 * K, 64 * K)
    assert spans(mb.memory) == [(base, 32 * K)]


def test_phys_free_works_on_reserved(mb):
    mb.reserve(G, 64 * K)
    mb.phys_free(G + 16 * K, 16 * K)
    assert spans(mb.reserved) == [(G, 16 * K), (G + 32 * K, 32 * K)]
    mb.phys_free(G, 64 * K)
    assert mb.reserved == () and mb.reserved_size() == 0


# --- flags, nodes, trim --------------------------------------------------------
def test_set_bottom_up(mb):
    mb.set_bottom_up(True)
    assert mb.bottom_up
    mb.set_bottom_up(False)
    assert not mb.bottom_up


def test_mark_and_clear_hotplug_split_and_remerge(mb):
    mb.add(G, 16 * M)
    mb.mark_hotplug(G + 4 * M, 4 * M)
    assert mb.memory == (Region(G, 4 * M, 0, NONE), Region(G + 4 * M, 4 * M, MEMBLOCK_HOTPLUG, NONE),
                         Region(G + 8 * M, 8 * M, 0, NONE))
    mb.clear_hotplug(0, PHYS_ADDR_MAX)
    assert spans(mb.memory) == [(G, 16 * M)]
    assert mb.memory_size() == 16 * M


def test_mark_hotplug_beyond_memory_is_a_no_op(mb):
    mb.add(G, 16 * M)
    mb.mark_hotplug(4 * G, G)
    assert mb.memory == (Region(G, 16 * M, 0, NONE),)


def test_mark_nomap(mb):
    mb.add(G, 16 * M)
    mb.mark_nomap(G, 4 * M)
    assert mb.memory[0].flags == MEMBLOCK_NOMAP


def test_mark_mirror_needs_kernelcore_mirror_from_6_1():
    mb = Memblock(PROFILES["6.1"])
    mb.add(G, 16 * M)
    mb.mark_mirror(G, 4 * M)
    assert not mb.has_mirror and mb.memory[0].flags == 0
    mb = Memblock(PROFILES["6.1"], mirrored_kernelcore=True)
    mb.add(G, 16 * M)
    mb.mark_mirror(G, 4 * M)
    assert mb.has_mirror and mb.memory[0].flags == MEMBLOCK_MIRROR
    mb = Memblock(PROFILES["5.10"])       # 5.10.223 marks unconditionally
    mb.add(G, 16 * M)
    mb.mark_mirror(G, 4 * M)
    assert mb.has_mirror


def test_set_node_splits_and_merges(mb):
    mb.add(G, 16 * M)
    mb.add(G + 16 * M, 16 * M)           # adjacent: one region
    assert len(mb.memory) == 1
    mb.set_node(G, 8 * M, 0)
    mb.set_node(G + 8 * M, 24 * M, 1)
    assert mb.memory == (Region(G, 8 * M, 0, 0), Region(G + 8 * M, 24 * M, 0, 1))
    mb.set_node(0, PHYS_ADDR_MAX, 1)
    assert mb.memory == (Region(G, 32 * M, 0, 1),)


def test_set_node_on_reserved(mb):
    mb.reserve(G, 16 * M)
    mb.set_node(G + 8 * M, G, 2, which="reserved")
    assert mb.reserved == (Region(G, 8 * M, 0, mb.profile.memblock_reserve_nid), Region(G + 8 * M, 8 * M, 0, 2))


def test_trim_memory(mb):
    mb.add(G + 100, 16 * M)                 # unaligned base
    mb.add(2 * G, 16 * M - 100)             # unaligned end
    mb.add(3 * G + 10, 100)                 # vanishes
    mb.add(4 * G, 16 * M)                   # aligned
    before = mb.memory_size()
    mb.trim_memory(4 * K)
    assert spans(mb.memory) == [(G + 4 * K, 16 * M - 4 * K), (2 * G, 16 * M - 4 * K), (4 * G, 16 * M)]
    # the kernel updates total_size only for removed regions
    assert mb.memory_size() == before - 100


def test_memblock_sizes_and_dram_bounds(mb):
    mb.add(G, 16 * M)
    mb.add(4 * G, G)
    assert mb.start_of_dram() == G and mb.end_of_dram() == 5 * G


# --- dump -------------------------------------------------------------------
def test_dump_format_matches_kernel_printk():
    mb = Memblock(PROFILES["6.1"])
    mb.add(0x1000, 0x9e000)
    mb.reserve(0, 0x10000)
    mb.set_node(0, 1 << 32, 0, which="reserved")
    assert mb.dump() == [
        "MEMBLOCK configuration:",
        " memory size = 0x000000000009e000 reserved size = 0x0000000000010000",
        " memory.cnt  = 0x1",
        " memory[0x0]\t[0x0000000000001000-0x000000000009efff], 0x000000000009e000 bytes flags: 0x0",
        " reserved.cnt  = 0x1",
        " reserved[0x0]\t[0x0000000000000000-0x000000000000ffff], 0x0000000000010000 bytes on node 0 flags: 0x0",
    ]


@pytest.mark.parametrize("name,lines", [
    ("6.1", [" reserved.cnt  = 0x1",
             " reserved[0x0]\t[0x0000000000000000-0xffffffffffffffff], 0x0000000000000000 bytes flags: 0x0"]),
    ("7.2", [" reserved.cnt  = 0x0"]),
])
def test_dump_of_an_empty_array_per_version(name, lines):
    mb = Memblock(PROFILES[name])
    mb.add(G, M)
    assert mb.dump()[-len(lines):] == lines


def test_dump_node_printing_per_version():
    # up to 6.1 "on node" is printed unless nid == MAX_NUMNODES (so -1 shows);
    # from 6.12 only numa_valid_node() nids are printed
    for name, shown in (("6.1", True), ("7.2", False)):
        mb = Memblock(PROFILES[name])
        mb.reserve(G, M, nid=-1)
        assert ("on node -1" in mb.dump()[-1]) is shown


def test_overlaps_region(mb):
    mb.add(G, 16 * M)
    mb.reserve(G + M, M)
    assert mb.overlaps_region("memory", G - M, M + 1)
    assert not mb.overlaps_region("memory", G - M, M)             # touching is not overlapping
    assert mb.overlaps_region("memory", G + 15 * M, 4 * G)
    assert not mb.overlaps_region("memory", G + 16 * M, M)
    assert mb.is_reserved(G, M + 1) and not mb.is_reserved(G, M)
    assert not mb.overlaps_region("memory", G, 0)
