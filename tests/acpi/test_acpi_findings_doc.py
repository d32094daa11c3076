"""Every finding code the ACPI modules can emit is documented in docs/findings.md."""

from __future__ import annotations

import re

from acpi_paths import ROOT

SRC = ROOT / "sratplan" / "acpi"


def _emitted() -> set[str]:
    codes = set()
    for p in SRC.glob("*.py"):
        text = p.read_text()
        codes |= set(re.findall(r'_f\(\s*"([A-Z][A-Za-z]+)"', text))
        codes |= {"<SIG>" + c for c in re.findall(r'_f\(\s*f"\{sig\}([A-Za-z]+)"', text)}
        codes |= set(re.findall(r'Finding\(\s*"([A-Z][A-Za-z]+)"', text))
    return codes


def test_every_code_documented():
    doc = (ROOT / "docs" / "findings.md").read_text()
    section = doc.split("## ACPI table findings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([<>A-Za-z]+)`", section, re.M))
    emitted = _emitted()
    assert len(emitted) > 30
    assert emitted <= documented, sorted(emitted - documented)
    assert documented <= emitted, sorted(documented - emitted)
