"""Readers for every form an e820 map comes in.

* kernel logs: ``BIOS-e820:`` lines in the three dialects ``e820__print_table``
  (arch/x86/kernel/e820.c) has used — ``[mem 0x…-0x…] usable`` (3.x–6.x), the
  7.x form with ``System RAM`` / ``device reserved`` names and ``[gap …]``
  lines, and the pre-3.x `` BIOS-e820: %016Lx - %016Lx (usable)`` form whose
  end is exclusive — plus the ``user:`` re-print after ``mem=``/``memmap=``;
* ``/sys/firmware/memmap/N/{start,end,type}`` (drivers/firmware/memmap.c;
  ``end`` inclusive) as a directory, or flattened one entry per line
  (``N start end type``, the oracle's ``memmap.txt``);
* the raw zero page ``/sys/kernel/boot_params/data``
  (arch/x86/include/uapi/asm/bootparam.h: ``e820_entries`` at 0x1e8, 128
  packed 20-byte ``boot_e820_entry`` at 0x2d0);
* ``/proc/iomem`` top-level lines, read as an e820-like map (a fallback: it is
  the kernel's table *after* its own edits and may lack reserved ranges);
* hand-written text and JSON maps (see :func:`parse_e820_text`).

Every reader takes untrusted input: garbage lines become findings with line
numbers, hard caps raise :class:`~sratplan.errors.LimitError`, and nothing
else escapes except :class:`~sratplan.errors.SratplanError` subclasses.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import construct as cs

from ..errors import InputError, LimitError, ParseError, UsageError
from ..findings import Finding, Severity
from ..inputs import read_bytes, read_text
from ..units import U64_MASK, parse_size
from .e820 import (
    DIALECT_CLASSIC,
    DIALECT_GAPS,
    DIALECT_OLD,
    E820_MAX_ENTRIES_ZEROPAGE,
    E820_TYPE_UNKNOWN,
    E820Entry,
    E820Table,
)
from .structs import BootParamsStruct

# Caps (issue 7): a hand-written or logged map may hold at most this many
# entries (the kernel itself keeps at most E820_MAX_ENTRIES = 3200 on Debian);
# inputs larger than MAX_INPUT_BYTES and lines longer than MAX_LINE_CHARS are
# refused / skipped before any work is done on them.
MAX_TEXT_ENTRIES = 32768
MAX_INPUT_BYTES = 64 << 20
MAX_LINE_CHARS = 65536
MAX_LINE_FINDINGS = 50

# The "who" of e820__memory_setup(): BIOS-e820 normally, BIOS-88/BIOS-e801 for
# the faked map, "Xen" from xen_memory_setup() (arch/x86/xen/setup.c) in PV guests.
_FIRMWARE_WHO = ("BIOS-e820", "BIOS-88", "BIOS-e801", "Xen")

# "[    0.000000] " timestamps, "kernel: " syslog prefixes etc. are skipped by
# searching for the label anywhere in the line.
_MEM_RE = re.compile(
    r"(?:^|[\s\]:])(?P<who>BIOS-e820|BIOS-88|BIOS-e801|Xen|user|reserve setup_data|modified|extended|bad_ppro)"
    r": \[mem 0x(?P<s>[0-9a-fA-F]{1,16})-0x(?P<e>[0-9a-fA-F]{1,16})\]\s*(?P<type>.*?)\s*$")
_GAP_RE = re.compile(
    r"(?:^|[\s\]:])(?P<who>BIOS-e820|BIOS-88|BIOS-e801|user): \[gap 0x(?P<s>[0-9a-fA-F]{1,16})-0x(?P<e>[0-9a-fA-F]{1,16})\]\s*$")
_OLD_RE = re.compile(
    r"(?:^|[\s\]:])(?P<who>BIOS-e820|BIOS-88|BIOS-e801|user): (?P<s>[0-9a-fA-F]{16}) - (?P<e>[0-9a-fA-F]{16})\s*(?P<type>.*?)\s*$")

# Names e820_print_type() has printed, in every dialect.
_LOG_NAMES = {
    "usable": 1, "system ram": 1, "(usable)": 1,
    "reserved": 2, "device reserved": 2, "(reserved)": 2,
    "acpi data": 3, "(acpi data)": 3,
    "acpi nvs": 4, "(acpi nvs)": 4,
    "unusable": 5, "(unusable)": 5,
    "soft reserved": 0xEFFFFFFF,
}
_TYPE_N_RE = re.compile(r"^(?:persistent(?: RAM)? \(type (\d{1,10})\)|\(?type (\d{1,10})\)?)", re.IGNORECASE)

# e820_type_to_string() names (sysfs memmap, /proc/iomem).
_SYSFS_NAMES = {
    "system ram": 1, "acpi tables": 3, "acpi non-volatile storage": 4, "unusable memory": 5,
    "persistent memory (legacy)": 12, "persistent memory": 7, "reserved": 2, "soft reserved": 0xEFFFFFFF,
    "unknown e820 type": E820_TYPE_UNKNOWN,
}

# Names accepted in hand-written maps: the kernel's log and sysfs names plus
# the enum names.
_HAND_NAMES = dict(_LOG_NAMES)
_HAND_NAMES.update(_SYSFS_NAMES)
_HAND_NAMES.update({
    "ram": 1, "reserved": 2, "acpi": 3, "nvs": 4, "pmem": 7, "pram": 12, "soft_reserved": 0xEFFFFFFF,
    "soft-reserved": 0xEFFFFFFF, "reserved_kern": 128, "reserved-kern": 128, "persistent": 7,
})


def _f(code: str, sev: Severity, msg: str, where: str | None = None) -> Finding:
    return Finding(code=code, severity=sev, message=msg, table="e820", where=where)


class _Lines:
    """Line iterator with the caps and a bounded number of per-line findings."""
    def __init__(self, text: str, path: str | None):
        if len(text) > MAX_INPUT_BYTES:
            raise LimitError(f"input is larger than {MAX_INPUT_BYTES >> 20} MiB", table="e820", path=path)
        self.text = text
        self.path = path
        self.findings: list[Finding] = []
        self._skipped = 0

    def __iter__(self):
        for no, line in enumerate(self.text.splitlines(), 1):
            if len(line) > MAX_LINE_CHARS:
                self.note(no, "E820_LINE_TOO_LONG", f"line longer than {MAX_LINE_CHARS} characters skipped")
                continue
            yield no, line

    def note(self, no: int, code: str, msg: str, sev: Severity = Severity.WARNING) -> None:
        if len(self.findings) < MAX_LINE_FINDINGS:
            where = f"{self.path}:{no}" if self.path else f"line {no}"
            self.findings.append(_f(code, sev, msg, where))
        elif self._skipped == 0:
            self._skipped = 1
            self.findings.append(_f("E820_MORE_FINDINGS", Severity.INFO,
                                    f"more than {MAX_LINE_FINDINGS} line findings; the rest are not listed"))


def _log_type(name: str) -> int | None:
    key = name.strip().lower()
    if key in _LOG_NAMES:
        return _LOG_NAMES[key]
    m = _TYPE_N_RE.match(name.strip())
    if m:
        v = int(m.group(1) or m.group(2))
        return v if v <= 0xFFFFFFFF else None
    # 7.x variants may append a size column ("System RAM  (1.2 GB)"): take the
    # longest known name the text starts with.
    for known in sorted(_LOG_NAMES, key=len, reverse=True):
        if key.startswith(known + " ") or key.startswith(known + "\t"):
            return _LOG_NAMES[known]
    return None


def _entry_from_inclusive(s: int, last: int) -> E820Entry | None:
    # Printed as start-(start+size-1): size = last + 1 - start, modulo 2**64
    # (a zero-size entry prints as start-(start-1)).
    size = (last + 1 - s) & U64_MASK
    return E820Entry(s, size, 0)


def parse_dmesg_e820(text: str, *, path: str | None = None) -> E820Table:
    """The firmware e820 map from a kernel log (dmesg, journal, syslog, console).

    Reads the ``BIOS-e820:`` (or ``BIOS-88:`` / ``BIOS-e801:``) lines of the
    first boot in the log, in any dialect; ``[gap …]`` lines are checked (they
    must be exactly the holes between entries) but add nothing.  When the log
    also has ``user:`` lines (mem=/memmap= given) they are exposed as
    :attr:`E820Table.user`.  Other lines are ignored.  No entry found is a
    warning finding, not an error: a log may simply not contain the map.
    """
    lines = _Lines(text, path)
    fw: list[E820Entry] = []
    user: list[E820Entry] = []
    dialect = None
    label = None
    block_ended = False
    second_map = False
    gaps: list[tuple[int, int, int]] = []
    boots = 0
    for no, line in lines:
        if "out of order E820 entry" in line:
            lines.note(no, "E820_OUT_OF_ORDER", "the kernel reported an out-of-order e820 entry", Severity.INFO)
            continue
        if "Linux version" in line:
            boots += 1
            if boots > 1:
                lines.note(no, "E820_SECOND_BOOT", "the log holds more than one boot; only the first is read",
                           Severity.INFO)
                break
        if "BIOS-" not in line and "user:" not in line and "e820" not in line and "Xen: [" not in line:
            if fw:
                block_ended = True
            continue
        m = _MEM_RE.search(line)
        old = None if m else _OLD_RE.search(line)
        gap = None if (m or old) else _GAP_RE.search(line)
        if not (m or old or gap):
            if fw and "BIOS-" not in line and "Xen: [" not in line:
                block_ended = True
            if re.search(r"(?:^|[\s\]:])(?:BIOS-e820|BIOS-88|BIOS-e801|user): ", line) and \
                    "physical RAM map" not in line:
                lines.note(no, "E820_BAD_LINE", f"an e820 line sratplan cannot read: {line.strip()[:120]!r}")
            continue
        mm = m or old or gap
        who = mm.group("who")
        if who not in _FIRMWARE_WHO and who != "user":
            continue
        s = int(mm.group("s"), 16)
        e = int(mm.group("e"), 16)
        if gap:
            if who != "user":
                gaps.append((no, s, e))
            dialect = DIALECT_GAPS
            continue
        if m:
            ent = _entry_from_inclusive(s, e)
            tname = m.group("type")
            this_dialect = DIALECT_GAPS if tname.lower().startswith(("system ram", "device reserved",
                                                                      "persistent ram")) else None
        else:
            ent = E820Entry(s, (e - s) & U64_MASK, 0)
            tname = old.group("type")
            this_dialect = DIALECT_OLD
        t = _log_type(tname)
        if t is None:
            lines.note(no, "E820_UNKNOWN_TYPE_NAME", f"unknown e820 type name {tname!r}; line skipped")
            continue
        ent = E820Entry(ent.start, ent.size, t)
        if who == "user":
            if not second_map:
                user.append(ent)
            continue
        if block_ended and fw:
            if not second_map:
                second_map = True
                lines.note(no, "E820_SECOND_MAP", "a second BIOS-e820 map in the same boot; the first is used",
                           Severity.INFO)
            continue
        if len(fw) >= MAX_TEXT_ENTRIES:
            raise LimitError(f"more than {MAX_TEXT_ENTRIES} e820 entries", table="e820", path=path, line=no)
        fw.append(ent)
        label = label or who
        if this_dialect:
            dialect = this_dialect if dialect in (None, DIALECT_CLASSIC) else dialect
        elif dialect is None:
            dialect = DIALECT_CLASSIC
    findings = lines.findings
    if not fw:
        findings.append(_f("E820_NOT_FOUND", Severity.WARNING,
                           "no BIOS-e820 lines in this log (it may start after them: use the full boot log)",
                           path))
    _check_gaps(fw, [g for g in gaps], findings, path)
    return E820Table(entries=tuple(fw), source="dmesg", findings=tuple(findings),
                     user=tuple(user) if user else None, label=label, dialect=dialect, path=path)


def _check_gaps(fw: list[E820Entry], gaps, findings: list[Finding], path) -> None:
    """7.x ``[gap a-b]`` lines must be the holes e820__print_table computes."""
    if not gaps or not fw:
        return
    expected = set()
    prev = 0
    for e in fw:
        if e.start > prev:
            expected.add((prev, e.start - 1))
        prev = e.end
    odd = [no for no, s, e in gaps if (s, e) not in expected]
    if odd:
        findings.append(_f("E820_GAP_MISMATCH", Severity.INFO,
                           f"{len(odd)} [gap …] line(s) do not match the holes between the map's entries "
                           f"(first at line {odd[0]})", path))


# ---------------------------------------------------------------------------
# /sys/firmware/memmap


def _sysfs_type(name: str) -> int | None:
    return _SYSFS_NAMES.get(name.strip().lower())


def parse_memmap_text(text: str, *, path: str | None = None) -> E820Table:
    """``/sys/firmware/memmap`` flattened one entry per line: ``N start end type``
    (end inclusive; ``type`` the sysfs string, e.g. ``System RAM``).  ``#``
    comment lines are skipped; entries are ordered by N, as the kernel numbers
    them in table order."""
    lines = _Lines(text, path)
    rows: list[tuple[int, E820Entry]] = []
    for no, line in lines:
        t = line.strip()
        if not t or t.startswith("#"):
            continue
        parts = t.split(None, 3)
        if len(parts) < 4:
            lines.note(no, "E820_BAD_LINE", f"expected 'N start end type': {t[:120]!r}")
            continue
        try:
            n = int(parts[0], 10)
            s = int(parts[1], 16)
            e = int(parts[2], 16)
        except ValueError:
            lines.note(no, "E820_BAD_LINE", f"expected 'N start end type': {t[:120]!r}")
            continue
        typ = _sysfs_type(parts[3])
        if typ is None:
            lines.note(no, "E820_UNKNOWN_TYPE_NAME", f"unknown memmap type {parts[3]!r}; line skipped")
            continue
        if s > U64_MASK or e > U64_MASK:
            lines.note(no, "E820_BAD_LINE", "address does not fit in 64 bits; line skipped")
            continue
        if len(rows) >= MAX_TEXT_ENTRIES:
            raise LimitError(f"more than {MAX_TEXT_ENTRIES} e820 entries", table="e820", path=path, line=no)
        rows.append((n, E820Entry(s, (e + 1 - s) & U64_MASK, typ)))
    rows.sort(key=lambda r: r[0])
    findings = lines.findings
    if any(e.type == E820_TYPE_UNKNOWN for _, e in rows):
        findings.append(_f("E820_TYPE_UNKNOWN", Severity.INFO,
                           "some entries say 'Unknown E820 type': the type number is not recoverable from sysfs",
                           path))
    return E820Table(entries=tuple(e for _, e in rows), source="firmware-memmap", findings=tuple(findings),
                     path=path)


def read_memmap_dir(path) -> E820Table:
    """Read a ``/sys/firmware/memmap`` directory (subdirectories ``0``, ``1``, …
    each holding ``start``, ``end`` and ``type``), or a file in the flattened
    ``N start end type`` form."""
    p = Path(path)
    if p.is_file():
        return parse_memmap_text(_read_text(p), path=str(p))
    if not p.is_dir():
        raise InputError("not a file or directory", path=str(p))
    rows = []
    findings = []
    try:
        names = sorted((d for d in os.listdir(p) if d.isdigit()), key=int)
    except OSError as exc:
        raise InputError(f"cannot list directory: {exc.strerror}", path=str(p)) from None
    if len(names) > MAX_TEXT_ENTRIES:
        raise LimitError(f"more than {MAX_TEXT_ENTRIES} e820 entries", table="e820", path=str(p))
    for n in names:
        d = p / n
        try:
            start = read_text(d / "start", 256).strip()
            end = read_text(d / "end", 256).strip()
            typ = read_text(d / "type", 256).strip()
        except (OSError, InputError, LimitError):
            findings.append(_f("E820_BAD_ENTRY", Severity.WARNING, "entry without start/end/type skipped",
                               str(d)))
            continue
        try:
            s, e = int(start, 16), int(end, 16)
        except ValueError:
            findings.append(_f("E820_BAD_ENTRY", Severity.WARNING, f"unreadable start/end {start!r}/{end!r}",
                               str(d)))
            continue
        t = _sysfs_type(typ)
        if t is None or s > U64_MASK or e > U64_MASK:
            findings.append(_f("E820_BAD_ENTRY", Severity.WARNING, f"unknown type {typ!r} or address", str(d)))
            continue
        rows.append(E820Entry(s, (e + 1 - s) & U64_MASK, t))
    return E820Table(entries=tuple(rows), source="firmware-memmap", findings=tuple(findings), path=str(p))


# ---------------------------------------------------------------------------
# /sys/kernel/boot_params/data


BOOT_PARAMS_SIZE = 0x1000
KASLR_FLAG = 0x02          # loadflags bit 1 (bootparam.h)


@dataclass(frozen=True)
class BootParams:
    """The loader facts in ``struct boot_params``.

    ``e820`` is the raw table the loader passed (``e820_entries`` entries, not
    sanitised; :func:`sratplan.kernel.e820.memory_setup_default` is what the
    kernel makes of it, with the BIOS-88/e801 sizes in ``e820.legacy_mem_k``);
    ``ramdisk`` is ``(start, size)`` with the ``ext_ramdisk_*`` high 32 bits
    folded in, or None when no initrd was loaded; ``cmd_line_ptr`` likewise.
    """
    e820: E820Table
    e820_entries: int
    ramdisk_image: int
    ramdisk_size: int
    cmd_line_ptr: int
    acpi_rsdp_addr: int
    boot_protocol: str | None
    type_of_loader: int
    loadflags: int
    kaslr: bool
    kernel_alignment: int
    pref_address: int
    init_size: int
    setup_data: int
    initrd_addr_max: int
    alt_mem_k: int
    ext_mem_k: int
    findings: tuple[Finding, ...] = field(default=())

    @property
    def ramdisk(self) -> tuple[int, int] | None:
        if self.ramdisk_image == 0 or self.ramdisk_size == 0:
            return None
        return self.ramdisk_image, self.ramdisk_size


def parse_boot_params(data: bytes, *, path: str | None = None) -> BootParams:
    """Decode ``/sys/kernel/boot_params/data`` (4096 bytes; shorter input is an
    error naming the field that does not fit)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError("boot_params must be bytes", path=path)
    data = bytes(data)
    if len(data) > MAX_INPUT_BYTES:
        raise LimitError("boot_params input is too large", table="boot_params", path=path)
    if len(data) < 0x2D0 + E820_MAX_ENTRIES_ZEROPAGE * 20:
        raise ParseError(f"boot_params is {len(data)} bytes, the e820 table needs {0x2D0 + 128 * 20}",
                         table="boot_params", offset=len(data), field="e820_table", path=path)
    try:
        bp = BootParamsStruct.parse(data)
    except cs.ConstructError as exc:  # pragma: no cover - lengths are checked above
        raise ParseError(str(exc).splitlines()[0], table="boot_params", path=path) from None
    findings = []
    if len(data) != 4096:
        # struct boot_params is one page; /sys/kernel/boot_params/data is exactly 4096 bytes
        findings.append(_f("BOOT_PARAMS_SIZE", Severity.WARNING,
                           f"boot_params is {len(data)} bytes, not the 4096 of struct boot_params: "
                           f"only the first 4096 are read" if len(data) > 4096 else
                           f"boot_params is {len(data)} bytes, shorter than the 4096 of struct boot_params",
                           path))
    n = bp.e820_entries
    if n > E820_MAX_ENTRIES_ZEROPAGE:
        findings.append(_f("E820_BOOT_PARAMS_COUNT", Severity.WARNING,
                           f"e820_entries is {n}, more than the {E820_MAX_ENTRIES_ZEROPAGE} the zero page holds; "
                           "only 128 are read", path))
        n = E820_MAX_ENTRIES_ZEROPAGE
    ents = tuple(E820Entry(x.addr, x.size, x.type) for x in bp.e820_table[:n])
    hdr = bytes(bp.header)
    proto = f"{bp.version >> 8}.{bp.version & 0xFF:02d}" if hdr == b"HdrS" else None
    if hdr != b"HdrS":
        findings.append(_f("BOOT_PARAMS_NO_HEADER", Severity.INFO,
                           "no 'HdrS' setup header: loader fields (ramdisk, command line) may be meaningless",
                           path))
    ramdisk_image = bp.ramdisk_image | (bp.ext_ramdisk_image << 32)
    ramdisk_size = bp.ramdisk_size | (bp.ext_ramdisk_size << 32)
    table = E820Table(entries=ents, source="boot_params", findings=tuple(findings), label="BIOS-e820",
                      path=path, legacy_mem_k=(bp.ext_mem_k, bp.alt_mem_k))
    return BootParams(
        e820=table, e820_entries=bp.e820_entries, ramdisk_image=ramdisk_image, ramdisk_size=ramdisk_size,
        cmd_line_ptr=bp.cmd_line_ptr | (bp.ext_cmd_line_ptr << 32), acpi_rsdp_addr=bp.acpi_rsdp_addr,
        boot_protocol=proto, type_of_loader=bp.type_of_loader, loadflags=bp.loadflags,
        kaslr=bool(bp.loadflags & KASLR_FLAG), kernel_alignment=bp.kernel_alignment,
        pref_address=bp.pref_address, init_size=bp.init_size, setup_data=bp.setup_data,
        initrd_addr_max=bp.initrd_addr_max, alt_mem_k=bp.alt_mem_k, ext_mem_k=bp.ext_mem_k,
        findings=tuple(findings))


