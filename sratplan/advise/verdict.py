"""The answer to "will memory hot-remove work on this machine?".

Two words are kept apart everywhere:

* **offlinable** — the kernel can take a memory block offline (its pages
  migrate away): guaranteed for ZONE_MOVABLE blocks that hold no boot data;
  possible, not guaranteed, for kernel-zone blocks that hold none;
* **hot-removable** — offlinable *and* the firmware can eject it: the memory
  lies in an SRAT range marked Hot Pluggable (an ACPI memory device), and
  every boot block of that range is guaranteed offlinable.  ZONE_MOVABLE
  that ``kernelcore=``/``movablecore=`` carves out of ordinary memory is
  offlinable (ballooning, virtio-mem, memory tiering) but no firmware will
  eject it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..kernel.memory_hotplug import MAYBE, YES
from .findings import FIXED_LABELS, LABEL_TEXT


@dataclass(frozen=True)
class Verdict:
    hot_removable: bool
    removable_nodes: tuple[int, ...]
    removable_bytes: int
    removable_per_node: dict            # nid -> bytes
    offlinable_bytes: int               # guaranteed (ZONE_MOVABLE, no boot data)
    offlinable_per_node: dict
    may_offline_bytes: int              # kernel zones with no boot data: possible, not guaranteed
    blocker: str | None                 # why nothing is hot-removable
    kaslr_nodes: tuple[int, ...] | None
    hinges_on: tuple[str, ...] = field(default=())   # missing facts the answer depends on
    # the answer changes with a fact the input does not give (see hinges_on)
    undecided: bool = False

    def headline(self) -> str:
        if self.undecided:
            return "undecided: " + self.hinges_on[0]
        return self.answer()

    def answer(self) -> str:
        """The answer on the plan's own facts and assumptions."""
        if self.hot_removable:
            return (f"memory can be hot-removed: {_gib(self.removable_bytes)} GiB on node(s) "
                    + ", ".join(str(n) for n in self.removable_nodes))
        line = f"no memory can be hot-removed: {self.blocker}"
        if self.offlinable_bytes:
            line += (f" ({_gib(self.offlinable_bytes)} GiB of ZONE_MOVABLE can be offlined, "
                     "not removed)")
        return line


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.2f}"


def decide(plan, findings, kaslr_nodes=None, hinges_on=()) -> Verdict:
    """The verdict of a plan and its findings."""
    offl: dict = {}
    maybe = 0
    for r in plan.blocks:
        if r.offlinable == YES:
            offl[r.node] = offl.get(r.node, 0) + r.size
        elif r.offlinable == MAYBE:
            maybe += r.size
    # an SRAT hot-pluggable range (an ejectable memory device) is removable
    # when every boot block holding its RAM is guaranteed offlinable
    by_range: dict = {}
    for n in plan.nodes:
        for s, e, a, b in n.hotplug_ram():
            by_range.setdefault((n.node, s, e), []).append((a, b))
    runs = sorted(plan.blocks, key=lambda r: r.start)
    starts = [r.start for r in runs]
    removable: dict = {}
    for (nid, _s, _e), pieces in by_range.items():
        ok, size = True, 0
        for a, b in pieces:
            size += b - a
            i = max(0, bisect.bisect_right(starts, a) - 1)
            while ok and i < len(runs) and runs[i].start < b:
                if runs[i].end > a and runs[i].offlinable != YES:
                    ok = False
                i += 1
            if not ok:
                break
        if ok and size:
            removable[nid] = removable.get(nid, 0) + size
    hot = bool(removable)
    blocker = None if hot else _blocker(plan, findings)
    return Verdict(hot_removable=hot, removable_nodes=tuple(sorted(removable)),
                   removable_bytes=sum(removable.values()), removable_per_node=dict(sorted(removable.items())),
                   offlinable_bytes=sum(offl.values()), offlinable_per_node=dict(sorted(offl.items())),
                   may_offline_bytes=maybe, blocker=blocker,
                   kaslr_nodes=tuple(kaslr_nodes) if kaslr_nodes is not None else None,
                   hinges_on=tuple(hinges_on))


def _blocker(plan, findings) -> str:
    movable = plan.machine.cmdline.movable_node
    srat_hot_nodes = [n for n in plan.nodes if n.hotplug_in_srat]
    for f in findings:
        if f.code == "BOOT_ALLOCATION_FAILED":
            return f.message
        if f.code == "E820_USER_MAP_INVALID":
            return "the kernel panics while parsing the command line's memory map (memmap=exactmap needs two ranges)"
        if f.code == "SRAT_NOT_USED":
            return f.message
        if f.code == "NO_SRAT":
            return "no SRAT: nothing marks memory hotpluggable"
    cleared = [n for n in plan.nodes if n.hotplug_cleared_by]
    stuck = [n for n in srat_hot_nodes if set(n.hotplug_cleared_by) & FIXED_LABELS]
    if srat_hot_nodes and len(stuck) == len(srat_hot_nodes):
        n = stuck[0]
        what = ", ".join(LABEL_TEXT.get(x, x) for x in n.hotplug_cleared_by if x in FIXED_LABELS)
        return f"node {n.node} loses its hotplug flag: {what} lie(s) in node {n.node}"
    if srat_hot_nodes and not movable:
        return "movable_node is not given, so hotpluggable SRAT memory goes to kernel zones"
    if cleared and not any(n.hotplug for n in plan.nodes):
        n = cleared[0]
        what = ", ".join(LABEL_TEXT.get(x, x) for x in n.hotplug_cleared_by)
        return f"node {n.node} loses its hotplug flag: {what} lie(s) in node {n.node}"
    if not srat_hot_nodes:
        if plan.machine.hotplug_unknown:
            return ("no RAM is known in the SRAT's hotpluggable ranges: the input has no e820 map, so they are "
                    "planned as empty hot-add windows")
        return "the SRAT marks no boot memory hotpluggable"
    return "every Movable block of the hotpluggable ranges holds boot-time reserved pages, spans nodes/zones or has holes"
