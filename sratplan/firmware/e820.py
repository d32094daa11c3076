"""The x86 e820 memory map and the kernel's own rules for it.

Mirrors ``arch/x86/kernel/e820.c`` (``e820__update_table``,
``__e820__range_update``, ``e820__range_remove``, ``parse_memopt``,
``parse_memmap_one``, ``e820_end_pfn``, ``e820__memblock_setup``,
``e820_print_type``, ``e820_type_to_string``) and ``arch/x86/kernel/setup.c``
(``trim_bios_range``, ``e820_add_kernel_range``) plus ``mm/memblock.c``
(``memblock_trim_memory``), checked against the Debian sources of 5.10.223,
6.1.192, 6.12.117 and 7.2.13 and against every kernel-truth capture in
``fixtures/kernel``.

Differences between those versions that matter here:

* 7.x prints ``System RAM`` / ``device reserved`` / ``persistent RAM (type N)``
  instead of ``usable`` / ``reserved`` / ``persistent (type N)`` and
  interleaves ``[gap …]`` lines (``e820__print_table``).
* 7.x dropped ``E820_TYPE_RESERVED_KERN`` (128): a firmware entry of type 128
  is then just an unknown type — not memory — where 5.10–6.12 fed it to
  memblock as RAM.  Asked through ``KernelProfile`` (see
  :func:`reserved_kern_is_ram`).

Readers for the many textual and binary forms of the map live in
:mod:`sratplan.firmware.e820_readers`; they are re-exported here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

from ..findings import Finding, Severity
from ..records import field, record, replace
from ..units import PAGE_SIZE, PAGE_SHIFT, U64_MASK

# arch/x86/include/asm/e820/types.h: E820_MAX_ENTRIES = E820_MAX_ENTRIES_ZEROPAGE
# + 3*MAX_NUMNODES; Debian amd64 builds with NODES_SHIFT=10 (MAX_NUMNODES 1024).
E820_MAX_ENTRIES_ZEROPAGE = 128
E820_MAX_ENTRIES = E820_MAX_ENTRIES_ZEROPAGE + 3 * 1024

# arch/x86/include/asm/e820/types.h (legacy ranges).
ISA_START_ADDRESS = 0xA0000
ISA_END_ADDRESS = 0x100000
BIOS_BEGIN = 0xA0000
BIOS_END = 0x100000
HIGH_MEMORY = 0x100000
LOWMEMSIZE = 0x9F000          # arch/x86/include/asm/setup.h LOWMEMSIZE()

# MAX_ARCH_PFN on x86_64 with 4-level paging: 1 << (MAX_PHYSMEM_BITS 46 - PAGE_SHIFT)
# (arch/x86/include/asm/page_64_types.h); printed as "max_arch_pfn = 0x400000000".
MAX_ARCH_PFN = 1 << (46 - PAGE_SHIFT)
MAX_ARCH_PFN_5LEVEL = 1 << (52 - PAGE_SHIFT)


class E820Type(enum.IntEnum):
    """``enum e820_type`` (arch/x86/include/asm/e820/types.h)."""

    RAM = 1
    RESERVED = 2
    ACPI = 3
    NVS = 4
    UNUSABLE = 5
    PMEM = 7
    PRAM = 12
    RESERVED_KERN = 128
    SOFT_RESERVED = 0xEFFFFFFF


# /sys/firmware/memmap and /proc/iomem only say "Unknown E820 type" for any
# value the kernel has no name for: the number is lost.  sratplan keeps such
# entries with this out-of-u32 marker (it orders above every real type, which
# is harmless because those maps are already sanitised).
E820_TYPE_UNKNOWN = 1 << 32

DIALECT_CLASSIC = "classic"   # 3.x .. 6.x: "BIOS-e820: [mem 0x…-0x…] usable"
DIALECT_GAPS = "gaps"         # ~6.16 .. 7.x: "System RAM", "device reserved", [gap …]
DIALECT_OLD = "old"           # <= ~3.5: " BIOS-e820: %016Lx - %016Lx (usable)", end exclusive


def type_name(t: int, dialect: str = DIALECT_CLASSIC) -> str:
    """The name ``e820_print_type`` prints for type *t* in a log dialect."""
    if t == E820_TYPE_UNKNOWN:
        return "unknown type"
    if dialect == DIALECT_GAPS:
        names = {1: "System RAM", 2: "device reserved", 0xEFFFFFFF: "soft reserved", 3: "ACPI data",
                 4: "ACPI NVS", 5: "unusable"}
        if t in names:
            return names[t]
        if t in (7, 12):
            return f"persistent RAM (type {t})"
        return f"type {t}"
    if dialect == DIALECT_OLD:
        names = {1: "(usable)", 128: "(usable)", 2: "(reserved)", 3: "(ACPI data)", 4: "(ACPI NVS)",
                 5: "(unusable)"}
        return names.get(t, f"type {t}")
    names = {1: "usable", 128: "usable", 2: "reserved", 0xEFFFFFFF: "soft reserved", 3: "ACPI data",
             4: "ACPI NVS", 5: "unusable"}
    if t in names:
        return names[t]
    if t in (7, 12):
        return f"persistent (type {t})"
    return f"type {t}"


def firmware_memmap_name(t: int) -> str:
    """The string ``/sys/firmware/memmap/N/type`` (and /proc/iomem) shows:
    ``e820_type_to_string``."""
    return {
        1: "System RAM", 128: "System RAM", 3: "ACPI Tables", 4: "ACPI Non-volatile Storage",
        5: "Unusable memory", 12: "Persistent Memory (legacy)", 7: "Persistent Memory",
        2: "Reserved", 0xEFFFFFFF: "Soft Reserved",
    }.get(t, "Unknown E820 type")


def type_label(t: int) -> str:
    """A short stable name for tables and JSON (``RAM``, ``RESERVED``, …, ``type 9``)."""
    if t == E820_TYPE_UNKNOWN:
        return "UNKNOWN"
    try:
        return E820Type(t).name
    except ValueError:
        return f"type {t}"


@record(frozen=True, order=True)
class E820Entry:
    """One e820 entry ``[start, start + size)`` of a 32-bit type.

    ``start`` and ``size`` are u64 values; ``end`` may therefore be up to 2**64
    (an entry reaching the very top).  Entries whose end would pass 2**64 are
    representable (the kernel sees them in boot_params) and make
    :func:`sanitize` refuse the whole table, exactly like the kernel.
    """

    start: int
    size: int
    type: int

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def last(self) -> int:
        """Inclusive end, as the kernel prints it."""
        return self.start + self.size - 1

    @property
    def type_label(self) -> str:
        return type_label(self.type)

    def overflows(self) -> bool:
        return self.start + self.size > 1 << 64

    def to_json(self) -> dict:
        return {"start": f"0x{self.start:x}", "end": f"0x{self.end:x}", "size": f"0x{self.size:x}",
                "type": self.type if self.type != E820_TYPE_UNKNOWN else None, "type_name": self.type_label}


@record(frozen=True)
class E820Table:
    """An e820 map as read from one source.

    ``entries`` are in source order (the kernel keeps table order; the readers
    never re-sort).  ``source`` says where it came from (``dmesg``,
    ``firmware-memmap``, ``boot_params``, ``text``, ``json``, ``iomem``).
    ``user`` holds the ``user:`` re-print (after ``mem=``/``memmap=``) when a
    log has one; ``label`` is the kernel's ``who`` (``BIOS-e820``, ``BIOS-88``,
    ``BIOS-e801``) when known; ``dialect`` the log dialect when read from a log.
    """

    entries: tuple[E820Entry, ...]
    source: str = "unknown"
    findings: tuple[Finding, ...] = ()
    user: tuple[E820Entry, ...] | None = None
    label: str | None = None
    dialect: str | None = None
    path: str | None = None

    def sanitized(self) -> tuple[E820Entry, ...]:
        return sanitize(self.entries)

    def ram(self) -> tuple[E820Entry, ...]:
        return tuple(e for e in self.entries if e.type == E820Type.RAM)

    def with_findings(self, more: Iterable[Finding]) -> "E820Table":
        return replace(self, findings=self.findings + tuple(more))

    def to_json(self) -> dict:
        d = {"source": self.source, "entries": [e.to_json() for e in self.entries]}
        if self.user is not None:
            d["user"] = [e.to_json() for e in self.user]
        if self.label:
            d["label"] = self.label
        d["findings"] = [f.to_json() for f in self.findings]
        return d


def _finding(code: str, sev: Severity, msg: str, where: str | None = None) -> Finding:
    return Finding(code=code, severity=sev, message=msg, table="e820", where=where)


# ---------------------------------------------------------------------------
# e820__update_table: the change-point sanitiser


def _nomerge(t: int) -> bool:
    # e820_nomerge()/!e820_type_mergeable(): PRAM and soft-reserved ranges may
    # mark NUMA or protection-domain boundaries, so equal neighbours are kept
    # apart -- in fact they are split at every change point of *any* entry.
    return t in (E820Type.PRAM, E820Type.SOFT_RESERVED)


def update_table(entries: Sequence[E820Entry], max_entries: int = E820_MAX_ENTRIES
                 ) -> tuple[tuple[E820Entry, ...], bool]:
    """``e820__update_table``: returns ``(entries, changed)``.

    ``changed`` is False when the kernel returns -1 and leaves the table as it
    is: fewer than two entries, or any entry whose ``addr + size`` wraps past
    2**64.  Otherwise entries are split at every start/end point, the highest
    type number wins where they overlap, equal neighbours merge (not PRAM or
    soft-reserved), zero-size entries vanish and the result is sorted.  At most
    *max_entries* come out (the kernel stops filling when its array is full).
    """
    if len(entries) < 2:
        return tuple(entries), False
    for e in entries:
        # "addr + size < addr" in u64: any entry reaching 2**64 or beyond
        # (even one ending exactly there) makes the kernel give up.
        if e.size and e.start + e.size > U64_MASK:
            return tuple(entries), False

    # Change points: (address, is_end, entry index).  cpcompare() orders by
    # address, then starts before ends; ties among starts (or among ends) do
    # not change the result (types only rise through the starts of one
    # address and only fall through its ends).
    points = []
    for i, e in enumerate(entries):
        if e.size:
            points.append((e.start, 0, i))
            points.append((e.start + e.size, 1, i))
    points.sort()

    out: list[E820Entry] = []
    overlap: list[int] = []
    last_type = 0
    last_addr = 0
    cur_start = 0
    cur_type = 0
    open_entry = False
    for addr, is_end, idx in points:
        if not is_end:
            overlap.append(idx)
        else:
            overlap.remove(idx)
        current = 0
        for j in overlap:
            t = entries[j].type
            if t > current:
                current = t
        if current != last_type or _nomerge(current):
            if last_type != 0:
                size = addr - last_addr
                if size != 0 and open_entry:
                    out.append(E820Entry(cur_start, size, cur_type))
                    open_entry = False
                    if len(out) >= max_entries:
                        break
            if current != 0:
                cur_start, cur_type, open_entry = addr, current, True
                last_addr = addr
            last_type = current
    return tuple(out), True


def sanitize(entries: Iterable[E820Entry], max_entries: int = E820_MAX_ENTRIES) -> tuple[E820Entry, ...]:
    """The sanitised map (``e820__update_table``); the input unchanged when the
    kernel would refuse to sanitise it (see :func:`update_table`)."""
    return update_table(tuple(entries), max_entries)[0]


# ---------------------------------------------------------------------------
# In-place edits of an unsanitised table, exactly as the kernel does them.


class _Table:
    """A mutable e820 table with the kernel's fixed capacity."""

    def __init__(self, entries: Iterable[E820Entry], cap: int = E820_MAX_ENTRIES,
                 dialect: str = DIALECT_CLASSIC):
        self.e: list[list[int]] = [[x.start, x.size, x.type] for x in entries]
        self.cap = cap
        self.findings: list[Finding] = []
        self.dialect = dialect
        # The KERN_DEBUG lines the kernel prints for each edit (visible with
        # ignore_loglevel/debug): "e820: update [mem …] usable ==> reserved".
        self.log: list[str] = []

    def add(self, start: int, size: int, typ: int) -> None:
        # __e820__range_add(): a full table drops the range with an error.
        if len(self.e) >= self.cap:
            self.findings.append(_finding(
                "E820_TABLE_FULL", Severity.ERROR,
                f"the kernel's e820 table is full ({self.cap} entries): it ignores "
                f"[mem {start:#010x}-{(start + size - 1) & U64_MASK:#010x}] (\"too many entries\")"))
            return
        self.e.append([start & U64_MASK, size & U64_MASK, typ])

    def update(self, start: int, size: int, old: int, new: int) -> int:
        """__e820__range_update(): retype *old*-typed parts of [start, start+size)."""
        if size > U64_MASK - start:
            size = U64_MASK - start
        end = start + size
        self.log.append(f"e820: update [mem {start:#010x}-{(end - 1) & U64_MASK:#010x}] "
                        f"{type_name(old, self.dialect)} ==> {type_name(new, self.dialect)}")
        done = 0
        # The kernel's loop also visits entries appended during it; those are
        # either of the new type or a tail starting at `end`, which no branch
        # can change, so walking the original entries is equivalent.
        for ent in list(self.e):
            if ent[2] != old:
                continue
            e_end = ent[0] + ent[1]
            if ent[0] >= start and e_end <= end:
                ent[2] = new
                done += ent[1]
                continue
            if ent[0] < start and e_end > end:
                self.add(start, size, new)
                self.add(end, e_end - end, ent[2])
                ent[1] = start - ent[0]
                done += size
                continue
            fs, fe = max(start, ent[0]), min(end, e_end)
            if fs >= fe:
                continue
            self.add(fs, fe - fs, new)
            done += fe - fs
            ent[1] -= fe - fs
            if ent[0] < fs:
                continue
            ent[0] = fe
        return done

    def remove(self, start: int, size: int, old: int, check_type: bool) -> int:
        """e820__range_remove(): drop (*old*-typed, if *check_type*) parts."""
        if size > U64_MASK - start:
            size = U64_MASK - start
        end = start + size
        self.log.append(f"e820: remove [mem {start:#010x}-{(end - 1) & U64_MASK:#010x}]"
                        + (f" {type_name(old, self.dialect)}" if check_type else ""))
        done = 0
        for ent in list(self.e):
            if check_type and ent[2] != old:
                continue
            e_end = ent[0] + ent[1]
            if ent[0] >= start and e_end <= end:
                # memset(entry, 0): the slot stays until the next sanitise.
                done += ent[1]
                ent[0], ent[1], ent[2] = 0, 0, 0
                continue
            if ent[0] < start and e_end > end:
                self.add(end, e_end - end, ent[2])
                ent[1] = start - ent[0]
                done += size
                continue
            fs, fe = max(start, ent[0]), min(end, e_end)
            if fs >= fe:
                continue
            done += fe - fs
            ent[1] -= fe - fs
            if ent[0] < fs:
                continue
            ent[0] = fe
        return done

    def entries(self) -> tuple[E820Entry, ...]:
        return tuple(E820Entry(s, z, t) for s, z, t in self.e)


