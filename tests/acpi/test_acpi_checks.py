"""Every finding code fires on the table built to show it, with its location."""

from __future__ import annotations

import pytest
from acpi_paths import REAL
from builders import cpu, fix_checksum, generic, mem, slit, srat, x2apic

from sratplan.acpi.checks import check_tables
from sratplan.acpi.tables import decode
from sratplan.findings import Severity


def codes(t):
    return {f.code: f for f in t.findings}


def test_clean_table_has_no_findings():
    t = decode(srat(cpu(0), mem(0, 0, 0x80000000), cpu(1, apic=1), mem(1, 0x80000000, 0x80000000)))
    assert t.findings == ()


def test_checksum():
    b = bytearray(srat(cpu(), mem()))
    b[9] ^= 0x55
    f = codes(decode(bytes(b)))["SRAT_BAD_CHECKSUM"]
    assert f.severity is Severity.WARNING and f.offset == 9


def test_length_mismatch_both_ways():
    longer = decode(srat(cpu(), mem(), length=200))
    f = codes(longer)["SRAT_LENGTH_MISMATCH"]
    assert f.severity is Severity.ERROR
    shorter = decode(srat(cpu(), mem()) + bytes(8))
    f = codes(shorter)["SRAT_LENGTH_MISMATCH"]
    assert f.severity is Severity.WARNING
    assert len(shorter.subtables) == 2 and shorter.excess == bytes(8)


def test_zero_length_stops_walk_like_linux():
    data = srat(cpu(), mem(), b"\x00\x00", mem(1, 0x100000000))
    t = decode(data)
    f = codes(t)["SRAT_ZERO_LENGTH_SUBTABLE"]
    assert f.offset == 48 + 16 + 40
    assert [s.type for s in t.subtables] == [0, 1, 0]
    assert t.subtables[-1].reason == "zero length"
    assert "SRAT_TRAILING_BYTES" not in codes(t)


def test_short_unknown_long_truncated():
    t = decode(srat(cpu(), mem(length=30), b"\x09\x06abcd", mem(length=48), cpu(length=20),
                    x2apic(), b"\x01\x28" + bytes(6)))
    c = codes(t)
    assert c["SRAT_SUBTABLE_TOO_SHORT"].offset == 64
    assert c["SRAT_UNKNOWN_SUBTABLE"].offset == 94
    assert c["SRAT_SUBTABLE_TRUNCATED"].severity is Severity.ERROR
    long = [f for f in t.findings if f.code == "SRAT_SUBTABLE_TOO_LONG"]
    assert {f.offset for f in long} == {100, 148}
    # Linux rejects a LAPIC entry that is not exactly 16 bytes with bad_srat()
    assert {f.severity for f in long} == {Severity.WARNING, Severity.ERROR}
    assert [type(s).__name__ for s in t.subtables] == [
        "SratCpuAffinity", "UnknownSubtable", "UnknownSubtable", "SratMemAffinity", "SratCpuAffinity",
        "SratX2apicCpuAffinity", "UnknownSubtable"]


def test_trailing_stub():
    t = decode(srat(cpu(), mem(), tail=b"\x01\x02"))
    f = codes(t)["SRAT_TRAILING_BYTES"]
    assert f.severity is Severity.INFO and t.trailing == b"\x01\x02"


def test_reserved_fields_and_bits():
    t = decode(srat(cpu(flags=0x3), mem(flags=0x11, reserved=1, reserved2=5),
                    generic(flags=0x5)))
    found = [(f.code, f.offset, f.where) for f in t.findings if f.code.startswith("SRAT_RESERVED")]
    assert ("SRAT_RESERVED_BITS_NON_ZERO", 48, "Flags") in found
    assert ("SRAT_RESERVED_BITS_NON_ZERO", 64, "Flags") in found
    assert ("SRAT_RESERVED_NON_ZERO", 64, "reserved") in found
    assert ("SRAT_RESERVED_NON_ZERO", 64, "reserved2") in found
    assert ("SRAT_RESERVED_BITS_NON_ZERO", 104, "Flags") in found


