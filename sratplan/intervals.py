"""Half-open address intervals ``[start, end)``: union, subtraction, overlap
and a sorted index for "what overlaps this range?" queries.

The one place sratplan merges, subtracts or searches ranges of addresses or
pfns; kernel models call these where the kernel itself walks sorted region
arrays (memblock_add_range's merging, for_each_free_mem_range's gaps).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable


def union(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with overlapping and touching intervals merged and empty ones
    dropped."""
    out: list[list[int]] = []
    for s, e in sorted(ranges):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def subtract(start: int, end: int, cover: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pieces of ``[start, end)`` that no interval of ``cover`` (sorted by
    start; they may overlap) covers, in address order."""
    out = []
    cur = start
    for s, e in cover:
        if e <= cur:
            continue
        if s >= end:
            break
        if s > cur:
            out.append((cur, s))
        cur = max(cur, e)
        if cur >= end:
            break
    if cur < end:
        out.append((cur, end))
    return out


def subtract_all(ranges: Iterable[tuple[int, int]], cover: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every piece of ``ranges`` outside ``cover``, in address order."""
    cov = union(cover)
    out = []
    for s, e in sorted(ranges):
        i = max(0, bisect.bisect_right(cov, (s,)) - 1)
        out.extend(subtract(s, e, cov[i:]))
    return out


def overlap(a: Iterable[tuple[int, int]], b: Iterable[tuple[int, int]]) -> int:
    """How much of ``a`` lies inside ``b`` (each taken as a union)."""
    ua, ub = union(a), union(b)
    tot, j = 0, 0
    for s, e in ua:
        while j < len(ub) and ub[j][1] <= s:
            j += 1
        k = j
        while k < len(ub) and ub[k][0] < e:
            tot += min(e, ub[k][1]) - max(s, ub[k][0])
            k += 1
    return tot


def covers(merged: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when one interval of ``merged`` (a :func:`union`) holds all of
    ``[start, end)``."""
    i = bisect.bisect_right(merged, (start, float("inf"))) - 1
    return i >= 0 and merged[i][0] <= start and merged[i][1] >= end


class IntervalIndex:
    """Intervals with a payload, sorted by start, answering "which overlap
    ``[s, e)``?" in logarithmic time (a plan of a 2,000-range machine asks it
    thousands of times)."""

    def __init__(self, items: Iterable[tuple[int, int, object]]):
        self.items = sorted(items, key=lambda t: (t[0], t[1]))
        self.starts = [i[0] for i in self.items]
        self.maxend = []
        mx = 0
        for _s, e, _p in self.items:
            mx = max(mx, e)
            self.maxend.append(mx)

    def overlapping(self, s: int, e: int) -> list[tuple[int, int, object]]:
        k = bisect.bisect_left(self.starts, e)
        out = []
        for i in range(k - 1, -1, -1):
            if self.maxend[i] <= s:
                break
            a, b, p = self.items[i]
            if b > s:
                out.append((a, b, p))
        out.reverse()
        return out

    def any(self, s: int, e: int) -> bool:
        k = bisect.bisect_left(self.starts, e)
        return k > 0 and self.maxend[k - 1] > s

    def payloads(self, s: int, e: int) -> set:
        return {p for _a, _b, p in self.overlapping(s, e)}
