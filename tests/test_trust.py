"""Trustworthy answers (issue 13): each class of defect reproduced on the
0.1 tree, with the test that holds its fix.  Hostile-input limits (FIFOs,
devices, oversized streams) are in test_robustness_inputs.py and the fuzzer."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from sratplan import pipeline
from sratplan.capture import capture
from sratplan.cli import main
from sratplan.commands import plan as plan_cmd
from sratplan.errors import InputError
from sratplan.live import load_live_machine
from sratplan.machine import load_machine

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "sratplan" / "examples"
REAL = ROOT.parent / "shared" / "realdata"
FIX = ROOT / "fixtures"
KT = FIX / "kernel" / "6.1" / "c01_hp_above4g_movable"


def run(args, capsys):
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def _json(args, capsys):
    rc, out, err = run([*args, "--format", "json"], capsys)
    return rc, json.loads(out)


# 1. the mission's own command --------------------------------------------------

def test_an_srat_alone_does_not_decide_what_it_cannot_know(capsys):
    srat = str(EX / "qemu-2node-hotplug" / "SRAT")
    rc, d = _json([srat, "--cmdline", "movable_node"], capsys)
    v = d["verdict"]
    # it does not blame the table, and it names the fact that decides it and both answers
    assert "the SRAT marks no boot memory hotpluggable" not in json.dumps(v)
    assert len(v["hinges_on"]) == 1
    h = v["hinges_on"][0]
    assert "[0x180000000-0x23fffffff] hold RAM at boot" in h and "--e820" in h and "--boot-facts" in h
    assert "if they do, memory can be hot-removed: 3.00 GiB on node(s) 1" in h
    rc, out, err = run([srat, "--cmdline", "movable_node"], capsys)
    assert out.startswith("VERDICT: undecided: whether the SRAT's hotpluggable ranges")
    # with the facts (the example's boot log), the answer is decided
    rc, d = _json([srat, "--cmdline", "movable_node", "--boot-facts",
                   str(EX / "qemu-2node-hotplug" / "boot-facts.txt")], capsys)
    assert d["verdict"]["hot_removable"] and d["verdict"]["bytes"] == "0xc0000000" and not d["verdict"]["hinges_on"]


def test_a_path_in_the_machines_own_tables_means_the_live_machine(capsys, monkeypatch):
    root = FIX / "sysroot" / "truth-6.1-c01_hp_above4g_movable"
    monkeypatch.setattr(plan_cmd, "LIVE_TABLES", str(root / "sys" / "firmware" / "acpi" / "tables"))
    rc, d = _json([str(root / "sys" / "firmware" / "acpi" / "tables" / "SRAT")], capsys)
    # the capture's memmap, /proc/cmdline (movable_node) and release came with it
    assert d["kernel"] == "6.1" and "movable_node" in d["cmdline"].split()
    assert d["verdict"]["hot_removable"] and d["verdict"]["nodes"] == [1]
    assert any("is this machine's firmware" in a for a in d["assumptions"])
    assert not any(a.startswith("no e820 map given") for a in d["assumptions"])


# 2. an error never rests on an assumption --------------------------------------

def test_non_volatile_ranges_are_not_assumed_ram(capsys):
    rc, d = _json([str(REAL / "qemu" / "x86" / "pc" / "SRAT.dimmpxm")], capsys)
    assert rc == 0 and d["numa"]["source"] == "srat"
    assert not [f for f in d["findings"] if f["severity"] == "error"]


def test_hotplug_cleared_by_an_assumed_placement_is_a_warning_that_says_so():
    srat = REAL / "srat" / "Microsoft_HyperV-Gen2-VM_coreos-sosreport.SRAT.bin"
    m = load_machine([str(srat)], cmdline="movable_node")
    r = pipeline.run(m)
    f = next(f for f in r.findings if f.code.startswith("HOTPLUG_CLEARED_"))
    # the first MiB is a fact of any x86 machine: node 0 really loses the flag
    assert f.severity.value == "error" and "low_1m" in r.plan.node(0).hotplug_cleared_by
    # a node pinned only by the assumed initrd is a warning naming the assumption
    m = load_machine([str(EX / "qemu-2node-hotplug" / "SRAT")], e820=str(KT / "e820.txt"), cmdline="movable_node",
                     initrd=None, kernel_image=(0x1000000, 0x3400000))
    tr = pipeline.run(m)
    for f in tr.findings:
        if f.code.startswith("HOTPLUG_CLEARED_") and f.severity.value != "error":
            assert "on the assumed" in f.message


# 3. more than 128 RAM entries --------------------------------------------------

def test_a_map_with_more_than_128_ram_entries_plans(tmp_path, capsys):
    lines = ["BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"]
    for i in range(300):
        s = 0x100000 + i * 0x2000000
        lines.append(f"BIOS-e820: [mem {s:#018x}-{s + 0x1000000 - 1:#018x}] usable")
        lines.append(f"BIOS-e820: [mem {s + 0x1000000:#018x}-{s + 0x2000000 - 1:#018x}] reserved")
    e = tmp_path / "e820.txt"
    e.write_text("\n".join(lines) + "\n")
    rc, d = _json(["--e820", str(e)], capsys)
    assert [n["node"] for n in d["nodes"]] == [0]
    present = sum(z["present"] for z in d["nodes"][0]["zones"])
    assert present > 300 * 4000          # the 300 16 MiB ranges are memory


# 4. --e820 truth.json -----------------------------------------------------------

def test_e820_from_a_kernel_truth_json(capsys):
    rc, d = _json([str(KT / "guest_SRAT.bin"), "--e820", str(KT / "truth.json"), "--cmdline", "movable_node"],
                  capsys)
    assert d["verdict"]["hot_removable"] and d["verdict"]["nodes"] == [1]


# 5. a truncated SRAT is named first ----------------------------------------------

@pytest.mark.parametrize("n, where", [(36, "SRAT 0x24: table is shorter than the 48-byte SRAT header"),
                                      (47, "SRAT 0x24: table is shorter than the 48-byte SRAT header"),
                                      (48, "no enabled memory affinity entry")])
def test_a_truncated_srat_is_named_not_the_e820(tmp_path, capsys, n, where):
    src = (EX / "qemu-2node-hotplug" / "SRAT").read_bytes()
    b = bytearray(src[:n])
    b[4:8] = n.to_bytes(4, "little")
    b[9] = 0
    b[9] = (-sum(b)) & 0xFF
    p = tmp_path / "SRAT"
    p.write_bytes(bytes(b))
    rc, out, err = run([str(p)], capsys)
    assert rc == 2 and where in err and "e820 map has no usable RAM" not in err
    assert "0x30" not in err


# 6. numa=fake= ---------------------------------------------------------------------

def test_numa_fake_says_it_is_not_modelled(capsys):
    rc, d = _json(["--example", "qemu-2node-hotplug", "--cmdline", "numa=fake=4"], capsys)
    f = next(f for f in d["findings"] if f["code"] == "NUMA_FAKE_NOT_MODELLED")
    assert f["severity"] == "warning" and "does not model it" in f["message"]


# 7. an initrd freed across two nodes ------------------------------------------------

def test_a_freed_initrd_counts_in_every_node_it_lies_in():
    from truthcases import load_truth, machine_for

    d = FIX / "kernel" / "6.1" / "x01_initrd_across_hp_island"
    t = load_truth(d)
    assert t["ramdisk"]["start"] == 0x74EE4000           # across the hotplug island at 1-2 GiB
    p = pipeline.run(machine_for("6.1", d, t), advise=False).plan
    dma32 = {z.zone: z for z in p.node(0).zones}["DMA32"]
    assert dma32.managed == t["zones"]["0"]["DMA32"]["managed"]


# 8. small things a user meets first -------------------------------------------------

def test_version_help_and_option_conflicts(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("sratplan 0.")
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "%%" not in out and "movablecore=50%" in out
    rc, out, err = run(["--example", "hp-dl165g7", str(EX / "qemu-2node-hotplug" / "SRAT")], capsys)
    assert rc == 2 and "not both" in err


def test_the_picture_says_when_the_e820_map_is_assumed(capsys):
    rc, out, err = run([str(EX / "hp-dl165g7" / "acpidump.txt"), "--format", "svg"], capsys) \
        if (EX / "hp-dl165g7" / "acpidump.txt").exists() else run(["--example", "hp-dl165g7", "--format", "svg"],
                                                                     capsys)
    assert "e820 (assumed from SRAT)" in out and "e820 (firmware)" not in out


def test_hotplug_gib_means_the_same_in_plan_and_audit(tmp_path, capsys):
    from sratplan.audit import audit

    srat = EX / "qemu-2node-hotplug" / "SRAT"
    d = tmp_path / "m"
    d.mkdir()
    shutil.copy(srat, d / "box.SRAT.bin")
    (d / "box.e820.txt").write_text((KT / "e820.txt").read_text())
    rc, plan = _json([str(srat), "--e820", str(KT / "e820.txt")], capsys)
    res = audit([str(d / "box.SRAT.bin")], jobs=1)
    row = res.rows[0]
    mine = pipeline.run(load_machine([str(srat)], cmdline="")).plan
    assert row["hotplug_gib"] == round(sum(n.hotplug_ram_bytes for n in mine.nodes) / (1 << 30), 2)


def test_quick_start_works_on_an_externally_managed_python(tmp_path):
    """run-tests on a PEP 668 system Python makes a venv instead of failing."""
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    first = [ln for ln in quick.splitlines() if ln.strip()][1]
    assert "venv" in first and "--example" in first          # works where pip refuses outside a venv
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = -m ] && [ \"$2\" = pip ]; then "
                    "echo 'error: externally-managed-environment' >&2; exit 1; fi\n"
                    f"exec {sys.executable} \"$@\"\n")
    fake.chmod(0o755)
    text = (ROOT / "run-tests").read_text()
    assert "externally-managed" in text and "-m venv .venv" in text


# 10. one unreadable table does not sink the others -----------------------------------

def test_a_broken_dsdt_in_an_acpidump_leaves_the_srat_usable(tmp_path, capsys):
    src = next((EX / "hp-dl165g7").glob("*acpidump*"))
    lines = src.read_text().splitlines()
    out, in_dsdt, broke = [], False, False
    for ln in lines:
        if ln.strip().startswith("DSDT @"):
            in_dsdt = True
        elif " @ 0x" in ln:
            in_dsdt = False
        if in_dsdt and not broke and ln.strip().startswith("0010:"):
            ln = ln[:ln.index(":") + 2] + "ZZ" + ln[ln.index(":") + 4:]
            broke = True
        out.append(ln)
    p = tmp_path / "acpidump.txt"
    p.write_text("\n".join(out) + "\n")
    rc, d = _json([str(p)], capsys)
    assert d["numa"]["source"] == "srat" and len(d["nodes"]) == 4
    f = next(f for f in d["findings"] if f["code"] == "TABLE_UNREADABLE")
    assert f["table"] == "DSDT" and "other tables are used" in f["message"]


# 11. every finding of every source reaches every mode ---------------------------------

def _codes_decode(paths, capsys):
    rc, out, err = run(["decode", *paths, "--format", "json"], capsys)
    d = json.loads(out)
    return {f["code"] for s in d["sources"] for f in s["findings"] + [x for t in s["tables"] for x in t["findings"]]}


@pytest.mark.parametrize("layout", ["dir", "files"])
def test_source_findings_are_the_same_in_plan_decode_and_audit(tmp_path, capsys, layout):
    sys.path.insert(0, str(ROOT / "tests" / "acpi"))
    from builders import cpu, mem, slit, srat

    from sratplan.audit import audit

    d = tmp_path / "box"
    d.mkdir()
    (d / "box.SRAT.bin").write_bytes(srat(cpu(0, apic=0), cpu(1, apic=1), mem(0, 0, 0x80000000),
                                          mem(1, 0x80000000, 0x80000000)))
    (d / "box.SLIT.bin").write_bytes(slit([[10]]))              # one locality for two PXMs
    paths = [str(d)] if layout == "dir" else [str(d / "box.SRAT.bin"), str(d / "box.SLIT.bin")]
    rc, plan = _json(paths, capsys)
    planned = {f["code"] for f in plan["findings"]}
    decoded = _codes_decode(paths, capsys)
    audited = set(audit([str(d)], jobs=1).rows[0]["all_findings"])
    assert "SLIT_DOMAIN_MISMATCH" in decoded
    assert decoded <= planned and decoded <= audited


def test_an_undecodable_slit_in_a_directory_reaches_the_plan(tmp_path, capsys):
    d = tmp_path / "tables"
    d.mkdir()
    shutil.copy(EX / "qemu-2node-hotplug" / "SRAT", d / "SRAT")
    (d / "SLIT").write_bytes(b"SLIT\x0a\x00\x00\x00\x01\x00")
    rc, plan = _json([str(d)], capsys)
    assert "TABLE_UNDECODABLE" in {f["code"] for f in plan["findings"]} and rc == 1


# 12. captures say what they could not read and never mix machines ---------------------

def test_a_capture_records_an_unreadable_srat_and_live_refuses_it(tmp_path, monkeypatch, capsys):
    src = FIX / "sysroot" / "truth-6.1-c01_hp_above4g_movable"
    real_read = __import__("sratplan.live", fromlist=["_read_bytes"])._read_bytes

    def unreadable_srat(p, *a, **k):
        return None if str(p).endswith("acpi/tables/SRAT") else real_read(p, *a, **k)

    monkeypatch.setattr("sratplan.live._read_bytes", unreadable_srat)
    rc = main(["capture", str(tmp_path / "cap"), "--sysroot", str(src)])
    err = capsys.readouterr().err
    assert rc == 1 and "run it as root" in err
    manifest = json.loads((tmp_path / "cap" / "sratplan-capture.json").read_text())
    assert "sys/firmware/acpi/tables/SRAT" in manifest["unreadable"]
    monkeypatch.undo()
    with pytest.raises(InputError, match="could not read sys/firmware/acpi/tables/SRAT"):
        load_live_machine(sysroot=str(tmp_path / "cap"))


def test_capture_force_never_mixes_two_machines(tmp_path, capsys):
    a = FIX / "sysroot" / "truth-6.1-c01_hp_above4g_movable"
    b = FIX / "sysroot" / "truth-7.2-b06_qemu_2n_slots_movable"
    cap = tmp_path / "cap"
    capture(cap, sysroot=str(a))
    (cap / "notes.txt").write_text("mine")                       # the user's own file stays
    old = set(p.relative_to(cap) for p in cap.rglob("*"))
    capture(cap, sysroot=str(b), force=True)
    new = set(p.relative_to(cap) for p in cap.rglob("*"))
    fresh = tmp_path / "fresh"
    capture(fresh, sysroot=str(b))
    assert new - {Path("notes.txt")} == set(p.relative_to(fresh) for p in fresh.rglob("*"))
    assert (cap / "notes.txt").read_text() == "mine"
    assert old != new
    for rel in ("sys/firmware/acpi/tables/SRAT", "proc/zoneinfo"):
        assert (cap / rel).read_bytes() == (fresh / rel).read_bytes()


def test_the_verdict_says_when_kaslr_decides_it(capsys):
    """Every SRAT range hotpluggable: the decompressor's filter is off and the
    real kernel landed in node 1 in 10 of 20 boots (s21 captures).  The
    verdict keeps its answer for the modelled placement but names the fact
    that decides it; with nokaslr nothing hinges."""
    d = FIX / "kernel" / "6.1" / "s21_kaslr_all_hotplug_srat_rep5"
    base = [str(d / "guest_SRAT.bin"), "--e820", str(d / "e820.txt")]
    rc, j = _json([*base, "--cmdline", "movable_node"], capsys)
    assert j["verdict"]["hot_removable"] and any("where KASLR puts the kernel image" in h
                                                 for h in j["verdict"]["hinges_on"])
    rc, j = _json([*base, "--cmdline", "movable_node nokaslr"], capsys)
    assert j["verdict"]["hot_removable"] and j["verdict"]["hinges_on"] == []
