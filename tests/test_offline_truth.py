"""The plan's ``offlinable`` against what real kernels did when asked to
offline blocks (fixtures/kernel/offline: kernels 6.1, 6.12, 7.2).

Every block the plan calls offlinable must really go offline, and every
Movable block must be predicted exactly.  Non-Movable blocks are predicted
"no" (unmovable kernel allocations may sit anywhere in kernel zones); a few
of them do go offline in a given boot, which the plan cannot promise."""

from __future__ import annotations

import pytest
from truthcases import case_dirs, case_id, load_truth, machine_for

from sratplan import pipeline
from sratplan.kernel.memory_hotplug import MAYBE, NO, YES

CASES = [c for c in case_dirs(include_offline=True) if "/offline/" in str(c[1])]


def _attempts(kd):
    k, d = kd
    t = load_truth(d)
    p = pipeline.run(machine_for(k, d, t), advise=False)
    pred = {}
    for r in p.plan.blocks:
        for b in range(r.first, r.last + 1):
            pred[b] = r
    tried = [o for o in t["offline_test"] if o["result"] not in ("skipped", "timeout")]
    return p, t, pred, tried


@pytest.mark.parametrize("kd", CASES, ids=[case_id(c) for c in CASES])
def test_offlinable_blocks_really_go_offline(kd):
    p, t, pred, tried = _attempts(kd)
    assert tried
    for o in tried:
        r = pred.get(o["block"])
        assert r is not None, f"block {o['block']} missing from the plan"
        actual = o["result"] == "offlined"
        # yes: guaranteed; no: the kernel refuses it; maybe (a kernel-zone
        # block with no boot data): either, depending on what the boot left there
        if r.offlinable == YES:
            assert actual, f"block {o['block']} predicted offlinable but {o['result']} ({o['kernel_reason']})"
        if r.offlinable == NO:
            assert not actual, f"block {o['block']} predicted not offlinable ({r.why}) but it went offline"
        if o["zone_before"] == "Movable":
            assert (r.offlinable == YES) == actual, f"Movable block {o['block']}: {o['result']} ({o['kernel_reason']})"
        if o["result"] == "invalid":
            assert r.offlinable == NO


def test_maybe_blocks_are_kernel_zone_blocks_some_of_which_go_offline():
    outcomes = []
    for kd in CASES:
        _p, _t, pred, tried = _attempts(kd)
        for o in tried:
            r = pred[o["block"]]
            if r.offlinable == MAYBE:
                assert r.valid_zones in ("DMA", "DMA32", "Normal")
                outcomes.append(o["result"] == "offlined")
    assert any(outcomes) and not all(outcomes)


@pytest.mark.parametrize("kd", CASES, ids=[case_id(c) for c in CASES])
def test_verdict_bytes_match_movable_offline_bytes(kd):
    p, t, pred, tried = _attempts(kd)
    movable_ok = {}
    for o in tried:
        if o["zone_before"] == "Movable" and o["result"] == "offlined":
            movable_ok[o["node"]] = movable_ok.get(o["node"], 0) + t["offline_test_info"]["block_size"]
    v = p.verdict
    assert v.offlinable_per_node == movable_ok
    # hot-removable is offlinable memory the SRAT marks Hot Pluggable
    assert set(v.removable_nodes) <= set(movable_ok)
    hot_ranges = any(n.hotplug_in_srat for n in p.plan.nodes)
    assert v.hot_removable == (hot_ranges and bool(v.removable_bytes))
