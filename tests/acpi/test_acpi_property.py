"""Any bytes give a table model (with findings) or one SratplanError, and
never anything else; whatever decodes also renders and rebuilds exactly."""

from __future__ import annotations

import json

from acpi_paths import REAL
from builders import cpu, mem, srat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sratplan.acpi import model as m
from sratplan.acpi.sources import read_tables
from sratplan.acpi.tables import build, decode
from sratplan.errors import SratplanError
from sratplan.render.acpi_json import table_json
from sratplan.render.acpi_text import table_lines

SIGS = [b"SRAT", b"SLIT", b"MSCT", b"CEDT", b"HMAT", b"FACS", b"APIC"]
SEEDS = [srat(cpu(), mem(), cpu(1, apic=1), mem(1, 0x80000000)),
         (REAL / "qemu" / "x86" / "q35" / "CEDT.cxl").read_bytes(),
         (REAL / "qemu" / "x86" / "q35" / "HMAT.acpihmat").read_bytes(),
         (REAL / "srat" / "Intel_X99_0AD635180FE5.MSCT.bin").read_bytes(),
         (REAL / "srat" / "Supermicro_H8QG6_58E82626C3C5.SLIT.bin").read_bytes(),
         (REAL / "qemu" / "x86" / "q35" / "SRAT.acpihmat-generic-x").read_bytes()]

settings.register_profile("sratplan", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sratplan")


def _exercise(data: bytes):
    try:
        t = decode(data)
    except SratplanError:
        return None
    assert isinstance(t, m.Table)
    assert t.raw == data
    assert build(t) == data
    table_lines(t)
    json.dumps(table_json(t))
    return t


@given(st.binary(max_size=600))
def test_any_bytes(data):
    _exercise(data)


@given(st.sampled_from(SIGS), st.integers(0, 700), st.binary(max_size=600))
def test_any_body_behind_a_header(sig, length, body):
    head = sig + length.to_bytes(4, "little") + bytes(28)
    _exercise(head + body)


@given(st.sampled_from(SEEDS), st.data())
def test_mutated_real_tables(seed, data):
    b = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(b) - 1))
        b[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(b)))
    _exercise(bytes(b[:cut]) if data.draw(st.booleans()) else bytes(b))


@given(st.text(alphabet="SRAT@0x1234 :\n/abcdef9DataLength()", max_size=400))
def test_any_text_source(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("src") / "t.txt"
    p.write_text(text)
    try:
        ts = read_tables(p)
    except SratplanError:
        return
    for t in ts:
        assert isinstance(t, m.Table)
