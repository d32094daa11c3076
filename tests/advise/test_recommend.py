"""Advice is proven by re-planning before it is shown (issue 16).

Two kinds of test: the recommender against a hand-built replan (so its
rules are checked without a simulated boot), and every advice defect the
issue reproduced, on real tables through the whole pipeline."""

from __future__ import annotations

from argparse import Namespace
from types import SimpleNamespace

import pytest

from sratplan import examples, pipeline
from sratplan.advise.recommend import recommend
from sratplan.commands.plan import machine_from_args
from sratplan.findings import Finding, Severity
from sratplan.kernel.cmdline import parse_cmdline
from sratplan.kernel.profile import get_profile


def _example(name, cmdline=None, kernel=None):
    base = Namespace(paths=[], e820=None, cmdline=cmdline, boot_facts=None, kernel=kernel, initrd=None,
                     kernel_image=None, cpus=None, example=name)
    return machine_from_args(examples.apply(examples.get(name), base))


# --- the recommender on hand-built outcomes ----------------------------------

def _outcome(removable=(), offlinable=0, findings=(), hot_nodes=(), kaslr=None):
    nodes = tuple(SimpleNamespace(node=n, hotplug_in_srat=n in hot_nodes, hotplug_cleared_by=(),
                                  movable_present_bytes=0, kernel_present_bytes=1 << 30) for n in (0, 1))
    v = SimpleNamespace(hot_removable=bool(removable), removable_bytes=(1 << 30) * len(removable),
                        removable_nodes=tuple(removable), offlinable_bytes=offlinable, kaslr_nodes=kaslr,
                        blocker=None if removable else "nothing")
    return SimpleNamespace(plan=SimpleNamespace(nodes=nodes, numa_source="srat"), findings=tuple(findings),
                           verdict=v)


class _Machine(SimpleNamespace):
    pass


def _machine(cmdline, profile="7.2"):
    return _Machine(cmdline=parse_cmdline(cmdline, get_profile(profile)), profile=get_profile(profile), srat=object())


def test_movable_node_is_added_only_when_its_trial_removes_something():
    m = _machine("")
    base = _outcome(hot_nodes=(1,))
    tried = []

    def replan(line):
        tried.append(line)
        return _outcome(removable=(1,), hot_nodes=(1,)) if "movable_node" in line else base

    rec = recommend(m, base.plan, base.findings, base.verdict, replan, options=False)
    assert rec.cmdline == "movable_node" and rec.add == ("movable_node",)
    assert tried == ["movable_node"]                       # planned once, reused for the effect
    assert rec.effect.removable_nodes == (1,)

    def useless(line):
        return _outcome(hot_nodes=(1,))

    rec = recommend(m, base.plan, base.findings, base.verdict, useless, options=False)
    assert rec.cmdline == "" and not rec.add
    assert any(w.startswith("movable_node would not help") for w in rec.why)


def test_a_proposal_that_raises_a_new_error_is_dropped():
    m = _machine("")
    base = _outcome(hot_nodes=(1,))
    boom = Finding("MOVABLE_RATIO_HIGH", Severity.ERROR, "MOVABLE:KERNEL is 9.0:1")

    def replan(line):
        return _outcome(removable=(1,), hot_nodes=(1,), findings=(boom,))

    rec = recommend(m, base.plan, base.findings, base.verdict, replan, options=False)
    assert "movable_node" not in rec.cmdline
    assert any("it would raise: MOVABLE:KERNEL is 9.0:1" in w for w in rec.why)


def test_a_parameter_the_kernel_does_not_have_is_not_recommended():
    m = _machine("", profile="5.10")
    window = Finding("SRAT_HOTPLUG_WINDOW", Severity.INFO, "window", where="node 0")
    base = _outcome(findings=(window,))
    absent = Finding("CMDLINE_IGNORED", Severity.INFO, "does not exist in this kernel",
                     where="cmdline memory_hotplug.online_policy")

    def replan(line):
        return _outcome(findings=(window, absent) if "online_policy" in line else (window,))

    rec = recommend(m, base.plan, base.findings, base.verdict, replan, options=False)
    assert "online_policy" not in rec.cmdline and "memhp_default_state=online_movable" in rec.cmdline


