"""Bytes -> table model, with an explicit bounds-checked subtable walker.

The walk mirrors drivers/acpi/tables.c:acpi_parse_entries_array (Linux 5.10
through 7.x, unchanged in the parts modelled here): start after the table's
fixed header, continue while ``entry + subtable_header_size < table_end``
(so a 1-2 byte stub at the end of an SRAT is never looked at), and stop at the
first entry whose length is 0 ("Invalid zero length").  ``table_end`` is the
header's Table Length, clipped to the bytes actually present.  Unlike Linux,
which never checks that an entry fits inside the table, the walker stops at a
truncated entry and reports it.

Every structure is kept: unknown types, too-short and truncated entries become
:class:`~sratplan.acpi.model.UnknownSubtable` with their raw bytes, and bytes
the walk does not consume stay in ``Table.trailing``; :func:`build` turns a
model back into the exact bytes.

Types 0, 1 and 2 of the SRAT (the bulk of any large table) are unpacked with
the ``struct`` module; everything else goes through the construct definitions
in :mod:`sratplan.acpi.structs`.  ``tests/acpi/test_structs.py`` checks that
both paths agree on every fixture.
"""

from __future__ import annotations

import struct

from ..errors import LimitError, ParseError
from . import checks, structs
from . import model as m

# Caps (issue 7): ten times the largest real table (a 10,240-entry SRAT is
# ~400 KiB; ACPI allows 4 GiB), checked before any work, and six times its
# entry count (x86 Linux has at most 8,192 CPUs and 2,048 memory ranges),
# checked as the walk goes.  Decoding at the caps takes a few seconds; the
# earlier 64 MiB / 2,000,000 took minutes and a gigabyte (found by fuzzing).
MAX_TABLE_BYTES = 4 << 20
MAX_SUBTABLES = 1 << 16

_HDR = struct.Struct("<4sIBB6s8sI4sI")
_SRAT_FIXED = struct.Struct("<IQ")
_SLIT_FIXED = struct.Struct("<Q")
_MSCT_FIXED = struct.Struct("<IIIQ")
_HMAT_FIXED = struct.Struct("<I")

_CHARS = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _fast_maker(cls):
    """A struct-module decoder for a class whose LAYOUT is fixed-size
    integers: ``make(data, offset, length)`` -> instance.

    The function is generated from LAYOUT (so the model stays the one
    definition) and fills the frozen slots through their slot descriptors,
    as a frozen class's ``__init__`` would, without keyword arguments or
    attribute lookups: this is the inner loop of a 10,000-entry SRAT.
    ``tests/acpi/test_acpi_structs.py`` checks that it gives the same objects
    as the construct definitions."""
    names = [attr for attr, _size, _label, _kind in cls.LAYOUT]
    st = struct.Struct("<" + "".join(_CHARS.get(size, f"{size}s") for _a, size, _l, _k in cls.LAYOUT))
    odd = "".join(f"    {a} = int.from_bytes({a}, 'little')\n" for a, size, _l, _k in cls.LAYOUT
                  if size not in _CHARS)  # the 24-bit Proximity Domain High of type 0
    slots = {n: next(k.__dict__[n].__set__ for k in cls.__mro__ if n in k.__dict__)
             for n in ("offset", "raw", *names)}
    src = ("def make(data, off, length, unpack=unpack, new=new, cls=cls, "
           + ", ".join(f"set_{n}=slots[{n!r}]" for n in slots) + "):\n"
           f"    {', '.join(names)}, = unpack(data, off)\n"
           + odd +
           "    s = new(cls)\n"
           "    set_offset(s, off)\n"
           "    set_raw(s, data[off:off + length])\n"
           + "".join(f"    set_{n}(s, {n})\n" for n in names)
           + "    return s\n")
    ns = {"unpack": st.unpack_from, "new": object.__new__, "cls": cls, "slots": slots}
    exec(src, ns)  # noqa: S102 - source built above from the class LAYOUT only
    return ns["make"], st.size


def fast_decode(cls, data: bytes, offset: int, length: int):
    """Decode a type 0/1/2 SRAT subtable with the struct module (no construct)."""
    return _FAST[cls][0](data, offset, length)


SRAT_FAST_TYPES = {0: m.SratCpuAffinity, 1: m.SratMemAffinity, 2: m.SratX2apicCpuAffinity}
_FAST = {cls: _fast_maker(cls) for cls in SRAT_FAST_TYPES.values()}


