#!/usr/bin/env python3
"""sratplan benchmarks: whole-process timings, both sides of each comparison
in the same run, medians over several runs.

    python3 benchmarks/run.py                # all four benchmarks
    python3 benchmarks/run.py --runs 11 --only decode,plan
    python3 benchmarks/run.py --env current  # this interpreter, its site hooks
    python3 benchmarks/run.py --no-site      # interpreter without site hooks

1. fleet: ``sratplan audit DIR --jobs 2`` over 2,000 distinct machines (the
   real x86 SRATs of fixtures/real/srat, each copied with its own OEM
   revision so no two are alike: no de-duplication credit) vs ``iasl -d`` of
   the same 2,000 tables, two processes in parallel (xargs -P 2).  Target:
   the audit at least as fast as iasl merely decoding (ratio <= 1.0).
2. interactive: ``sratplan T`` (decode + e820 assumed from the SRAT +
   boot + advice + table) of the largest real SRAT, wall time, with
   ``iasl -d T`` beside it.  Target: well under 150 ms wall.
3. scaling: ``sratplan T --e820 E --format json`` from 4 GiB / 1 node up to
   64 TiB / 64 nodes / 2,000 SRAT ranges.  Target: largest <= 2.0x smallest.
4. decode: ``sratplan decode T`` vs ``iasl -d T`` on synthetic SRATs of 20,
   576 and 10,240 subtables and the largest real SRAT (reported; the
   whole-process decode target of 0.1 is retired).

Every figure is a whole process started from this script: wall time
(perf_counter around the child) and CPU time (user + system of the child,
from getrusage).  Runs of the two sides alternate so that background load
hits both alike.  iasl is scripts/fetch-iasl's (or $SRATPLAN_IASL, or the
iasl on PATH).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

GiB = 1 << 30
TiB = 1 << 40


def find_iasl() -> str | None:
    env = os.environ.get("SRATPLAN_IASL")
    if env:
        return env
    try:
        out = subprocess.run([str(REPO / "scripts" / "fetch-iasl")], capture_output=True, text=True,
                             timeout=600)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().splitlines()[-1]
    except (OSError, subprocess.SubprocessError):
        pass
    return shutil.which("iasl")


CONSOLE_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from sratplan.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""  # the launcher pip writes for a [project.scripts] entry (it imports re)


def install_clean_venv(venv: Path) -> Path:
    """A fresh virtual environment holding sratplan and its two runtime
    dependencies and nothing else, laid out as ``pip install .`` lays it out:
    the packages in site-packages, compiled to bytecode, and the console
    script.  The files are copied (sratplan from this tree, construct and
    tabulate from this interpreter's installation) so that no package index
    is needed.  Returns the path of the ``sratplan`` launcher."""
    import compileall
    import importlib.metadata as md
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "sratplan", site / "sratplan", ignore=ignore)
    for dist in ("construct", "tabulate"):
        d = md.distribution(dist)
        for f in d.files or ():
            src = Path(d.locate_file(f))
            if src.suffix == ".pyc" or not src.is_file() or ".." in f.parts:
                continue
            dst = site / f
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    compileall.compile_dir(str(site), quiet=1)
    launcher = venv / "bin" / "sratplan"
    launcher.write_text(CONSOLE_SCRIPT.format(python=python))
    launcher.chmod(0o755)
    return launcher


class Runner:
    """Starts whole processes and records (wall, cpu) seconds for each.

    ``env`` says which sratplan is measured:
    - ``venv`` (default): the ``sratplan`` console script of a fresh virtual
      environment holding only sratplan, construct and tabulate — what a user
      gets from ``pip install .`` into a new venv.
    - ``current``: ``python -m sratplan`` with this interpreter and every
      site hook of its installation (editable finders, .pth files).
    - ``no-site``: this interpreter with ``-S`` (no site.py, no .pth hooks),
      packages found through PYTHONPATH: the interpreter's floor.
    """

    def __init__(self, runs: int, env: str, work: Path, stat: str = "median"):
        self.runs = runs
        self.stat = stat
        self.env = dict(os.environ)
        # Modules load from bytecode, as after pip install (which compiles it).
        # The children may write bytecode only under a private prefix.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        self.mode = env
        if env == "venv":
            self.env.pop("PYTHONPATH", None)
            launcher = install_clean_venv(work / "venv")
            self.py = [str(launcher.parent / "python")]
            self.cmd = [str(launcher)]
        elif env == "no-site":
            import sysconfig

            paths = [str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
            self.env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
            self.py = [sys.executable, "-S"]
            self.cmd = [*self.py, "-m", "sratplan"]
        else:
            self.py = [sys.executable]
            self.cmd = [*self.py, "-m", "sratplan"]

    def sratplan(self, *args) -> list[str]:
        return [*self.cmd, *map(str, args)]

    def check(self, cmd, cwd=None) -> None:
        """Run ``cmd`` once and stop the benchmark if it did not do its job
        (a benchmark of a failing command measures nothing)."""
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, cwd=cwd, env=self.env)
        if proc.returncode not in (0, 1) or not proc.stdout or b"Traceback" in proc.stderr:
            raise SystemExit(f"benchmark command failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
                             + proc.stderr.decode(errors="replace")[-2000:])

    def once(self, cmd, cwd=None) -> tuple[float, float, int]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=cwd, env=self.env).returncode
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, rc

    def compare(self, cmds: dict, cwd=None) -> dict:
        """Alternate the commands ``runs`` times (after one warm-up each);
        return name -> (median wall, median cpu, exit status)."""
        samples = {k: [] for k in cmds}
        rcs = {}
        for k, c in cmds.items():
            if c[0] != self.py[0] or "-c" not in c:
                self.check(c, cwd)
            rcs[k] = self.once(c, cwd)[2]
        for _ in range(self.runs):
            for k, c in cmds.items():
                w, u, rcs[k] = self.once(c, cwd)
                samples[k].append((w, u))
        stat = min if self.stat == "min" else statistics.median
        return {k: (stat(w for w, _ in v), stat(u for _, u in v), rcs[k])
                for k, v in samples.items()}


def ms(x: float) -> str:
    return f"{x * 1000:8.1f}"


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


def synthetic_srat(subtables: int) -> bytes:
    """An SRAT of exactly ``subtables`` entries: x2APIC CPU entries plus one
    memory entry per five subtables (node count grows with the size)."""
    mem_target = max(2, subtables // 5)
    nodes = max(1, min(64, mem_target // 32 or 1))
    per_node = max(1, (mem_target - 1) // nodes)
    cpus = subtables - (1 + nodes * per_node)
    table, _ram = synth.srat(nodes, nodes * per_node, cpus, 64 * TiB if subtables > 100 else 64 * GiB)
    assert _count_subtables(table) == subtables, (subtables, _count_subtables(table))
    return table


def _count_subtables(table: bytes) -> int:
    off, n = 48, 0
    while off + 2 <= len(table):
        off += table[off + 1]
        n += 1
    return n


def largest_real_srat() -> Path:
    cands = sorted((REPO / "fixtures" / "real" / "srat").glob("*.SRAT.bin"), key=lambda p: p.stat().st_size)
    return cands[-1]


def bench_decode(r: Runner, iasl: str, work: Path) -> list[str]:
    out = ["## 4. sratplan decode vs iasl -d (default format, stdout to /dev/null; reported, no target)", "",
           f"{'table':34} {'iasl ms':>8} {'ours ms':>8} {'ratio':>6}   {'iasl cpu':>8} {'ours cpu':>8} {'ratio':>6}"]
    tables = []
    for n in (20, 576, 10240):
        p = work / f"synthetic-{n}.bin"
        p.write_bytes(synthetic_srat(n))
        tables.append((f"synthetic {n} subtables ({p.stat().st_size} B)", p))
    real = largest_real_srat()
    tables.append((f"real {real.name[:22]} ({real.stat().st_size} B)", real))
    for label, p in tables:
        local = work / ("iasl-" + p.name)
        shutil.copyfile(p, local)  # iasl writes its .dsl next to the input
        res = r.compare({"iasl": [iasl, "-d", str(local)], "ours": r.sratplan("decode", p)}, cwd=work)
        (iw, ic, _), (ow, oc, orc) = res["iasl"], res["ours"]
        out.append(f"{label:34} {ms(iw)} {ms(ow)} {ow / iw:6.2f}   {ms(ic)} {ms(oc)} {oc / ic:6.2f}"
                   + ("" if orc in (0, 1) else f"  (exit {orc})"))
    return out


def bench_plan(r: Runner, iasl: str, work: Path) -> list[str]:
    real = largest_real_srat()
    local = work / ("iasl-" + real.name)
    shutil.copyfile(real, local)
    res = r.compare({"iasl": [iasl, "-d", str(local)], "plan": r.sratplan(real),
                     "plan-json": r.sratplan(real, "--format", "json")}, cwd=work)
    (iw, ic, _) = res["iasl"]
    out = ["## 2. interactive: full plan of the largest real SRAT (no e820: RAM assumed from the SRAT)", "",
           f"table: {real.name}", f"{'command':34} {'wall ms':>8} {'ratio':>6}   {'cpu ms':>8} {'ratio':>6}",
           f"{'iasl -d':34} {ms(iw)} {1:6.2f}   {ms(ic)} {1:6.2f}"]
    for k in ("plan", "plan-json"):
        w, c, rc = res[k]
        out.append(f"{'sratplan ' + ('--format json' if k.endswith('json') else '(table)'):34} {ms(w)} "
                   f"{w / iw:6.2f}   {ms(c)} {c / ic:6.2f}" + ("" if rc in (0, 1) else f"  (exit {rc})"))
    w = res["plan"][0]
    out.append(f"target well under 150 ms wall (table output): {w * 1000:.0f} ms, "
               + ("met" if w < 0.150 else "NOT met"))
    return out


SCALES = [  # (label, total RAM, nodes, SRAT memory ranges, CPUs)
    ("4 GiB / 1 node", 4 * GiB, 1, 1, 4),
    ("64 TiB / 1 node (RAM alone)", 64 * TiB, 1, 1, 4),
    ("256 GiB / 2 nodes", 256 * GiB, 2, 8, 64),
    ("4 TiB / 8 nodes", 4 * TiB, 8, 64, 256),
    ("16 TiB / 32 nodes", 16 * TiB, 32, 512, 1024),
    ("64 TiB / 64 nodes / 2,000 ranges", 64 * TiB, 64, 1999, 2048),
]


def bench_scaling(r: Runner, work: Path) -> list[str]:
    cmds = {}
    labels = {}
    for i, (label, total, nodes, ranges, cpus) in enumerate(SCALES):
        table, ram = synth.srat(nodes, ranges, cpus, total)
        t = work / f"scale{i}.SRAT.bin"
        e = work / f"scale{i}.e820"
        t.write_bytes(table)
        e.write_text(synth.e820_text(ram))
        labels[label] = len(ram)
        cmds[label] = r.sratplan(t, "--e820", e, "--format", "json")
    res = r.compare(cmds, cwd=work)
    first = res[SCALES[0][0]]
    out = ["## 3. scaling: sratplan SRAT --e820 E --format json", "",
           f"{'machine':34} {'ranges':>6} {'wall ms':>8} {'x small':>7}   {'cpu ms':>8} {'x small':>7}"]
    for label, *_ in SCALES:
        w, c, rc = res[label]
        out.append(f"{label:34} {labels[label]:6d} {ms(w)} {w / first[0]:7.2f}   {ms(c)} {c / first[1]:7.2f}"
                   + ("" if rc in (0, 1) else f"  (exit {rc})"))
    last = res[SCALES[-1][0]]
    out.append(f"target largest <= 2.0x smallest (wall): {verdict(last[0] / first[0], 2.0)}")
    return out


def distinct_fleet(dest: Path, count: int) -> list[Path]:
    """``count`` distinct machines: the real x86 SRATs of fixtures/real/srat
    (and their SLITs), copy k with OEM revision k and a fixed checksum, one
    directory per machine."""
    srcs = []
    for t in sorted((REPO / "fixtures" / "real" / "srat").glob("*.SRAT.bin")):
        data = t.read_bytes()
        # x86 only: LAPIC/x2APIC CPU entries (arm64 and others are not planned)
        off, kinds = 48, set()
        while off + 2 <= len(data) and data[off + 1]:
            kinds.add(data[off])
            off += data[off + 1]
        if kinds & {0, 2} and not kinds & {3, 7}:
            slit = t.with_name(t.name.replace(".SRAT.bin", ".SLIT.bin"))
            srcs.append((data, slit.read_bytes() if slit.exists() else None))
    tables = []
    for k in range(count):
        data, slit = srcs[k % len(srcs)]
        b = bytearray(data)
        b[24:28] = (k + 1).to_bytes(4, "little")          # OEM revision
        b[9] = 0
        b[9] = (-sum(b)) & 0xFF                            # checksum
        dest.mkdir(parents=True, exist_ok=True)
        (dest / f"m{k:04d}.SRAT.bin").write_bytes(bytes(b))
        if slit:
            (dest / f"m{k:04d}.SLIT.bin").write_bytes(slit)
        tables.append(dest / f"m{k:04d}.SRAT.bin")
    return tables


def bench_fleet(r: Runner, iasl: str, work: Path, count: int = 2000) -> list[str]:
    fleet = work / "fleet"
    distinct_fleet(fleet, count)
    # iasl writes its .dsl beside each input: give it a copy of the fleet
    tables = distinct_fleet(work / "fleet-iasl", count)
    lst = work / "fleet.list"
    lst.write_text("\n".join(str(t) for t in tables) + "\n")
    out_file = work / "fleet.jsonl"
    cmds = {"iasl": ["sh", "-c", f"xargs -P 2 -n 1 {iasl} -d < {lst} >/dev/null 2>&1; echo done"],
            "iasl-batched": ["sh", "-c", f"xargs -P 2 -n 100 {iasl} -d < {lst} >/dev/null 2>&1; echo done"],
            "audit": [*r.sratplan("audit", fleet, "--jobs", "2", "--no-progress", "--format", "jsonl"),
                      ]}
    runs, r.runs = r.runs, min(r.runs, 3)
    try:
        res = r.compare(cmds, cwd=work)
    finally:
        r.runs = runs
    (iw, ic, _), (bw, bc, _), (aw, ac, arc) = res["iasl"], res["iasl-batched"], res["audit"]
    planned = count
    proc = subprocess.run(r.sratplan("audit", fleet, "--jobs", "2", "--no-progress", "--format", "jsonl"),
                          capture_output=True, text=True, env=r.env, cwd=work)
    rows = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    planned = sum(1 for ln in rows if '"verdict": "error"' not in ln and '"not planned' not in ln)
    out = [f"## 1. fleet: {count} distinct machines, 2-way parallel", "",
           f"{'command':44} {'wall s':>8} {'machines/s':>10} {'cpu s':>8}",
           f"{'iasl -d, one process a table (xargs -P 2 -n 1)':44} {iw:8.2f} {count / iw:10.0f} {ic:8.2f}",
           f"{'iasl -d, 100 tables a process (-P 2 -n 100)':44} {bw:8.2f} {count / bw:10.0f} {bc:8.2f}",
           f"{'sratplan audit --jobs 2 (plan + advice)':44} {aw:8.2f} {count / aw:10.0f} {ac:8.2f}"
           + ("" if arc in (0, 1) else f"  (exit {arc})"),
           f"rows: {len(rows)}, planned: {planned}",
           f"ratio audit / iasl one a process (wall): {aw / iw:.2f}; target <= 1.0: {verdict(aw / iw, 1.0)}",
           f"ratio audit / iasl batched (wall): {aw / bw:.2f}"]
    return out


def machine_line() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"machine: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, load average {load:.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs per command (default 7), after a warm-up")
    ap.add_argument("--only", default="fleet,plan,scaling,decode", help="comma-separated subset")
    ap.add_argument("--fleet", type=int, default=2000, help="distinct machines in the fleet benchmark")
    ap.add_argument("--iasl", help="iasl to compare with (default: scripts/fetch-iasl, $SRATPLAN_IASL, PATH)")
    ap.add_argument("--env", choices=("venv", "current", "no-site"), default="venv",
                    help="which sratplan to run: a fresh venv's console script (default), this "
                         "interpreter with its site hooks, or this interpreter with -S")
    ap.add_argument("--stat", choices=("median", "min"), default="median",
                    help="statistic over the runs (min: the run least disturbed by other load)")
    ap.add_argument("--no-site", action="store_const", const="no-site", dest="env",
                    help="the same as --env no-site")
    a = ap.parse_args(argv)
    only = set(a.only.split(","))
    iasl = a.iasl or (find_iasl() if only & {"decode", "plan", "fleet"} else None)
    with tempfile.TemporaryDirectory(prefix="sratplan-bench-") as tmp:
        work = Path(tmp)
        r = Runner(max(1, a.runs), a.env, work, a.stat)
        print(machine_line())
        floor = r.compare({"python": [*r.py, "-c", "pass"]})["python"]
        print(f"sratplan: {r.mode}: {' '.join(r.cmd)}")
        print(f"interpreter: {' '.join(r.py)}; empty start-up {ms(floor[0]).strip()} ms wall, "
              f"{ms(floor[1]).strip()} ms cpu")
        print(f"iasl: {iasl}; {r.stat}s of {r.runs} runs after a warm-up; ratios are ours / theirs\n")
        steps = [("fleet", lambda: bench_fleet(r, iasl, work, a.fleet) if iasl else ["## 1. fleet: no iasl found"]),
                 ("plan", lambda: bench_plan(r, iasl, work) if iasl else ["## 2. plan: no iasl found"]),
                 ("scaling", lambda: bench_scaling(r, work)),
                 ("decode", lambda: bench_decode(r, iasl, work) if iasl else ["## 4. decode: no iasl found"])]
        for name, fn in steps:
            if name in only:
                print("\n".join(fn()) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
