"""Every input form gives the same tables: binary, acpidump text, iasl .dsl,
linuxhw decoded dumps and a sysfs-like directory."""

from __future__ import annotations

import os
import shutil

import pytest
from acpi_paths import DSL, REAL, binary_tables, index_rows, rel, text_dumps
from builders import cpu, mem, srat

from sratplan.acpi.sources import detect, read_tables
from sratplan.acpi.tables import decode
from sratplan.errors import InputError, ParseError, SratplanError


def _pairs():
    """(text dump, signature, instance, binary) for every table INDEX.tsv pairs
    with a dump: the SRAT, its SRAT2 and the SLIT/MSCT/HMAT extras."""
    out = []
    for row in index_rows():
        dump = row["acpidump_file"]
        if dump in ("", "-"):
            continue
        files = [row["srat_file"]] + [x for x in row["extra_files"].split(",") if x.startswith("srat/")]
        for f in files:
            name = os.path.basename(f)
            sig = name.rsplit(".", 2)[-2]
            inst = int(sig[4:] or 1)
            out.append((REAL / dump, sig[:4], inst, REAL / f))
    return out


@pytest.mark.parametrize("dump,sig,inst,binary", _pairs(), ids=lambda x: x.name if hasattr(x, "name") else str(x))
def test_text_dump_table_matches_binary(dump, sig, inst, binary):
    ts = read_tables(dump)
    tables = ts.all(sig)
    assert len(tables) >= inst
    t = tables[inst - 1]
    assert t.raw == binary.read_bytes()
    assert t.instance == inst
    b = decode(binary.read_bytes())
    assert t.subtables == b.subtables and [f.code for f in t.findings] == [f.code for f in b.findings]


@pytest.mark.parametrize("dump", text_dumps(), ids=lambda p: p.name)
def test_every_text_dump_reads(dump):
    ts = read_tables(dump)
    assert ts.format == ("dsl" if "decoded" in dump.name else "acpidump")
    assert ts.get("SRAT") is not None
    assert ts.get("SRAT") is ts.all("SRAT")[0]
    assert all(t.path == str(dump) for t in ts)
    # linuxhw strips table addresses (all 0): they must read as unknown, not 0
    assert all(t.address is None for t in ts)


@pytest.mark.parametrize("path", [p for p in binary_tables() if REAL in p.parents], ids=rel)
def test_dsl_fixture_matches_binary(path):
    dsl = DSL / path.relative_to(REAL)
    dsl = dsl.with_name(dsl.name + ".dsl")
    ts = read_tables(dsl)
    assert ts.format == "dsl" and len(ts) == 1
    t = next(iter(ts))
    assert t.raw == path.read_bytes()
    assert t.subtables == decode(path.read_bytes()).subtables


def test_dell_second_srat_and_instances():
    ts = read_tables(REAL / "acpidump" / "Dell_Precision-Tower-5810_998589835EA1.noaml.decoded.txt")
    s1, s2 = ts.all("SRAT")
    assert (s1.instance, s2.instance, s2.name) == (1, 2, "SRAT2")
    assert any(f.code == "SRAT_ZERO_LENGTH_SUBTABLE" for f in s1.findings)
    assert not [f for f in s2.findings if f.severity.value == "error"]
    assert ts.get("SRAT") is s1


def test_acpidump_with_addresses_and_repeats(tmp_path):
    """acpidump text with real addresses and two SSDTs, made from fixture bytes."""
    def block(sig, addr, data):
        lines = [f"{sig} @ 0x{addr:016x}"]
        for i in range(0, len(data), 16):
            chunk = data[i:i + 16]
            hexes = " ".join(f"{b:02X}" for b in chunk)
            asc = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            lines.append(f"    {i:04X}: {hexes:<47}  {asc}")
        return "\n".join(lines) + "\n\n"

    s = srat(cpu(), mem())
    ssdt = bytearray(s)
    ssdt[0:4] = b"SSDT"
    text = block("SSDT", 0x7FFE0000, bytes(ssdt)) + block("SRAT", 0x7FFE1000, s) + \
        block("SSDT", 0x7FFE2000, bytes(ssdt))
    p = tmp_path / "dump.txt"
    p.write_text(text)
    ts = read_tables(p)
    assert [(t.name, t.address) for t in ts] == [("SSDT", 0x7FFE0000), ("SRAT", 0x7FFE1000),
                                                 ("SSDT2", 0x7FFE2000)]
    assert ts.get("SRAT").raw == s


def test_sysfs_like_directory(tmp_path):
    d = tmp_path / "tables"
    d.mkdir()
    (d / "dynamic").mkdir()
    src = REAL / "srat"
    shutil.copyfile(src / "Dell_Precision-Tower-5810_998589835EA1.SRAT2.bin", d / "SRAT2")
    shutil.copyfile(src / "Dell_Precision-Tower-5810_998589835EA1.SRAT.bin", d / "SRAT1")
    shutil.copyfile(src / "Dell_Precision-Tower-5810_998589835EA1.SLIT.bin", d / "SLIT")
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    ts = read_tables(d)
    assert [t.name for t in ts] == ["SLIT", "SRAT", "SRAT2"]
    assert ts.get("SRAT").raw == before["SRAT1"]
    assert ts.format == "directory"
    assert {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()} == before


def test_detect_forms():
    assert detect((REAL / "srat" / "Tyan_S8225_pavlinux.SRAT.bin").read_bytes()) == "binary"
    assert detect((REAL / "acpidump" / "Supermicro_X8DTT_CE92DF29C87C.txt").read_bytes()) == "acpidump"
    assert detect((DSL / "srat" / "Tyan_S8225_pavlinux.SRAT.bin.dsl").read_bytes()) == "dsl"


def test_errors(tmp_path):
    with pytest.raises(InputError):
        read_tables(tmp_path / "missing")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(InputError):
        read_tables(tmp_path / "empty")
    (tmp_path / "junk.txt").write_text("hello\nworld\n")
    with pytest.raises(SratplanError):
        read_tables(tmp_path / "junk.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("SRAT @ 0x0\n    0000: 53 52 41 54\n    0020: 00 00\n")
    with pytest.raises(ParseError) as e:
        read_tables(bad)
    assert e.value.line == 3
    with pytest.raises(InputError):
        read_tables(REAL / "qemu" / "loongarch64" / "virt" / "SLIT")  # QEMU's 0-byte placeholder


def test_undecodable_table_in_dump_is_a_finding(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("SRAT @ 0x0\n    0000: 53 52 41 54 10 00 00 00\n\n")
    ts = read_tables(p)
    assert len(ts) == 0 and [f.code for f in ts.findings] == ["TABLE_UNDECODABLE"]