def construct_decode(cls, cstruct, data: bytes, offset: int, length: int, **more):
    """Decode a fixed-layout structure through its construct definition.
    LAYOUT and the construct Struct list the same fields in the same order
    (checked by the tests), so values are matched by position."""
    size = cstruct.sizeof()
    parsed = cstruct.parse(data[offset:offset + size])
    vals = [v for k, v in parsed.items() if not k.startswith("_")]
    kw = {}
    for (attr, _size, _label, kind), v in zip(cls.LAYOUT, vals, strict=True):
        kw[attr] = v.decode("latin-1") if kind == "s" else v
    kw.update(more)
    return cls(offset=offset, raw=data[offset:offset + length], **kw)


def _f(code, sev, msg, table, offset=None, where=None):
    return m.finding(code, sev, msg, table=table, offset=offset, where=where)


def _header(data: bytes) -> m.AcpiHeader:
    sig, length, rev, csum, oem, oemt, oemr, cid, crev = _HDR.unpack_from(data, 0)
    return m.AcpiHeader(
        sig.decode("latin-1"), length, rev, csum, oem.decode("latin-1"), oemt.decode("latin-1"),
        oemr, cid.decode("latin-1"), crev,
    )


# Signatures without the standard 36-byte header.
NO_HEADER = {"FACS", "RSD ", "RSDP"}


def decode(data: bytes, *, path: str | None = None) -> m.Table:
    """Decode one ACPI table.

    SRAT, SLIT, MSCT, CEDT and HMAT are decoded fully; any other signature
    gives a generic :class:`~sratplan.acpi.model.Table` (header only).  The
    result carries its findings (see docs/findings.md).  Raises
    :class:`~sratplan.errors.ParseError` when the bytes cannot hold an ACPI
    header, :class:`~sratplan.errors.LimitError` for absurd sizes.
    """
    data = bytes(data)
    if len(data) > MAX_TABLE_BYTES:
        raise LimitError(f"table of {len(data)} bytes exceeds the {MAX_TABLE_BYTES}-byte cap",
                         path=path, offset=0, field="Table Length")
    sig = data[:4].decode("latin-1") if len(data) >= 4 else None
    if sig in NO_HEADER:
        return m.Table(signature="RSDP" if sig == "RSD " else sig, header=None, raw=data, path=path)
    if len(data) < 36:
        raise ParseError(f"{len(data)} bytes cannot hold the 36-byte ACPI table header",
                         table=sig, offset=len(data), field="header", path=path)
    hdr = _header(data)
    sig = hdr.signature
    fn = _DECODERS.get(sig)
    if fn is None:
        t = m.Table(signature=sig, header=hdr, raw=data, path=path)
    else:
        t = fn(data, hdr, path)

    return m.replace(t, findings=tuple(t.findings) + tuple(checks.check_table(t)))


def _end(data: bytes, hdr: m.AcpiHeader) -> int:
    return min(hdr.length, len(data))


def _walk(data, hdr, start, hsize, parse_hdr, decode_one, sig, known_classes, header_layout, fast=None):
    """The generic walker.  Returns (subtables, findings, offset where it stopped).
    ``fast`` maps a type to (make, size) for types decoded without
    ``decode_one`` when they are long enough and fit in the table; only for
    tables whose subtable header is a type byte and a length byte."""
    end = _end(data, hdr)
    subs = []
    finds = []
    off = start
    _need: dict = {}
    fast = fast or {}
    append = subs.append
    while off + hsize < end:
        if fast:
            # The run of well-formed fast entries (types 0/1/2 of an SRAT,
            # whose header is a type byte and a length byte).
            limit = MAX_SUBTABLES - len(subs)
            while off + hsize < end and limit > 0:
                mk = fast.get(data[off])
                ln = data[off + 1]
                if mk is None or ln < mk[1] or off + ln > end:
                    break
                append(mk[0](data, off, ln))
                off += ln
                limit -= 1
            if off + hsize >= end:
                break
        if len(subs) >= MAX_SUBTABLES:
            raise LimitError(f"more than {MAX_SUBTABLES} subtables", table=sig, offset=off, field="Length")
        typ, ln = parse_hdr(data, off)
        if ln == 0:
            finds.append(_f(f"{sig}_ZERO_LENGTH_SUBTABLE", "error",
                            f"subtable of type {typ} at 0x{off:x} has length 0: the walk stops here "
                            f"(Linux: 'Invalid zero length', the rest of the table is never read)", sig, off))
            subs.append(m.UnknownSubtable(offset=off, type=typ, length=0, raw=data[off:off + hsize],
                                          reason="zero length", header_layout=header_layout))
            off += hsize
            break
        if off + ln > end:
            finds.append(_f(f"{sig}_SUBTABLE_TRUNCATED", "error",
                            f"subtable of type {typ} at 0x{off:x} claims {ln} bytes but the table ends "
                            f"{end - off} bytes later", sig, off))
            subs.append(m.UnknownSubtable(offset=off, type=typ, length=ln, raw=data[off:end],
                                          reason="truncated", header_layout=header_layout))
            off = end
            break
        cls = known_classes.get(typ)
        if cls is None:
            finds.append(_f(f"{sig}_UNKNOWN_SUBTABLE", "warning",
                            f"unknown subtable type {typ} ({ln} bytes) at 0x{off:x} kept raw", sig, off))
            subs.append(m.UnknownSubtable(offset=off, type=typ, length=ln, raw=data[off:off + ln],
                                          header_layout=header_layout))
        else:
            need = _need.get(cls)
            if need is None:
                need = _need[cls] = sum(f[1] for f in cls.LAYOUT)
            if ln < need:
                finds.append(_f(f"{sig}_SUBTABLE_TOO_SHORT", "error",
                                f"{cls.__name__} at 0x{off:x} is {ln} bytes, at least {need} expected",
                                sig, off))
                subs.append(m.UnknownSubtable(offset=off, type=typ, length=ln, raw=data[off:off + ln],
                                              reason="too short", header_layout=header_layout))
            else:
                subs.append(decode_one(cls, typ, off, ln, finds))
        off += ln
    return subs, finds, off


