"""Command-line advice, proven by re-planning before it is shown.

Every proposal is tried on the same machine through the ``replan`` callable
the pipeline hands in (``pipeline.with_cmdline``); it is kept only if the
trial

* knows the parameter (the profile's kernel has it: no CMDLINE_IGNORED /
  CMDLINE_MALFORMED finding names it),
* raises no error-level finding the current line does not already have,
* achieves what its text claims (which nodes become hot-removable, how much
  becomes offlinable), and
* contradicts no other line of the advice.

Parameters the kernel rejects fatally (error-level command-line findings, a
user memory map it panics on, a ``mem=`` that leaves the early allocations no
room) are removed first.  Advice never calls back into the planner: the
pipeline sequences it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from ..findings import Severity
from ..kernel.cmdline import finding_param, format_cmdline, parse_cmdline
from .findings import FIXED_LABELS, LABEL_TEXT, gib

# e820-level errors that a mem=/memmap= on the command line causes
_MEMORY_MAP_ERRORS = frozenset({"E820_USER_MAP_INVALID", "E820_NO_RAM", "BOOT_ALLOCATION_FAILED"})
_PARAM_REJECTED = frozenset({"CMDLINE_IGNORED", "CMDLINE_MALFORMED"})


@dataclass(frozen=True)
class Effect:
    """What the recommended command line does, from its own plan."""

    movable: str                 # "node 1: 3 GiB, ..." or "none"
    hot_removable: bool
    removable_bytes: int
    removable_nodes: tuple
    offlinable_bytes: int


@dataclass(frozen=True)
class Recommendation:
    cmdline: str
    add: tuple = ()
    remove: tuple = ()
    why: tuple = ()
    effect: Effect | None = None
    options: tuple = field(default=())   # other command lines checked by re-planning, with what they give
    # the plan of ``cmdline`` itself (what the advice was proven on)
    planned: object = field(default=None, compare=False, repr=False)


def movable_text(plan) -> str:
    parts = [f"node {n.node}: {gib(n.movable_present_bytes)}" for n in plan.nodes if n.movable_present_bytes]
    return ", ".join(parts) or "none"


def _errors(findings) -> set:
    return {(f.code, f.message) for f in findings if f.severity == Severity.ERROR}


def _rejects(trial, name: str) -> str | None:
    """The finding by which the trial's kernel rejects parameter ``name``."""
    for f in trial.findings:
        if f.code in _PARAM_REJECTED and f.where == f"cmdline {name}":
            return f.message
    return None


class _Advice:
    """The command line being built, its plan, the reasons, and every trial
    made on the way (each command line is planned once)."""

    def __init__(self, machine, current, replan):
        self.machine = machine
        self.replan = replan
        self.trials = {machine.cmdline.raw: current}
        self.line = machine.cmdline.raw
        self.best = current
        self.why: list[str] = []
        self.add: list[str] = []
        self.remove: list[str] = []

    def plan(self, text):
        if text not in self.trials:
            self.trials[text] = self.replan(text)
        return self.trials[text]

    def cmdline(self):
        return parse_cmdline(self.line, self.machine.profile)

    def attempt(self, new_line, claim, text, rejected, params=(), quiet=False) -> bool:
        """Plan ``new_line``; keep it when the kernel knows ``params``, no new
        error appears and ``claim(trial)`` holds.  ``text(trial)`` /
        ``rejected(trial)`` say why (``quiet``: an optional extra whose
        rejection is not worth a line)."""
        trial = self.plan(new_line)
        for name in params:
            msg = _rejects(trial, name)
            if msg:
                if not quiet:
                    self.why.append(f"not recommended: {msg}")
                return False
        new_errors = _errors(trial.findings) - _errors(self.best.findings)
        if new_errors:
            if not quiet:
                self.why.append(rejected(trial) + "; it would raise: "
                                + "; ".join(m for _c, m in sorted(new_errors)))
            return False
        if not claim(trial):
            if not quiet:
                self.why.append(rejected(trial))
            return False
        self.why.append(text(trial))
        self.line, self.best = new_line, trial
        return True


