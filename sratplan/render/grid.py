"""Text tables for every renderer: tabulate's ``simple`` (table) and
``github`` (markdown) layouts with ``disable_numparse=True``.

Importing tabulate costs ~35 ms (it loads importlib.metadata, and wcwidth when
installed) — more than planning a large machine.  Our cells are plain
printable ASCII almost always, and for those the layout is simple enough to
produce directly: every cell is text, left-aligned, stripped of surrounding
whitespace; a column is as wide as its widest line and at least its header
plus two; ``simple`` may hold multi-line cells.  Anything else (tabs, control
or non-ASCII characters whose display width needs wcwidth, multi-line cells in
markdown, multi-line cells with surrounding blanks) is handed to tabulate
itself, so the output is always what tabulate would print.  tests/render/test_grid.py holds the two to the same text.
"""

from __future__ import annotations

_PLAIN = frozenset(map(chr, range(0x20, 0x7F)))
_PLAIN_NL = _PLAIN | {"\n"}


def grid(rows, headers, fmt: str = "table") -> str:
    """``rows`` (sequences of cells; None is an empty cell) under ``headers``,
    as tabulate(rows, headers, tablefmt="simple" or "github",
    disable_numparse=True) lays them out (``fmt`` "table" or "markdown")."""
    head = [str(h) for h in headers]
    ncols = len(head)
    raw = [["" if c is None else str(c) for c in r] for r in rows]
    body = [[c.strip() for c in r] for r in raw]
    allowed = _PLAIN if fmt == "markdown" else _PLAIN_NL
    # Rows as wide as the header are all our renderers make; tabulate has its
    # own rules for ragged rows.
    if (not all(len(r) == ncols for r in body)
            or any("\n" in c and c != c.strip() for r in raw for c in r)
            or not all(allowed.issuperset(c) for r in body for c in r)
            or not all(_PLAIN.issuperset(h) and h == h.strip() for h in head)):
        return _tabulate(rows, headers, fmt)
    widths = [len(h) + 2 for h in head]
    for r in body:
        for i, c in enumerate(r):
            w = max(map(len, c.split("\n"))) if "\n" in c else len(c)
            if w > widths[i]:
                widths[i] = w
    if fmt == "markdown":
        def line(cells):
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

        lines = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        lines += map(line, body)
        return "\n".join(lines)

    def simple(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    lines = [simple(head), "  ".join("-" * w for w in widths)]
    # With any multi-line cell tabulate lays every row out line by line, and a
    # row of empty cells then has no lines at all.
    multiline = any("\n" in c for r in body for c in r)
    for r in body:
        if multiline:
            split = [c.split("\n") if c else [] for c in r]
            for k in range(max(map(len, split), default=0)):
                lines.append(simple([s[k] if k < len(s) else "" for s in split]))
        else:
            lines.append(simple(r))
    return "\n".join(lines)


def _tabulate(rows, headers, fmt: str) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github" if fmt == "markdown" else "simple",
                    disable_numparse=True)
