"""Formatters: one module per output format of a plan, each with
``plan(report) -> str`` and ``compare(reports, labels=None) -> str``."""

from __future__ import annotations

import importlib

FORMATS = ("table", "json", "markdown", "svg")


def formatter(name: str):
    """The formatter module of ``name`` (one of FORMATS).  Imported on first
    use: the picture's module is most of render's import time and a table
    needs none of it."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}")
    return importlib.import_module(f".{name}", __name__)
