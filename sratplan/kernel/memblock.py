"""The early boot allocator: a model of Linux's ``mm/memblock.c``.

Mirrors, for the kernels in :mod:`sratplan.kernel.profile` (5.10.223, also
with the pre-5.11 kernel_end rule restored, 6.1.192, 6.12.117, 7.2.13 --
checked against the Debian source packages of each):

* the region arrays ``memblock.memory`` / ``memblock.reserved`` and their
  editing primitives: ``memblock_add_range`` (insert the uncovered parts, then
  ``memblock_merge_regions``), ``memblock_isolate_range``,
  ``memblock_remove_range``, ``memblock_setclr_flag``, ``memblock_set_node``,
  ``memblock_trim_memory`` and ``memblock_double_array``;
* the free-range walk ``__next_mem_range[_rev]`` with ``should_skip_region``;
* ``memblock_find_in_range_node`` (top-down / bottom-up, the 4 KiB floor, the
  current limit; up to 5.10 mainline, bottom-up above the kernel image with
  a warned top-down retry) and the allocation entry points ``memblock_alloc_range_nid``,
  ``memblock_alloc_internal`` and their wrappers (``memblock_phys_alloc_range``,
  ``memblock_phys_alloc_try_nid``, ``memblock_alloc_try_nid[_raw]``,
  ``memblock_alloc_exact_nid_raw``, ``memblock_alloc``, ``memblock_alloc_low``);
* ``memblock_dump_all`` output, byte for byte.

Version differences (default nids, ``numa_valid_node`` checks, the RSRV_KERN
reservation of 7.x allocations, empty-array dummy entries, the optional
"bottom-up starts above the kernel" rule) are read from the profile.

Addresses are plain ints; like the kernel, address 0 means "allocation failed".
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

from ..units import PAGE_SIZE
from .profile import MAX_NUMNODES_DEBIAN, KernelProfile

NUMA_NO_NODE = -1
SMP_CACHE_BYTES = 64                      # x86_64 L1_CACHE_BYTES (Debian config)
PHYS_ADDR_MAX = (1 << 64) - 1
MEMBLOCK_ALLOC_ANYWHERE = PHYS_ADDR_MAX   # include/linux/memblock.h
MEMBLOCK_ALLOC_ACCESSIBLE = 0
MEMBLOCK_ALLOC_NOLEAKTRACE = 1            # MEMBLOCK_ALLOC_KASAN in 5.10: same value, same meaning here
MEMBLOCK_LOW_LIMIT = 0
ARCH_LOW_ADDRESS_LIMIT = 0xFFFFFFFF
INIT_MEMBLOCK_REGIONS = 128               # mm/memblock.c: initial size of both region arrays

# enum memblock_flags (include/linux/memblock.h); the values never changed.
MEMBLOCK_NONE = 0x0
MEMBLOCK_HOTPLUG = 0x1
MEMBLOCK_MIRROR = 0x2
MEMBLOCK_NOMAP = 0x4
MEMBLOCK_DRIVER_MANAGED = 0x8
MEMBLOCK_RSRV_NOINIT = 0x10
MEMBLOCK_RSRV_KERN = 0x20
MEMBLOCK_KHO_SCRATCH = 0x40


@dataclass(frozen=True, slots=True)
class Region:
    """One ``struct memblock_region``: ``[base, base + size)`` with flags and nid."""

    base: int
    size: int
    flags: int = 0
    nid: int = MAX_NUMNODES_DEBIAN

    @property
    def end(self) -> int:
        return self.base + self.size


def _region_maker():
    # Region(b, s, f, n) without the frozen __init__: the slots are
    # filled through their descriptors (views of 2,000-region arrays are
    # taken many times per plan).
    new = object.__new__
    sets = [Region.__dict__[n].__set__ for n in ("base", "size", "flags", "nid")]

    def make(b, s, f, n, new=new, cls=Region, sb=sets[0], ss=sets[1], sf=sets[2], sn=sets[3]):
        r = new(cls)
        sb(r, b)
        ss(r, s)
        sf(r, f)
        sn(r, n)
        return r

    return make


_region = _region_maker()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Immutable copy of the allocator state (see :meth:`Memblock.snapshot`)."""

    memory: tuple[Region, ...]
    reserved: tuple[Region, ...]
    memory_size: int
    reserved_size: int
    bottom_up: bool
    current_limit: int


