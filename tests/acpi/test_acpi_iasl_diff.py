"""Differential tests: every field sratplan decodes against iasl's listing.

Two oracles: the committed ``fixtures/dsl`` listings (made by iasl 20260408,
always available) and a live ``iasl -d`` run on every binary fixture (needs
iasl; fields an older iasl cannot decode are skipped, never counted as
agreement).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from acpi_paths import DSL, REAL, binary_tables, rel
from iasl_listing import compare, parse_listing

from sratplan.acpi.tables import decode

REAL_BINARIES = [p for p in binary_tables() if REAL in p.parents]


def _check(table, listing, where):
    agree, bad, _missing, iasl_only = compare(table, listing)
    iasl_only = [x for x in iasl_only if x[1] not in ("Raw Data",) and not x[1].startswith("Unknown")]
    assert not bad, f"{where}: fields differ from iasl: {bad[:5]}"
    assert not iasl_only, f"{where}: iasl lists fields sratplan does not: {iasl_only[:5]}"
    assert agree > 0
    return agree


@pytest.mark.parametrize("path", REAL_BINARIES, ids=rel)
def test_committed_dsl_agrees(path):
    dsl = DSL / path.relative_to(REAL)
    dsl = dsl.with_name(dsl.name + ".dsl")
    listing = parse_listing(dsl.read_text(encoding="latin-1"))
    table = decode(path.read_bytes())
    n = _check(table, listing, rel(path))
    # Header (9 fields) at least, and every SRAT subtable iasl printed.
    assert n >= 9


def test_dell_zero_length_same_entries_as_iasl():
    path = REAL / "srat" / "Dell_Precision-Tower-5810_998589835EA1.SRAT.bin"
    text = (DSL / "srat" / (path.name + ".dsl")).read_text()
    assert "Invalid zero length subtable" in text
    t = decode(path.read_bytes())
    codes = [f for f in t.findings if f.code == "SRAT_ZERO_LENGTH_SUBTABLE"]
    assert len(codes) == 1 and codes[0].offset == 0x1148
    listing = parse_listing(text)
    # iasl shows the type/length of the zero-length entry and nothing after it;
    # sratplan's subtables are exactly the ones iasl printed.
    iasl_subtables = sorted(off for off, (lab, _v) in listing.items() if lab == "Subtable Type")
    assert [s.offset for s in t.subtables] == iasl_subtables
    assert t.subtables[-1].length == 0 and t.subtables[-1].offset == 0x1148
    assert max(listing) < 0x1148 + 2


def _iasl_listing(iasl, path, tmp_path):
    work = tmp_path / "w"
    work.mkdir(exist_ok=True)
    src = work / "t.dat"
    shutil.copyfile(path, src)
    subprocess.run([iasl, "-d", str(src)], cwd=work, capture_output=True, timeout=60)
    out = work / "t.dsl"
    if not out.exists():
        pytest.skip(f"iasl could not disassemble {path.name}")
    return out.read_text(encoding="latin-1")


@pytest.mark.iasl
@pytest.mark.parametrize("path", binary_tables(), ids=rel)
def test_live_iasl_agrees(iasl, path, tmp_path):
    listing = parse_listing(_iasl_listing(iasl, path, tmp_path))
    _check(decode(path.read_bytes()), listing, rel(path))


@pytest.mark.parametrize("path", REAL_BINARIES, ids=rel)
def test_text_output_contains_every_iasl_line(path):
    """Users diff `sratplan decode` against `iasl -d`: every field line iasl
    prints appears verbatim in sratplan's text output."""
    from sratplan.render.acpi_text import table_lines

    dsl = DSL / path.relative_to(REAL)
    dsl = dsl.with_name(dsl.name + ".dsl")
    theirs = [ln.rstrip() for ln in dsl.read_text(encoding="latin-1").splitlines() if ln.startswith("[")]
    ours = {ln.rstrip() for ln in "\n".join(table_lines(decode(path.read_bytes()))).splitlines()}
    missing = [ln for ln in theirs if ln not in ours]
    assert not missing, missing[:5]
