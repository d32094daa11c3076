"""sratplan: predict what Linux does with a machine's firmware memory tables.

Public API:

* ``decode(data: bytes)`` -> the model of one ACPI table
* ``read_tables(path)`` -> every table found in a file or directory
* ``load_machine(paths, ...)`` -> a frozen ``Machine``
* ``run(machine)`` -> ``Report`` (plan, findings, verdict, recommendation)
* ``with_cmdline(machine, cmdline)`` -> the ``Report`` of another command line

The names are resolved on first use (PEP 562), so that ``python -m
sratplan`` and ``import sratplan.acpi`` do not import the whole planner.
"""

from __future__ import annotations

import importlib

from .version import __version__

_API = {"decode": "acpi.tables", "read_tables": "acpi.sources", "load_machine": "machine",
        "run": "pipeline", "with_cmdline": "pipeline", "Report": "pipeline", "SratplanError": "errors"}

__all__ = [*_API, "__version__"]


def __getattr__(name):
    if name in _API:
        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
