"""``sratplan audit PATH ...``: one row per machine, then a summary.

Exit status: 0 when every input was processed (verdicts are data), 1 when
some inputs could not be read, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time

from ..audit import audit
from ..errors import UsageError
from ..kernel.profile import get_profile
from ..render.audit_render import render


def build_parser(parser_class=argparse.ArgumentParser):
    p = parser_class(
        prog="sratplan audit",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Plan many machines at once: one row per input with its nodes, RAM,\n"
            "hotpluggable and predicted Movable memory, verdict and top findings, then\n"
            "counts by verdict and by finding code.  PATH may be an acpidump file, a\n"
            "binary table, a sysroot capture, or a directory of them (searched\n"
            "recursively; sibling NAME.SRAT/NAME.SLIT/... files form one machine)."
        ),
        epilog=(
            "examples:\n"
            "  sratplan audit dumps/ --jobs 8\n"
            "  sratplan audit captures/ --cmdline movable_node --format csv > fleet.csv\n"
            "\nexit status: 0 every input processed, 1 some inputs could not be read, 2 usage\n"
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--format", choices=("table", "json", "jsonl", "csv", "markdown"), default="table")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--cmdline", metavar="STR",
                   help="plan every machine with this command line (default: each machine's own, "
                        "and the recommended one for the Movable column)")
    p.add_argument("--kernel", metavar="V", help="kernel profile: 5.10, 6.1, 6.12 or 7.2 (default: newest)")
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return p


class _Progress:
    """A progress line on stderr, shown once the audit takes more than a
    moment: rewritten in place on a terminal, every few seconds otherwise."""
    def __init__(self, stream=None, after: float = 1.0):
        self.stream, self.after = (stream if stream is not None else sys.stderr), after
        self.t0 = time.monotonic()
        self.last = 0.0
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.shown = False

    def __call__(self, done: int, total: int):
        now = time.monotonic() - self.t0
        if now < self.after or (now - self.last < (0.2 if self.tty else 5.0) and done != total):
            return
        self.last = now
        rate = done / now if now else 0.0
        msg = f"sratplan audit: {done}/{total} machines, {rate:.0f}/s"
        if self.tty:
            self.stream.write("\r" + msg + ("\n" if done == total else ""))
        else:
            self.stream.write(msg + "\n")
        self.stream.flush()
        self.shown = True


def run(args) -> int:

    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (all cores) or more")
    if args.kernel is not None:
        get_profile(args.kernel)  # a bad name is a usage error before any work
    prog = None if args.no_progress else _Progress()
    res = audit(args.paths, cmdline=args.cmdline, kernel=args.kernel, jobs=args.jobs, progress=prog)
    if not res.rows:
        raise UsageError("no ACPI tables, acpidump files or sysroot captures found in "
                         + ", ".join(args.paths))
    sys.stdout.write(render(res, args.format))
    s = res.summary()
    if args.format in ("jsonl", "csv"):
        print(f"sratplan audit: {s['machines']} machines, {s['errors']} unreadable, "
              + ", ".join(f"{v} {k}" for k, v in s["by_verdict"].items()), file=sys.stderr)
    return 1 if res.errors else 0
