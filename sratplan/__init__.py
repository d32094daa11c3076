"""sratplan: predict what Linux does with a machine's firmware memory tables.

Public API:

* ``decode(data: bytes)`` -> the model of one ACPI table
* ``read_tables(path)`` -> every table found in a file or directory
* ``load_machine(paths, ...)`` -> a frozen ``Machine``
* ``run(machine)`` -> ``Report`` (plan, findings, verdict, recommendation)
"""

from .acpi.sources import read_tables  # noqa: E402
from .acpi.tables import decode  # noqa: E402
from .errors import SratplanError  # noqa: E402
from .machine import load_machine  # noqa: E402
from .pipeline import Report, run, with_cmdline  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ["decode", "read_tables", "load_machine", "run", "with_cmdline", "Report", "SratplanError",
           "__version__"]
