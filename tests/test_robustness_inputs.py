"""Inputs are sacred (issue 7): every file is opened read-only, live mode
never writes to /sys or /proc, ``capture`` writes only into the directory it
is given and refuses to overwrite without ``--force``; and the CLI answers
every malformed input with an exit status and a message, never a traceback.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sratplan.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
MAL = FIX / "malformed"
SYSROOT = FIX / "sysroot" / "hyperv-gen2"

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class WriteSpy:
    """Fails any open for writing outside ``allowed`` (and records it)."""

    def __init__(self, monkeypatch, allowed=()):
        self.allowed = [Path(a).resolve() for a in allowed]
        self.attempts: list[str] = []
        real_open, real_os_open = builtins.open, os.open

        def check(path, writing):
            if not writing or isinstance(path, int):
                return
            p = Path(os.fsdecode(path)).resolve()
            if any(p == a or a in p.parents for a in self.allowed):
                return
            self.attempts.append(str(p))
            raise PermissionError(f"test: write to {p} refused")

        def spy_open(file, mode="r", *a, **kw):
            check(file, any(c in mode for c in "wax+"))
            return real_open(file, mode, *a, **kw)

        def spy_os_open(path, flags, *a, **kw):
            check(path, bool(flags & _WRITE_FLAGS))
            return real_os_open(path, flags, *a, **kw)

        monkeypatch.setattr(builtins, "open", spy_open)
        monkeypatch.setattr(io, "open", spy_open)
        monkeypatch.setattr(os, "open", spy_os_open)


def _digest(paths):
    out = {}
    for p in paths:
        for f in ([p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file())):
            st = f.stat()
            out[str(f)] = (hashlib.sha256(f.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_mode)
    return out


def _run(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return rc, out, err


MALFORMED = sorted(p for p in MAL.iterdir() if p.name != "README.md")
TABLE_FILES = [p for p in MALFORMED if not p.name.startswith(("e820", "boot_params"))]
E820_FILES = [p for p in MALFORMED if p.name.startswith(("e820", "boot_params"))]


@pytest.mark.parametrize("path", TABLE_FILES, ids=lambda p: p.name)
def test_cli_decode_malformed_reads_only(path, monkeypatch, capsys):
    before = _digest([path])
    spy = WriteSpy(monkeypatch)
    rc, out, err = _run(["decode", path, "--format", "json"], capsys)
    assert rc in (0, 1, 2)
    if rc == 2:
        # one located message on stderr, nothing on stdout
        assert err.startswith("sratplan: error: ") and path.name in err
    assert spy.attempts == []
    assert _digest([path]) == before


@pytest.mark.parametrize("path", [p for p in TABLE_FILES if p.suffix == ".bin"], ids=lambda p: p.name)
def test_cli_plan_malformed_reads_only(path, monkeypatch, capsys):
    e820 = FIX / "kernel" / "6.1" / "j09_length0_entry" / "e820.txt"
    before = _digest([path, e820])
    spy = WriteSpy(monkeypatch)
    rc, out, err = _run([path, "--e820", e820, "--format", "json"], capsys)
    assert rc in (0, 1, 2)
    assert spy.attempts == []
    assert _digest([path, e820]) == before


@pytest.mark.parametrize("path", E820_FILES, ids=lambda p: p.name)
def test_cli_plan_with_malformed_e820(path, monkeypatch, capsys):
    srat = MAL / "srat-overlap.bin"
    before = _digest([path, srat])
    spy = WriteSpy(monkeypatch)
    rc, out, err = _run([srat, "--e820", path], capsys)
    assert rc in (0, 1, 2)
    if path.name == "boot_params-short.bin":
        assert rc == 2 and "e820_table" in err
    assert spy.attempts == []
    assert _digest([path, srat]) == before


def test_cli_replay_and_audit_read_only(monkeypatch, capsys, tmp_path):
    log = FIX / "kernel" / "6.1" / "j09_length0_entry" / "dmesg.txt"
    before = _digest([log, MAL])
    spy = WriteSpy(monkeypatch)
    rc, _, _ = _run(["replay", log], capsys)
    assert rc in (0, 1)
    rc, _, _ = _run(["replay", MAL / "e820-dmesg-garbage.txt"], capsys)
    assert rc == 2
    rc, _, _ = _run(["audit", MAL, "--jobs", "1", "--format", "csv", "--no-progress"], capsys)
    assert rc in (0, 1)
    assert spy.attempts == []
    assert _digest([log, MAL]) == before


def test_live_never_writes_to_the_sysroot(monkeypatch, capsys):
    before = _digest([SYSROOT])
    spy = WriteSpy(monkeypatch)
    rc, out, err = _run(["live", "--sysroot", SYSROOT], capsys)
    assert rc in (0, 1)
    assert spy.attempts == []
    assert _digest([SYSROOT]) == before


def test_capture_writes_only_into_its_directory(monkeypatch, capsys, tmp_path):
    dest = tmp_path / "cap"
    before = _digest([SYSROOT])
    spy = WriteSpy(monkeypatch, allowed=[dest])
    rc, _, err = _run(["capture", dest, "--sysroot", SYSROOT], capsys)
    assert rc == 0 and spy.attempts == []
    written = _digest([dest])
    assert written and all(k.startswith(str(dest)) for k in written)
    assert _digest([SYSROOT]) == before
    # a second capture into the same directory is refused without --force ...
    rc, _, err = _run(["capture", dest, "--sysroot", SYSROOT], capsys)
    assert rc == 2 and "--force" in err
    assert _digest([dest]) == written
    # ... and allowed with it, writing the same files again
    rc, _, _ = _run(["capture", dest, "--sysroot", SYSROOT, "--force"], capsys)
    assert rc == 0 and spy.attempts == []
    assert {k: v[0] for k, v in _digest([dest]).items()} == {k: v[0] for k, v in written.items()}


def test_capture_refuses_a_file_as_destination(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_bytes(b"keep me")
    rc, _, err = _run(["capture", f, "--sysroot", SYSROOT, "--force"], capsys)
    assert rc == 2 and f.read_bytes() == b"keep me"


def test_capture_force_does_not_follow_symlinks_out_of_the_destination(tmp_path, capsys):
    dest, outside = tmp_path / "cap", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "sys").symlink_to(outside)
    rc, _, err = _run(["capture", dest, "--sysroot", SYSROOT, "--force"], capsys)
    assert list(outside.iterdir()) == []
    assert rc == 2 and "symbolic link" in err


# --- streams and devices: refused before anything is read (issue 13) -----------

HOSTILE_ENTRY_POINTS = [
    lambda p: [p],
    lambda p: [str(ROOT / "sratplan" / "examples" / "qemu-2node-hotplug" / "SRAT"), "--e820", p],
    lambda p: [str(ROOT / "sratplan" / "examples" / "qemu-2node-hotplug" / "SRAT"), "--boot-facts", p],
    lambda p: ["decode", p],
    lambda p: ["replay", p],
    lambda p: ["audit", "--no-progress", "--jobs", "1", p],
]


def _hostile(tmp_path, kind):
    if kind == "fifo":
        p = tmp_path / "fifo"
        os.mkfifo(p)
        return str(p)
    if kind == "huge":
        p = tmp_path / "huge"
        with open(p, "wb") as fh:
            fh.truncate(3 << 30)               # sparse 3 GiB: above every cap and the memory limit below
        return str(p)
    return {"zero": "/dev/zero", "urandom": "/dev/urandom"}[kind]


@pytest.mark.parametrize("kind", ["fifo", "zero", "urandom", "huge"])
@pytest.mark.parametrize("entry", range(len(HOSTILE_ENTRY_POINTS)))
def test_hostile_paths_end_quickly_within_2_gib(tmp_path, kind, entry):
    """A FIFO without a writer, an endless device and an oversized file: each
    entry point answers within seconds, under a 2 GiB address-space limit,
    with exit status 2 (or 0/1 for an audit that reports the input as
    unreadable) and no traceback."""
    argv = HOSTILE_ENTRY_POINTS[entry](_hostile(tmp_path, kind))
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
            "from sratplan.cli import main; sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60,
                       cwd=ROOT)
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert r.returncode in ((0, 1) if argv[0] == "audit" else (2,)), (r.returncode, r.stderr[-500:])