# ---------------------------------------------------------------------------
# mem= / memmap= (parse_memopt, parse_memmap_one) and the user map


@record(frozen=True)
class MemmapOp:
    """One ``memmap=`` item as the kernel understood it.

    ``kind``: ``exactmap``, ``add`` (``N@S`` RAM, ``N#S`` ACPI, ``N$S``
    reserved, ``N!S`` PRAM, ``N%S+T`` add type T), ``update`` (``N%S-F+T``),
    ``remove`` (``N%S-F`` only type F, ``N%S`` any type) or ``limit``
    (plain ``memmap=N``, like ``mem=N``).  ``applied`` is False when the kernel
    parsed nothing useful (it returned -EINVAL *before* touching the table);
    ``malformed`` is True when it printed "Malformed early option" (which can
    happen *after* the table was already changed, e.g. trailing junk).
    """

    text: str
    kind: str
    size: int = 0
    start: int = 0
    type: int = 0
    old_type: int = 0
    applied: bool = True
    malformed: bool = False
    userdef: bool = True


def parse_memmap_item(text: str) -> MemmapOp:
    """``parse_memmap_one`` for one comma-separated ``memmap=`` item."""
    from ..units import memparse, simple_strtoull

    if text.startswith("exactmap"):
        # strncmp(p, "exactmap", 8): anything after it is ignored.
        return MemmapOp(text, "exactmap")
    size, p = memparse(text, 0)
    if p == 0:
        return MemmapOp(text, "invalid", applied=False, malformed=True, userdef=False)
    c = text[p:p + 1]
    kinds = {"@": E820Type.RAM, "#": E820Type.ACPI, "$": E820Type.RESERVED, "!": E820Type.PRAM}
    if c in kinds:
        start, p = memparse(text, p + 1)
        return MemmapOp(text, "add", size=size, start=start, type=int(kinds[c]), malformed=p != len(text))
    if c == "%":
        start, p = memparse(text, p + 1)
        old = new = 0
        if text[p:p + 1] == "-":
            old, p = simple_strtoull(text, p + 1, 0)
        if text[p:p + 1] == "+":
            new, p = simple_strtoull(text, p + 1, 0)
        # enum e820_type is a 32-bit value: a longer number is truncated.
        old &= 0xFFFFFFFF
        new &= 0xFFFFFFFF
        if p != len(text):
            return MemmapOp(text, "invalid", size=size, start=start, applied=False, malformed=True)
        if old and new:
            if old == new:
                # __e820__range_update() BUG_ON(old_type == new_type): the
                # kernel would crash here; sratplan refuses to model it.
                return MemmapOp(text, "update-same-type", size=size, start=start, type=new, old_type=old,
                                applied=False, malformed=True)
            return MemmapOp(text, "update", size=size, start=start, type=new, old_type=old)
        if new:
            return MemmapOp(text, "add", size=size, start=start, type=new)
        return MemmapOp(text, "remove", size=size, start=start, old_type=old)
    return MemmapOp(text, "limit", size=size, malformed=p != len(text))


