"""Boot memory blocks: block size, each block's node links and ``valid_zones``.

Mirrors ``arch/x86/mm/init_64.c:probe_memory_block_size``,
``drivers/base/memory.c`` (memory_dev_init, add_boot_memory_block,
memory_block_add_nid, early_node_zone_for_memory_block, valid_zones_show) and
``drivers/base/node.c`` (register_one_node / register_mem_block_under_node_early
up to 6.12; register_memory_blocks_under_nodes in 7.x), for 5.10, 6.1, 6.12
and 7.2.  5.10's valid_zones comes from ``mm/memory_hotplug.c:test_pages_in_a_zone``
over the memmap, whose hole pages ``mm/page_alloc.c:memmap_init`` gives the
zone of the next memory range.

Work is proportional to the number of memory ranges and zone boundaries: only
blocks that contain a boundary are examined one by one; the blocks between
them form uniform runs.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from ..intervals import union
from ..units import PAGE_SHIFT
from .zones import MAX_ORDER_NR_PAGES, ZONE_NAMES, ZoneLayout

SECTION_SHIFT = 27                  # SECTION_SIZE_BITS, arch/x86/include/asm/sparsemem.h
PAGES_PER_SECTION = 1 << (SECTION_SHIFT - PAGE_SHIFT)
MIN_MEMORY_BLOCK_SIZE = 1 << SECTION_SHIFT
MAX_BLOCK_SIZE = 2 << 30
MEM_SIZE_FOR_LARGE_BLOCK = 64 << 30


def probe_memory_block_size(max_pfn: int, *, hypervisor: bool, advised_max: int = 0,
                            profile=None) -> int:
    """probe_memory_block_size(): 128 MiB below 64 GiB of RAM end; else 2 GiB
    on bare metal; guests use the largest of 2G..256M dividing the end of RAM.
    7.x also honours a CXL-advised maximum (memory_block_advised_max_size)."""
    end = max_pfn << PAGE_SHIFT
    if end < MEM_SIZE_FOR_LARGE_BLOCK:
        return MIN_MEMORY_BLOCK_SIZE
    if advised_max and profile is not None and profile.block_size_advice:
        bz = max(min(advised_max, MAX_BLOCK_SIZE), MIN_MEMORY_BLOCK_SIZE)
    else:
        bz = MAX_BLOCK_SIZE
        if not hypervisor:
            return bz
    while bz > MIN_MEMORY_BLOCK_SIZE:
        if end % bz == 0:
            break
        bz >>= 1
    return bz


@dataclass(frozen=True)
class BlockRun:
    first: int
    last: int
    nodes: tuple            # node links (sorted); the block's node is the last one added
    node: int               # mem->nid (what the oracle's memory_blocks.txt shows)
    valid_zones: str        # as sysfs prints it for an online boot block
    start: int              # physical address of the first block
    end: int                # end (exclusive) of the last block

    @property
    def count(self) -> int:
        return self.last - self.first + 1


class _Mem:
    """Page-rounded memory ranges with node ids, in address order."""

    def __init__(self, regions, valid_nid):
        rr = []
        for r in regions:
            s = (r.base + 4095) >> PAGE_SHIFT
            e = (r.base + r.size) >> PAGE_SHIFT
            if s < e:
                rr.append((s, e, r.nid))
        rr.sort()
        self.ranges = rr
        self._starts = [s for s, _, _ in rr]
        # a section is present when any memblock memory touches it (memblocks_present)
        self.sections = union(
            (r.base >> SECTION_SHIFT, ((r.base + r.size - 1) >> SECTION_SHIFT) + 1)
            for r in regions if r.size > 0)
        self._sec_starts = [s for s, _ in self.sections]

    def overlapping(self, spfn: int, epfn: int):
        """The ranges meeting [spfn, epfn), in address order (memblock
        regions never overlap, so a bisect finds the first)."""
        rr = self.ranges
        i = max(bisect.bisect_right(self._starts, spfn) - 1, 0)
        out = []
        while i < len(rr) and rr[i][0] < epfn:
            if rr[i][1] > spfn:
                out.append(rr[i])
            i += 1
        return out

    def section_present(self, sec: int) -> bool:
        i = bisect.bisect_right(self._sec_starts, sec) - 1
        return i >= 0 and sec < self.sections[i][1]

    def nid_at(self, pfn: int):
        i = bisect.bisect_right(self._starts, pfn) - 1
        if i >= 0 and pfn < self.ranges[i][1]:
            return self.ranges[i][2]
        return None


def compute_blocks(*, regions, layout: ZoneLayout, block_size: int, profile,
                   online_nodes) -> list:
    """Memory blocks of boot memory as run-length encoded BlockRun objects."""
    mem = _Mem(regions, profile.valid_nid)
    bshift = block_size.bit_length() - 1
    spb = block_size >> SECTION_SHIFT                 # sections per block
    bpages = block_size >> PAGE_SHIFT
    # blocks with at least one present section
    present_blocks = union((s // spb, (e - 1) // spb + 1) for s, e in mem.sections)
    if not present_blocks:
        return []
    online = sorted(set(online_nodes))
    first_online = online[0] if online else 0

    # zone spans per node: (start, end, zone index) for populated zones
    zspans = {}
    for nid, nz in layout.nodes.items():
        lst = []
        for zi, z in enumerate(nz.zones):
            if z.spanned:
                lst.append((z.start_pfn, z.start_pfn + z.spanned, zi, z.present > 0))
        zspans[nid] = lst

    # boundary pfns: memory range edges, zone edges, node span edges
    bounds = set()
    for s, e, _ in mem.ranges:
        bounds.update((s, e))
    for lst in zspans.values():
        for s, e, _, _ in lst:
            bounds.update((s, e))
    for nz in layout.nodes.values():
        bounds.update((nz.start_pfn, nz.end_pfn))
    special = set()
    for b in bounds:
        special.add(b >> (bshift - PAGE_SHIFT))
        if b:
            special.add((b - 1) >> (bshift - PAGE_SHIFT))

    def eval_block(bid: int):
        spfn = bid * bpages
        epfn = spfn + bpages
        nodes = _block_nodes(bid, spfn, epfn, mem, layout, profile, online, first_online, spb)
        if not nodes:
            return (), None, "none"
        if profile.valid_zones_rule == "memmap":
            zname = _zone_by_memmap(spfn, epfn, mem, layout, zspans, spb)
        else:
            zname = _zone_by_mem_zone(nodes, spfn, epfn, zspans)
        return tuple(sorted(set(nodes))), nodes[-1], zname

    runs = []

    def emit(first, last, res):
        nodes, node, vz = res
        if runs and runs[-1].last == first - 1 and (runs[-1].nodes, runs[-1].node, runs[-1].valid_zones) == (nodes, node, vz):
            prev = runs[-1]
            runs[-1] = BlockRun(prev.first, last, nodes, node, vz, prev.start, (last + 1) << bshift)
        else:
            runs.append(BlockRun(first, last, nodes, node, vz, first << bshift, (last + 1) << bshift))

    specials = sorted(special)
    for (b0, b1) in present_blocks:
        cur = b0
        idx = bisect.bisect_left(specials, b0)
        while cur < b1:
            nxt_special = specials[idx] if idx < len(specials) else None
            if nxt_special is not None and nxt_special < cur:
                idx += 1
                continue
            if nxt_special == cur:
                emit(cur, cur, eval_block(cur))
                cur += 1
                idx += 1
                continue
            end = min(b1, nxt_special) if nxt_special is not None else b1
            # uniform stretch [cur, end): every block lies inside one range/zone
            emit(cur, end - 1, eval_block(cur))
            cur = end
    return [r for r in runs if r.node is not None]


def _block_nodes(bid, spfn, epfn, mem, layout, profile, online, first_online, spb):
    """Node ids linked to a block, in the order the kernel adds them."""
    nodes = []
    if profile.block_node_rule == "regions":
        # 7.x register_memory_blocks_under_nodes(): each memory region's nid
        for s, e, nid in mem.overlapping(spfn, epfn):
            if nid in online:
                nodes.append(nid)
        # a node is added once per region, but memory_block_add_nid_early()
        # only clears the zone when the nid differs from the current one
        dedup = []
        for n in nodes:
            if not dedup or dedup[-1] != n:
                dedup.append(n)
        return dedup
    # <= 6.12: register_one_node() per online node walks the blocks of its span
    # and links a block if any pfn of a present section has that node
    # (early_pfn_to_nid() answers first_online_node for holes)
    for nid in online:
        nz = layout.nodes.get(nid)
        if nz is None:
            continue
        nspan_end = nz.start_pfn + sum(z.spanned for z in nz.zones)
        if nz.start_pfn >= nspan_end:
            continue
        if not (nz.start_pfn < epfn and nspan_end > spfn):
            continue
        linked = False
        for sec in range(spfn // PAGES_PER_SECTION, epfn // PAGES_PER_SECTION):
            if not mem.section_present(sec):
                continue
            s0, e0 = sec * PAGES_PER_SECTION, (sec + 1) * PAGES_PER_SECTION
            covered = 0
            for s, e, rnid in mem.overlapping(s0, e0):
                a, b = max(s, s0), min(e, e0)
                if a < b:
                    covered += b - a
                    if rnid == nid:
                        linked = True
                        break
            if linked:
                break
            if nid == first_online and covered < e0 - s0:
                linked = True
                break
        if linked:
            nodes.append(nid)
    return nodes


def _zone_by_mem_zone(nodes, spfn, epfn, zspans):
    """6.1+: mem->zone from early_node_zone_for_memory_block() of the first node;
    a second, different node makes it NULL ("none")."""
    first = nodes[0]
    if any(n != first for n in nodes[1:]):
        return "none"
    match = None
    for s, e, zi, populated in zspans.get(first, ()):
        if not populated:
            continue
        if spfn < e and epfn > s:
            if match is not None:
                return "none"
            match = zi
    return ZONE_NAMES[match] if match is not None else "none"


def _zone_by_memmap(spfn, epfn, mem, layout, zspans, spb):
    """5.10: test_pages_in_a_zone() over chunk starts of present sections."""
    def zone_of(pfn):
        nid = mem.nid_at(pfn)
        if nid is None:
            # memmap_init(): a hole gets the zone of the next memory range
            nxt = next(((s, e, n) for s, e, n in mem.ranges if s > pfn), None)
            if nxt is None:
                last = mem.ranges[-1]
                nid = last[2]
                pfn_for = last[1] - 1
            else:
                nid = nxt[2]
                pfn_for = nxt[0]
        else:
            pfn_for = pfn
        for s, e, zi, populated in zspans.get(nid, ()):
            if populated and s <= pfn_for < e:
                return (nid, zi)
        return (nid, None)

    cur = None
    for sec in range(spfn // PAGES_PER_SECTION, epfn // PAGES_PER_SECTION):
        if not mem.section_present(sec):
            continue
        for pfn in range(sec * PAGES_PER_SECTION, (sec + 1) * PAGES_PER_SECTION, MAX_ORDER_NR_PAGES):
            z = zone_of(pfn)
            if cur is not None:
                s_e = [(s, e) for s, e, zi, _ in zspans.get(cur[0], ()) if zi == cur[1]]
                if not s_e or not (s_e[0][0] <= pfn < s_e[0][1]):
                    return "none"
                if z != cur:
                    return "none"
            cur = z
    if cur is None or cur[1] is None:
        return "none"
    return ZONE_NAMES[cur[1]]
