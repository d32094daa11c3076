"""Kernel profiles: the constants and behaviour switches of each kernel
version sratplan models (5.10-seed, 5.10, 6.1, 6.12, 7.2).

Modules that model kernel code never test a version number; they ask the
profile.  Each number below says where it came from (kernel source file or a
measurement from ../shared/kernel-truth captures, copied to fixtures/kernel/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..errors import UsageError

MAX_NUMNODES_DEBIAN = 1024  # CONFIG_NODES_SHIFT=10 on Debian amd64 (all four kernels)


@dataclass(frozen=True)
class KernelProfile:
    name: str                    # "5.10-seed", "5.10", "6.1", "6.12", "7.2"
    release: str                 # the Debian kernel the captures came from
    version: tuple[int, int]

    # --- mm/memblock.c -------------------------------------------------
    # Default nid of a new region: MAX_NUMNODES up to ~6.8, NUMA_NO_NODE (-1) later.
    # (Not what the trees do: the memblock model uses memblock_add_nid,
    # memblock_reserve_nid and nid_none below, read from each source tree.)
    default_nid: int = MAX_NUMNODES_DEBIAN
    # Mainline 3.13-5.10 (memblock_find_in_range_node, "mm/memblock.c: introduce
    # bottom-up allocation mode"): a bottom-up search with end > __pa_symbol(_end)
    # first tries [max(start, _end), end) bottom-up; if that finds nothing it
    # WARN_ONCEs "memblock: bottom-up allocation failed, memory hotremove may be
    # affected" and searches [start, end) top-down; end <= _end goes top-down
    # straight away.  Removed by 2dcb39645441 (5.11-rc7), backported to 5.10.15,
    # 5.4.97, 4.19.175 and 4.9.258; 5.10.223 has the removal.
    bottom_up_above_kernel: bool = False
    # Flag values printed in dumps (include/linux/memblock.h).
    flag_hotplug: int = 0x1
    flag_mirror: int = 0x2
    flag_nomap: int = 0x4
    flag_driver_managed: int = 0x8
    flag_rsrv_noinit: int | None = None   # 0x10 from 6.5
    flag_rsrv_kern: int | None = None     # 0x20 from ~6.14: every allocation's reservation
    flag_kho_scratch: int | None = None   # 0x40 from ~6.16
    # nid given to new regions by memblock_add() (MAX_NUMNODES in all four
    # trees) and by memblock_reserve() (MAX_NUMNODES up to 6.12; 7.x's inline
    # memblock_reserve() passes NUMA_NO_NODE) -- mm/memblock.c, memblock.h.
    memblock_add_nid: int = MAX_NUMNODES_DEBIAN
    memblock_reserve_nid: int = MAX_NUMNODES_DEBIAN
    # mm/memblock.c tests "is this a node" with numa_valid_node(nid) from 6.12
    # (memblock_dump's " on node N", should_skip_region, the node fallback of
    # memblock_alloc_range_nid); up to 6.1 with nid != MAX_NUMNODES in the dump
    # and nid != NUMA_NO_NODE (MAX_NUMNODES folded into it) elsewhere.
    numa_valid_node_checks: bool = False
    # An empty region array keeps one zero-sized dummy entry (cnt = 1) up to
    # 6.1; from 6.12 cnt drops to 0 (memblock_remove_region/memblock_add_range).
    empty_type_dummy_region: bool = True
    # memblock_mark_mirror() is a no-op without kernelcore=mirror from 6.1
    # (5.10.223 marks unconditionally) -- mm/memblock.c.
    mirror_needs_kernelcore_mirror: bool = True
    # 7.x arch/x86/kernel/e820.c:e820__memblock_setup() marks [0, 1M) as
    # KHO scratch before the first dump; reserve_real_mode() clears it.
    e820_kho_scratch_low_1m: bool = False
    # E820_TYPE_RESERVED_KERN (128) exists and e820__memblock_setup() adds it to
    # memblock.memory like RAM: 5.10.223, 6.1.192, 6.12.117; 7.2.13 dropped the
    # type (arch/x86/include/asm/e820/types.h), so 128 is an unknown type there.
    e820_reserved_kern: bool = True
    # Type names e820_print_type() uses: "classic" (usable/reserved, 3.x-6.x)
    # or "gaps" (System RAM/device reserved + [gap] lines; 7.2.13 e820.c).
    e820_print_dialect: str = "classic"
    # --- mm/memory_hotplug.c defaults (Debian configs) ----------------------
    # auto_online_blocks with no memhp_default_state=: /sys/devices/system/memory/
    # auto_online_blocks in every capture (fixtures/kernel/*/memory_blocks.txt):
    # "offline" on 5.10/6.1, "online" on 6.12/7.2.
    memhp_default_online: str = "offline"

    # --- drivers/acpi/numa/srat.c, lib/fw_table.c ------------------------
    max_numnodes: int = MAX_NUMNODES_DEBIAN
    # 6.8+: acpi_parse_entries_array() lives in lib/fw_table.c and returns at
    # the first failing handler instead of only skipping later handlers.
    fw_table_walker: bool = False
    # ~6.10+: the SRAT CPU pass also has a handler for type 7 (RINTC; a stub on x86).
    srat_rintc_handler: bool = False
    # arch/x86/mm/srat.c prints "SRAT: PXM p -> APIC 0x.. -> Node n" per CPU at
    # KERN_INFO up to 6.1; later kernels demote it to pr_debug (not in the
    # 6.12 and 7.2 captures' dmesg).
    srat_cpu_lines: bool = True
    # 6.1+ (CXL): CFMWS windows without SRAT coverage become fake-PXM nodes.
    cfmws_fake_nodes: bool = True

    # --- arch/x86/mm/numa.c / mm/numa_memblks.c ---------------------------
    # nid written by numa_init()'s reset: MAX_NUMNODES up to 6.1 (arch/x86/mm/numa.c),
    # NUMA_NO_NODE from 6.12 (mm/numa_memblks.c:numa_memblks_init).
    nid_none: int = MAX_NUMNODES_DEBIAN
    # numa_cleanup_meminfo() bounds: [0, max_pfn) up to 6.1, DRAM start/end from 6.12.
    numa_cleanup_dram_bounds: bool = False
    # "meminfo": numa_meminfo_cover_memory() (<= 6.1); "memblock":
    # memblock_validate_numa_coverage(SZ_1M) (6.8+).
    numa_coverage_check: str = "meminfo"
    # which nodes get NODE_DATA: "meminfo" (a block in numa_meminfo, <= 6.1) or
    # "pfn_range" (memblock memory with that nid, numa_register_nodes(), 6.12+).
    numa_register_by: str = "meminfo"
    # sizeof(pg_data_t) rounded as alloc_node_data() does; measured from the
    # "NODE_DATA(n) allocated [mem a-b]" lines of the captures (fixtures/kernel).
    node_data_size: int = 0x2b000

    # --- mm/page_alloc.c (<= 6.1) / mm/mm_init.c (6.4+) -------------------
    # movable_node: ZONE_MOVABLE starts at PFN_DOWN(base) of the lowest hotplug
    # region up to 6.1, at memblock_region_memory_base_pfn() = PFN_UP(base) later.
    movable_node_pfn_up: bool = False
    # kernelcore=mirror with no mirrored memory: 6.1 still carves ZONE_MOVABLE
    # from 4 GiB; 6.6+ warns and ignores it.
    mirror_ignored_without_mirror: bool = False

    # --- arch/x86/mm/init_64.c, drivers/base/memory.c, drivers/base/node.c --
    # 7.x: probe_memory_block_size() honours memory_block_advised_max_size() (CXL).
    block_size_advice: bool = False
    # how an online boot block gets its zone: "memmap" = test_pages_in_a_zone()
    # (5.10), "mem_zone" = early_node_zone_for_memory_block() (5.15+)
    valid_zones_rule: str = "mem_zone"
    # how blocks get node links: "pfn_walk" = register_mem_block_under_node_early()
    # per online node (<= 6.12), "regions" = register_memory_blocks_under_nodes() (7.x)
    block_node_rule: str = "pfn_walk"

    # --- arch/x86/kernel/setup.c, arch/x86/mm/init.c, realmode/init.c -----
    # "5.10": page 0 + image + initrd reserved early, BIOS area / trampoline
    # (find + reserve) / [0,64K) after memblock setup; "6.1": image, [0,64K),
    # initrd and BIOS area in early_reserve_memory(), trampoline allocated,
    # then all of [0,1M) reserved.
    setup_style: str = "6.1"
    # Kernel build constants measured from the captures (fixtures/kernel/*/
    # c02_*: truth.json kernel_image and the setup_arch memblock_reserve line):
    kernel_reserve_size: int = 0x3400000     # [_text, __end_of_kernel_reserve) of the Debian image
    brk_reserve_size: int = 0x11000          # reserve_brk(): used brk (page-table buffer + 1 page)
    image_end_after_reserve: int = 0x30000   # _end - __end_of_kernel_reserve
    trampoline_size: int = 0x7000            # real_mode_size_needed()
    pgt_buf_pages: int = 16                  # INIT_PGT_BUF_SIZE / PAGE_SIZE (5-level + RANDOMIZE_MEMORY)

    # --- mm/sparse.c, mm/percpu.c, kernel/dma/swiotlb.c, free_area_init ----
    mem_section_roots_bytes: int = 32768       # "sparse_init: 32768 bytes" request (all four)
    usemap_bytes_per_section: int = 56         # sparse_init_nid usemap request / present sections
    usemap_near_pgdat: bool = True             # <= 6.12: usemaps goal = the pgdat's section
    sparse_buffer: bool = True                 # <= 6.12: one node-exact memmap block per node
    memoryless_pgdat_in_free_area_init: bool = True   # 5.10: alloc_node_data() in init_cpu_to_node
    percpu_unit_size: int = 2 << 20            # "percpu: Embedded ... u2097152" (PMD atom)
    percpu_pages_per_cpu: int = 62             # "percpu: Embedded 62 pages/cpu" (a build constant)
    swiotlb_meta_bytes: int = 786464           # swiotlb slot array + areas for 64 MiB
    # kernel image pages given back after boot ("Freeing unused decrypted memory",
    # "... kernel image (initmem|text/rodata gap|rodata/data gap)", "SMP alternatives")
    image_freed_bytes: int = (2036 + 2824 + 2040 + 1108 + 36) << 10

    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def valid_nid(self, nid: int) -> bool:
        """numa_valid_node() (6.12+) / nid != MAX_NUMNODES (<= 6.1)."""
        return 0 <= nid < self.max_numnodes

    def with_(self, **kw) -> "KernelProfile":
        return replace(self, **kw)


PROFILES: dict[str, KernelProfile] = {
    # Debian's 5.10.223 source with 2dcb39645441 reverted, built with gcc 12
    # (fixtures/kernel/5.10-seed/README.md).  Same config, so the same request
    # sizes as 5.10 in every capture (trampoline, brk, pg_data_t, percpu,
    # swiotlb); only the image is smaller.  Measured from fixtures/kernel/5.10-seed:
    "5.10-seed": KernelProfile(name="5.10-seed", release="5.10.223-seed (Debian 5.10.223 source, kernel_end rule "
                               "restored, gcc 12)", version=(5, 10),
                               # movable_node boots: trampoline top-down at 0x99000 (its window
                               # [0, 1M) ends below _end), the SLIT copy just above _end (r03)
                               bottom_up_above_kernel=True, cfmws_fake_nodes=False,
                               empty_type_dummy_region=True, mirror_needs_kernelcore_mirror=False,
                               valid_zones_rule="memmap", setup_style="5.10",
                               # c02: memblock_reserve [0x3e00000-0x3e0cfff] setup_arch (reserve_brk)
                               brk_reserve_size=0xd000,
                               # c02 truth.json kernel_image.memblock_reserve [0x1000000, 0x3e00000)
                               kernel_reserve_size=0x2E00000,
                               # c02 kernel_image.image end 0x3e2c000 (_end) - 0x3e00000
                               image_end_after_reserve=0x2c000,
                               # c02: reserve_real_mode [0x99000-0x9efff]
                               trampoline_size=0x6000, pgt_buf_pages=12,
                               memoryless_pgdat_in_free_area_init=False,
                               # c02: "percpu: Embedded 63 pages/cpu"
                               percpu_pages_per_cpu=63,
                               # c02: swiotlb_init_with_tbl requests 131072 + 262144 bytes
                               swiotlb_meta_bytes=393216,
                               # c02: "Freeing unused decrypted memory: 2036K", "... (initmem) memory:
                               # 2664K", "(text/rodata gap) 2040K", "(rodata/data gap) 2016K",
                               # "SMP alternatives memory: 32K"
                               image_freed_bytes=(2036 + 2664 + 2040 + 2016 + 32) << 10,
                               node_data_size=0x2a000),      # NODE_DATA(0) [0x17ffd6000-0x17fffffff] in c02
    "5.10": KernelProfile(name="5.10", release="5.10.223 (Debian 5.10.0-32-amd64)", version=(5, 10),
                          # 5.10.223 carries the 5.11 removal of the kernel_end rule
                          # (mm/memblock.c:memblock_find_in_range_node has none), and the
                          # captures agree: movable_node boots put the real-mode trampoline
                          # at 0x1000, bottom-up below the kernel image.
                          bottom_up_above_kernel=False, cfmws_fake_nodes=False,
                          empty_type_dummy_region=True, mirror_needs_kernelcore_mirror=False,
                          valid_zones_rule="memmap", setup_style="5.10",
                          brk_reserve_size=0xd000, kernel_reserve_size=0x3000000, image_end_after_reserve=0x2c000,
                          trampoline_size=0x6000, pgt_buf_pages=12,
                          memoryless_pgdat_in_free_area_init=False, percpu_pages_per_cpu=63,
                          swiotlb_meta_bytes=393216,
                          image_freed_bytes=(2036 + 2676 + 2040 + 560 + 32) << 10,
                          node_data_size=0x2a000),      # NODE_DATA(0) [0x17ffd6000-0x17fffffff] in c02
    "6.1": KernelProfile(name="6.1", release="6.1.192 (Debian 6.1.0-56-amd64)", version=(6, 1),
                         flag_rsrv_noinit=None,
                         node_data_size=0x2b000),       # NODE_DATA(0) [0x17ffd5000-0x17fffffff] in c02
    "6.12": KernelProfile(name="6.12", release="6.12.117 (Debian 6.12.117+deb13-amd64)", version=(6, 12),
                          default_nid=-1, flag_rsrv_noinit=0x10, memhp_default_online="online",
                          numa_valid_node_checks=True, empty_type_dummy_region=False,
                          fw_table_walker=True, srat_rintc_handler=True, srat_cpu_lines=False, nid_none=-1,
                          numa_cleanup_dram_bounds=True, numa_coverage_check="memblock",
                          numa_register_by="pfn_range", movable_node_pfn_up=True,
                          mirror_ignored_without_mirror=True, percpu_pages_per_cpu=66,
                          kernel_reserve_size=0x2C00000,
                          image_freed_bytes=(2028 + 4180 + 456 + 40) << 10,
                          node_data_size=0x2a980),      # NODE_DATA(0) [0x17ffd5680-0x17fffffff] in c02
    "7.2": KernelProfile(name="7.2", release="7.2.13 (Debian 7.2.13+deb14-amd64)", version=(7, 2),
                         default_nid=-1, flag_rsrv_noinit=0x10, flag_rsrv_kern=0x20,
                         flag_kho_scratch=0x40, memblock_reserve_nid=-1,
                         numa_valid_node_checks=True, empty_type_dummy_region=False,
                         e820_kho_scratch_low_1m=True, e820_reserved_kern=False,
                         e820_print_dialect="gaps", memhp_default_online="online",
                         fw_table_walker=True, srat_rintc_handler=True, srat_cpu_lines=False, nid_none=-1,
                         numa_cleanup_dram_bounds=True, numa_coverage_check="memblock",
                         numa_register_by="pfn_range", movable_node_pfn_up=True,
                         mirror_ignored_without_mirror=True,
                         block_size_advice=True, block_node_rule="regions",
                         usemap_bytes_per_section=88, usemap_near_pgdat=False, sparse_buffer=False,
                         percpu_pages_per_cpu=63, kernel_reserve_size=0x3200000,
                         image_freed_bytes=(2028 + 4648 + 1236 + 628 + 48) << 10,
                         node_data_size=0x2b080),       # NODE_DATA(0) [0x17ffd4f80-0x17fffffff] in c02
}

DEFAULT_PROFILE = "7.2"

# Other names accepted by --kernel.
PROFILE_ALIASES = {"seed": "5.10-seed", "pre-5.11": "5.10-seed"}

# The releases the profiles were measured from (fixtures/kernel/*/*/dmesg.txt
# "Linux version" lines): for these the choice is exact.
KNOWN_RELEASES = {
    "5.10.223-seed": "5.10-seed",
    "5.10.0-32-amd64": "5.10",
    "6.1.0-56-amd64": "6.1",
    "6.12.117+deb13-amd64": "6.12",
    "7.2.13+deb14-amd64": "7.2",
}

# Where the removal of the kernel_end rule (upstream 2dcb39645441 "memblock: do
# not start bottom-up allocations with kernel_end", 5.11-rc7, Cc: stable) reached
# each stable series: the first stable release carrying it, read from the
# stable review queues of February 2021 (5.10.15-rc1, 5.4.97-rc1, 4.19.175-rc1,
# 4.9.258-rc1 list it).  4.14.y and 4.4.y queued it in the same weeks, but at
# which point was not checked: their releases cannot tell.  Series that were
# end-of-life by then (3.13-4.3, 4.5-4.8, 4.10-4.13, 4.15-4.18, 5.0-5.3,
# 5.5-5.9) never got it upstream; distributions may have backported it.
RULE_REMOVED_IN_STABLE = {(5, 10): 15, (5, 4): 97, (4, 19): 175, (4, 9): 258}
RULE_REMOVED_UNCHECKED = {(4, 14), (4, 4)}


@dataclass(frozen=True)
class ProfileChoice:
    """The profile picked for a kernel release, why, and -- when the release
    string cannot tell whether the kernel still has the seed-era rule -- the
    profile to plan as well (the other side of that question)."""

    profile: KernelProfile
    note: str
    alternative: str | None = None     # profile name, when the choice is ambiguous
    exact: bool = False                # the very build the profile was measured from


def get_profile(name: str | None) -> KernelProfile:
    if name is None:
        return PROFILES[DEFAULT_PROFILE]
    try:
        return PROFILES[PROFILE_ALIASES.get(name, name)]
    except KeyError:
        raise UsageError(f"unknown kernel profile {name!r}; choose one of {', '.join(PROFILES)}") from None


def choose_profile(release: str) -> ProfileChoice:
    """Pick the profile whose rules a running kernel follows, from its release
    string (``uname -r`` / the ``Linux version`` line).

    5.11-6.6 -> 6.1, 6.7-6.x -> 6.12, 7.x -> 7.2.  Up to 5.10 the question is
    whether the kernel still has the bottom-up-above-the-image rule: 5.10-seed
    if it does, 5.10 if the removal reached it.  A stable release tells (see
    RULE_REMOVED_IN_STABLE); a distribution's release usually does not -- its
    "5.10.0-N", "5.4.0-N", "4.18.0-N.el8" names the ABI, not the stable point,
    and RHEL/SLES backport selectively -- so the choice then carries the other
    profile as ``alternative`` and the note says so."""
    rel = release.strip()
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(.*)$", rel)
    if not m:
        p = PROFILES[DEFAULT_PROFILE]
        return ProfileChoice(p, f"kernel release {release!r} not understood; using profile {p.name}")
    ver = (int(m.group(1)), int(m.group(2)))
    sub = int(m.group(3)) if m.group(3) else 0
    suffix = m.group(4)
    distro = bool(suffix) and not re.fullmatch(r"-rc\d+\+?", suffix)
    head = f"kernel {ver[0]}.{ver[1]}"
    known = KNOWN_RELEASES.get(rel)
    if known:
        return ProfileChoice(PROFILES[known], f"{head} -> profile {known} ({rel} is the release of the build it "
                             "was measured from)", exact=True)

    if ver >= (5, 11):
        chosen = PROFILES["7.2" if ver >= (7, 0) else "6.12" if ver >= (6, 7) else "6.1"]
        return ProfileChoice(chosen, f"{head} -> profile {chosen.name}")

    seed, plain = "5.10-seed", "5.10"
    point = RULE_REMOVED_IN_STABLE.get(ver)
    older = "" if ver == (5, 10) else " (older than every profile; the closest is used)"
    if point is not None and sub >= point:
        return ProfileChoice(PROFILES[plain], f"{head} -> profile {plain}{older}: {ver[0]}.{ver[1]}.y removed the "
                             f"bottom-up-above-the-image rule in {ver[0]}.{ver[1]}.{point}")
    if not distro and ver not in RULE_REMOVED_UNCHECKED:
        why = (f"before {ver[0]}.{ver[1]}.{point}, which removed it" if point is not None
               else "a series the removal never reached upstream")
        return ProfileChoice(PROFILES[seed], f"{head} -> profile {seed}{older}: still has the "
                             f"bottom-up-above-the-image rule ({why})")
    # the release string cannot tell
    if point is not None and sub == 0:
        where = (f"'{ver[0]}.{ver[1]}.0-…' names the ABI, not the {ver[0]}.{ver[1]}.y point it is built from; "
                 f"{ver[0]}.{ver[1]}.y removed the rule in {ver[0]}.{ver[1]}.{point}")
    elif point is not None:
        where = (f"a distribution build of {ver[0]}.{ver[1]}.{sub} may have taken the removal "
                 f"({ver[0]}.{ver[1]}.y has it from {ver[0]}.{ver[1]}.{point})")
    elif ver in RULE_REMOVED_UNCHECKED:
        where = f"{ver[0]}.{ver[1]}.y took the removal in early 2021 at a point not checked"
    else:
        where = (f"upstream {ver[0]}.{ver[1]} never got the removal, but a distribution kernel "
                 "(RHEL, SLES, Ubuntu) may have backported it")
    # A "5.10.0-N" distribution kernel (Debian bullseye's, as released) is
    # built from a 5.10.y past 5.10.15; other undecided releases are the seed
    # era's (RHEL 7/8, Ubuntu 18.04/20.04, SLES 15, a patched early 5.10.y)
    chosen, alt = (plain, seed) if ver == (5, 10) and sub == 0 else (seed, plain)
    note = (f"{head} -> profile {chosen}{older}; the release string cannot tell whether this kernel still has the "
            f"bottom-up-above-the-image rule ({where}): profile {alt} is the alternative")
    return ProfileChoice(PROFILES[chosen], note, alternative=alt)


def profile_for_release(release: str) -> tuple[KernelProfile, str]:
    """:func:`choose_profile` as (profile, sentence saying what was chosen)."""
    c = choose_profile(release)
    return c.profile, c.note


def alternative_profile(release: str) -> str | None:
    """The other profile to plan when the release string cannot tell whether
    the kernel has the bottom-up-above-the-image rule; None when it can."""
    return choose_profile(release).alternative
