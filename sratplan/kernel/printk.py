"""The lines the simulated kernel prints (kernel/printk/printk.c's log
buffer), as the SRAT parser (drivers/acpi/numa/srat.c), numa_init
(arch/x86/mm/numa.c, mm/numa_memblks.c) and friends would print them, for all
modelled kernels (5.10-7.x).

A large machine prints one line per SRAT entry and per merged NUMA block —
thousands — and most runs never read them, so those lines keep their format
and arguments and are formatted when someone reads the log.  A KernelLog
reads like a list of strings (iteration, indexing, ``len``, ``==``)."""

from __future__ import annotations


class KernelLog:
    __slots__ = ("_items",)

    def __init__(self, lines=()):
        self._items: list = list(lines)

    def append(self, line: str) -> None:
        self._items.append(line)

    def printf(self, template: str, *args) -> None:
        """A line ``template.format(*args)``, formatted when read."""
        self._items.append((template, args))

    def extend(self, lines) -> None:
        self._items.extend(lines._items if isinstance(lines, KernelLog) else lines)

    @staticmethod
    def _text(item) -> str:
        return item if isinstance(item, str) else item[0].format(*item[1])

    def __iter__(self):
        return map(self._text, self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._text(x) for x in self._items[i]]
        return self._text(self._items[i])

    def __eq__(self, other):
        if isinstance(other, (KernelLog, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"KernelLog({list(self)!r})"