class _Type:
    """A ``struct memblock_type``: parallel lists kept sorted by base.

    ``total_size`` follows the kernel's bookkeeping exactly, including the
    quirk that ``memblock_trim_memory`` shrinks regions without updating it.
    """

    __slots__ = ("array", "base", "flags", "max", "name", "nid", "size", "total_size")

    def __init__(self, name: str):
        self.name = name
        self.base: list[int] = []
        self.size: list[int] = []
        self.flags: list[int] = []
        self.nid: list[int] = []
        self.total_size = 0
        self.max = INIT_MEMBLOCK_REGIONS
        self.array: tuple[int, int] | None = None   # memblock-allocated array (addr, size)

    def __len__(self) -> int:
        return len(self.base)

    def region(self, i: int) -> Region:
        return _region(self.base[i], self.size[i], self.flags[i], self.nid[i])

    def regions(self) -> tuple[Region, ...]:
        return tuple(map(_region, self.base, self.size, self.flags, self.nid))

    def insert(self, i: int, base: int, size: int, nid: int, flags: int) -> None:
        # memblock_insert_region
        self.base.insert(i, base)
        self.size.insert(i, size)
        self.flags.insert(i, flags)
        self.nid.insert(i, nid)
        self.total_size += size

    def delete(self, i: int) -> None:
        # memblock_remove_region
        self.total_size -= self.size[i]
        del self.base[i], self.size[i], self.flags[i], self.nid[i]

    def first_overlap(self, base: int) -> int:
        """Index of the first region whose end is above ``base``."""
        i = bisect.bisect_right(self.base, base) - 1
        if i < 0:
            return 0
        return i if self.base[i] + self.size[i] > base else i + 1

    def merge(self, lo: int = 0, hi: int | None = None) -> None:
        """memblock_merge_regions: join neighbours with equal nid and flags.

        6.1 and older scan the whole array, newer kernels only the touched
        window; because the array is kept merged, both give the same result.
        """
        i = max(lo - 1, 0)
        hi = len(self.base) - 1 if hi is None else min(hi, len(self.base) - 1)
        while i < hi:
            if (self.base[i] + self.size[i] != self.base[i + 1]
                    or self.nid[i] != self.nid[i + 1] or self.flags[i] != self.flags[i + 1]):
                i += 1
                continue
            self.size[i] += self.size[i + 1]
            del self.base[i + 1], self.size[i + 1], self.flags[i + 1], self.nid[i + 1]
            hi -= 1


