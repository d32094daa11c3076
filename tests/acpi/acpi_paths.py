"""Paths and fixture lists shared by the ACPI tests."""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent

ROOT = HERE.parent.parent
FIX = ROOT / "fixtures"
REAL = FIX / "real"
AML = FIX / "aml"
DSL = FIX / "dsl"


def binary_tables() -> list[Path]:
    """Every real binary table (QEMU blobs and srat/*.bin), the 0-byte QEMU
    placeholder excluded, plus the compiled synthetic tables."""
    real = [p for p in sorted((REAL / "srat").iterdir()) + sorted((REAL / "qemu").rglob("*"))
            if p.is_file() and p.suffix != ".md" and p.stat().st_size > 0]
    return real + sorted(AML.glob("*.aml"))


def text_dumps() -> list[Path]:
    return sorted((REAL / "acpidump").iterdir())


def index_rows() -> list[dict]:
    with open(REAL / "INDEX.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def rel(p: Path) -> str:
    return str(p.relative_to(FIX))
