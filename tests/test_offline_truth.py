"""The plan's ``offlinable`` against what real kernels did when asked to
offline blocks (fixtures/kernel/offline: kernels 6.1, 6.12, 7.2).

Every block the plan calls offlinable must really go offline, and every
Movable block must be predicted exactly.  Non-Movable blocks are predicted
"no" (unmovable kernel allocations may sit anywhere in kernel zones); a few
of them do go offline in a given boot, which the plan cannot promise."""

from __future__ import annotations

import pytest
from truthcases import case_dirs, case_id, load_truth, machine_for

from sratplan.plan import plan

CASES = [c for c in case_dirs(include_offline=True) if "/offline/" in str(c[1])]


def _attempts(kd):
    k, d = kd
    t = load_truth(d)
    p = plan(machine_for(k, d, t))
    pred = {}
    for r in p.blocks:
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
        if r.offlinable:
            assert actual, f"block {o['block']} predicted offlinable but {o['result']} ({o['kernel_reason']})"
        if o["zone_before"] == "Movable":
            assert r.offlinable == actual, f"Movable block {o['block']}: {o['result']} ({o['kernel_reason']})"
        if o["result"] == "invalid":
            assert not r.offlinable


@pytest.mark.parametrize("kd", CASES, ids=[case_id(c) for c in CASES])
def test_verdict_bytes_match_movable_offline_bytes(kd):
    p, t, pred, tried = _attempts(kd)
    movable_ok = {}
    for o in tried:
        if o["zone_before"] == "Movable" and o["result"] == "offlined":
            movable_ok[o["node"]] = movable_ok.get(o["node"], 0) + t["offline_test_info"]["block_size"]
    got = {int(k): int(v, 16) for k, v in p.verdict["bytes_per_node"].items()}
    assert got == movable_ok
    assert p.verdict["hot_removable"] == bool(movable_ok)