def _apply_memmap(tab: _Table, op: MemmapOp) -> None:
    if not op.applied:
        return
    if op.kind == "exactmap":
        tab.e.clear()
    elif op.kind == "add":
        tab.add(op.start, op.size, op.type)
    elif op.kind == "update":
        tab.update(op.start, op.size, op.old_type, op.type)
    elif op.kind == "remove":
        tab.remove(op.start, op.size, op.old_type, bool(op.old_type))
    elif op.kind == "limit":
        tab.remove(op.size, U64_MASK - op.size, E820Type.RAM, True)


def apply_cmdline(table: E820Table | Sequence[E820Entry], cmdline=None, *,
                  max_entries: int = E820_MAX_ENTRIES) -> E820Table:
    """Apply ``mem=`` and every ``memmap=`` form in command-line order and
    sanitise, as ``parse_early_param`` + ``e820__finish_early_params`` do.

    Returns the map the kernel then prints as ``user:`` (``source="user"``),
    or the input map (sanitised) when the command line defines nothing.  When
    the kernel would refuse the user map (fewer than two entries, e.g.
    ``memmap=exactmap`` plus a single range) it panics with "Invalid user
    supplied memory map": that is an error finding and the unsanitised table is
    returned.  *cmdline* is a :class:`~sratplan.kernel.cmdline.KernelCmdline`,
    a string, or None.
    """
    return _apply_cmdline(table, cmdline, max_entries=max_entries)[0]


