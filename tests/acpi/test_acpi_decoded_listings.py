"""Differential against the older iasl listings embedded in the linuxhw
``*.decoded.txt`` dumps: each decoded table's section must agree field by
field with what sratplan decodes from the same section's Raw Table Data."""

from __future__ import annotations

import re

import pytest
from acpi_paths import REAL
from iasl_listing import compare, parse_listing

from sratplan.acpi.sources import read_tables

DUMPS = sorted((REAL / "acpidump").glob("*decoded*"))
_SECTION = re.compile(r"^([A-Za-z0-9_!]{4}\d*)\r?\n-{4,}\r?$", re.M)


@pytest.mark.parametrize("dump", DUMPS, ids=lambda p: p.name)
def test_decoded_dump_listing_agrees(dump):
    text = dump.read_text(encoding="latin-1")
    parts = _SECTION.split(text)
    sections = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    n = 0
    for t in read_tables(dump):
        if t.signature not in ("SRAT", "SLIT", "MSCT", "HMAT", "CEDT"):
            continue
        sec = sections.get(t.name) or sections.get(f"{t.signature}{t.instance}")
        assert sec is not None, t.name
        agree, bad, _missing, iasl_only = compare(t, parse_listing(sec))
        assert not bad, (t.name, bad[:5])
        assert not [x for x in iasl_only if x[1] != "Raw Data"], (t.name, iasl_only[:5])
        n += agree
    assert n > 0
