"""``sratplan replay DMESG``: re-run a memblock=debug boot log through the
memblock engine and compare allocation addresses and dump tables.

Exit status: 0 when every allocation and every dump matches, 1 on any
disagreement, 2 when the file is unreadable, not a boot log, or has no
memblock=debug trace.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import SratplanError
from ..render.replay_text import render
from ..replay import replay_file


def build_parser(parser_class=argparse.ArgumentParser):
    p = parser_class(
        prog="sratplan replay",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Re-run the memblock trace of a memblock=debug boot log through sratplan's\n"
            "memblock engine and compare every allocation address and every\n"
            "memblock_dump_all table with what the kernel printed."
        ),
        epilog="examples:\n  sratplan replay dmesg.txt\n  sratplan replay dmesg.txt --kernel 6.1 --format json\n",
    )
    p.add_argument("dmesg", metavar="DMESG")
    p.add_argument("--kernel", metavar="V", help="kernel profile (default: from the log's Linux version line)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--verbose", "-v", action="store_true", help="list every allocation, not only mismatches")
    return p


def run(args) -> int:

    try:
        result = replay_file(args.dmesg, kernel=args.kernel)
    except SratplanError as e:
        print(f"sratplan: error: {e}", file=sys.stderr)
        return 2
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=1))
        sys.stdout.write("\n")
    else:

        sys.stdout.write(render(result, verbose=getattr(args, "verbose", False)))
    return 0 if result.ok else 1
