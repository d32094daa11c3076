"""A running system (or a captured sysroot) as a Machine, what its kernel
actually did, and the field-by-field difference from the plan.

Everything is read through a root directory (``/`` for the live system, a
capture for ``--sysroot``), read-only, regular files only (a FIFO or device
planted in a capture can never block us), so live mode and captured trees
share one code path.

Inputs of the prediction: ``/sys/firmware/acpi/tables/*``,
``/sys/firmware/memmap``, ``/proc/cmdline``, ``/proc/sys/kernel/osrelease``,
the ``Kernel code``/``Kernel bss`` lines of ``/proc/iomem`` (root only) and
the boot log (``/dev/kmsg``; a regular file at that path in a capture) for
loader facts.

What the kernel did, and where the kernel prints it:

* ``/proc/zoneinfo`` — mm/vmstat.c:zoneinfo_show_print (spanned, present,
  managed per node and zone; ``start_pfn`` only for populated zones);
* ``/sys/devices/system/memory`` — drivers/base/memory.c (block_size_bytes
  as ``%lx``, per block ``state``, ``valid_zones``, and a ``nodeN`` link
  made by drivers/base/node.c:register_memory_block_under_node);
* ``/sys/devices/system/node`` — drivers/base/node.c (``online``,
  ``possible``, ``has_memory`` = N_MEMORY, ``has_normal_memory`` =
  N_NORMAL_MEMORY, ``has_cpu``; ``nodeN/meminfo`` whose MemTotal is the
  node's managed pages, mm/show_mem.c:si_meminfo_node).

N_MEMORY is set for a node with present pages (mm/mm_init.c:free_area_init)
and N_NORMAL_MEMORY when one of its zones up to ZONE_NORMAL is populated
(mm/mm_init.c:check_for_memory), so a node whose memory is all in
ZONE_MOVABLE is in has_memory but not has_normal_memory — the sysfs sign of
a movable_node boot.  Kernels 5.10, 6.1, 6.12 and 7.2 print all of these
the same way.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import pipeline
from .errors import InputError
from .kernel.profile import choose_profile
from .machine import load_machine
from .render.json import document as plan_document
from .units import PAGE_SIZE

TABLES = "sys/firmware/acpi/tables"
MEMMAP = "sys/firmware/memmap"
CMDLINE = "proc/cmdline"
OSRELEASE = "proc/sys/kernel/osrelease"
ZONEINFO = "proc/zoneinfo"
IOMEM = "proc/iomem"
KMSG = "dev/kmsg"
MEMORY = "sys/devices/system/memory"
NODE = "sys/devices/system/node"
NODE_STATES = ("possible", "online", "has_memory", "has_normal_memory", "has_cpu")
PLAN_TABLES = ("SRAT", "SLIT", "MSCT", "CEDT", "HMAT")
MANIFEST = "sratplan-capture.json"    # what `sratplan capture` wrote and could not read

ZONES = ("DMA", "DMA32", "Normal", "Movable", "Device")
MAX_FILE = 64 << 20          # a zoneinfo of a few thousand CPUs stays far below this
MAX_BLOCKS = 1 << 20         # 1M memory blocks = 128 TiB at 128 MiB

HOW_TO = ("run it as root ('sudo sratplan'), or save the tables elsewhere with "
          "'acpidump > dump.txt' and run 'sratplan dump.txt'; 'sratplan --example' lists bundled examples")


# ---------------------------------------------------------------- reading


def _regular(p: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(p).st_mode)
    except OSError:
        return False


def _read_bytes(p: Path, limit: int = MAX_FILE) -> bytes | None:
    """A regular file's bytes, or None when absent/unreadable/not regular."""
    if not _regular(p):
        return None
    # read in small chunks: /proc/sys handlers allocate a buffer as large as
    # the read request and fail one of 64 MiB with ENOMEM
    chunks, size = [], 0
    try:
        with open(p, "rb", buffering=0) as fh:
            while size < limit:
                b = fh.read(min(1 << 16, limit - size))
                if not b:
                    break
                chunks.append(b)
                size += len(b)
    except OSError:
        return None
    return b"".join(chunks)


def _read_text(root: Path, rel: str, limit: int = MAX_FILE) -> str | None:
    b = _read_bytes(root / rel, limit)
    return None if b is None else b.decode("utf-8", "replace")


