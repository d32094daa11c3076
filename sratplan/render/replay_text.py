"""Table rendering of a replay result (``sratplan replay``)."""

from __future__ import annotations

from ..replay import ReplayResult
from .common import grid


def render(r: ReplayResult, *, verbose: bool = False) -> str:
    out = [f"log: {r.path or '-'}",
           f"kernel: {r.release or 'unknown'} -> {r.profile_note}",
           f"movable_node: {'yes' if r.movable_node else 'no'}",
           f"allocations: {r.alloc_matches}/{len(r.allocations)} at the kernel's address",
           (f"dumps: {sum(d.match for d in r.dumps)}/{len(r.dumps)} identical "
            f"({r.region_matches}/{r.region_count} regions)"),
           f"seeded from the first dump (reserved before memblock=debug): {len(r.seeded)} range(s)"]
    rows = [a for a in r.allocations if verbose or not a.match]
    if rows:
        out.append("")
        out.append(grid(
            [[a.index, a.line, a.func, a.caller, a.size, f"{a.align:#x}", a.nid,
              f"{a.predicted:#x}", f"{a.actual:#x}",
              "" if a.actual_nid is None else f"{a.predicted_nid}/{a.predicted_flags:#x}"
              if a.predicted_nid is not None else "-",
              "" if a.actual_nid is None else f"{a.actual_nid}/{a.actual_flags:#x}",
              "ok" if a.match else "MISMATCH"] for a in rows],
            headers=["#", "line", "request", "caller", "bytes", "align", "nid", "predicted", "actual",
                     "pred nid/flags", "act nid/flags", ""]))
    for d in r.dumps:
        if d.match and not verbose:
            continue
        out.append("")
        out.append(f"dump {d.index} (line {d.line}): {d.matched_regions}/{d.regions} regions, header "
                   f"{'same' if d.header_match else 'differs'}")
        for k, e in d.diff:
            out.append(f"  kernel: {k.strip() or '(no such line)'}")
            out.append(f"  engine: {e.strip() or '(no such line)'}")
        if verbose:
            out.append("  engine's table:")
            out.extend("    " + x.strip() for x in d.engine_table)
    for n in r.notes:
        out.append(f"note: {n}")
    out.append("")
    out.append("MATCH" if r.ok else "DISAGREEMENT")
    return "\n".join(out) + "\n"
