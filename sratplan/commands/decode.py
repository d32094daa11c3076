"""``sratplan decode PATH...``: decode ACPI tables and report their findings.

Exit status: 0 clean, 1 when any error-level finding was reported, 2 when an
input could not be read or decoded at all (the other inputs are still shown).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..acpi.checks import check_tables
from ..acpi.sources import TableSet, read_tables
from ..errors import SratplanError
from ..render.acpi_json import document
from ..render.acpi_text import render_tableset


def build_parser(parser_class=argparse.ArgumentParser):
    p = parser_class(
        prog="sratplan decode",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


# Severity is a str enum: comparing with its value spares importing the
# findings module (and dataclasses, enum) when no table has a finding.
_ERROR = "error"


def run(args) -> int:

    only = {s.upper() for s in args.table} if getattr(args, "table", None) else None
    sets, errors = [], []
    for p in args.paths:
        try:
            sets.append(read_tables(p))
        except SratplanError as e:
            errors.append({"path": p, "error": str(e)})
            print(f"sratplan: error: {e}", file=sys.stderr)
    if len(sets) > 1:
        # tables from different files meet only here: check them together, as the planner does
        known = [f for ts in sets for f in ts.findings]
        cross = [f for f in check_tables([t for ts in sets for t in ts.tables]) if f not in known]
        if cross:
            sets.append(TableSet(tables=(), findings=tuple(cross), source="the inputs together",
                                 format="cross-check"))
    if args.format == "json":


        sys.stdout.write(json.dumps(document(sets, errors, only), indent=1))
        sys.stdout.write("\n")
    else:

        for i, ts in enumerate(sets):
            if i:
                sys.stdout.write("\n")
            sys.stdout.write(render_tableset(ts, args.format, only))
    bad = any(f.severity == _ERROR
              for ts in sets for f in ts.all_findings()
              if not only or f.table is None or f.table in only)
    nerr = sum(1 for ts in sets for f in ts.all_findings() if f.severity == _ERROR)
    if sets:
        print(f"sratplan decode: {sum(len(ts) for ts in sets)} table(s) from {len(args.paths)} input(s), "
              f"{nerr} error finding(s)", file=sys.stderr)
    if errors:
        return 2
    return 1 if bad else 0
