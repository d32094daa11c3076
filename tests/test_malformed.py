"""The malformed corpus (fixtures/malformed/, made by fuzz/make_malformed.py):
each file gives its precise finding, or one SratplanError that says where.

Findings are compared as (code, severity, offset or line) so that a change of
wording passes but a finding that moves, changes class or disappears fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sratplan import pipeline
from sratplan.acpi.sources import read_tables
from sratplan.errors import InputError, ParseError
from sratplan.firmware.e820_readers import read_e820
from sratplan.machine import load_machine

ROOT = Path(__file__).resolve().parent.parent
MAL = ROOT / "fixtures" / "malformed"

E, W, I = "error", "warning", "info"   # noqa: E741


def _table_findings(name):
    ts = read_tables(MAL / name)
    return {(f.code, f.severity.value, f.offset) for f in ts.all_findings()}, ts


def _e820_findings(name):
    t = read_e820(MAL / name)
    return [(f.code, f.severity.value, (f.where or "").rsplit(":", 1)[-1]) for f in t.findings], t


# file -> findings it must produce (exactly these; SRAT_MEMORYLESS_DOMAIN is
# the honest consequence when the damage hides PXM 1's memory)
TABLE_CASES = {
    "srat-length-larger.bin": {("SRAT_LENGTH_MISMATCH", E, 4)},
    "srat-length-smaller.bin": {("SRAT_LENGTH_MISMATCH", W, 4), ("SRAT_MEMORYLESS_DOMAIN", I, 64)},
    "srat-zero-length-mid.bin": {("SRAT_ZERO_LENGTH_SUBTABLE", E, 120), ("SRAT_MEMORYLESS_DOMAIN", I, 64)},
    "srat-zero-length-first.bin": {("SRAT_ZERO_LENGTH_SUBTABLE", E, 48)},
    "srat-subtable-past-end.bin": {("SRAT_SUBTABLE_TRUNCATED", E, 160), ("SRAT_MEMORYLESS_DOMAIN", I, 64)},
    "srat-trailing-stub.bin": {("SRAT_TRAILING_BYTES", I, 200)},
    "srat-unknown-type.bin": {("SRAT_UNKNOWN_SUBTABLE", W, 80)},
    "srat-future-revision.bin": {("SRAT_SUBTABLE_TOO_LONG", W, 160)},
    "srat-bad-checksum.bin": {("SRAT_BAD_CHECKSUM", W, 9)},
    "srat-overlap.bin": {("SRAT_MEMORY_OVERLAP_CROSS_DOMAIN", W, 120), ("SRAT_MEMORY_OVERLAP", W, 160)},
    "srat-wraparound.bin": {("SRAT_RANGE_OVERFLOW", E, 200)},
    "srat-pxm-over-255-rev1.bin": {("SRAT_PXM_TRUNCATED", W, 120)},
    "srat-2049-memory-entries.bin": set(),
    "srat-padded-disabled.bin": set(),
    "srat-binary-creator-id.bin": set(),
    "dsl-length-mismatch.dsl": {("RAW_DATA_LENGTH_MISMATCH", E, None)},
    "acpidump-missing-tables.txt": {("TABLE_UNDECODABLE", E, None)},
}


@pytest.mark.parametrize("name", sorted(TABLE_CASES))
def test_table_findings(name):
    got, ts = _table_findings(name)
    assert got == TABLE_CASES[name]
    # nothing is dropped silently: every byte of a decoded table is kept
    for t in ts:
        assert len(t.raw) > 0


def test_zero_length_first_keeps_the_rest_raw():
    _, ts = _table_findings("srat-zero-length-first.bin")
    srat = ts.get("SRAT")
    # the walk stops like Linux's, but the bytes after it are kept, not lost
    assert srat.subtables[0].length == 0
    assert len(srat.trailing) == len(srat.raw) - 48 - 2


def test_padded_and_binary_ids_decode_everything():
    _, ts = _table_findings("srat-padded-disabled.bin")
    assert len(ts.get("SRAT").subtables) == 5 + 400
    _, ts = _table_findings("srat-binary-creator-id.bin")
    h = ts.get("SRAT").header
    assert h.oem_id.startswith("\xff\x00HP") and h.asl_compiler_id == "\x8b\x00\xfe\x01"


@pytest.mark.parametrize("name, table, offset, line, field", [
    ("srat-truncated-header.bin", "SRAT", 20, None, "header"),
    ("acpidump-broken-hex.txt", "SRAT", 0x20, 4, "hex"),
    ("acpidump-odd-offset.txt", "SRAT", 0x20, 4, "offset"),
])
def test_table_errors_say_where(name, table, offset, line, field):
    with pytest.raises(ParseError) as ei:
        read_tables(MAL / name)
    e = ei.value
    assert (e.table, e.offset, e.line, e.field) == (table, offset, line, field)
    assert e.path == str(MAL / name) and str(MAL / name) in str(e)


E820_CASES = {
    "e820-dmesg-garbage.txt": [("E820_BAD_LINE", W, "3"), ("E820_UNKNOWN_TYPE_NAME", W, "6")],
    "e820-dmesg-7x-garbage.txt": [("E820_BAD_LINE", W, "6")],
    "e820-dmesg-old-garbage.txt": [("E820_BAD_LINE", W, "4")],
    "e820-memmap-garbage.txt": [("E820_BAD_LINE", W, "3"), ("E820_UNKNOWN_TYPE_NAME", W, "5")],
    "e820-text-garbage.txt": [("E820_BAD_LINE", W, "3"), ("E820_BAD_LINE", W, "5")],
    "e820-json-garbage.json": [("E820_BAD_ENTRY", W, "e820-json-garbage.json[1]")],
    "boot_params-count-over-128.bin": [("E820_BOOT_PARAMS_COUNT", W, "boot_params-count-over-128.bin")],
}


@pytest.mark.parametrize("name", sorted(E820_CASES))
def test_e820_findings(name):
    got, t = _e820_findings(name)
    got = [(c, s, w.rsplit("/", 1)[-1]) for c, s, w in got]
    assert got == E820_CASES[name]
    # the good lines around the garbage are all read
    assert sum(1 for e in t.entries if e.type == 1) >= 2


def test_e820_dialects_are_recognised():
    for name, dialect in (("e820-dmesg-7x-garbage.txt", "gaps"), ("e820-dmesg-old-garbage.txt", "old")):
        _, t = _e820_findings(name)
        assert dialect in str(t.dialect)


def test_boot_params_of_the_wrong_size():
    with pytest.raises(ParseError) as ei:
        read_e820(MAL / "boot_params-short.bin")
    e = ei.value
    assert (e.table, e.offset, e.field) == ("boot_params", 1024, "e820_table")


def test_2049_memory_entries_make_linux_drop_the_srat():
    # NR_NODE_MEMBLKS = 2 * MAX_NUMNODES = 2048: numa_add_memblk fails on the
    # 2,049th range, acpi_numa_memory_affinity_init calls bad_srat()
    r = pipeline.run(load_machine([MAL / "srat-2049-memory-entries.bin"]))
    assert r.plan.numa_source == "dummy" and "NR_NODE_MEMBLKS" in r.plan.numa_reason
    assert "SRAT_NOT_USED" in {f.code for f in r.findings}


def test_pxm_over_255_is_masked_in_revision_1():
    p = pipeline.run(load_machine([MAL / "srat-pxm-over-255-rev1.bin"])).plan
    assert [n.pxms for n in p.nodes] == [(0,), (1,)]


@pytest.mark.parametrize("name", sorted(n for n in TABLE_CASES
                                         if n.endswith(".bin") and n != "srat-2049-memory-entries.bin"))
def test_every_decodable_malformed_table_plans(name):
    if name == "srat-zero-length-first.bin":
        # no memory entry survives the walk and no e820 is given: nothing says
        # where RAM is, which is an input error, not a crash
        with pytest.raises(InputError, match="SRAT 0x30: subtable of type 1 at 0x30 has length 0"):
            load_machine([MAL / name])
        return
    p = pipeline.run(load_machine([MAL / name])).plan
    assert p.nodes and p.max_pfn > 0


def test_corpus_is_what_the_generator_makes():
    r = subprocess.run([sys.executable, "-m", "fuzz.make_malformed", "--check"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_file_is_covered():
    names = {p.name for p in MAL.iterdir()} - {"README.md"}
    covered = set(TABLE_CASES) | set(E820_CASES) | {"srat-truncated-header.bin", "acpidump-broken-hex.txt",
                                                    "acpidump-odd-offset.txt", "boot_params-short.bin"}
    assert names == covered
