"""``sratplan capture DIR``: save what live mode reads as a sysroot.

Exit status: 0 when the capture was written (notes about files that could
not be read go to stderr), 1 when it was written but a firmware table could
not be read (not root: the manifest records it, and the capture cannot be
planned), 2 on a usage error or an unreadable source.
"""

from __future__ import annotations

import argparse
import sys

from ..capture import capture
from ..live import TABLES


def build_parser(parser_class=argparse.ArgumentParser):
    p = parser_class(
        prog="sratplan capture",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Write a sysroot capture of exactly the files 'sratplan live' reads (ACPI\n"
            "NUMA tables, firmware memmap, command line, release, zoneinfo, iomem, memory\n"
            "blocks, node states, and the kernel log when readable), to be checked\n"
            "elsewhere with 'sratplan live --sysroot DIR' or 'sratplan audit DIR'."
        ),
        epilog="examples:\n  sudo sratplan capture /tmp/host42\n  sratplan live --sysroot /tmp/host42\n",
    )
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    p.add_argument("--sysroot", metavar="SRC", help="capture from SRC instead of / (re-capture a capture)")
    return p


def run(args) -> int:

    res = capture(args.dir, sysroot=args.sysroot, force=args.force)
    for n in res.notes:
        print(f"sratplan capture: note: {n}", file=sys.stderr)
    if res.unreadable:
        print(f"sratplan capture: {len(res.unreadable)} file(s) not readable: "
              + ", ".join(res.unreadable[:8]) + (" …" if len(res.unreadable) > 8 else ""), file=sys.stderr)
    print(f"sratplan capture: {len(res.written)} files written to {res.dest}; "
          f"check it anywhere with: sratplan live --sysroot {res.dest}", file=sys.stderr)
    tables = [r for r in res.unreadable if r.startswith(TABLES + "/")]
    if tables:
        print(f"sratplan capture: the firmware tables could not be read ({', '.join(tables)}): the capture "
              "cannot be planned; run it as root", file=sys.stderr)
        return 1
    return 0
