"""The plan as text tables (``--format table``, the default)."""

from __future__ import annotations

from .common import (  # noqa: I001
    BLOCK_HEAD,
    FINDING_HEAD,
    NODE_HEAD,
    ZONE_HEAD,
    block_rows,
    compare_rows,
    grid,
    hinges_lines,
    node_rows,
    plan_differences,
    text_bars,
    verdict_line,
    zone_rows,
)


def plan(report) -> str:
    p = report.plan
    out = [verdict_line(report)] + [f"  {h}" for h in hinges_lines(report)] + [""]
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
    for alt in report.alternatives:
        out += ["", f"the same machine with profile {alt.plan.kernel} (the kernel release cannot tell which rules "
                    "it follows)", f"  VERDICT: {alt.verdict.headline()}"]
        out += [f"  - {d}" for d in plan_differences(report, alt)] or ["  - no difference in the layout"]
    out += ["", "map ('#' kernel zones, 'M' Movable, '.' no RAM)"]
    out.extend(text_bars(p))
    return "\n".join(out) + "\n"


def compare(reports, labels=None) -> str:
    rows, head = compare_rows(reports, labels)
    out = [grid(rows, head)]
    labels = labels or [r.machine.cmdline.raw or "(empty)" for r in reports]
    for (la, a), (lb, b) in zip(zip(labels, reports), list(zip(labels, reports))[1:]):
        diff = plan_differences(a, b)
        out += ["", f"{la} -> {lb}: " + ("no difference in the layout" if not diff else "")]
        out += [f"  - {d}" for d in diff]
    return "\n".join(out) + "\n"
