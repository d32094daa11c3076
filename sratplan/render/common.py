"""What the text formats share: tabulate's ``simple`` (table) and ``github``
(markdown) layouts, and the rows of a plan's node, zone and block tables.
Numbers are never re-parsed (``disable_numparse``): cells hold hex addresses
and counts already formatted as the kernel prints them."""

from __future__ import annotations

from tabulate import tabulate

from ..units import GIB, PAGE_SIZE

NODE_HEAD = ["node", "PXM", "memory ranges", "GiB", "hotplug RAM GiB (SRAT)", "Movable GiB", "CPUs", "hotplug",
             "NODE_DATA", "zones (GiB)"]
ZONE_HEAD = ["node", "zone", "start_pfn", "spanned", "present", "managed"]
BLOCK_HEAD = ["blocks", "range", "nodes", "valid_zones", "offlinable", "why not"]
FINDING_HEAD = ["severity", "code", "where", "message"]


def grid(rows, headers, fmt: str = "table") -> str:
    """``rows`` (sequences of cells; None is an empty cell) under ``headers``
    (``fmt`` "table" or "markdown")."""
    return tabulate(rows, headers=headers, tablefmt="github" if fmt == "markdown" else "simple",
                    disable_numparse=True)


def gib(nbytes: int) -> str:
    return f"{nbytes / GIB:.2f}"


def verdict_line(report) -> str:
    return "VERDICT: " + report.verdict.headline()


def hinges_lines(report) -> list[str]:
    """What the answer depends on that the inputs did not say."""
    v = report.verdict
    return [f"the answer hinges on {h}" for h in v.hinges_on[1 if v.undecided else 0:]]


def plan_differences(a, b) -> list[str]:
    """What differs between two plans of one machine (another kernel or
    command line): hotplug state, NODE_DATA, zones and the early allocations
    made before the SRAT is parsed."""
    out = []
    na, nb = {n.node: n for n in a.plan.nodes}, {n.node: n for n in b.plan.nodes}
    for nid in sorted(set(na) | set(nb)):
        x, y = na.get(nid), nb.get(nid)
        if x is None or y is None:
            out.append(f"node {nid}: only in one plan")
            continue
        if (x.hotplug, x.hotplug_cleared_by) != (y.hotplug, y.hotplug_cleared_by):
            out.append(f"node {nid}: hotplug {x.hotplug} {list(x.hotplug_cleared_by)} -> "
                       f"{y.hotplug} {list(y.hotplug_cleared_by)}")
        if x.node_data != y.node_data:
            out.append(f"node {nid}: NODE_DATA {_addr(x.node_data)} -> {_addr(y.node_data)}")
        for zx, zy in zip(x.zones, y.zones):
            if (zx.start_pfn, zx.spanned, zx.present) != (zy.start_pfn, zy.spanned, zy.present):
                out.append(f"node {nid} {zx.zone}: start_pfn/spanned/present {zx.start_pfn}/{zx.spanned}/"
                           f"{zx.present} -> {zy.start_pfn}/{zy.spanned}/{zy.present}")
            elif zx.managed != zy.managed:
                out.append(f"node {nid} {zx.zone}: managed {zx.managed} -> {zy.managed} pages")
    ea, eb = _early(a), _early(b)
    for what in sorted(set(ea) | set(eb)):
        if ea.get(what) != eb.get(what):
            out.append(f"{what}: {_ranges(ea.get(what))} -> {_ranges(eb.get(what))}")
    return out


def _addr(r) -> str:
    return f"{r[0]:#x}" if r else "-"


def _early(report) -> dict:
    """Labelled reservations made by setup_arch before the SRAT is parsed
    (trampoline, page tables), by label."""
    out: dict = {}
    tramp = report.plan.trace.early.trampoline
    if tramp:
        out["real-mode trampoline"] = [(tramp, tramp + report.plan.trace.profile.trampoline_size)]
    for label, s, e in report.plan.trace.early.reservations.items:
        if label == "page_tables":
            out.setdefault("direct-map page tables from memblock", []).append((s, e))
    dt = report.plan.trace.numa.distance_table
    if dt:
        out["SLIT copy (numa_distance)"] = [(dt[0], dt[0] + dt[1])]
    return out


def _ranges(rs) -> str:
    if not rs:
        return "none"
    return ", ".join(f"[{s:#x}-{e - 1:#x}]" for s, e in rs[:4]) + (f" (+{len(rs) - 4})" if len(rs) > 4 else "")


def node_rows(plan):
    rows = []
    for n in plan.nodes:
        ranges = "\n".join(f"{s:#x}-{e:#x}" for s, e in n.memory_ranges) or "-"
        state = "hotplug" if n.hotplug else ("cleared: " + ",".join(n.hotplug_cleared_by) if n.hotplug_cleared_by
                                             else "-")
        nd = f"{n.node_data[0]:#x}" + (f" (node {n.node_data_on})" if n.node_data_on not in (None, n.node) else "") \
            if n.node_data else "-"
        zones = " ".join(f"{z.zone}:{gib(z.present * PAGE_SIZE)}" for z in n.zones if z.present) or "-"
        rows.append([n.node, ",".join(str(x) for x in n.pxms) or "-", ranges, gib(n.present_bytes),
                     gib(n.hotplug_ram_bytes), gib(n.movable_present_bytes), n.cpus, state, nd, zones])
    return rows


def zone_rows(plan):
    rows = []
    for n in plan.nodes:
        if not n.online:
            continue
        for z in n.zones:
            rows.append([n.node, z.zone, "-" if z.start_pfn is None else f"{z.start_pfn:#x}", z.spanned, z.present,
                         z.managed])
    return rows


def block_rows(plan):
    rows = []
    for r in plan.blocks:
        rows.append([f"{r.first}-{r.last}" if r.last != r.first else str(r.first), f"{r.start:#x}-{r.end - 1:#x}",
                     ",".join(str(x) for x in r.nodes), r.valid_zones, r.offlinable, r.why or ""])
    return rows


def compare_rows(reports, labels=None):
    """One row per command line (named by ``labels``, else the line itself):
    Movable GiB per node, what is hot-removable and offlinable, and the
    warnings and errors it raises."""
    nodes = sorted({n.node for r in reports for n in r.plan.nodes})
    labels = labels or [r.machine.cmdline.raw or "(empty)" for r in reports]
    rows = []
    for r, label in zip(reports, labels):
        mov = {n.node: n.movable_present_bytes for n in r.plan.nodes}
        v = r.verdict
        risks = sorted({f.code for f in r.findings if f.severity.rank >= 1})
        rows.append([label] + [gib(mov.get(n, 0)) for n in nodes] +
                    [gib(v.removable_bytes) if v.hot_removable else "no", gib(v.offlinable_bytes),
                     ", ".join(risks) or "-"])
    head = ["plan"] + [f"node {n} Movable GiB" for n in nodes] + \
        ["hot-removable GiB", "offlinable GiB", "risks"]
    return rows, head


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
