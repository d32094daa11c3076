"""x86-64 NUMA initialisation: from SRAT ranges to online nodes.

Mirrors ``arch/x86/mm/numa.c`` (x86_numa_init, numa_init, numa_cleanup_meminfo,
numa_register_memblks, numa_clear_kernel_node_hotplug, numa_meminfo_cover_memory,
alloc_node_data, dummy_numa_init, numa_alloc_distance) as of 5.10 and 6.1, and
its successors ``mm/numa_memblks.c`` + ``mm/numa.c`` (numa_memblks_init,
numa_register_meminfo, numa_register_nodes, memblock_validate_numa_coverage)
as of 6.12 and 7.2.  Kernel differences come from the profile:

* cleanup bounds: [0, max_pfn) up to 6.1, [start_of_DRAM, end_of_DRAM) later;
* coverage check: numa_meminfo_cover_memory (>= 1 MiB uncovered rejects) up to
  6.1, memblock_validate_numa_coverage (> 1 MiB of nid-less memory) later;
* which nodes get NODE_DATA: nodes with a numa_meminfo block up to 6.1, nodes
  whose memblock memory has a non-empty pfn range later;
* NODE_DATA size (pg_data_t rounded to a page up to 6.1, to 64 bytes later).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..units import PAGE_SHIFT
from . import srat as srat_mod
from .printk import KernelLog
from .profile import KernelProfile

ULLONG_MAX = (1 << 64) - 1


@dataclass
class NumaMeminfo:
    """struct numa_meminfo plus numa_reserved_meminfo."""

    cap: int
    blks: list = field(default_factory=list)        # [start, end, nid] (mutable)
    reserved: list = field(default_factory=list)
    log: KernelLog = field(default_factory=KernelLog)

    def add(self, nid: int, start: int, end: int, to=None) -> int:
        """numa_add_memblk_to()."""
        target = self.blks if to is None else to
        if start == end:
            return 0  # zero-length blocks are accepted and ignored
        if start > end or nid < 0:
            self.log.append(f"Warning: invalid memblk node {nid} [mem {start:#010x}-{(end - 1) & ULLONG_MAX:#010x}]")
            return 0
        if len(target) >= self.cap:
            self.log.append("too many memblk ranges")
            return -22
        target.append([start, end, nid])
        return 0

    def fill(self, start: int, end: int) -> bool:
        """numa_fill_memblks(): stretch blocks overlapping a CFMWS window so
        they cover it whole; True when some block overlapped."""
        hits = sorted((b for b in self.blks if b[1] > start and b[0] < end), key=lambda b: b[0])
        if not hits:
            return False
        hits[0][0] = min(hits[0][0], start)
        hits[-1][1] = max(hits[-1][1], end)
        prev_end = hits[0][1]
        for b in hits[1:]:
            if b[0] > prev_end:
                b[0] = prev_end
            prev_end = b[1]
        return True

    def cleanup(self, low: int, high: int, memblock) -> str | None:
        """numa_cleanup_meminfo(); returns an error message or None."""
        mem = sorted((r.base, r.base + r.size) for r in memblock.memory if r.size)
        starts = [m[0] for m in mem]
        ends_max = []
        mx = 0
        for _, e in mem:
            mx = max(mx, e)
            ends_max.append(mx)

        def overlaps_memory(s, e):
            # memblock_overlaps_region(&memblock.memory, ...)
            i = bisect.bisect_left(starts, e)
            return i > 0 and ends_max[i - 1] > s

        i = 0
        while i < len(self.blks):
            b = self.blks[i]
            if not overlaps_memory(b[0], b[1]):
                self.reserved.append(self.blks.pop(i))
                continue
            b[0] = max(b[0], low)
            if b[1] > high:
                self.add(b[2], high, b[1], to=self.reserved)
                b[1] = high
            if b[0] >= b[1]:
                self.blks.pop(i)
                continue
            i += 1
        return self._merge()

    def _cross_overlap(self) -> bool:
        """Does any pair of blocks of different nodes overlap?"""
        ordered = sorted(self.blks, key=lambda b: b[0])
        best_end, best_nid = -1, None      # the furthest-reaching block so far
        second_end = -1                    # furthest end among blocks of another nid
        for s, e, nid in ordered:
            if best_nid is not None:
                if nid != best_nid and best_end > s:
                    return True
                if nid == best_nid and second_end > s:
                    return True
            if e > best_end:
                if nid != best_nid:
                    second_end = max(second_end, best_end)
                best_end, best_nid = e, nid
            elif nid != best_nid:
                second_end = max(second_end, e)
        return False

    def _merge(self) -> str | None:
        """The merge pass of numa_cleanup_meminfo(), in the kernel's (i, j)
        order.  When no blocks of different nodes overlap (the normal case) no
        pair of different nodes can ever trigger the overlap error, so only
        same-node pairs are visited; the "hole must not contain another node"
        test then uses a sorted index of the other nodes' blocks, which stays
        valid while one block i absorbs its neighbours."""
        blks = self.blks
        cross = self._cross_overlap()
        if not cross:
            return self._merge_same_node_only()
        version = 0
        cache: dict = {}
        i = 0
        while i < len(blks):
            bi = blks[i]
            key = bi[2]
            hit = cache.get(key)
            if hit is None or hit[0] != version:
                other = sorted((b[0], b[1]) for b in blks if b[2] != bi[2])
                o_max = []
                mx = -1
                for _, e in other:
                    mx = max(mx, e)
                    o_max.append(mx)
                hit = (version, [x[0] for x in other], o_max)
                cache[key] = hit
            _, o_starts, o_max = hit

            def other_hits(start, end):
                k = bisect.bisect_left(o_starts, end)
                return k > 0 and o_max[k - 1] > start

            j = i + 1
            while j < len(blks):
                bj = blks[j]
                if bj[2] != bi[2] and not cross:
                    j += 1
                    continue
                if bi[1] > bj[0] and bi[0] < bj[1]:
                    if bi[2] != bj[2]:
                        msg = (f"node {bi[2]} [mem {bi[0]:#010x}-{bi[1] - 1:#010x}] overlaps with "
                               f"node {bj[2]} [mem {bj[0]:#010x}-{bj[1] - 1:#010x}]")
                        self.log.append(msg)
                        return msg
                    self.log.append(f"Warning: node {bi[2]} [mem {bi[0]:#010x}-{bi[1] - 1:#010x}] overlaps "
                                    f"with itself [mem {bj[0]:#010x}-{bj[1] - 1:#010x}]")
                if bi[2] != bj[2]:
                    j += 1
                    continue
                start, end = min(bi[0], bj[0]), max(bi[1], bj[1])
                if other_hits(start, end):
                    j += 1
                    continue
                self.log.printf("NUMA: Node {} [mem {:#010x}-{:#010x}] + [mem {:#010x}-{:#010x}] -> "
                                "[mem {:#010x}-{:#010x}]", bi[2], bi[0], bi[1] - 1, bj[0], bj[1] - 1, start, end - 1)
                bi[0], bi[1] = start, end
                blks.pop(j)
                # other nodes' indexes no longer describe this node's blocks;
                # this node's own index (which excludes them) stays valid
                version += 1
                cache[bi[2]] = (version, o_starts, o_max)
            i += 1
        return None

    def _merge_same_node_only(self) -> None:
        """_merge() when no blocks of different nodes overlap: the same (i, j)
        order, but j only visits later blocks of i's node.

        "Does the merged span touch another node's block?" is answered from
        an index of all blocks sorted by start with, per prefix, the furthest
        end and the furthest end of a *different* node than that one, plus
        the few blocks grown since the index was built.  Blocks only grow, and
        a block absorbed by a merge lies inside its node's grown block, so a
        stale index plus the grown blocks gives the exact answer."""
        order = self.blks
        dead = set()
        by_nid: dict = {}
        for b in order:
            by_nid.setdefault(b[2], []).append(b)
        pos = {id(b): k for k, b in enumerate(order)}
        index = None
        grown: list = []

        def build():
            alive = sorted((b for b in order if id(b) not in dead), key=lambda b: b[0])
            starts, best_e, best_n, second_e = [], [], [], []
            be, bn, se = -1, None, -1
            for b0, b1, bnid in alive:
                if bnid == bn:
                    be = max(be, b1)
                elif b1 > be:
                    se, be, bn = be, b1, bnid
                else:
                    se = max(se, b1)
                starts.append(b0)
                best_e.append(be)
                best_n.append(bn)
                second_e.append(se)
            return starts, best_e, best_n, second_e

        # Upper bounds on the ends of the grown blocks: the largest end and its
        # node, and a bound on the ends of blocks of any other node (so that a
        # query usually skips the scan of ``grown``).
        gb = [-1, None, -1]

        def other_hits(nid, start, end):
            starts, best_e, best_n, second_e = index
            k = bisect.bisect_left(starts, end)
            if k > 0:
                lim = best_e[k - 1] if best_n[k - 1] != nid else second_e[k - 1]
                if lim > start:
                    return True
            if (gb[0] if gb[1] != nid else gb[2]) <= start:
                return False
            return any(g[2] != nid and g[0] < end and g[1] > start for g in grown)

        def note_growth(b):
            e, n = b[1], b[2]
            if n == gb[1]:
                gb[0] = max(gb[0], e)
            elif e > gb[0]:
                gb[2], gb[0], gb[1] = gb[0], e, n
            else:
                gb[2] = max(gb[2], e)

        index = build()
        for bi in order:
            if id(bi) in dead:
                continue
            nid = bi[2]
            me = pos[id(bi)]
            for bj in by_nid[nid]:
                if pos[id(bj)] <= me or id(bj) in dead:
                    continue
                if bi[1] > bj[0] and bi[0] < bj[1]:
                    self.log.append(f"Warning: node {nid} [mem {bi[0]:#010x}-{bi[1] - 1:#010x}] overlaps "
                                    f"with itself [mem {bj[0]:#010x}-{bj[1] - 1:#010x}]")
                start, end = min(bi[0], bj[0]), max(bi[1], bj[1])
                if other_hits(nid, start, end):
                    continue
                self.log.printf("NUMA: Node {} [mem {:#010x}-{:#010x}] + [mem {:#010x}-{:#010x}] -> "
                                "[mem {:#010x}-{:#010x}]", nid, bi[0], bi[1] - 1, bj[0], bj[1] - 1, start, end - 1)
                bi[0], bi[1] = start, end
                dead.add(id(bj))
                if not grown or grown[-1] is not bi:
                    grown.append(bi)
                note_growth(bi)
                if len(grown) > 64:
                    index = build()
                    grown = []
                    gb[:] = [-1, None, -1]
        self.blks[:] = [b for b in order if id(b) not in dead]
        return None

    def node_span(self, nid: int) -> tuple[int, int] | None:
        spans = [(b[0], b[1]) for b in self.blks if b[2] == nid]
        if not spans:
            return None
        return min(s for s, _ in spans), max(e for _, e in spans)


@dataclass(frozen=True)
class NodeData:
    nid: int
    start: int
    end: int            # exclusive
    on_node: int        # node whose memory holds it (early_pfn_to_nid)


@dataclass
class NumaResult:
    mode: str = "dummy"                   # "srat" or "dummy"
    reason: str | None = None             # why the SRAT was not used
    attempts: list = field(default_factory=list)   # (init name, error or None)
    srat: srat_mod.SratResult | None = None
    pxm: srat_mod.PxmMap | None = None
    blocks: list = field(default_factory=list)     # [(start, end, nid)] after cleanup
    reserved_blocks: list = field(default_factory=list)
    nodes_parsed: set = field(default_factory=set)
    possible: set = field(default_factory=set)
    online: set = field(default_factory=set)       # nodes with NODE_DATA after registration
    node_data: dict = field(default_factory=dict)  # nid -> NodeData
    reserved_nodemask: set = field(default_factory=set)
    cleared_by: dict = field(default_factory=dict)  # nid -> sorted labels of reservations inside it
    hotplug_before_clear: set = field(default_factory=set)
    distance_table: tuple | None = None            # (base, size)
    node_data_failed: list = field(default_factory=list)   # nids whose alloc_node_data() found no memory
    log: KernelLog = field(default_factory=KernelLog)



def _pfn_ranges(memblock, nid=None):
    """for_each_mem_pfn_range(): (PFN_UP(base), PFN_DOWN(end), nid) per region."""
    for base, size, rnid in memblock.memory_spans():
        if nid is not None and rnid != nid:
            continue
        s = (base + 4095) >> PAGE_SHIFT
        e = (base + size) >> PAGE_SHIFT
        if s < e:
            yield s, e, rnid


def _absent_pages(memblock, nid, s, e) -> int:
    """__absent_pages_in_range(nid, s, e); nid None means any node."""
    present = 0
    for rs, re_, rnid in _pfn_ranges(memblock):
        if nid is not None and rnid != nid:
            continue
        a, b = max(rs, s), min(re_, e)
        if a < b:
            present += b - a
    return (e - s) - present


class NumaInit:
    """Runs x86_numa_init() against a memblock engine.

    ``labels(start, end)`` returns the labels of modelled reservations that
    intersect [start, end) (setup.py keeps them), so the plan can say which
    reservation cleared a node's hotplug flag.
    """

    def __init__(self, *, profile: KernelProfile, memblock, max_pfn: int, max_pfn_mapped: int,
                 srat_raw: bytes | None, slit_raw: bytes | None, cfmws_windows=(),
                 numa_off=False, numa_noacpi=False, acpi_off=False, x2apic_mode=True,
                 labels=None):
        self.p = profile
        self.mb = memblock
        self.max_pfn = max_pfn
        self.max_pfn_mapped = max_pfn_mapped
        self.srat_raw = srat_raw
        self.slit_raw = slit_raw
        self.cfmws = tuple(cfmws_windows)
        self.numa_off = numa_off
        self.numa_noacpi = numa_noacpi
        self.acpi_off = acpi_off
        self.x2apic_mode = x2apic_mode
        self.labels = labels or (lambda s, e: set())
        self.pxm = srat_mod.PxmMap(max_numnodes=profile.max_numnodes,
                                   max_pxm_domains=max(profile.max_numnodes, 256), numa_off=numa_off)
        self.distance = None   # (base, size) of the live numa_distance table
        self.res = NumaResult(pxm=self.pxm)

    # --- x86_numa_init ---------------------------------------------------
    def run(self) -> NumaResult:
        res = self.res
        if not self.numa_off:
            err = self._numa_init("srat")
            res.attempts.append(("srat", err))
            if err is None:
                res.mode = "srat"
                return res
            res.reason = err
            # amd_numa_init() reads AMD northbridge registers, which sratplan
            # cannot see; it fails on QEMU and on every Intel machine.
            res.attempts.append(("amd", "AMD northbridge NUMA not modelled (assumed absent)"))
        else:
            res.reason = "numa=off"
        err = self._numa_init("dummy")
        res.attempts.append(("dummy", err))
        res.mode = "dummy"
        return res

    def _numa_init(self, kind: str) -> str | None:
        mb, p, res = self.mb, self.p, self.res
        meminfo = NumaMeminfo(cap=2 * p.max_numnodes, log=res.log)
        nodes_parsed: set = set()
        # numa_init()/numa_memblks_init() preamble
        mb.set_node(0, ULLONG_MAX, p.nid_none, which="memory")
        mb.set_node(0, ULLONG_MAX, p.nid_none, which="reserved")
        mb.clear_hotplug(0, ULLONG_MAX)
        if self.distance is not None:   # numa_reset_distance()
            mb.phys_free(*self.distance)
            self.distance = None
            res.distance_table = None

        if kind == "srat":
            sres = srat_mod.acpi_numa_init(
                self.srat_raw, profile=p, memblock=mb, pxm=self.pxm, meminfo=meminfo,
                slit_raw=self.slit_raw, cfmws_windows=self.cfmws if p.cfmws_fake_nodes else (),
                acpi_disabled=self.acpi_off, srat_disabled=self.numa_noacpi,
                x2apic_mode=self.x2apic_mode)
            res.srat = sres
            res.log.extend(sres.log)
            nodes_parsed = set(sres.nodes_parsed)
            if sres.slit_distance:
                self._alloc_distance(nodes_parsed, meminfo)
            if sres.rc < 0:
                return self._srat_failure(sres)
        else:
            res.log.append("NUMA turned off" if self.numa_off else "No NUMA configuration found")
            top = self.max_pfn << PAGE_SHIFT
            res.log.append(f"Faking a node at [mem {0:#018x}-{top - 1:#018x}]")
            nodes_parsed = {0}
            meminfo.add(0, 0, top)

        mb.set_bottom_up(False)   # movable_node's bottom-up window ends here

        if p.numa_cleanup_dram_bounds:
            low, high = mb.start_of_dram(), mb.end_of_dram()
        else:
            low, high = 0, self.max_pfn << PAGE_SHIFT
        err = meminfo.cleanup(low, high, mb)
        if err:
            return err

        # numa_register_memblks() / numa_register_meminfo()
        possible = set(nodes_parsed) | {b[2] for b in meminfo.blks}
        if not possible:
            return "no possible nodes"
        for (s, e, nid) in meminfo.blks:
            mb.set_node(s, e - s, nid, which="memory")
        res.hotplug_before_clear = {r.nid for r in mb.memory if r.flags & p.flag_hotplug}
        self._clear_kernel_node_hotplug(meminfo)

        if p.numa_coverage_check == "meminfo":
            err = self._cover_memory_meminfo(meminfo)
        else:
            err = self._validate_coverage_memblock()
        if err:
            return err

        res.blocks = [tuple(b) for b in meminfo.blks]
        res.reserved_blocks = [tuple(b) for b in meminfo.reserved]
        res.nodes_parsed = nodes_parsed
        res.possible = possible
        for nid in sorted(possible):
            if p.numa_register_by == "meminfo":
                span = meminfo.node_span(nid)
                has = span is not None and span[0] < span[1]
            else:
                has = any(True for _ in _pfn_ranges(mb, nid))
            if not has:
                continue
            self._alloc_node_data(nid)
        return None

    def _srat_failure(self, sres) -> str:
        if sres.bad_srat:
            return f"SRAT not used: {sres.bad_srat}"
        if sres.zero_length_at is not None:
            return f"zero-length subtable at offset 0x{sres.zero_length_at:x} aborted the memory pass"
        if self.acpi_off:
            return "acpi=off"
        if self.numa_noacpi:
            return "numa=noacpi"
        if self.srat_raw is None:
            return "no SRAT"
        return "the SRAT has no enabled memory affinity entry"

    def _alloc_distance(self, nodes_parsed, meminfo):
        """numa_alloc_distance(): (highest parsed node + 1)^2 bytes, page aligned."""
        nodes = set(nodes_parsed) | {b[2] for b in meminfo.blks}
        cnt = (max(nodes) + 1) if nodes else 1
        size = cnt * cnt
        base = self.mb.phys_alloc_range(size, 4096, 0, self.max_pfn_mapped << PAGE_SHIFT)
        if base:
            self.distance = (base, size)
            self.res.distance_table = (base, size)

    def _clear_kernel_node_hotplug(self, meminfo):
        mb, p, res = self.mb, self.p, self.res
        for (s, e, nid) in meminfo.blks:
            mb.set_node(s, e - s, nid, which="reserved")
        mask = set()
        for r in mb.reserved:
            if p.valid_nid(r.nid):
                mask.add(r.nid)
        res.reserved_nodemask = mask
        for (s, e, nid) in meminfo.blks:
            if nid not in mask:
                continue
            mb.clear_hotplug(s, e - s)
        # which modelled reservations made each node non-hotpluggable
        by_node: dict = {}
        for r in mb.reserved:
            if p.valid_nid(r.nid):
                by_node.setdefault(r.nid, set()).update(self.labels(r.base, r.base + r.size))
        res.cleared_by = {nid: sorted(v) for nid, v in by_node.items()}

    def _cover_memory_meminfo(self, meminfo) -> str | None:
        """numa_meminfo_cover_memory() (<= 6.1)."""
        numaram = 0
        for (s, e, nid) in meminfo.blks:
            ps, pe = s >> PAGE_SHIFT, e >> PAGE_SHIFT
            numaram += pe - ps
            numaram -= _absent_pages(self.mb, nid, ps, pe)
            if numaram < 0:
                numaram = 0
        e820ram = self.max_pfn - _absent_pages(self.mb, None, 0, self.max_pfn)
        if e820ram - numaram >= 1 << (20 - PAGE_SHIFT):
            msg = (f"NUMA: nodes only cover {(numaram << PAGE_SHIFT) >> 20}MB of your "
                   f"{(e820ram << PAGE_SHIFT) >> 20}MB e820 RAM. Not used.")
            self.res.log.append(msg)
            return msg
        return None

    def _validate_coverage_memblock(self) -> str | None:
        """memblock_validate_numa_coverage(SZ_1M) (6.8+)."""
        nr = sum(e - s for s, e, nid in _pfn_ranges(self.mb) if not self.p.valid_nid(nid))
        if (nr << PAGE_SHIFT) > (1 << 20):
            msg = (f"NUMA: no nodes coverage for {(nr << PAGE_SHIFT) >> 20}MB of "
                   f"{self.mb.memory_size() >> 20}MB RAM")
            self.res.log.append(msg)
            return msg
        return None

    def _alloc_node_data(self, nid):
        p, mb, res = self.p, self.mb, self.res
        size = p.node_data_size
        base = mb.phys_alloc_try_nid(size, 64, nid)
        if not base:
            # 5.10/6.1 print this and return, leaving NODE_DATA(nid) NULL for
            # free_area_init() to dereference; 6.12+ panic right here
            res.log.append(f"Cannot find {size} bytes in any node (initial node: {nid})")
            res.node_data_failed.append(nid)
            return
        on = self.nid_of(base)
        res.node_data[nid] = NodeData(nid, base, base + size, on)
        res.online.add(nid)
        res.log.append(f"NODE_DATA({nid}) allocated [mem {base:#010x}-{base + size - 1:#010x}]")
        if on != nid:
            res.log.append(f"    NODE_DATA({nid}) on node {on}")

    def nid_of(self, addr: int) -> int:
        """early_pfn_to_nid(): node of the memory region holding addr."""
        return self.mb.memory_nid_at(addr)


def init_cpu_to_node(numa: NumaResult, cpus: int) -> list[int]:
    """The node of every possible CPU (early_cpu_to_node after boot).

    numa_init_array() runs before any CPU has a node, so CPU i first gets the
    i-th online node round robin; init_cpu_to_node() then moves the CPUs whose
    APIC id the SRAT lists to their SRAT node (in table order)."""
    online = sorted(numa.online) or [0]
    nodes = []
    if numa.mode == "srat" and numa.srat is not None:
        nodes = [c.node for c in numa.srat.cpus][:cpus]
    while len(nodes) < cpus:
        nodes.append(online[len(nodes) % len(online)])
    return nodes
