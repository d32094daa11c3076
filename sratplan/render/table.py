"""The plan as text tables (``--format table``, the default)."""

from __future__ import annotations

from .common import (
    BLOCK_HEAD,
    FINDING_HEAD,
    NODE_HEAD,
    ZONE_HEAD,
    block_rows,
    compare_rows,
    grid,
    node_rows,
    text_bars,
    verdict_line,
    zone_rows,
)


def plan(report) -> str:
    p = report.plan
    out = [verdict_line(report), ""]
    out.append(f"kernel profile {p.kernel}; NUMA from {p.numa_source}"
               + (f" ({p.numa_reason})" if p.numa_reason else ""))
    out.append(f"command line: {report.machine.cmdline.raw or '(empty)'}")
    out.append("")
    out.append(grid(node_rows(p), NODE_HEAD))
    out += ["", "zones (managed is an estimate)", grid(zone_rows(p), ZONE_HEAD)]
    out += ["", f"memory blocks ({p.block_size >> 20} MiB)", grid(block_rows(p), BLOCK_HEAD)]
    if report.findings:
        out += ["", "findings", grid([[f.severity.value, f.code, f.location() or "-", f.message]
                                      for f in report.findings], FINDING_HEAD)]
    rec = report.recommendation
    if rec is not None:
        out += ["", f"recommended command line: {rec.cmdline or '(empty)'}"]
        out += [f"  - {w}" for w in rec.why]
        if rec.options:
            out += ["", "what the command line can make offlinable (each planned)"]
            out += [f"  - {o}" for o in rec.options]
    if p.assumptions:
        out += ["", "assumptions"] + [f"  - {a}" for a in p.assumptions]
    out += ["", "map ('#' kernel zones, 'M' Movable, '.' no RAM)"]
    out.extend(text_bars(p))
    return "\n".join(out) + "\n"


def compare(reports, labels=None) -> str:
    rows, head = compare_rows(reports, labels)
    return grid(rows, head) + "\n"
