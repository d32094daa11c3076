"""The model's LAYOUTs, the struct fast path and the construct definitions agree."""

from __future__ import annotations

import pytest
from acpi_paths import binary_tables, rel

from sratplan.acpi import model as m
from sratplan.acpi import structs as S
from sratplan.acpi import tables as T

PAIRS = [
    (m.AcpiHeader, S.AcpiTableHeader),
    (m.SratCpuAffinity, S.AcpiSratCpuAffinity),
    (m.SratMemAffinity, S.AcpiSratMemAffinity),
    (m.SratX2apicCpuAffinity, S.AcpiSratX2apicCpuAffinity),
    (m.SratGiccAffinity, S.AcpiSratGiccAffinity),
    (m.SratGicItsAffinity, S.AcpiSratGicItsAffinity),
    (m.SratGenericAffinity, S.AcpiSratGenericAffinity),
    (m.SratRintcAffinity, S.AcpiSratRintcAffinity),
    (m.CedtChbs, S.AcpiCedtChbs),
    (m.CedtCfmws, S.AcpiCedtCfmws),
    (m.HmatProximityDomain, S.AcpiHmatProximityDomain),
    (m.HmatLocality, S.AcpiHmatLocality),
    (m.HmatCache, S.AcpiHmatCache),
    (m.MsctProximity, S.AcpiMsctProximity),
]


@pytest.mark.parametrize("cls,cs", PAIRS, ids=lambda x: getattr(x, "__name__", ""))
def test_layout_matches_construct(cls, cs):
    sizes = [sc.sizeof() for sc in cs.subcons]
    assert [f[1] for f in cls.LAYOUT] == sizes
    assert sum(sizes) == cs.sizeof()


def test_table_fixed_parts_match_construct():
    assert 36 + sum(f[1] for f in m.SratTable.LAYOUT) == S.AcpiTableSrat.sizeof() == S.SRAT_SUBTABLE_START
    assert 36 + sum(f[1] for f in m.SlitTable.LAYOUT) == S.AcpiTableSlit.sizeof() == S.SLIT_ENTRY_START
    assert 36 + sum(f[1] for f in m.MsctTable.LAYOUT) == S.AcpiTableMsct.sizeof() == S.MSCT_FIXED_SIZE
    assert 36 + sum(f[1] for f in m.HmatTable.LAYOUT) == S.AcpiTableHmat.sizeof() == S.HMAT_SUBTABLE_START


@pytest.mark.parametrize("path", [p for p in binary_tables() if p.read_bytes()[:4] == b"SRAT"], ids=rel)
def test_fast_path_equals_construct(path):
    """Types 0/1/2 are unpacked with the struct module on the hot path; the
    construct definitions must give the identical object for each of them."""
    data = path.read_bytes()
    t = T.decode(data)
    n = 0
    for s in t.subtables:
        if type(s) in (m.SratCpuAffinity, m.SratMemAffinity, m.SratX2apicCpuAffinity):
            slow = T.construct_decode(type(s), S.SRAT_SUBTABLES[s.type], data, s.offset, s.length)
            assert slow == s
            n += 1
    assert n or not any(s.type in (0, 1, 2) for s in t.subtables)
