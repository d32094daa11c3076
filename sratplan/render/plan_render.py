"""Plan output: table (tabulate's layout, render.grid), JSON (schema sratplan.plan/1), markdown, and
the SVG picture.  Presentation only: every number comes from the Plan."""

from __future__ import annotations

import json

from ..units import GIB
from .grid import grid


def _gib(nbytes: int) -> str:
    return f"{nbytes / GIB:.2f}"


def render(plan, fmt: str) -> str:
    if fmt == "json":

        return json.dumps(plan.to_json(), indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(plan)
    if fmt == "svg":
        from . import svg

        return svg.render(plan)
    return _table(plan)


def render_compare(plans, fmt: str) -> str:
    if fmt == "json":

        return json.dumps([p.to_json() for p in plans], indent=2) + "\n"
    if fmt == "svg":
        from . import svg

        return svg.render_compare(plans)

    nodes = sorted({n.node for p in plans for n in p.nodes})
    rows = []
    for p in plans:
        mov = {n.node: n.movable_present_bytes for n in p.nodes}
        v = p.verdict
        risks = sorted({f.code for f in p.findings if f.severity.rank >= 1})
        rows.append([p.machine.cmdline.raw or "(empty)"] + [_gib(mov.get(n, 0)) for n in nodes] +
                    ["yes" if v.get("hot_removable") else "no", _gib(int(v.get("bytes", "0x0"), 16)),
                     ", ".join(risks) or "-"])
    head = ["command line"] + [f"node {n} Movable GiB" for n in nodes] + ["hot-removable", "offlinable GiB", "risks"]
    tf = "markdown" if fmt == "markdown" else "table"
    out = grid(rows, headers=head, fmt=tf) + "\n"
    if fmt == "markdown":
        return "## sratplan: command lines compared\n\n" + out
    return out


def _verdict_line(plan) -> str:
    v = plan.verdict
    if v.get("hot_removable"):
        nb = int(v["bytes"], 16)
        nodes = ", ".join(str(n) for n in v["nodes"])
        return f"VERDICT: memory can be hot-removed: {_gib(nb)} GiB on node(s) {nodes}"
    return f"VERDICT: no memory can be hot-removed: {v.get('blocker')}"


def _node_rows(plan):
    rows = []
    for n in plan.nodes:
        ranges = "\n".join(f"{s:#x}-{e:#x}" for s, e in n.memory_ranges) or "-"
        hp_srat = sum(e - s + 1 for s, e, h in n.srat_ranges if h)
        state = "hotplug" if n.hotplug else ("cleared: " + ",".join(n.hotplug_cleared_by) if n.hotplug_cleared_by
                                             else "-")
        nd = f"{n.node_data[0]:#x}" + (f" (node {n.node_data_on})" if n.node_data_on not in (None, n.node) else "") \
            if n.node_data else "-"
        zones = " ".join(f"{z.zone}:{_gib(z.present * 4096)}" for z in n.zones if z.present) or "-"
        rows.append([n.node, ",".join(str(x) for x in n.pxms) or "-", ranges, _gib(n.present_bytes),
                     _gib(hp_srat), _gib(n.movable_present_bytes), n.cpus, state, nd, zones])
    return rows


def _zone_rows(plan):
    rows = []
    for n in plan.nodes:
        if not n.online:
            continue
        for z in n.zones:
            rows.append([n.node, z.zone, "-" if z.start_pfn is None else f"{z.start_pfn:#x}", z.spanned, z.present,
                         z.managed])
    return rows


def _block_rows(plan):
    rows = []
    for r in plan.blocks:
        rows.append([f"{r.first}-{r.last}" if r.last != r.first else str(r.first), f"{r.start:#x}-{r.end - 1:#x}",
                     ",".join(str(x) for x in r.nodes), r.valid_zones, "yes" if r.offlinable else "no",
                     r.why or ""])
    return rows


def text_bars(plan, width: int = 64) -> list[str]:
    """One line per node: '#' kernel zones, 'M' Movable, '.' holes, scaled to
    the node's span."""
    lines = []
    for n in plan.nodes:
        if not n.memory_ranges:
            continue
        start = n.memory_ranges[0][0]
        end = max(e for _, e in n.memory_ranges) + 1
        span = max(end - start, 1)
        cells = []
        mov = n.movable_start_pfn << 12 if n.movable_start_pfn else None
        for i in range(width):
            a = start + span * i // width
            b = start + span * (i + 1) // width
            ram = any(s < b and a <= e for s, e in n.memory_ranges)
            if not ram:
                cells.append(".")
            elif mov is not None and a >= mov:
                cells.append("M")
            else:
                cells.append("#")
        lines.append(f"node {n.node:>3} [{''.join(cells)}] {start:#x}-{end - 1:#x}")
    return lines


def _table(plan) -> str:

    out = [_verdict_line(plan), ""]
    out.append(f"kernel profile {plan.kernel}; NUMA from {plan.numa_source}"
               + (f" ({plan.numa_reason})" if plan.numa_reason else ""))
    out.append("")
    out.append(grid(_node_rows(plan), headers=["node", "PXM", "memory ranges", "GiB", "hotplug GiB (SRAT)",
                                                   "Movable GiB", "CPUs", "hotplug", "NODE_DATA", "zones (GiB)"],
                        fmt="table"))
    out.append("")
    out.append("zones (managed is an estimate)")
    out.append(grid(_zone_rows(plan), headers=["node", "zone", "start_pfn", "spanned", "present", "managed"],
                        fmt="table"))
    out.append("")
    out.append(f"memory blocks ({plan.block_size >> 20} MiB)")
    out.append(grid(_block_rows(plan), headers=["blocks", "range", "nodes", "valid_zones", "offlinable", "why not"],
                        fmt="table"))
    if plan.findings:
        out.append("")
        out.append("findings")
        out.append(grid([[f.severity.value, f.code, f.location() or "-", f.message] for f in plan.findings],
                            headers=["severity", "code", "where", "message"], fmt="table"))
    rec = plan.recommendation
    if rec:
        out.append("")
        out.append(f"recommended command line: {rec.get('cmdline') or '(empty)'}")
        for w in rec.get("why", ()):
            out.append(f"  - {w}")
    if plan.assumptions:
        out.append("")
        out.append("assumptions")
        for a in plan.assumptions:
            out.append(f"  - {a}")
    out.append("")
    out.append("map ('#' kernel zones, 'M' Movable, '.' no RAM)")
    out.extend(text_bars(plan))
    return "\n".join(out) + "\n"


def _markdown(plan) -> str:

    out = ["## sratplan plan", "", f"**{_verdict_line(plan)}**", "",
           f"Kernel profile {plan.kernel}; NUMA from {plan.numa_source}"
           + (f" ({plan.numa_reason})" if plan.numa_reason else ""), "", "### Nodes", ""]
    rows = [[c.replace("\n", "<br>") if isinstance(c, str) else c for c in r] for r in _node_rows(plan)]
    out.append(grid(rows, headers=["node", "PXM", "memory ranges", "GiB", "hotplug GiB (SRAT)", "Movable GiB",
                                       "CPUs", "hotplug", "NODE_DATA", "zones (GiB)"], fmt="markdown"))
    out += ["", "### Zones (managed is an estimate)", ""]
    out.append(grid(_zone_rows(plan), headers=["node", "zone", "start_pfn", "spanned", "present", "managed"],
                        fmt="markdown"))
    out += ["", f"### Memory blocks ({plan.block_size >> 20} MiB)", ""]
    out.append(grid(_block_rows(plan), headers=["blocks", "range", "nodes", "valid_zones", "offlinable", "why not"],
                        fmt="markdown"))
    if plan.findings:
        out += ["", "### Findings", ""]
        out.append(grid([[f.severity.value, f"`{f.code}`", f.location() or "-", f.message] for f in plan.findings],
                            headers=["severity", "code", "where", "message"], fmt="markdown"))
    rec = plan.recommendation
    if rec:
        out += ["", "### Recommended command line", "", f"`{rec.get('cmdline') or ''}`", ""]
        out += [f"- {w}" for w in rec.get("why", ())]
    if plan.assumptions:
        out += ["", "### Assumptions", ""] + [f"- {a}" for a in plan.assumptions]
    return "\n".join(out) + "\n"
