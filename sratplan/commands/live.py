"""``sratplan live [--sysroot DIR]``: predict for this machine (or a capture)
and compare with what its kernel did.

Exit status: 0 when every compared field agrees (managed within 0.5 % or
256 pages), 1 on any disagreement or when nothing could be compared, 2 when
the machine's tables cannot be read.
"""

from __future__ import annotations

import sys


def run(args) -> int:
    from ..live import live_report
    from ..render.live_text import render
    from ..units import parse_start_size

    kw = {}
    if args.cmdline is not None:
        kw["cmdline"] = args.cmdline
    if args.kernel is not None:
        kw["kernel"] = args.kernel
    if args.initrd:
        kw["initrd"] = parse_start_size(args.initrd, what="--initrd")
    if args.kernel_image:
        kw["kernel_image"] = parse_start_size(args.kernel_image, what="--kernel-image")
    report = live_report(args.sysroot, **kw)
    source = f"sysroot {args.sysroot}" if args.sysroot else "this machine"
    sys.stdout.write(render(report, args.format, source=source))
    if not report.checks:
        return 1
    return 0 if report.ok else 1
