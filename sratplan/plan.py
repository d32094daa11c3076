"""Machine -> Plan: run the simulated boot and collect what Linux will do.

The plan holds, per node, the PXMs, SRAT ranges, memory ranges, hotplug state
(and which reservations cleared it), NODE_DATA, the ZONE_MOVABLE start and the
five zones with start_pfn/spanned/present/managed; the boot memory blocks as
runs with their valid_zones and whether they could be offlined; and, from
advise.py, the verdict, findings and recommended command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .findings import Finding, Severity
from .kernel import memory_blocks as mblocks
from .kernel.e820 import kernel_e820
from .kernel.mm_init import late_boot, managed_pages
from .kernel.setup import LoaderFacts, early_boot
from .kernel.zones import ZONE_NAMES, compute_zones
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

    def to_json(self):
        return {"zone": self.zone, "start_pfn": self.start_pfn, "spanned": self.spanned,
                "present": self.present, "managed": self.managed}


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


@dataclass(frozen=True)
class BlockRun:
    first: int
    last: int
    nodes: tuple
    node: int
    valid_zones: str
    offlinable: bool
    why: str | None
    start: int
    end: int

    def to_json(self):
        d = {"first": self.first, "last": self.last, "nodes": list(self.nodes),
             "valid_zones": self.valid_zones, "offlinable": self.offlinable}
        if self.why:
            d["why_not"] = self.why
        return d


@dataclass(frozen=True)
class Plan:
    kernel: str
    machine: object
    numa_source: str
    numa_reason: str | None
    nodes: tuple
    block_size: int
    blocks: tuple
    zone_ranges: dict
    movable_zone: str
    max_pfn: int
    findings: tuple = ()
    verdict: dict = field(default_factory=dict)
    recommendation: dict = field(default_factory=dict)
    assumptions: tuple = ()
    sim: object = None            # the simulation objects (for pictures and tests)

    def node(self, nid: int) -> NodePlan | None:
        for n in self.nodes:
            if n.node == nid:
                return n
        return None

    @property
    def worst(self):
        from .findings import worst

        return worst(self.findings)

    def to_json(self) -> dict:
        def hx(v):
            return hex(v)

        nodes = []
        for n in self.nodes:
            nodes.append({
                "node": n.node, "pxms": list(n.pxms), "online": n.online, "cpus": n.cpus,
                "srat_ranges": [[hx(s), hx(e)] for s, e, _ in n.srat_ranges],
                "srat_hotplug_ranges": [[hx(s), hx(e)] for s, e, h in n.srat_ranges if h],
                "memory_ranges": [[hx(s), hx(e)] for s, e in n.memory_ranges],
                "hotplug": n.hotplug, "hotplug_cleared_by": list(n.hotplug_cleared_by),
                "node_data": [hx(n.node_data[0]), hx(n.node_data[1])] if n.node_data else None,
                "node_data_on_node": n.node_data_on,
                "movable_start_pfn": n.movable_start_pfn,
                "zones": [z.to_json() for z in n.zones],
            })
        return {
            "schema": SCHEMA,
            "kernel": self.kernel,
            "assumptions": list(self.assumptions),
            "numa": {"source": self.numa_source, "reason": self.numa_reason},
            "zone_ranges": {k: ([hx(v[0]), hx(v[1])] if v else None) for k, v in self.zone_ranges.items()},
            "nodes": nodes,
            "memory_blocks": {"block_size": hx(self.block_size), "runs": [r.to_json() for r in self.blocks]},
            "verdict": self.verdict,
            "findings": [f.to_json() for f in self.findings],
            "recommendation": self.recommendation,
        }


@dataclass
class Simulation:
    e820: object
    early: object
    late: object
    layout: object
    managed: dict
    loader: LoaderFacts
    cpu_nodes: list


def simulate(machine) -> Simulation:
    """Run the boot model for a machine (no advice)."""
    p = machine.profile
    ld = machine.loader
    # e820_add_kernel_range() protects [_text, _end); _end lies a build
    # constant above __end_of_kernel_reserve
    e = kernel_e820(machine.e820, machine.cmdline, profile=p,
                    kernel_image=(ld.kernel_text, ld.kernel_reserve_end + p.image_end_after_reserve))
    loader = ld
    early = early_boot(profile=p, e820=e, cmdline=machine.cmdline, srat_raw=machine.srat_raw,
                       slit_raw=machine.slit_raw, cfmws_windows=machine.cfmws_windows, loader=loader)
    numa = early.numa
    # early_cpu_to_node(): SRAT APIC -> node for CPUs in table order, the
    # rest round-robin over online nodes (numa_init_array)
    # numa_init_array() runs before any CPU has a node, so CPU i first gets
    # the i-th online node round robin; init_cpu_to_node() then moves the CPUs
    # whose APIC id the SRAT lists to their SRAT node
    online = sorted(numa.online) or [0]
    cpu_nodes = []
    if numa.mode == "srat" and numa.srat is not None:
        cpu_nodes = [c.node for c in numa.srat.cpus][:ld.cpus]
    while len(cpu_nodes) < ld.cpus:
        cpu_nodes.append(online[len(cpu_nodes) % len(online)])
    mpp = max(early.max_pfn, numa.srat.max_possible_pfn if numa.srat else 0)
    crash = ()
    if machine.cmdline.crashkernel:
        from .kernel.cmdline import resolve_crashkernel

        # sizes are resolved against memblock_phys_mem_size()
        req, _ = resolve_crashkernel(machine.cmdline.raw, early.memblock.memory_size(), p)
        crash = (req,) if req is not None else ()
    late = late_boot(early, cmdline=machine.cmdline, loader=loader, online_cpu_nodes=set(cpu_nodes),
                     cpu_nodes=cpu_nodes, max_possible_pfn=mpp, crash_requests=crash,
                     gi_nodes=tuple(numa.srat.gi_nodes) if numa.srat and numa.mode == "srat" else ())
    cl = machine.cmdline

    def core(c):
        if c is None or c.mirror:
            return None
        return ("percent", c.percent) if c.percent else ("pages", c.pages)

    layout = compute_zones(
        regions=early.memblock.memory, max_pfn=early.max_pfn, online_nodes=numa.online, profile=p,
        movable_node=cl.movable_node, kernelcore=core(cl.kernelcore), movablecore=core(cl.movablecore),
        kernelcore_mirror=bool(cl.kernelcore and cl.kernelcore.mirror),
        has_mirror=early.memblock.has_mirror,
        memoryless_online=(set(cpu_nodes) | set(numa.srat.gi_nodes if numa.srat else ())) - set(numa.online))
    managed = managed_pages(early, late, layout, loader=loader, profile=p)
    return Simulation(e820=e, early=early, late=late, layout=layout, managed=managed, loader=loader,
                      cpu_nodes=cpu_nodes)


def _blocks(sim, machine, block_size):
    p = machine.profile
    mb = sim.early.memblock
    online = set(sim.layout.nodes)
    runs = mblocks.compute_blocks(regions=mb.memory, layout=sim.layout, block_size=block_size, profile=p,
                                  online_nodes=online)
    # pages that stay reserved for good (the initrd is freed after unpacking)
    rd = sim.early.initrd or sim.loader.initrd
    persistent = []
    for r in mb.reserved:
        s, e = r.base, r.base + r.size
        if rd and rd[0] <= s and e <= ((rd[1] + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)):
            continue
        persistent.append((s, e))
    bshift = block_size.bit_length() - 1
    busy = set()
    for s, e in persistent:
        busy.update(range(s >> bshift, ((e - 1) >> bshift) + 1))
    mem = sorted((r.base, r.base + r.size, r.nid) for r in mb.memory)

    def full_ram(b):
        s, e = b << bshift, (b + 1) << bshift
        cur = s
        for rs, re_, _ in mem:
            if re_ <= cur:
                continue
            if rs > cur:
                return False
            cur = re_
            if cur >= e:
                return True
        return cur >= e

    # blocks that need a look of their own: reserved pages or a memory-range edge
    special = set(busy)
    for rs, re_, _ in mem:
        special.add(rs >> bshift)
        special.add((re_ - 1) >> bshift)
    special_sorted = sorted(special)

    def verdict(r, b):
        if r.valid_zones == "none":
            return "spans several zones or nodes (EINVAL)"
        if r.valid_zones != "Movable":
            return f"{r.valid_zones} block: unmovable kernel allocations may sit anywhere in it"
        if b == 0:
            return "block 0"
        if not full_ram(b):
            return "memory holes (EINVAL)"
        if b in busy:
            return "holds boot-time reserved pages (NODE_DATA, memmap, per-CPU or other memblock data)"
        return None

    import bisect

    out = []

    def emit(a, z, r, why):
        item = BlockRun(a, z, r.nodes, r.node, r.valid_zones, why is None, why, a << bshift, (z + 1) << bshift)
        if out and out[-1].last == a - 1 and (out[-1].nodes, out[-1].node, out[-1].valid_zones, out[-1].why) == \
                (item.nodes, item.node, item.valid_zones, item.why):
            prev = out[-1]
            out[-1] = BlockRun(prev.first, z, r.nodes, r.node, r.valid_zones, prev.offlinable, why, prev.start,
                               item.end)
        else:
            out.append(item)

    for r in runs:
        cur = r.first
        i = bisect.bisect_left(special_sorted, cur)
        while cur <= r.last:
            nxt = special_sorted[i] if i < len(special_sorted) else None
            if nxt == cur:
                emit(cur, cur, r, verdict(r, cur))
                cur += 1
                i += 1
                continue
            end = r.last if nxt is None or nxt > r.last else nxt - 1
            emit(cur, end, r, verdict(r, cur))
            cur = end + 1
    return out


def plan(machine, advise_more: bool = True) -> Plan:
    """Predict the boot of ``machine``; see :class:`Plan`."""
    from . import advise
    from .errors import PlanError

    if machine.arch != "x86_64":
        raise PlanError(f"not planned: {machine.arch} (the tables describe a {machine.arch} machine; the planner "
                        "models x86-64 Linux) - 'sratplan decode' checks the tables themselves")
    sim = simulate(machine)
    p = machine.profile
    early, layout = sim.early, sim.layout
    numa = early.numa
    mb = early.memblock
    srat = numa.srat
    nodes = []
    all_nodes = sorted(set(numa.possible) | set(layout.nodes) | set(sim.cpu_nodes))
    hp_before = set(numa.hotplug_before_clear)
    from collections import Counter

    cpus_per_node = Counter(sim.cpu_nodes)
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
        if nd is None and nid in sim.late.late_node_data:
            a, b = sim.late.late_node_data[nid]
            nd_t = (a, b - 1)
        nz = layout.nodes.get(nid)
        zones = []
        for zi, zn in enumerate(ZONE_NAMES):
            if nz is None:
                zones.append(ZonePlan(zn, None, 0, 0, 0))
                continue
            z = nz.zones[zi]
            zones.append(ZonePlan(zn, z.start_pfn, z.spanned, z.present,
                                  sim.managed.get(nid, {}).get(zn, 0) if z.present else 0))
        nodes.append(NodePlan(
            node=nid, pxms=pxms, online=nid in layout.nodes, cpus=cpus_per_node[nid],
            srat_ranges=sr, memory_ranges=memr, hotplug_in_srat=nid in hp_before, hotplug=hot,
            hotplug_cleared_by=cleared, node_data=nd_t, node_data_on=nd_on,
            movable_start_pfn=layout.zone_movable_pfn.get(nid), zones=tuple(zones)))

    bsize = mblocks.probe_memory_block_size(early.max_pfn, hypervisor=machine.loader.hypervisor,
                                            advised_max=0, profile=p)
    blocks = _blocks(sim, machine, bsize)
    zr = {ZONE_NAMES[i]: layout.zone_range(i) and (layout.zone_range(i)[0] << 12,
                                                  (layout.zone_range(i)[1] << 12) - 1)
          for i in (0, 1, 2, 4)}
    base = Plan(kernel=p.name, machine=machine, numa_source=numa.mode,
                numa_reason=numa.reason if numa.mode == "dummy" else None, nodes=tuple(nodes),
                block_size=bsize, blocks=tuple(blocks), zone_ranges=zr,
                movable_zone=ZONE_NAMES[layout.movable_zone], max_pfn=early.max_pfn,
                assumptions=tuple(machine.assumptions), sim=sim)
    return advise.advise(base, advise_more=advise_more)


__all__ = ["plan", "simulate", "Plan", "NodePlan", "ZonePlan", "BlockRun", "SCHEMA", "Finding", "Severity"]
