"""``sratplan capture``: the capture holds exactly the files live mode
reads, and ``live --sysroot`` on it gives the same result as on the source."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from sratplan import live
from sratplan.capture import capture
from sratplan.cli import main
from sratplan.errors import SratplanError

ROOT = Path(__file__).resolve().parents[1]
SYSROOTS = ROOT / "fixtures" / "sysroot"
TREES = ["truth-6.1-c01_hp_above4g_movable", "truth-7.2-b06_qemu_2n_slots_movable", "vmware-memplug",
         "hyperv-gen2"]

_OPENED: list | None = None


def _hook(event, args):
    if event == "open" and _OPENED is not None and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_hook)


def _live_json(root) -> dict:
    d = live.live_report(root).to_json()
    # where the files were read from is the only thing allowed to differ
    d["plan"].pop("sources", None)
    d["actual"].pop("read", None)
    return d


def _files(root: Path) -> set:
    """The captured files (the manifest, which says what was captured, aside)."""
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and p.name != live.MANIFEST}


@pytest.mark.parametrize("name", TREES)
def test_round_trip(name, tmp_path):
    src = SYSROOTS / name
    res = capture(tmp_path / "cap", sysroot=src)
    assert not res.unreadable
    assert _live_json(tmp_path / "cap") == _live_json(src)
    # a capture of the capture is the same tree, byte for byte
    capture(tmp_path / "cap2", sysroot=tmp_path / "cap")
    a, b = _files(tmp_path / "cap"), _files(tmp_path / "cap2")
    assert a == b
    assert all((tmp_path / "cap" / f).read_bytes() == (tmp_path / "cap2" / f).read_bytes() for f in a)
    m1, m2 = (json.loads((tmp_path / c / live.MANIFEST).read_text()) for c in ("cap", "cap2"))
    assert m1["written"] == m2["written"] and m1["unreadable"] == m2["unreadable"] == []
    assert sorted(m1["written"]) == sorted(_files(tmp_path / "cap") | {w for w in m1["written"] if "/node" in w
                                                                       and w.split("/")[-1].startswith("node")})


@pytest.mark.parametrize("name", TREES)
def test_capture_holds_exactly_what_live_reads(name, tmp_path):
    global _OPENED
    src = (SYSROOTS / name).resolve()
    _OPENED = []
    try:
        live.live_report(src)
        opened = list(_OPENED)
    finally:
        _OPENED = None
    read = {str(Path(p).resolve().relative_to(src)) for p in opened
            if Path(p).resolve().is_relative_to(src) and Path(p).resolve().is_file()}
    capture(tmp_path / "cap", sysroot=src)
    assert _files(tmp_path / "cap") == read


def test_refuses_non_empty_destination(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep").write_text("x")
    src = SYSROOTS / "hyperv-gen2"
    assert main(["capture", str(tmp_path / "d"), "--sysroot", str(src)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["capture", str(tmp_path / "d"), "--sysroot", str(src), "--force"]) == 0
    assert (tmp_path / "d" / "keep").read_text() == "x"
    assert (tmp_path / "d" / "proc" / "zoneinfo").exists()


def test_source_without_acpi_is_an_error(tmp_path):
    (tmp_path / "src").mkdir()
    with pytest.raises(SratplanError):
        capture(tmp_path / "cap", sysroot=tmp_path / "src")


def test_capture_then_live_cli(tmp_path, capsys):
    src = SYSROOTS / "truth-6.1-c01_hp_above4g_movable"
    assert main(["capture", str(tmp_path / "c"), "--sysroot", str(src)]) == 0
    assert "files written" in capsys.readouterr().err
    assert main(["live", "--sysroot", str(tmp_path / "c"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_force_never_writes_through_a_planted_link(tmp_path, capsys):
    dest, outside = tmp_path / "cap", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "proc").symlink_to(outside)
    src = SYSROOTS / "hyperv-gen2"
    assert main(["capture", str(dest), "--sysroot", str(src), "--force"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert list(outside.iterdir()) == []
