"""The software IO TLB (bounce buffer) reserved at boot.

Mirrors ``kernel/dma/swiotlb.c`` (setup_io_tlb_npages, swiotlb_init_remap)
and ``arch/x86/kernel/pci-dma.c:pci_iommu_alloc`` for 5.10-7.2: 64 MiB below
4 GiB (memblock_alloc_low) when max_possible_pfn is above 4 GiB, plus its slot
array; ``swiotlb=`` resizes or disables it.
"""

from __future__ import annotations

from ..units import simple_strtoull

SLAB_SHIFT = 11          # IO_TLB_SHIFT: 2 KiB slabs
DEFAULT_BYTES = 64 << 20


def swiotlb_slabs(cmdline):
    """kernel/dma/swiotlb.c:setup_io_tlb_npages(): ``swiotlb=<slabs>[,<areas>][,force|noforce]``;
    slabs are 2 KiB, rounded up to IO_TLB_SEGSIZE (128).  Returns (slabs or
    None for the 64 MiB default, disabled)."""
    get = getattr(cmdline, "get", None)
    val = get("swiotlb") if get else None
    if not val:
        return None, False
    nslabs = None
    pos = 0
    if val[0].isdigit():
        n, pos = simple_strtoull(val, 0, 0)
        nslabs = -(-n // 128) * 128 if n else None
    rest = val[pos:].lstrip(",")
    if rest[:1].isdigit():                     # the number of areas (6.x)
        _, end = simple_strtoull(rest, 0, 0)
        rest = rest[end:].lstrip(",")
    return nslabs, rest == "noforce"


def swiotlb_init(mb, profile, cmdline, max_possible_pfn: int, default_bytes: int = DEFAULT_BYTES):
    """pci_swiotlb_detect() + swiotlb_init_remap(): returns the bounce buffer
    (start, end) or None; the slot array goes anywhere (memblock_alloc)."""
    nslabs, disabled = swiotlb_slabs(cmdline)
    size = nslabs << SLAB_SHIFT if nslabs is not None else default_bytes
    raw = getattr(cmdline, "raw", "") or ""
    if max_possible_pfn <= (4 << 30) >> 12 or "iommu=off" in raw.split() or disabled:
        return None
    a = mb.alloc_low(size, 4096)
    if not a:
        return None
    meta = profile.swiotlb_meta_bytes * (size >> SLAB_SHIFT) // 32768
    if meta:
        mb.alloc(meta, 4096)
    return (a, a + size)
