"""Every finding code the plan's advice can emit is documented in
docs/findings.md ("Plan findings")."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_plan_code_documented():
    emitted = set(re.findall(r'_f\(\s*"([A-Z_]+)"', (ROOT / "sratplan" / "advise.py").read_text()))
    doc = (ROOT / "docs" / "findings.md").read_text()
    section = doc.split("## Plan findings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_<>]+)`", section, re.M))
    assert len(emitted) > 15
    assert {"BOTTOM_UP_ABOVE_KERNEL", "BOTTOM_UP_FALLBACK"} <= emitted
    assert emitted <= documented, sorted(emitted - documented)
