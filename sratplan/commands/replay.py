"""``sratplan replay DMESG``: re-run a memblock=debug boot log through the
memblock engine and compare allocation addresses and dump tables.

Exit status: 0 when every allocation and every dump matches, 1 on any
disagreement, 2 when the file is unreadable, not a boot log, or has no
memblock=debug trace.
"""

from __future__ import annotations

import sys

from ..errors import SratplanError
from ..render import jsontext


def run(args) -> int:
    from ..replay import replay_file

    try:
        result = replay_file(args.dmesg, kernel=args.kernel)
    except SratplanError as e:
        print(f"sratplan: error: {e}", file=sys.stderr)
        return 2
    if args.format == "json":
        sys.stdout.write(jsontext.dumps(result.to_json(), 1))
        sys.stdout.write("\n")
    else:
        from ..render.replay_text import render

        sys.stdout.write(render(result, verbose=getattr(args, "verbose", False)))
    return 0 if result.ok else 1
