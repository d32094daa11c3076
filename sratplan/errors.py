"""The one exception tree of sratplan.

Every public entry point either returns a result (with findings) or raises a
subclass of :class:`SratplanError`.  Library code never calls ``sys.exit``; the
CLI maps these to exit status 2.
"""

from __future__ import annotations


class SratplanError(Exception):
    """Root of every error sratplan raises on purpose."""


class InputError(SratplanError):
    """An input file or option cannot be used (missing, unreadable, wrong kind)."""

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class ParseError(SratplanError):
    """Bytes or text that do not decode.

    Carries where it happened: the file (if known), the table signature, the
    byte offset inside the table (or line number for text) and the field.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        offset: int | None = None,
        field: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ):
        self.table = table
        self.offset = offset
        self.field = field
        self.path = path
        self.line = line
        self.reason = message
        where = []
        if path:
            where.append(str(path))
        if table:
            where.append(table)
        if offset is not None:
            where.append(f"offset 0x{offset:x}")
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field {field}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class LimitError(ParseError):
    """An input exceeds a hard cap (table size, subtable count, e820 entries, nodes).

    Caps are enforced before work so that hostile input cannot make sratplan
    hang or exhaust memory.
    """


class UsageError(SratplanError):
    """Bad command-line usage (the CLI exits 2)."""


class PlanError(SratplanError):
    """The machine description is inconsistent in a way the planner cannot model."""
