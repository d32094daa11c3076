"""Readers for every form ACPI tables come in, auto-detected.

* a binary table: ``/sys/firmware/acpi/tables/SRAT``, ``acpidump -b`` or
  ``acpixtract`` ``.dat`` files, QEMU's expected-table blobs;
* ``acpidump`` text: ``SIG @ 0xADDR`` blocks of hex lines, many tables, the
  same signature more than once (SSDT1..n, a second SRAT);
* ``iasl -d`` output (``.dsl``) and the linuxhw ``*.decoded.txt`` files that
  concatenate many of them: each table's "Raw Table Data" hex block;
* a directory of binary tables like ``/sys/firmware/acpi/tables`` (files
  only; ``SSDT1``, ``SSDT2`` name instances).

Inputs are only ever opened for reading.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import InputError, ParseError, SratplanError
from ..findings import Finding
from ..inputs import read_bytes
from . import model as m
from .checks import check_tables
from .tables import decode

# Real acpidump texts are under 2 MiB; 32 MiB of hex holds 8 MiB of tables,
# i.e. two at MAX_TABLE_BYTES (issue 7: bounded time and memory).
MAX_INPUT_BYTES = 32 << 20

_f = m.finding

# acpidump text and iasl -d listings
_ACPIDUMP_HEAD = re.compile(rb"^[ \t]*([A-Za-z0-9_!]{4}|RSD PTR ?) @ 0x([0-9A-Fa-f]+)[ \t]*\r?$", re.MULTILINE)
_HEXLINE = re.compile(r"^\s*([0-9A-Fa-f]{4,8}):\s")
_HEXRUN = re.compile(r"(?:[0-9A-Fa-f]{2} )*[0-9A-Fa-f]{2} ?")
_RAW_HEAD = re.compile(r"Raw Table Data: Length (\d+) \(0x([0-9A-Fa-f]+)\)")


_SIG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_!")


def _sig_name(stem: str):
    """(signature, instance digits) of a table name like ``SRAT`` or
    ``SSDT2`` (what ``^([A-Z0-9_!]{4})(\\d*)$`` matches), else None."""
    if stem.endswith("\n"):
        stem = stem[:-1]
    sig, digits = stem[:4], stem[4:]
    if len(sig) == 4 and all(c in _SIG_CHARS for c in sig) and (not digits or digits.isdecimal()):
        return sig, digits
    return None


@dataclass(frozen=True)
class TableSet:
    """Every table read from one source, in source order.

    ``get(sig)`` returns the first instance (Linux uses only the first SRAT,
    SLIT, ...); ``all(sig)`` every instance; ``findings`` are about the
    source itself and about the tables together (SLIT vs SRAT domains).
    """
    tables: tuple[m.Table, ...]
    findings: tuple[Finding, ...] = ()
    source: str = ""
    format: str = ""

    def __iter__(self):
        return iter(self.tables)

    def __len__(self):
        return len(self.tables)

    def get(self, sig: str) -> m.Table | None:
        for t in self.tables:
            if t.signature == sig:
                return t
        return None

    def all(self, sig: str) -> list[m.Table]:
        return [t for t in self.tables if t.signature == sig]

    def all_findings(self) -> list[Finding]:
        out = list(self.findings)
        for t in self.tables:
            out.extend(t.findings)
        return out


def _read(path: str) -> bytes:
    return read_bytes(path, MAX_INPUT_BYTES, what="ACPI table input")


def detect(data: bytes) -> str:
    """'binary', 'acpidump' or 'dsl' for the bytes of one file."""
    if len(data) >= 8 and int.from_bytes(data[4:8], "little") == len(data) and _plausible_sig(data[:4]):
        return "binary"
    head = data[: 1 << 20]
    if b"Raw Table Data" in head or b"Raw Table Data" in data:
        return "dsl"
    if _ACPIDUMP_HEAD.search(head):
        return "acpidump"
    return "binary"


def _plausible_sig(b: bytes) -> bool:
    return all(0x20 < c < 0x7F for c in b)


def read_tables(path) -> TableSet:
    """Read every ACPI table in a file (any supported form) or directory.

    Raises :class:`~sratplan.errors.InputError` for a missing or unreadable
    path and :class:`~sratplan.errors.ParseError` when a single binary table
    cannot be decoded or a text dump is malformed; tables that fail inside a
    multi-table source become findings instead.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return _read_dir(path)
    data = _read(path)
    if not data:
        raise InputError("empty file", path=path)
    kind = detect(data)
    if kind == "binary":
        t = decode(data, path=path)
        name = os.path.basename(path)
        mm = _sig_name(name.split(".")[0].upper())
        inst = int(mm[1]) if mm and mm[1] and mm[0] == t.signature else 1
        return _finish(path, kind, [_with(t, instance=inst)], [])
    text = data.decode("latin-1")
    if kind == "dsl":
        return _read_dsl(path, text)
    return _read_acpidump(path, data, text)


