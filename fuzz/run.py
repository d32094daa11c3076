"""Fuzz runner: ``python3 -m fuzz.run [options]`` from the repo root.

Two engines share the targets (:mod:`fuzz.targets`), the seeds
(:mod:`fuzz.seeds`) and the structure-aware mutator (:mod:`fuzz.mutators`):

``--engine mutate`` (default)
    Pure Python, one process, reproducible from ``--seed``.  Feedback is the
    set of (target, outcome, finding codes) an input produces: an input
    that yields a new combination joins the corpus.  A per-input alarm
    catches hangs; an address-space limit turns runaway memory into a crash.
``--engine atheris``
    Coverage-guided (libFuzzer through atheris, ``pip install atheris``) with
    the same structure-aware mutator as its custom mutator; extra arguments
    after ``--`` go to libFuzzer (``-runs=``, ``-max_total_time=``, ...).

Crashes (any exception other than SratplanError, a broken invariant, a hang)
are written to ``--crashes`` (default ``fuzz/crashes``) as the raw input plus
a ``.txt`` traceback, one file per distinct (exception, innermost sratplan
frame).  Replay one with ``python3 -m fuzz.run --replay FILE``.
Exit status: 0 when no crash was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fuzz import mutators, targets  # noqa: E402
from fuzz import seeds as seedmod

# How often each target is picked (per cent, roughly): the planner and the
# replay cost 10-50 ms an input, the parsers well under one.
WEIGHTS = {"decode": 32, "read_tables": 15, "e820_text": 13, "e820_file": 4, "boot_params": 5, "boot_log": 8,
           "cmdline": 10, "memblock_log": 4, "replay": 1.5, "plan": 1.5}
# Inputs found along the way join the corpus as bases only up to this size, so
# that a 3,000-entry table made once does not become the parent of thousands.
MAX_BASE = 16 << 10


class Hang(BaseException):
    """Raised by the alarm; BaseException so that no ``except Exception`` in
    the code under test can swallow it."""


def _alarm(signum, frame):
    raise Hang("input ran longer than the per-input timeout")


def crash_key(exc: BaseException) -> str:
    """(exception type, innermost frame inside sratplan/) — one file per key."""
    tb = traceback.extract_tb(exc.__traceback__)
    frame = None
    for fr in tb:
        if "/sratplan/" in fr.filename.replace(os.sep, "/"):
            frame = fr
    where = f"{Path(frame.filename).name}:{frame.lineno}" if frame else "harness"
    return f"{type(exc).__name__}@{where}"


def save_crash(dirp: Path, data: bytes, exc: BaseException, key: str) -> Path:
    dirp.mkdir(parents=True, exist_ok=True)
    name = key.replace("@", "-").replace(":", "-")
    p = dirp / f"crash-{name}"
    if not p.exists() or len(data) < p.stat().st_size:   # keep the smallest reproducer
        p.write_bytes(data)
        (dirp / f"crash-{name}.txt").write_text(
            f"target: {targets.TARGETS[data[0] % len(targets.TARGETS)][0] if data else '-'}\n"
            f"key: {key}\n\n" + "".join(traceback.format_exception(exc)))
    return p


def limit_memory(mb: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    except (ValueError, OSError):
        pass


def run_mutate(args) -> int:
    rnd = random.Random(args.seed)
    corpus = list(seedmod.seeds())
    if args.corpus and Path(args.corpus).is_dir():
        corpus += [p.read_bytes() for p in sorted(Path(args.corpus).iterdir()) if p.is_file()]
    pools: dict = {}
    for s in corpus:
        if s:
            pools.setdefault(targets.TARGETS[s[0] % len(targets.TARGETS)][0], []).append(s[1:])
    features: set = set()
    crashes: dict = {}
    signal.signal(signal.SIGALRM, _alarm)
    limit_memory(args.rss_mb)
    stats_path = Path(args.stats) if args.stats else None
    save_dir = Path(args.corpus) if args.corpus else None
    t0 = time.monotonic()
    n = 0
    last = t0
    per_target: dict = {}
    spent: dict = {}

    def one(data: bytes):
        nonlocal n
        n += 1
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
        t1 = time.perf_counter()
        tname = targets.TARGETS[data[0] % len(targets.TARGETS)][0] if data else "empty"
        try:
            feat = targets.run_one(data)
        except (Exception, Hang) as exc:  # noqa: BLE001 - this is the point of the fuzzer
            signal.setitimer(signal.ITIMER_REAL, 0)
            key = crash_key(exc)
            if key not in crashes:
                print(f"[{n}] CRASH {key}: {str(exc)[:200]}", file=sys.stderr, flush=True)
            crashes[key] = crashes.get(key, 0) + 1
            save_crash(Path(args.crashes), data, exc, key)
            return
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            spent[tname] = spent.get(tname, 0.0) + time.perf_counter() - t1
        per_target[feat[0]] = per_target.get(feat[0], 0) + 1
        if feat not in features:
            features.add(feat)
            corpus.append(data)
            if len(data) <= MAX_BASE:
                by_target.setdefault(feat[0], []).append(data)
            if save_dir is not None:
                save_dir.mkdir(parents=True, exist_ok=True)
                (save_dir / hashlib.sha1(data).hexdigest()).write_bytes(data)

    names = [n for n, _ in targets.TARGETS]
    weights = [WEIGHTS.get(n, 5) for n in names]
    by_target: dict = {}
    for s in list(corpus):
        if s:
            by_target.setdefault(names[s[0] % len(names)], []).append(s)
    for s in list(corpus):
        if args.seconds and time.monotonic() - t0 >= args.seconds:
            break                      # a slow machine still keeps the time budget
        one(s)
    while True:
        if args.inputs and n >= args.inputs:
            break
        if args.seconds and time.monotonic() - t0 >= args.seconds:
            break
        tgt = rnd.choices(names, weights)[0]
        base = rnd.choice(by_target.get(tgt) or corpus)
        data = base
        for _ in range(rnd.choice((1, 1, 1, 2, 3, 5))):
            data = mutators.mutate(data, rnd, pools)
        one(data)
        now = time.monotonic()
        if now - last >= args.report_every:
            last = now
            _report(stats_path, n, now - t0, crashes, features, per_target, spent, final=False)
    _report(stats_path, n, time.monotonic() - t0, crashes, features, per_target, spent, final=True)
    return 1 if crashes else 0


def _report(path, n, secs, crashes, features, per_target, spent, final):
    st = {"inputs": n, "seconds": round(secs, 1), "rate": round(n / secs, 1) if secs else 0,
          "crashes": crashes, "features": len(features), "per_target": per_target,
          "seconds_per_target": {k: round(v, 1) for k, v in spent.items()}, "final": final}
    print(f"#{n} {st['rate']}/s features={len(features)} crashes={sum(crashes.values())} "
          f"({len(crashes)} distinct)", file=sys.stderr, flush=True)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(st, indent=1, sort_keys=True))
        tmp.replace(path)


def run_atheris(args, extra) -> int:
    import atheris

    with atheris.instrument_imports(include=["sratplan"]):
        import sratplan.acpi.sources  # noqa: F401
        import sratplan.acpi.tables  # noqa: F401
        import sratplan.advise.recommend  # noqa: F401
        import sratplan.firmware.bootfacts  # noqa: F401
        import sratplan.firmware.e820_readers  # noqa: F401
        import sratplan.kernel.cmdline  # noqa: F401
        import sratplan.kernel.memblock_log  # noqa: F401
        import sratplan.machine  # noqa: F401
        import sratplan.pipeline  # noqa: F401
        import sratplan.render  # noqa: F401
        import sratplan.render.acpi_json  # noqa: F401
        import sratplan.render.acpi_text  # noqa: F401
        import sratplan.render.replay_text  # noqa: F401
        import sratplan.replay  # noqa: F401
    corpus_dir = Path(args.corpus or (HERE / "corpus"))
    seedmod.write_corpus(corpus_dir)

    def test_one(data: bytes):
        targets.run_one(data)

    def custom_mutator(data, max_size, seed):
        rnd = random.Random(seed)
        if rnd.random() < 0.25:
            out = atheris.Mutate(data, max_size)
        else:
            out = mutators.mutate(data, rnd)
        return out[:max_size]

    argv = [sys.argv[0], str(corpus_dir), f"-timeout={int(args.timeout)}", f"-rss_limit_mb={args.rss_mb}",
            f"-artifact_prefix={args.crashes.rstrip('/')}/", "-max_len=262144"] + extra
    Path(args.crashes).mkdir(parents=True, exist_ok=True)
    atheris.Setup(argv, test_one, custom_mutator=custom_mutator)
    atheris.Fuzz()
    return 0


def replay(paths, verbose: bool = False) -> int:
    """Run inputs (files, or every file of a directory) once; report crashes."""
    files = []
    for p in map(Path, paths):
        files += sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p]
    bad = 0
    outcomes: dict = {}
    for p in files:
        data = p.read_bytes()
        try:
            feat = targets.run_one(data)
        except Exception:  # noqa: BLE001
            bad += 1
            print(p, "CRASH")
            traceback.print_exc()
            continue
        outcomes[feat[:2]] = outcomes.get(feat[:2], 0) + 1
        if verbose:
            print(p, feat)
    print(f"{len(files)} input(s), {bad} crash(es); outcomes: "
          + ", ".join(f"{k[0]}:{k[1]}={v}" for k, v in sorted(outcomes.items())), file=sys.stderr)
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m fuzz.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=("mutate", "atheris"), default="mutate")
    ap.add_argument("--inputs", type=int, default=0, help="stop after this many inputs (mutate)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long (mutate)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0, help="per-input time limit, seconds")
    ap.add_argument("--rss-mb", type=int, default=3072, help="memory limit of the fuzzing process")
    ap.add_argument("--corpus", help="directory: read extra inputs from it and save new ones to it")
    ap.add_argument("--crashes", default=str(HERE / "crashes"))
    ap.add_argument("--stats", help="write running statistics (JSON) here")
    ap.add_argument("--report-every", type=float, default=30.0)
    ap.add_argument("--replay", nargs="+", metavar="PATH", help="run these inputs (files or directories) once")
    ap.add_argument("--verbose", "-v", action="store_true", help="with --replay: one line per input")
    args, extra = ap.parse_known_args(argv)
    if args.replay:
        return replay(args.replay, args.verbose)
    if args.engine == "atheris":
        return run_atheris(args, [a for a in extra if a != "--"])
    if not args.inputs and not args.seconds:
        args.inputs = 10000
    return run_mutate(args)


if __name__ == "__main__":
    sys.exit(main())