def _apply_cmdline(table, cmdline=None, *, max_entries: int = E820_MAX_ENTRIES,
                   dialect: str = DIALECT_CLASSIC) -> tuple[E820Table, list[str]]:
    """The same, plus the "e820: update/remove" lines the edits print."""
    from ..kernel.cmdline import KernelCmdline, parse_cmdline

    if isinstance(table, E820Table):
        base = table.entries
        src = table
    else:
        base = tuple(table)
        src = E820Table(entries=base, source="entries")
    if cmdline is None:
        cl = parse_cmdline("")
    elif isinstance(cmdline, KernelCmdline):
        cl = cmdline
    else:
        cl = parse_cmdline(str(cmdline))
    tab = _Table(sanitize(base, max_entries), max_entries, dialect)
    userdef = False
    for kind, value in cl.memory_map_ops:
        if kind == "mem":
            if value is None or value == "nopentium":
                continue
            userdef = True   # set before the zero check: "mem=junk" still reprints
            from ..units import memparse
            size, _ = memparse(value, 0)
            if size == 0:
                continue
            tab.remove(size, U64_MASK - size, E820Type.RAM, True)
        else:
            if value is None:
                continue
            for item in value.split(","):
                op = parse_memmap_item(item)
                userdef = userdef or op.userdef
                _apply_memmap(tab, op)
    findings = list(tab.findings)
    if not userdef:
        return replace(src, entries=tab.entries(), findings=src.findings + tuple(findings)), tab.log
    ents, ok = update_table(tab.entries(), max_entries)
    if not ok:
        findings.append(_finding(
            "E820_USER_MAP_INVALID", Severity.ERROR,
            "the kernel panics with \"Invalid user supplied memory map\": after mem=/memmap= the e820 "
            "table has fewer than two entries or an entry that wraps past 2^64 (memmap=exactmap needs at "
            "least two memmap= ranges)"))
    return E820Table(entries=ents, source="user", findings=src.findings + tuple(findings),
                     label="user", path=src.path), tab.log


