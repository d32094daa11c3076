"""Where physical KASLR may put the kernel image.

Mirrors ``arch/x86/boot/compressed/kaslr.c`` (find_random_phys_addr,
process_e820_entries, process_mem_region) and ``arch/x86/boot/compressed/acpi.c``
(count_immovable_mem_regions) for 5.10-7.2: the decompressor reads the
firmware SRAT itself and, when it lists memory without the hot-pluggable flag
(Enabled is not checked, zero-length entries are skipped), keeps the kernel
inside those ranges.  A zero-length subtable, acpi=off, more than
2 x MAX_NUMNODES such ranges or an SRAT whose every range is hotpluggable turn
the filter off.  numa=off / numa=noacpi do not.
"""

from __future__ import annotations

import bisect
import struct

KERNEL_ALIGN = 2 << 20
MIN_ADDR = 16 << 20          # LOAD_PHYSICAL_ADDR: the lowest slot for a -kernel / GRUB load
MAXMEM = 64 << 40            # 4-level paging


def immovable_regions(srat_raw: bytes | None, *, acpi_off: bool, max_numnodes: int = 1024):
    """count_immovable_mem_regions(): (start, end) list, or None when the
    filter is off."""
    if acpi_off or not srat_raw or len(srat_raw) < 48:
        return None
    (length,) = struct.unpack_from("<I", srat_raw, 4)
    end = min(length, len(srat_raw))
    off = 48
    out = []
    while off + 2 < end:
        t, ln = srat_raw[off], srat_raw[off + 1]
        if ln == 0:
            return None
        if t == 1 and off + 40 <= len(srat_raw):
            base, size = struct.unpack_from("<QQ", srat_raw, off + 8)
            (flags,) = struct.unpack_from("<I", srat_raw, off + 28)
            if not flags & 0x2 and size:
                out.append((base, base + size))
            if len(out) >= 2 * max_numnodes:
                return None
        off += ln
    return out or None


def candidate_ranges(e820_entries, srat_raw, *, acpi_off: bool, image_size: int, mem_limit: int | None = None):
    """Physical ranges whose 2 MiB slots can hold the kernel image."""
    limit = min(MAXMEM, mem_limit) if mem_limit else MAXMEM
    imm = immovable_regions(srat_raw, acpi_off=acpi_off)
    if imm is not None:
        # the decompressor pairs every e820 entry with every immovable region
        # (process_mem_region); with both sorted by start only the regions
        # starting below an entry's end can meet it, and while the regions do
        # not overlap each other their ends are sorted too
        order = sorted(range(len(imm)), key=lambda k: imm[k])
        starts = [imm[k][0] for k in order]
        ends = [imm[k][1] for k in order]
        disjoint = all(ends[k] <= starts[k + 1] for k in range(len(order) - 1))
    out = []
    for e in e820_entries:
        if e.type != 1:
            continue
        s, t = max(e.start, MIN_ADDR), min(e.start + e.size, limit)
        pieces = [(s, t)]
        if imm is not None:
            hi = bisect.bisect_left(starts, t)
            lo = bisect.bisect_right(ends, s) if disjoint else 0
            # in the SRAT's order, as the decompressor walks them
            hits = sorted(order[k] for k in range(lo, hi) if ends[k] > s)
            pieces = [(max(s, imm[k][0]), min(t, imm[k][1])) for k in hits]
        for a, b in pieces:
            a = -(-a // KERNEL_ALIGN) * KERNEL_ALIGN
            if b - a >= image_size:
                out.append((a, b))
    return out, imm is not None
