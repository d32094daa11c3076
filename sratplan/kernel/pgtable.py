"""Direct-map page tables built at boot, and where their pages come from.

Mirrors ``arch/x86/mm/init.c`` (init_mem_mapping, memory_map_top_down,
memory_map_bottom_up, init_range_memory_mapping, split_mem_range,
adjust_range_page_size_mask, alloc_low_pages, early_alloc_pgt_buf) and
``arch/x86/mm/init_64.c`` (__kernel_physical_mapping_init, phys_pud_init,
phys_pmd_init) for 4-level paging, kernels 5.10-7.2.

Why it matters: page-table pages are memblock allocations made before the
SRAT is parsed.  Top-down (no movable_node) they land at the top of RAM and
make the highest node non-hotpluggable; their exact count decides where
NODE_DATA lands.  Pages first come from a small buffer in the kernel's brk
(INIT_PGT_BUF_SIZE) unless the range being mapped overlaps that buffer.

Page-table pages are tracked as sets of table indices (one PUD page per
512 GiB, one PMD page per 1 GiB, one PTE page per 2 MiB), never per 4 KiB page.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..firmware.e820 import ISA_END_ADDRESS
from ..units import PAGE_SIZE

PMD_SIZE = 2 << 20
PUD_SIZE = 1 << 30
PGDIR_SIZE = 512 << 30
M2, G1 = 1, 2          # page_size_mask bits: 2 MiB and 1 GiB mappings allowed
BULK_GIB = 256         # runs of fresh GiBs at least this long are mapped in one step


def _rdown(v, a):
    return v - v % a


def _rup(v, a):
    return -(-v // a) * a


class IndexSet:
    """A set of page-table entry indices kept as sorted disjoint intervals:
    a 64 TiB direct map sets 65,536 PUD entries (or 33 M PMD entries) in a
    handful of runs, and the walk asks "where is the next member?" instead of
    stepping one GiB at a time.  Supports what the walk uses: ``in``,
    ``add``, ``discard``, ``update(range)``, :meth:`next_in` and ``len``."""

    __slots__ = ("starts", "ends")

    def __init__(self):
        self.starts: list[int] = []
        self.ends: list[int] = []

    def __contains__(self, x: int) -> bool:
        i = bisect.bisect_right(self.starts, x) - 1
        return i >= 0 and x < self.ends[i]

    def __len__(self) -> int:
        return sum(e - s for s, e in zip(self.starts, self.ends))

    def __eq__(self, other):
        if not isinstance(other, IndexSet):
            return NotImplemented
        return self.starts == other.starts and self.ends == other.ends

    __hash__ = None

    def __repr__(self):
        return f"IndexSet({list(zip(self.starts, self.ends))})"

    def add_range(self, a: int, b: int) -> None:
        if a >= b:
            return
        st, en = self.starts, self.ends
        lo = bisect.bisect_left(en, a)          # first interval ending at or after a (touching counts)
        hi = bisect.bisect_right(st, b)         # intervals starting at or before b
        if lo < hi:
            a, b = min(a, st[lo]), max(b, en[hi - 1])
        st[lo:hi] = [a]
        en[lo:hi] = [b]

    def add(self, x: int) -> None:
        self.add_range(x, x + 1)

    def update(self, r: range) -> None:
        assert r.step == 1
        self.add_range(r.start, r.stop)

    def discard(self, x: int) -> None:
        st, en = self.starts, self.ends
        i = bisect.bisect_right(st, x) - 1
        if i < 0 or x >= en[i]:
            return
        s, e = st[i], en[i]
        pieces = [(a, b) for a, b in ((s, x), (x + 1, e)) if a < b]
        st[i:i + 1] = [a for a, _ in pieces]
        en[i:i + 1] = [b for _, b in pieces]

    def next_in(self, lo: int, hi: int) -> int:
        """The smallest member in [lo, hi), or ``hi`` when there is none."""
        i = bisect.bisect_right(self.starts, lo) - 1
        if i >= 0 and lo < self.ends[i]:
            return lo
        if i + 1 < len(self.starts) and self.starts[i + 1] < hi:
            return self.starts[i + 1]
        return hi


@dataclass
class PageTables:
    """The state kernel_physical_mapping_init() builds up."""

    gbpages: bool
    pud_pages: IndexSet = field(default_factory=IndexSet)   # PGD entries populated (512 GiB index)
    pmd_pages: IndexSet = field(default_factory=IndexSet)   # PUD entries pointing at a PMD page (GiB index)
    pud_large: IndexSet = field(default_factory=IndexSet)   # PUD entries mapping 1 GiB directly
    pte_pages: IndexSet = field(default_factory=IndexSet)   # PMD entries pointing at a PTE page (2 MiB index)
    pmd_large: IndexSet = field(default_factory=IndexSet)   # PMD entries mapping 2 MiB directly
    pmd_full: IndexSet = field(default_factory=IndexSet)    # GiB indices whose 512 PMD entries all map 2 MiB


class DirectMap:
    """Runs init_mem_mapping() against a memblock engine."""

    def __init__(self, memblock, *, gbpages: bool, pgt_buf_start: int, pgt_buf_pages: int,
                 kernel_end: int, max_pfn: int):
        self.mb = memblock
        self.pt = PageTables(gbpages=gbpages)
        self.pgt_buf_end = pgt_buf_start >> 12
        self.pgt_buf_top = (pgt_buf_start >> 12) + pgt_buf_pages
        self.kernel_end = kernel_end
        self.max_pfn = max_pfn
        self.min_pfn_mapped = 0
        self.max_pfn_mapped = 0
        self.can_use_brk = True
        self.allocated = []          # (addr, "brk"|"memblock")
        self.failed = False

    # --- alloc_low_pages(1) ----------------------------------------------
    def _alloc_page(self):
        if self.pgt_buf_end + 1 > self.pgt_buf_top or not self.can_use_brk:
            ret = 0
            if self.min_pfn_mapped < self.max_pfn_mapped:
                ret = self.mb.phys_alloc_range(PAGE_SIZE, PAGE_SIZE, self.min_pfn_mapped << 12, self.max_pfn_mapped << 12)
            if not ret and self.can_use_brk:
                ret = self.pgt_buf_end << 12     # extend_brk(); no memblock trace
                self.pgt_buf_end += 1
                self.pgt_buf_top = max(self.pgt_buf_top, self.pgt_buf_end)
            if not ret:
                self.failed = True   # the kernel panics: "alloc_low_pages: can not alloc memory"
                return
            self.allocated.append((ret, "memblock"))
        else:
            self.allocated.append((self.pgt_buf_end << 12, "brk"))
            self.pgt_buf_end += 1

    # --- split_mem_range + adjust_range_page_size_mask --------------------
    def _split(self, start, end):
        """Ranges of one page size: mask M2 = 2 MiB pages allowed, G1 = 1 GiB."""
        allowed = M2 | (G1 if self.pt.gbpages else 0)
        mr = []
        pmd_pfns, pud_pfns = PMD_SIZE >> 12, PUD_SIZE >> 12
        limit = end >> 12
        pfn = start_pfn = start >> 12
        end_pfn = min(_rup(pfn, pmd_pfns), limit)
        if start_pfn < end_pfn:
            mr.append([start_pfn, end_pfn, 0])
            pfn = end_pfn
        start_pfn = _rup(pfn, pmd_pfns)
        end_pfn = min(_rup(pfn, pud_pfns), _rdown(limit, pmd_pfns))
        if start_pfn < end_pfn:
            mr.append([start_pfn, end_pfn, allowed & M2])
            pfn = end_pfn
        start_pfn = _rup(pfn, pud_pfns)
        end_pfn = _rdown(limit, pud_pfns)
        if start_pfn < end_pfn:
            mr.append([start_pfn, end_pfn, allowed & (M2 | G1)])
            pfn = end_pfn
        start_pfn = _rup(pfn, pmd_pfns)
        end_pfn = _rdown(limit, pmd_pfns)
        if start_pfn < end_pfn:
            mr.append([start_pfn, end_pfn, allowed & M2])
            pfn = end_pfn
        mr.append([pfn, limit, 0])      # save_mr() ignores an empty range
        mr = [m for m in mr if m[0] < m[1]]
        # adjust_range_page_size_mask(): upgrade a range whose surrounding
        # 2 MiB (1 GiB) block lies inside one memblock memory region
        for m in mr:
            a, b = m[0] << 12, m[1] << 12
            if allowed & M2 and not m[2] & M2:
                if self._region_memory(_rdown(a, PMD_SIZE), _rup(b, PMD_SIZE)):
                    m[2] |= M2
            if allowed & G1 and not m[2] & G1:
                if self._region_memory(_rdown(a, PUD_SIZE), _rup(b, PUD_SIZE)):
                    m[2] |= G1
        merged = []
        for m in mr:
            if merged and merged[-1][1] == m[0] and merged[-1][2] == m[2]:
                merged[-1][1] = m[1]
            else:
                merged.append(list(m))
        return [(m[0] << 12, m[1] << 12, m[2]) for m in merged]

    def _region_memory(self, s, e):
        return self.mb.memory_covers(s, e)

    # --- kernel_physical_mapping_init -------------------------------------
    def _map(self, start, end, mask):
        """``mask``: M2 / G1 page sizes allowed for this range."""
        pt = self.pt
        last = end
        p = start
        while p < end:
            pgd = p // PGDIR_SIZE
            pgd_end = min(end, (pgd + 1) * PGDIR_SIZE)
            if pgd not in pt.pud_pages:
                self._alloc_page()
                pt.pud_pages.add(pgd)
            last = self._pud(p, pgd_end, mask)
            p = pgd_end
        return last

    def _alloc_pages_bulk(self, n: int):
        """n successive alloc_low_pages(1) calls within one mapping step: the
        brk buffer while it lasts (when usable), then memblock pages carved
        from the same window in the current direction, one reservation per
        contiguous piece."""
        while n and self.can_use_brk and self.pgt_buf_end < self.pgt_buf_top:
            self.allocated.append((self.pgt_buf_end << 12, "brk"))
            self.pgt_buf_end += 1
            n -= 1
        if not n:
            return
        lo, hi = self.min_pfn_mapped << 12, self.max_pfn_mapped << 12
        mb = self.mb
        if self.min_pfn_mapped < self.max_pfn_mapped:
            if mb.bottom_up and mb.profile.bottom_up_above_kernel:
                # memblock_find_in_range_node's pre-5.11 rule, call by call:
                # bottom-up above _end while that lasts, then each call warns
                # and retries top-down over the whole window; a window ending
                # at or below _end is top-down from the first call
                kend = mb.kernel_end or 0
                if hi > kend:
                    n = self._carve(max(lo, kend), hi, n, bottom_up=True)
                    if n:
                        k = len(self.allocated)
                        n = self._carve(lo, hi, n, bottom_up=False)
                        # one record for the calls that fell back (one WARN_ONCE)
                        mb.note_bottom_up_fallback(PAGE_SIZE, lo, hi, self.allocated[k][0] if len(self.allocated) > k else 0)
                else:
                    n = self._carve(lo, hi, n, bottom_up=False)
            else:
                n = self._carve(lo, hi, n, bottom_up=mb.bottom_up)
        while n and self.can_use_brk:            # extend_brk()
            self.allocated.append((self.pgt_buf_end << 12, "brk"))
            self.pgt_buf_end += 1
            self.pgt_buf_top = max(self.pgt_buf_top, self.pgt_buf_end)
            n -= 1
        if n:
            self.failed = True

    def _carve(self, lo, hi, n, *, bottom_up):
        """Take up to n free pages of [lo, hi) for n successive calls in one
        direction, one reservation per contiguous piece; returns how many
        calls are left unserved."""
        mb = self.mb
        pieces = []
        for fs, fe, _ in mb.free_ranges(reverse=not bottom_up):
            a, b = max(fs, lo, PAGE_SIZE), min(fe, hi)
            a = _rup(a, PAGE_SIZE)
            b = _rdown(b, PAGE_SIZE)
            if b <= a:
                continue
            take = min(n, (b - a) // PAGE_SIZE)
            pieces.append((b - take * PAGE_SIZE, b) if not bottom_up else (a, a + take * PAGE_SIZE))
            n -= take
            if not n:
                break
        for a, b in pieces:
            mb.reserve(a, b - a)
            for addr in range(b - PAGE_SIZE, a - PAGE_SIZE, -PAGE_SIZE) if not bottom_up else range(a, b, PAGE_SIZE):
                self.allocated.append((addr, "memblock"))
        return n

    def _pud(self, p, end, mask):
        pt = self.pt
        last = end
        while p < end:
            gb = p // PUD_SIZE
            nxt = (gb + 1) * PUD_SIZE
            if mask & G1 and p == gb * PUD_SIZE and end - p >= BULK_GIB * PUD_SIZE and gb not in pt.pmd_pages:
                # 1 GiB pages over a long run: PUD entries only, nothing to allocate
                run = pt.pmd_pages.next_in(gb, end // PUD_SIZE)
                pt.pud_large.update(range(gb, run))
                p = run * PUD_SIZE
                last = p
                continue
            if (mask & M2 and not mask & G1 and p == gb * PUD_SIZE and end - p >= BULK_GIB * PUD_SIZE
                    and gb not in pt.pmd_pages and gb not in pt.pud_large):
                # a long run of GiBs mapped with 2 MiB pages, none mapped yet:
                # one fresh PMD page each, all entries large (a 64 TiB map
                # would otherwise walk 65,536 GiBs one at a time)
                g1 = end // PUD_SIZE
                run = min(pt.pmd_pages.next_in(gb, g1), pt.pud_large.next_in(gb, g1))
                if run - gb >= BULK_GIB:
                    self._alloc_pages_bulk(run - gb)
                    pt.pmd_pages.update(range(gb, run))
                    pt.pmd_full.update(range(gb, run))
                    p = run * PUD_SIZE
                    last = p
                    continue
            if gb in pt.pmd_pages:
                last = self._pmd(p, min(end, nxt), mask)
                p = nxt
                continue
            if gb in pt.pud_large:
                if mask & G1:
                    last = nxt
                    p = nxt
                    continue
                pt.pud_large.discard(gb)   # split: a PMD page replaces the 1 GiB entry
            elif mask & G1:
                pt.pud_large.add(gb)
                last = nxt
                p = nxt
                continue
            self._alloc_page()
            pt.pmd_pages.add(gb)
            if mask & M2 and p == gb * PUD_SIZE and end >= nxt:
                # a fresh PMD page filled with 2 MiB entries: kept as one
                # index instead of 512 (a 64 TiB map has 33M of them)
                pt.pmd_full.add(gb)
                last = nxt
            else:
                last = self._pmd(p, min(end, nxt), mask)
            p = nxt
        return last

    def _pmd(self, p, end, mask):
        pt = self.pt
        last = end
        gb = p // PUD_SIZE
        if gb in pt.pmd_full:
            if mask & M2:
                return _rup(end, PMD_SIZE)     # every entry already maps 2 MiB
            pt.pmd_full.discard(gb)
            pt.pmd_large.update(range(gb * (PUD_SIZE // PMD_SIZE), (gb + 1) * (PUD_SIZE // PMD_SIZE)))
        while p < end:
            idx = p // PMD_SIZE
            nxt = (idx + 1) * PMD_SIZE
            if idx in pt.pte_pages:
                last = min(end, nxt)
                p = nxt
                continue
            if mask & M2:
                # 2 MiB entries (new or already there) up to the next entry
                # that points to a PTE page: one interval, not one step each
                stop = pt.pte_pages.next_in(idx, -(-end // PMD_SIZE))
                pt.pmd_large.add_range(idx, stop)
                last = stop * PMD_SIZE
                p = last
                continue
            if idx in pt.pmd_large:
                pt.pmd_large.discard(idx)
            self._alloc_page()
            pt.pte_pages.add(idx)
            last = min(end, nxt)
            p = nxt
        return last

    def init_memory_mapping(self, start, end):
        ret = start
        for (a, b, m) in self._split(start, end):
            ret = self._map(a, b, m)
        # add_pfn_range_mapped()
        self.max_pfn_mapped = max(self.max_pfn_mapped, ret >> 12)
        return ret

    def _memory_end_below(self, limit):
        """The highest page-aligned end of memory below ``limit`` (0: none),
        as init_range_memory_mapping() rounds the regions."""
        best = 0
        for base, size, _nid in self.mb.memory_spans():
            s = ((base + 4095) >> 12) << 12
            e = ((base + size) >> 12) << 12
            if s < e and s < limit:
                best = max(best, min(e, limit))
        return best

    def _memory_start_from(self, start):
        """The lowest page-aligned memory address at or above ``start``
        (``1 << 64`` when none)."""
        best = 1 << 64
        for base, size, _nid in self.mb.memory_spans():
            s = ((base + 4095) >> 12) << 12
            e = ((base + size) >> 12) << 12
            if s < e and e > start:
                best = min(best, max(s, start))
        return best

    def init_range_memory_mapping(self, r_start, r_end):
        mapped = 0
        for r in list(self.mb.memory):
            s = ((r.base + 4095) >> 12) << 12
            e = ((r.base + r.size) >> 12) << 12
            s = min(max(s, r_start), r_end)
            e = min(max(e, r_start), r_end)
            if s >= e:
                continue
            self.can_use_brk = max(s, self.pgt_buf_end << 12) >= min(e, self.pgt_buf_top << 12)
            self.init_memory_mapping(s, e)
            mapped += e - s
            self.can_use_brk = True
        return mapped

    def _top_down(self, map_start, map_end):
        mb = self.mb
        addr = mb.phys_alloc_range(PMD_SIZE, PMD_SIZE, map_start, map_end)
        if addr:
            mb.phys_free(addr, PMD_SIZE)
            real_end = addr + PMD_SIZE
        else:
            real_end = max(map_start, _rdown(map_end, PMD_SIZE))
        step = PMD_SIZE
        self.max_pfn_mapped = 0
        self.min_pfn_mapped = real_end >> 12
        last_start = real_end
        mapped = 0
        while last_start > map_start:
            # while mapped < step, chunks holding no memory change nothing but
            # last_start: jump to the chunk with the highest memory below (the
            # kernel walks a 16 TiB hole 2 MiB at a time, 8M iterations)
            skip = max(map_start, _rup(self._memory_end_below(last_start), step))
            if mapped < step and skip < _rdown(last_start - 1, step):
                last_start = skip
                self.min_pfn_mapped = last_start >> 12
                continue
            if last_start > step:
                start = _rdown(last_start - 1, step)
                if start < map_start:
                    start = map_start
            else:
                start = map_start
            mapped += self.init_range_memory_mapping(start, last_start)
            last_start = start
            self.min_pfn_mapped = last_start >> 12
            if mapped >= step:
                step <<= 8            # get_new_step_size(): PMD_SHIFT - PAGE_SHIFT - 1
        if real_end < map_end:
            self.init_range_memory_mapping(real_end, map_end)

    def _bottom_up(self, map_start, map_end):
        step = PMD_SIZE
        start = map_start
        self.min_pfn_mapped = start >> 12
        mapped = 0
        while start < map_end:
            # likewise bottom-up: empty chunks below the next memory are skipped
            if step and mapped < step:
                skip = min(map_end, _rdown(self._memory_start_from(start), step))
                if skip > start:
                    start = skip
                    continue
            if step and map_end - start > step:
                nxt = min(_rup(start + 1, step), map_end)
            else:
                nxt = map_end
            mapped += self.init_range_memory_mapping(start, nxt)
            start = nxt
            if mapped >= step:
                step <<= 8
                if step >= 1 << 64:
                    step = 0

    def run(self):
        """init_mem_mapping(): returns the new memblock current limit."""
        end = self.max_pfn << 12
        self.init_memory_mapping(0, ISA_END_ADDRESS)
        if self.mb.bottom_up:
            self._bottom_up(self.kernel_end, end)
            self._bottom_up(ISA_END_ADDRESS, self.kernel_end)
        else:
            self._top_down(ISA_END_ADDRESS, end)
        return self.max_pfn_mapped << 12