# ---------------------------------------------------------------------------
# /proc/iomem

_IOMEM_RE = re.compile(r"^([0-9a-fA-F]{1,16})-([0-9a-fA-F]{1,16}) : (.+?)\s*$")


def parse_iomem(text: str, *, path: str | None = None) -> E820Table:
    """The top-level ``System RAM`` / ``Reserved`` / ``ACPI Tables`` / … lines of
    ``/proc/iomem`` as an e820-like map.

    This is a fallback, and a finding says so: iomem shows the kernel's table
    *after* its own edits (page 0 already reserved, 640K–1M trimmed), e820
    reserved ranges above 1 MiB may be missing (they are only inserted where no
    PCI resource claims them), and addresses read as 0 without root."""
    lines = _Lines(text, path)
    ents = []
    for no, line in lines:
        if not line or line[0].isspace():
            continue
        m = _IOMEM_RE.match(line)
        if not m:
            lines.note(no, "E820_BAD_LINE", f"not an iomem line: {line.strip()[:120]!r}", Severity.INFO)
            continue
        t = _sysfs_type(m.group(3))
        if t is None or t == E820_TYPE_UNKNOWN:
            continue
        s, e = int(m.group(1), 16), int(m.group(2), 16)
        if len(ents) >= MAX_TEXT_ENTRIES:
            raise LimitError(f"more than {MAX_TEXT_ENTRIES} e820 entries", table="e820", path=path, line=no)
        ents.append(E820Entry(s, (e + 1 - s) & U64_MASK, t))
    findings = lines.findings
    findings.append(_f("E820_FROM_IOMEM", Severity.INFO,
                       "e820 map read from /proc/iomem: it is the kernel's edited table (page 0 reserved, "
                       "640K-1M removed), reserved ranges may be missing; prefer the boot log or "
                       "/sys/firmware/memmap", path))
    if ents and all(e.start == 0 and e.size == 1 for e in ents):
        findings.append(_f("E820_IOMEM_ZEROED", Severity.ERROR,
                           "every iomem address reads as 0 (read without root): no map", path))
        ents = []
    return E820Table(entries=tuple(ents), source="iomem", findings=tuple(findings), path=path)