def recommend(machine, plan, findings, verdict, replan, *, options: bool = True) -> Recommendation:
    """The recommended command line for ``machine`` (planned as ``plan`` with
    ``findings`` and ``verdict``).  ``replan(cmdline) -> Report`` plans the
    same machine with another command line.  ``options`` adds the
    offlinable-memory options for machines without hotpluggable memory."""
    adv = _Advice(machine, SimpleNamespace(machine=machine, plan=plan, findings=findings, verdict=verdict), replan)
    cl = machine.cmdline

    # 1. what the kernel rejects fatally goes first
    drops = []
    for f in findings:
        if f.severity != Severity.ERROR:
            continue
        param = finding_param(f)
        if param is not None and param not in drops:
            drops.append(param)
            adv.why.append(f"remove '{_show(param)}': {f.message}")
    map_errors = [f.message for f in findings if f.code in _MEMORY_MAP_ERRORS]
    if map_errors:
        for name, value in cl.params:
            if name in ("mem", "memmap") and (name, value) not in drops:
                drops.append((name, value))
                adv.why.append(f"remove '{_show((name, value))}': with it the kernel does not boot ("
                               + "; ".join(map_errors) + ")")
    if drops:
        adv.line = format_cmdline(cl, drop=drops)
        adv.best = adv.plan(adv.line)
        adv.remove.extend(_show(d) for d in drops)
        if _errors(adv.best.findings):
            adv.why.append("the kernel still reports errors without them: see the findings")

    # 2. proposals, each tried on the machine and kept only if it delivers
    p0 = adv.best.plan
    srat_used = machine.srat is not None and p0.numa_source == "srat"
    hot_ram_nodes = [n.node for n in p0.nodes if n.hotplug_in_srat]
    if srat_used and hot_ram_nodes and not adv.cmdline().movable_node:
        before = adv.best.verdict

        def more_removable(t):
            return t.verdict.hot_removable and t.verdict.removable_bytes > before.removable_bytes

        if adv.attempt(format_cmdline(adv.line, add=("movable_node",)), more_removable,
                       lambda t: ("movable_node: the SRAT marks RAM of node(s) " + ", ".join(map(str, hot_ram_nodes))
                                  + " hotpluggable; movable_node keeps boot allocations off it (bottom-up until the "
                                  "SRAT is parsed) and makes it ZONE_MOVABLE, so "
                                  f"{gib(t.verdict.removable_bytes)} on node(s) "
                                  + ", ".join(map(str, t.verdict.removable_nodes)) + " become hot-removable"),
                       lambda t: "movable_node would not help: " + (t.verdict.blocker or "no node stays hotpluggable"),
                       ("movable_node",)):
            adv.add.append("movable_node")
    pcl = adv.cmdline()
    if pcl.movable_node and (pcl.kernelcore or pcl.movablecore):
        names = [n for n in ("kernelcore", "movablecore") if getattr(pcl, n)]
        before = adv.best.verdict
        if adv.attempt(format_cmdline(adv.line, remove=names),
                       lambda t: t.verdict.removable_bytes >= before.removable_bytes,
                       lambda t: "drop " + "= and ".join(names) + "=: movable_node takes precedence and silently "
                                 "ignores " + ("it" if len(names) == 1 else "them"),
                       lambda t: "keep " + "= and ".join(names) + "=: dropping changes what can be removed"):
            adv.remove.extend(names)
    if pcl.movable_node and srat_used and not hot_ram_nodes:
        before = adv.best.verdict
        if adv.attempt(format_cmdline(adv.line, remove=("movable_node",)),
                       lambda t: t.verdict.removable_bytes >= before.removable_bytes,
                       lambda t: "drop movable_node: no boot RAM is marked hotpluggable, so it has no effect here",
                       lambda t: "movable_node has no effect on boot memory here, but dropping it changes the plan"):
            adv.remove.append("movable_node")
    k = set(adv.best.verdict.kaslr_nodes or ())
    if (not adv.cmdline().nokaslr and len(k) > 1 and k & set(hot_ram_nodes)
            and any(f.code == "KASLR_MAY_LAND_IN_HOTPLUG" for f in adv.best.findings)):
        before = adv.best.verdict
        pinned = ", ".join(map(str, sorted(k & set(hot_ram_nodes))))
        if adv.attempt(format_cmdline(adv.line, add=("nokaslr",)),
                       lambda t: (not any(f.code == "KASLR_MAY_LAND_IN_HOTPLUG" for f in t.findings)
                                  and set(before.removable_nodes) <= set(t.verdict.removable_nodes)),
                       lambda t: ("nokaslr: KASLR's immovable-memory filter is off for this SRAT, so the kernel "
                                  f"image could land in hotpluggable node(s) {pinned} and pin it; without KASLR "
                                  "it stays at its load address"),
                       lambda t: "nokaslr would not keep the hotpluggable nodes free", ("nokaslr",)):
            adv.add.append("nokaslr")
    _hot_add_policy(adv)

    stuck = [n for n in adv.best.plan.nodes if n.hotplug_in_srat and set(n.hotplug_cleared_by) & FIXED_LABELS]
    for n in stuck:
        what = ", ".join(LABEL_TEXT.get(x, x) for x in n.hotplug_cleared_by if x in FIXED_LABELS)
        adv.why.append(f"node {n.node} cannot be made removable from the command line: {what} lie(s) in it "
                       "(firmware and loader placement)")

    effect = None
    if adv.line != cl.raw:
        v = adv.best.verdict
        effect = Effect(movable=movable_text(adv.best.plan), hot_removable=v.hot_removable,
                        removable_bytes=v.removable_bytes, removable_nodes=v.removable_nodes,
                        offlinable_bytes=v.offlinable_bytes)
        if v.hot_removable:
            adv.why.append(f"predicted effect: ZONE_MOVABLE {effect.movable}; {gib(v.removable_bytes)} on node(s) "
                           + ", ".join(map(str, v.removable_nodes)) + " can be offlined and hot-removed")
        else:
            adv.why.append(f"predicted effect: ZONE_MOVABLE {effect.movable}; still nothing can be hot-removed "
                           f"({v.blocker})")
    else:
        adv.why.append("no change needed for what this machine's tables allow")
    opts = _offlinable_options(adv) if options else ()
    return Recommendation(cmdline=adv.line, add=tuple(adv.add), remove=tuple(adv.remove), why=tuple(adv.why),
                          effect=effect, options=opts, planned=adv.best)