def test_fatal_parameters_are_removed_first():
    m = _machine("quiet memmap=0 nokaslr")
    bad = Finding("CMDLINE_MEMMAP_ZERO", Severity.ERROR, "memmap=0 removes all RAM", where="cmdline memmap",
                  extra=(("param", ("memmap", "0")),))
    base = _outcome(findings=(bad,))
    rec = recommend(m, base.plan, base.findings, base.verdict, lambda line: _outcome(), options=False)
    assert rec.cmdline == "quiet nokaslr" and rec.remove == ("memmap=0",)
    assert rec.why[0] == "remove 'memmap=0': memmap=0 removes all RAM"


# --- every advice defect of issue 16, through the pipeline ---------------------

def _report(name, cmdline, kernel=None):
    return pipeline.run(_example(name, cmdline, kernel))


def _proven(report):
    """The recommended line planned on its own: no parameter the kernel
    lacks, no error finding, and the effect it claims."""
    rec = report.recommendation
    again = pipeline.with_cmdline(report.machine, rec.cmdline)
    assert not [f for f in again.findings if f.code == "CMDLINE_IGNORED"
                and any(f.where == f"cmdline {a.split('=')[0]}" for a in rec.add)]
    if rec.effect is not None:
        assert again.verdict.hot_removable == rec.effect.hot_removable
        assert again.verdict.removable_bytes == rec.effect.removable_bytes
    return again


@pytest.mark.parametrize("kernel", ["5.10", "5.10-seed", "6.1"])
def test_no_auto_movable_policy_before_5_15(kernel):
    r = _report("hyperv-gen2", None, kernel)
    assert r.machine.profile.name == kernel
    assert ("online_policy=auto-movable" in r.recommendation.cmdline) == (kernel == "6.1")
    _proven(r)


@pytest.mark.parametrize("bad", ["memmap=exactmap memmap=1G@0", "memmap=0", "memmap=garbage",
                                 "memmap=1M%0x100000-1+1", "kernelcore", "mem=1"])
def test_fatal_parameters_never_stay_in_the_recommendation(bad):
    r = _report("hp-dl165g7", f"quiet {bad}")
    assert r.bad_news
    rec = r.recommendation
    for word in bad.split():
        assert word not in rec.cmdline.split()
    assert rec.cmdline.split()[0] == "quiet"
    again = _proven(r)
    assert not again.bad_news


def test_mem_1_does_not_boot():
    r = _report("hp-dl165g7", "mem=1")
    assert any(f.code == "BOOT_ALLOCATION_FAILED" and f.severity == Severity.ERROR for f in r.findings)
    assert "does not boot" in r.verdict.blocker


def test_movable_node_is_never_recommended_where_it_has_no_effect():
    for name in ("hp-dl165g7", "dell-r820"):
        r = _report(name, "movable_node")
        assert any(f.code == "MOVABLE_NODE_NO_EFFECT" for f in r.findings)
        assert "movable_node" not in r.recommendation.cmdline.split()
        r = _report(name, "")
        assert "movable_node" not in r.recommendation.cmdline.split()


def test_movablecore_is_offlinable_not_removable():
    r = _report("hp-dl165g7", "movablecore=50%")
    assert not r.verdict.hot_removable and r.verdict.offlinable_bytes > 0
    assert r.verdict.headline().startswith("no memory can be hot-removed") and "not removed" in r.verdict.headline()


def test_bare_metal_gets_what_movablecore_can_offline():
    r = _report("dell-r820", "")
    opts = r.recommendation.options
    assert any(o.startswith("'movablecore=25%'") and "can be offlined" in o for o in opts)
    assert any("firmware must describe it" in o for o in opts)
    # each option's figure is its own plan's
    m = r.machine
    t = pipeline.with_cmdline(m, "movablecore=50%")
    gib = t.verdict.offlinable_bytes / (1 << 30)
    assert any(o.startswith("'movablecore=50%'") and f"{gib:.2f}".rstrip("0").rstrip(".") in o for o in opts)


def test_hotplug_example_needs_no_change_and_is_proven():
    r = _report("qemu-2node-hotplug", None)
    assert r.verdict.hot_removable and r.recommendation.add == ()
    r = _report("qemu-2node-hotplug", "nokaslr")
    assert r.recommendation.add == ("movable_node",)
    again = _proven(r)
    assert again.verdict.removable_nodes == (1,)
