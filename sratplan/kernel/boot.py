"""The whole simulated boot of one machine, as one typed :class:`BootTrace`.

Runs the kernel models in the order x86-64 Linux (5.10, 6.1, 6.12, 7.2)
reaches them from ``init/main.c:start_kernel``: ``setup_arch`` (the e820
edits of ``arch/x86/kernel/e820.c``, early reservations, memblock, the
direct map, ``initmem_init`` → NUMA, :mod:`.setup`), ``init_cpu_to_node``,
``reserve_crashkernel``, ``sparse_init``, per-CPU areas, swiotlb and the
boot hashes (:mod:`.mm_init`), ``free_area_init`` (:mod:`.zones`),
``memblock_free_all`` (managed pages), then the memory block devices of
``drivers/base/memory.c`` (:mod:`.memory_blocks`) and what could be offlined
after boot (:mod:`.memory_hotplug`).

Everything right of the Machine reads the BootTrace's typed fields; nothing
here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import Finding
from ..intervals import IntervalIndex
from . import memory_blocks
from .cmdline import resolve_crashkernel
from .e820 import KernelE820, kernel_e820
from .kaslr import candidate_ranges
from .memory_hotplug import OfflineRun, offline_runs
from .mm_init import LateBoot, late_boot, managed_pages
from .numa import init_cpu_to_node
from .profile import KernelProfile
from .setup import EarlyBoot, LoaderFacts, early_boot
from .zones import ZoneLayout, compute_zones


@dataclass(frozen=True)
class Allocation:
    """One boot allocation that stays in memory (for the picture and the
    offline rules): ``kind`` is node_data, memmap, percpu, swiotlb,
    crashkernel or hash (the boot-time dentry/inode hashes)."""

    kind: str
    start: int
    end: int
    node: int | None = None


@dataclass(frozen=True)
class KaslrChoice:
    """Where the decompressor may put the kernel image with KASLR
    (arch/x86/boot/compressed/kaslr.c): the nodes its candidate slots lie in,
    and whether the SRAT's immovable-memory filter limited them."""

    nodes: tuple[int, ...]
    filtered: bool


@dataclass(frozen=True)
class BootTrace:
    """What the simulated kernel did, stage by stage.

    ``e820``: the e820 stages (firmware, user, final map, memblock feed);
    ``early``: setup_arch up to numa_register_memblks (memblock, reservations
    with labels, the NUMA result, NODE_DATA); ``late``: the allocations after
    it; ``layout``: every node's zones; ``managed``: {nid: {zone: pages}};
    ``cpu_nodes``: the node of every possible CPU; ``block_size`` and
    ``blocks``: the boot memory blocks with their offline outcome;
    ``allocations``: boot data that stays reserved; ``hotplug_kept``: memory
    that still carries MEMBLOCK_HOTPLUG after numa_clear_kernel_node_hotplug;
    ``failed``: must-succeed early allocations that found no memory (the
    kernel does not boot); ``kaslr``: where the image may land (None with
    nokaslr)."""

    profile: KernelProfile
    loader: LoaderFacts
    e820: KernelE820
    early: EarlyBoot
    late: LateBoot
    layout: ZoneLayout
    managed: dict
    cpu_nodes: tuple
    block_size: int
    blocks: tuple[OfflineRun, ...]
    allocations: tuple[Allocation, ...]
    hotplug_kept: tuple
    cfmws_nodes: tuple
    failed: tuple[str, ...]
    kaslr: KaslrChoice | None
    findings: tuple[Finding, ...]

    @property
    def numa(self):
        return self.early.numa

    @property
    def memblock(self):
        return self.early.memblock


def _core(c):
    if c is None or c.mirror:
        return None
    return ("percent", c.percent) if c.percent else ("pages", c.pages)


@dataclass(frozen=True)
class MemblockBoot:
    """The boot up to free_area_init(): every early reservation and
    allocation is made (what ZONE_MOVABLE's placement never changes)."""

    e820: KernelE820
    early: EarlyBoot
    late: LateBoot
    cpu_nodes: tuple