# ---------------------------------------------------------------------------
# Hand-written maps

_HAND_RE = re.compile(r"^\s*(\S+?)\s*(?:(-)|(\+)|\s)\s*(\S+)\s+(.+?)\s*$")


def _hand_type(name: str) -> int | None:
    key = name.strip().lower()
    if key in _HAND_NAMES:
        return _HAND_NAMES[key]
    try:
        v = int(key, 0)
    except ValueError:
        m = _TYPE_N_RE.match(name.strip())
        return int(m.group(1) or m.group(2)) if m else None
    return v if 0 < v <= 0xFFFFFFFF else None


def parse_e820_text(text: str, *, path: str | None = None) -> E820Table:
    """A hand-written map, one entry per line::

        # start-last (inclusive, as the kernel prints)   type
        0x0-0x9fbff         usable
        0x100000-0xbffdffff RAM
        # start+size                                      type
        4G+4G               System RAM
        0xfd00000000 +0x300000000 reserved

    Numbers take hex ``0x…``, decimal and K/M/G/T suffixes; TYPE is a number or
    any name the kernel prints (``usable``, ``System RAM``, ``reserved``,
    ``ACPI data``, ``ACPI NVS``, ``soft reserved``, ``persistent (type 12)``…)
    or ``RAM``/``ACPI``/``NVS``/``PMEM``/``PRAM``.  ``#`` starts a comment.
    Bad lines are findings.  (:func:`parse_e820_any` recognises the other
    text forms.)
    """
    lines = _Lines(text, path)
    ents = []
    for no, line in lines:
        t = line.split("#", 1)[0].strip()
        if not t:
            continue
        m = _HAND_RE.match(t)
        if not m:
            lines.note(no, "E820_BAD_LINE", f"expected 'START-LAST TYPE' or 'START+SIZE TYPE': {t[:120]!r}")
            continue
        a, dash, plus, b, name = m.groups()
        if not dash and not plus:
            # "START SIZE TYPE"? Only the explicit forms are accepted (an
            # unmarked second number is ambiguous between end and size).
            if b.startswith("+"):
                plus, b = "+", b[1:]
            else:
                lines.note(no, "E820_BAD_LINE",
                           f"say START-LAST (inclusive) or START+SIZE, not two bare numbers: {t[:120]!r}")
                continue
        try:
            s = parse_size(a, what="start")
            v = parse_size(b, what="end" if dash else "size")
        except UsageError as exc:
            lines.note(no, "E820_BAD_LINE", str(exc))
            continue
        typ = _hand_type(name)
        if typ is None:
            lines.note(no, "E820_UNKNOWN_TYPE_NAME", f"unknown e820 type {name!r}; line skipped")
            continue
        if dash:
            if v < s:
                lines.note(no, "E820_BAD_LINE", f"last address below start: {t[:120]!r}")
                continue
            size = v + 1 - s
        else:
            size = v
        if s + size > 1 << 64:
            lines.note(no, "E820_BAD_LINE", f"range runs past 2^64: {t[:120]!r}")
            continue
        if len(ents) >= MAX_TEXT_ENTRIES:
            raise LimitError(f"more than {MAX_TEXT_ENTRIES} e820 entries", table="e820", path=path, line=no)
        ents.append(E820Entry(s, size & U64_MASK if s + size < 1 << 64 else size, typ))
    return E820Table(entries=tuple(ents), source="text", findings=tuple(lines.findings), path=path)


