"""The main job as a user runs it: exit codes, streams, formats, --compare,
--example, and errors that name the file and what was expected."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sratplan.cli import main

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "sratplan" / "examples"
KT = ROOT / "fixtures" / "kernel" / "6.1" / "c01_hp_above4g_movable"


def run(args, capsys):
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_example_listing_labels_real_and_synthetic(capsys):
    rc, out, err = run(["--example"], capsys)
    assert rc == 0 and not err
    assert "[real]" in out and "[synthetic]" in out
    assert "qemu-2node-hotplug" in out and "hp-dl165g7" in out


def test_example_runs_and_gives_verdict_first(capsys):
    rc, out, err = run(["--example", "qemu-2node-hotplug"], capsys)
    assert rc == 0
    assert out.splitlines()[0].startswith("VERDICT: memory can be hot-removed: 3.00 GiB on node(s) 1")
    assert "node   1 [MMMM" in out           # the text bar ends the table output


def test_json_to_stdout_only(capsys):
    rc, out, err = run([str(KT / "guest_SRAT.bin"), "--boot-facts", str(KT / "dmesg.txt"), "--kernel", "6.1",
                        "--format", "json"], capsys)
    assert rc == 0 and err == ""
    d = json.loads(out)
    assert d["kernel"] == "6.1" and d["verdict"]["hot_removable"] is True
    n1 = [n for n in d["nodes"] if n["node"] == 1][0]
    assert n1["movable_start_pfn"] == 0x180000 and n1["hotplug"] is True


def test_error_findings_exit_1(capsys):
    rc, out, err = run(["--example", "dell-precision-malformed", "--format", "json"], capsys)
    assert rc == 1
    codes = {f["code"] for f in json.loads(out)["findings"]}
    assert "SRAT_NOT_USED" in codes and "SRAT_ZERO_LENGTH_SUBTABLE" in codes


def test_usage_and_input_errors_exit_2(capsys, tmp_path):
    rc, out, err = run([str(tmp_path / "missing")], capsys)
    assert rc == 2 and out == "" and "missing" in err
    rc, out, err = run(["--kernel", "9.9", str(EX / "dell-r820" / "SRAT")], capsys)
    assert rc == 2 and "9.9" in err
    rc, out, err = run(["--initrd", "nonsense", str(EX / "dell-r820" / "SRAT")], capsys)
    assert rc == 2 and "--initrd" in err
    rc, out, err = run(["--example", "no-such-example"], capsys)
    assert rc == 2 and "no-such-example" in err
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00" * 7)
    rc, out, err = run([str(garbage)], capsys)
    assert rc == 2 and "garbage.bin" in err


def test_compare_plans_side_by_side(capsys):
    changes = ["", "~movable_node", "~movable_node movablecore=2G"]
    rc, out, err = run([str(KT / "guest_SRAT.bin"), "--boot-facts", str(KT / "dmesg.txt"), "--kernel", "6.1",
                        "--compare", *changes], capsys)
    assert rc == 0
    lines = out.splitlines()
    assert "hot-removable GiB" in lines[0] and "offlinable GiB" in lines[0]
    assert lines[2].startswith("(baseline) console=ttyS0") and lines[3].startswith("~movable_node ")
    rc, out, err = run([str(KT / "guest_SRAT.bin"), "--boot-facts", str(KT / "dmesg.txt"), "--kernel", "6.1",
                        "--format", "json", "--compare", *changes], capsys)
    plans = json.loads(out)
    assert [p["schema"] for p in plans] == ["sratplan.plan/1"] * 3
    base, without, core = plans
    # the log's own command line (movable_node nokaslr) is the baseline
    assert "movable_node" in base["cmdline"].split() and "movable_node" not in without["cmdline"].split()
    assert base["verdict"]["hot_removable"] and base["verdict"]["nodes"] == [1]
    assert not without["verdict"]["hot_removable"] and without["verdict"]["offlinable_bytes"] == "0x0"
    # movablecore makes memory offlinable, not hot-removable
    assert core["cmdline"].endswith("nokaslr movablecore=2G")
    assert not core["verdict"]["hot_removable"] and int(core["verdict"]["offlinable_bytes"], 16) > 0


def test_explicit_options_win_over_boot_facts(capsys):
    rc, out, err = run([str(KT / "guest_SRAT.bin"), "--boot-facts", str(KT / "dmesg.txt"), "--kernel", "6.1",
                        "--cmdline", "nokaslr", "--format", "json"], capsys)
    d = json.loads(out)
    assert d["verdict"]["hot_removable"] is False          # no movable_node any more
    assert any(f["code"] == "MOVABLE_NODE_NOT_GIVEN" for f in d["findings"])


def test_markdown_and_svg(capsys):
    rc, out, err = run(["--example", "qemu-2node-hotplug", "--format", "markdown"], capsys)
    assert rc == 0 and out.startswith("## sratplan plan")
    rc, out, err = run(["--example", "qemu-2node-hotplug", "--format", "svg"], capsys)
    assert rc == 0 and out.lstrip().startswith("<?xml") and out.rstrip().endswith("</svg>")


def test_python_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "sratplan", "--example"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "qemu-2node-hotplug" in r.stdout


def test_help_reads_like_a_man_page(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    assert "examples:" in out and "exit status" in out



def test_compare_kernels_shows_what_a_newer_kernel_changes(capsys):
    rc, out, err = run(["--example", "qemu-2node-hotplug", "--compare-kernels", "5.10-seed", "5.10", "7.2"], capsys)
    assert rc == 0
    lines = out.splitlines()
    assert [ln.split("  ")[0] for ln in lines[2:5]] == ["profile 5.10-seed", "profile 5.10", "profile 7.2"]
    seed_to_510 = out.split("profile 5.10-seed -> profile 5.10:", 1)[1].split("\n\n", 1)[0]
    # the seed's rule moves the trampoline top-down (movable_node): 0x99000 instead of 0x1000
    assert "real-mode trampoline: [0x99000-0x9efff] -> [0x1000-0x6fff]" in seed_to_510
    assert "NODE_DATA" not in seed_to_510 and "hotplug" not in seed_to_510


def test_an_ambiguous_release_plans_both_profiles(capsys):
    rc, out, err = run(["--example", "hyperv-gen2", "--format", "json"], capsys)
    d = json.loads(out)
    assert d["kernel"] == "5.10-seed" and any("profile 5.10 is the alternative" in a for a in d["assumptions"])
    assert [a["kernel"] for a in d["alternatives"]] == ["5.10"]
    rc, out, err = run(["--example", "hyperv-gen2"], capsys)
    assert "the same machine with profile 5.10 (the kernel release cannot tell" in out
