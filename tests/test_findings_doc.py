"""Every finding code the package can emit has one style (UPPER_SNAKE) and is
documented in docs/findings.md, and the catalogue lists nothing that is not
emitted."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CALL = r"(?:_f|_finding|finding|Finding|\.note)\((?:\s*\w+,)?\s*(?:code=)?"


def emitted() -> set[str]:
    codes = set()
    for p in (ROOT / "sratplan").rglob("*.py"):
        text = p.read_text()
        codes |= set(re.findall(CALL + r'"([A-Za-z][A-Za-z0-9_]+)"', text))
        codes |= {"<SIG>" + c for c in re.findall(CALL + r'f"\{sig\}([A-Za-z0-9_]+)"', text)}
        codes |= {c + "<LABEL>" for c in re.findall(CALL + r'f"([A-Z_]+)\{', text)}
    return codes


def documented() -> set[str]:
    doc = (ROOT / "docs" / "findings.md").read_text().split("## Codes renamed", 1)[0]
    return set(re.findall(r"^\| `([<>A-Za-z0-9_]+)`", doc, re.M))


def test_one_code_style():
    bad = [c for c in emitted() if not re.fullmatch(r"(<SIG>_)?[A-Z][A-Z0-9_]*(<LABEL>)?", c.replace("<SIG>_", "<SIG>_A", 1))]
    assert not bad, bad


def test_every_code_is_documented():
    e, d = emitted(), documented()
    assert len(e) > 80
    assert e <= d, sorted(e - d)
    assert d <= e, sorted(d - e)