def _show(param) -> str:
    name, value = param
    return name if value is None else f"{name}={value}"


def _hot_add_policy(adv):
    """Memory hot-added later into the SRAT's hot-add windows is onlined by
    policy, not by movable_node: propose the policy that keeps it removable
    (auto-movable from 5.15, else online_movable), and memmap_on_memory
    (5.12+), each only if the profile's kernel accepts it."""
    if not any(f.code == "SRAT_HOTPLUG_WINDOW" for f in adv.best.findings):
        return
    pcl = adv.cmdline()
    if pcl.memhp_default_state is not None or pcl.online_policy is not None:
        return
    auto = pcl.auto_online_blocks(adv.machine.profile)
    tail = ", so udev or memhp_default_state=online must online it)" if auto == "offline" else ")"
    policy = "memory_hotplug.online_policy=auto-movable"
    if adv.attempt(format_cmdline(adv.line, add=(policy,)), lambda t: True,
                   lambda t: (f"{policy}: memory hot-added into the SRAT's hot-add windows is onlined Movable "
                              "while MOVABLE:KERNEL stays within auto_movable_ratio (301 %), so it can be removed "
                              "again without starving the kernel (movable_node does not apply to hot-added "
                              f"memory; auto_online_blocks is '{auto}' on this kernel" + tail),
                   lambda t: "", ("memory_hotplug.online_policy",), quiet=True):
        adv.add.append(policy)
    elif adv.attempt(format_cmdline(adv.line, add=("memhp_default_state=online_movable",)), lambda t: True,
                     lambda t: ("memhp_default_state=online_movable: this kernel has no auto-movable policy, so "
                                "memory hot-added into the SRAT's hot-add windows is onlined Movable outright "
                                "(removable again, but all of it counts against MOVABLE:KERNEL)"),
                     lambda t: "", ("memhp_default_state",), quiet=True):
        adv.add.append("memhp_default_state=online_movable")
    mom = "memory_hotplug.memmap_on_memory=1"
    if adv.attempt(format_cmdline(adv.line, add=(mom,)), lambda t: True,
                   lambda t: (f"{mom}: hot-added blocks carry their own memmap (1/64 of their size) instead of "
                              "taking it from kernel zones"),
                   lambda t: "", ("memory_hotplug.memmap_on_memory",), quiet=True):
        adv.add.append(mom)


def _offlinable_options(adv) -> tuple:
    """For a machine whose firmware marks no memory hotpluggable: how much
    ZONE_MOVABLE ``movablecore=`` can give (offlinable for ballooning,
    virtio-mem or memory tiering; not removable without firmware support),
    each figure from its own plan."""
    best = adv.best
    if any(n.hotplug_in_srat for n in best.plan.nodes) or best.verdict.hot_removable:
        return ()
    pcl = adv.cmdline()
    if pcl.movable_node or pcl.kernelcore or pcl.movablecore:
        return ()
    out = []
    for pct in (25, 50):
        opt = format_cmdline(adv.line, add=(f"movablecore={pct}%",))
        t = adv.plan(opt)
        if _errors(t.findings) - _errors(best.findings) or not t.verdict.offlinable_bytes:
            continue
        kern = sum(n.kernel_present_bytes for n in t.plan.nodes)
        mov = sum(n.movable_present_bytes for n in t.plan.nodes)
        out.append(f"'{opt}': {gib(t.verdict.offlinable_bytes)} of ZONE_MOVABLE can be offlined after boot "
                   f"(MOVABLE:KERNEL {mov / max(kern, 1):.1f}:1), for ballooning, virtio-mem or memory tiering; "
                   "it is not hot-removable: the firmware marks no memory Hot Pluggable")
    if out:
        out.append("to make memory hot-removable the firmware must describe it: enable memory hot-plug in the "
                   "BIOS/UEFI setup (often 'Memory Hot Plug' or 'ACPI memory hotplug'), or give the VM a "
                   "hot-pluggable memory range (QEMU slots/maxmem, VMware or Hyper-V hot-add); the SRAT then "
                   "marks those ranges Hot Pluggable")
    return tuple(out)
