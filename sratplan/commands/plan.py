"""``sratplan [PATH ...]``: the main job — predict the boot and report."""

from __future__ import annotations

import sys

from ..errors import UsageError

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
  sratplan SRAT --e820 memmap/ --compare "movable_node" "movablecore=50%%"

subcommands (sratplan SUBCOMMAND --help):
  decode   decode tables only            replay   re-run a memblock=debug log
  live     compare with the running kernel   capture  save what live reads
  audit    many machines at once

exit status: 0 clean, 1 error-level findings, 2 usage or unreadable input
"""


# Options taking one value, as build_parser declares them (dest, converter).
VALUE_OPTIONS = {"--e820": ("e820", str), "--cmdline": ("cmdline", str), "--boot-facts": ("boot_facts", str),
                 "--kernel": ("kernel", str), "--initrd": ("initrd", str), "--kernel-image": ("kernel_image", str),
                 "--cpus": ("cpus", int), "--format": ("format", str)}
FORMATS = ("table", "json", "markdown", "svg")


def build_parser(parser_cls=None):
    import argparse

    p = (parser_cls or argparse.ArgumentParser)(prog="sratplan", description=DESCRIPTION, epilog=EPILOG,
                                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="ACPI tables: binary, acpidump text, .dsl, or a directory")
    p.add_argument("--e820", metavar="FILE", help="e820 map: dmesg, /sys/firmware/memmap, boot_params, text or JSON")
    p.add_argument("--cmdline", metavar="STR", help="kernel command line to plan for")
    p.add_argument("--boot-facts", metavar="FILE",
                   help="boot log for loader facts only (e820, ACPI table addresses, RAMDISK, command line, CPUs)")
    p.add_argument("--kernel", metavar="V", help="kernel profile: 5.10-seed, 5.10, 6.1, 6.12 or 7.2 (default: newest)")
    p.add_argument("--initrd", metavar="START:SIZE", help="initrd placement")
    p.add_argument("--kernel-image", metavar="START:SIZE", help="kernel image reservation [_text, __end_of_kernel_reserve)")
    p.add_argument("--cpus", type=int, metavar="N", help="number of possible CPUs")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--compare", nargs="+", metavar="CMDLINE", help="plan several command lines side by side")
    p.add_argument("--example", nargs="?", const="", metavar="NAME", help="run a bundled example (no NAME: list them)")
    return p


def quick_args(argv):
    """The arguments of a plain command line (one run of paths and options
    from VALUE_OPTIONS as ``--opt VALUE`` or ``--opt=VALUE``, ``--example
    [NAME]``) parsed as build_parser's parser would parse them, or None for
    anything else (help, --compare, abbreviations, values that look like
    options, errors), which goes to argparse: setting argparse up costs
    more than planning a small machine.  tests/test_plan_cli.py checks the
    two agree."""
    from types import SimpleNamespace

    ns = {"paths": [], "e820": None, "cmdline": None, "boot_facts": None, "kernel": None, "initrd": None,
          "kernel_image": None, "cpus": None, "format": "table", "compare": None, "example": None}
    seen_paths = False
    i, n = 0, len(argv)
    while i < n:
        a = argv[i]
        if not a.startswith("-") or a == "-":
            if seen_paths or a == "-":
                return None                # argparse takes one run of paths
            while i < n and not argv[i].startswith("-"):
                ns["paths"].append(argv[i])
                i += 1
            seen_paths = True
            continue
        if a == "--example":
            if i + 1 < n and not argv[i + 1].startswith("-"):
                ns["example"] = argv[i + 1]
                i += 2
            else:
                ns["example"] = ""
                i += 1
            continue
        opt, eq, val = a.partition("=")
        spec = VALUE_OPTIONS.get(opt)
        if spec is None:
            return None
        if not eq:
            if i + 1 >= n or argv[i + 1].startswith("-"):
                return None
            val = argv[i + 1]
            i += 1
        i += 1
        dest, conv = spec
        if conv is int:
            try:
                val = int(val)
            except ValueError:
                return None
        elif dest == "format" and val not in FORMATS:
            return None
        ns[dest] = val
    return SimpleNamespace(**ns)


def _range(text, what):
    from ..units import parse_start_size

    return parse_start_size(text, what=what)


def machine_from_args(args):
    explicit = bool(args.paths or args.e820 or args.boot_facts)
    kw = dict(e820=args.e820, cmdline=args.cmdline, boot_facts=args.boot_facts, kernel=args.kernel,
              initrd=_range(args.initrd, "--initrd") if args.initrd else None,
              kernel_image=_range(args.kernel_image, "--kernel-image") if args.kernel_image else None,
              cpus=args.cpus)
    if explicit:
        from ..machine import load_machine

        return load_machine(args.paths, **kw)
    from .. import live  # only the live system needs it

    return live.load_live_machine(**kw)


def run(args) -> int:
    from ..render import plan_render

    if args.cpus is not None and args.cpus < 1:
        raise UsageError("--cpus must be at least 1")
    if args.example is not None:
        from .. import examples

        if args.example == "":
            sys.stdout.write(examples.listing())
            return 0
        ex = examples.get(args.example)
        args = examples.apply(ex, args)
    machine = machine_from_args(args)
    from ..plan import plan as make_plan

    if args.compare:
        from ..records import replace

        from ..kernel.cmdline import parse_cmdline

        plans = []
        for c in args.compare:
            cl = parse_cmdline(c, machine.profile)
            plans.append(make_plan(replace(machine, cmdline=cl, findings=tuple(
                f for f in machine.findings if f.where != "cmdline") + tuple(cl.findings))))
        sys.stdout.write(plan_render.render_compare(plans, args.format))
        worst = max((p.worst.rank if p.worst else 0) for p in plans)
        return 1 if worst >= 2 else 0
    p = make_plan(machine)
    sys.stdout.write(plan_render.render(p, args.format))
    return 1 if (p.worst is not None and p.worst.rank >= 2) else 0
