"""Replay a ``memblock=debug`` boot log through the memblock engine
(x86-64 boots of Linux 5.10 -- with and without the pre-5.11 kernel_end rule --,
6.1, 6.12 and 7.x; the rules of each come from
the kernel profile picked from the log's ``Linux version`` line).

The log is read by :mod:`sratplan.kernel.memblock_log`; every memblock
operation it shows is re-executed, in the kernel's order, on a
:class:`~sratplan.kernel.memblock.Memblock` built for the log's kernel, and
every allocation the engine places is compared with the address the kernel
printed (the ``memblock_reserve`` line that follows the request), every
``memblock_dump_all`` table with the engine's own dump.

What the log does not print is reconstructed from the kernel source:

* reservations made before ``memblock=debug`` is parsed (kernel image,
  initrd, low pages -- ``early_reserve_memory``) are seeded from the first
  dump: the parts of its reserved regions no logged reserve covers;
* ``e820__memblock_setup``: current limit 1 MiB, then (7.x) KHO scratch on
  [0, 1M) and ``memblock_trim_memory(PAGE_SIZE)`` before the first dump;
  ``reserve_real_mode`` clears the KHO mark after reserving [0, 1M);
* ``memblock_set_current_limit(get_max_mapped())`` after ``init_mem_mapping``
  (applied at the first later ``RAMDISK:``/``ACPI:``/NUMA line);
* ``movable_node`` on the command line: bottom-up from the start, back to
  top-down when NUMA registration starts; for a profile with the pre-5.11
  kernel_end rule, ``__pa_symbol(_end)`` is the brk start of the
  ``reserve_brk`` line (``__end_of_kernel_reserve``) plus the profile's
  ``image_end_after_reserve``, and the rule's "bottom-up allocation failed"
  warning is predicted and compared with the log's;
* x86 NUMA init (arch/x86/mm/numa.c, mm/numa_memblks.c): each attempt resets
  nids and hotplug flags; ``ACPI: SRAT: Node … [mem …] hotplug`` lines are
  ``numa_add_memblk`` + ``memblock_mark_hotplug``; ``Faking a node at`` is
  the dummy node; at registration the blocks are cleaned up
  (``numa_cleanup_meminfo``), set on memory and reserved, and
  ``numa_clear_kernel_node_hotplug`` runs;
* ``NODE_DATA(n)`` allocations (``memblock_phys_alloc_try_nid``, which prints
  no request line) are predicted from their size and node;
* 5.10 crash kernel reservations (``memblock_phys_alloc_range`` prints no
  request line in 5.10) are predicted from ``crashkernel=`` with the windows of
  arch/x86/kernel/setup.c:reserve_crashkernel / reserve_crashkernel_low.

After a disagreement the engine is put back on the kernel's track (the
allocation is moved to where the kernel put it, a dump's regions are loaded),
so one miss is reported once instead of cascading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import InputError, LimitError
from .inputs import read_text
from .intervals import subtract
from .kernel import memblock_log as mlog
from .kernel.cmdline import parse_cmdline, resolve_crashkernel
from .kernel.memblock import PAGE_SIZE, SMP_CACHE_BYTES, Memblock, Region
from .kernel.numa import NumaMeminfo
from .kernel.profile import KernelProfile, get_profile, profile_for_release
from .kernel.swiotlb import swiotlb_slabs
from .units import SZ_1M, SZ_4G

# arch/x86/kernel/setup.c (5.10, x86-64): CRASH_ALIGN, CRASH_ADDR_HIGH_MAX
CRASH_ALIGN = 16 << 20
CRASH_ADDR_HIGH_MAX = 64 << 40
ULLONG_MAX = (1 << 64) - 1

SCHEMA = "sratplan.replay/1"

# Region arrays start at 128 entries and double on demand; real boots stay in
# the thousands.  Past this the log is not a boot (and the replay, like the
# kernel's memmove-based arrays, would turn quadratic).
MAX_REGIONS = 1 << 15


@dataclass(frozen=True)
class AllocResult:
    index: int
    line: int
    func: str                     # memblock_alloc_try_nid, ..., or alloc_node_data
    caller: str
    size: int
    align: int
    nid: int
    min_addr: int
    max_addr: int
    predicted: int                # 0 = the engine finds no room
    actual: int                   # 0 = the kernel printed no reservation (failed)
    predicted_nid: int | None = None     # 7.x: nid/flags of the reservation
    predicted_flags: int | None = None
    actual_nid: int | None = None
    actual_flags: int | None = None

    @property
    def match(self) -> bool:
        if self.predicted != self.actual:
            return False
        if self.actual_nid is not None and self.predicted_nid is not None:
            return self.predicted_nid == self.actual_nid and self.predicted_flags == self.actual_flags
        return True

    def to_json(self) -> dict:
        d = {"index": self.index, "line": self.line, "function": self.func, "caller": self.caller,
             "size": self.size, "align": _h(self.align), "nid": self.nid,
             "min_addr": _h(self.min_addr), "max_addr": _h(self.max_addr),
             "predicted": _h(self.predicted), "actual": _h(self.actual), "match": self.match}
        if self.actual_nid is not None:
            d["reserve"] = {"predicted_nid": self.predicted_nid, "predicted_flags": self.predicted_flags,
                            "actual_nid": self.actual_nid, "actual_flags": self.actual_flags}
        return d


@dataclass(frozen=True)
class DumpResult:
    index: int
    line: int
    regions: int                  # regions the kernel printed (memory + reserved)
    matched_regions: int
    header_match: bool
    diff: tuple[tuple[str, str], ...]   # (kernel line, engine line); "" where one side has none
    kernel_table: tuple[str, ...] = ()  # the table as the kernel printed it
    engine_table: tuple[str, ...] = ()  # Memblock.dump() at the same point

    @property
    def match(self) -> bool:
        return self.header_match and self.matched_regions == self.regions and not self.diff

    def to_json(self) -> dict:
        return {"index": self.index, "line": self.line, "regions": self.regions,
                "matched_regions": self.matched_regions, "header_match": self.header_match,
                "match": self.match, "diff": [{"kernel": a, "engine": b} for a, b in self.diff],
                "kernel_table": list(self.kernel_table), "engine_table": list(self.engine_table)}


@dataclass(frozen=True)
class ReplayResult:
    path: str | None
    release: str | None
    profile: str
    profile_note: str
    movable_node: bool
    allocations: tuple[AllocResult, ...]
    dumps: tuple[DumpResult, ...]
    seeded: tuple[Region, ...]            # reservations taken from the first dump
    notes: tuple[str, ...] = field(default=())
    # allocator reservations (memblock_alloc_range_nid) with no request line the
    # replay could pair them with, applied as printed: (line, base, size)
    unrequested: tuple[tuple[int, int, int], ...] = field(default=())
    # the pre-5.11 rule's WARN_ONCE: the log line where the kernel printed it
    # and the log line being replayed when the engine's search fell back
    # top-down (None: no warning)
    bottom_up_warning: tuple[int | None, int | None] = field(default=(None, None))

    @property
    def warning_match(self) -> bool:
        kernel, engine = self.bottom_up_warning
        return (kernel is None) == (engine is None)

    @property
    def alloc_matches(self) -> int:
        return sum(a.match for a in self.allocations)

    @property
    def region_count(self) -> int:
        return sum(d.regions for d in self.dumps)

    @property
    def region_matches(self) -> int:
        return sum(d.matched_regions for d in self.dumps)

    @property
    def ok(self) -> bool:
        return all(a.match for a in self.allocations) and all(d.match for d in self.dumps) and self.warning_match

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA, "path": self.path, "release": self.release, "kernel": self.profile,
            "profile_note": self.profile_note, "movable_node": self.movable_node, "ok": self.ok,
            "summary": {"allocations": len(self.allocations), "allocations_matched": self.alloc_matches,
                        "dumps": len(self.dumps), "dumps_matched": sum(d.match for d in self.dumps),
                        "regions": self.region_count, "regions_matched": self.region_matches},
            "seeded_reservations": [{"base": _h(r.base), "size": _h(r.size), "flags": _h(r.flags)}
                                    for r in self.seeded],
            "allocations": [a.to_json() for a in self.allocations],
            "dumps": [d.to_json() for d in self.dumps],
            "unrequested_reservations": [{"line": ln, "base": _h(b), "size": _h(sz)}
                                         for ln, b, sz in self.unrequested],
            "bottom_up_warning": {"kernel_line": self.bottom_up_warning[0],
                                  "engine_line": self.bottom_up_warning[1], "match": self.warning_match},
            "notes": list(self.notes),
        }


def _h(v: int) -> str:
    return f"{v:#x}"


MAX_LOG_BYTES = 64 << 20


def replay_file(path: str, *, kernel: str | None = None) -> ReplayResult:
    return replay_text(read_text(path, MAX_LOG_BYTES, what="boot log"), kernel=kernel, path=str(path))


def replay_text(text: str, *, kernel: str | None = None, path: str | None = None) -> ReplayResult:
    """Replay a boot log.  Raises InputError when the text is not a boot log
    with a memblock=debug trace."""
    log = mlog.parse(text)
    if log.release is None and not log.has_trace:
        raise InputError("not a Linux boot log (no 'Linux version' line, no memblock lines)", path=path)
    if not log.has_trace:
        raise InputError("the log has no memblock=debug trace (boot with memblock=debug)", path=path)
    if not log.dumps:
        raise InputError("the log has memblock lines but no memblock_dump_all table", path=path)
    if kernel is not None:
        prof = get_profile(kernel)
        note = f"profile {prof.name} (--kernel)"
    elif log.release:
        prof, note = profile_for_release(log.release)
    else:
        prof = get_profile(None)
        note = f"no 'Linux version' line; using profile {prof.name}"
    return _Replayer(log, prof, note, path).run()


class _Replayer:
    def __init__(self, log: mlog.MemblockLog, prof: KernelProfile, note: str, path: str | None):
        self.log = log
        self.p = prof
        self.note = note
        self.path = path
        self.movable = log.cmdline_has("movable_node")
        self.mb = Memblock(prof, movable_node=self.movable,
                           mirrored_kernelcore=log.cmdline_value("kernelcore") == "mirror")
        self.mb.trace = []
        if self.movable:
            # setup_arch (<= 6.12) / e820__memblock_setup (7.x): bottom-up
            # before any memblock allocation is made.
            self.mb.set_bottom_up(True)
        self.allocs: list[AllocResult] = []
        self.dumps: list[DumpResult] = []
        self.seeded: list[Region] = []
        self.notes: list[str] = []
        self.unrequested: list[tuple[int, int, int]] = []
        self.stage = "early"        # early -> e820 -> low1m -> mapped
        self.kho_marked = False
        self.numa: NumaMeminfo | None = None    # current attempt, not yet registered
        self.numa_registered = False
        self._doubles_seen: set[int] = set()
        self._consumed: set[int] = set()
        self.numa_dummy = False
        self._crash_req = None          # CrashkernelRequest, False (none), None (not read yet)
        self._crash_stage = None        # None -> "main" | "main_high" -> "done"
        self._warn_kernel: int | None = None    # line of the kernel's bottom-up warning
        self._warn_engine: int | None = None    # line replayed when the engine's search fell back

    # ------------------------------------------------------------------ run
    def run(self) -> ReplayResult:
        ev = self.log.events
        i = 0
        while i < len(ev):
            e = ev[i]
            if i in self._consumed:       # an allocation's reservation, already replayed
                i += 1
                continue
            i = self._step(ev, i, e)
            if self._warn_engine is None and self.mb.bottom_up_fallbacks:
                self._warn_engine = e.line
            for which in ("memory", "reserved"):
                if self.mb.region_count(which) > MAX_REGIONS:
                    raise LimitError(f"more than {MAX_REGIONS} memblock.{which} regions; "
                                     "not a boot this tool can replay", path=self.path, line=e.line)
        self._warning_notes()
        return ReplayResult(self.path, self.log.release, self.p.name, self.note, self.movable,
                            tuple(self.allocs), tuple(self.dumps), tuple(self.seeded), tuple(self.notes),
                            tuple(self.unrequested), (self._warn_kernel, self._warn_engine))

    def _warning_notes(self) -> None:
        if not (self.p.bottom_up_above_kernel and self.movable):
            if self._warn_kernel is not None:
                self.notes.append(f"line {self._warn_kernel}: the kernel warned that a bottom-up allocation "
                                  f"failed, which profile {self.p.name} does not model (no kernel_end rule)")
            return
        if self.mb.kernel_end is None:
            self.notes.append("no reserve_brk line before e820 setup: the end of the kernel image is unknown, "
                              "bottom-up searches were replayed from their start")
        k, e = self._warn_kernel, self._warn_engine
        if k is not None and e is not None:
            self.notes.append(f"line {k}: the kernel warned 'memblock: bottom-up allocation failed'; the engine's "
                              f"search fell back top-down at line {e}")
        elif k is not None:
            self.notes.append(f"line {k}: the kernel warned 'memblock: bottom-up allocation failed'; "
                              "the engine found room above the kernel image every time")
        elif e is not None:
            self.notes.append(f"line {e}: the engine's bottom-up search found nothing above the kernel image and "
                              "fell back top-down; the kernel printed no warning")


    def _step(self, ev, i: int, e: mlog.Event) -> int:
        k = e.kind
        if k in ("srat_mem", "numa_fallback", "fake_node"):
            self._mapped()
            self._numa_line(e)
            return i + 1
        if k in ("ramdisk", "acpi"):
            self._mapped()
            return i + 1
        if k == "node_data":
            return i + 1
        if k == "dump":
            self._maybe_register(e)
            self._dump(self.log.dumps[e.size], first=not self.dumps)
            return i + 1
        if k == "request":
            if not self._in_init_func(e):
                self._maybe_register(e)
            return self._request(ev, i, e)
        if k == "reserve" and e.caller_fn == "memblock_alloc_range_nid":
            # an allocation whose request is not logged: memblock_phys_alloc_try_nid
            # from alloc_node_data, or (5.10, which logs no memblock_phys_alloc_range
            # request) reserve_crashkernel / reserve_crashkernel_low
            self._maybe_register(e)
            if not self._followed_by_node_data(ev, i, e) and self._crash_reserve_follows(ev, i):
                return self._crashkernel(i, e)
            return self._node_data(ev, i, e)
        if k == "crashkernel":
            self._crashkernel_message(ev, i, e)
            return i + 1
        if k == "bottom_up_warn":
            if self._warn_kernel is None:
                self._warn_kernel = e.line
            return i + 1
        if k == "reserve" and e.caller_fn == "memblock_double_array":
            return self._doubled_array(i, e)
        if k == "reserve" and e.caller_fn in _FOUND_THEN_RESERVED and not (e.base == 0 and e.size == SZ_1M):
            if not self._in_init_func(e):
                self._maybe_register(e)
            return self._found_then_reserved(i, e)
        if k == "free_late":
            # memblock_free_late() hands pages to the buddy allocator; it does
            # not touch memblock.reserved (mm/memblock.c)
            return i + 1
        if k in ("add", "add_node", "reserve", "remove", "phys_free"):
            if k != "add" and not self._in_init_func(e):
                self._maybe_register(e)
            self._plain(e)
            return i + 1
        return i + 1

    # ------------------------------------------------------- stage changes
    def _plain(self, e: mlog.Event) -> None:
        mb = self.mb
        if e.kind == "add":
            if self.stage == "early":
                # e820__memblock_setup: current limit 1M, arrays may grow
                self.stage = "e820"
                mb.set_current_limit(SZ_1M)
                mb.allow_resize()
            mb.add(e.base, e.size)
        elif e.kind == "add_node":
            mb.add_node(e.base, e.size, e.nid if e.nid is not None else self.p.memblock_add_nid, e.flags or 0)
        elif e.kind == "reserve":
            if self.stage == "early" and e.caller_fn == "setup_arch" and mb.kernel_end is None:
                # reserve_brk(): the only setup_arch reservation logged before
                # e820__memblock_setup; the brk starts at __end_of_kernel_reserve
                # and _end lies a build constant above it
                mb.kernel_end = e.base + self.p.image_end_after_reserve
            mb.reserve(e.base, e.size, e.nid if e.nid is not None else None, e.flags or 0)
            if e.base == 0 and e.size == SZ_1M and self.kho_marked:
                # reserve_real_mode(): memblock_reserve(0, SZ_1M) then clear KHO scratch
                mb.clear_kho_scratch(0, SZ_1M)
                self.kho_marked = False
        elif e.kind == "remove":
            mb.remove(e.base, e.size)
        elif e.kind == "phys_free":
            mb.phys_free(e.base, e.size)

    def _mapped(self) -> None:
        """memblock_set_current_limit(get_max_mapped()) after init_mem_mapping."""
        if self.stage == "low1m":
            self.stage = "mapped"
            if self.kho_marked:
                self.mb.clear_kho_scratch(0, SZ_1M)
                self.kho_marked = False
            top = (self.log.max_pfn << 12) if self.log.max_pfn else self.mb.end_of_dram()
            self.mb.set_current_limit(top)

    # ---------------------------------------------------------------- NUMA
    @staticmethod
    def _in_init_func(e: mlog.Event) -> bool:
        # numa_alloc_distance() runs inside the SRAT/SLIT parse (init_func)
        return e.caller_fn == "numa_alloc_distance"

    def _numa_line(self, e: mlog.Event) -> None:
        if self.numa_registered:
            # x86 NUMA init runs once; a later line of this shape is not part of it
            self.notes.append(f"line {e.line}: NUMA message after NUMA registration ignored")
            return
        if e.kind == "numa_fallback":
            self._numa_preamble(dummy=True)
            return
        if e.kind == "fake_node":
            if self.numa is None or not self.numa_dummy:
                self._numa_preamble(dummy=True)
            self.numa.add(0, e.base, e.end)
            return
        # "ACPI: SRAT: Node N PXM P [mem a-b] hotplug": numa_add_memblk, then
        # memblock_mark_hotplug (acpi_numa_memory_affinity_init)
        if self.numa is None or self.numa_dummy:
            self._numa_preamble(dummy=False)
        self.numa.add(e.nid, e.base, e.end)
        if e.hotplug:
            self.mb.mark_hotplug(e.base, e.size)

    def _numa_preamble(self, *, dummy: bool) -> None:
        """numa_init() / numa_memblks_init() before init_func()."""
        mb = self.mb
        mb.set_node(0, ULLONG_MAX, self.p.nid_none, which="memory")
        mb.set_node(0, ULLONG_MAX, self.p.nid_none, which="reserved")
        mb.clear_hotplug(0, ULLONG_MAX)
        self.numa = NumaMeminfo(cap=2 * self.p.max_numnodes)
        self.numa_dummy = dummy

    def _maybe_register(self, e: mlog.Event) -> None:
        """numa_register_memblks / numa_register_meminfo for the pending attempt."""
        mi = self.numa
        if mi is None:
            return
        self.numa = None
        self.numa_registered = True
        mb, p = self.mb, self.p
        mb.set_bottom_up(False)
        if p.numa_cleanup_dram_bounds:
            low, high = mb.start_of_dram(), mb.end_of_dram()
        else:
            low, high = 0, ((self.log.max_pfn << 12) if self.log.max_pfn else mb.end_of_dram())
        err = mi.cleanup(low, high, mb)
        if err:
            self.notes.append(f"line {e.line}: NUMA cleanup failed before this line ({err})")
            return
        for s, end, nid in mi.blks:
            mb.set_node(s, end - s, nid, which="memory")
        # numa_clear_kernel_node_hotplug
        for s, end, nid in mi.blks:
            mb.set_node(s, end - s, nid, which="reserved")
        nodes = {r.nid for r in mb.reserved if p.valid_nid(r.nid)}
        for s, end, nid in mi.blks:
            if nid in nodes:
                mb.clear_hotplug(s, end - s)

    # ---------------------------------------------------------- allocations
    def _next_alloc_reserve(self, ev, j: int):
        """The reservation an allocation made: the next memblock line, if it
        is a reserve by memblock_alloc_range_nid."""
        while j < len(ev) and ev[j].kind in ("doubled", "acpi", "ramdisk", "node_data"):
            j += 1
        if j < len(ev) and ev[j].kind == "reserve" and ev[j].caller_fn == "memblock_alloc_range_nid":
            return ev[j], j
        return None, j

    def _request(self, ev, i: int, e: mlog.Event) -> int:
        mb = self.mb
        res, j = self._next_alloc_reserve(ev, i + 1)
        start = len(mb.trace)
        nid = e.nid if e.nid is not None else -1
        if e.func == "memblock_phys_alloc_range":
            got = mb.phys_alloc_range(e.size, e.align, e.min_addr, e.max_addr)
        elif e.func == "memblock_alloc_exact_nid_raw":
            got = mb.alloc_exact_nid_raw(e.size, e.align, e.min_addr, e.max_addr, nid)
        else:
            got = mb.alloc_try_nid(e.size, e.align, e.min_addr, e.max_addr, nid,
                                   raw=e.func.endswith("_raw"))
        self._record(e, e.func, nid, got, res, start)
        if res is not None:
            self._consumed.add(j)
        return i + 1

    @staticmethod
    def _followed_by_node_data(ev, i: int, e: mlog.Event) -> bool:
        return any(f.kind == "node_data" and f.base == e.base for f in ev[i + 1:i + 4])

    @staticmethod
    def _crash_reserve_follows(ev, i: int) -> bool:
        """A crashkernel message before the next memblock operation other than
        the low part's reservation: "Reserving …MB of [low ]memory at …MB for
        crashkernel" (or "Cannot reserve …MB crashkernel low memory")."""
        for f in ev[i + 1:i + 4]:
            if f.kind == "crashkernel":
                return f.func in ("main", "low", "low_failed")
            if not (f.kind == "reserve" and f.caller_fn == "memblock_alloc_range_nid"):
                return False
        return False

    # ---------------------------------------------------------- crashkernel
    def _crash_request(self):
        """What reserve_crashkernel() asks for (5.10: parse_crashkernel against
        memblock_phys_mem_size(), then the ,high form)."""
        if self._crash_req is None:
            raw = self.log.cmdline or ""
            req, _ = resolve_crashkernel(raw, self.mb.memory_size(), self.p) if "crashkernel=" in raw else (None, ())
            self._crash_req = req or False
        return self._crash_req or None

    def _crash_attempts(self, low: bool):
        """The memblock_phys_alloc_range() calls of arch/x86/kernel/setup.c
        (5.10), as (size, align, start, end), tried in order until one
        succeeds."""
        req = self._crash_request()
        if req is None:
            return []
        if low:
            # reserve_crashkernel_low(): ",low" or max(swiotlb + 8M, 256M), below 4G
            size = req.low_size
            if size is None:
                nslabs, _ = swiotlb_slabs(parse_cmdline(self.log.cmdline or "", self.p))
                size = max((nslabs << 11 if nslabs else 64 << 20) + (8 << 20), 256 << 20)
            return [(size, CRASH_ALIGN, 0, SZ_4G)] if size else []
        if req.base:
            # a fixed base: only [base, base + size) will do
            return [(req.size, SZ_1M, req.base, req.base + req.size)]
        tries = [] if req.high else [(req.size, CRASH_ALIGN, CRASH_ALIGN, SZ_4G)]
        return tries + [(req.size, CRASH_ALIGN, CRASH_ALIGN, CRASH_ADDR_HIGH_MAX)]

    def _crash_alloc(self, res: mlog.Event | None, line: int, caller: str) -> None:
        """Replay one crashkernel part: main first, then (main above 4 GiB)
        the low part; *res* is the kernel's reservation (None: it failed)."""
        low = self._crash_stage == "main_high"
        attempts = self._crash_attempts(low)
        self._crash_stage = "done" if low else "main"
        if not attempts:
            if res is not None:
                self.notes.append(f"line {res.line}: crashkernel reservation the command line does not ask for; "
                                  "applied as is")
                self.unrequested.append((res.line, res.base, res.size))
                self._plain(res)
            return
        start = len(self.mb.trace)
        got = 0
        for size, align, lo, hi in attempts:
            got = self.mb.phys_alloc_range(size, align, lo, hi)
            if got:
                break
        if got >= SZ_4G and not low:
            self._crash_stage = "main_high"
        name = "reserve_crashkernel_low" if low else "reserve_crashkernel"
        req = mlog.Event("request", line, size=size, align=align, min_addr=lo, max_addr=hi,
                         func=name, caller=caller)
        self._record(req, name, -1, got, res, start)
        if res is not None and res.size != size:
            self.notes.append(f"line {res.line}: the kernel reserved {res.size:#x} bytes for the crash kernel, "
                              f"the command line asks for {size:#x}")

    def _crashkernel(self, i: int, e: mlog.Event) -> int:
        self._crash_alloc(e, e.line, "reserve_crashkernel_low" if self._crash_stage == "main_high"
                          else "reserve_crashkernel")
        return i + 1

    def _crashkernel_message(self, ev, i: int, e: mlog.Event) -> None:
        """A failed crashkernel attempt prints no reservation.  6.1+ log the
        memblock_phys_alloc_range request (replayed as any request); 5.10 does
        not, so the attempt is replayed here."""
        if e.func not in ("failed", "low_failed"):
            return
        if self.allocs and self.allocs[-1].line == e.line - 1 and not self.allocs[-1].actual:
            return                                    # the logged request, already replayed
        if e.func == "failed" and self._crash_stage is None or \
                e.func == "low_failed" and self._crash_stage == "main_high":
            self._crash_alloc(None, e.line, "reserve_crashkernel")

    def _node_data(self, ev, i: int, e: mlog.Event) -> int:
        """alloc_node_data(nid): memblock_phys_alloc_try_nid(size, SMP_CACHE_BYTES, nid);
        the node comes from the "NODE_DATA(n) allocated" line that follows."""
        nid = None
        for f in ev[i + 1:i + 4]:
            if f.kind == "node_data" and f.base == e.base:
                nid = f.nid
                break
        if nid is None:
            self.notes.append(f"line {e.line}: allocator reservation without a request line; applied as is")
            self.unrequested.append((e.line, e.base, e.size))
            self._plain(e)
            return i + 1
        start = len(self.mb.trace)
        got = self.mb.phys_alloc_try_nid(e.size, SMP_CACHE_BYTES, nid)
        req = mlog.Event("request", e.line, size=e.size, align=SMP_CACHE_BYTES, nid=nid,
                         max_addr=0, func="alloc_node_data", caller="alloc_node_data")
        self._record(req, "alloc_node_data", nid, got, e, start)
        return i + 1

    def _doubled_array(self, i: int, e: mlog.Event) -> int:
        """The reservation of a region array memblock_double_array() grew;
        the engine has grown its own array in the operation before."""
        last = [t for t in self.mb.trace if t[0] == "doubled"]
        got = last[-1][3] if last and last[-1][3] not in self._doubles_seen else 0
        self._doubles_seen.add(got)
        a = AllocResult(len(self.allocs), e.line, "memblock_double_array", e.caller, e.size, PAGE_SIZE, -1, 0,
                        self.mb.current_limit, got, e.base)
        self.allocs.append(a)
        if not a.match:
            if got:
                self.mb.phys_free(got, e.size)
            self.mb.reserve(e.base, e.size, e.nid, e.flags or 0)
        return i + 1

    def _found_then_reserved(self, i: int, e: mlog.Event) -> int:
        """5.10: memblock_find_in_range() + memblock_reserve() by the caller
        (only the reserve is logged); the search window is the caller's."""
        lo, hi = _FOUND_THEN_RESERVED[e.caller_fn](self)
        start = len(self.mb.trace)
        got = self.mb.find_in_range(lo, hi, e.size, PAGE_SIZE)
        if got:
            self.mb.reserve(got, e.size)
        req = mlog.Event("request", e.line, size=e.size, align=PAGE_SIZE, min_addr=lo, max_addr=hi,
                         func="memblock_find_in_range", caller=e.caller)
        self._record(req, "memblock_find_in_range", -1, got, e, start)
        return i + 1

    def _record(self, req: mlog.Event, func: str, nid: int, got: int, res, trace_start: int) -> None:
        mb = self.mb
        actual = res.base if res is not None else 0
        pnid = pflags = None
        for t in mb.trace[trace_start:]:
            if t[0] == "reserve" and t[1] == got:
                pnid, pflags = t[3], t[4]
        a = AllocResult(len(self.allocs), req.line, func, req.caller, req.size, req.align, nid,
                        req.min_addr, req.max_addr, got, actual,
                        predicted_nid=pnid if res is not None and res.nid is not None else None,
                        predicted_flags=pflags if res is not None and res.flags is not None else None,
                        actual_nid=res.nid if res is not None else None,
                        actual_flags=res.flags if res is not None else None)
        self.allocs.append(a)
        if a.match:
            return
        # back on the kernel's track: undo the engine's choice, apply the kernel's
        if got:
            mb.phys_free(got, req.size)
        if res is not None:
            mb.reserve(res.base, res.size, res.nid, res.flags or 0)

    # ---------------------------------------------------------------- dumps
    def _dump(self, d: mlog.Dump, *, first: bool) -> None:
        mb = self.mb
        if first:
            self._e820_tail()
            self._seed(d)
        mine = mb.dump()
        header_ok, matched, diff = _compare_dumps(list(d.lines), mine)
        their_regions = [r.text for r in d.memory + d.reserved]
        self.dumps.append(DumpResult(len(self.dumps), d.line, len(their_regions), matched, header_ok,
                                     tuple(diff), tuple(d.lines), tuple(mine)))
        if diff:
            if d.memory_cnt == len(d.memory) and d.reserved_cnt == len(d.reserved) \
                    and d.memory_size is not None:
                self._load(d)
            else:
                self.notes.append(f"line {d.line}: incomplete dump table; the replay goes on "
                                  "from its own state")

    def _e820_tail(self) -> None:
        """The unlogged end of e820__memblock_setup: (7.x) KHO scratch on the
        first 1M, memblock_trim_memory(PAGE_SIZE)."""
        if self.p.e820_kho_scratch_low_1m:
            self.mb.mark_kho_scratch(0, SZ_1M)
            self.kho_marked = True
        self.mb.trim_memory(PAGE_SIZE)
        if self.stage == "e820":
            self.stage = "low1m"

    def _seed(self, d: mlog.Dump) -> None:
        """Reservations made before memblock=debug was parsed: whatever the
        first dump shows that no logged reserve covers."""
        mb = self.mb
        have = mb.reserved
        for r in d.reserved:
            if r.size == 0:
                continue
            nid = self.p.memblock_reserve_nid if r.nid is None else r.nid
            for s, e in subtract(r.base, r.end, ((h.base, h.end) for h in have)):
                mb.reserve(s, e - s, nid, r.flags)
                self.seeded.append(Region(s, e - s, r.flags, nid))

    def _load(self, d: mlog.Dump) -> None:
        """Resynchronise the engine with a dump the replay disagreed with.
        A region printed without a node gets the nid such regions carry at
        this point of the boot (the dump cannot tell MAX_NUMNODES from -1)."""
        for which in ("memory", "reserved"):
            if self.numa_registered:
                none = self.p.nid_none
            else:
                none = self.p.memblock_add_nid if which == "memory" else self.p.memblock_reserve_nid
            regions = [Region(r.base, r.size, r.flags, none if r.nid is None else r.nid)
                       for r in d.regions(which)]
            self.mb.load(which, regions, d.memory_size if which == "memory" else d.reserved_size)