def boot_memblock(machine) -> MemblockBoot:
    """setup_arch() through the last memblock allocation before the page
    allocator: e820, early reservations, the direct map, NUMA, NODE_DATA,
    CPUs to nodes, crashkernel, sparse, per-CPU, swiotlb, boot hashes."""
    p = machine.profile
    cl = machine.cmdline
    ld = machine.loader
    # e820_add_kernel_range() protects [_text, _end); _end lies a build
    # constant above __end_of_kernel_reserve
    e = kernel_e820(machine.e820, cl, profile=p,
                    kernel_image=(ld.kernel_text, ld.kernel_reserve_end + p.image_end_after_reserve))
    early = early_boot(profile=p, e820=e, cmdline=cl, srat_raw=machine.srat_raw, slit_raw=machine.slit_raw,
                       cfmws_windows=machine.cfmws_windows, loader=ld)
    numa = early.numa
    cpu_nodes = init_cpu_to_node(numa, ld.cpus)
    mpp = max(early.max_pfn, numa.srat.max_possible_pfn if numa.srat else 0)
    crash = ()
    if cl.crashkernel:
        # reserve_crashkernel() sizes the request against memblock_phys_mem_size()
        req, _ = resolve_crashkernel(cl.raw, early.memblock.memory_size(), p)
        crash = (req,) if req is not None else ()
    srat_used = numa.srat is not None and numa.mode == "srat"
    late = late_boot(early, cmdline=cl, loader=ld, online_cpu_nodes=set(cpu_nodes), cpu_nodes=cpu_nodes,
                     max_possible_pfn=mpp, crash_requests=crash,
                     gi_nodes=tuple(numa.srat.gi_nodes) if srat_used else ())
    return MemblockBoot(e820=e, early=early, late=late, cpu_nodes=tuple(cpu_nodes))


def boot(machine, memblock: MemblockBoot | None = None) -> BootTrace:
    """Simulate the boot of ``machine`` (a :class:`sratplan.machine.Machine`).
    ``memblock``: :func:`boot_memblock` of a machine whose command line
    differs at most in kernelcore=/movablecore= (the same early boot); it is
    only read from here on."""
    p = machine.profile
    cl = machine.cmdline
    ld = machine.loader
    pre = memblock or boot_memblock(machine)
    e, early, late, cpu_nodes = pre.e820, pre.early, pre.late, list(pre.cpu_nodes)
    numa = early.numa
    layout = compute_zones(
        regions=early.memblock.memory, max_pfn=early.max_pfn, online_nodes=numa.online, profile=p,
        movable_node=cl.movable_node, kernelcore=_core(cl.kernelcore), movablecore=_core(cl.movablecore),
        kernelcore_mirror=bool(cl.kernelcore and cl.kernelcore.mirror),
        has_mirror=early.memblock.has_mirror,
        memoryless_online=(set(cpu_nodes) | set(numa.srat.gi_nodes if numa.srat else ())) - set(numa.online))
    managed = managed_pages(early, late, layout, loader=ld, profile=p)

    mb = early.memblock
    bsize = memory_blocks.probe_memory_block_size(early.max_pfn, hypervisor=ld.hypervisor, advised_max=0,
                                                  profile=p)
    runs = memory_blocks.compute_blocks(regions=mb.memory, layout=layout, block_size=bsize, profile=p,
                                        online_nodes=set(layout.nodes))
    blocks = offline_runs(runs, memory=[(r.base, r.base + r.size) for r in mb.memory],
                          reserved=[(r.base, r.base + r.size) for r in mb.reserved],
                          initrd=early.initrd or ld.initrd, block_size=bsize)

    allocs = [Allocation("node_data", nd.start, nd.end, nid) for nid, nd in sorted(numa.node_data.items())]
    allocs += [Allocation("node_data", a, b, nid) for nid, (a, b) in sorted(late.late_node_data.items())]
    allocs += [Allocation("memmap", s, e_, nid) for nid, s, e_ in late.sparse.memmap]
    allocs += [Allocation("percpu", s, e_, nid) for nid, s, e_ in late.percpu]
    if late.swiotlb:
        allocs.append(Allocation("swiotlb", *late.swiotlb))
    allocs += [Allocation("crashkernel", item[-2], item[-1]) for item in late.crashkernel]
    allocs += [Allocation("hash", s, e_) for s, e_ in late.hash_tables]

    kept = tuple(sorted((r.base, r.base + r.size, r.nid) for r in mb.memory if r.flags & p.flag_hotplug))
    cfmws = tuple(tuple(x) for x in (numa.srat.cfmws_nodes if numa.srat else ()) if len(x) == 4 and x[3] > x[2])
    failed = []
    for nid in numa.node_data_failed:
        failed.append(f"NODE_DATA of node {nid} ({p.node_data_size:#x} bytes)")
    if early.direct_map.failed:
        failed.append("page tables of the direct map (alloc_low_pages)")
    kaslr = None
    if ld.kaslr:
        index = IntervalIndex((r.base, r.base + r.size, r.nid) for r in mb.memory)
        cands, filtered = candidate_ranges(e.firmware, machine.srat_raw, acpi_off=cl.acpi_off,
                                          image_size=ld.kernel_reserve_end - ld.kernel_text, mem_limit=cl.mem)
        kaslr = KaslrChoice(tuple(sorted({nid for a, b in cands for nid in index.payloads(a, b)})), filtered)
    return BootTrace(profile=p, loader=ld, e820=e, early=early, late=late, layout=layout, managed=managed,
                     cpu_nodes=tuple(cpu_nodes), block_size=bsize, blocks=tuple(blocks),
                     allocations=tuple(a for a in allocs if a.end > a.start), hotplug_kept=kept,
                     cfmws_nodes=cfmws, failed=tuple(failed), kaslr=kaslr, findings=tuple(e.findings))
