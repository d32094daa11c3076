"""Synthetic SRATs for benchmarks: N nodes, R memory ranges, C CPUs.

Tables are built with struct (ACPI 6.x layouts, actbl3.h) and carry a valid
checksum; e820 maps to match are written as plain text."""

from __future__ import annotations

import struct


def _checksum(b: bytearray) -> bytearray:
    b[9] = 0
    b[9] = (-sum(b)) & 0xFF
    return b


def srat(nodes: int, ranges: int, cpus: int, total: int, *, hotplug_nodes=(), x2apic: bool = True,
         lowmem: int = 2 << 30) -> tuple[bytes, list]:
    """Memory is laid out from 4 GiB up, split evenly into ``ranges`` ranges
    spread round-robin... in address order node by node; node 0 also gets
    [0, lowmem).  Returns (table bytes, RAM ranges)."""
    subs = bytearray()
    for c in range(cpus):
        node = c * nodes // max(cpus, 1)
        if x2apic:
            subs += struct.pack("<BBHIIIII", 2, 24, 0, node, c, 1, 0, 0)
        else:
            subs += struct.pack("<BBBBIB3sI", 0, 16, node & 0xFF, c & 0xFF, 1, 0, bytes(3), 0)
    ram = []
    per_node = max(ranges // nodes, 1)
    high = total - lowmem
    per_range = (high // (nodes * per_node)) & ~((128 << 20) - 1)
    mem = [(0, 0, lowmem)]
    base = 4 << 30
    for n in range(nodes):
        for _ in range(per_node):
            mem.append((n, base, per_range))
            base += per_range
    for n, b, size in mem:
        flags = 1 | (2 if n in hotplug_nodes else 0)
        subs += struct.pack("<BBIHQQIIQ", 1, 40, n, 0, b, size, 0, flags, 0)
        ram.append((b, size))
    hdr = bytearray(b"SRAT" + struct.pack("<I", 48 + len(subs)) + bytes([3, 0]) + b"SYNTH " + b"SRATPLAN"
                    + struct.pack("<I", 1) + b"SYNT" + struct.pack("<I", 1))
    hdr += struct.pack("<IQ", 1, 0)
    return bytes(_checksum(hdr + subs)), ram


def e820_text(ram) -> str:
    lines = ["0x0+0x9fc00 usable", "0x9fc00+0x400 reserved", "0xf0000+0x10000 reserved"]
    for b, size in ram:
        if b == 0:
            lines.append(f"0x100000+{size - 0x100000:#x} usable")
        else:
            lines.append(f"{b:#x}+{size:#x} usable")
    return "\n".join(lines) + "\n"