def _read_kmsg_device(p: Path, limit: int = MAX_FILE) -> str | None:
    """Drain /dev/kmsg without blocking: one record per read(), each
    ``prio,seq,usec,flags;message`` (Documentation/ABI/testing/dev-kmsg),
    re-printed as dmesg's ``[sec.usec] message`` lines."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    out, size = [], 0
    try:
        while size < limit:
            try:
                rec = os.read(fd, 8192)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:      # records overwritten while reading: go on
                    continue
                break
            if not rec:
                break
            head, _, msg = rec.decode("utf-8", "replace").partition(";")
            f = head.split(",")
            usec = int(f[2]) if len(f) > 2 and f[2].isdigit() else 0
            line = f"[{usec // 1000000:5d}.{usec % 1000000:06d}] {msg.splitlines()[0] if msg else ''}"
            out.append(line)
            size += len(line) + 1
    finally:
        os.close(fd)
    return "\n".join(out) + "\n" if out else None


def read_boot_log(root: Path) -> str | None:
    """The kernel log: ``dev/kmsg`` as a device (a live system) or as a
    regular file holding dmesg text (a capture)."""
    p = Path(root) / KMSG
    try:
        st = os.stat(p)
    except OSError:
        return None
    if stat.S_ISCHR(st.st_mode):
        return _read_kmsg_device(p)
    if stat.S_ISREG(st.st_mode):
        return _read_text(Path(root), KMSG)
    return None


def _parse_list(text: str | None) -> frozenset | None:
    """A sysfs node list such as ``0-3,8`` (lib/bitmap.c bitmap_print_to_pagebuf)."""
    if text is None:
        return None
    out = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d{1,6})(?:-(\d{1,6}))?", part)
        if not m:
            return None
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if b < a or b - a > 65536:
            return None
        out.update(range(a, b + 1))
    return frozenset(out)


@dataclass(frozen=True)
class ZoneActual:
    node: int
    zone: str
    start_pfn: int | None
    spanned: int
    present: int
    managed: int


_ZONE_HEAD = re.compile(r"^Node (\d{1,6}), zone\s+(\S+)")
_ZONE_FIELD = re.compile(r"^\s+(spanned|present|managed)\s+(\d+)\s*$")
_ZONE_START = re.compile(r"^\s+start_pfn:\s+(\d+)\s*$")


def parse_zoneinfo(text: str) -> dict:
    """``/proc/zoneinfo`` -> {(node, zone): ZoneActual}.  Lines the kernel
    does not print in this shape are ignored (the per-node stats block)."""
    out: dict = {}
    cur = None
    vals: dict = {}

    def flush():
        if cur is not None and {"spanned", "present", "managed"} <= vals.keys():
            out[cur] = ZoneActual(cur[0], cur[1], vals.get("start_pfn"), vals["spanned"], vals["present"],
                                  vals["managed"])

    for line in text.splitlines():
        m = _ZONE_HEAD.match(line)
        if m:
            flush()
            cur, vals = (int(m.group(1)), m.group(2)), {}
            continue
        if cur is None:
            continue
        m = _ZONE_FIELD.match(line)
        if m and m.group(1) not in vals:
            vals[m.group(1)] = int(m.group(2))
            continue
        m = _ZONE_START.match(line)
        if m and "start_pfn" not in vals:
            vals["start_pfn"] = int(m.group(1))
    flush()
    return out


def parse_iomem_kernel(text: str) -> tuple[int, int] | None:
    """The kernel's own reservation from /proc/iomem: ``[Kernel code start,
    PAGE_ALIGN(Kernel bss end))`` — what arch/x86/kernel/setup.c:
    early_reserve_memory reserves as [_text, __end_of_kernel_reserve).
    Non-root readers see every address as 0 (kernel/resource.c hides them):
    then None."""
    code = bss = None
    for line in text.splitlines():
        m = re.match(r"\s*([0-9a-fA-F]{1,16})-([0-9a-fA-F]{1,16}) : (Kernel code|Kernel bss)\s*$", line)
        if not m:
            continue
        s, e = int(m.group(1), 16), int(m.group(2), 16)
        if m.group(3) == "Kernel code" and code is None:
            code = s
        elif m.group(3) == "Kernel bss" and bss is None:
            bss = e
    if not code or not bss or bss < code:
        return None
    return code, (bss + PAGE_SIZE) & ~(PAGE_SIZE - 1)


@dataclass(frozen=True)
class BlockActual:
    index: int
    state: str
    node: int | None          # the node, when the block links to exactly one
    valid_zones: str
    nodes: tuple = ()         # every nodeN link of the block


@dataclass(frozen=True)
class Actual:
    """What the running kernel reports.  A field is None when its file was
    absent or unreadable (not an empty result)."""
    zones: dict | None = None                 # {(node, zone): ZoneActual}
    block_size: int | None = None
    blocks: tuple | None = None               # BlockActual, by index
    auto_online: str | None = None
    node_states: dict = field(default_factory=dict)   # name -> frozenset
    memtotal_kb: dict = field(default_factory=dict)   # node -> MemTotal kB
    kernel_image: tuple | None = None         # from /proc/iomem
    release: str | None = None
    read: tuple = ()                          # rel paths read
    missing: tuple = ()                       # rel paths absent or unreadable


def read_memory_blocks(root: Path):
    """(block_size, auto_online, blocks) of ``sys/devices/system/memory``."""
    base = Path(root) / MEMORY
    bs_text = _read_text(Path(root), f"{MEMORY}/block_size_bytes", 64)
    bs = None
    if bs_text is not None:
        try:
            bs = int(bs_text.strip(), 16)
        except ValueError:
            bs = None
    auto = _read_text(Path(root), f"{MEMORY}/auto_online_blocks", 64)
    blocks = None
    try:
        names = os.listdir(base)
    except OSError:
        names = None
    if names is not None:
        found = []
        for n in names:
            m = re.fullmatch(r"memory(\d{1,9})", n)
            if not m:
                continue
            found.append(int(m.group(1)))
            if len(found) > MAX_BLOCKS:
                break
        blocks = []
        for idx in sorted(found):
            d = base / f"memory{idx}"
            state = (_read_text(Path(root), f"{MEMORY}/memory{idx}/state", 64) or "").strip()
            vz = (_read_text(Path(root), f"{MEMORY}/memory{idx}/valid_zones", 256) or "").strip()
            # drivers/base/node.c links a boot block to every node whose
            # pages it holds (register_mem_block_under_node_early)
            nodes = []
            try:
                for e in os.listdir(d):
                    mm = re.fullmatch(r"node(\d{1,6})", e)
                    if mm:
                        nodes.append(int(mm.group(1)))
            except OSError:
                pass
            nodes.sort()
            blocks.append(BlockActual(idx, state, nodes[0] if len(nodes) == 1 else None, vz, tuple(nodes)))
        blocks = tuple(blocks)
    return bs, (auto.strip() if auto else None), blocks


def read_actual(sysroot=None) -> Actual:
    """Read what the kernel did, through ``sysroot`` (default ``/``)."""
    root = Path(sysroot) if sysroot else Path("/")
    read, missing = [], []

    def text(rel, limit=MAX_FILE):
        t = _read_text(root, rel, limit)
        (read if t is not None else missing).append(rel)
        return t

    zi = text(ZONEINFO)
    zones = parse_zoneinfo(zi) if zi is not None else None
    bs, auto, blocks = read_memory_blocks(root)
    (read if bs is not None else missing).append(f"{MEMORY}/block_size_bytes")
    states = {}
    for s in NODE_STATES:
        v = _parse_list(text(f"{NODE}/{s}", 4096))
        if v is not None:
            states[s] = v
    memtotal = {}
    try:
        node_dirs = [n for n in os.listdir(root / NODE) if re.fullmatch(r"node\d{1,6}", n)]
    except OSError:
        node_dirs = []
    for nd in sorted(node_dirs, key=lambda n: int(n[4:])):
        t = _read_text(root, f"{NODE}/{nd}/meminfo", 1 << 16)
        if t is None:
            continue
        m = re.search(r"^Node \d+ MemTotal:\s+(\d+) kB", t, re.MULTILINE)
        if m:
            memtotal[int(nd[4:])] = int(m.group(1))
    io = text(IOMEM)
    kimg = parse_iomem_kernel(io) if io is not None else None
    rel = text(OSRELEASE, 256)
    return Actual(zones=zones, block_size=bs, blocks=blocks, auto_online=auto, node_states=states,
                  memtotal_kb=memtotal, kernel_image=kimg, release=rel.strip() if rel else None,
                  read=tuple(read), missing=tuple(missing))


# ---------------------------------------------------------------- the machine


def memmap_files(memmap: Path) -> list:
    """The files of a /sys/firmware/memmap tree: ``N/{start,end,type}``."""
    try:
        names = sorted((d for d in os.listdir(memmap) if d.isdigit() and len(d) < 9), key=int)
    except OSError:
        return []
    return [f"{n}/{f}" for n in names for f in ("start", "end", "type")]


def _check_memmap(memmap: Path) -> None:
    # the e820 reader opens these files plainly: refuse anything that is not
    # a regular file (a FIFO would block it) before handing the tree over
    for rel in memmap_files(memmap):
        p = memmap / rel
        if os.path.lexists(p) and not _regular(p):
            raise InputError("not a regular file", path=str(p))


def read_manifest(root) -> dict | None:
    """The manifest of a capture directory, or None (not a capture, or one
    made before manifests existed)."""
    p = Path(root) / MANIFEST
    if not _regular(p):
        return None
    try:
        doc = json.loads(_read_text(Path(root), MANIFEST, 1 << 20) or "")
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def load_live_machine(*, sysroot=None, e820=None, cmdline=None, boot_facts=None, kernel=None, initrd=None,
                      kernel_image=None, cpus=None):
    """The Machine of a running system or a sysroot capture.

    Explicit arguments win; otherwise the kernel reservation comes from
    /proc/iomem (when root could read it) and the loader facts (RAMDISK, ACPI
    table addresses, CPU count, BIOS-e820) from the boot log when readable.
    """
    root = Path(sysroot) if sysroot else Path("/")
    if sysroot is None and not sys.platform.startswith("linux"):
        raise InputError(f"no input given and this is not Linux: {HOW_TO}")
    if sysroot is not None and not root.is_dir():
        raise InputError("sysroot is not a directory", path=str(root))
    tdir = root / TABLES
    if not tdir.is_dir():
        raise InputError(f"{tdir} does not exist (not Linux, or no ACPI): {HOW_TO}")
    manifest = read_manifest(root) if sysroot is not None else None
    lost = [r for r in (manifest or {}).get("unreadable", []) if str(r).startswith(TABLES + "/")]
    if lost:
        # a table the capture could not read is unknown, not absent
        raise InputError(f"the capture could not read {', '.join(lost)} (not root when it was made): what the "
                         "machine's firmware says is unknown - capture again as root", path=str(root))
    try:
        names = os.listdir(tdir)
    except OSError as e:
        raise InputError(f"cannot list {tdir}: {e.strerror}; {HOW_TO}") from None
    paths = []
    for sig in PLAN_TABLES:
        p = tdir / sig
        if sig in names and _regular(p):
            try:
                with open(p, "rb") as fh:
                    fh.read(1)
            except PermissionError:
                raise InputError(f"cannot read {p} (permission denied): {HOW_TO}") from None
            except OSError:
                continue
            paths.append(str(p))
    assumptions = []
    memmap = root / MEMMAP
    e820_src = e820
    if e820_src is None and memmap.is_dir():
        _check_memmap(memmap)
        e820_src = str(memmap)
    cl = cmdline
    if cl is None:
        raw = _read_text(root, CMDLINE, 1 << 16)
        if raw is None:
            assumptions.append("/proc/cmdline not readable: an empty command line assumed")
        cl = (raw or "").strip()
    kv = kernel
    note = alternative = None
    if kv is None:
        rel = (_read_text(root, OSRELEASE, 256) or "").strip()
        if rel:
            choice = choose_profile(rel)
            kv, note, alternative = choice.profile.name, choice.note, choice.alternative
        elif boot_facts is None and read_boot_log(root) is None:
            # load_machine falls back to the newest profile; say so
            assumptions.append("kernel release unknown (no /proc/sys/kernel/osrelease or boot log): the newest "
                               "profile is used")
    if kernel_image is None:
        io = _read_text(root, IOMEM)
        kimg = parse_iomem_kernel(io) if io else None
        if kimg:
            kernel_image = (kimg[0], kimg[1] - kimg[0])
            assumptions.append(f"kernel reservation [{kimg[0]:#x}-{kimg[1] - 1:#x}] from /proc/iomem "
                               "(Kernel code start to the page-aligned Kernel bss end)")
    tmp = None
    try:
        if boot_facts is None:
            log = read_boot_log(root)
            if log and _regular(root / KMSG):
                boot_facts = str(root / KMSG)
            elif log:
                # load_machine reads boot facts from a path; /dev/kmsg is a
                # record device, so hand it the drained text
                with tempfile.NamedTemporaryFile("w", suffix=".dmesg", delete=False, encoding="utf-8") as tmp:
                    tmp.write(log)
                boot_facts = tmp.name
            else:
                assumptions.append("kernel log not readable: loader facts (initrd, ACPI table addresses, CPU "
                                   "count) are modelled")
        m = load_machine(paths, e820=e820_src, cmdline=cl, boot_facts=boot_facts, kernel=kv, initrd=initrd,
                         kernel_image=kernel_image, cpus=cpus)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp.name)
            except OSError:
                pass
    extra = tuple(assumptions) + ((note,) if note else ())
    if extra:
        m = replace(m, assumptions=m.assumptions + extra)
    if alternative:
        m = replace(m, profile_alternative=alternative)
    return m


# ---------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Check:
    """One compared field.  ``ok`` False is a disagreement."""
    what: str                 # "zone", "node_state", "memtotal", "block_size", "block"
    where: str                # "node 1 Movable", "has_memory", "block 42"
    field: str
    predicted: object
    actual: object
    ok: bool
    tolerance: str | None = None

    def to_json(self) -> dict:
        def j(v):
            if isinstance(v, (set, frozenset)):
                return sorted(v)
            return v

        d = {"what": self.what, "where": self.where, "field": self.field, "predicted": j(self.predicted),
             "actual": j(self.actual), "ok": self.ok}
        if self.tolerance:
            d["tolerance"] = self.tolerance
        return d


@dataclass(frozen=True)
class LiveReport:
    report: object            # the pipeline Report of the prediction
    actual: Actual
    checks: tuple
    notes: tuple = ()

    @property
    def plan(self):
        return self.report.plan

    @property
    def disagreements(self) -> tuple:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def ok(self) -> bool:
        return not self.disagreements

    def to_json(self) -> dict:
        a = self.actual
        return {
            "schema": "sratplan.live/1",
            "ok": self.ok,
            "compared": len(self.checks),
            "disagreements": [c.to_json() for c in self.disagreements],
            "checks": [c.to_json() for c in self.checks],
            "notes": list(self.notes),
            "actual": {
                "release": a.release,
                "read": list(a.read),
                "missing": list(a.missing),
                "kernel_image": [hex(a.kernel_image[0]), hex(a.kernel_image[1])] if a.kernel_image else None,
                "block_size": hex(a.block_size) if a.block_size else None,
                "node_states": {k: sorted(v) for k, v in a.node_states.items()},
            },
            "plan": plan_document(self.report),
        }


def managed_tolerance(actual: int) -> int:
    """The contract's tolerance on managed pages: 0.5 % or 256 pages."""
    return max(256, int(actual * 0.005))


