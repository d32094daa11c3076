"""``sratplan replay`` end to end: output formats and exit status."""

from __future__ import annotations

import json
from pathlib import Path

from sratplan.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kernel"
LOG_72 = FIXTURES / "7.2" / "c01_hp_above4g_movable" / "dmesg.txt"
LOG_61 = FIXTURES / "6.1" / "b01_qemu_2n_equal" / "dmesg.txt"


def test_table_output_exit_0(capsys):
    assert main(["replay", str(LOG_72)]) == 0
    out = capsys.readouterr().out
    assert "kernel 7.2 -> profile 7.2" in out
    assert "movable_node: yes" in out
    assert out.rstrip().endswith("MATCH")


def test_verbose_lists_every_allocation(capsys):
    assert main(["replay", str(LOG_61), "-v"]) == 0
    out = capsys.readouterr().out
    assert "sparse_init" in out and "alloc_node_data" in out


def test_json_output(capsys):
    assert main(["replay", str(LOG_61), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "sratplan.replay/1"
    assert doc["kernel"] == "6.1" and doc["ok"] is True
    s = doc["summary"]
    assert s["allocations"] == s["allocations_matched"] == len(doc["allocations"]) > 0
    assert s["regions"] == s["regions_matched"] > 0
    a = doc["allocations"][0]
    assert {"function", "caller", "size", "align", "nid", "predicted", "actual", "match"} <= set(a)
    assert a["predicted"].startswith("0x")
    d = doc["dumps"][1]
    assert d["kernel_table"][0] == d["engine_table"][0] == "MEMBLOCK configuration:"
    assert [x.strip() for x in d["kernel_table"]] == [x.strip() for x in d["engine_table"]]


def test_disagreement_exit_1(capsys):
    assert main(["replay", str(LOG_61), "--kernel", "7.2"]) == 1
    out = capsys.readouterr().out
    assert "DISAGREEMENT" in out and "kernel:" in out and "engine:" in out


def test_not_a_boot_log_exit_2(tmp_path, capsys):
    p = tmp_path / "x.txt"
    p.write_bytes(b"\x00\xff random bytes\n")
    assert main(["replay", str(p)]) == 2
    assert "not a Linux boot log" in capsys.readouterr().err


def test_no_memblock_trace_exit_2(tmp_path, capsys):
    p = tmp_path / "dmesg.txt"
    p.write_text("[    0.000000] Linux version 6.1.0-56-amd64 (x) #1 SMP\n"
                 "[    0.000000] Command line: quiet\n")
    assert main(["replay", str(p)]) == 2
    assert "memblock=debug" in capsys.readouterr().err


def test_missing_file_and_bad_kernel_exit_2(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nope")]) == 2
    assert main(["replay", str(LOG_61), "--kernel", "9.9"]) == 2
    assert "unknown kernel profile" in capsys.readouterr().err


def test_input_is_not_modified():
    before = LOG_61.read_bytes()
    main(["replay", str(LOG_61), "--format", "json"])
    assert LOG_61.read_bytes() == before
