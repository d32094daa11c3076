"""JSON output of a plan (schema ``sratplan.plan/1``, docs/plan-json.md) and
of a ``--compare`` (a list of plans).  Addresses and byte counts are hex
strings; pfns and page counts are integers, as /proc/zoneinfo prints them."""

from __future__ import annotations

import json

from ..kernel.memory_hotplug import MAYBE, YES
from ..plan import SCHEMA


def _hx(v: int) -> str:
    return hex(v)


def _node(n) -> dict:
    return {
        "node": n.node, "pxms": list(n.pxms), "online": n.online, "cpus": n.cpus,
        "srat_ranges": [[_hx(s), _hx(e)] for s, e, _ in n.srat_ranges],
        "srat_hotplug_ranges": [[_hx(s), _hx(e)] for s, e, h in n.srat_ranges if h],
        "memory_ranges": [[_hx(s), _hx(e)] for s, e in n.memory_ranges],
        "hotplug": n.hotplug, "hotplug_cleared_by": list(n.hotplug_cleared_by),
        "node_data": [_hx(n.node_data[0]), _hx(n.node_data[1])] if n.node_data else None,
        "node_data_on_node": n.node_data_on,
        "movable_start_pfn": n.movable_start_pfn,
        "zones": [{"zone": z.zone, "start_pfn": z.start_pfn, "spanned": z.spanned, "present": z.present,
                   "managed": z.managed} for z in n.zones],
    }


def _run(r) -> dict:
    d = {"first": r.first, "last": r.last, "nodes": list(r.nodes), "valid_zones": r.valid_zones,
         "offlinable": r.offlinable == YES, "may_offline": r.offlinable == MAYBE}
    if r.why:
        d["why_not"] = r.why
    return d


def _verdict(v) -> dict:
    return {"hot_removable": v.hot_removable, "nodes": list(v.removable_nodes), "bytes": _hx(v.removable_bytes),
            "bytes_per_node": {str(k): _hx(b) for k, b in v.removable_per_node.items()},
            "offlinable_bytes": _hx(v.offlinable_bytes),
            "offlinable_bytes_per_node": {str(k): _hx(b) for k, b in v.offlinable_per_node.items()},
            "may_offline_bytes": _hx(v.may_offline_bytes),
            "blocker": v.blocker, "kaslr_nodes": list(v.kaslr_nodes) if v.kaslr_nodes is not None else None,
            "hinges_on": list(v.hinges_on)}


def _recommendation(rec) -> dict:
    if rec is None:
        return {}
    eff = None
    if rec.effect is not None:
        e = rec.effect
        eff = {"movable": e.movable, "hot_removable": e.hot_removable, "bytes": _hx(e.removable_bytes),
               "nodes": list(e.removable_nodes), "offlinable_bytes": _hx(e.offlinable_bytes)}
    return {"cmdline": rec.cmdline, "add": list(rec.add), "remove": list(rec.remove), "why": list(rec.why),
            "effect": eff, "options": list(rec.options)}


def document(report) -> dict:
    """The plan document of a :class:`sratplan.pipeline.Report`."""
    p = report.plan
    return {
        "schema": SCHEMA,
        "kernel": p.kernel,
        "cmdline": report.machine.cmdline.raw,
        "assumptions": list(p.assumptions),
        "numa": {"source": p.numa_source, "reason": p.numa_reason},
        "zone_ranges": {k: ([_hx(v[0]), _hx(v[1])] if v else None) for k, v in p.zone_ranges.items()},
        "nodes": [_node(n) for n in p.nodes],
        "memory_blocks": {"block_size": _hx(p.block_size), "runs": [_run(r) for r in p.blocks]},
        "verdict": _verdict(report.verdict),
        "findings": [f.to_json() for f in report.findings],
        "recommendation": _recommendation(report.recommendation),
        "alternatives": [{"kernel": a.plan.kernel, "verdict": _verdict(a.verdict),
                          "findings": [f.to_json() for f in a.findings]} for a in report.alternatives],
    }


def plan(report) -> str:
    return json.dumps(document(report), indent=2) + "\n"


def compare(reports, labels=None) -> str:
    return json.dumps([document(r) for r in reports], indent=2) + "\n"
