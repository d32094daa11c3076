"""Diagnostics as data: a finding has a stable code, a severity, a message a
person can act on, and where it applies (table/offset, node, range).

The catalogue of codes lives in ``docs/findings.md``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    table: str | None = None
    offset: int | None = None
    where: str | None = None
    extra: tuple = field(default=(), compare=False)

    def location(self) -> str:
        parts = []
        if self.table:
            parts.append(self.table)
        if self.offset is not None:
            parts.append(f"0x{self.offset:x}")
        if self.where:
            parts.append(self.where)
        return " ".join(parts)

    def to_json(self) -> dict:
        d = {"code": self.code, "severity": self.severity.value, "message": self.message}
        if self.table is not None:
            d["table"] = self.table
        if self.offset is not None:
            d["offset"] = self.offset
        if self.where is not None:
            d["where"] = self.where
        return d


def worst(findings) -> Severity | None:
    best = None
    for f in findings:
        if best is None or f.severity.rank > best.rank:
            best = f.severity
    return best
