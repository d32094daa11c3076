"""BootTrace -> Plan: the boot layout as the user sees it.

A projection of the simulated boot (:class:`sratplan.kernel.boot.BootTrace`),
per node: the PXMs, SRAT ranges, memory ranges ("Early memory node ranges"),
hotplug state (and which reservations cleared it), NODE_DATA, the
ZONE_MOVABLE start and the five zones with start_pfn/spanned/present/managed;
and the boot memory blocks as runs with their valid_zones and whether each
could be offlined.  No kernel rule lives here; findings, the verdict and the
advice are :mod:`sratplan.advise`'s.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .kernel.boot import BootTrace
from .kernel.zones import ZONE_NAMES
from .units import PAGE_SIZE

SCHEMA = "sratplan.plan/1"
# most fundamental first: the reason a node can never be hotpluggable on this machine
LABEL_ORDER = ("kernel_image", "low_1m", "initrd", "acpi_tables", "efi", "setup_data", "page_tables",
               "soft_reserved", "other")


@dataclass(frozen=True)
class ZonePlan:
    zone: str
    start_pfn: int | None
    spanned: int
    present: int
    managed: int


@dataclass(frozen=True)
class NodePlan:
    node: int
    pxms: tuple
    online: bool
    cpus: int
    srat_ranges: tuple            # ((start, end_inclusive, hotplug), ...)
    memory_ranges: tuple          # ((start, end_inclusive), ...)
    hotplug_in_srat: bool         # some SRAT hotplug range of the node covers RAM
    hotplug: bool                 # MEMBLOCK_HOTPLUG survives numa_clear_kernel_node_hotplug
    hotplug_cleared_by: tuple
    node_data: tuple | None       # (start, end_inclusive)
    node_data_on: int | None
    movable_start_pfn: int | None
    zones: tuple

    @property
    def present_bytes(self) -> int:
        return sum(z.present for z in self.zones) * PAGE_SIZE

    @property
    def movable_present_bytes(self) -> int:
        return self.zones[3].present * PAGE_SIZE

    @property
    def kernel_present_bytes(self) -> int:
        return sum(z.present for z in self.zones[:3]) * PAGE_SIZE

    def hotplug_ram(self) -> list[tuple[int, int, int, int]]:
        """Boot RAM inside the node's SRAT Hot Pluggable ranges:
        ``(range start, range end, ram start, ram end)``, ends exclusive."""
        out = []
        for s, e_incl, hp in self.srat_ranges:
            if not hp:
                continue
            for ms, me_incl in self.memory_ranges:
                a, b = max(s, ms), min(e_incl, me_incl) + 1
                if a < b:
                    out.append((s, e_incl + 1, a, b))
        return out

    @property
    def hotplug_ram_bytes(self) -> int:
        """Boot RAM of the node inside its SRAT Hot Pluggable ranges."""
        return sum(b - a for _s, _e, a, b in self.hotplug_ram())


@dataclass(frozen=True)
class Plan:
    kernel: str
    machine: object
    trace: BootTrace
    numa_source: str
    numa_reason: str | None
    nodes: tuple
    block_size: int
    blocks: tuple                 # kernel.memory_hotplug.OfflineRun
    zone_ranges: dict
    movable_zone: str
    max_pfn: int
    assumptions: tuple = ()

    def node(self, nid: int) -> NodePlan | None:
        for n in self.nodes:
            if n.node == nid:
                return n
        return None


def project(machine, trace: BootTrace) -> Plan:
    """The Plan of a simulated boot."""
    p = machine.profile
    early, layout = trace.early, trace.layout
    numa = early.numa
    mb = early.memblock
    srat = numa.srat
    nodes = []
    # memory that no node took (nid MAX_NUMNODES / NUMA_NO_NODE) is not a node
    all_nodes = sorted(n for n in set(numa.possible) | set(layout.nodes) | set(trace.cpu_nodes) if p.valid_nid(n))
    hp_before = set(numa.hotplug_before_clear)
    cpus_per_node = Counter(trace.cpu_nodes)
    mem_by_nid: dict = {}
    for r in mb.memory:
        mem_by_nid.setdefault(r.nid, []).append(r)
    srat_by_nid: dict = {}
    for m in (srat.mems if srat and numa.mode == "srat" else ()):
        srat_by_nid.setdefault(m.node, []).append(m)
    for nid in all_nodes:
        pxms = tuple(sorted(px for px, n in (numa.pxm.pxm_to_node.items() if numa.pxm else ()) if n == nid)) \
            if numa.mode == "srat" else ()
        sr = tuple((m.start, m.end - 1, m.hotplug) for m in srat_by_nid.get(nid, ()))
        own = mem_by_nid.get(nid, ())
        memr = tuple((r.base, r.base + r.size - 1) for r in own)
        hot = any(r.flags & p.flag_hotplug for r in own)
        cleared = ()
        if nid in hp_before and not hot:
            labs = numa.cleared_by.get(nid) or ["other"]
            cleared = tuple(sorted(labs, key=lambda x: LABEL_ORDER.index(x) if x in LABEL_ORDER else 99))
        nd = numa.node_data.get(nid)
        nd_t = (nd.start, nd.end - 1) if nd else None
        nd_on = nd.on_node if nd else None
        if nd is None and nid in trace.late.late_node_data:
            a, b = trace.late.late_node_data[nid]
            nd_t = (a, b - 1)
        nz = layout.nodes.get(nid)
        zones = []
        for zi, zn in enumerate(ZONE_NAMES):
            if nz is None:
                zones.append(ZonePlan(zn, None, 0, 0, 0))
                continue
            z = nz.zones[zi]
            zones.append(ZonePlan(zn, z.start_pfn, z.spanned, z.present,
                                  trace.managed.get(nid, {}).get(zn, 0) if z.present else 0))
        nodes.append(NodePlan(
            node=nid, pxms=pxms, online=nid in layout.nodes, cpus=cpus_per_node[nid],
            srat_ranges=sr, memory_ranges=memr, hotplug_in_srat=nid in hp_before, hotplug=hot,
            hotplug_cleared_by=cleared, node_data=nd_t, node_data_on=nd_on,
            movable_start_pfn=layout.zone_movable_pfn.get(nid), zones=tuple(zones)))
    zr = {}
    for i in (0, 1, 2, 4):
        r = layout.zone_range(i)
        zr[ZONE_NAMES[i]] = (r[0] << 12, (r[1] << 12) - 1) if r else None
    return Plan(kernel=p.name, machine=machine, trace=trace, numa_source=numa.mode,
                numa_reason=numa.reason if numa.mode == "dummy" else None, nodes=tuple(nodes),
                block_size=trace.block_size, blocks=trace.blocks, zone_ranges=zr,
                movable_zone=ZONE_NAMES[layout.movable_zone], max_pfn=early.max_pfn,
                assumptions=tuple(machine.assumptions))
