"""From the end of NUMA set-up to the page allocator: the remaining big
memblock allocations and the pages each zone ends up managing.

Mirrors, for kernels 5.10-7.2:

* crash_reserve.py (reserve_crashkernel), percpu.py (the first per-CPU
  chunk) and swiotlb.py (the bounce buffer), called in boot order;
* ``arch/x86/mm/init_64.c:paging_init`` -> ``mm/sparse.c`` (see sparse.py) and
  ``mm/mm_init.c:free_area_init`` (pg_data_t of possible-but-offline nodes);
* ``arch/x86/mm/numa.c:init_cpu_to_node`` (5.10 allocates NODE_DATA of CPU-only
  nodes here);
* ``mm/mm_init.c:alloc_large_system_hash`` for the dentry and inode hashes
  when only one node has memory (hashdist off);
* ``mm/memblock.c:memblock_free_all`` (managed = free pages) plus the pages
  freed later from the kernel image and the initrd.

``managed`` is an estimate: allocations of a few pages (ACPI, IO-APIC,
firmware map entries, ...) are not modelled; the captures bound the error.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..intervals import subtract, union
from ..units import PAGE_SIZE
from . import sparse as sparse_mod
from .crash_reserve import reserve_crashkernel
from .percpu import setup_per_cpu_areas
from .swiotlb import swiotlb_init

MAX_DMA_ADDRESS = 16 << 20


@dataclass
class LateBoot:
    sparse: sparse_mod.Sparse
    percpu: list = field(default_factory=list)       # (nid, start, end) kept per node group
    swiotlb: tuple | None = None                      # (start, end)
    crashkernel: list = field(default_factory=list)   # (start, end)
    hash_tables: list = field(default_factory=list)
    late_node_data: dict = field(default_factory=dict)   # nid -> (start, end) (5.10 CPU-only nodes)
    memoryless_pgdat: dict = field(default_factory=dict)
    managed: dict = field(default_factory=dict)       # nid -> {zone: pages}
    log: list = field(default_factory=list)


def late_boot(early, *, cmdline, loader, online_cpu_nodes, cpu_nodes, max_possible_pfn,
              crash_requests=(), swiotlb_bytes=64 << 20, gi_nodes=()) -> LateBoot:
    """Run the remaining early allocations; ``cpu_nodes`` lists the node of
    every possible CPU (early_cpu_to_node)."""
    p = early.profile
    mb = early.memblock
    res = early.reservations
    lb = LateBoot(sparse=sparse_mod.Sparse())
    crash = reserve_crashkernel(mb, crash_requests, p, lb.log)
    lb.crashkernel = crash
    for s, e in crash:
        res.add("other", s, e)

    lb.sparse = sparse_mod.sparse_init(mb, p, early.numa.node_data)
    for nid, s, e in lb.sparse.memmap:
        res.add("other", s, e)

    # acpi_boot_init() -> acpi_parse_hpet(): a small memblock_alloc for the
    # HPET resource name, made before CPU-only nodes come online
    if any(t[0] == "HPET" for t in loader.acpi_tables):
        mb.alloc(73, 64)

    online = set(early.numa.online)
    possible = set(early.numa.possible)
    # free_area_init(): possible nodes that are not online get a pg_data_t
    for nid in sorted(possible - online):
        if p.memoryless_pgdat_in_free_area_init:
            a = mb.alloc(p.node_data_size, 64)
            if a:
                lb.memoryless_pgdat[nid] = (a, a + p.node_data_size)
    # init_cpu_to_node() then init_gi_nodes(): CPU-only and Generic-Initiator
    # nodes come online (5.10: via alloc_node_data, which prints NODE_DATA)
    late = [n for n in sorted(set(online_cpu_nodes)) if n not in online]
    late += [n for n in sorted(set(gi_nodes)) if n not in online and n not in late]
    for nid in late:
        if not p.memoryless_pgdat_in_free_area_init:
            a = mb.phys_alloc_try_nid(p.node_data_size, 64, nid)
            if a:
                lb.late_node_data[nid] = (a, a + p.node_data_size)

    for nid, u, e in setup_per_cpu_areas(mb, p, cpu_nodes, online):
        lb.percpu.append((nid, u, e))
        res.add("other", u, e)

    # vfs_caches_init_early(): with one memory node hashdist is off and the
    # dentry/inode hashes are memblock allocations
    mem_nodes = {r.nid for r in mb.memory if r.size}
    if len(mem_nodes) == 1:
        free_pages = 0
        for r in mb.memory:
            free_pages += r.size >> 12
        free_pages -= sum(r.size >> 12 for r in mb.reserved)
        free_pages = max(free_pages, 0)
        for scale in (13, 14):
            n = -(-free_pages // 256) * 256
            n >>= (scale - 12)
            n = 1 << max(n - 1, 0).bit_length() if n > 1 else 1
            size = n * 8
            a = mb.alloc(size, 64)
            if a:
                lb.hash_tables.append((a, a + size))
                res.add("other", a, a + size)

    # mem_init() -> pci_iommu_alloc() -> swiotlb
    lb.swiotlb = swiotlb_init(mb, p, cmdline, max_possible_pfn, default_bytes=swiotlb_bytes)
    if lb.swiotlb:
        res.add("other", *lb.swiotlb)
    return lb




def managed_pages(early, late, layout, *, loader, profile) -> dict:
    """memblock_free_all(): every page of memblock.memory not covered by a
    reservation is handed to its zone; later the initrd and the freed parts of
    the kernel image come back too."""
    mb = early.memblock
    # free ranges (page granular: partially reserved pages stay reserved)
    merged = union((r.base, r.base + r.size) for r in mb.reserved)
    free = []
    nomap = profile.flag_nomap
    for r in mb.memory:
        if r.flags & nomap:
            continue
        s, e = r.base, r.base + r.size
        i = max(0, bisect.bisect_right(merged, (s,)) - 1)
        free.extend((a, b, r.nid) for a, b in subtract(s, e, merged[i:]))
    later = []
    rd = getattr(early, "initrd", None) or loader.initrd
    if rd:
        s, e = rd
        e = (e + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
        for r in mb.memory:
            a, b = max(s, r.base), min(e, r.base + r.size)
            if a < b:
                later.append((a, b, r.nid))
    out = {}
    for nid, nz in layout.nodes.items():
        zm = {}
        for z in nz.zones:
            if not z.spanned:
                zm[z.name] = 0
                continue
            zs, ze = z.start_pfn, z.start_pfn + z.spanned
            n = 0
            for (s, e, rnid) in free:
                if rnid != nid:
                    continue
                a = max((s + PAGE_SIZE - 1) >> 12, zs)
                b = min(e >> 12, ze)
                if a < b:
                    n += b - a
            # free_initrd_mem(): every page goes back to the zone and node it
            # lies in (an initrd may straddle nodes or a hotplug island)
            for (s, e, rnid) in later:
                if rnid != nid:
                    continue
                a = max((s + PAGE_SIZE - 1) >> 12, zs)
                b = min(e >> 12, ze)
                if a < b:
                    n += b - a
            if zs <= (loader.kernel_text >> 12) < ze and _nid_of(mb, loader.kernel_text) == nid:
                n += profile.image_freed_bytes >> 12
            zm[z.name] = min(n, z.present)
        out[nid] = zm
    return out


def _nid_of(mb, addr):
    return mb.memory_nid_at(addr) if mb.memory_index(addr) >= 0 else None


__all__ = ["late_boot", "managed_pages", "LateBoot"]