def userdef(cmdline) -> bool:
    """True when the kernel will print a ``user:`` map for this command line."""
    base = (E820Entry(0, 0x1000, 1), E820Entry(0x2000, 0x1000, 2))
    return apply_cmdline(base, cmdline).source == "user"


def mem_limit(cmdline) -> int | None:
    """``max_mem_size`` after ``mem=`` (the last valid ``mem=`` wins); None when unset."""
    from ..kernel.cmdline import KernelCmdline, parse_cmdline
    from ..units import memparse

    cl = cmdline if isinstance(cmdline, KernelCmdline) else parse_cmdline(str(cmdline or ""))
    limit = None
    for kind, value in cl.memory_map_ops:
        if kind == "mem" and value is not None and value != "nopentium":
            v, _ = memparse(value, 0)
            if v:
                limit = v
    return limit


# ---------------------------------------------------------------------------
# setup_arch() edits that are not re-printed


def add_kernel_range(entries: Sequence[E820Entry], start: int, end: int, dialect: str = DIALECT_CLASSIC
                     ) -> tuple[tuple[E820Entry, ...], list[Finding]]:
    ents, findings, _ = _add_kernel_range(entries, start, end, dialect)
    return ents, findings


def _add_kernel_range(entries, start, end, dialect=DIALECT_CLASSIC):
    """``e820_add_kernel_range``: if ``[_text, _end)`` is not wholly RAM, the
    kernel warns ".text .data .bss are not marked as E820_TYPE_RAM!", removes
    the range from every type and adds it back as RAM (no sanitise here; the
    next one is in :func:`trim_bios_range`)."""
    ents = tuple(entries)
    if _mapped_all(ents, start, end, E820Type.RAM):
        return ents, [], []
    tab = _Table(ents, dialect=dialect)
    tab.remove(start, end - start, 0, False)
    tab.add(start, end - start, E820Type.RAM)
    return tab.entries(), tab.findings + [_finding(
        "E820_KERNEL_NOT_RAM", Severity.WARNING,
        f"the kernel image [mem {start:#010x}-{end - 1:#010x}] is not all e820 RAM (confused firmware, or a "
        "memmap= that excludes it); the kernel forces it back to RAM")], tab.log