def test_table_revision():
    assert "SRAT_BAD_TABLE_REVISION" in codes(decode(srat(cpu(), mem(), table_revision=2)))


def test_memory_range_checks():
    t = decode(srat(cpu(), mem(0, 0, 0), mem(0, 0x1000, 0x1000, flags=0),
                    mem(0, 0x100000000, 0x100000000, flags=0x7),
                    mem(0, 0xFFFFFFFFFFFFF000, 0x2000)))
    c = codes(t)
    assert c["SRAT_EMPTY_MEMORY_RANGE"].offset == 64
    assert c["SRAT_DISABLED_RANGE"].offset == 104
    assert c["SRAT_HOTPLUG_NON_VOLATILE"].offset == 144
    assert c["SRAT_RANGE_OVERFLOW"].severity is Severity.ERROR


def test_overlaps_same_and_cross_domain():
    t = decode(srat(cpu(0), cpu(1, apic=1), mem(0, 0, 0x2000_0000), mem(0, 0x1000_0000, 0x2000_0000),
                    mem(1, 0x2800_0000, 0x1000_0000)))
    c = codes(t)
    assert "SRAT_MEMORY_OVERLAP" in c
    assert "SRAT_MEMORY_OVERLAP_CROSS_DOMAIN" in c
    assert "[0x28000000-0x2fffffff]" in c["SRAT_MEMORY_OVERLAP_CROSS_DOMAIN"].message


def test_pxm_masked_in_revision_1():
    t = decode(srat(cpu(0x34, hi=1), mem(0x1234, 0, 0x1000_0000), revision=1))
    found = [f for f in t.findings if f.code == "SRAT_PXM_TRUNCATED"]
    assert len(found) == 2
    assert t.subtables[1].pxm(t.revision) == 0x34
    assert t.subtables[0].pxm(t.revision) == 0x34
    t3 = decode(srat(cpu(0x34, hi=1), mem(0x134, 0, 0x1000_0000), revision=3))
    assert not [f for f in t3.findings if f.code == "SRAT_PXM_TRUNCATED"]
    assert t3.subtables[0].pxm(3) == 0x134 == t3.subtables[1].pxm(3)


def test_memoryless_and_cpuless_domains():
    t = decode(srat(cpu(0), cpu(1, apic=1), mem(0, 0, 0x1000_0000), mem(2, 0x1000_0000, 0x1000_0000),
                    cpu(3, apic=3, flags=0)))
    c = codes(t)
    assert c["SRAT_MEMORYLESS_DOMAIN"].where == "PXM 1"
    assert c["SRAT_CPULESS_DOMAIN"].where == "PXM 2"
    # a disabled CPU entry makes no domain
    assert not any(f.where == "PXM 3" for f in t.findings)


def test_no_enabled_memory():
    assert "SRAT_NO_MEMORY" in codes(decode(srat(cpu(), mem(flags=0, size=0))))


def test_slit_checks():
    bad = decode(slit([[11, 10], [20, 10]]))
    c = codes(bad)
    assert {"SLIT_BAD_DIAGONAL", "SLIT_BAD_DISTANCE", "SLIT_ASYMMETRIC"} <= set(c)
    assert c["SLIT_BAD_DIAGONAL"].severity is Severity.ERROR
    good = decode(slit([[10, 20], [20, 10]]))
    assert good.findings == ()
    assert good.entry == ((10, 20), (20, 10))


def test_slit_too_short():
    b = bytearray(slit([[10, 20], [20, 10]]))
    b[36] = 3  # claims 3 localities, holds 4 bytes
    t = decode(fix_checksum(bytes(b)))
    assert "SLIT_TOO_SHORT" in codes(t)
    assert t.entry == ((10, 20, 20),)


