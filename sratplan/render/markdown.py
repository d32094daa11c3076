"""The plan as Markdown (``--format markdown``), for tickets and reviews."""

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
    verdict_line,
    zone_rows,
)


def plan(report) -> str:
    p = report.plan
    out = ["## sratplan plan", "", f"**{verdict_line(report)}**", ""] + [f"- {h}" for h in hinges_lines(report)] + [
           f"Kernel profile {p.kernel}; NUMA from {p.numa_source}"
           + (f" ({p.numa_reason})" if p.numa_reason else "") + "; command line: "
           + (f"`{report.machine.cmdline.raw}`" if report.machine.cmdline.raw else "(empty)"),
           "", "### Nodes", ""]
    rows = [[c.replace("\n", "<br>") if isinstance(c, str) else c for c in r] for r in node_rows(p)]
    out.append(grid(rows, NODE_HEAD, "markdown"))
    out += ["", "### Zones (managed is an estimate)", "", grid(zone_rows(p), ZONE_HEAD, "markdown")]
    out += ["", f"### Memory blocks ({p.block_size >> 20} MiB)", "", grid(block_rows(p), BLOCK_HEAD, "markdown")]
    if report.findings:
        out += ["", "### Findings", ""]
        out.append(grid([[f.severity.value, f"`{f.code}`", f.location() or "-", f.message]
                         for f in report.findings], FINDING_HEAD, "markdown"))
    rec = report.recommendation
    if rec is not None:
        out += ["", "### Recommended command line", "", f"`{rec.cmdline}`", ""]
        out += [f"- {w}" for w in rec.why]
        if rec.options:
            out += ["", "What the command line can make offlinable (each planned):", ""]
            out += [f"- {o}" for o in rec.options]
    if p.assumptions:
        out += ["", "### Assumptions", ""] + [f"- {a}" for a in p.assumptions]
    for alt in report.alternatives:
        out += ["", f"### With profile {alt.plan.kernel}", "",
                f"The kernel release cannot tell which rules it follows. **VERDICT: {alt.verdict.headline()}**", ""]
        out += [f"- {d}" for d in plan_differences(report, alt)] or ["- no difference in the layout"]
    return "\n".join(out) + "\n"


def compare(reports, labels=None) -> str:
    rows, head = compare_rows(reports, labels)
    return "## sratplan: command lines compared\n\n" + grid(rows, head, "markdown") + "\n"