def _mapped_all(entries: Sequence[E820Entry], start: int, end: int, typ: int) -> bool:
    """``__e820__mapped_all`` (relies on a sorted, non-overlapping table)."""
    for e in entries:
        if typ and e.type != typ:
            continue
        if e.start >= end or e.end <= start:
            continue
        if e.start <= start:
            start = e.end
        if start >= end:
            return True
    return False


def trim_bios_range(entries: Sequence[E820Entry]) -> tuple[E820Entry, ...]:
    """``trim_bios_range``: page 0 RAM becomes reserved, RAM inside 640 KiB–1 MiB
    is removed, then the table is sanitised.  The map is not re-printed: the
    log keeps showing ``0x0…`` as usable while memblock starts at 0x1000 (only
    the KERN_DEBUG "e820: update/remove" lines tell)."""
    return _trim_bios_range(entries)[0]


def _trim_bios_range(entries, dialect: str = DIALECT_CLASSIC) -> tuple[tuple[E820Entry, ...], list[str]]:
    tab = _Table(entries, dialect=dialect)
    tab.update(0, PAGE_SIZE, E820Type.RAM, E820Type.RESERVED)
    tab.remove(BIOS_BEGIN, BIOS_END - BIOS_BEGIN, E820Type.RAM, True)
    return sanitize(tab.entries()), tab.log


def reserved_kern_is_ram(profile=None) -> bool:
    """Whether type 128 (E820_TYPE_RESERVED_KERN) is fed to memblock as RAM:
    ``KernelProfile.e820_reserved_kern`` (5.10–6.12 yes; 7.x dropped the type).
    Without a profile: yes."""
    if profile is None:
        return True
    return bool(profile.e820_reserved_kern)


def end_pfn(entries: Sequence[E820Entry], limit_pfn: int = MAX_ARCH_PFN, typ: int = E820Type.RAM,
            max_arch_pfn: int = MAX_ARCH_PFN) -> int:
    """``e820_end_pfn``: the highest ``(addr + size) >> 12`` over *typ* entries,
    walking the table in order — an entry that crosses *limit_pfn* yields the
    limit and **stops the walk** — capped at ``max_arch_pfn``."""
    last = 0
    for e in entries:
        if e.type != typ:
            continue
        s = e.start >> PAGE_SHIFT
        t = ((e.start + e.size) & U64_MASK) >> PAGE_SHIFT
        if s >= limit_pfn:
            continue
        if t > limit_pfn:
            last = limit_pfn
            break
        if t > last:
            last = t
    return min(last, max_arch_pfn)


def max_pfn(entries: Sequence[E820Entry]) -> int:
    """``max_pfn = e820__end_of_ram_pfn()`` on the trimmed table (MTRR trimming,
    which needs the CPU's MTRRs, is not modelled)."""
    return end_pfn(entries)


def max_low_pfn(entries: Sequence[E820Entry]) -> int:
    """setup_arch's max_low_pfn: the end of RAM below 4 GiB when RAM goes past
    4 GiB, else max_pfn.  (x86_64 later sets max_low_pfn = max_pfn in
    init_mem_mapping; this is the value reserve_initrd and friends see.)"""
    top = max_pfn(entries)
    if top > 1 << (32 - PAGE_SHIFT):
        return end_pfn(entries, 1 << (32 - PAGE_SHIFT))
    return top


# ---------------------------------------------------------------------------
# e820__memblock_setup


