"""``sratplan [PATH ...]``: the main job — predict the boot and report."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from .. import pipeline, render
from ..errors import UsageError
from ..kernel.cmdline import format_cmdline, split_args
from ..kernel.profile import PROFILES
from ..machine import load_machine
from ..units import parse_start_size
from ..version import __version__

DESCRIPTION = """\
Predict what Linux does at boot with this machine's firmware memory tables:
which memory keeps its hotplug flag, where NUMA nodes and zones land, which
memory blocks could be offlined and hot-removed, and what command line to use.

PATH may be a binary ACPI table (/sys/firmware/acpi/tables/SRAT), acpidump
text output, an iasl -d .dsl file or a directory of tables.  With no PATH
and no input option the running system is read (Linux, as root).
"""

EPILOG = """\
examples:
  sratplan --example                       list the bundled examples
  sratplan --example qemu-2node-hotplug    run one of them
  sudo sratplan                            this machine
  sratplan /sys/firmware/acpi/tables/SRAT --cmdline "movable_node"
  sratplan acpidump.txt --boot-facts dmesg.txt --format json
  sratplan SRAT --e820 memmap/ --compare "" "movable_node" "movablecore=50%"
  sratplan dmesg.txt --compare-kernels 5.10-seed 7.2    what moving to a current kernel changes

subcommands (sratplan SUBCOMMAND --help):
  decode   decode tables only            replay   re-run a memblock=debug log
  live     compare with the running kernel   capture  save what live reads
  audit    many machines at once

exit status: 0 clean, 1 error-level findings, 2 usage or unreadable input
"""


FORMATS = render.FORMATS


def build_parser(parser_class=argparse.ArgumentParser):
    p = parser_class(prog="sratplan", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="ACPI tables: binary, acpidump text, .dsl, or a directory")
    p.add_argument("--e820", metavar="FILE", help="e820 map: dmesg, /sys/firmware/memmap, boot_params, text or JSON")
    p.add_argument("--cmdline", metavar="STR", help="kernel command line to plan for (the baseline of --compare)")
    p.add_argument("--boot-facts", metavar="FILE",
                   help="boot log for loader facts only (e820, ACPI table addresses, RAMDISK, command line, CPUs)")
    p.add_argument("--kernel", metavar="V", help="kernel profile: " + ", ".join(PROFILES) + " (default: newest)")
    p.add_argument("--initrd", metavar="START:SIZE", help="initrd placement")
    p.add_argument("--kernel-image", metavar="START:SIZE", help="kernel image reservation [_text, __end_of_kernel_reserve)")
    p.add_argument("--cpus", type=int, metavar="N", help="number of possible CPUs")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--compare", nargs="+", metavar="CHANGE",
                   help="plan the baseline command line with each CHANGE applied, side by side: parameters are "
                        "set (replacing the same name), '~name' removes one, \"\" is the baseline itself")
    p.add_argument("--compare-kernels", nargs="+", metavar="V",
                   help="plan the same machine for each kernel profile, side by side (e.g. 5.10-seed 7.2)")
    p.add_argument("--example", nargs="?", const="", metavar="NAME", help="run a bundled example (no NAME: list them)")
    p.add_argument("--version", action="version", version=f"sratplan {__version__}")
    return p


# the running machine's own tables: a PATH there means this machine
LIVE_TABLES = "/sys/firmware/acpi/tables"


def _live_tables(paths) -> bool:
    root = os.path.realpath(LIVE_TABLES)
    return bool(paths) and os.path.isdir(root) and all(
        os.path.realpath(p) == root or os.path.realpath(p).startswith(root + os.sep) for p in paths)


def machine_from_args(args):
    explicit = bool(args.paths or args.e820 or args.boot_facts)
    kw = dict(e820=args.e820, cmdline=args.cmdline, boot_facts=args.boot_facts, kernel=args.kernel,
              initrd=parse_start_size(args.initrd, what="--initrd") if args.initrd else None,
              kernel_image=parse_start_size(args.kernel_image, what="--kernel-image") if args.kernel_image else None,
              cpus=args.cpus)
    if explicit and not (_live_tables(args.paths) and not args.e820 and not args.boot_facts):
        return load_machine(args.paths, **kw)
    # the running system's readers are needed only for the running system
    from .. import live

    sysroot = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(LIVE_TABLES)))))
    m = live.load_live_machine(sysroot=None if sysroot == "/" else sysroot, **kw)
    if explicit:
        m = dataclasses.replace(m, assumptions=m.assumptions + (
            f"{', '.join(args.paths)} is this machine's firmware: its memory map, command line, kernel "
            "release and boot log were read from the running system too",))
    return m


def apply_change(baseline: str, change: str) -> str:
    """The baseline command line with one --compare CHANGE applied."""
    words = split_args(change)[0]
    remove = [n[1:] for n, v in words if n.startswith("~") and v is None]
    set_ = {n: v for n, v in words if not n.startswith("~")}
    return format_cmdline(baseline, set=set_, remove=remove)


def run(args) -> int:
    if args.cpus is not None and args.cpus < 1:
        raise UsageError("--cpus must be at least 1")
    if args.example is not None:
        # importlib.resources costs a plan without --example ~18 ms
        from .. import examples

        if args.example == "":
            sys.stdout.write(examples.listing())
            return 0
        if args.paths or args.e820 or args.boot_facts:
            raise UsageError("--example plans a bundled machine: give either --example NAME or PATH/--e820/"
                             "--boot-facts, not both")
        args = examples.apply(examples.get(args.example), args)
    machine = machine_from_args(args)
    fmt = render.formatter(args.format)
    if args.compare and args.compare_kernels:
        raise UsageError("--compare and --compare-kernels: give one of them")
    if args.compare_kernels:
        reports = [pipeline.with_kernel(machine, k, options=False) for k in args.compare_kernels]
        labels = [f"profile {r.plan.kernel}" for r in reports]
        sys.stdout.write(fmt.compare(reports, labels))
        return 1 if any(r.bad_news for r in reports) else 0
    if args.compare:
        base = machine.cmdline.raw
        reports = [pipeline.with_cmdline(machine, apply_change(base, c), advise=True, options=False)
                   for c in args.compare]
        labels = [c if c else f"(baseline) {base}".rstrip() for c in args.compare]
        sys.stdout.write(fmt.compare(reports, labels))
        return 1 if any(r.bad_news for r in reports) else 0
    report = pipeline.run(machine)
    sys.stdout.write(fmt.plan(report))
    return 1 if report.bad_news else 0
