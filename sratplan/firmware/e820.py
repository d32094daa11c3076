"""The x86 e820 memory map as data: entry types, entries, tables, and the
text dialects the kernel prints them in (``arch/x86/include/asm/e820/types.h``,
``arch/x86/kernel/e820.c:e820_print_type`` / ``e820__print_table``).

What the kernel *does* with a map (sanitising, mem=/memmap=, the setup_arch
edits, feeding memblock) is in :mod:`sratplan.kernel.e820`; the readers of
its many textual and binary forms are in :mod:`sratplan.firmware.e820_readers`.

* 7.x prints ``System RAM`` / ``device reserved`` / ``persistent RAM (type N)``
  instead of ``usable`` / ``reserved`` / ``persistent (type N)`` and
  interleaves ``[gap …]`` lines (``e820__print_table``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..findings import Finding
from ..units import PAGE_SHIFT, U64_MASK

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


@dataclass(frozen=True, order=True)
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


@dataclass(frozen=True)
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
    # (ext_mem_k, alt_mem_k) from a zero page: the BIOS-88 / BIOS-e801 sizes
    # the kernel fakes a map from when the e820 table is unusable
    legacy_mem_k: tuple[int, int] | None = None

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
