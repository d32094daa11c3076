"""The pieces that make ``sratplan decode`` quick keep its behaviour:

* the model's records behave like the frozen dataclasses they replaced;
* the generated per-class renderers print what the field-by-field path prints;
* a plain decode of a binary table imports none of the heavy modules.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from sratplan.acpi import model as m
from sratplan.acpi import tables as T
from sratplan.render import acpi_text

ROOT = Path(__file__).resolve().parents[2]
REAL_SRAT = sorted((ROOT / "fixtures" / "real" / "srat").glob("*.SRAT*.bin"))


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
    assert h.length == 48 and h == m.AcpiHeader(*[getattr(h, f) for f in m.AcpiHeader._FIELDS])
    t = m.SratTable(signature="SRAT", header=h, raw=b"")
    assert t.subtables == () and t.table_revision == 0 and t.findings == ()


def _slow_lines(s, name):
    """The field-by-field rendering (table_lines' general path)."""
    out = []
    for i, (off, size, label, value, kind) in enumerate(s.fields()):
        text = acpi_text.fmt_value(value, size, kind) + (f" [{name}]" if i == 0 and name else "")
        out.append(acpi_text.field_line(off, size, label, text))
        if label.startswith(("Flags", "Cache Attributes")):
            out.extend(acpi_text._flag_lines(s))
    return "\n".join(out)


@pytest.mark.parametrize("path", REAL_SRAT + sorted((ROOT / "fixtures" / "aml").glob("*.aml")),
                         ids=lambda p: p.name)
def test_generated_renderers_print_the_fields(path):
    t = T.decode(path.read_bytes())
    for s in t.subtables:
        if type(s) in acpi_text._FAST_CLASSES and len(s.raw) >= s.known_size:
            name = None if isinstance(s, m.MsctProximity) else s.NAME
            assert acpi_text._renderer(s, name)(s) == _slow_lines(s, name)


def test_plain_decode_imports_no_heavy_module(tmp_path):
    from importprobe import loaded_modules

    table = ROOT / "fixtures" / "real" / "srat" / REAL_SRAT[0].name
    loaded, r = loaded_modules(["decode", table], ("construct", "tabulate", "dataclasses", "argparse", "json",
                                                   "typing", "sratplan.findings"), tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert loaded == [], loaded
