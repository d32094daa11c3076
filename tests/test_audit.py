"""``sratplan audit``: discovery and grouping, one row per machine, other
architectures not planned, broken inputs as error rows, every output
format, parallel == serial, and the whole real corpus (fixtures/real)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.audit import AuditInput, audit, audit_one, discover
from sratplan.cli import main

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "fixtures" / "real"
SYSROOTS = ROOT / "fixtures" / "sysroot"
HYPERV = "Microsoft_HyperV-Gen2-VM_coreos-sosreport"


@pytest.fixture
def fleet(tmp_path):
    """A small fleet: two copies of one machine (SRAT+SLIT), an arm64 one, a
    broken table, a sysroot capture, an acpidump file and a README."""
    d = tmp_path / "fleet"
    (d / "racks" / "r1").mkdir(parents=True)
    for name in ("hostA", "hostB"):
        shutil.copy(REAL / "srat" / "Dell_PowerEdge-R820_E5985CCBA349.SRAT.bin", d / "racks" / "r1" / f"{name}.SRAT.bin")
        shutil.copy(REAL / "srat" / "Dell_PowerEdge-R820_E5985CCBA349.SLIT.bin", d / "racks" / "r1" / f"{name}.SLIT.bin")
    shutil.copy(REAL / "srat" / "Ampere_Altra-AVA-devkit_niyas-sait.SRAT.bin", d / "altra.SRAT.bin")
    shutil.copy(REAL / "srat" / f"{HYPERV}.SRAT.bin", d / "hv.SRAT.bin")
    raw = bytearray((REAL / "srat" / "HP_ProLiant-DL165-G7_1979FBF2D488.SRAT.bin").read_bytes())
    raw[48:50] = b"\x00\x00"          # first subtable: type 0, length 0
    (d / "broken.SRAT.bin").write_bytes(bytes(raw))
    shutil.copytree(SYSROOTS / "truth-6.1-c01_hp_above4g_movable", d / "captures" / "vm1", symlinks=True)
    shutil.copy(REAL / "acpidump" / "HP_ProLiant-DL165-G7_1979FBF2D488.txt", d / "dl165.txt")
    (d / "README.md").write_text("fleet notes\n")
    return d


def test_discovery_groups_and_skips(fleet):
    disc = discover([fleet])
    ids = {os.path.relpath(i.id, fleet): i for i in disc.inputs}
    assert set(ids) == {"racks/r1/hostA", "racks/r1/hostB", "altra", "hv", "broken", "captures/vm1", "dl165.txt"}
    assert [Path(p).name for p in ids["racks/r1/hostA"].paths] == ["hostA.SRAT.bin", "hostA.SLIT.bin"]
    assert ids["captures/vm1"].kind == "sysroot" and ids["dl165.txt"].kind == "text"
    assert [Path(p).name for p in disc.skipped] == ["README.md"]


def test_rows_and_verdicts(fleet):
    res = audit([fleet], jobs=1)
    rows = {os.path.relpath(r["id"], fleet): r for r in res.rows}
    assert rows["altra"]["verdict"] == "not planned: arm64" and rows["altra"]["nodes"] == 1
    a, b = rows["racks/r1/hostA"], rows["racks/r1/hostB"]
    assert {k: v for k, v in a.items() if k != "id"} == {k: v for k, v in b.items() if k != "id"}
    assert a["vendor"] == "DELL" and a["nodes"] == 4 and a["verdict"] == "not hot-removable"
    assert res.unique == len(res.rows) - 1          # hostB is hostA's bytes: planned once
    # Hyper-V: every range hotpluggable; planned with the recommended command line
    from sratplan import pipeline
    from sratplan.machine import load_machine

    hv = rows["hv"]
    rec = pipeline.run(load_machine([str(fleet / "hv.SRAT.bin")], cmdline="")).recommendation.cmdline
    assert hv["hotplug_gib"] > 0 and rec and hv["cmdline"] == rec
    # the capture is planned through its own /proc/cmdline (movable_node): node 1 is Movable
    vm = rows["captures/vm1"]
    assert vm["kind"] == "sysroot" and vm["movable_gib"] == 3.0 and vm["verdict"] == "hot-removable"
    assert vm["live"] == "agrees" and a["live"] is None
    br = rows["broken"]
    assert br["verdict"] == "error" and br["error"]
    assert res.errors == 1
    s = res.summary()
    assert s["machines"] == 7 and s["by_verdict"]["error"] == 1 and s["skipped_files"] == 1


def test_given_cmdline_is_used_for_every_machine(fleet):
    res = audit([fleet / "hv.SRAT.bin"], cmdline="quiet", jobs=1)
    (row,) = res.rows
    assert row["cmdline"] == "quiet" and row["movable_gib"] == 0.0
    assert "MOVABLE_NODE_NOT_GIVEN" in row["all_findings"]


def test_parallel_equals_serial(fleet):
    one = audit([fleet], jobs=1).rows
    two = audit([fleet], jobs=2).rows
    assert one == two


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "markdown"])
def test_formats_and_exit_status(fleet, fmt, capsys):
    rc = main(["audit", str(fleet), "--format", fmt, "--jobs", "2", "--no-progress"])
    assert rc == 1                                   # the broken table could not be read
    out = capsys.readouterr().out
    if fmt == "json":
        doc = json.loads(out)
        assert doc["schema"] == "sratplan.audit/1" and len(doc["rows"]) == 7
    elif fmt == "jsonl":
        rows = [json.loads(x) for x in out.splitlines()]
        assert len(rows) == 7 and {r["verdict"] for r in rows} >= {"error", "not planned: arm64"}
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) == 7 and rows[0].keys() >= {"id", "verdict", "movable_gib", "findings"}
    else:
        assert "not planned: arm64" in out and "Summary" in out


def test_clean_fleet_exits_zero(fleet, capsys):
    assert main(["audit", str(fleet / "racks"), "--no-progress"]) == 0
    assert main(["audit", str(fleet / "README.md"), "--no-progress", "--format", "jsonl"]) == 1
    assert main(["audit", str(fleet / "nothing-here"), "--no-progress"]) == 1
    capsys.readouterr()


@pytest.mark.parametrize("data", [b"", b"SRAT", b"SRAT\xff\xff\xff\xff" + bytes(40), os.urandom(300),
                                  b"SRAT @ 0x0\n  0000: 53 52 41 54 zz\n"])
def test_garbage_is_one_error_row(tmp_path, data):
    p = tmp_path / "x.SRAT.bin"
    p.write_bytes(data)
    row = audit_one(AuditInput(str(p), "tables", (str(p),)))
    assert row["id"] == str(p)
    assert row["verdict"] == "error" or row["verdict"].startswith(("not", "hot"))


def test_whole_real_corpus(capsys):
    """Every machine of the real corpus gets a verdict; the only error rows
    are explicit non-table files, none when walking the corpus."""
    res = audit([REAL], jobs=2)
    assert len(res.rows) >= 80 and res.errors == 0
    verdicts = {r["verdict"] for r in res.rows}
    assert {"not hot-removable", "not planned: arm64", "not planned: riscv64", "not planned: loongarch64"} <= verdicts
    assert all(r["verdict"] for r in res.rows)
    assert any(Path(s).name == "README.md" for s in res.skipped)


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200), length=st.integers(0, 400))
def test_random_tables_never_stop_an_audit(tmp_path_factory, body, length):
    d = tmp_path_factory.mktemp("rnd")
    data = b"SRAT" + length.to_bytes(4, "little") + body
    (d / "m.SRAT.bin").write_bytes(data)
    (d / "ok.SRAT.bin").write_bytes((REAL / "srat" / "Tyan_S8225_pavlinux.SRAT.bin").read_bytes())
    res = audit([d], jobs=1)
    assert len(res.rows) == 2 and all(r["verdict"] for r in res.rows)
    assert next(r for r in res.rows if r["id"].endswith("ok"))["verdict"] == "not hot-removable"


def test_progress_line():
    from sratplan.commands.audit import _Progress

    out = io.StringIO()
    p = _Progress(stream=out, after=0.0)
    p(1, 3)
    p(3, 3)
    lines = out.getvalue().splitlines()
    assert lines and lines[-1].startswith("sratplan audit: 3/3 machines")


@pytest.mark.parametrize("argv", [["--kernel", "9.9"], ["--jobs", "-1"]])
def test_usage_errors(argv, capsys):
    assert main(["audit", str(REAL / "srat" / "Tyan_S8225_pavlinux.SRAT.bin"), "--no-progress", *argv]) == 2
    assert "error" in capsys.readouterr().err


def test_fifo_never_blocks(tmp_path):
    os.mkfifo(tmp_path / "pipe.SRAT.bin")
    shutil.copy(REAL / "srat" / "Tyan_S8225_pavlinux.SRAT.bin", tmp_path / "t.SRAT.bin")
    res = audit([tmp_path], jobs=1)
    assert [Path(r["id"]).name for r in res.rows] == ["t"]
    res = audit([tmp_path / "pipe.SRAT.bin"], jobs=1)
    assert res.rows[0]["verdict"] == "error" and "regular" in res.rows[0]["error"]