def _with(t: m.Table, **kw) -> m.Table:
    
    return m.replace(t, **kw)


def _finish(path, kind, tables, findings) -> TableSet:

    counts: dict[str, int] = {}
    out = []
    for t in tables:
        counts[t.signature] = counts.get(t.signature, 0) + 1
        out.append(t)
    findings = list(findings) + check_tables(out)
    return TableSet(tuple(out), tuple(findings), source=path, format=kind)


def _hex_block(lines, start_index, path, table=None):
    """Parse consecutive 'OFFS: HH HH ..' lines from lines[start_index:].
    Returns (bytes, index after the block).  Errors name the line, the table
    being read and the byte offset inside it where the damage starts."""
    hexline = _HEXLINE
    hexrun = _HEXRUN
    buf = bytearray()
    i = start_index
    n = len(lines)
    while i < n:
        line = lines[i]
        mm = hexline.match(line)
        if not mm:
            if line.strip() == "" and not buf:
                i += 1
                continue
            break
        off = int(mm.group(1), 16)
        if off != len(buf):
            raise ParseError(f"hex line offset 0x{off:x} where 0x{len(buf):x} was expected",
                             path=path, line=i + 1, field="offset", table=table, offset=len(buf))
        pos = mm.end()
        # Up to 16 bytes as "HH" separated by single spaces (47 characters);
        # the ASCII column follows after two or more spaces (and "//" in iasl).
        chunk = line[pos:pos + 48].split("  ")[0]
        if hexrun.fullmatch(chunk):
            # the common line: nothing but "HH" tokens (one trailing space at most)
            buf += bytes.fromhex(chunk)
            i += 1
            continue
        toks = chunk.split(" ")
        good = []
        for tok in toks:
            if len(tok) == 2 and all(c in "0123456789abcdefABCDEF" for c in tok):
                good.append(tok)
            else:
                break
        if not good or len(good) > 16:
            raise ParseError("hex line without bytes", path=path,
                             line=i + 1, field="hex", table=table, offset=len(buf))
        buf += bytes.fromhex("".join(good))
        i += 1
    return bytes(buf), i


def _decode_in_source(data, path, where, findings, **kw):
    try:
        t = decode(data, path=path)
    except SratplanError as e:
        findings.append(_f("TABLE_UNDECODABLE", "error", f"{where}: {getattr(e, 'reason', e)}",
                                where=where))
        return None
    return _with(t, **kw)


# the tables sratplan decodes fully: one of them unreadable is an input error
PLAN_SIGNATURES = frozenset({"SRAT", "SLIT", "MSCT", "CEDT", "HMAT"})