def compare(report, actual: Actual) -> LiveReport:
    """Every field both the prediction (a pipeline Report) and the kernel
    give, side by side."""
    plan = report.plan
    checks: list[Check] = []
    notes: list[str] = []
    online_pred = frozenset(n.node for n in plan.nodes if n.online)

    def zone_present(n, names):
        return sum(z.present for z in n.zones if z.zone in names)

    pred_states = {
        "online": online_pred,
        "has_memory": frozenset(n.node for n in plan.nodes if n.online and zone_present(n, ZONES[:4])),
        "has_normal_memory": frozenset(n.node for n in plan.nodes if n.online and zone_present(n, ZONES[:3])),
    }
    for name in ("online", "has_memory", "has_normal_memory"):
        if name in actual.node_states:
            checks.append(Check("node_state", name, "nodes", pred_states[name], actual.node_states[name],
                                pred_states[name] == actual.node_states[name]))

    if actual.zones is not None:
        act_nodes = sorted({n for n, _ in actual.zones})
        if "online" not in actual.node_states:
            checks.append(Check("node_state", "zoneinfo nodes", "nodes", online_pred, frozenset(act_nodes),
                                online_pred == frozenset(act_nodes)))
        for n in plan.nodes:
            if not n.online:
                continue
            for z in n.zones:
                a = actual.zones.get((n.node, z.zone))
                where = f"node {n.node} {z.zone}"
                if a is None:
                    if z.present:
                        checks.append(Check("zone", where, "present", z.present, None, False))
                    continue
                checks.append(Check("zone", where, "start_pfn", z.start_pfn if z.present else None,
                                    a.start_pfn if a.present else None,
                                    (z.start_pfn if z.present else None) == (a.start_pfn if a.present else None)))
                checks.append(Check("zone", where, "spanned", z.spanned, a.spanned, z.spanned == a.spanned))
                checks.append(Check("zone", where, "present", z.present, a.present, z.present == a.present))
                tol = managed_tolerance(a.managed)
                checks.append(Check("zone", where, "managed", z.managed, a.managed,
                                    abs(z.managed - a.managed) <= tol, f"±{tol} pages"))
        planned = {(n.node, z.zone) for n in plan.nodes if n.online for z in n.zones}
        for key, a in sorted(actual.zones.items()):
            if key not in planned and (a.present or a.spanned):
                checks.append(Check("zone", f"node {key[0]} {key[1]}", "present", None, a.present, False))

    for nid, kb in sorted(actual.memtotal_kb.items()):
        n = plan.node(nid)
        pred = sum(z.managed for z in n.zones) if n is not None else 0
        act = kb // 4
        tol = managed_tolerance(act)
        checks.append(Check("memtotal", f"node {nid}", "MemTotal pages", pred, act, abs(pred - act) <= tol,
                            f"±{tol} pages"))

    if actual.block_size is not None:
        checks.append(Check("block_size", "memory", "block_size_bytes", plan.block_size, actual.block_size,
                            plan.block_size == actual.block_size))
    if actual.blocks is not None and actual.block_size == plan.block_size:
        pred = {}
        for r in plan.blocks:
            for b in range(r.first, r.last + 1):
                pred[b] = (r.node, r.valid_zones, tuple(sorted(r.nodes)))
        act = {b.index: b for b in actual.blocks}
        changed = 0
        for b in sorted(set(pred) | set(act)):
            p, a = pred.get(b), act.get(b)
            where = f"block {b}"
            if p is None:
                if a.state == "online":
                    checks.append(Check("block", where, "state", "absent at boot", a.state, False))
                    changed += 1
                continue
            if a is None:
                checks.append(Check("block", where, "state", "online", None, False))
                continue
            if a.state != "online":
                checks.append(Check("block", where, "state", "online", a.state, False))
                changed += 1
                continue
            # a capture may record one link per block (the block's own nid,
            # the last node added); then that is what is compared
            if len(a.nodes) > 1:
                checks.append(Check("block", where, "nodes", list(p[2]), list(a.nodes), p[2] == a.nodes))
            else:
                # a capture that kept one link of a multi-node block (the
                # oracle records the last node* link in glob order) agrees
                # when that link is one of the predicted nodes
                ok = p[0] == a.node or (len(p[2]) > 1 and a.node in p[2])
                checks.append(Check("block", where, "node", p[0], a.node, ok))
            checks.append(Check("block", where, "valid_zones", p[1], a.valid_zones, p[1] == a.valid_zones))
        if changed:
            notes.append(f"{changed} memory block(s) differ in state from the boot prediction: memory was "
                         "onlined or offlined after boot (hotplug, a udev rule, or an operator); their zones "
                         "and the zone counts above reflect that")
        if actual.auto_online and actual.auto_online != "offline":
            notes.append(f"auto_online_blocks={actual.auto_online}: memory hot-added after boot comes online "
                         "without an operator and changes the counts above")
    if actual.zones is None and actual.blocks is None and not actual.memtotal_kb:
        notes.append("nothing the kernel reports was readable (/proc/zoneinfo, /sys/devices/system/memory, "
                     "/sys/devices/system/node): no comparison made")
    if plan.machine is not None and getattr(plan.machine, "profile_note", None):
        notes.append(plan.machine.profile_note)
    return LiveReport(report=report, actual=actual, checks=tuple(checks), notes=tuple(notes))


def live_report(sysroot=None, **kw) -> LiveReport:
    """Predict for the system at ``sysroot`` and compare with what its kernel did."""
    m = load_live_machine(sysroot=sysroot, **kw)
    return compare(pipeline.run(m), read_actual(sysroot))
