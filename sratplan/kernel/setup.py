"""The x86-64 boot order of early reservations and allocations, up to the
point where the page allocator takes over.

Mirrors ``arch/x86/kernel/setup.c:setup_arch`` (early_reserve_memory,
reserve_bios_regions, reserve_brk, e820__memblock_setup, the movable_node
bottom-up switch, reserve_real_mode, init_mem_mapping, reserve_initrd,
acpi_reserve_initial_tables, initmem_init, reserve_crashkernel) for kernels
5.10, 6.1, 6.12 and 7.2, and ``arch/x86/boot/compressed/kaslr.c`` for the
KASLR immovable-memory rule.

Every reservation is recorded with a label from a small vocabulary
(kernel_image, low_1m, initrd, acpi_tables, page_tables, setup_data, efi,
soft_reserved, other) so the plan can say which one made a node lose its
hotplug flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..firmware.e820 import ISA_END_ADDRESS
from ..intervals import covers, union
from ..units import PAGE_SIZE
from . import numa as numa_mod
from .memblock import Memblock
from .pgtable import DirectMap


def _pa(v):
    return (v + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


@dataclass(frozen=True)
class LoaderFacts:
    """What the boot loader and firmware fixed: where the kernel image and the
    initrd are, where the ACPI tables live, how many CPUs there are."""

    kernel_text: int                        # _text (physical)
    kernel_reserve_end: int                 # __end_of_kernel_reserve (start of brk)
    initrd: tuple[int, int] | None          # [start, end) as the loader placed it
    acpi_tables: tuple = ()                 # (sig, address, length)
    cpus: int = 1
    gbpages: bool = False                   # CPU has 1 GiB pages (X86_FEATURE_GBPAGES)
    hypervisor: bool = False
    bios_start: int | None = None           # start of the BIOS area below 1 MiB
    kaslr: bool = False                     # the decompressor may move the kernel (no nokaslr)


@dataclass
class Reservations:
    """Labelled copy of every reservation the simulation made."""

    items: list = field(default_factory=list)   # (label, start, end)

    def add(self, label, start, end):
        if end > start:
            self.items.append((label, start, end))

    def labels(self, start, end):
        return {lab for (lab, s, e) in self.items if s < end and start < e}


@dataclass
class EarlyBoot:
    profile: object
    memblock: Memblock
    reservations: Reservations
    direct_map: DirectMap
    numa: numa_mod.NumaResult
    max_pfn: int
    max_pfn_mapped: int
    first_dump: list
    second_dump: list
    trampoline: int | None
    initrd: tuple | None = None          # where the initrd is after reserve_initrd()
    log: list = field(default_factory=list)
    # movable_node: the memblock allocations made while bottom-up was on (from
    # setup_arch's memblock_set_bottom_up(true) to numa_init's reset), as
    # (what, start, end): "trampoline", "page_tables", "initrd" (relocated),
    # "numa_distance" (the SLIT copy)
    bottom_up_allocations: tuple = ()
    kernel_end: int | None = None        # __pa_symbol(_end)


def bios_start_from_e820(e820_entries) -> int:
    """reserve_bios_regions(): the BIOS area starts at the BDA's base-memory
    size (lowered to the EBDA), clamped to [BIOS_START_MIN, BIOS_START_MAX] =
    [128K, 0x9f000] and rounded down to a page.  Firmware reports the same
    boundary as the end of the usable e820 entry at address 0."""
    start = 0x9F000
    for e in e820_entries:
        if e.type == 1 and e.start == 0:
            start = min(e.start + e.size, 0xA0000)
            break
    if start < 0x20000 or start > 0x9F000:
        start = 0x9F000
    return start & ~(PAGE_SIZE - 1)


def _pfn_range_mapped(mb, start, end) -> bool:
    """pfn_range_is_mapped(): inside one directly mapped range ([0, 1M) and the
    memblock memory ranges init_mem_mapping() mapped, adjacent ones merged)."""
    ranges = [(0, ISA_END_ADDRESS)] + [(r.base & ~(PAGE_SIZE - 1), (r.base + r.size) & ~(PAGE_SIZE - 1))
                                       for r in mb.memory]
    return covers(union(ranges), start, end)


def early_boot(*, profile, e820, cmdline, srat_raw, slit_raw, cfmws_windows, loader: LoaderFacts,
               x2apic_mode=True) -> EarlyBoot:
    """Run setup_arch() up to and including numa_register_memblks()."""
    p = profile
    mb = Memblock(p, movable_node=cmdline.movable_node,
                  mirrored_kernelcore=bool(cmdline.kernelcore and cmdline.kernelcore.mirror))
    res = Reservations()
    kern = p.flag_rsrv_kern or 0
    log = []

    def reserve(label, base, size, flags=0):
        mb.reserve(base, size, None, flags)
        res.add(label, base, base + size)

    text, rend = loader.kernel_text, loader.kernel_reserve_end
    brk_end = rend + p.brk_reserve_size
    image_end = rend + p.image_end_after_reserve      # __pa_symbol(_end)
    # memblock_find_in_range_node() reads __pa_symbol(_end) for the pre-5.11
    # rule (profile.bottom_up_above_kernel)
    mb.kernel_end = image_end
    bios = loader.bios_start if loader.bios_start is not None else bios_start_from_e820(e820.firmware)

    # --- early_reserve_memory() (before memblock=debug is parsed: never logged)
    if p.setup_style == "5.10":
        reserve("low_1m", 0, PAGE_SIZE)
        reserve("kernel_image", text, rend - text)
        if loader.initrd:
            reserve("initrd", loader.initrd[0], _pa(loader.initrd[1]) - loader.initrd[0])
    else:
        reserve("kernel_image", text, rend - text, kern)
        reserve("low_1m", 0, 64 << 10)
        if loader.initrd:
            reserve("initrd", loader.initrd[0], _pa(loader.initrd[1]) - loader.initrd[0], kern)
        reserve("low_1m", bios, ISA_END_ADDRESS - bios)
    # reserve_brk(): the used part of the brk area (page-table buffer first)
    reserve("kernel_image", rend, brk_end - rend, kern)

    if cmdline.movable_node:
        mb.set_bottom_up(True)        # setup_arch: movable_node => bottom-up until SRAT
    mb.set_current_limit(ISA_END_ADDRESS)

    # --- e820__memblock_setup(): "EFI might pass us more E820 entries" than
    # the 128 static regions, so the arrays may double from here on
    mb.allow_resize()
    for base, size in e820.memory:
        mb.add(base, size)
    for base, size in e820.reserved:
        reserve("soft_reserved", base, size)
    if p.e820_kho_scratch_low_1m:
        mb.mark_kho_scratch(0, ISA_END_ADDRESS)
    first_dump = mb.dump()

    # --- trampoline and low memory
    tramp = None
    if p.setup_style == "5.10":
        reserve("low_1m", bios, ISA_END_ADDRESS - bios)
        tramp = mb.find_in_range(0, ISA_END_ADDRESS, p.trampoline_size, PAGE_SIZE)
        if tramp:
            reserve("low_1m", tramp, p.trampoline_size)
            # crash_reserve_low_1M(): with crashkernel= all of [0, 1M) is
            # reserved so the kdump kernel can reuse it
            if cmdline.crashkernel:
                reserve("low_1m", 0, ISA_END_ADDRESS)
        reserve("low_1m", 0, 64 << 10)
    else:
        tramp = mb.phys_alloc_range(p.trampoline_size, PAGE_SIZE, 0, ISA_END_ADDRESS)
        if tramp:
            res.add("low_1m", tramp, tramp + p.trampoline_size)
        reserve("low_1m", 0, ISA_END_ADDRESS)
        if p.e820_kho_scratch_low_1m:
            mb.clear_kho_scratch(0, ISA_END_ADDRESS)

    # --- init_mem_mapping(): page tables for the direct map
    dm = DirectMap(mb, gbpages=loader.gbpages, pgt_buf_start=rend,
                   pgt_buf_pages=p.pgt_buf_pages, kernel_end=image_end, max_pfn=e820.max_pfn)
    limit = dm.run()
    for addr, where in dm.allocated:
        if where == "memblock":
            res.add("page_tables", addr, addr + PAGE_SIZE)
    mb.set_current_limit(limit)
    max_pfn_mapped = limit >> 12

    # reserve_initrd(): an initrd outside the direct map (e.g. above a mem=
    # limit) is copied into the highest free mapped memory and the old
    # reservation freed (relocate_initrd)
    initrd_final = loader.initrd
    if loader.initrd:
        rs, re_ = loader.initrd[0], _pa(loader.initrd[1])
        if not _pfn_range_mapped(mb, rs, re_):
            a = mb.phys_alloc_range(re_ - rs, PAGE_SIZE, 0, max_pfn_mapped << 12)
            if a:
                res.add("initrd", a, a + re_ - rs)
                initrd_final = (a, a + (loader.initrd[1] - loader.initrd[0]))
            mb.phys_free(rs, re_ - rs)
            res.items = [it for it in res.items if not (it[0] == "initrd" and it[1] == rs)]

    # --- acpi_boot_table_init(): every table except RSDP/RSDT/XSDT
    for (sig, addr, length) in loader.acpi_tables:
        if sig in ("RSDP", "RSDT", "XSDT") or not length:
            continue
        reserve("acpi_tables", addr, length)

    # --- initmem_init() -> x86_numa_init()
    ni = numa_mod.NumaInit(
        profile=p, memblock=mb, max_pfn=e820.max_pfn, max_pfn_mapped=max_pfn_mapped,
        srat_raw=srat_raw, slit_raw=slit_raw, cfmws_windows=cfmws_windows,
        numa_off=cmdline.numa_off, numa_noacpi=cmdline.numa_noacpi, acpi_off=cmdline.acpi_off,
        x2apic_mode=x2apic_mode, labels=res.labels)
    nres = ni.run()
    for nd in nres.node_data.values():
        res.add("other", nd.start, nd.end)
    if nres.distance_table:
        b, s = nres.distance_table
        res.add("other", b, b + s)
    second_dump = mb.dump()
    early_bu = []
    if cmdline.movable_node:
        if tramp:
            early_bu.append(("trampoline", tramp, tramp + p.trampoline_size))
        for addr, where in sorted(dm.allocated):
            if where != "memblock":
                continue
            if early_bu and early_bu[-1][0] == "page_tables" and early_bu[-1][2] == addr:
                early_bu[-1] = ("page_tables", early_bu[-1][1], addr + PAGE_SIZE)
            else:
                early_bu.append(("page_tables", addr, addr + PAGE_SIZE))
        if initrd_final != loader.initrd and initrd_final:
            early_bu.append(("initrd", initrd_final[0], _pa(initrd_final[1])))
        if nres.distance_table:
            b, sz = nres.distance_table
            early_bu.append(("numa_distance", b, b + sz))
    return EarlyBoot(profile=p, memblock=mb, reservations=res, direct_map=dm, numa=nres,
                     max_pfn=e820.max_pfn, max_pfn_mapped=max_pfn_mapped, first_dump=first_dump,
                     second_dump=second_dump, trampoline=tramp, initrd=initrd_final, log=log,
                     bottom_up_allocations=tuple(early_bu), kernel_end=image_end)
