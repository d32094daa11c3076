"""``sratplan live [--sysroot DIR]``: predict for this machine (or a capture)
and compare with what its kernel did.

Exit status: 0 when every compared field agrees (managed within 0.5 % or
256 pages), 1 on any disagreement or when nothing could be compared, 2 when
the machine's tables cannot be read.
"""

from __future__ import annotations

import argparse
import sys

from ..live import live_report
from ..render.live_text import render
from ..units import parse_start_size


def build_parser(parser_class=argparse.ArgumentParser):
    p = parser_class(
        prog="sratplan live",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Predict the boot of this machine (or of a capture made with 'sratplan capture')\n"
            "and compare it with what the running kernel did: /proc/zoneinfo,\n"
            "/sys/devices/system/memory and /sys/devices/system/node.  Every disagreement\n"
            "is listed; managed pages are compared within 0.5 % or 256 pages."
        ),
        epilog=(
            "examples:\n"
            "  sudo sratplan live\n"
            "  sratplan live --sysroot capture-host42/ --format json\n"
            "\nexit status: 0 agree, 1 disagreement (or nothing to compare), 2 unreadable input\n"
        ),
    )
    p.add_argument("--sysroot", metavar="DIR", help="read everything below DIR instead of / (a capture)")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.add_argument("--cmdline", metavar="STR", help="override /proc/cmdline")
    p.add_argument("--kernel", metavar="V", help="kernel profile (default: from the running kernel's release)")
    p.add_argument("--initrd", metavar="START:SIZE", help="initrd placement (default: from the boot log)")
    p.add_argument("--kernel-image", metavar="START:SIZE",
                   help="kernel reservation (default: from /proc/iomem when readable)")
    return p


def run(args) -> int:

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