def test_slit_domains_against_srat():
    s = decode(srat(cpu(0), mem(0, 0, 0x1000_0000), cpu(2, apic=2), mem(2, 0x1000_0000, 0x1000_0000)))
    small = decode(slit([[10, 20], [20, 10]]))
    f = check_tables([s, small])
    assert [x.code for x in f] == ["SLIT_DOMAIN_MISMATCH"] and f[0].severity is Severity.WARNING
    big = decode(slit([[10, 20, 20, 20]] * 4))
    f = check_tables([s, big])
    assert [x.severity for x in f if x.code == "SLIT_DOMAIN_MISMATCH"] == [Severity.INFO]


def test_specific_purpose_flag_decoded():
    t = decode(srat(cpu(), mem(flags=0x9)))
    mm = t.subtables[1]
    assert mm.specific_purpose and mm.enabled and not mm.hot_pluggable
    assert not [f for f in t.findings if f.code.startswith("SRAT_RESERVED")]


def test_generic_port_handles():
    acpi = generic(6, 5, 0, b"ACPI0016" + (7).to_bytes(4, "little") + bytes(4))
    pci = generic(6, 6, 1, (1).to_bytes(2, "little") + ((0x3A << 8) | (0x1F << 3) | 2).to_bytes(2, "little")
                  + bytes(12))
    t = decode(srat(cpu(), mem(), acpi, pci))
    a, p = t.subtables[2], t.subtables[3]
    assert (a.device_handle.hid, a.device_handle.uid) == ("ACPI0016", 7)
    assert (p.device_handle.segment, p.device_handle.bus, p.device_handle.device, p.device_handle.function) \
        == (1, 0x3A, 0x1F, 2)
    assert a.NAME == "Generic Port Affinity"


def test_real_tables_known_findings():
    """Spot checks on real tables (README of fixtures/real lists these quirks)."""
    hp = decode((REAL / "srat" / "HP_ProLiant-DL360-G7_60DCEE46526A.SRAT.bin").read_bytes())
    dis = [f for f in hp.findings if f.code == "SRAT_DISABLED_RANGE"]
    assert dis and "0xe0000000-0xffffffff" in dis[0].message
    h8 = decode((REAL / "srat" / "Supermicro_H8DGU_57ED146F2C3C.SRAT.bin").read_bytes())
    assert sorted(f.where for f in h8.findings if f.code == "SRAT_MEMORYLESS_DOMAIN") == ["PXM 1", "PXM 2"]
    q = decode((REAL / "qemu" / "x86" / "q35" / "SRAT.dimmpxm").read_bytes())
    assert any(f.code == "SRAT_MEMORY_OVERLAP_CROSS_DOMAIN" for f in q.findings)


@pytest.mark.parametrize("sig", ["SRAT", "SLIT", "MSCT", "CEDT", "HMAT", "APIC"])
def test_header_only_table_too_short(sig):
    from sratplan.errors import ParseError

    with pytest.raises(ParseError) as e:
        decode(sig.encode() + bytes(10))
    assert e.value.table == sig and e.value.field == "header"


def _index_srat_rows():
    from acpi_paths import index_rows

    return [r for r in index_rows() if r["srat_file"] and not r["srat_file"].startswith("-")]


@pytest.mark.parametrize("row", _index_srat_rows(), ids=lambda r: r["id"])
def test_domains_and_hotplug_match_corpus_notes(row):
    """INDEX.tsv's notes were derived independently when the corpus was
    gathered: memoryless and CPU-less PXMs and the hotplug range count must
    match what the checks find."""
    import re

    t = decode((REAL / row["srat_file"]).read_bytes())

    def where(code):
        return sorted(int(f.where.split()[1]) for f in t.findings if f.code == code)

    def noted(label):
        mm = re.search(label + r" \[([\d, ]*)\]", row["notes"])
        return sorted(int(x) for x in mm.group(1).split(",")) if mm else []

    assert where("SRAT_MEMORYLESS_DOMAIN") == noted("memoryless PXMs")
    assert where("SRAT_CPULESS_DOMAIN") == noted("CPU-less memory PXMs")
    hotplug = [s for s in t.memory() if s.enabled and s.hot_pluggable]
    assert str(len(hotplug)) == row["n_hotplug_ranges"]
