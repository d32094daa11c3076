"""The public API the planner and users rely on."""

from __future__ import annotations

import dataclasses

import pytest
from acpi_paths import REAL

import sratplan
from sratplan.acpi import model as m


def test_package_level_decode_and_read_tables():
    data = (REAL / "srat" / "Microsoft_HyperV-Gen2-VM_coreos-sosreport.SRAT.bin").read_bytes()
    t = sratplan.decode(data)
    assert isinstance(t, m.SratTable) and t.signature == "SRAT" and t.raw == data
    assert t.header.length == len(data) and t.table_revision == 1
    mem = t.memory()
    assert mem and all(x.hot_pluggable for x in mem if x.enabled)
    ts = sratplan.read_tables(REAL / "acpidump" / "Supermicro_H8DGU_57ED146F2C3C.txt")
    assert ts.get("SLIT").locality_count == 4
    assert ts.source.endswith("Supermicro_H8DGU_57ED146F2C3C.txt")


def test_models_are_frozen_and_keep_offsets():
    t = sratplan.decode((REAL / "srat" / "Tyan_S8225_pavlinux.SRAT.bin").read_bytes())
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.signature = "XXXX"  # type: ignore[misc]
    for s in t.subtables:
        assert t.raw[s.offset:s.offset + s.length] == s.raw
        with pytest.raises(dataclasses.FrozenInstanceError):
            s.offset = 0  # type: ignore[misc]


def test_cpu_entry_fields():
    t = sratplan.decode((REAL / "srat" / "Loongson_3A5000_bmbt.SRAT.bin").read_bytes())
    c = [s for s in t.subtables if isinstance(s, m.SratCpuAffinity)]
    assert c and all(hasattr(x, f) for x in c for f in (
        "proximity_domain_lo", "apic_id", "flags", "local_sapic_eid", "proximity_domain_hi", "clock_domain"))
    assert all(x.enabled for x in c)
