"""advise.verdict on hand-built plans: offlinable and hot-removable are two
different answers, and a hot-pluggable range is removable only when every
boot block of it is guaranteed offlinable."""

from __future__ import annotations

from types import SimpleNamespace

from sratplan.advise.verdict import decide
from sratplan.findings import Finding, Severity
from sratplan.kernel.memory_hotplug import MAYBE, NO, YES, OfflineRun
from sratplan.plan import NodePlan, ZonePlan

GIB = 1 << 30
BLOCK = 128 << 20


def _node(nid, ram, hot=(), movable=0, hotplug=False, cleared=()):
    zones = tuple(ZonePlan(z, None, 0, 0, 0) for z in ("DMA", "DMA32", "Normal", "Movable", "Device"))
    if movable:
        zones = zones[:3] + (ZonePlan("Movable", ram[0] >> 12, movable >> 12, movable >> 12, movable >> 12),) \
            + zones[4:]
    srat = tuple((s, e - 1, (s, e) in hot) for s, e in [ram])
    return NodePlan(node=nid, pxms=(nid,), online=True, cpus=1, srat_ranges=srat, memory_ranges=((ram[0], ram[1] - 1),),
                    hotplug_in_srat=bool(hot), hotplug=hotplug, hotplug_cleared_by=cleared, node_data=None,
                    node_data_on=None, movable_start_pfn=None, zones=zones)


def _run(first, last, nid, zone, ok, why=None):
    return OfflineRun(first, last, (nid,), nid, zone, ok, why, first * BLOCK, (last + 1) * BLOCK)


def _plan(nodes, blocks, cmdline="movable_node"):
    machine = SimpleNamespace(cmdline=SimpleNamespace(movable_node="movable_node" in cmdline.split()),
                              hotplug_unknown=())
    return SimpleNamespace(machine=machine, nodes=tuple(nodes), blocks=tuple(blocks))


def test_hotpluggable_movable_node_is_removable():
    n1 = (8 * BLOCK, 16 * BLOCK)
    plan = _plan([_node(0, (0, 8 * BLOCK)), _node(1, n1, hot=(n1,), movable=8 * BLOCK, hotplug=True)],
                 [_run(0, 0, 0, "none", NO, "block 0"), _run(1, 7, 0, "Normal", MAYBE, "x"),
                  _run(8, 15, 1, "Movable", YES)])
    v = decide(plan, ())
    assert v.hot_removable and v.removable_nodes == (1,) and v.removable_bytes == 8 * BLOCK
    assert v.offlinable_bytes == 8 * BLOCK and v.may_offline_bytes == 7 * BLOCK
    assert v.headline() == "memory can be hot-removed: 1.00 GiB on node(s) 1"


def test_movablecore_memory_is_offlinable_not_removable():
    plan = _plan([_node(0, (0, 16 * BLOCK), movable=8 * BLOCK)],
                 [_run(0, 7, 0, "Normal", MAYBE, "x"), _run(8, 15, 0, "Movable", YES)], cmdline="movablecore=50%")
    v = decide(plan, ())
    assert not v.hot_removable and v.removable_bytes == 0
    assert v.offlinable_bytes == 8 * BLOCK
    assert v.blocker == "the SRAT marks no boot memory hotpluggable"
    assert "can be offlined, not removed" in v.headline() and "1.00 GiB of ZONE_MOVABLE" in v.headline()


def test_a_pinned_block_makes_its_whole_range_not_removable():
    n1 = (8 * BLOCK, 16 * BLOCK)
    plan = _plan([_node(0, (0, 8 * BLOCK)), _node(1, n1, hot=(n1,), movable=8 * BLOCK, hotplug=True)],
                 [_run(8, 14, 1, "Movable", YES), _run(15, 15, 1, "Movable", NO, "holds boot-time reserved pages")])
    v = decide(plan, ())
    # the Movable blocks that are free can be offlined, but the device cannot be ejected
    assert not v.hot_removable and v.offlinable_bytes == 7 * BLOCK
    assert v.blocker.startswith("every Movable block")


def test_a_fatal_finding_is_the_blocker():
    plan = _plan([_node(0, (0, 8 * BLOCK))], [])
    f = Finding("BOOT_ALLOCATION_FAILED", Severity.ERROR, "the kernel does not boot: no memory for NODE_DATA")
    assert decide(plan, (f,)).blocker == f.message


def test_hotplug_srat_without_movable_node():
    n1 = (8 * BLOCK, 16 * BLOCK)
    plan = _plan([_node(0, (0, 8 * BLOCK)), _node(1, n1, hot=(n1,), hotplug=True)],
                 [_run(8, 15, 1, "Normal", MAYBE, "x")], cmdline="")
    v = decide(plan, ())
    assert not v.hot_removable
    assert v.blocker == "movable_node is not given, so hotpluggable SRAT memory goes to kernel zones"
