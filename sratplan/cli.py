"""Command-line front end: argument parsing, dispatch and exit codes only.

Exit status: 0 clean; 1 bad news (error findings, disagreements); 2 usage or
unreadable/unsupported input.  Data goes to stdout, diagnostics to stderr.
Heavy modules are imported lazily so that ``sratplan --help`` stays fast;
the common ``decode`` and plan command lines do not even import argparse.
"""

from __future__ import annotations

import sys

from .errors import SratplanError, UsageError

SUBCOMMANDS = ("decode", "replay", "live", "capture", "audit")

EXIT_OK, EXIT_BAD_NEWS, EXIT_USAGE = 0, 1, 2

_parser_class = None


def _Parser(*args, **kw):  # noqa: N802 - stands for the class, created on first use
    """An argparse parser that reports errors in sratplan's style (exit 2)."""
    global _parser_class
    if _parser_class is None:
        import argparse

        class Parser(argparse.ArgumentParser):
            def error(self, message):  # argparse exits 2 itself; keep one message style
                self.print_usage(sys.stderr)
                print(f"sratplan: error: {message}", file=sys.stderr)
                raise SystemExit(EXIT_USAGE)

        _parser_class = Parser
    return _parser_class(*args, **kw)


def _fmt(p, name="table|json|markdown"):
    return p


def build_decode_parser():
    p = _Parser(
        prog="sratplan decode",
        formatter_class=_raw_formatter(),
        description=(
            "Decode ACPI SRAT, SLIT, MSCT, CEDT and HMAT tables and report what is\n"
            "wrong with them.  PATH may be a binary table (/sys/firmware/acpi/tables/SRAT,\n"
            "acpidump -b / acpixtract .dat), acpidump text output, an iasl -d .dsl file\n"
            "(its Raw Table Data block) or a directory of binary tables."
        ),
        epilog=(
            "examples:\n"
            "  sratplan decode /sys/firmware/acpi/tables/SRAT\n"
            "  sratplan decode acpidump.txt --format json\n"
            "  sratplan decode srat.dsl slit.dat\n"
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.add_argument("--table", action="append", metavar="SIG",
                   help="only tables with this signature (repeatable)")
    return p


_DECODE_FORMATS = ("table", "json", "markdown")


def quick_decode_args(rest):
    """The arguments of a plain ``decode`` command line (one run of paths,
    ``--format F``/``--format=F``, ``--table SIG``/``--table=SIG``) parsed
    as the decode parser would, or None for anything else (help, errors,
    abbreviations, interleaved paths), which goes to argparse.  Setting up
    argparse costs more than decoding a small table."""
    from types import SimpleNamespace

    paths, fmt, tables = [], "table", None
    i, n = 0, len(rest)
    while i < n:
        a = rest[i]
        if not a.startswith("-"):
            if paths:  # argparse takes one run of paths and rejects a second
                return None
            while i < n and not rest[i].startswith("-"):
                paths.append(rest[i])
                i += 1
            continue
        if a in ("--format", "--table") and i + 1 < n and not rest[i + 1].startswith("-"):
            opt, val = a, rest[i + 1]
            i += 2
        elif a.startswith(("--format=", "--table=")):
            opt, val = a.split("=", 1)
            i += 1
        else:
            return None
        if opt == "--format":
            if val not in _DECODE_FORMATS:
                return None
            fmt = val
        else:
            tables = [*(tables or ()), val]
    if not paths:
        return None
    return SimpleNamespace(paths=paths, format=fmt, table=tables)


def _raw_formatter():
    import argparse

    return argparse.RawDescriptionHelpFormatter


def run_decode(args) -> int:
    from .commands import decode as cmd

    return cmd.run(args)


def build_replay_parser():
    p = _Parser(
        prog="sratplan replay",
        formatter_class=_raw_formatter(),
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


def run_replay(args) -> int:
    from .commands import replay as cmd

    return cmd.run(args)


def build_live_parser():
    p = _Parser(
        prog="sratplan live",
        formatter_class=_raw_formatter(),
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


def run_live(args) -> int:
    from .commands import live as cmd

    return cmd.run(args)


def build_capture_parser():
    p = _Parser(
        prog="sratplan capture",
        formatter_class=_raw_formatter(),
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


def run_capture(args) -> int:
    from .commands import capture as cmd

    return cmd.run(args)


def build_audit_parser():
    p = _Parser(
        prog="sratplan audit",
        formatter_class=_raw_formatter(),
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
    p.add_argument("--kernel", metavar="V", help="kernel profile: 5.10-seed, 5.10, 6.1, 6.12 or 7.2 (default: newest)")
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return p


def run_audit(args) -> int:
    from .commands import audit as cmd

    return cmd.run(args)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            name, rest = argv[0], argv[1:]
            builder = globals().get(f"build_{name}_parser")
            runner = globals().get(f"run_{name}")
            if builder is None or runner is None:
                print(f"sratplan: '{name}' is not available yet", file=sys.stderr)
                return EXIT_USAGE
            args = quick_decode_args(rest) if name == "decode" else None
            if args is None:
                args = builder().parse_args(rest)
            return runner(args)
        from .commands import plan as cmd

        args = cmd.quick_args(argv)
        if args is None:
            args = cmd.build_parser(_Parser).parse_args(argv)
        return cmd.run(args)
    except UsageError as e:
        print(f"sratplan: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except SratplanError as e:
        print(f"sratplan: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