def _finish(cls, data, hdr, path, subs, finds, off, **kw):
    end = _end(data, hdr)
    trailing = data[off:end] if off < end else b""
    stopped = any(f.code.endswith(("_ZERO_LENGTH_SUBTABLE", "_SUBTABLE_TRUNCATED")) for f in finds)
    if trailing and not stopped:
        sig = hdr.signature
        finds.append(_f(f"{sig}_TRAILING_BYTES", "warning" if len(trailing) > 2 else "info",
                        f"{len(trailing)} byte(s) at 0x{off:x} after the last subtable are not part of any "
                        f"subtable", sig, off))
    return cls(signature=hdr.signature, header=hdr, raw=data, path=path, subtables=tuple(subs),
               trailing=trailing, trailing_offset=off, findings=tuple(finds), **kw)


def _fixed(data, hdr, st, start):
    """Unpack a table's fixed fields after the ACPI header, zero if absent."""
    if len(data) >= start + st.size:
        return st.unpack_from(data, start)
    return (0,) * len(st.format.lstrip("<"))


# --- SRAT --------------------------------------------------------------------

def _srat_hdr(data, off):
    return data[off], data[off + 1]


def _decode_srat(data, hdr, path):
    sig = "SRAT"
    finds = []
    if len(data) < 48 or hdr.length < 48:
        finds.append(_f("SRAT_TOO_SHORT", "error",
                        "table is shorter than the 48-byte SRAT header", sig, 36))
    trev, rsv = _fixed(data, hdr, _SRAT_FIXED, 36)
    cs = None

    def one(cls, typ, off, ln, f):
        nonlocal cs
        if cs is None:
            cs = structs.SRAT_SUBTABLES
        return construct_decode(cls, cs[typ], data, off, ln)

    subs, f2, off = _walk(data, hdr, 48, 2, _srat_hdr, one, sig, m.SRAT_CLASSES, m._SRAT_HDR,
                          {t: _FAST[c] for t, c in SRAT_FAST_TYPES.items()})
    return _finish(m.SratTable, data, hdr, path, subs, finds + f2, max(off, 48),
                   table_revision=trev, reserved=rsv)


# --- SLIT --------------------------------------------------------------------

