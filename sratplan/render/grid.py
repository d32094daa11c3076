"""Text tables for every renderer: tabulate's ``simple`` (table) and
``github`` (markdown) layouts.  Numbers are never re-parsed
(``disable_numparse``): our cells are hex addresses and counts already
formatted as the kernel prints them."""

from __future__ import annotations

from tabulate import tabulate


def grid(rows, headers, fmt: str = "table") -> str:
    """``rows`` (sequences of cells; None is an empty cell) under ``headers``
    (``fmt`` "table" or "markdown")."""
    return tabulate(rows, headers=headers, tablefmt="github" if fmt == "markdown" else "simple",
                    disable_numparse=True)
