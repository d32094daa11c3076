"""Zone layout at boot: zone ranges, ZONE_MOVABLE placement, spanned/present.

Mirrors ``arch/x86/mm/init.c:zone_sizes_init`` and the zone set-up of
``mm/page_alloc.c`` (5.10, 6.1) / ``mm/mm_init.c`` (6.12, 7.2):
free_area_init, find_usable_zone_for_movable, early_calculate_totalpages,
find_zone_movable_pfns_for_nodes, adjust_zone_range_for_zone_movable,
zone_spanned_pages_in_node, zone_absent_pages_in_node and
calculate_node_totalpages.  Results are what /proc/zoneinfo prints as
``start_pfn``, ``spanned`` and ``present``.

Kernel differences (from the profile): under movable_node 6.1 starts ZONE_MOVABLE
at PFN_DOWN(region base) and 6.12+ at PFN_UP; kernelcore=mirror on a machine
without mirrored memory carves ZONE_MOVABLE up to 6.1 and is ignored from 6.6.
Everything works on pfn ranges, never page by page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..units import PAGE_SHIFT

MAX_DMA_PFN = (16 << 20) >> PAGE_SHIFT          # arch/x86/include/asm/dma.h
MAX_DMA32_PFN = (4 << 30) >> PAGE_SHIFT
MAX_ORDER_NR_PAGES = 1024                         # 4 MiB: ZONE_MOVABLE start alignment

ZONE_NAMES = ("DMA", "DMA32", "Normal", "Movable", "Device")
ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE, ZONE_DEVICE = range(5)


@dataclass(frozen=True)
class Zone:
    name: str
    start_pfn: int | None      # None when spanned == 0 (zoneinfo omits the line)
    spanned: int
    present: int
    end_pfn: int | None = None

    def to_json(self) -> dict:
        return {"zone": self.name, "start_pfn": self.start_pfn, "spanned": self.spanned,
                "present": self.present}


@dataclass(frozen=True)
class NodeZones:
    nid: int
    start_pfn: int
    end_pfn: int
    zones: tuple          # five Zone objects in ZONE_NAMES order
    movable_start_pfn: int | None

    def zone(self, name: str) -> Zone:
        return self.zones[ZONE_NAMES.index(name)]

    @property
    def present(self) -> int:
        return sum(z.present for z in self.zones)


@dataclass
class ZoneLayout:
    arch_low: list            # arch_zone_lowest_possible_pfn per zone
    arch_high: list
    movable_zone: int
    zone_movable_pfn: dict    # nid -> pfn (only non-zero)
    nodes: dict = field(default_factory=dict)   # nid -> NodeZones
    totalpages: int = 0
    log: list = field(default_factory=list)
    kernelcore_ignored: str | None = None

    def zone_range(self, idx: int):
        lo, hi = self.arch_low[idx], self.arch_high[idx]
        return None if lo == hi else (lo, hi)


def node_pfn_ranges(regions, nid):
    """for_each_mem_pfn_range(nid): page-rounded memory ranges of one node."""
    out = []
    for r in regions:
        if r.nid != nid:
            continue
        s = (r.base + 4095) >> PAGE_SHIFT
        e = (r.base + r.size) >> PAGE_SHIFT
        if s < e:
            out.append((s, e))
    return out


def _present_in(ranges, s, e) -> int:
    n = 0
    for rs, re_ in ranges:
        a, b = max(rs, s), min(re_, e)
        if a < b:
            n += b - a
    return n


def compute_zones(*, regions, max_pfn: int, online_nodes, profile, movable_node: bool,
                  kernelcore=None, movablecore=None, kernelcore_mirror: bool = False,
                  has_mirror: bool = False, hotplug_flag: int = 0x1, mirror_flag: int = 0x2,
                  memoryless_online=()) -> ZoneLayout:
    """Zone layout of every online node.

    ``regions``: memblock.memory regions (base, size, nid, flags) at
    free_area_init() time.  ``kernelcore`` / ``movablecore``: ("pages", n) or
    ("percent", n) or None (cmdline_parse_kernelcore/movablecore results).
    ``memoryless_online``: nodes onlined later without memory (CPU or GI nodes);
    they appear with five empty zones.
    """
    max_low_pfn = max_pfn
    max_zone_pfn = [min(MAX_DMA_PFN, max_low_pfn), min(MAX_DMA32_PFN, max_low_pfn), max_low_pfn, 0, 0]
    regions = [r for r in regions]
    # free_area_init(): zone boundaries start at the first memory pfn
    first = min((r.base for r in regions), default=0) >> PAGE_SHIFT
    low = [0] * 5
    high = [0] * 5
    start = first
    for z in range(5):
        if z == ZONE_MOVABLE:
            continue
        end = max(max_zone_pfn[z], start)
        low[z], high[z] = start, end
        start = end
    # find_usable_zone_for_movable(): highest populated kernel zone
    movable_zone = ZONE_DMA
    for z in (ZONE_NORMAL, ZONE_DMA32, ZONE_DMA):
        if high[z] > low[z]:
            movable_zone = z
            break
    # In the kernel the loop skips ZONE_MOVABLE and walks down from
    # MAX_NR_ZONES-1 checking arch_zone_highest_possible_pfn > lowest;
    # ZONE_DEVICE is always empty at boot, so the result is as above.

    layout = ZoneLayout(arch_low=low, arch_high=high, movable_zone=movable_zone, zone_movable_pfn={})
    nids = sorted({r.nid for r in regions if profile.valid_nid(r.nid)})
    ranges = {nid: node_pfn_ranges(regions, nid) for nid in nids}
    zmp = {nid: 0 for nid in nids}

    # early_calculate_totalpages()
    totalpages = 0
    n_memory = []
    for nid in nids:
        pages = sum(e - s for s, e in ranges[nid])
        totalpages += pages
        if pages:
            n_memory.append(nid)
    layout.totalpages = totalpages
    usable_nodes = len(n_memory)

    def node_end(nid):
        return max((e for _, e in ranges.get(nid, ())), default=0)

    def align_out2(nodes_iter):
        for nid in nodes_iter:
            v = zmp.get(nid, 0)
            v = -(-v // MAX_ORDER_NR_PAGES) * MAX_ORDER_NR_PAGES
            if v >= node_end(nid):
                v = 0
            zmp[nid] = v

    out2 = False
    if movable_node:
        for r in regions:
            if not r.flags & hotplug_flag or not profile.valid_nid(r.nid):
                continue
            pfn = ((r.base + 4095) >> PAGE_SHIFT) if profile.movable_node_pfn_up else (r.base >> PAGE_SHIFT)
            zmp[r.nid] = min(pfn, zmp[r.nid]) if zmp.get(r.nid) else pfn
        if kernelcore or movablecore or kernelcore_mirror:
            layout.kernelcore_ignored = "movable_node"
        out2 = True
    elif kernelcore_mirror and not (profile.mirror_ignored_without_mirror and not has_mirror):
        below4g = False
        for r in regions:
            if r.flags & mirror_flag or not profile.valid_nid(r.nid):
                continue
            pfn = (r.base + 4095) >> PAGE_SHIFT
            if pfn < MAX_DMA32_PFN:
                below4g = True
                continue
            zmp[r.nid] = min(pfn, zmp[r.nid]) if zmp.get(r.nid) else pfn
        if below4g:
            layout.log.append("This configuration results in unmirrored kernel memory.")
        out2 = True
    elif kernelcore_mirror:
        layout.log.append("The system has no mirror memory, ignore kernelcore=mirror.")
        layout.kernelcore_ignored = "no mirrored memory"
    else:
        required_kc = 0
        required_mc = 0
        if kernelcore:
            required_kc = (totalpages * 100 * kernelcore[1]) // 10000 if kernelcore[0] == "percent" else kernelcore[1]
        if movablecore:
            required_mc = (totalpages * 100 * movablecore[1]) // 10000 if movablecore[0] == "percent" else movablecore[1]
        if required_mc:
            required_mc = -(-required_mc // MAX_ORDER_NR_PAGES) * MAX_ORDER_NR_PAGES
            required_mc = min(totalpages, required_mc)
            corepages = totalpages - required_mc
            required_kc = max(required_kc, corepages)
        if required_kc and required_kc < totalpages and usable_nodes:
            usable_startpfn = low[movable_zone]
            while True:
                kc_node = required_kc // usable_nodes
                for nid in n_memory:
                    if required_kc < kc_node:
                        kc_node = required_kc // usable_nodes
                    remaining = kc_node
                    for (s, e) in ranges[nid]:
                        s = max(s, zmp[nid])
                        if s >= e:
                            continue
                        if s < usable_startpfn:
                            kernel_pages = min(e, usable_startpfn) - s
                            remaining -= min(kernel_pages, remaining)
                            required_kc -= min(kernel_pages, required_kc)
                            if e <= usable_startpfn:
                                zmp[nid] = e
                                continue
                            s = usable_startpfn
                        size = min(e - s, remaining)
                        zmp[nid] = s + size
                        required_kc -= min(required_kc, size)
                        remaining -= size
                        if not remaining:
                            break
                usable_nodes -= 1
                if usable_nodes and required_kc > usable_nodes:
                    continue
                break
            out2 = True
    if out2:
        # 6.1 walks every node id here, 6.12+ only N_MEMORY nodes: same result
        align_out2(list(zmp))
    layout.zone_movable_pfn = {nid: v for nid, v in zmp.items() if v}

    mirror_mode = kernelcore_mirror and layout.kernelcore_ignored is None and not movable_node
    for nid in sorted(set(online_nodes) | set(memoryless_online)):
        rng = ranges.get(nid, [])
        if rng:
            nstart = min(s for s, _ in rng)
            nend = max(e for _, e in rng)
        else:
            nstart = nend = 0
        zones = []
        zm = layout.zone_movable_pfn.get(nid, 0)
        for z in range(5):
            if not rng:
                zones.append(Zone(ZONE_NAMES[z], None, 0, 0))
                continue
            zlo, zhi = low[z], high[z]
            zs = min(max(nstart, zlo), zhi)
            ze = min(max(nend, zlo), zhi)
            if zm:
                if z == ZONE_MOVABLE:
                    zs = zm
                    ze = min(nend, high[movable_zone])
                elif not mirror_mode and zs < zm < ze:
                    ze = zm
                elif zs >= zm:
                    zs = ze
            if ze < nstart or zs > nend:
                spanned = 0
                a_s, a_e = zs, ze
            else:
                ze2 = min(ze, nend)
                zs2 = max(zs, nstart)
                spanned = ze2 - zs2
                a_s, a_e = zs2, ze2
            # the kernel computes absent pages over the same clamped,
            # Movable-adjusted range (6.1 recomputes it; 6.12+ passes it)
            abs_s, abs_e = (a_s, a_e) if spanned else (0, 0)
            absent = 0
            if abs_e > abs_s:
                absent = (abs_e - abs_s) - _present_in(rng, abs_s, abs_e)
                if mirror_mode and zm:
                    for r in regions:
                        rs = min(max((r.base + 4095) >> PAGE_SHIFT, abs_s), abs_e)
                        re_ = min(max((r.base + r.size) >> PAGE_SHIFT, abs_s), abs_e)
                        if z == ZONE_MOVABLE and r.flags & mirror_flag:
                            absent += re_ - rs
                        if z == ZONE_NORMAL and not r.flags & mirror_flag:
                            absent += re_ - rs
            present = spanned - absent
            if spanned:
                zones.append(Zone(ZONE_NAMES[z], a_s, spanned, present, a_s + spanned))
            else:
                zones.append(Zone(ZONE_NAMES[z], None, 0, present))
        layout.nodes[nid] = NodeZones(nid, nstart, nend, tuple(zones), zm or None)
    return layout

