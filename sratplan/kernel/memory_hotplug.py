"""Offlining boot memory blocks: which ``echo offline > memoryN/state`` the
kernel can carry out right after boot, and why not.

Mirrors ``mm/memory_hotplug.c:offline_pages`` (5.10, 6.1, 6.12, 7.2) as
``drivers/base/memory.c:memory_subsys_offline`` reaches it:

* a block that spans two zones or nodes has no single zone
  (``test_pages_in_a_zone`` / ``mem->zone`` is NULL): -EINVAL;
* a block with holes (not all System RAM, ``walk_system_ram_range`` counts
  fewer pages): -EINVAL, "memory holes";
* ``start_isolate_page_range`` fails on an unmovable page: -EBUSY, "failure
  to isolate range".  In ZONE_MOVABLE only memblock-reserved pages are
  unmovable (NODE_DATA, memmap, per-CPU chunks, page tables and other boot
  data that stays reserved); in the kernel zones every slab, page-table or
  other unmovable allocation made after boot blocks it as well, so nothing
  is guaranteed there — but a block that holds no boot reservation *may* go
  offline (the captures show the first DMA32 block of a second node going
  offline in some boots of one machine and not in others).
* block 0 is never offlined (it holds the zero page and the BIOS area).

The real-kernel evidence is ``fixtures/kernel/offline/`` (tests/test_offline_truth.py).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from ..intervals import union
from ..units import PAGE_SIZE

# Outcome of an offline attempt right after boot
YES, MAYBE, NO = "yes", "maybe", "no"


@dataclass(frozen=True)
class OfflineRun:
    """Consecutive boot blocks with the same nodes, valid_zones and offline
    outcome.  ``offlinable`` is YES (guaranteed: ZONE_MOVABLE, no boot data),
    MAYBE (a kernel zone with no boot data in it) or NO, with ``why``."""

    first: int
    last: int
    nodes: tuple
    node: int
    valid_zones: str
    offlinable: str
    why: str | None
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def persistent_reservations(reserved, initrd) -> list[tuple[int, int]]:
    """memblock.reserved ranges that stay reserved after boot: everything but
    the initrd, which free_initrd_mem() gives back."""
    out = []
    rd_end = ((initrd[1] + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) if initrd else None
    for s, e in reserved:
        if initrd and initrd[0] <= s and e <= rd_end:
            continue
        out.append((s, e))
    return out


def offline_runs(block_runs, *, memory, reserved, initrd, block_size) -> list[OfflineRun]:
    """Split the boot blocks (``memory_blocks.compute_blocks`` runs) by whether
    each could be offlined after boot.  ``memory`` is memblock.memory as
    (start, end) pairs, ``reserved`` memblock.reserved after boot."""
    bshift = block_size.bit_length() - 1
    busy = set()
    for s, e in persistent_reservations(reserved, initrd):
        busy.update(range(s >> bshift, ((e - 1) >> bshift) + 1))
    ram = union(memory)
    ram_starts = [s for s, _ in ram]

    def full_ram(b):
        s, e = b << bshift, (b + 1) << bshift
        i = bisect.bisect_right(ram_starts, s) - 1
        return i >= 0 and ram[i][1] >= e

    # blocks that need a look of their own: boot data or a memory-range edge
    special = set(busy)
    for rs, re_ in memory:
        special.add(rs >> bshift)
        special.add((re_ - 1) >> bshift)
    special_sorted = sorted(special)

    def verdict(r, b):
        if r.valid_zones == "none":
            return NO, "spans several zones or nodes (EINVAL)"
        if b == 0:
            return NO, "block 0"
        if not full_ram(b):
            return NO, "memory holes (EINVAL)"
        if b in busy:
            return NO, "holds boot-time reserved pages (NODE_DATA, memmap, per-CPU or other memblock data)"
        if r.valid_zones != "Movable":
            return MAYBE, (f"{r.valid_zones} block: nothing unmovable was placed there at boot, but kernel "
                           "allocations made later may pin it")
        return YES, None

    out: list[OfflineRun] = []

    def emit(a, z, r, v):
        ok, why = v
        prev = out[-1] if out else None
        if prev and prev.last == a - 1 and (prev.nodes, prev.node, prev.valid_zones, prev.offlinable, prev.why) == \
                (r.nodes, r.node, r.valid_zones, ok, why):
            out[-1] = OfflineRun(prev.first, z, r.nodes, r.node, r.valid_zones, ok, why, prev.start,
                                 (z + 1) << bshift)
        else:
            out.append(OfflineRun(a, z, r.nodes, r.node, r.valid_zones, ok, why, a << bshift, (z + 1) << bshift))

    for r in block_runs:
        cur = r.first
        i = bisect.bisect_left(special_sorted, cur)
        while cur <= r.last:
            nxt = special_sorted[i] if i < len(special_sorted) else None
            if nxt == cur:
                emit(cur, cur, r, verdict(r, cur))
                cur += 1
                i += 1
                continue
            end = r.last if nxt is None or nxt > r.last else nxt - 1
            emit(cur, end, r, verdict(r, cur))
            cur = end + 1
    return out
