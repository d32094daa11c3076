"""The decoded-table model: records generated from the construct Structs are
frozen, slotted, keyword-only dataclasses, and each ACPI field is declared
once (its LAYOUT, flag table and model field come from acpi/structs.py)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from sratplan.acpi import model as m
from sratplan.acpi import structs as S


def _mem(**kw):
    base = dict(offset=48, type=1, length=40, raw=bytes(40), proximity_domain=1, reserved=0, base_address=0,
                address_length=1 << 30, reserved1=0, flags=1, reserved2=0)
    base.update(kw)
    return m.SratMemAffinity(**base)


def test_records_act_like_frozen_dataclasses():
    a, b = _mem(), _mem()
    assert a == b and hash(a) == hash(b) and a != _mem(flags=3)
    assert a != m.SratX2apicCpuAffinity(offset=48, type=2, length=24, raw=bytes(24), reserved=0,
                                        proximity_domain=1, apic_id=0, flags=1, clock_domain=0, reserved2=0)
    assert repr(a).startswith("SratMemAffinity(offset=48, type=1, length=40, raw=")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.flags = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        del a.flags
    with pytest.raises(AttributeError):
        a.__dict__  # noqa: B018 - slotted: no instance dictionary
    with pytest.raises(TypeError):
        m.SratMemAffinity(1, 2)                     # keyword-only
    with pytest.raises(TypeError):
        _mem(colour="red")
    with pytest.raises(TypeError):
        m.SratMemAffinity(offset=0)                 # missing fields
    assert m.replace(a, flags=3).flags == 3 and m.replace(a, flags=3).base_address == a.base_address
    assert pickle.loads(pickle.dumps(a)) == a
    h = m.AcpiHeader("SRAT", 48, 3, 0, "OEM", "TABLE", 1, "ID", 1)   # positional, like before
    assert h.length == 48 and h == m.AcpiHeader(*[getattr(h, f) for f in m.record_fields(h)])
    t = m.SratTable(signature="SRAT", header=h, raw=b"")
    assert t.subtables == () and t.table_revision == 0 and t.findings == ()


def test_layout_comes_from_the_struct():
    lay = m.SratMemAffinity.LAYOUT
    assert [a for a, *_ in lay] == ["type", "length", "proximity_domain", "reserved", "base_address",
                                    "address_length", "reserved1", "flags", "reserved2"]
    assert [sc.docs for sc in S.AcpiSratMemAffinity.subcons] == [label for _a, _s, label, _k in lay]
    assert m.SratMemAffinity.SIZE == S.AcpiSratMemAffinity.sizeof() == 40
    assert [f.name for f in dataclasses.fields(m.SratMemAffinity)][4:] == [a for a, *_ in lay][2:]
    # a decoded property may take the Struct's name: the raw field is renamed
    assert ("device_handle_raw", 16, "Device Handle", "b") in m.SratGenericAffinity.LAYOUT


def test_flag_names_follow_the_struct_flag_table():
    s = _mem(flags=0b1011)
    assert s.flag_names() == (("Enabled", 1), ("Hot Pluggable", 1), ("Non-Volatile", 0), ("Specific Purpose", 1))
    assert s.enabled and s.hot_pluggable and not s.non_volatile and s.specific_purpose
    c = m.HmatCache(offset=40, type=2, length=32, raw=bytes(32), reserved=0, memory_pd=0, reserved1=0,
                    cache_size=0, cache_attributes=0x00400123, address_mode=0, number_of_smbios_handles=0,
                    smbios_handles=())
    assert dict(c.flag_names()) == {"Total Cache Levels": 3, "Cache Level": 2, "Cache Associativity": 1,
                                    "Write Policy": 0, "Cache Line Size": 0x40}
