"""The seed-era rule (profile 5.10-seed: bottom-up allocations start above the
kernel image, with a warned top-down fallback) in the plan and the replay:
where early allocations land and which node that pins (BOTTOM_UP_ABOVE_KERNEL),
the kernel's "bottom-up allocation failed" warning (BOTTOM_UP_FALLBACK), and the
same machines on 5.10, which has the removal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sratplan import pipeline
from sratplan.machine import load_machine
from sratplan.replay import replay_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acpi"))   # the table builders
import builders as B  # noqa: E402
from truthcases import load_truth, machine_for  # noqa: E402

G = 1 << 30
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kernel"
E820 = """BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved
BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable
BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved
BIOS-e820: [mem 0x0000000100000000-0x000000023fffffff] usable
"""
# QEMU's loader puts the initrd at the top of low RAM, under the ACPI tables
INITRD = (0xBFE2C000, 0x1B4000)
HIGH_IMAGE = (0xBD000000, 0x2E00000)        # _end = 0xbfe2c000: right under the initrd
LOW_IMAGE = (0x1000000, 0x2E00000)          # _end = 0x3e2c000 (nokaslr)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Node 0 = the first 4 GiB, node 1 = [4G, 9G) hotpluggable, and a SLIT
    (its copy, numa_distance, is allocated while bottom-up is still on, after
    the SRAT has marked node 1 hotplug)."""
    d = tmp_path_factory.mktemp("seed")
    (d / "SRAT.bin").write_bytes(B.srat(B.cpu(0, 0), B.cpu(1, 1), B.mem(0, 0, 0xA0000),
                                        B.mem(0, 0x100000, 4 * G - 0x100000), B.mem(1, 4 * G, 5 * G, flags=3)))
    (d / "SLIT.bin").write_bytes(B.slit([[10, 20], [20, 10]]))
    (d / "e820.txt").write_text(E820)
    return d


def _plan(tables, kernel, image, cmdline="movable_node nokaslr"):
    m = load_machine([str(tables / "SRAT.bin"), str(tables / "SLIT.bin")], e820=str(tables / "e820.txt"),
                     cmdline=cmdline, kernel=kernel, kernel_image=image, initrd=INITRD)
    return pipeline.run(m)


def _codes(p):
    return {f.code: f for f in p.findings}


def test_window_above_the_image_exhausted_falls_back_and_warns(tables):
    p = _plan(tables, "5.10-seed", HIGH_IMAGE)
    mb = p.plan.trace.early.memblock
    assert mb.kernel_end == 0xBFE2C000
    # above _end: the initrd, the ACPI area, then node 1 (hotplug, skipped under
    # movable_node): the SLIT copy falls back top-down, just under _end
    assert mb.bottom_up_fallbacks == [(4, 0x1000, 0x240000000, 0xBFE2B000)]
    assert p.plan.trace.early.numa.distance_table == (0xBFE2B000, 4)
    f = _codes(p)["BOTTOM_UP_FALLBACK"]
    assert f.severity.value == "warning" and f.where == "node 0"
    assert "memblock: bottom-up allocation failed, memory hotremove may be affected" in f.message
    assert "landing at 0xbfe2b000 in node 0" in f.message
    info = _codes(p)["BOTTOM_UP_ABOVE_KERNEL"]
    assert "_end = 0xbfe2c000, node 0" in info.message and "no such allocation lands above" in info.message
    # node 1 keeps its hotplug flag: the fallback stayed in node 0
    assert p.plan.node(1).hotplug and not p.plan.node(0).hotplug_cleared_by


def test_room_above_the_image_takes_early_data_next_to_it(tables):
    p = _plan(tables, "5.10-seed", LOW_IMAGE)
    assert p.plan.trace.early.memblock.bottom_up_fallbacks == []
    assert p.plan.trace.early.numa.distance_table == (0x3E2C000, 4)        # at _end
    codes = _codes(p)
    assert "BOTTOM_UP_FALLBACK" not in codes
    msg = codes["BOTTOM_UP_ABOVE_KERNEL"].message
    assert "here, above the image: the SLIT copy (numa_distance) [0x3e2c000-0x3e2c003], in node(s) 0" in msg
    assert "the real-mode trampoline [0x99000-0x9efff] goes top-down below 1 MiB" in msg