class Memblock:
    """The kernel's ``struct memblock`` plus the functions operating on it.

    ``movable_node`` is ``movable_node_is_enabled()`` (it makes
    should_skip_region skip MEMBLOCK_HOTPLUG memory); setting it does not
    switch to bottom-up -- the x86 setup code does that, see
    :meth:`set_bottom_up`.  ``mirrored_kernelcore`` is ``kernelcore=mirror``,
    without which 6.x ignores :meth:`mark_mirror`.
    """

    def __init__(self, profile: KernelProfile, *, movable_node: bool = False,
                 mirrored_kernelcore: bool = False):
        self.profile = profile
        self.movable_node = movable_node
        self.mirrored_kernelcore = mirrored_kernelcore
        self._memory = _Type("memory")
        self._reserved = _Type("reserved")
        self.bottom_up = False
        self.current_limit = MEMBLOCK_ALLOC_ANYWHERE
        # __pa_symbol(_end), for the pre-5.11 rule (profile.bottom_up_above_kernel);
        # None (unknown) counts as 0: bottom-up searches start at ``start``.
        self.kernel_end: int | None = None
        # Searches that found nothing above the kernel image and fell back to
        # top-down (the rule's WARN_ONCE fires on the first): (size, start,
        # end) of each, and the address the top-down retry found (0: none).
        self.bottom_up_fallbacks: list[tuple[int, int, int, int]] = []
        self.has_mirror = False            # system_has_some_mirror
        self.can_resize = False            # memblock_allow_resize()
        # Every memblock_dbg line the kernel would print, as tuples:
        # ("add"|"reserve"|"remove"|"phys_free", base, size, nid, flags) and
        # ("doubled", type_name, new_max, addr, size).  None disables tracing.
        self.trace: list[tuple] | None = None

    # ------------------------------------------------------------------ views
    @property
    def memory(self) -> tuple[Region, ...]:
        return self._memory.regions()

    @property
    def reserved(self) -> tuple[Region, ...]:
        return self._reserved.regions()

    def memory_spans(self):
        """(base, size, nid) of every memory region, without building Region
        objects (for loops that run once per node or per mapping step)."""
        m = self._memory
        return zip(m.base, m.size, m.nid)

    def memory_index(self, addr: int) -> int:
        """Index of the memory region holding ``addr``, -1 if none."""
        m = self._memory
        i = bisect.bisect_right(m.base, addr) - 1
        return i if i >= 0 and addr < m.base[i] + m.size[i] else -1

    def memory_covers(self, start: int, end: int) -> bool:
        """Whether one memory region holds all of [start, end)."""
        i = self.memory_index(start)
        m = self._memory
        return i >= 0 and end <= m.base[i] + m.size[i]

    def memory_nid_at(self, addr: int) -> int:
        """The nid of the memory region holding ``addr`` (-1: none)."""
        i = self.memory_index(addr)
        return self._memory.nid[i] if i >= 0 else -1

    def memory_size(self) -> int:
        """memblock_phys_mem_size(): memblock.memory.total_size."""
        return self._memory.total_size

    def reserved_size(self) -> int:
        """memblock_reserved_size(): memblock.reserved.total_size."""
        return self._reserved.total_size

    def start_of_dram(self) -> int:
        return self._memory.base[0] if len(self._memory) else 0

    def end_of_dram(self) -> int:
        m = self._memory
        return m.base[-1] + m.size[-1] if len(m) else 0

    def region_count(self, which: str) -> int:
        """memblock.<which>.cnt without the ≤6.1 empty-array dummy entry."""
        return len(self._type(which))

    def overlaps_region(self, which: str, base: int, size: int) -> bool:
        """memblock_overlaps_region(&memblock.<which>, base, size)."""
        t = self._type(which)
        size = min(size, PHYS_ADDR_MAX - base)
        i = t.first_overlap(base)
        return size > 0 and i < len(t) and t.base[i] < base + size

    def is_reserved(self, base: int, size: int) -> bool:
        """memblock_is_region_reserved."""
        return self.overlaps_region("reserved", base, size)

    def snapshot(self) -> Snapshot:
        return Snapshot(self.memory, self.reserved, self.memory_size(), self.reserved_size(),
                        self.bottom_up, self.current_limit)

    def load(self, which: str, regions, total_size: int | None = None) -> None:
        """Replace one region array wholesale (sorted, disjoint regions), e.g.
        to put a replay back in step with a table the kernel printed.
        ``total_size`` defaults to the sum of the sizes."""
        t = self._type(which)
        new = _Type(t.name)
        new.max, new.array = t.max, t.array
        for r in sorted(regions, key=lambda r: r.base):
            if r.size > 0:
                new.insert(len(new), r.base, r.size, r.nid, r.flags)
        if total_size is not None:
            new.total_size = total_size
        if which == "memory":
            self._memory = new
        else:
            self._reserved = new

    def _type(self, which: str) -> _Type:
        if which == "memory":
            return self._memory
        if which == "reserved":
            return self._reserved
        raise ValueError(f"unknown memblock type {which!r}")

    # --------------------------------------------------------- nid semantics
    def _valid_nid(self, nid: int) -> bool:
        """Does ``nid`` name a node (so allocations filter on it and may fall
        back to any node)?  6.12+: numa_valid_node(), 0 <= nid < MAX_NUMNODES;
        up to 6.1: nid != NUMA_NO_NODE after MAX_NUMNODES was folded into it
        (__next_mem_range, memblock_alloc_range_nid)."""
        if self.profile.numa_valid_node_checks:
            return 0 <= nid < MAX_NUMNODES_DEBIAN
        return nid not in (NUMA_NO_NODE, MAX_NUMNODES_DEBIAN)

    def _dump_shows_nid(self, nid: int) -> bool:
        # memblock_dump: "nid != MAX_NUMNODES" up to 6.1, numa_valid_node() later.
        if self.profile.numa_valid_node_checks:
            return 0 <= nid < MAX_NUMNODES_DEBIAN
        return nid != MAX_NUMNODES_DEBIAN

    # ------------------------------------------------------------- primitives
    def _add_range(self, t: _Type, base: int, size: int, nid: int, flags: int) -> bool:
        """memblock_add_range: insert the parts of [base, base+size) not yet
        covered (existing regions keep their nid and flags), then merge.
        False for -ENOMEM: the array is full and cannot be doubled."""
        size = min(size, PHYS_ADDR_MAX - base)          # memblock_cap_size
        if size <= 0:
            return True
        end = base + size
        i = t.first_overlap(base)
        pieces: list[tuple[int, int]] = []
        cur = base
        j = i
        while j < len(t) and t.base[j] < end:
            rbase, rend = t.base[j], t.base[j] + t.size[j]
            if rbase > cur:
                pieces.append((cur, rbase))
            cur = min(rend, end)
            j += 1
        if cur < end:
            pieces.append((cur, end))
        if not pieces:
            return True
        if len(t) + len(pieces) > t.max:
            while len(t) + len(pieces) > t.max:
                if not self._double_array(t, base, size):
                    return False                             # -ENOMEM
            i = t.first_overlap(base)
        # insert in order; each piece lies in a gap so bisect finds its slot
        first = last = None
        for pb, pe in pieces:
            k = bisect.bisect_left(t.base, pb, lo=i)
            t.insert(k, pb, pe - pb, nid, flags)
            first = k if first is None else first
            last = k + 1
            i = k + 1
        t.merge(first, last)
        return True

    def _isolate(self, t: _Type, base: int, size: int) -> tuple[int, int]:
        """memblock_isolate_range: split regions at base and base+size and
        return the index range [start, end) of the regions inside."""
        size = min(size, PHYS_ADDR_MAX - base)
        if size <= 0:
            return 0, 0
        end = base + size
        while len(t) + 2 > t.max:
            if not self._double_array(t, base, size):
                return 0, 0
        idx = t.first_overlap(base)
        start_rgn = end_rgn = 0
        while idx < len(t):
            rbase = t.base[idx]
            rend = rbase + t.size[idx]
            if rbase >= end:
                break
            if rend <= base:
                idx += 1
                continue
            if rbase < base:
                # intersects from below: split, continue with the top half
                t.base[idx] = base
                t.size[idx] -= base - rbase
                t.total_size -= base - rbase
                t.insert(idx, rbase, base - rbase, t.nid[idx], t.flags[idx])
                idx += 1
                continue
            if rend > end:
                # intersects from above: split, redo the bottom half
                t.base[idx] = end
                t.size[idx] -= end - rbase
                t.total_size -= end - rbase
                t.insert(idx, rbase, end - rbase, t.nid[idx], t.flags[idx])
                continue
            if not end_rgn:
                start_rgn = idx
            end_rgn = idx + 1
            idx += 1
        return start_rgn, end_rgn

    def _remove_range(self, t: _Type, base: int, size: int) -> None:
        s, e = self._isolate(t, base, size)
        for i in range(e - 1, s - 1, -1):
            t.delete(i)

    def _setclr_flag(self, t: _Type, base: int, size: int, set_: bool, flag: int) -> None:
        s, e = self._isolate(t, base, size)
        for i in range(s, e):
            t.flags[i] = (t.flags[i] | flag) if set_ else (t.flags[i] & ~flag)
        t.merge(s, e)

    def _double_array(self, t: _Type, new_area_start: int, new_area_size: int) -> bool:
        """memblock_double_array (early, non-slab path): the new array is
        itself found with memblock_find_in_range and reserved."""
        if not self.can_resize:
            return False
        old_size = t.max * 24                       # sizeof(struct memblock_region) on x86_64
        new_alloc = _round_up(old_size * 2, PAGE_SIZE)
        if t is not self._reserved:
            new_area_start = new_area_size = 0
        addr = self.find_in_range(new_area_start + new_area_size, self.current_limit, new_alloc, PAGE_SIZE)
        if not addr and new_area_size:
            addr = self.find_in_range(0, min(new_area_start, self.current_limit), new_alloc, PAGE_SIZE)
        if not addr:
            return False
        if self.trace is not None:
            self.trace.append(("doubled", t.name, t.max * 2, addr, old_size * 2))
        t.max *= 2
        if t.array is not None:
            # the previous array came from memblock too: memblock_free() it
            self.phys_free(*t.array)
        t.array = (addr, new_alloc)
        self.reserve(addr, new_alloc)
        return True

    def _log(self, kind: str, base: int, size: int, nid: int = NUMA_NO_NODE, flags: int = 0) -> None:
        if self.trace is not None:
            self.trace.append((kind, base, size, nid, flags))

    # --------------------------------------------------------- public editing
    def add(self, base: int, size: int, nid: int | None = None, flags: int = 0) -> None:
        """memblock_add (nid None: the version's default, MAX_NUMNODES) or,
        with an explicit nid/flags, memblock_add_node."""
        if nid is None and not flags:
            self._log("add", base, size)
            self._add_range(self._memory, base, size, self.profile.memblock_add_nid, 0)
        else:
            self.add_node(base, size, self.profile.memblock_add_nid if nid is None else nid, flags)

    def add_node(self, base: int, size: int, nid: int, flags: int = 0) -> None:
        """memblock_add_node."""
        self._log("add_node", base, size, nid, flags)
        self._add_range(self._memory, base, size, nid, flags)

    def reserve(self, base: int, size: int, nid: int | None = None, flags: int = 0) -> bool:
        """memblock_reserve (nid None: the version's default) / 7.x
        __memblock_reserve.  False when it fails (-ENOMEM)."""
        nid = self.profile.memblock_reserve_nid if nid is None else nid
        self._log("reserve", base, size, nid, flags)
        return self._add_range(self._reserved, base, size, nid, flags)

    def reserve_kern(self, base: int, size: int, nid: int = NUMA_NO_NODE) -> None:
        """7.x memblock_reserve_kern: a reservation carrying MEMBLOCK_RSRV_KERN."""
        self.reserve(base, size, nid, self.profile.flag_rsrv_kern or 0)

    def remove(self, base: int, size: int) -> None:
        """memblock_remove (from memory)."""
        self._log("remove", base, size)
        self._remove_range(self._memory, base, size)

    def phys_free(self, base: int, size: int) -> None:
        """memblock_phys_free (memblock_free in 5.10): drop a reservation."""
        self._log("phys_free", base, size)
        self._remove_range(self._reserved, base, size)

    def set_node(self, base: int, size: int, nid: int, which: str = "memory") -> None:
        """memblock_set_node(base, size, &memblock.<which>, nid)."""
        t = self._type(which)
        s, e = self._isolate(t, base, size)
        for i in range(s, e):
            t.nid[i] = nid
        t.merge(s, e)

    def mark_hotplug(self, base: int, size: int) -> None:
        self._setclr_flag(self._memory, base, size, True, MEMBLOCK_HOTPLUG)

    def clear_hotplug(self, base: int, size: int) -> None:
        self._setclr_flag(self._memory, base, size, False, MEMBLOCK_HOTPLUG)

    def mark_mirror(self, base: int, size: int) -> None:
        """memblock_mark_mirror; a no-op without kernelcore=mirror from 6.1."""
        if self.profile.mirror_needs_kernelcore_mirror and not self.mirrored_kernelcore:
            return
        self.has_mirror = True
        self._setclr_flag(self._memory, base, size, True, MEMBLOCK_MIRROR)

    def mark_nomap(self, base: int, size: int) -> None:
        self._setclr_flag(self._memory, base, size, True, MEMBLOCK_NOMAP)

    def clear_nomap(self, base: int, size: int) -> None:
        self._setclr_flag(self._memory, base, size, False, MEMBLOCK_NOMAP)

    def mark_kho_scratch(self, base: int, size: int) -> None:
        """memblock_mark_kho_scratch (7.x); the flag value comes from the profile."""
        if self.profile.flag_kho_scratch:
            self._setclr_flag(self._memory, base, size, True, self.profile.flag_kho_scratch)

    def clear_kho_scratch(self, base: int, size: int) -> None:
        if self.profile.flag_kho_scratch:
            self._setclr_flag(self._memory, base, size, False, self.profile.flag_kho_scratch)

    def reserved_mark_noinit(self, base: int, size: int) -> None:
        """memblock_reserved_mark_noinit (6.5+)."""
        if self.profile.flag_rsrv_noinit:
            self._setclr_flag(self._reserved, base, size, True, self.profile.flag_rsrv_noinit)

    def trim_memory(self, align: int = PAGE_SIZE) -> None:
        """memblock_trim_memory: round every memory region inwards to align;
        drop those that vanish.  total_size is (as in the kernel) not updated
        for shrunk regions, only for removed ones."""
        t = self._memory
        i = 0
        while i < len(t):
            ostart, oend = t.base[i], t.base[i] + t.size[i]
            start, end = _round_up(ostart, align), _round_down(oend, align)
            if start == ostart and end == oend:
                i += 1
            elif start < end:
                t.base[i], t.size[i] = start, end - start
                i += 1
            else:
                t.delete(i)

    def set_bottom_up(self, enable: bool) -> None:
        self.bottom_up = bool(enable)

    def set_current_limit(self, limit: int) -> None:
        self.current_limit = limit

    def allow_resize(self) -> None:
        """memblock_allow_resize: region arrays may now double (x86 calls it
        in e820__memblock_setup)."""
        self.can_resize = True

    # ------------------------------------------------------------ iteration
    def _skip(self, flags_r: int, nid_r: int, nid: int, flags: int) -> bool:
        """should_skip_region for a memory region (reserved is never skipped)."""
        if self._valid_nid(nid) and nid != nid_r:
            return True
        if self.movable_node and flags_r & MEMBLOCK_HOTPLUG and not flags & MEMBLOCK_HOTPLUG:
            return True
        if flags & MEMBLOCK_MIRROR and not flags_r & MEMBLOCK_MIRROR:
            return True
        if not flags & MEMBLOCK_NOMAP and flags_r & MEMBLOCK_NOMAP:
            return True
        if not flags & MEMBLOCK_DRIVER_MANAGED and flags_r & MEMBLOCK_DRIVER_MANAGED:
            return True
        kho = self.profile.flag_kho_scratch
        if kho and flags & kho and not flags_r & kho:
            return True
        return False

    def free_ranges(self, nid: int | None = None, flags: int = 0,
                    reverse: bool = False, window: tuple[int, int] | None = None,
                    ) -> Iterator[tuple[int, int, int]]:
        """for_each_free_mem_range[_reverse]: yields (start, end, nid) of the
        parts of non-skipped memory regions not covered by reserved regions,
        ascending (or descending with ``reverse``), one memory region at a time.

        ``window=(lo, hi)`` is a shortcut for callers that clamp every range
        to [lo, hi) and ignore empty results (the find functions): memory
        regions outside the window are not visited and the ranges are cut to
        it, so an allocation below 4 GiB does not scan the reserved regions of
        terabytes above it."""
        nid = NUMA_NO_NODE if nid is None else nid
        m, r = self._memory, self._reserved
        mb, msz, mfl, mnid = m.base, m.size, m.flags, m.nid
        rb, rsz = r.base, r.size
        nr = len(rb)
        lo, hi = (0, 1 << 128) if window is None else window
        first = bisect.bisect_right(mb, lo) - 1 if lo > 0 else 0    # regions ending at or below lo are skipped
        first = max(first, 0)
        last = bisect.bisect_left(mb, hi)                           # regions from hi up are skipped
        order = range(last - 1, first - 1, -1) if reverse else range(first, last)
        # should_skip_region's node test, hoisted (the common case filters by node only)
        by_nid = self._valid_nid(nid)
        plain = not flags and not self.movable_node
        for i in order:
            if by_nid and nid != mnid[i]:
                continue
            if not plain and self._skip(mfl[i], mnid[i], nid, flags):
                continue
            if plain and mfl[i] & (MEMBLOCK_NOMAP | MEMBLOCK_DRIVER_MANAGED):
                continue
            ms = mb[i]
            me = ms + msz[i]
            if me <= lo:
                continue
            ms, me = max(ms, lo), min(me, hi)
            gaps = []
            cur = ms
            k = r.first_overlap(ms)
            while k < nr and rb[k] < me:
                if rb[k] > cur:
                    gaps.append((cur, rb[k]))
                cur = max(cur, rb[k] + rsz[k])
                k += 1
            if cur < me:
                gaps.append((cur, me))
            if reverse:
                gaps.reverse()
            n = mnid[i]
            for gs, ge in gaps:
                yield gs, ge, n

    # -------------------------------------------------------------- finding
    def find_in_range_node(self, size: int, align: int, start: int, end: int,
                           nid: int = NUMA_NO_NODE, flags: int = 0) -> int:
        """memblock_find_in_range_node: lowest (bottom-up) or highest
        (top-down) aligned free fit in [start, end); 0 if none."""
        if end in (MEMBLOCK_ALLOC_ACCESSIBLE, MEMBLOCK_ALLOC_NOLEAKTRACE):
            end = self.current_limit
        start = max(start, PAGE_SIZE)                  # avoid allocating the first page
        end = max(start, end)
        if self.bottom_up and self.profile.bottom_up_above_kernel:
            # 3.13-5.10 mainline: bottom-up only above the kernel image, so that
            # early data lands next to the kernel and in its node; a window
            # ending at or below _end (the real-mode trampoline's [0, 1M)) is
            # searched top-down straight away, without a warning.
            kernel_end = self.kernel_end or 0
            if end > kernel_end:
                found = self._find_bottom_up(max(start, kernel_end), end, size, align, nid, flags)
                if found:
                    return found
                # WARN_ONCE(IS_ENABLED(CONFIG_MEMORY_HOTREMOVE), "memblock:
                # bottom-up allocation failed, memory hotremove may be
                # affected"), then the top-down retry over all of [start, end)
                found = self._find_top_down(start, end, size, align, nid, flags)
                self.note_bottom_up_fallback(size, start, end, found)
                return found
            return self._find_top_down(start, end, size, align, nid, flags)
        if self.bottom_up:
            return self._find_bottom_up(start, end, size, align, nid, flags)
        return self._find_top_down(start, end, size, align, nid, flags)

    def note_bottom_up_fallback(self, size: int, start: int, end: int, found: int) -> None:
        """Record a search the kernel_end rule sent back top-down (the kernel
        prints its WARN_ONCE for the first)."""
        self.bottom_up_fallbacks.append((size, start, end, found))

    def _find_bottom_up(self, start, end, size, align, nid, flags) -> int:
        # ranges outside [start, end) clamp to empty ones, never a fit (cand < e)
        for s, e, _ in self.free_ranges(nid, flags, window=(start, end)):
            s, e = _clamp(s, start, end), _clamp(e, start, end)
            cand = _round_up(s, align)
            if cand < e and e - cand >= size:
                return cand
        return 0

    def _find_top_down(self, start, end, size, align, nid, flags) -> int:
        # Ranges outside [start, end) clamp to empty ones, which only a
        # 0-byte request could take (cand == this_start): keep those exact.
        window = (start, end) if size > 0 else None
        for s, e, _ in self.free_ranges(nid, flags, reverse=True, window=window):
            s, e = _clamp(s, start, end), _clamp(e, start, end)
            if e < size:
                continue
            cand = _round_down(e - size, align)
            if cand >= s:
                return cand
        return 0

    def find_in_range(self, start: int, end: int, size: int, align: int) -> int:
        """memblock_find_in_range (5.10 callers; static in later kernels):
        any node, mirror first if the system has mirror."""
        flags = MEMBLOCK_MIRROR if self.has_mirror else 0
        while True:
            found = self.find_in_range_node(size, align, start, end, NUMA_NO_NODE, flags)
            if found or not flags & MEMBLOCK_MIRROR:
                return found
            flags &= ~MEMBLOCK_MIRROR

    # ----------------------------------------------------------- allocation
    def alloc_range_nid(self, size: int, align: int, start: int, end: int,
                        nid: int = NUMA_NO_NODE, exact_nid: bool = False) -> int:
        """memblock_alloc_range_nid: find (node first unless exact_nid, then any
        node; mirror first, then without) and reserve.  Returns 0 on failure."""
        flags = MEMBLOCK_MIRROR if self.has_mirror else 0
        if not align:
            align = SMP_CACHE_BYTES                    # the kernel dump_stack()s and goes on
        kern = self.profile.flag_rsrv_kern or 0
        while True:
            # "if (found && !memblock_reserve(found, size)) goto done": a
            # reservation that fails (a full array that cannot grow) fails
            # the attempt
            found = self.find_in_range_node(size, align, start, end, nid, flags)
            # 7.x: __memblock_reserve(found, size, nid, MEMBLOCK_RSRV_KERN)
            if found and self.reserve(found, size, nid if kern else None, kern):
                return found
            if self._valid_nid(nid) and not exact_nid:
                found = self.find_in_range_node(size, align, start, end, NUMA_NO_NODE, flags)
                # 7.x: memblock_reserve_kern -> NUMA_NO_NODE, RSRV_KERN
                if found and self.reserve(found, size, NUMA_NO_NODE if kern else None, kern):
                    return found
            if flags & MEMBLOCK_MIRROR:
                flags &= ~MEMBLOCK_MIRROR              # "Could not allocate ... mirrored memory"
                continue
            return 0

    def phys_alloc_range(self, size: int, align: int, start: int, end: int) -> int:
        """memblock_phys_alloc_range: no clamping beyond find_in_range_node's."""
        return self.alloc_range_nid(size, align, start, end, NUMA_NO_NODE, False)

    def phys_alloc_try_nid(self, size: int, align: int, nid: int) -> int:
        """memblock_phys_alloc_try_nid (NODE_DATA): [0, current limit), node first."""
        return self.alloc_range_nid(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE, nid, False)

    def _alloc_internal(self, size, align, min_addr, max_addr, nid, exact_nid) -> int:
        """memblock_alloc_internal: clamp max_addr to the current limit; if a
        min_addr was given and nothing fits, retry from 0."""
        max_addr = min(max_addr, self.current_limit)
        found = self.alloc_range_nid(size, align, min_addr, max_addr, nid, exact_nid)
        if not found and min_addr:
            found = self.alloc_range_nid(size, align, 0, max_addr, nid, exact_nid)
        return found

    def alloc_try_nid(self, size: int, align: int, min_addr: int, max_addr: int,
                      nid: int = NUMA_NO_NODE, *, raw: bool = False) -> int:
        """memblock_alloc_try_nid / memblock_alloc_try_nid_raw (same placement)."""
        return self._alloc_internal(size, align, min_addr, max_addr, nid, False)

    def alloc_try_nid_repeat(self, count: int, size: int, align: int, nid: int = NUMA_NO_NODE,
                             min_addr: int = 0) -> list[tuple[int, int]]:
        """``count`` successive memblock_alloc_try_nid[_raw](size, align,
        min_addr, ACCESSIBLE, nid) calls — sparse_init's mem_section root
        pages (one per 32 GiB of RAM), vmemmap page-table pages and 2 MiB
        memmap pieces (one per 128 MiB section).  Returns the pieces taken,
        ``[lo, hi)`` in allocation order (each filled top-down from ``hi``);
        calls that found nothing are the ``count`` not covered.

        Top-down, each call after the first lands right below the previous one
        while the free gap lasts, so the gap is taken with one reservation
        instead of one per call — the same regions, sizes and addresses.
        Falls back to single calls whenever that reasoning does not hold
        (bottom-up, mirror, tracing, a size that is not a multiple of a
        power-of-two alignment, a reserved array near the size that makes
        memblock double it)."""
        pieces: list[tuple[int, int]] = []
        fast = (not self.bottom_up and not self.has_mirror and self.trace is None
                and size > 0 and align > 0 and not align & (align - 1) and size % align == 0)
        res = self._reserved
        left = count
        while left > 0:
            a = self.alloc_try_nid(size, align, min_addr, MEMBLOCK_ALLOC_ACCESSIBLE, nid)
            if not a:
                break
            left -= 1
            k = 0
            # a call inserts before it merges, so it needs a free slot: while
            # the array has one, none of the calls in the gap doubles it
            if fast and len(res.base) < res.max:
                # The gap below ``a``: down to the previous reservation or the
                # start of a's memory region, never below the first page, and
                # not below min_addr unless this call already had to retry
                # from 0 (memblock_alloc_internal), as the next ones would.
                mem = self._memory
                i = bisect.bisect_right(mem.base, a) - 1
                j = bisect.bisect_right(res.base, a) - 1     # the reservation now holding a
                floor = max(mem.base[i], PAGE_SIZE, min_addr if a >= min_addr else 0)
                if res.base[j] < a:
                    floor = a          # a's reservation merged with one right below: no gap
                elif j > 0:
                    floor = max(floor, res.base[j - 1] + res.size[j - 1])
                k = max(0, min(left, (a - floor) // size))
                if k:
                    # the calls would reserve with the nid and flags a's reservation got
                    self.reserve(a - k * size, k * size, res.nid[j], res.flags[j])
                    left -= k
            pieces.append((a - k * size, a + size))
        return pieces

    def alloc_exact_nid_raw(self, size: int, align: int, min_addr: int, max_addr: int, nid: int) -> int:
        """memblock_alloc_exact_nid_raw: no fallback to other nodes."""
        return self._alloc_internal(size, align, min_addr, max_addr, nid, True)

    def alloc(self, size: int, align: int = SMP_CACHE_BYTES) -> int:
        """memblock_alloc: anywhere below the current limit, any node."""
        return self.alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, MEMBLOCK_ALLOC_ACCESSIBLE, NUMA_NO_NODE)

    def alloc_from(self, size: int, align: int, min_addr: int) -> int:
        """memblock_alloc_from: at or above min_addr if possible (else the
        min_addr retry of memblock_alloc_internal applies)."""
        return self.alloc_try_nid(size, align, min_addr, MEMBLOCK_ALLOC_ACCESSIBLE, NUMA_NO_NODE)

    def alloc_low(self, size: int, align: int = SMP_CACHE_BYTES) -> int:
        """memblock_alloc_low: below ARCH_LOW_ADDRESS_LIMIT (4 GiB on x86)."""
        return self.alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, ARCH_LOW_ADDRESS_LIMIT, NUMA_NO_NODE)

    def alloc_node(self, size: int, align: int, nid: int) -> int:
        """memblock_alloc_node: like memblock_alloc but node first."""
        return self.alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, MEMBLOCK_ALLOC_ACCESSIBLE, nid)

    # ------------------------------------------------------------------ dump
    def dump(self) -> list[str]:
        """memblock_dump_all() lines without the printk prefix, exactly as the
        kernel prints them (one leading space, a TAB after the index)."""
        out = ["MEMBLOCK configuration:",
               f" memory size = {_pa(self._memory.total_size)} reserved size = {_pa(self._reserved.total_size)}"]
        for t in (self._memory, self._reserved):
            out.extend(self._dump_type(t))
        return out

    def _dump_type(self, t: _Type) -> list[str]:
        rows = list(zip(t.base, t.size, t.flags, t.nid))
        if not rows and self.profile.empty_type_dummy_region:
            # up to 6.1 an empty array still holds one zero-sized dummy entry
            rows = [(0, 0, 0, MAX_NUMNODES_DEBIAN)]
        out = [f" {t.name}.cnt  = {len(rows):#x}"]
        for idx, (b, s, f, n) in enumerate(rows):
            node = f" on node {n}" if self._dump_shows_nid(n) else ""
            end = (b + s - 1) & PHYS_ADDR_MAX
            out.append(f" {t.name}[{idx:#x}]\t[{_pa(b)}-{_pa(end)}], {_pa(s)} bytes{node} flags: {f:#x}")
        return out


def _pa(v: int) -> str:
    """printk's %pa for a 64-bit phys_addr_t."""
    return f"0x{v:016x}"


def _round_up(v: int, a: int) -> int:
    """The kernel's round_up(): ((v - 1) | (a - 1)) + 1 on a u64 (exact for
    powers of two, which is all memblock is ever given; 0 stays 0)."""
    return ((((v - 1) & PHYS_ADDR_MAX) | (a - 1)) + 1) & PHYS_ADDR_MAX


def _round_down(v: int, a: int) -> int:
    """The kernel's round_down(): v & ~(a - 1)."""
    return v & ~(a - 1) & PHYS_ADDR_MAX


def _clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else min(v, hi)
