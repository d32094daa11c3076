"""Human output of ``sratplan decode``: iasl-style field listings, a
summary table of the SRAT's memory ranges per proximity domain, and findings.

The field lines use iasl's layout and labels (``[OFFh DEC LENh] Label :
value``) so that a user can diff them against ``iasl -d`` output.
"""

from __future__ import annotations

from ..acpi import model as m
from .common import grid


def fmt_value(value, size: int, kind: str) -> str:
    """A field value the way iasl prints it."""
    if kind == "s":
        return f'"{m.iasl_text(value)}"'
    if kind == "b":
        return " ".join(f"{b:02X}" for b in value)
    return f"{value:0{2 * size}X}"


def field_line(off: int, size: int, label: str, text: str) -> str:
    return f"[{off:03X}h {off:04d} {size:03X}h] {label:>27} : {text}"


def _flag_lines(obj):
    return [f"{name:>44} : {val}" for name, val in obj.flag_names()]


def _raw_lines(out, off, extra):
    for i in range(0, len(extra), 16):
        chunk = extra[i:i + 16]
        out.append(field_line(off + i, len(chunk), "Raw Data" if i == 0 else "",
                              " ".join(f"{b:02X}" for b in chunk)))


_CLASSES = {"SRAT": m.SRAT_CLASSES, "CEDT": m.CEDT_CLASSES, "HMAT": m.HMAT_CLASSES}

def table_lines(t: m.Table):
    """iasl-style text for a whole table: a list of chunks, each one or more
    lines (a subtable on the fast path is one chunk); join with newlines."""
    out = []
    for off, size, label, value, kind in t.fields():
        text = fmt_value(value, size, kind)
        if label == "Signature":
            text += f"    [{m.TABLE_NAMES.get(t.signature, 'ACPI table')}]"
        if label.startswith("Locality "):
            # iasl prints SLIT rows with a wider label column
            out.append(f"[{off:03X}h {off:04d} {size:03X}h] {label:>28} : {text}")
            continue
        out.append(field_line(off, size, label, text))
        if off + size == 36 + sum(f[1] for f in t.LAYOUT):
            out.append("")
    if t.header is None:
        out.append(f"{t.signature}: no standard ACPI header; {len(t.raw)} bytes kept raw")
        return out
    classes = _CLASSES.get(t.signature, {})
    for s in t.subtables:
        note = None
        if isinstance(s, m.UnknownSubtable):
            # Like iasl: name the type when it is known, then say what is wrong.
            known = classes.get(s.type)
            name = (known.NAME if isinstance(known.NAME, str) else
                    ("Generic Port Affinity" if s.type == 6 else "Generic Initiator Affinity")
                    ) if known else "Unknown Subtable Type"
            note = {"unknown type": None, "zero length": "Invalid zero length subtable",
                    "too short": f"Subtable too short ({s.length} bytes, {known.SIZE} expected)"
                                 if known else None,
                    "truncated": "Subtable extends past the end of the table"}.get(s.reason)
        elif isinstance(s, m.MsctProximity):
            name = None
        else:
            name = s.NAME
        first = True
        for off, size, label, value, kind in s.fields():
            text = fmt_value(value, size, kind)
            if first and name:
                text += f" [{name}]"
            first = False
            out.append(field_line(off, size, label, text))
            if label.startswith("Flags") or label.startswith("Cache Attributes"):
                out.extend(_flag_lines(s))
        if note:
            out.append(note)
        if isinstance(s, m.UnknownSubtable):
            extra = s.raw[sum(f[1] for f in s.header_layout):]
        else:
            extra = s.extra
        if extra:
            _raw_lines(out, s.offset + len(s.raw) - len(extra), extra)
        out.append("")
    if t.trailing:
        out.append(f"Trailing bytes: {len(t.trailing)} at 0x{t.trailing_offset:X} (not part of any subtable)")
    if t.excess:
        out.append(f"Bytes beyond Table Length: {len(t.excess)}")
    return out


def _enabled_memory(t: m.SratTable):
    return [s for s in t.subtables if isinstance(s, m.SratMemAffinity) and s.flags & 1]


def _flag_words(s) -> str:
    return ",".join(n for n, on in (("hotplug", s.flags & 2), ("non-volatile", s.flags & 4),
                                    ("specific-purpose", s.flags & 8)) if on) or "-"


def srat_summary_rows(t: m.SratTable, mems=None):
    """One row per enabled memory range, by PXM then base."""
    rev = t.revision
    rows = []
    for s in _enabled_memory(t) if mems is None else mems:
        end = f"0x{s.end - 1:x}" if s.address_length else "-"
        rows.append((s.pxm(rev), s.base_address, [str(s.pxm(rev)), f"0x{s.base_address:x}", end,
                                                  _size(s.address_length), _flag_words(s),
                                                  f"0x{s.offset:x}"]))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in rows]