def test_kernels_with_the_removal_have_neither_finding(tables):
    for kernel in ("5.10", "6.1", "7.2"):
        p = _plan(tables, kernel, HIGH_IMAGE)
        assert not {"BOTTOM_UP_ABOVE_KERNEL", "BOTTOM_UP_FALLBACK"} & set(_codes(p)), kernel
        assert p.plan.trace.early.memblock.bottom_up_fallbacks == []
    # 5.10: bottom-up from the first page, so the SLIT copy goes low
    assert _plan(tables, "5.10", HIGH_IMAGE).plan.trace.early.numa.distance_table[0] < 1 << 20
    # and the seed kernel without movable_node never turns bottom-up on
    p = _plan(tables, "5.10-seed", HIGH_IMAGE, cmdline="nokaslr")
    assert not {"BOTTOM_UP_ABOVE_KERNEL", "BOTTOM_UP_FALLBACK"} & set(_codes(p))


@pytest.mark.parametrize("scenario, expect", [
    ("c01_hp_above4g_movable", ["the real-mode trampoline [0x99000-0x9efff] goes top-down below 1 MiB",
                                "no such allocation lands above the image"]),
    ("r03_real_hp_dl165g7_4n", [("above the image: direct-map page tables [0x3e2c000-0x3e2efff], the SLIT copy "
                                 "(numa_distance) [0x3e2f000-0x3e2f00f], in node(s) 0")]),
    ("h01_kaslr_movable_node_rep10/rep08", ["above the image: direct-map page tables [0x17102c000-0x17102cfff]"]),
])
def test_finding_on_real_seed_captures(scenario, expect):
    d = FIXTURES / "5.10-seed" / scenario
    t = load_truth(d)
    p = pipeline.run(machine_for("5.10-seed", d, t))
    f = _codes(p)["BOTTOM_UP_ABOVE_KERNEL"]
    assert f"_end = {t['kernel_image']['image']['end']:#x}" in f.message
    for text in expect:
        assert text in f.message
    assert "BOTTOM_UP_FALLBACK" not in _codes(p)          # the WARN never fired in these boots


# --------------------------------------------------------------------- replay

def _log(rel):
    return (FIXTURES / rel / "dmesg.txt").read_text()


def test_replay_places_what_the_rule_moved():
    r = replay_text(_log("5.10-seed/r03_real_hp_dl165g7_4n"))
    assert r.profile == "5.10-seed" and r.ok
    got = {a.caller.split("+")[0]: (a.predicted, a.actual) for a in r.allocations
           if a.func == "memblock_find_in_range"}
    assert got == {"reserve_real_mode": (0x99000, 0x99000), "numa_alloc_distance": (0x3E2F000, 0x3E2F000)}
    assert r.bottom_up_warning == (None, None)
    # the same log replayed as 5.10 (no rule) misses exactly those two
    r = replay_text(_log("5.10-seed/r03_real_hp_dl165g7_4n"), kernel="5.10")
    assert [(a.caller.split("+")[0], a.predicted) for a in r.allocations if not a.match] == \
        [("reserve_real_mode", 0x1000), ("numa_alloc_distance", 0x10000)]


def test_replay_compares_the_fallback_warning():
    text = _log("5.10-seed/r03_real_hp_dl165g7_4n")
    brk = "memblock_reserve: [0x0000000003e00000-0x0000000003e0cfff] setup_arch"
    assert brk in text
    # a kernel whose _end (brk + 0x2c000) is the initrd's start at the top of low
    # RAM, on a machine mapped only up to there: nothing above _end is free for
    # the SLIT copy, so the engine's search falls back top-down
    moved = text.replace(brk, "memblock_reserve: [0x00000000bfeb8000-0x00000000bfec4fff] setup_arch")
    moved = moved.replace("last_pfn = 0x340000 max_arch_pfn", "last_pfn = 0xbffe0 max_arch_pfn")
    r = replay_text(moved)
    kernel, engine = r.bottom_up_warning
    assert kernel is None and engine is not None and not r.warning_match and not r.ok
    assert any("fell back top-down" in n and "printed no warning" in n for n in r.notes)
    # with the kernel's WARN_ONCE text in the log both sides agree
    lines = moved.splitlines()
    i = next(k for k, ln in enumerate(lines) if "numa_alloc_distance" in ln)
    lines.insert(i, "[    0.000000] memblock: bottom-up allocation failed, memory hotremove may be affected")
    r = replay_text("\n".join(lines) + "\n")
    assert r.bottom_up_warning[0] == i + 1 and r.warning_match
    j = r.to_json()["bottom_up_warning"]
    assert j["kernel_line"] == i + 1 and j["match"]
