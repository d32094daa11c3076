"""Audit throughput: machines per second over the real corpus repeated to
at least 10,000 inputs (not a timed test; run it by hand).

    python benchmarks/audit_throughput.py [--corpus fixtures/real] [--min 10000] [--jobs 2]

Three figures are printed:

* ``fleet``: ``sratplan audit`` over a tree holding the corpus's machines
  again and again (symbolic links to the corpus files, one directory per
  repetition) — the audit plans each distinct machine once;
* ``distinct``: the corpus once with de-duplication off — what every
  machine costs when no two are alike (also for the binary tables alone,
  without the acpidump/iasl text dumps);
* where the distinct time goes (cProfile, top functions by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sratplan.audit import audit, discover


def build_fleet(corpus: Path, dest: Path, minimum: int) -> int:
    """Symlink every machine of ``corpus`` into dest/rNNNN/ until there are
    at least ``minimum`` inputs; returns the number of inputs."""
    machines = discover([corpus]).inputs
    per = len(machines)
    reps = -(-minimum // per)
    for r in range(reps):
        for i, m in enumerate(machines):
            if m.kind == "sysroot":
                os.symlink(os.path.abspath(m.paths[0]), dest / f"r{r:04d}-m{i:03d}")
                continue
            d = dest / f"r{r:04d}" / f"m{i:03d}"
            d.mkdir(parents=True, exist_ok=True)
            for p in m.paths:
                os.symlink(os.path.abspath(p), d / os.path.basename(p))
    return per * reps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO / "fixtures" / "real")
    ap.add_argument("--min", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        n = build_fleet(args.corpus, Path(tmp), args.min)
        t = time.perf_counter()
        res = audit([tmp], jobs=args.jobs)
        dt = time.perf_counter() - t
        assert len(res.rows) == n, (len(res.rows), n)
        print(f"fleet:    {n} inputs ({res.unique} distinct), jobs={args.jobs}: {dt:.2f} s = {n / dt:.0f} machines/s"
              f"  [{res.errors} error rows]")

    t = time.perf_counter()
    res = audit([args.corpus], jobs=args.jobs, dedup=False)
    dt = time.perf_counter() - t
    print(f"distinct: {len(res.rows)} machines, no de-duplication, jobs={args.jobs}: {dt:.2f} s = "
          f"{len(res.rows) / dt:.1f} machines/s")

    parts = [args.corpus / d for d in ("srat", "qemu") if (args.corpus / d).is_dir()]
    if parts:
        t = time.perf_counter()
        res = audit(parts, jobs=args.jobs, dedup=False)
        dt = time.perf_counter() - t
        print(f"distinct binary-table machines only ({', '.join(p.name + '/' for p in parts)}): {len(res.rows)} "
              f"machines: {dt:.2f} s = {len(res.rows) / dt:.1f} machines/s")

    if not args.no_profile:
        prof = cProfile.Profile()
        prof.enable()
        audit([args.corpus], jobs=1, dedup=False)
        prof.disable()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25)
        print("\nwhere one process spends the distinct pass (cProfile, cumulative):")
        print("\n".join(line for line in s.getvalue().splitlines() if "sratplan" in line or "ncalls" in line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