def _size(n: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n:#x}"


SUMMARY_MAX_ROWS = 128  # above this, one row per (PXM, flags) instead of one per range


def _aggregate(t: m.SratTable, mems=None):
    """One row per (PXM, flags): ranges, total, lowest base, highest end."""
    rev = t.revision
    groups: dict = {}
    for s in _enabled_memory(t) if mems is None else mems:
        base = s.base_address
        end = base + s.address_length
        key = (s.pxm(rev), _flag_words(s))
        g = groups.get(key)
        if g is None:
            groups[key] = [1, s.address_length, base, end]
            continue
        g[0] += 1
        g[1] += s.address_length
        g[2] = min(g[2], base)
        g[3] = max(g[3], end)
    return [[str(p), str(n), _size(total), f"0x{lo:x}", f"0x{hi - 1:x}", fl]
            for (p, fl), (n, total, lo, hi) in sorted(groups.items())]


def srat_summary(t: m.SratTable, fmt: str = "table") -> str:
    rev = t.revision
    mems, cpus, disabled = [], {}, 0
    cpu_like = (m.SratX2apicCpuAffinity, m.SratGiccAffinity, m.SratRintcAffinity)
    for s in t.subtables:  # one pass: a large SRAT has thousands of entries
        if isinstance(s, m.SratMemAffinity):
            if s.flags & 1:
                mems.append(s)
            else:
                disabled += 1
        elif isinstance(s, m.SratCpuAffinity):
            if s.flags & 1:
                p = s.pxm(rev)
                cpus[p] = cpus.get(p, 0) + 1
        elif isinstance(s, cpu_like) and s.flags & 1:
            cpus[s.proximity_domain] = cpus.get(s.proximity_domain, 0) + 1
    if len(mems) > SUMMARY_MAX_ROWS:
        rows, head = _aggregate(t, mems), ["PXM", "Ranges", "Total", "Lowest", "Highest end", "Flags"]
    else:
        rows, head = srat_summary_rows(t, mems), ["PXM", "Base", "End", "Size", "Flags", "Offset"]
    text = grid(rows, head, fmt) if rows else "(no enabled memory ranges)"
    cpu_line = ", ".join(f"PXM {p}: {n}" for p, n in sorted(cpus.items())) or "none"
    return (f"{text}\nEnabled CPU entries per PXM: {cpu_line}\n"
            f"Disabled memory entries: {disabled}")


def findings_lines(findings, fmt="table"):
    out = []
    for f in findings:
        loc = f.location()
        if fmt == "markdown":
            out.append(f"- **{f.severity.value}** `{f.code}` {loc}: {f.message}")
        else:
            out.append(f"{f.severity.value:7} {f.code:28} {loc:14} {f.message}")
    return out


def render_tableset(ts, fmt: str = "table", only=None) -> str:
    """Text (or markdown) for every table of one source."""
    out = []
    md = fmt == "markdown"
    out.append(f"## {ts.source} ({ts.format})" if md else f"# {ts.source} ({ts.format}, {len(ts)} tables)")
    tables = [t for t in ts if not only or t.signature in only]
    for t in tables:
        if t.signature not in m.TABLE_NAMES and not only:
            continue
        where = f" @ 0x{t.address:x}" if t.address else ""
        out.append("")
        out.append(f"### {t.name}{where}" if md else f"## {t.name}{where}")
        out.append("")
        body = table_lines(t)
        if md:
            out.append("```")
            out.extend(body)
            out.append("```")
        else:
            out.extend(body)
        if isinstance(t, m.SratTable):
            out.append("")
            out.append(srat_summary(t, fmt))
        if t.findings:
            out.append("")
            out.append("Findings:")
            out.extend(findings_lines(t.findings, fmt))
    if ts.format != "cross-check" and not any(t.signature in m.TABLE_NAMES for t in tables):
        out.append("")
        out.append("No SRAT, SLIT, MSCT, CEDT or HMAT in this source"
                   + (" (a machine without an SRAT is run by Linux as one NUMA node)." if not only else "."))
    others = [t.name for t in ts if t.signature not in m.TABLE_NAMES and not only]
    if others:
        out.append("")
        out.append(f"Other tables (header only): {' '.join(others)}")
    if ts.findings:
        out.append("")
        out.append("Source findings:")
        out.extend(findings_lines(ts.findings, fmt))
    return "\n".join(out) + "\n"
