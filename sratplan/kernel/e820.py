"""What the kernel does with an e820 map at boot.

Mirrors ``arch/x86/kernel/e820.c`` (``e820__update_table``,
``__e820__range_update``, ``e820__range_remove``, ``e820__memory_setup_default``,
the ``mem=`` / ``memmap=`` edits and ``e820__finish_early_params``,
``e820_end_pfn``, ``e820__memblock_setup``) and ``arch/x86/kernel/setup.c``
(``trim_bios_range``, ``e820_add_kernel_range``) plus ``mm/memblock.c``
(``memblock_trim_memory``), checked against the Debian sources of 5.10.223,
6.1.192, 6.12.117 and 7.2.13 and against every kernel-truth capture in
``fixtures/kernel``.

* 7.x dropped ``E820_TYPE_RESERVED_KERN`` (128): a firmware entry of type 128
  is then just an unknown type — not memory — where 5.10–6.12 fed it to
  memblock as RAM.  Asked through ``KernelProfile`` (see
  :func:`reserved_kern_is_ram`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..findings import Finding, Severity
from ..firmware.e820 import (
    BIOS_BEGIN,
    BIOS_END,
    DIALECT_CLASSIC,
    E820_MAX_ENTRIES,
    HIGH_MEMORY,
    ISA_END_ADDRESS,
    LOWMEMSIZE,
    MAX_ARCH_PFN,
    E820Entry,
    E820Table,
    E820Type,
    type_name,
)
from ..intervals import union
from ..units import PAGE_SHIFT, PAGE_SIZE, U64_MASK, memparse
from .cmdline import KernelCmdline, MemmapOp, parse_cmdline, parse_memmap_item


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


def mem_limit(cmdline) -> int | None:
    """``max_mem_size`` after ``mem=`` (the last valid ``mem=`` wins); None when unset."""

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
    for s, e in union((b, b + z) for b, z in adds):
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
    return sum(e - s for s, e in union((b, b + z) for b, z in adds))


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


@dataclass(frozen=True)
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


def memory_setup_default(table: E820Table) -> E820Table:
    """``e820__memory_setup_default``: the loader's table when it has at least
    two entries and none wraps past 2**64, else (when the zero page gave the
    BIOS-88 / BIOS-e801 sizes) a fake map of [0, 636 KiB) and 1 MiB + the
    larger of ``ext_mem_k`` / ``alt_mem_k``; then sanitised."""
    ents = table.entries
    ok = len(ents) >= 2 and not any(e.size and e.start + e.size - 1 > U64_MASK for e in ents)
    if ok or table.legacy_mem_k is None:
        return replace(table, entries=sanitize(ents))
    ext_mem_k, alt_mem_k = table.legacy_mem_k
    if alt_mem_k < ext_mem_k:
        mem_k, who = ext_mem_k, "BIOS-88"
    else:
        mem_k, who = alt_mem_k, "BIOS-e801"
    fake = (E820Entry(0, LOWMEMSIZE, E820Type.RAM), E820Entry(HIGH_MEMORY, mem_k << 10, E820Type.RAM))
    note = _finding("E820_FAKE_MAP", Severity.WARNING,
                    f"the loader's e820 table is unusable ({len(ents)} entries); the kernel fakes a map from "
                    f"{who} ({mem_k} KiB above 1 MiB)")
    return replace(table, entries=sanitize(fake), findings=table.findings + (note,), label=who)


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
    if src.legacy_mem_k is not None:
        src = memory_setup_default(src)
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



