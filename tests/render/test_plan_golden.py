"""Golden tests of the main job's table, markdown and JSON output for real
machines and the synthetic example.  Regenerate after an intended change
with SRATPLAN_REGEN_GOLDEN=1 and review the diff."""

from __future__ import annotations

import json
import os
from argparse import Namespace
from pathlib import Path

import pytest

from sratplan import examples, pipeline, render
from sratplan.commands.plan import machine_from_args

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = ["qemu-2node-hotplug", "hp-dl165g7", "hyperv-gen2", "dell-precision-malformed", "vmware-memplug"]


def _plan(name):
    base = Namespace(paths=[], e820=None, cmdline=None, boot_facts=None, kernel=None, initrd=None,
                     kernel_image=None, cpus=None, example=name)
    args = examples.apply(examples.get(name), base)
    return pipeline.run(machine_from_args(args))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_golden(name, fmt):
    out = render.formatter(fmt).plan(_plan(name))
    path = GOLDEN / f"{name}.{ 'md' if fmt == 'markdown' else fmt if fmt == 'json' else 'txt'}"
    if os.environ.get("SRATPLAN_REGEN_GOLDEN"):
        path.write_text(out)
    assert path.exists(), f"missing golden file {path.name}; run with SRATPLAN_REGEN_GOLDEN=1"
    assert out == path.read_text()


@pytest.mark.parametrize("name", CASES)
def test_json_schema_shape(name):
    d = json.loads(render.formatter("json").plan(_plan(name)))
    assert d["schema"] == "sratplan.plan/1"
    assert set(d) >= {"kernel", "cmdline", "assumptions", "numa", "nodes", "memory_blocks", "verdict", "findings",
                      "recommendation"}
    for n in d["nodes"]:
        assert [z["zone"] for z in n["zones"]] == ["DMA", "DMA32", "Normal", "Movable", "Device"]
        for z in n["zones"]:
            assert (z["start_pfn"] is None) == (z["spanned"] == 0)
            assert 0 <= z["managed"] <= z["present"] <= z["spanned"]
    for f in d["findings"]:
        assert f["severity"] in ("info", "warning", "error") and f["code"] and f["message"]
    assert isinstance(d["verdict"]["hot_removable"], bool)