def _decode_slit(data, hdr, path):
    sig = "SLIT"
    finds = []
    end = _end(data, hdr)
    (n,) = _fixed(data, hdr, _SLIT_FIXED, 36)
    avail = max(0, end - 44)
    rows = []
    if n:
        nrows = min(n, avail // n)
        for i in range(nrows):
            rows.append(tuple(data[44 + i * n:44 + (i + 1) * n]))
        if nrows < n:
            finds.append(_f("SLIT_TOO_SHORT", "error",
                            f"{n} localities need {n * n} matrix bytes, the table has {avail}", sig, 44))
        off = 44 + nrows * n
    else:
        off = 44
    t = _finish(m.SlitTable, data, hdr, path, [], finds, max(off, 44),
                locality_count=n, entry=tuple(rows))
    return t


# --- MSCT --------------------------------------------------------------------

def _decode_msct(data, hdr, path):
    sig = "MSCT"
    pofs, maxpd, maxcd, maxaddr = _fixed(data, hdr, _MSCT_FIXED, 36)
    finds = []
    start = pofs
    if pofs < 56:
        finds.append(_f("MSCT_BAD_PROXIMITY_OFFSET", "error",
                        f"Proximity Offset 0x{pofs:x} points inside the fixed header; "
                        f"proximity structures read from 0x38", sig, 36))
        start = 56
    cs = structs

    def one(cls, typ, off, ln, f):
        return construct_decode(cls, cs.AcpiMsctProximity, data, off, ln)

    subs, f2, off = _walk(data, hdr, start, 2, _srat_hdr, one, sig, _MsctAny(), m.MsctProximity.LAYOUT[:2])
    gap = data[56:start] if start > 56 else b""
    if gap:
        finds.append(_f("MSCT_GAP", "warning", f"{len(gap)} bytes between the header and the "
                        f"proximity structures", sig, 56))
    return _finish(m.MsctTable, data, hdr, path, subs, finds + f2, max(off, start),
                   proximity_offset=pofs, max_proximity_domains=maxpd, max_clock_domains=maxcd,
                   max_address=maxaddr)


class _MsctAny(dict):
    """MSCT proximity structures have a revision byte where others have a type."""
    def get(self, key, default=None):
        return m.MsctProximity


# --- CEDT --------------------------------------------------------------------

def _cedt_hdr(data, off):
    return data[off], int.from_bytes(data[off + 2:off + 4], "little")


def _decode_cedt(data, hdr, path):
    sig = "CEDT"
    cs = structs

    def one(cls, typ, off, ln, f):
        if cls is m.CedtCfmws:
            base = cs.AcpiCedtCfmws.sizeof()
            n = (ln - base) // 4
            targets = struct.unpack_from(f"<{n}I", data, off + base)
            sub = construct_decode(cls, cs.AcpiCedtCfmws, data, off, ln, targets=tuple(targets))
            if sub.ways is not None and sub.ways != n:
                f.append(_f("CEDT_CFMWS_TARGET_COUNT", "error",
                            f"CFMWS at 0x{off:x}: Interleave Members {sub.interleave_ways} means "
                            f"{sub.ways} target(s) but the structure holds {n}", sig, off))
            return sub
        return construct_decode(cls, cs.CEDT_SUBTABLES[typ], data, off, ln)

    subs, finds, off = _walk(data, hdr, 36, 4, _cedt_hdr, one, sig, m.CEDT_CLASSES, m._CEDT_HDR)
    return _finish(m.CedtTable, data, hdr, path, subs, finds, max(off, 36))


# --- HMAT --------------------------------------------------------------------

def _hmat_hdr(data, off):
    return (int.from_bytes(data[off:off + 2], "little"), int.from_bytes(data[off + 4:off + 8], "little"))


def _decode_hmat(data, hdr, path):
    sig = "HMAT"
    (rsv,) = _fixed(data, hdr, _HMAT_FIXED, 36)
    cs = structs

    def one(cls, typ, off, ln, f):
        base = cls.LAYOUT and sum(x[1] for x in cls.LAYOUT)
        if cls is m.HmatLocality:
            head = construct_decode(cls, cs.AcpiHmatLocality, data, off, ln,
                                    initiator_pds=(), target_pds=(), entries=())
            mi, ti = head.number_of_initiator_pds, head.number_of_target_pds
            room = (ln - base)
            need = 4 * mi + 4 * ti + 2 * mi * ti
            if need > room:
                f.append(_f("HMAT_STRUCTURE_TOO_SHORT", "error",
                            f"locality structure at 0x{off:x} needs {need} bytes of lists, has {room}",
                            sig, off))
            p = off + base
            ni = min(mi, room // 4)
            ini = struct.unpack_from(f"<{ni}I", data, p)
            p += 4 * ni
            room -= 4 * ni
            nt = min(ti, room // 4)
            tgt = struct.unpack_from(f"<{nt}I", data, p)
            p += 4 * nt
            room -= 4 * nt
            ne = min(ni * nt, room // 2)
            ent = struct.unpack_from(f"<{ne}H", data, p)
            return m.replace(head, initiator_pds=ini, target_pds=tgt, entries=ent)
        if cls is m.HmatCache:
            head = construct_decode(cls, cs.AcpiHmatCache, data, off, ln, smbios_handles=())
            room = ln - base
            nh = min(head.number_of_smbios_handles, room // 2)
            if nh < head.number_of_smbios_handles:
                f.append(_f("HMAT_STRUCTURE_TOO_SHORT", "error",
                            f"cache structure at 0x{off:x} lists {head.number_of_smbios_handles} SMBIOS "
                            f"handles, room for {nh}", sig, off))
            return m.replace(head, smbios_handles=struct.unpack_from(f"<{nh}H", data, off + base))
        return construct_decode(cls, cs.HMAT_SUBTABLES[typ], data, off, ln)

    subs, finds, off = _walk(data, hdr, 40, 8, _hmat_hdr, one, sig, m.HMAT_CLASSES, m._HMAT_HDR)
    return _finish(m.HmatTable, data, hdr, path, subs, finds, max(off, 40),
                   reserved=rsv)


_DECODERS = {
    "SRAT": _decode_srat,
    "SLIT": _decode_slit,
    "MSCT": _decode_msct,
    "CEDT": _decode_cedt,
    "HMAT": _decode_hmat,
}


# --- build: model -> bytes ----------------------------------------------------

def _enc(v, kind):
    return v.encode("latin-1") if kind == "s" else v


def _build_fixed(obj, cstruct, layout=None) -> bytes:
    layout = layout if layout is not None else obj.LAYOUT
    names = [k for k in cstruct.subcons]
    values = {sc.name: _enc(getattr(obj, f[0]), f[3]) for sc, f in zip(names, layout, strict=True)}
    return cstruct.build(values)


def build(table: m.Table) -> bytes:
    """Rebuild a table's bytes from its model with the construct definitions.

    For every table that decodes, ``build(decode(x)) == x``: the header and
    each known structure are re-encoded field by field; unknown, short and
    truncated structures, walk leftovers and bytes beyond Table Length are
    put back as they were kept.
    """
    cs = structs
    if table.header is None:
        return table.raw
    out = bytearray(_build_fixed(table.header, cs.AcpiTableHeader))
    fixed_end = 36 + sum(f[1] for f in table.LAYOUT)
    if table.LAYOUT:
        if len(table.raw) >= fixed_end:
            for attr, size, _l, _k in table.LAYOUT:
                out += getattr(table, attr).to_bytes(size, "little")
        else:
            out += table.raw[36:fixed_end]
    if isinstance(table, m.MsctTable) and table.proximity_offset > 56:
        out += table.raw[56:table.proximity_offset]
    if isinstance(table, m.SlitTable):
        for row in table.entry:
            out += bytes(row)
    if type(table) is m.Table:
        out += table.raw[36:]
        return bytes(out)
    per_type = {
        m.SratCpuAffinity: cs.AcpiSratCpuAffinity,
        m.SratMemAffinity: cs.AcpiSratMemAffinity,
        m.SratX2apicCpuAffinity: cs.AcpiSratX2apicCpuAffinity,
        m.SratGiccAffinity: cs.AcpiSratGiccAffinity,
        m.SratGicItsAffinity: cs.AcpiSratGicItsAffinity,
        m.SratGenericAffinity: cs.AcpiSratGenericAffinity,
        m.SratRintcAffinity: cs.AcpiSratRintcAffinity,
        m.CedtChbs: cs.AcpiCedtChbs,
        m.CedtCfmws: cs.AcpiCedtCfmws,
        m.HmatProximityDomain: cs.AcpiHmatProximityDomain,
        m.HmatLocality: cs.AcpiHmatLocality,
        m.HmatCache: cs.AcpiHmatCache,
        m.MsctProximity: cs.AcpiMsctProximity,
    }
    for s in table.subtables:
        if isinstance(s, m.UnknownSubtable):
            out += s.raw
            continue
        out += _build_fixed(s, per_type[type(s)])
        if isinstance(s, m.CedtCfmws):
            out += struct.pack(f"<{len(s.targets)}I", *s.targets)
        elif isinstance(s, m.HmatLocality):
            out += struct.pack(f"<{len(s.initiator_pds)}I", *s.initiator_pds)
            out += struct.pack(f"<{len(s.target_pds)}I", *s.target_pds)
            out += struct.pack(f"<{len(s.entries)}H", *s.entries)
        elif isinstance(s, m.HmatCache):
            out += struct.pack(f"<{len(s.smbios_handles)}H", *s.smbios_handles)
        out += s.extra
    out += table.trailing
    out += table.excess
    return bytes(out)