def _union(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """memblock_add_range() semantics for flag-less, node-less regions: the
    region array ends up sorted with overlapping and touching ranges merged."""
    out: list[list[int]] = []
    for s, e in sorted(ranges):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _memblock_adds(entries: Sequence[E820Entry], profile=None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    ram_types = {int(E820Type.RAM)}
    if reserved_kern_is_ram(profile):
        ram_types.add(int(E820Type.RESERVED_KERN))
    adds, reserves = [], []
    for e in entries:
        if e.size == 0:
            continue
        base, size = e.start, e.size
        # memblock_cap_size(): a range is cut at the top of the address space.
        size = min(size, U64_MASK - base)
        if e.type == E820Type.SOFT_RESERVED:
            reserves.append((base, size))
        if e.type in ram_types:
            adds.append((base, size))
    return adds, reserves


def memblock_ranges(entries: Sequence[E820Entry], profile=None
                    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """What ``e820__memblock_setup`` gives memblock, from the final (trimmed,
    sanitised) e820 table.

    Returns ``(memory, reserved)`` as ``(base, size)`` lists:

    * ``memory`` — the memblock.memory regions after every RAM (and, before
      7.x, RESERVED_KERN) entry was ``memblock_add``-ed (touching ranges merge)
      and ``memblock_trim_memory(PAGE_SIZE)`` rounded each region's base up and
      end down to 4 KiB, dropping regions that vanish.  This is exactly the
      ``memory[]`` list of the first ``MEMBLOCK configuration`` dump.
    * ``reserved`` — the ``memblock_reserve`` calls for soft-reserved entries,
      in table order (not merged with other reservations).
    """
    adds, reserves = _memblock_adds(entries, profile)
    memory = []
    for s, e in _union((b, b + z) for b, z in adds):
        ns = (s + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE
        ne = e // PAGE_SIZE * PAGE_SIZE
        if ns < ne:
            memory.append((ns, ne - ns))
    return memory, reserves


def memblock_memory_size_printed(entries: Sequence[E820Entry], profile=None) -> int:
    """The ``memory size =`` of the first memblock dump.

    ``memblock_trim_memory`` edits region bases and sizes but never updates
    ``memblock.memory.total_size``, so the dump prints the **untrimmed** sum
    (e.g. 0x…7ec00 rather than a page multiple) — verified on all captures."""
    adds, _ = _memblock_adds(entries, profile)
    return sum(e - s for s, e in _union((b, b + z) for b, z in adds))


def first_dump_memory(entries: Sequence[E820Entry], profile=None) -> list[tuple[int, int, int]]:
    """``memory[]`` of the first memblock dump as ``(base, size, flags)``.

    7.x marks [0, 1 MiB) as kexec-handover scratch (``memblock_mark_kho_scratch``
    in e820__memblock_setup), which shows as ``flags: 0x40`` on the region(s)
    below 1 MiB; older kernels print 0."""
    scratch = profile.flag_kho_scratch if profile is not None and profile.e820_kho_scratch_low_1m else None
    out = []
    for base, size in memblock_ranges(entries, profile)[0]:
        flags = 0
        if scratch and base < ISA_END_ADDRESS:
            flags |= scratch
        out.append((base, size, flags))
    return out


# ---------------------------------------------------------------------------
# The whole early e820 path of setup_arch in one call


@record(frozen=True)
class KernelE820:
    """Every e820 stage the kernel goes through at boot.

    ``firmware``: the sanitised bootloader map (what ``BIOS-e820:`` prints and
    ``/sys/firmware/memmap`` shows); ``user``: after mem=/memmap= (None when the
    command line defines nothing); ``final``: after ``e820_add_kernel_range``
    and ``trim_bios_range`` (what memblock is fed from); ``memory`` /
    ``reserved``: :func:`memblock_ranges`; ``max_pfn``, ``max_low_pfn``;
    ``mem_limit``: max_mem_size from ``mem=`` (hot-add beyond it is refused
    while booting).
    """

    firmware: tuple[E820Entry, ...]
    user: tuple[E820Entry, ...] | None
    final: tuple[E820Entry, ...]
    memory: tuple[tuple[int, int], ...]
    reserved: tuple[tuple[int, int], ...]
    max_pfn: int
    max_low_pfn: int
    mem_limit: int | None
    findings: tuple[Finding, ...] = field(default=())
    # The "e820: update/remove …" KERN_DEBUG lines the kernel prints on the way
    # (mem=/memmap= edits, trim_bios_range), in order, without timestamps.
    log: tuple[str, ...] = field(default=())


def kernel_e820(table: E820Table | Sequence[E820Entry], cmdline=None, *, profile=None,
                kernel_image: tuple[int, int] | None = None) -> KernelE820:
    """Run the e820 part of ``setup_arch`` (e820__memory_setup → early params →
    e820__finish_early_params → e820_add_kernel_range → trim_bios_range →
    max_pfn → e820__memblock_setup).  *kernel_image* is ``(_text, _end)`` —
    the whole image up to ``_end``, which is a little beyond
    ``__end_of_kernel_reserve``; without it ``e820_add_kernel_range`` is
    skipped (it only matters when a memmap= or the firmware leaves part of the
    image non-RAM: the kernel then turns that part back into RAM, verified on a
    6.1 boot with ``memmap=12K%32M-1+128``)."""
    src = table if isinstance(table, E820Table) else E820Table(entries=tuple(table), source="entries")
    dialect = profile.e820_print_dialect if profile is not None else DIALECT_CLASSIC
    findings = list(src.findings)
    given = src.entries
    if len(given) > E820_MAX_ENTRIES:
        # __append_e820_table() -> e820__range_add(): entries past the array
        # size are dropped with "too many entries" before the first sanitise.
        findings.append(_finding(
            "E820_TABLE_FULL", Severity.ERROR,
            f"the map has {len(given)} entries; the kernel keeps the first {E820_MAX_ENTRIES} and ignores the rest"))
        given = given[:E820_MAX_ENTRIES]
    fw = sanitize(given)
    user_tab, log = _apply_cmdline(replace(src, entries=fw, findings=()), cmdline, dialect=dialect)
    findings.extend(user_tab.findings)
    cur = user_tab.entries
    user = cur if user_tab.source == "user" else None
    if kernel_image is not None:
        cur, more, klog = _add_kernel_range(cur, kernel_image[0], kernel_image[1], dialect)
        findings.extend(more)
        log.extend(klog)
    final, trim_log = _trim_bios_range(cur, dialect)
    log.extend(trim_log)
    memory, reserved = memblock_ranges(final, profile)
    top = max((b + z for b, z in memory), default=0)
    if top > MAX_ARCH_PFN << PAGE_SHIFT:
        # e820_end_pfn() caps max_pfn at MAX_ARCH_PFN and sparse memory ends at
        # MAX_PHYSMEM_BITS (46 with 4-level paging): RAM above 64 TiB is not used.
        findings.append(_finding(
            "E820_RAM_BEYOND_PHYSMEM", Severity.WARNING,
            f"e820 RAM reaches {top:#x}, beyond the 64 TiB the kernel addresses with 4-level paging; "
            "memory above it is not used (max_pfn stops at 0x400000000)"))
    if not memory:
        findings.append(_finding("E820_NO_RAM", Severity.ERROR,
                                 "no usable RAM is left for memblock after the kernel's e820 edits"))
    return KernelE820(firmware=fw, user=user, final=final, memory=tuple(memory), reserved=tuple(reserved),
                      max_pfn=max_pfn(final), max_low_pfn=max_low_pfn(final),
                      mem_limit=mem_limit(cmdline) if cmdline is not None else None,
                      findings=tuple(findings), log=tuple(log))


def format_map(entries: Sequence[E820Entry], who: str = "BIOS-e820", dialect: str = DIALECT_CLASSIC) -> str:
    """The lines ``e820__print_table(who)`` prints for *entries* (without the
    dmesg timestamp), in the chosen dialect — handy for diffing with a log."""
    lines = []
    prev_end = 0
    for e in entries:
        if dialect == DIALECT_OLD:
            lines.append(f" {who}: {e.start:016x} - {e.end & U64_MASK:016x} {type_name(e.type, dialect)}")
            continue
        if dialect == DIALECT_GAPS:
            if e.start < prev_end:
                lines.append("[Firmware Bug]: out of order E820 entry!")
            if e.start > prev_end:
                lines.append(f"{who}: [gap {prev_end:#018x}-{e.start - 1:#018x}]")
            lines.append(f"{who}: [mem {e.start:#018x}-{e.last & U64_MASK:#018x}]  {type_name(e.type, dialect)}")
            prev_end = e.end
            continue
        lines.append(f"{who}: [mem {e.start:#018x}-{e.last & U64_MASK:#018x}] {type_name(e.type, dialect)}")
    return "\n".join(lines)


# Readers, re-exported for the public API named in the design.  Resolved on
# first use (PEP 562): e820_readers imports this module, so an eager import
# here made "import sratplan.firmware.e820_readers" fail with a circular
# ImportError whenever it was imported before this module.
_READERS = frozenset({"MAX_TEXT_ENTRIES", "BootParams", "parse_boot_params", "parse_dmesg_e820",
                      "parse_e820_json", "parse_e820_text", "parse_iomem", "parse_memmap_text", "read_e820",
                      "read_memmap_dir"})


def __getattr__(name):
    if name in _READERS:
        from . import e820_readers

        return getattr(e820_readers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "E820Type", "E820Entry", "E820Table", "E820_TYPE_UNKNOWN", "E820_MAX_ENTRIES", "MAX_TEXT_ENTRIES",
    "BootParams", "KernelE820", "MemmapOp",
    "sanitize", "update_table", "apply_cmdline", "parse_memmap_item", "trim_bios_range", "add_kernel_range",
    "memblock_ranges", "memblock_memory_size_printed", "first_dump_memory", "max_pfn", "max_low_pfn",
    "end_pfn", "kernel_e820", "mem_limit", "userdef", "type_name", "type_label", "firmware_memmap_name",
    "format_map",
    "parse_dmesg_e820", "parse_memmap_text", "read_memmap_dir", "parse_boot_params", "parse_e820_text",
    "parse_e820_json", "parse_iomem", "read_e820",
]