def _read_acpidump(path, data: bytes, text: str) -> TableSet:
    lines = text.splitlines()
    findings: list[Finding] = []
    tables = []
    counts: dict[str, int] = {}
    i = 0
    n = len(lines)
    head = _ACPIDUMP_HEAD
    while i < n:
        mm = head.match(lines[i].encode("latin-1"))
        if not mm:
            i += 1
            continue
        sig = mm.group(1).decode()
        addr = int(mm.group(2), 16)
        where = f"{sig} @ 0x{addr:x} (line {i + 1})"
        key = "RSDP" if sig.startswith("RSD") else sig
        try:
            blob, j = _hex_block(lines, i + 1, path, key)
        except ParseError as e:
            if key in PLAN_SIGNATURES:
                raise               # the table sratplan is asked about cannot be read: say where
            # one unreadable block of another table is that table's problem: the others are still used
            findings.append(_f("TABLE_UNREADABLE", "error", f"the {sig} block cannot be read "
                               f"({getattr(e, 'reason', e)}); the other tables are used", table=sig, where=where))
            i += 1
            while i < n and not head.match(lines[i].encode("latin-1")):
                i += 1
            continue
        counts[key] = counts.get(key, 0) + 1
        t = _decode_in_source(blob, path, where, findings,
                              address=addr or None, instance=counts[key])
        if t is not None:
            if t.signature != key and key != "RSDP":
                findings.append(_f("TABLE_SIGNATURE_MISMATCH", "warning",
                                        f"{where}: block is labelled {sig} but the table says {t.signature}",
                                        where=where))
            tables.append(t)
        i = max(j, i + 1)
    if not tables and not findings:
        raise ParseError("no ACPI table found in acpidump text", path=path)
    return _finish(path, "acpidump", tables, findings)


def _read_dsl(path, text: str) -> TableSet:
    lines = text.splitlines()
    findings: list[Finding] = []
    tables = []
    counts: dict[str, int] = {}
    # Section names of linuxhw decoded dumps ("SRAT2\n-----"), by line index.
    sections = []
    for i in range(len(lines) - 1):
        if lines[i + 1].startswith("----") and set(lines[i + 1].strip()) == {"-"}:
            if _sig_name(lines[i].strip()) or lines[i].strip() == "RSDP":
                sections.append((i, lines[i].strip()))
    seen_sections = set()
    raw_head = _RAW_HEAD
    for i, line in enumerate(lines):
        mm = raw_head.search(line)
        if not mm:
            continue
        want = int(mm.group(1))
        blob, _j = _hex_block(lines, i + 1, path)
        sec = None
        for si, name in sections:
            if si < i:
                sec = (si, name)
        where = f"{sec[1] if sec else 'table'} (line {i + 1})"
        if sec:
            seen_sections.add(sec[0])
        if len(blob) != want:
            findings.append(_f("RAW_DATA_LENGTH_MISMATCH", "error",
                                    f"{where}: Raw Table Data says {want} bytes, the hex block has {len(blob)}",
                                    where=where))
        sig = blob[:4].decode("latin-1")
        key = "RSDP" if sig == "RSD " else sig
        counts[key] = counts.get(key, 0) + 1
        t = _decode_in_source(blob, path, where, findings, instance=counts[key])
        if t is not None:
            tables.append(t)
    for si, name in sections:
        if si not in seen_sections:
            findings.append(_f("TABLE_WITHOUT_RAW_DATA", "info",
                                    f"{name} (line {si + 1}) has no Raw Table Data block; not decoded",
                                    where=name))
    if not tables and not any(f.code == "TABLE_UNDECODABLE" for f in findings):
        raise ParseError("no Raw Table Data block found", path=path)
    return _finish(path, "dsl", tables, findings)


def _sort_key(name):
    mm = _sig_name(name.split(".")[0].upper())
    if mm:
        return (mm[0], int(mm[1] or 0), name)
    return (name, 0, name)


def _read_dir(path) -> TableSet:
    try:
        names = sorted((n for n in os.listdir(path) if os.path.isfile(os.path.join(path, n))), key=_sort_key)
    except OSError as e:
        raise InputError(f"cannot list directory: {e.strerror or e}", path=path) from None
    findings: list[Finding] = []
    tables = []
    counts: dict[str, int] = {}
    for name in names:
        fp = os.path.join(path, name)
        try:
            data = _read(fp)
        except InputError as e:
            findings.append(_f("TABLE_UNREADABLE", "error", str(e), where=name))
            continue
        if not data:
            findings.append(_f("TABLE_UNDECODABLE", "info", f"{name}: empty file", where=name))
            continue
        t = _decode_in_source(data, fp, name, findings)
        if t is None:
            continue
        counts[t.signature] = counts.get(t.signature, 0) + 1
        tables.append(_with(t, instance=counts[t.signature]))
    if not tables and not findings:
        raise InputError("no ACPI tables in directory", path=path)
    return _finish(path, "directory", tables, findings)
