"""How Linux reads the SRAT, SLIT and CEDT at boot on x86-64.

Mirrors ``drivers/acpi/numa/srat.c`` (acpi_numa_init, acpi_map_pxm_to_node,
acpi_numa_memory_affinity_init / acpi_parse_memory_affinity, acpi_parse_slit,
acpi_parse_cfmws), ``arch/x86/mm/srat.c`` (the LAPIC / x2APIC handlers) and
the subtable walker ``drivers/acpi/tables.c:acpi_parse_entries_array``, for
kernels 5.10, 6.1, 6.12 and 7.2 (differences come from the kernel profile).

The walk works on the table's raw bytes exactly as the kernel does, not on the
decoder's model: the kernel does not check that a subtable fits in the table,
aborts on a zero-length subtable, and stops calling handlers of a pass once one
of them failed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .printk import KernelLog
from .profile import KernelProfile

NUMA_NO_NODE = -1
LOCAL_DISTANCE = 10
MAX_LOCAL_APIC = 32768

# SRAT subtable types (include/acpi/actbl3.h)
CPU_AFFINITY, MEMORY_AFFINITY, X2APIC_CPU_AFFINITY, GICC_AFFINITY = 0, 1, 2, 3
GIC_ITS_AFFINITY, GENERIC_AFFINITY, GENERIC_PORT_AFFINITY, RINTC_AFFINITY = 4, 5, 6, 7

MEM_ENABLED, MEM_HOT_PLUGGABLE, MEM_NON_VOLATILE = 0x1, 0x2, 0x4
CPU_ENABLED = 0x1
GI_ENABLED = 0x1

SRAT_HEADER_SIZE = 48  # sizeof(struct acpi_table_srat)


@dataclass(frozen=True)
class SratCpu:
    offset: int
    type: int
    pxm: int
    apic_id: int
    node: int


@dataclass(frozen=True)
class SratMem:
    """One memory-affinity entry the kernel accepted (an ``ACPI: SRAT: Node`` line)."""

    offset: int
    pxm: int
    node: int
    start: int
    end: int
    hotplug: bool
    nonvolatile: bool


@dataclass(frozen=True)
class NumaMemblk:
    start: int
    end: int
    nid: int


@dataclass
class PxmMap:
    """pxm_to_node_map / node_to_pxm_map (static in the kernel: never reset)."""

    max_numnodes: int
    max_pxm_domains: int
    pxm_to_node: dict = field(default_factory=dict)
    node_to_pxm: dict = field(default_factory=dict)
    numa_off: bool = False

    def map(self, pxm: int) -> int:
        # acpi_map_pxm_to_node(): pxm is an int in C, so a u32 above INT_MAX is negative
        if pxm >= 1 << 31:
            pxm -= 1 << 32
        if pxm < 0 or pxm >= self.max_pxm_domains or self.numa_off:
            return NUMA_NO_NODE
        node = self.pxm_to_node.get(pxm)
        if node is None:
            if len(self.node_to_pxm) >= self.max_numnodes:
                return NUMA_NO_NODE
            node = 0
            while node in self.node_to_pxm:  # first_unset_node(nodes_found_map)
                node += 1
            self.pxm_to_node[pxm] = node
            if node not in self.node_to_pxm or pxm < self.node_to_pxm[node]:
                self.node_to_pxm[node] = pxm
        return node

    def lookup(self, pxm: int) -> int:
        """pxm_to_node(): no new mapping."""
        if self.numa_off:
            return NUMA_NO_NODE
        return self.pxm_to_node.get(pxm, NUMA_NO_NODE)


@dataclass
class SratResult:
    """What acpi_numa_init() left behind (one attempt)."""

    revision: int | None = None
    cpus: list = field(default_factory=list)
    mems: list = field(default_factory=list)
    memblks: list = field(default_factory=list)       # numa_meminfo, in add order
    nodes_parsed: set = field(default_factory=set)
    gi_nodes: set = field(default_factory=set)
    hotplug_marks: list = field(default_factory=list)  # (base, size) passed to memblock_mark_hotplug
    max_possible_pfn: int = 0
    bad_srat: str | None = None          # why bad_srat() fired
    zero_length_at: int | None = None     # offset of a zero-length subtable (memory pass)
    memory_pass_rc: int = 0
    parsed_numa_memblks: int = 0
    slit_used: bool = False
    slit_distance: dict = field(default_factory=dict)   # (from_node, to_node) -> distance
    cfmws_nodes: list = field(default_factory=list)     # (node, fake_pxm, start, end)
    filled_by_cfmws: list = field(default_factory=list)
    log: KernelLog = field(default_factory=KernelLog)
    rc: int = 0                           # x86_acpi_numa_init() return value

    @property
    def failed(self) -> bool:
        return self.rc < 0


def _u8(b, o):
    return b[o] if o < len(b) else 0


_STRUCTS: dict = {}


def _read(raw: bytes, off: int, fmt: str):
    """Read little-endian fields; bytes beyond the data read as 0 (they are
    memory the kernel would read past the table; the decoder reports them)."""
    st = _STRUCTS.get(fmt)
    if st is None:
        st = _STRUCTS[fmt] = struct.Struct(fmt)
    if 0 <= off and off + st.size <= len(raw):
        return st.unpack_from(raw, off)
    chunk = raw[off:off + st.size]
    return st.unpack(chunk + bytes(st.size - len(chunk)))


def walk_entries(raw: bytes, table_end: int, header_size: int, procs, log, sig="SRAT",
                 stop_on_error: bool = False):
    """acpi_parse_entries_array(): call ``procs`` (list of [type, handler,
    count]) for matching subtables.  Returns (rc, zero_length_offset).

    Up to 6.1 (drivers/acpi/tables.c) a failing handler only stops later
    handler calls of the pass; from 6.8 (lib/fw_table.c) the walk returns
    -EINVAL at once."""
    errs = 0
    count = 0
    entry = header_size
    by_type: dict = {}
    for proc in procs:
        by_type.setdefault(proc[0], []).append(proc)
    none: list = []
    n = len(raw)
    # the loop condition only checks that the 2-byte subtable header starts
    # before the end: a trailing 1-2 byte stub is ignored
    while entry + 2 < table_end:
        etype = raw[entry] if entry < n else 0
        matched = False
        for proc in by_type.get(etype, none):
            if stop_on_error:
                if proc[1] is not None and proc[1](entry):
                    return -22, None
            elif proc[1] is None or (not errs and proc[1](entry)):
                errs += 1
                continue
            proc[2] += 1
            matched = True
            break
        if matched:
            count += 1
        elen = raw[entry + 1] if entry + 1 < n else 0
        if elen == 0:
            log.append(f"ACPI: [{sig}:0x{procs[0][0]:02x}] Invalid zero length")
            return -22, entry
        entry += elen
    return (-22 if errs else count), None


def acpi_numa_init(
    srat_raw: bytes | None,
    *,
    profile: KernelProfile,
    memblock,
    pxm: PxmMap,
    meminfo,
    slit_raw: bytes | None = None,
    cfmws_windows=(),
    acpi_disabled: bool = False,
    srat_disabled: bool = False,
    x2apic_mode: bool = True,
) -> SratResult:
    """x86_acpi_numa_init() -> acpi_numa_init() on raw table bytes.

    ``memblock`` receives memblock_mark_hotplug() calls; ``meminfo`` (numa.py's
    NumaMeminfo) receives accepted ranges through ``add`` (returns <0 on
    overflow) and CFMWS windows through ``fill``.
    ``srat_disabled`` models ``numa=noacpi`` (acpi_numa < 0).
    """
    res = SratResult()
    log = res.log
    if acpi_disabled:
        res.rc = -22
        return res
    disabled = [srat_disabled]

    def bad_srat(why):
        if res.bad_srat is None:
            res.bad_srat = why
        log.append("ACPI: SRAT: SRAT not used.")
        disabled[0] = True

    cnt = 0
    if srat_raw is not None and len(srat_raw) >= 36:
        (table_len,) = _read(srat_raw, 4, "<I")
        res.revision = _u8(srat_raw, 8)
        rev = res.revision
        table_end = table_len

        cpu_lines = profile.srat_cpu_lines

        def add_cpu(off, kind, p, apic_id, width):
            """The common tail of the LAPIC and x2APIC handlers: map the PXM
            (failure discards the SRAT), record APIC -> node."""
            node = pxm.map(p)
            if node < 0:
                log.append(f"SRAT: Too many proximity domains {p:x}")
                bad_srat(f"too many proximity domains (PXM {p})")
                return 0
            if apic_id >= MAX_LOCAL_APIC:
                log.append(f"SRAT: PXM {p} -> APIC 0x{apic_id:0{width}x} -> Node {node} "
                           "skipped apicid that is too big")
                return 0
            res.cpus.append(SratCpu(off, kind, p, apic_id, node))
            res.nodes_parsed.add(node)
            if cpu_lines:
                log.printf("SRAT: PXM {} -> APIC 0x{:0{}x} -> Node {}", p, apic_id, width, node)
            return 0

        def cpu_handler(off):
            length = _u8(srat_raw, off + 1)
            if disabled[0]:
                return 0
            if length != 16:
                bad_srat(f"LAPIC affinity subtable at 0x{off:x} has length {length}, not 16")
                return 0
            (_t, _l, pxm_lo, apic_id, flags, sapic_eid) = _read(srat_raw, off, "<BBBBIB")
            if not flags & CPU_ENABLED:
                return 0
            p = pxm_lo
            if rev >= 2:
                # the kernel reads a u32 at proximity_domain_hi (picking up the
                # first clock_domain byte) and shifts it left by 8 in an int
                (hi32,) = _read(srat_raw, off + 9, "<I")
                p |= (hi32 << 8) & 0xFFFFFFFF
            return add_cpu(off, CPU_AFFINITY, p, apic_id, 2)

        def x2apic_handler(off):
            length = _u8(srat_raw, off + 1)
            if disabled[0]:
                return 0
            if length < 24:
                bad_srat(f"x2APIC affinity subtable at 0x{off:x} has length {length} < 24")
                return 0
            (p, apic_id, flags) = _read(srat_raw, off + 4, "<III")
            if not flags & CPU_ENABLED:
                return 0
            if not (apic_id < 255 or x2apic_mode):
                log.append(f"SRAT: PXM {p} -> X2APIC 0x{apic_id:04x} ignored")
                return 0
            return add_cpu(off, X2APIC_CPU_AFFINITY, p, apic_id, 4)

        def gicc_handler(off):
            return 0  # x86: acpi_numa_gicc_affinity_init is an empty stub

        def gi_handler(off):
            # acpi_parse_gi_affinity(): a disabled entry returns -EINVAL, which
            # makes the walker skip every later CPU-pass entry
            (p,) = _read(srat_raw, off + 4, "<I")
            (flags,) = _read(srat_raw, off + 24, "<I")
            if not flags & GI_ENABLED:
                return -22
            node = pxm.map(p)
            if node == NUMA_NO_NODE:
                log.append("SRAT: Too many proximity domains.")
                return -22
            res.nodes_parsed.add(node)
            res.gi_nodes.add(node)
            return 0

        def rintc_handler(off):
            return 0  # RISC-V only; a no-op stub on x86

        procs = [[CPU_AFFINITY, cpu_handler, 0], [X2APIC_CPU_AFFINITY, x2apic_handler, 0],
                 [GICC_AFFINITY, gicc_handler, 0], [GENERIC_AFFINITY, gi_handler, 0]]
        if profile.srat_rintc_handler:
            procs.append([RINTC_AFFINITY, rintc_handler, 0])
        walk_entries(srat_raw, table_end, SRAT_HEADER_SIZE, procs, log,
                     stop_on_error=profile.fw_table_walker)

        def mem_handler(off):
            length = _u8(srat_raw, off + 1)
            if disabled[0]:
                return 0
            if length < 40:
                log.append(f"SRAT: Unexpected header length: {length}")
                bad_srat(f"memory affinity subtable at 0x{off:x} has length {length} < 40")
                return 0
            (p, _r1, base, size, _r2, flags) = _read(srat_raw, off + 2, "<IHQQII")
            if not flags & MEM_ENABLED:
                return 0
            hotpluggable = bool(flags & MEM_HOT_PLUGGABLE)
            start = base
            end = (base + size) & 0xFFFFFFFFFFFFFFFF
            if rev <= 1:
                p &= 0xFF
            node = pxm.map(p)
            if node == NUMA_NO_NODE:
                log.append("SRAT: Too many proximity domains.")
                bad_srat(f"proximity domain {p} cannot be mapped to a node")
                return 0
            if meminfo.add(node, start, end) < 0:
                log.append(f"SRAT: Failed to add memblk to node {node} [mem {start:#010x}-{(end - 1) & 0xFFFFFFFFFFFFFFFF:#010x}]")
                bad_srat("more memory ranges than NR_NODE_MEMBLKS")
                return 0
            res.nodes_parsed.add(node)
            res.mems.append(SratMem(off, p, node, start, end, hotpluggable, bool(flags & MEM_NON_VOLATILE)))
            log.printf("ACPI: SRAT: Node {} PXM {} [mem {:#010x}-{:#010x}]{}{}", node, p, start,
                       (end - 1) & 0xFFFFFFFFFFFFFFFF, " hotplug" if hotpluggable else "",
                       " non-volatile" if flags & MEM_NON_VOLATILE else "")
            if hotpluggable:
                res.hotplug_marks.append((start, size))
                memblock.mark_hotplug(start, size)
            if end > 0:
                res.max_possible_pfn = max(res.max_possible_pfn, (end - 1 + 4095) >> 12)
            res.parsed_numa_memblks += 1
            return 0

        mprocs = [[MEMORY_AFFINITY, mem_handler, 0]]
        cnt, zero_at = walk_entries(srat_raw, table_end, SRAT_HEADER_SIZE, mprocs, log,
                                    stop_on_error=profile.fw_table_walker)
        res.zero_length_at = zero_at
        res.memory_pass_rc = cnt

    # SLIT: acpi_parse_slit() -> acpi_numa_slit_init()
    if slit_raw is not None and len(slit_raw) >= 44:
        (count,) = _read(slit_raw, 36, "<Q")
        valid = count < 1 << 16 and len(slit_raw) >= 44 + count * count
        if valid:
            ent = slit_raw[44:44 + count * count]
            for i in range(count):
                for j in range(count):
                    v = ent[i * count + j]
                    if (i == j and v != LOCAL_DISTANCE) or (i != j and v <= LOCAL_DISTANCE):
                        valid = False
                        break
                if not valid:
                    break
        if not valid:
            log.append("SLIT table looks invalid. Not used.")
        else:
            res.slit_used = True
            for i in range(count):
                fn = pxm.lookup(i)
                if fn == NUMA_NO_NODE:
                    continue
                for j in range(count):
                    tn = pxm.lookup(j)
                    if tn == NUMA_NO_NODE:
                        continue
                    res.slit_distance[(fn, tn)] = slit_raw[44 + i * count + j]

    # CXL CFMWS windows become fake nodes after SRAT and SLIT
    if profile.cfmws_fake_nodes and cfmws_windows:
        fake = max(pxm.node_to_pxm.values(), default=-1) + 1
        for (start, end) in cfmws_windows:
            if meminfo.fill(start, end):
                res.filled_by_cfmws.append((start, end))
                continue
            node = pxm.map(fake)
            if node == NUMA_NO_NODE:
                log.append("ACPI NUMA: Too many proximity domains while processing CFMWS.")
                break
            meminfo.add(node, start, end)
            res.nodes_parsed.add(node)
            res.cfmws_nodes.append((node, fake, start, end))
            fake += 1

    if srat_raw is None:
        res.rc = -2  # no SRAT: acpi_table_parse fails, cnt stays 0 -> -ENOENT
    elif cnt < 0:
        res.rc = cnt
    elif res.parsed_numa_memblks == 0:
        res.rc = -2
    else:
        res.rc = 0
    if res.rc == 0 and disabled[0]:
        res.rc = -22  # x86_acpi_numa_init(): srat_disabled() after a bad_srat()
    return res
