"""Reader for ``memblock=debug`` boot logs.

Understands the lines printed by ``mm/memblock.c`` (``memblock_dbg`` and
``memblock_dump_all``) in 5.10, 6.1, 6.12 and 7.x, plus the few boot-log lines
a replay needs to interpret them (``Linux version``, ``Command line:``,
``last_pfn``, the SRAT/NUMA messages of ``drivers/acpi/numa/srat.c`` and
``arch/x86/mm/numa.c`` / ``mm/numa_memblks.c``, ``NODE_DATA(n) allocated``,
``RAMDISK:``, and the pre-5.11 "memblock: bottom-up allocation failed" warning).  Formats, with ``%pa`` printed as ``0x%016llx``::

    memblock_add: [%pa-%pa] %pS                       (also _remove, _reserve,
    memblock_phys_free: [%pa-%pa] %pS                  _phys_free, 5.10 _free)
    memblock_add_node: [%pa-%pa] nid=%d flags=%x %pS
    __memblock_reserve: [%pa-%pa] nid=%d flags=%x %pS  (7.x)
    memblock_alloc_try_nid[_raw]: %llu bytes align=0x%llx nid=%d from=%pa max_addr=%pa %pS
    memblock_alloc_exact_nid_raw: (same)
    memblock_phys_alloc_range: %llu bytes align=0x%llx from=%pa max_addr=%pa %pS
    memblock: %s is doubled to %ld at [%pa-%pa]
    MEMBLOCK configuration:
     memory size = %pa reserved size = %pa
     memory.cnt  = 0x%lx
     memory[%#x]\\t[%pa-%pa], %pa bytes[ on node %d] flags: %#x

Accepted line prefixes: ``dmesg`` timestamps ``[    0.000000] `` (or
``dmesg -T`` dates), ``dmesg -r`` priorities ``<6>``, and the
``host kernel: `` of syslog and ``journalctl -k`` (also ``-o short-monotonic``).  Nothing here
raises on odd input: unknown lines are skipped, a truncated dump is kept with
what it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = re.compile(
    r"^(?:<\d+>)?"                                                   # dmesg -r priority
    r"(?:[A-Z][a-z]{2} [ \d]\d [\d:]{8} \S+ kernel: )?"               # syslog / journalctl
    r"(?:\[(?:\s*\d+\.\d+|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4})\] ?)?"  # dmesg / dmesg -T
    r"(?:(?<=\] )\S+ kernel: )?")                                      # journalctl -o short-monotonic
_HEX = r"0x[0-9a-fA-F]+"
_RANGE_OP = re.compile(
    r"^(?P<op>memblock_add|memblock_add_node|memblock_remove|memblock_reserve|__memblock_reserve|"
    r"memblock_phys_free|memblock_free|memblock_free_late): "
    rf"\[(?P<a>{_HEX})-(?P<b>{_HEX})\](?: nid=(?P<nid>-?\d+) flags=(?P<flags>[0-9a-fA-F]+))?"
    r"(?: (?P<caller>\S+))?\s*$")
_REQUEST = re.compile(
    r"^(?P<fn>memblock_alloc_try_nid_raw|memblock_alloc_try_nid|memblock_alloc_exact_nid_raw|"
    r"memblock_phys_alloc_range): "
    r"(?P<size>\d+) bytes align=(?P<align>0x[0-9a-fA-F]+)(?: nid=(?P<nid>-?\d+))? "
    rf"from=(?P<min>{_HEX}) max_addr=(?P<max>{_HEX})(?: (?P<caller>\S+))?\s*$")
_DOUBLED = re.compile(rf"memblock: (?P<type>\w+) is doubled to (?P<n>\d+) at \[(?P<a>{_HEX})-(?P<b>{_HEX})\]")
_DUMP_SIZES = re.compile(rf"^\s*memory size = (?P<m>{_HEX}) reserved size = (?P<r>{_HEX})\s*$")
_DUMP_CNT = re.compile(r"^\s*(?P<type>memory|reserved|physmem)\.cnt\s*= (?P<n>0x[0-9a-fA-F]+)\s*$")
_DUMP_REGION = re.compile(
    rf"^\s*(?P<type>memory|reserved|physmem)\[(?P<idx>0x[0-9a-fA-F]+)\]\s*\[(?P<a>{_HEX})-(?P<b>{_HEX})\], "
    rf"(?P<size>{_HEX}) bytes(?: on node (?P<nid>-?\d+))? flags: (?P<flags>0x[0-9a-fA-F]+|0)\s*$")
_VERSION = re.compile(r"^Linux version (?P<rel>\S+)")
_CMDLINE = re.compile(r"^Command line: ?(?P<cmd>.*)$")
_LAST_PFN = re.compile(r"^last_pfn = (?P<pfn>0x[0-9a-fA-F]+) max_arch_pfn")
_SRAT_MEM = re.compile(
    rf"^(?:ACPI: )?SRAT: Node (?P<node>\d+) PXM (?P<pxm>\d+) \[mem (?P<a>{_HEX})-(?P<b>{_HEX})\](?P<rest>.*)$")
_FAKING = re.compile(rf"^Faking a node at \[mem (?P<a>{_HEX})-(?P<b>{_HEX})\]")
_NODE_DATA = re.compile(rf"^NODE_DATA\((?P<nid>\d+)\) allocated \[mem (?P<a>{_HEX})-(?P<b>{_HEX})\]")
_NUMA_OFF = ("No NUMA configuration found", "NUMA turned off")
# arch/x86/kernel/setup.c (5.10, 6.1): reserve_crashkernel / reserve_crashkernel_low
_CRASH = re.compile(
    r"^(?:Reserving (?P<size>\d+)MB of (?P<low>low )?memory at (?P<at>\d+)MB for crashkernel"
    r"|crashkernel reservation failed - (?P<failed>.*)"
    r"|Cannot reserve (?P<lowfail>\d+)MB crashkernel low memory)")

# mm/memblock.c:memblock_find_in_range_node, 3.13-5.10 mainline: the
# WARN_ONCE when a bottom-up search finds nothing above the kernel image
BOTTOM_UP_WARNING = "memblock: bottom-up allocation failed, memory hotremove may be affected"

MAX_LINE = 4096          # longer lines are not kernel messages; skipped


@dataclass(frozen=True)
class Event:
    """One memblock-relevant line of the log.

    kind: ``add``, ``add_node``, ``remove``, ``reserve``, ``phys_free``,
    ``free_late``, ``request``, ``doubled``, ``dump`` (see :class:`Dump`),
    ``srat_mem``, ``numa_fallback``, ``fake_node``, ``node_data``,
    ``ramdisk``, ``acpi``, ``crashkernel`` (func ``main``, ``low``,
    ``failed`` or ``low_failed``; base/size in bytes as printed in MB),
    ``bottom_up_warn`` (the pre-5.11 kernel_end rule's WARN_ONCE text).
    """

    kind: str
    line: int                      # 1-based line number in the log
    base: int = 0
    size: int = 0
    nid: int | None = None         # printed nid (7.x reserve, add_node, requests)
    flags: int | None = None       # printed flags (7.x reserve, add_node)
    caller: str = ""               # "%pS" symbol, e.g. "setup_arch+0x797/0xd4f"
    func: str = ""                 # request function name
    align: int = 0
    min_addr: int = 0
    max_addr: int = 0
    hotplug: bool = False          # srat_mem
    text: str = ""

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def caller_fn(self) -> str:
        """The caller's function name without offset ("setup_arch")."""
        return self.caller.split("+", 1)[0]


@dataclass(frozen=True)
class DumpRegion:
    type: str                     # "memory" | "reserved"
    index: int
    base: int
    size: int
    nid: int | None               # None when the kernel printed no " on node"
    flags: int
    line: int
    text: str

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass(frozen=True)
class Dump:
    """One ``memblock_dump_all`` table."""

    line: int
    memory_size: int | None
    reserved_size: int | None
    memory_cnt: int | None
    reserved_cnt: int | None
    memory: tuple[DumpRegion, ...]
    reserved: tuple[DumpRegion, ...]
    lines: tuple[str, ...]          # the table as printed, prefixes stripped

    def regions(self, which: str) -> tuple[DumpRegion, ...]:
        return self.memory if which == "memory" else self.reserved


@dataclass(frozen=True)
class MemblockLog:
    release: str | None                 # from "Linux version"
    cmdline: str | None
    max_pfn: int | None                 # first "last_pfn = ..." line
    events: tuple[Event, ...]
    dumps: tuple[Dump, ...]
    n_lines: int

    @property
    def has_trace(self) -> bool:
        """True when the log carries memblock=debug output."""
        return bool(self.dumps) or any(e.kind in ("add", "reserve", "request") for e in self.events)

    def cmdline_has(self, token: str) -> bool:
        if not self.cmdline:
            return False
        return any(w == token or w.startswith(token + "=") for w in self.cmdline.split())

    def cmdline_value(self, key: str) -> str | None:
        if not self.cmdline:
            return None
        val = None
        for w in self.cmdline.split():
            if w.startswith(key + "="):
                val = w[len(key) + 1:]
        return val


def strip_prefix(line: str) -> str:
    return _PREFIX.sub("", line, count=1)


def parse(text: str) -> MemblockLog:
    """Parse a boot log; never raises on content (bad lines are skipped)."""
    raw_lines = text.splitlines()
    release = cmdline = None
    max_pfn = None
    events: list[Event] = []
    dumps: list[Dump] = []
    i = 0
    n = len(raw_lines)
    glued: str | None = None       # text printed right after a newline-less message
    lineno = 0
    while i < n or glued is not None:
        if glued is not None:
            body, glued = glued, None
        else:
            raw = raw_lines[i]
            lineno = i + 1
            i += 1
            if len(raw) > MAX_LINE:
                continue
            body = strip_prefix(raw).strip()
        if not body:
            continue
        if body.startswith("MEMBLOCK configuration:"):
            dump, i = _parse_dump(raw_lines, i, lineno)
            dumps.append(dump)
            events.append(Event("dump", lineno, size=len(dumps) - 1, text=body))
            continue
        m = _RANGE_OP.match(body)
        if m:
            a, b = int(m["a"], 16), int(m["b"], 16)
            op = m["op"]
            kind = {"memblock_add": "add", "memblock_add_node": "add_node", "memblock_remove": "remove",
                    "memblock_reserve": "reserve", "__memblock_reserve": "reserve",
                    "memblock_phys_free": "phys_free", "memblock_free": "phys_free",
                    "memblock_free_late": "free_late"}[op]
            events.append(Event(kind, lineno, base=a, size=(b - a + 1) & ((1 << 64) - 1),
                                nid=int(m["nid"]) if m["nid"] is not None else None,
                                flags=int(m["flags"], 16) if m["flags"] is not None else None,
                                caller=m["caller"] or "", text=body))
            continue
        m = _REQUEST.match(body)
        if m:
            events.append(Event("request", lineno, size=int(m["size"]), align=int(m["align"], 16),
                                nid=int(m["nid"]) if m["nid"] is not None else None,
                                min_addr=int(m["min"], 16), max_addr=int(m["max"], 16),
                                func=m["fn"], caller=m["caller"] or "", text=body))
            continue
        m = _DOUBLED.search(body)
        if m:
            a, b = int(m["a"], 16), int(m["b"], 16)
            events.append(Event("doubled", lineno, base=a, size=b - a + 1, func=m["type"],
                                align=int(m["n"]), text=body))
            # the message has no newline: a following line may be glued to it
            glued = strip_prefix(body[m.end():].strip()) or None
            continue
        if release is None:
            m = _VERSION.match(body)
            if m:
                release = m["rel"]
                continue
        if cmdline is None:
            m = _CMDLINE.match(body)
            if m:
                cmdline = m["cmd"]
                continue
        if max_pfn is None:
            m = _LAST_PFN.match(body)
            if m:
                max_pfn = int(m["pfn"], 16)
                continue
        m = _SRAT_MEM.match(body)
        if m:
            a, b = int(m["a"], 16), int(m["b"], 16)
            events.append(Event("srat_mem", lineno, base=a, size=b - a + 1, nid=int(m["node"]),
                                hotplug=" hotplug" in m["rest"], text=body))
            continue
        if body.startswith(_NUMA_OFF):
            events.append(Event("numa_fallback", lineno, text=body))
            continue
        m = _FAKING.match(body)
        if m:
            a, b = int(m["a"], 16), int(m["b"], 16)
            events.append(Event("fake_node", lineno, base=a, size=b - a + 1, nid=0, text=body))
            continue
        m = _NODE_DATA.match(body)
        if m:
            a, b = int(m["a"], 16), int(m["b"], 16)
            events.append(Event("node_data", lineno, base=a, size=b - a + 1, nid=int(m["nid"]), text=body))
            continue
        m = _CRASH.match(body)
        if m:
            if m["size"] is not None:
                events.append(Event("crashkernel", lineno, base=int(m["at"]) << 20, size=int(m["size"]) << 20,
                                    func="low" if m["low"] else "main", text=body))
            elif m["failed"] is not None:
                events.append(Event("crashkernel", lineno, func="failed", text=body))
            else:
                events.append(Event("crashkernel", lineno, size=int(m["lowfail"]) << 20, func="low_failed",
                                    text=body))
            continue
        if body.startswith(BOTTOM_UP_WARNING):
            events.append(Event("bottom_up_warn", lineno, text=body))
            continue
        if body.startswith("RAMDISK: "):
            events.append(Event("ramdisk", lineno, text=body))
            continue
        if body.startswith("ACPI: ") and not events or body.startswith("ACPI: ") and events[-1].kind != "acpi":
            events.append(Event("acpi", lineno, text=body))
            continue
    return MemblockLog(release, cmdline, max_pfn, tuple(events), tuple(dumps), len(raw_lines))


def _parse_dump(lines: list[str], i: int, first_line: int) -> tuple[Dump, int]:
    """Read the table that follows "MEMBLOCK configuration:"; stops at the
    first line that is not part of it."""
    msize = rsize = mcnt = rcnt = None
    mem: list[DumpRegion] = []
    res: list[DumpRegion] = []
    text = ["MEMBLOCK configuration:"]
    n = len(lines)
    while i < n:
        raw = lines[i]
        if len(raw) > MAX_LINE:
            break
        s = strip_prefix(raw).rstrip()
        m = _DUMP_SIZES.match(s)
        if m and msize is None:
            msize, rsize = int(m["m"], 16), int(m["r"], 16)
        elif (m := _DUMP_CNT.match(s)):
            if m["type"] == "memory":
                mcnt = int(m["n"], 16)
            elif m["type"] == "reserved":
                rcnt = int(m["n"], 16)
        elif (m := _DUMP_REGION.match(s)):
            # the printed end is base + size - 1; size is taken as printed
            r = DumpRegion(m["type"], int(m["idx"], 16), int(m["a"], 16), int(m["size"], 16),
                           int(m["nid"]) if m["nid"] is not None else None, int(m["flags"], 16), i + 1, s)
            if r.type == "memory":
                mem.append(r)
            elif r.type == "reserved":
                res.append(r)
        else:
            break
        text.append(s)
        i += 1
    return Dump(first_line, msize, rsize, mcnt, rcnt, tuple(mem), tuple(res), tuple(text)), i
