"""Formatters: one module per output format of a plan, each with
``plan(report) -> str`` and ``compare(reports) -> str``."""

from __future__ import annotations

from . import json, markdown, svg, table

FORMATS = {"table": table, "json": json, "markdown": markdown, "svg": svg}