def parse_e820_json(text: str, *, path: str | None = None) -> E820Table:
    """A JSON map: a list (or ``{"e820": [...]}`` / ``{"entries": [...]}``) of
    objects with ``start`` and one of ``size``, ``end`` (exclusive) or ``last``
    (inclusive), and ``type`` (number or name).  Numbers may be JSON integers
    or strings as :func:`~sratplan.units.parse_size` reads them.  A
    kernel-truth ``truth.json`` works too (its ``e820.bios`` list)."""
    if len(text) > MAX_INPUT_BYTES:
        raise LimitError("input is too large", table="e820", path=path)

    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"not JSON: {exc}", table="e820", path=path) from None
    items = doc
    if isinstance(doc, dict):
        if isinstance(doc.get("e820"), dict) and isinstance(doc["e820"].get("bios"), list):
            items = doc["e820"]["bios"]
        else:
            items = doc.get("e820", doc.get("entries"))
    if not isinstance(items, list):
        raise ParseError("expected a list of e820 entries (or an object with 'e820'/'entries')",
                         table="e820", path=path)
    if len(items) > MAX_TEXT_ENTRIES:
        raise LimitError(f"more than {MAX_TEXT_ENTRIES} e820 entries", table="e820", path=path)
    findings = []
    ents = []

    def num(v, what):
        if isinstance(v, bool):
            raise UsageError(f"{what}: not a number")
        if isinstance(v, int):
            if not 0 <= v <= 1 << 64:
                raise UsageError(f"{what}: out of range")
            return v
        if isinstance(v, str):
            return parse_size(v, what=what)
        raise UsageError(f"{what}: not a number")

    for i, it in enumerate(items):
        where = f"{path or 'json'}[{i}]"
        if not isinstance(it, dict):
            findings.append(_f("E820_BAD_ENTRY", Severity.WARNING, "entry is not an object", where))
            continue
        try:
            s = num(it.get("start"), "start")
            if "size" in it:
                size = num(it["size"], "size")
            elif "end" in it:
                size = num(it["end"], "end") - s
            elif "last" in it:
                size = num(it["last"], "last") + 1 - s
            else:
                raise UsageError("needs size, end or last")
        except UsageError as exc:
            findings.append(_f("E820_BAD_ENTRY", Severity.WARNING, str(exc), where))
            continue
        raw_t = it.get("type")
        typ = raw_t if isinstance(raw_t, int) and not isinstance(raw_t, bool) and 0 < raw_t <= 0xFFFFFFFF \
            else _hand_type(str(raw_t)) if isinstance(raw_t, str) else None
        if typ is None:
            findings.append(_f("E820_UNKNOWN_TYPE_NAME", Severity.WARNING, f"unknown type {raw_t!r}", where))
            continue
        if size < 0 or s + size > 1 << 64:
            findings.append(_f("E820_BAD_ENTRY", Severity.WARNING, "negative size or range past 2^64", where))
            continue
        ents.append(E820Entry(s, size, typ))
    return E820Table(entries=tuple(ents), source="json", findings=tuple(findings), path=path)


