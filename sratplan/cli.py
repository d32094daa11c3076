"""Command-line front end: a table of subcommands, dispatch and exit codes.

Each ``commands/<name>.py`` owns its argument parser (``build_parser``) and
its ``run(args) -> int``; the main job (``sratplan [PATH ...]``) is
``commands/plan.py`` and takes no subcommand word.

Exit status: 0 clean; 1 bad news (error findings, disagreements); 2 usage or
unreadable/unsupported input.  Data goes to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import SratplanError

EXIT_OK, EXIT_BAD_NEWS, EXIT_USAGE = 0, 1, 2

# subcommand word -> module under sratplan/commands (the main job is "plan")
SUBCOMMANDS = {"decode": "decode", "replay": "replay", "live": "live", "capture": "capture", "audit": "audit"}


class Parser(argparse.ArgumentParser):
    """argparse with sratplan's one message style for usage errors (exit 2)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"sratplan: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = SUBCOMMANDS.get(argv[0]) if argv else None
    if name is not None:
        argv = argv[1:]
    # only the chosen command's modules are imported: the main job needs
    # neither the fleet audit (multiprocessing) nor the live-system readers
    command = importlib.import_module(f".commands.{name or 'plan'}", __package__)
    try:
        args = command.build_parser(Parser).parse_args(argv)
        return command.run(args)
    except SratplanError as e:
        print(f"sratplan: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
