"""``sratplan capture DIR``: save what live mode reads as a sysroot.

Exit status: 0 when the capture was written (notes about files that could
not be read go to stderr), 2 on a usage error or an unreadable source.
"""

from __future__ import annotations

import sys


def run(args) -> int:
    from ..capture import capture

    res = capture(args.dir, sysroot=args.sysroot, force=args.force)
    for n in res.notes:
        print(f"sratplan capture: note: {n}", file=sys.stderr)
    if res.unreadable:
        print(f"sratplan capture: {len(res.unreadable)} file(s) not readable: "
              + ", ".join(res.unreadable[:8]) + (" …" if len(res.unreadable) > 8 else ""), file=sys.stderr)
    print(f"sratplan capture: {len(res.written)} files written to {res.dest}; "
          f"check it anywhere with: sratplan live --sysroot {res.dest}", file=sys.stderr)
    return 0