# ---------------------------------------------------------------------------
# Auto-detection


def _read_text(p) -> str:  # p: a pathlib.Path
    return read_text(p, MAX_INPUT_BYTES, what="e820 input")


def read_e820(path) -> E820Table:
    """Read an e820 map from *path*, recognising its form.

    A directory is a ``/sys/firmware/memmap`` tree (or a capture directory
    holding ``memmap.txt`` / ``e820.txt`` / ``boot_params.bin`` / ``dmesg.txt``);
    a 4096-byte binary file is a zero page; text is tried as a kernel log,
    a memmap listing, ``/proc/iomem``, JSON, then the hand-written form.
    """
    p = Path(path)
    if p.is_dir():
        if any(c.isdigit() for c in os.listdir(p)) and (p / "0").is_dir():
            return read_memmap_dir(p)
        for name in ("memmap.txt", "e820.txt", "boot_params.bin", "dmesg.txt"):
            if (p / name).is_file():
                return read_e820(p / name)
        sub = p / "sys" / "firmware" / "memmap"
        if sub.is_dir():
            return read_memmap_dir(sub)
        raise InputError("directory holds no e820 map (memmap tree, memmap.txt, e820.txt, boot_params.bin)",
                         path=str(p))
    raw = read_bytes(p, MAX_INPUT_BYTES, what="e820 input")
    if b"\0" in raw[:4096]:
        bp = parse_boot_params(raw, path=str(p))
        return bp.e820
    text = raw.decode("utf-8", errors="replace")
    return parse_e820_any(text, path=str(p))


