"""The only sequencer: Machine -> simulated boot -> Plan -> advice -> Report.

``run(machine)`` is the main job; a what-if (advice checking, ``--compare``,
audit's recommended column) is ``with_cmdline(machine, cmdline)``.  The
advice never calls back into the planner: :func:`run` hands it
``with_cmdline`` to try its proposals.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .advise import findings as findings_mod
from .advise.recommend import Recommendation, recommend
from .advise.verdict import Verdict, decide
from .errors import PlanError
from .findings import worst
from .kernel.boot import boot, boot_memblock
from .machine import Machine, with_hotplug_ram, with_profile
from .machine import with_cmdline as machine_with_cmdline
from .plan import Plan, project


@dataclass(frozen=True)
class Report:
    """Everything sratplan says about one machine and command line."""

    machine: Machine
    plan: Plan
    findings: tuple
    verdict: Verdict
    recommendation: Recommendation | None = None
    # the same machine planned with the other profile, when the kernel release
    # cannot tell which rules the kernel follows (Machine.profile_alternative)
    alternatives: tuple = ()

    @property
    def worst(self):
        return worst(self.findings)

    @property
    def bad_news(self) -> bool:
        """Error-level findings: exit status 1."""
        w = self.worst
        return w is not None and w.rank >= 2


def check_arch(machine: Machine) -> None:
    if machine.arch != "x86_64":
        raise PlanError(f"not planned: {machine.arch} (the tables describe a {machine.arch} machine; the planner "
                        "models x86-64 Linux) - 'sratplan decode' checks the tables themselves")


def run(machine: Machine, *, advise: bool = True, options: bool = True, boots: dict | None = None) -> Report:
    """Plan ``machine``: boot, layout, findings, verdict and (``advise``) the
    recommended command line, each proposal checked by planning it.
    ``boots`` holds the simulated boots of this machine already made, keyed
    by :meth:`KernelCmdline.boot_key` (a line that differs only in hot-add
    parameters boots the same way) and :meth:`KernelCmdline.memblock_key`
    (one that differs only in kernelcore=/movablecore= makes the same early
    allocations)."""
    check_arch(machine)
    boots = {} if boots is None else boots
    key = ("boot", machine.cmdline.boot_key())
    trace = boots.get(key)
    if trace is None:
        # a kernelcore=/movablecore= change moves ZONE_MOVABLE only, after
        # every early allocation: the memblock stage is shared too
        mkey = ("memblock", machine.cmdline.memblock_key())
        pre = boots.get(mkey)
        if pre is None:
            pre = boots[mkey] = boot_memblock(machine)
        trace = boots[key] = boot(machine, pre)
    plan = project(machine, trace)
    found = tuple(findings_mod.collect(machine, trace, plan))
    verdict = decide(plan, found, kaslr_nodes=trace.kaslr.nodes if trace.kaslr else None)
    k = trace.kaslr
    pinned = sorted(set(k.nodes) & set(verdict.removable_nodes)) if k is not None and not k.filtered else []
    if pinned:
        verdict = replace(verdict, hinges_on=verdict.hinges_on + (
            "where KASLR puts the kernel image: the decompressor's immovable-memory filter is off for this SRAT, "
            f"so it may land in node(s) {', '.join(map(str, pinned))} and pin it; with nokaslr (or an SRAT with "
            "a non-hotpluggable range) the image stays out",))
    alternatives = ()
    if advise and machine.hotplug_unknown:
        populated = run(with_hotplug_ram(machine), advise=False)
        other = populated.verdict
        if (other.hot_removable, other.removable_bytes) != (verdict.hot_removable, verdict.removable_bytes):
            ranges = ", ".join(f"[{s:#x}-{e - 1:#x}]" for s, e in machine.hotplug_unknown[:4])
            verdict = replace(verdict, undecided=True, hinges_on=verdict.hinges_on + (
                f"whether the SRAT's hotpluggable ranges {ranges} hold RAM at boot, which the input does not say "
                "(give --e820 FILE or --boot-facts LOG, or run sratplan on the machine): if they do, "
                f"{other.answer()}; if they are empty hot-add windows, {verdict.answer()}",))
    if advise and machine.profile_alternative:
        alt = with_profile(machine, machine.profile_alternative)
        alternatives = (run(alt, advise=False),)
        other = alternatives[0].verdict
        if (other.hot_removable, other.removable_bytes) != (verdict.hot_removable, verdict.removable_bytes):
            verdict = replace(verdict, hinges_on=verdict.hinges_on + (
                f"the kernel's rules: {machine.profile_note}; with profile {alt.profile.name}: "
                + other.answer(),))
    rec = None
    if advise:
        rec = recommend(machine, plan, found, verdict, lambda c: with_cmdline(machine, c, boots=boots),
                        options=options)
    return Report(machine=machine, plan=plan, findings=found, verdict=verdict, recommendation=rec,
                  alternatives=alternatives)


def with_kernel(machine: Machine, profile: str, *, advise: bool = True, options: bool = True) -> Report:
    """The same machine planned for another kernel profile."""
    return run(with_profile(machine, profile), advise=advise, options=options)


def with_cmdline(machine: Machine, cmdline: str, *, advise: bool = False, options: bool = True,
                 boots: dict | None = None) -> Report:
    """The same machine planned with another command line (``boots``: see
    :func:`run`)."""
    return run(machine_with_cmdline(machine, cmdline), advise=advise, options=options, boots=boots)
