"""build(decode(x)) == x: the model keeps every byte."""

from __future__ import annotations

import pytest
from acpi_paths import binary_tables, rel
from builders import cpu, mem, srat

from sratplan.acpi.tables import build, decode


@pytest.mark.parametrize("path", binary_tables(), ids=rel)
def test_roundtrip_fixture(path):
    data = path.read_bytes()
    t = decode(data)
    assert t.raw == data
    assert build(t) == data


@pytest.mark.parametrize("data", [
    srat(cpu(), mem(), tail=b"\x01"),                      # 1-byte stub Linux never looks at
    srat(cpu(), mem(length=48)),                           # longer than known
    srat(cpu(), mem(length=30)),                           # too short
    srat(cpu(), b"\x09\x06abcd"),                          # unknown type
    srat(cpu(), b"\x01\x00", mem()),                       # zero length
    srat(cpu(), b"\x01\x28" + bytes(10)),                  # truncated
    srat(cpu(), mem()) + b"junk",                          # data beyond Table Length
    srat(cpu(), mem(), length=200),                        # Table Length beyond data
], ids=["stub", "long", "short", "unknown", "zero", "truncated", "excess", "short-data"])
def test_roundtrip_malformed(data):
    assert build(decode(data)) == data
