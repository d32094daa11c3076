"""``sratplan live`` output: predicted and actual side by side (table or
markdown in tabulate's layouts), or the ``sratplan.live/1`` JSON document.
Presentation only: every value comes from the LiveReport."""

from __future__ import annotations

import json

from .common import grid


def _v(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, (set, frozenset)):
        return ",".join(str(i) for i in sorted(x)) or "(none)"
    return str(x)


def render(report, fmt: str, *, source: str = "this machine") -> str:
    if fmt == "json":
        d = report.to_json()
        d["source"] = source
        return json.dumps(d, indent=2) + "\n"

    md = fmt == "markdown"
    tf = "markdown" if md else "table"
    out = []
    a, p = report.actual, report.plan

    def title(t):
        out.append(f"\n## {t}\n" if md else f"\n{t}")

    head = f"sratplan live: {source}, kernel {a.release or 'unknown'} (profile {p.kernel})"
    out.append(f"# {head}" if md else head)
    zone = {}
    for c in report.checks:
        if c.what == "zone":
            zone.setdefault(c.where, {})[c.field] = c
    if zone:
        title("Zones (/proc/zoneinfo): predicted / actual")
        rows = []
        for where, fields in zone.items():
            node, zname = where.split(" ")[1], where.split(" ")[2]
            row = [node, zname]
            bad = []
            for f in ("start_pfn", "spanned", "present", "managed"):
                c = fields.get(f)
                if c is None:
                    row.append("-")
                    continue
                row.append(f"{_v(c.predicted)} / {_v(c.actual)}")
                if not c.ok:
                    bad.append(f)
            row.append("DIFFERS: " + ", ".join(bad) if bad else "ok")
            rows.append(row)
        out.append(grid(rows, headers=["node", "zone", "start_pfn", "spanned", "present", "managed (est.)",
                                           ""], fmt=tf))
    other = [c for c in report.checks if c.what in ("node_state", "memtotal", "block_size")]
    if other:
        title("Nodes and memory blocks")
        def val(c, x):
            return hex(x) if c.what == "block_size" and isinstance(x, int) else _v(x)

        rows = [[c.where, c.field, val(c, c.predicted), val(c, c.actual), "ok" if c.ok else "DIFFERS"]
                for c in other]
        blocks = [c for c in report.checks if c.what == "block"]
        if blocks:
            nb = len({c.where for c in blocks})
            bad = len({c.where for c in blocks if not c.ok})
            rows.append(["memory blocks", "state, node, valid_zones", f"{nb} blocks", f"{nb - bad} agree",
                         "ok" if not bad else "DIFFERS"])
        out.append(grid(rows, headers=["what", "field", "predicted", "actual", ""], fmt=tf))
    dis = report.disagreements
    if dis:
        title(f"Disagreements ({len(dis)})")
        rows = [[c.where, c.field, _v(c.predicted), _v(c.actual), c.tolerance or "exact"] for c in dis]
        out.append(grid(rows, headers=["where", "field", "predicted", "actual", "tolerance"], fmt=tf))
    notes = list(report.notes) + list(p.assumptions)
    if a.missing:
        notes.append("not readable here: " + ", ".join(a.missing))
    if notes:
        title("Notes and assumptions")
        out.extend(f"- {n}" for n in notes)
    out.append("")
    if not report.checks:
        out.append("RESULT: nothing to compare")
    elif dis:
        out.append(f"RESULT: {len(dis)} disagreement(s) between the plan and the running kernel "
                   f"({len(report.checks)} fields compared; managed within 0.5 % or 256 pages)")
    else:
        out.append(f"RESULT: the running kernel agrees with the plan ({len(report.checks)} fields compared; "
                   "managed within 0.5 % or 256 pages)")
    return "\n".join(out) + "\n"
