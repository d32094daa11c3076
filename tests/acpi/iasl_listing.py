"""Read the field listing of ``iasl -d`` output, for the differential tests.

Each listed field line looks like ``[OFFh DEC LEN] Label : value`` (LEN is
``004h`` in current iasl, `` 4`` in older releases); wide SLIT rows continue
on the next line after a trailing backslash.
"""

from __future__ import annotations

import re

_LINE = re.compile(r"^\[([0-9A-Fa-f]+)h\s+(\d+)\s+([0-9A-Fa-f]+h|\d+)\]\s*(.*?) : (.*)$")
_STR = re.compile(r'^"(.*)"(\s+\[.*\])?$')


def parse_listing(text: str) -> dict[int, tuple[str, str]]:
    """{offset: (label, value text)} for every field line of one table's listing.
    Stops at the Raw Table Data block."""
    out: dict[int, tuple[str, str]] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("Raw Table Data"):
            break
        m = _LINE.match(line)
        i += 1
        if not m:
            continue
        value = m.group(5).rstrip()
        while value.endswith("\\") and i < len(lines):
            value = value[:-1].rstrip() + " " + lines[i].strip()
            i += 1
        out.setdefault(int(m.group(1), 16), (" ".join(m.group(4).split()), value))
    return out


def parse_value(text: str, kind: str):
    """iasl's value text as the type sratplan decodes (int, str or bytes);
    None when the text is not of that form."""
    text = text.strip()
    if kind == "s":
        m = _STR.match(text)
        return m.group(1) if m else None
    toks = text.split()
    if kind == "b":
        hexes = []
        for t in toks:
            if len(t) == 2 and all(c in "0123456789abcdefABCDEF" for c in t):
                hexes.append(t)
            else:
                break
        return bytes.fromhex("".join(hexes))
    try:
        return int(toks[0], 16)
    except (IndexError, ValueError):
        return None


def compare(table, listing: dict[int, tuple[str, str]]):
    """Compare every field sratplan decodes with iasl's listing.

    Returns (agree, disagreements, not_in_iasl, iasl_only): counts of equal
    fields, a list of (offset, label, ours, theirs) that differ, fields iasl
    did not list (types or parts it cannot decode, or after it stopped), and
    iasl fields at offsets where sratplan lists nothing.
    """
    from sratplan.acpi import model as m

    ours = list(table.fields())
    for s in table.subtables:
        ours.extend(s.fields())
    agree = 0
    bad = []
    missing = 0
    seen = set()
    for off, _size, label, value, kind in ours:
        seen.add(off)
        theirs = listing.get(off)
        if theirs is None:
            missing += 1
            continue
        tlabel, tvalue = theirs
        if tlabel in ("Raw Data", "") or tlabel.startswith("Unknown"):
            missing += 1
            continue
        if " ".join(label.split()) != tlabel and not tlabel.startswith("Reserved"):
            # (Older ACPICA releases call fields defined since then "Reserved":
            # HMAT Minimum Transfer Size and Address Mode; values still compared.)
            bad.append((off, label, "label", tlabel))
            continue
        want = m.iasl_text(value) if kind == "s" else value
        got = parse_value(tvalue, kind)
        if got != want:
            bad.append((off, label, want, got))
        else:
            agree += 1
    iasl_only = [(off, lab) for off, (lab, _v) in listing.items() if off not in seen]
    return agree, bad, missing, iasl_only