def _looks_like_log(text: str) -> bool:
    head = text[:8192]
    return "Linux version" in head or re.search(r"^\s*(?:\S+ +\d+ [\d:]+ \S+ kernel: )?\[\s*\d+\.\d+\] ",
                                                 head, re.M) is not None


def parse_e820_any(text: str, *, path: str | None = None) -> E820Table:
    """Recognise the form of an e820 text (see :func:`read_e820`): JSON first
    (a kernel-truth truth.json holds "Linux version" and BIOS-e820 lines in its
    strings), then a kernel log, a memmap listing, /proc/iomem, and the
    hand-written form."""
    stripped = text.lstrip()
    # "[" also starts every line of a dmesg with timestamps: JSON when a JSON
    # value follows it
    if stripped[:1] == "{" or re.match(r"\[\s*[\[{\]\"]", stripped):
        return parse_e820_json(text, path=path)
    if re.search(r"(?:BIOS-e820|BIOS-e801|BIOS-88): ", text) or _looks_like_log(text):
        return parse_dmesg_e820(text, path=path)
    body = [ln for ln in text.splitlines()[:64] if ln.strip() and not ln.lstrip().startswith("#")]
    sample = body[:8]
    # a form is recognised by most of its first lines, so one garbled line is
    # reported by that form's reader instead of turning every line into an error
    need = max(1, (len(sample) * 3 + 4) // 5)
    memmap_like = sum(1 for ln in sample if re.match(r"^\s*\d+\s+(0x)?[0-9a-fA-F]+\s+(0x)?[0-9a-fA-F]+\s+\S", ln))
    iomem_like = sum(1 for ln in sample if _IOMEM_RE.match(ln) or ln[:1].isspace())
    if body and memmap_like >= need and memmap_like >= iomem_like:
        return parse_memmap_text(text, path=path)
    if body and iomem_like >= need:
        return parse_iomem(text, path=path)
    return parse_e820_text(text, path=path)
