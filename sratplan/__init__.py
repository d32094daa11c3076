"""sratplan: predict what Linux does with a machine's firmware memory tables.

Public API (imported lazily):

* ``decode(data: bytes)`` -> the model of one ACPI table
* ``read_tables(path)`` -> every table found in a file or directory
* ``load_machine(...)`` -> a frozen ``Machine``
* ``plan(machine)`` -> ``Plan``
"""

__version__ = "0.1.0"

__all__ = ["decode", "read_tables", "load_machine", "plan", "SratplanError", "__version__"]


def __getattr__(name):
    if name == "decode":
        from .acpi.tables import decode

        return decode
    if name == "read_tables":
        from .acpi.sources import read_tables

        return read_tables
    if name == "load_machine":
        from .machine import load_machine

        return load_machine
    if name == "plan":
        from .plan import plan

        return plan
    if name == "SratplanError":
        from .errors import SratplanError

        return SratplanError
    raise AttributeError(name)
