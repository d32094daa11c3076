"""``sratplan audit`` output: table/markdown (tabulate's layouts, render.grid), CSV, JSON
(``sratplan.audit/1``: rows + summary) and JSON Lines (one row a line).
Presentation only: every value comes from the AuditResult."""

from __future__ import annotations

import csv
import io
import json

from .common import grid

COLUMNS = ("id", "kind", "vendor", "oem_table_id", "arch", "kernel", "nodes", "ram_gib", "hotplug_gib", "cmdline",
           "movable_gib", "removable_gib", "verdict", "why", "findings", "live", "error")


def _public(row: dict) -> dict:
    return {k: row.get(k) for k in COLUMNS}


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, list):
        return ", ".join(v) or "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def render(result, fmt: str) -> str:
    if fmt == "json":
        doc = {"schema": "sratplan.audit/1", "summary": result.summary(),
               "rows": [_public(r) for r in result.rows], "skipped": result.skipped}
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(_public(r)) + "\n" for r in result.rows)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in result.rows:
            w.writerow(["" if r.get(c) is None else (";".join(r[c]) if isinstance(r[c], list) else r[c])
                        for c in COLUMNS])
        return buf.getvalue()

    md = fmt == "markdown"
    tf = "markdown" if md else "table"
    rows = []
    any_live = any(r.get("live") for r in result.rows)
    for r in result.rows:
        detail = r["error"] or r["why"] or ""
        if len(detail) > 90 and not md:
            detail = detail[:87] + "..."
        rows.append([r["id"], r["vendor"] or "-", _cell(r["nodes"]), _cell(r["ram_gib"]), _cell(r["hotplug_gib"]),
                     _cell(r["movable_gib"]), r["verdict"], _cell(r["findings"]), detail or "-"])
        if any_live:
            rows[-1].append(r.get("live") or "-")
    out = []
    if md:
        out.append("# sratplan audit\n")
    out.append(grid(rows, headers=["machine", "OEM", "nodes", "RAM GiB", "hotplug GiB", "Movable GiB",
                                       "verdict", "top findings", "why not / error"] +
                        (["live check"] if any_live else []),
                        fmt=tf))
    s = result.summary()
    out.append("\n## Summary\n" if md else "\nSummary")
    out.append(grid([[k, v] for k, v in s["by_verdict"].items()], headers=["verdict", "machines"],
                        fmt=tf))
    if s["by_finding"]:
        out.append("")
        out.append(grid([[k, v] for k, v in s["by_finding"].items()], headers=["finding", "machines"],
                            fmt=tf))
    out.append("")
    out.append(f"{s['machines']} machine(s), {s['errors']} unreadable, {s['skipped_files']} other file(s) skipped; "
               "Movable GiB is planned with the recommended command line unless --cmdline is given")
    return "\n".join(out) + "\n"
