"""Seed inputs for every fuzz target, taken from the repo's fixtures.

Every real table in fixtures/real and fixtures/kernel, the synthetic tables
of fixtures/aml, the malformed corpus, the e820 maps in all their forms, the
zero pages, the boot logs (memblock=debug traces) and the command lines of
the kernel-truth scenarios.  Large logs are cut to ``MAX_SEED`` bytes so that
one input stays cheap; the cut keeps whole lines.
"""

from __future__ import annotations

import json
from pathlib import Path

from .targets import SEP_CMDLINE, SEP_E820, encode

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
MAX_SEED = 64 << 10
MAX_TEXT_SEED = 16 << 10    # acpidump / .dsl seeds: a few tables each is plenty


def _read(p: Path, cap: int = MAX_SEED) -> bytes:
    b = p.read_bytes()
    if len(b) > cap:
        b = b[:cap]
        nl = b.rfind(b"\n")
        if nl > 0:
            b = b[:nl + 1]
    return b


def _files(*globs) -> list[Path]:
    out = []
    for g in globs:
        out.extend(sorted(FIX.glob(g)))
    seen = set()
    uniq = []
    for p in out:
        if not p.is_file():
            continue
        key = p.read_bytes()
        if key in seen:
            continue
        seen.add(key)
        uniq.append(p)
    return uniq


def _scenario_dirs() -> list[Path]:
    # one kernel version is enough: the tables are the same in every version
    return sorted(p for p in (FIX / "kernel" / "6.1").iterdir() if p.is_dir()) if (FIX / "kernel" / "6.1").is_dir() \
        else []


def _cmdline(d: Path) -> bytes:
    try:
        run = json.loads((d / "run.json").read_text())
    except (OSError, ValueError):
        return b""
    cmd = run.get("qemu_cmd") or []
    for i, a in enumerate(cmd):
        if a == "-append" and i + 1 < len(cmd):
            return cmd[i + 1].encode()
    return b""


def binary_tables() -> list[bytes]:
    ps = _files("real/srat/*.bin", "aml/*.aml", "kernel/6.1/*/guest_*.bin", "kernel/6.1/*/*.aml",
                "malformed/*.bin")
    return [p.read_bytes() for p in ps]


def regressions() -> list:
    """The raw reproducers of past hangs (fuzz/regressions/), already encoded."""
    d = ROOT / "fuzz" / "regressions"
    return sorted(p for p in d.iterdir() if p.is_file() and p.suffix != ".md") if d.is_dir() else []


def seeds() -> list[bytes]:
    """Every seed, encoded for :func:`fuzz.targets.run_one`."""
    out: list[bytes] = [p.read_bytes() for p in regressions()]
    tabs = binary_tables()
    out += [encode("decode", b) for b in tabs]
    out += [encode("read_tables", b) for b in tabs[:20]]
    out += [encode("read_tables", _read(p, MAX_TEXT_SEED)) for p in _files("real/acpidump/*", "dsl/srat/*.dsl",
                                                            "dsl/qemu/x86/q35/*.dsl", "malformed/*.txt",
                                                            "malformed/*.dsl")]
    e820 = _files("e820/realdata/*", "real/e820/*", "kernel/6.1/*/e820.txt", "kernel/6.1/*/memmap.txt",
                  "kernel/6.1/*/iomem.txt", "malformed/e820*")
    out += [encode("e820_text", _read(p)) for p in e820]
    out += [encode("e820_file", _read(p)) for p in e820[:10]]
    bps = _files("kernel/6.1/*/boot_params.bin", "malformed/boot_params*")
    out += [encode("boot_params", p.read_bytes()) for p in bps[:8]]
    out += [encode("e820_file", p.read_bytes()) for p in bps[:3]]
    logs = _files("kernel/6.1/*/dmesg.txt", "real/dmesg/*")
    out += [encode("boot_log", _read(p)) for p in logs[:12]]
    out += [encode("memblock_log", _read(p)) for p in logs[:12]]
    out += [encode("replay", _read(p, 256 << 10)) for p in logs[:6]]
    for d in _scenario_dirs():
        cl = _cmdline(d)
        if cl:
            out.append(encode("cmdline", cl))
        srat = d / "guest_SRAT.bin"
        e = d / "e820.txt"
        if srat.is_file() and e.is_file():
            out.append(encode("plan", srat.read_bytes() + SEP_E820 + e.read_bytes() + SEP_CMDLINE + cl))
    return out


def write_corpus(dest: Path) -> int:
    """Write the seeds as files (for atheris / libFuzzer corpus directories)."""
    import hashlib

    dest.mkdir(parents=True, exist_ok=True)
    n = 0
    for s in seeds():
        name = hashlib.sha1(s).hexdigest()
        p = dest / name
        if not p.exists():
            p.write_bytes(s)
            n += 1
    return n
