"""SPARSEMEM_VMEMMAP set-up at boot: which sections are present, and where
each node's memmap (struct pages) and usemaps are allocated.

Mirrors ``mm/sparse.c`` (memblocks_present, memory_present, sparse_index_init,
sparse_init, sparse_init_nid, sparse_early_usemaps_alloc_pgdat_section,
sparse_buffer_init) and ``mm/sparse-vmemmap.c`` + ``arch/x86/mm/init_64.c``
(vmemmap_populate_hugepages, vmemmap_alloc_block_buf) for 5.10-7.2.  Up to
6.12 each node's memmap is first tried as one node-exact block
(memblock_alloc_exact_nid_raw); when that fails (e.g. a node whose memory is
all hotpluggable under movable_node) every 2 MiB piece falls back to
memblock_alloc_try_nid_raw, i.e. to the highest free memory of any node.  7.x
allocates every 2 MiB piece that way from the start.

The memmap is the largest boot-time consumer of kernel memory (1/64 of all
present sections) and it is what keeps ZONE_MOVABLE blocks busy when it lands
inside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..units import PAGE_SIZE

SECTION_SHIFT = 27
PAGES_PER_SECTION = 1 << (SECTION_SHIFT - 12)
SECTION_MAP_SIZE = 2 << 20                 # PAGE_ALIGN(64 B * PAGES_PER_SECTION)
MAX_DMA_ADDRESS = 16 << 20                 # __pa(MAX_DMA_ADDRESS)
SECTIONS_PER_ROOT = 4096 // 16             # PAGE_SIZE / sizeof(struct mem_section)
VMEMMAP_PER_PMD_PAGE = 1 << 30             # one PMD page maps 1 GiB of vmemmap
VMEMMAP_PER_PUD_PAGE = 512 << 30
# mm/sparse.c:mminit_validate_memmodel_limits() clamps every range handed to
# memory_present() at 1 << (MAX_PHYSMEM_BITS - PAGE_SHIFT) pfns ("Start of
# range ... exceeds SPARSEMEM max"); MAX_PHYSMEM_BITS is 46 with 4-level
# paging (arch/x86/include/asm/sparsemem.h), as e820.MAX_ARCH_PFN assumes.
MAX_SPARSEMEM_SECTION = 1 << (46 - SECTION_SHIFT)


@dataclass
class Sparse:
    sections: list = field(default_factory=list)       # [(first_sec, end_sec, nid)] present runs
    memmap: list = field(default_factory=list)          # (nid, start, end) where struct pages live
    usemaps: list = field(default_factory=list)
    failed_nodes: set = field(default_factory=set)      # exact-node memmap allocation failed
    failed_sections: int = 0


def present_sections(memblock, profile):
    """memblocks_present(): a section belongs to the node of the first memory
    region that touches it; returns runs [(first, end, nid)] in address order.
    Sections beyond MAX_PHYSMEM_BITS are never present (memory_present clamps)."""
    runs = []
    for r in memblock.memory:
        if r.size == 0:
            continue
        s = min(r.base >> SECTION_SHIFT, MAX_SPARSEMEM_SECTION)
        e = min(((r.base + r.size - 1) >> SECTION_SHIFT) + 1, MAX_SPARSEMEM_SECTION)
        if runs and s < runs[-1][1]:
            s = runs[-1][1]              # already present: keeps its first nid
        if s >= e:
            continue
        if runs and runs[-1][1] == s and runs[-1][2] == r.nid:
            runs[-1] = (runs[-1][0], e, r.nid)
        else:
            runs.append((s, e, r.nid))
    return runs


def sparse_init(memblock, profile, node_data: dict, labels=None) -> Sparse:
    """Allocate mem_section roots, usemaps and the memmap the way sparse_init() does."""
    mb = memblock
    out = Sparse()
    runs = present_sections(mb, profile)
    out.sections = runs
    if not runs:
        return out
    # mem_section root array, then one root page per 256 sections touched
    mb.alloc(profile.mem_section_roots_bytes, 64)
    # (runs are in address order: a root is first touched by the lowest run
    # reaching it, and consecutive roots of one node are one batch)
    last_root = -1
    batch_nid, batch = None, 0
    for s, e, nid in runs:
        first = max(s // SECTIONS_PER_ROOT, last_root + 1)
        last = (e - 1) // SECTIONS_PER_ROOT
        if last < first:
            continue
        if nid != batch_nid and batch:
            mb.alloc_try_nid_repeat(batch, PAGE_SIZE, 64, batch_nid)
            batch = 0
        batch_nid = nid
        batch += last - first + 1
        last_root = last
    if batch:
        mb.alloc_try_nid_repeat(batch, PAGE_SIZE, 64, batch_nid)
    vmemmap_pud = set()
    vmemmap_pmd = set()
    for s, e, nid in runs:               # consecutive sections of one nid = one sparse_init_nid()
        count = e - s
        usage = profile.usemap_bytes_per_section * count
        nd = node_data.get(nid)
        if profile.usemap_near_pgdat and nd is not None:
            # sparse_early_usemaps_alloc_pgdat_section(): inside the section
            # holding the node's pg_data_t, on the node owning that memory
            goal = (nd.start >> SECTION_SHIFT) << SECTION_SHIFT
            unid = nd.on_node if nd.on_node >= 0 else nid
            a = mb.alloc_try_nid(usage, 64, goal, goal + (1 << SECTION_SHIFT), unid, raw=True)
            if not a:
                a = mb.alloc_try_nid(usage, 64, goal, 0, unid, raw=True)
        else:
            a = mb.alloc_try_nid(usage, 64, 0, 0, nid)
        if a:
            out.usemaps.append((nid, a, a + usage))
        buf = 0
        if profile.sparse_buffer:
            buf = mb.alloc_exact_nid_raw(count * SECTION_MAP_SIZE, SECTION_MAP_SIZE, MAX_DMA_ADDRESS, 0, nid)
            if not buf:
                out.failed_nodes.add(nid)
        # vmemmap page-table pages: a PUD page per 512 GiB of vmemmap and a PMD
        # page per 1 GiB (64 sections' struct pages), allocated as first needed
        v0, v1 = s * SECTION_MAP_SIZE, e * SECTION_MAP_SIZE
        new_pud = [i for i in range(v0 // VMEMMAP_PER_PUD_PAGE, (v1 - 1) // VMEMMAP_PER_PUD_PAGE + 1)
                   if i not in vmemmap_pud]
        vmemmap_pud.update(new_pud)
        p0, p1 = v0 // VMEMMAP_PER_PMD_PAGE, (v1 - 1) // VMEMMAP_PER_PMD_PAGE + 1
        new_pmd = sum(1 for i in range(p0, p1) if i not in vmemmap_pmd)
        vmemmap_pmd.update(range(p0, p1))
        # vmemmap_alloc_block_zero(PAGE_SIZE) -> memblock_alloc_try_nid_raw(PAGE_SIZE,
        # PAGE_SIZE, __pa(MAX_DMA_ADDRESS), ACCESSIBLE, nid) per page-table page
        mb.alloc_try_nid_repeat(len(new_pud) + new_pmd, PAGE_SIZE, PAGE_SIZE, nid, min_addr=MAX_DMA_ADDRESS)
        if buf:
            out.memmap.append((nid, buf, buf + count * SECTION_MAP_SIZE))
            continue
        # vmemmap_alloc_block_buf() -> memblock_alloc_try_nid_raw(2 MiB) per
        # section piece: the node's highest free memory first, then any node
        got = mb.alloc_try_nid_repeat(count, SECTION_MAP_SIZE, SECTION_MAP_SIZE, nid, min_addr=MAX_DMA_ADDRESS)
        for a0, a1 in got:
            out.memmap.append((nid, a0, a1))
        out.failed_sections += count - sum((a1 - a0) // SECTION_MAP_SIZE for a0, a1 in got)
    out.memmap = _merge(out.memmap)
    return out


def _merge(items):
    items = sorted(items, key=lambda t: (t[1], t[2]))
    out = []
    for nid, s, e in items:
        if out and out[-1][0] == nid and out[-1][2] == s:
            out[-1] = (nid, out[-1][1], e)
        else:
            out.append((nid, s, e))
    return out