# 5.10 callers that pick memory with memblock_find_in_range() and reserve it
# themselves, with their search windows:
#   arch/x86/realmode/init.c:reserve_real_mode   [0, 1M), PAGE_SIZE aligned
#   arch/x86/mm/numa.c:numa_alloc_distance       [0, max_pfn_mapped), PAGE_SIZE aligned
# (6.1+ use memblock_phys_alloc_range, whose request line is logged; 7.x's
# reserve_real_mode also reserves [0, 1M) itself, which is not a search.)
_FOUND_THEN_RESERVED = {
    "reserve_real_mode": lambda r: (0, SZ_1M),
    "numa_alloc_distance": lambda r: (0, r.mb.current_limit),
}


_INDEX = re.compile(r"^(\w+)\[0x[0-9a-f]+\]")


def _compare_dumps(theirs: list[str], mine: list[str]) -> tuple[bool, int, list[tuple[str, str]]]:
    """Compare two memblock_dump_all tables: the header lines in order, the
    regions as a list (a missing or extra region shows once, not as a shift
    of every later index).  Returns (headers equal, kernel regions found in
    the engine's table, [(kernel line, engine line)] differences)."""
    def split(lines):
        head, regions = [], []
        for x in lines:
            (regions if _INDEX.match(x) else head).append(x)
        return head, regions

    # leading blanks are not compared: journald and some consoles drop them
    th, tr = split([x.strip() for x in theirs])
    mh, mr = split([x.strip() for x in mine])
    diff = [(a, b) for a, b in zip(th, mh) if a != b]
    diff += [(a, "") for a in th[len(mh):]] + [("", b) for b in mh[len(th):]]
    def key(x: str) -> str:          # a region line without its index
        return _INDEX.sub(r"\1", x)

    mine_keys = {}
    for x in mr:
        mine_keys.setdefault(key(x), []).append(x)
    matched = 0
    for x in tr:
        hit = mine_keys.get(key(x))
        if hit:
            # same region (a different index only follows from a region
            # missing or extra before it, which is reported itself)
            hit.pop(0)
            matched += 1
        else:
            diff.append((x, ""))
    diff += [("", y) for ys in mine_keys.values() for y in ys]
    return not any(a != b for a, b in zip(th, mh)) and len(th) == len(mh), matched, diff
