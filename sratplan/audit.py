"""Fleet audit: many machines' tables (or sysroot captures) -> one row per
machine and a summary.

Inputs are found by :func:`discover`: a sysroot capture (a directory with
``sys/firmware/acpi/tables``) is one machine; an acpidump text or ``iasl -d``
file is one machine; binary tables in one directory form one machine per
name stem (``host1.SRAT.bin`` + ``host1.SLIT.bin``; ``SRAT`` + ``SLIT`` +
``APIC`` of an ``acpidump -b`` or ``/sys/firmware/acpi/tables`` directory).
Other files met while walking a directory (READMEs, logs) are skipped and
counted; a file named explicitly is always an input.

Each machine is planned with the given command line, or with its own and
then with the recommended one (the Movable and verdict columns use the
latter).  Machines whose SRAT is of another architecture (arm64 GICC,
RISC-V RINTC, LoongArch) are decoded and checked and get the verdict
``not planned: <arch>``.  A broken input becomes one row with its error;
it never stops the audit.  Identical inputs (same bytes and options) are
planned once: the planner is deterministic.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import re
import stat
import sys
import time
from dataclasses import dataclass

from . import live, pipeline
from .acpi.sources import read_tables
from .errors import InputError, SratplanError
from .machine import load_machine
from .units import GIB

PLAN_SIGS = ("SRAT", "SLIT", "MSCT", "CEDT", "HMAT")
_TEXT_HEAD = re.compile(rb"^[ \t]*(?:[A-Za-z0-9_!]{4}|RSD PTR ?) @ 0x[0-9A-Fa-f]+[ \t]*\r?$", re.MULTILINE)
_RAW_HEAD = re.compile(rb"Raw Table Data: Length \d+ \(0x[0-9A-Fa-f]+\)")
_EXTS = {"bin", "dat", "aml", "raw", "dsl", "txt", "hex"}
MAX_TOP_FINDINGS = 3
# signatures recognised even when the length field does not match the file
_KNOWN_SIGS = {s.encode() for s in PLAN_SIGS + ("APIC", "FACP", "DSDT", "SSDT", "MCFG", "HPET", "SRAT", "DMAR",
                                                "BERT", "HEST", "ERST", "EINJ", "FPDT", "BGRT", "PPTT", "IORT",
                                                "SPCR", "GTDT", "WAET", "WSMT", "TPM2", "SLIC", "MSDM")}


@dataclass(frozen=True)
class AuditInput:
    """One machine: ``kind`` is ``tables`` (binary table files), ``text``
    (one acpidump / .dsl file) or ``sysroot`` (``paths[0]`` is the root)."""

    id: str
    kind: str
    paths: tuple


@dataclass
class Discovery:
    inputs: list
    skipped: list


_SNIFF_CACHE: dict = {}


def _sniff(path: str):
    """('binary', SIG) for a binary ACPI table, ('text', None) for acpidump or
    iasl text, None otherwise.  Answers are kept per (device, inode, size,
    mtime): a fleet tree of links to one file is looked at once."""
    try:
        st = os.stat(path)
    except OSError:
        return ("unreadable", None)
    if not stat.S_ISREG(st.st_mode):
        return None                 # a FIFO or device would block a reader
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    got = _SNIFF_CACHE.get(key)
    if got is None:
        got = _SNIFF_CACHE[key] = _sniff_file(path, st.st_size)
    return got or None


def _sniff_file(path: str, size: int):
    try:
        with open(path, "rb") as fh:
            head = fh.read(256 << 10)
    except OSError:
        return ("unreadable", None)
    sig = head[:4]
    if len(head) >= 8 and all(0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or c == 0x5F for c in sig) and \
            int.from_bytes(head[4:8], "little") == size:
        return ("binary", sig.decode())
    # cheap substring tests first; the anchored patterns only where they can match
    if (b" @ 0x" in head and _TEXT_HEAD.search(head)) or (b"Raw Table Data" in head and _RAW_HEAD.search(head)):
        return ("text", None)
    if sig in _KNOWN_SIGS:
        # a table whose length field is wrong or that is cut short: still a
        # machine's table, so it becomes a row (with its error), not a skip
        return ("binary", sig.decode())
    return ()


def _stem(name: str, sig: str) -> str:
    toks = [t for t in name.split(".") if t]
    keep = [t for t in toks if not re.fullmatch(re.escape(sig) + r"\d*", t, re.IGNORECASE) and t.lower() not in _EXTS]
    return ".".join(keep)


def _is_sysroot(d: str) -> bool:
    return os.path.isdir(os.path.join(d, "sys", "firmware", "acpi", "tables"))


def _sig_key(p):
    name = os.path.basename(p[0])
    m = re.search(re.escape(p[1]) + r"(\d*)", name, re.IGNORECASE)
    inst = int(m.group(1)) if m and m.group(1) else 0
    order = PLAN_SIGS.index(p[1]) if p[1] in PLAN_SIGS else len(PLAN_SIGS)
    return (order, p[1], inst, name)


def discover(paths) -> Discovery:
    """Expand PATH arguments into machines (see module doc)."""
    inputs, skipped = [], []
    for arg in paths:
        arg = os.fspath(arg)
        if os.path.isdir(arg):
            _walk(arg, inputs, skipped)
        else:
            s = _sniff(arg) if os.path.exists(arg) else None
            kind = "tables" if s and s[0] == "binary" else "text"
            inputs.append(AuditInput(arg, kind, (arg,)))
    return Discovery(inputs, skipped)


def _walk(top: str, inputs: list, skipped: list) -> None:
    if _is_sysroot(top):
        inputs.append(AuditInput(top, "sysroot", (top,)))
        return
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        keep = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if _is_sysroot(full):
                inputs.append(AuditInput(full, "sysroot", (full,)))
            elif not os.path.islink(full):
                keep.append(d)
        dirnames[:] = keep
        groups: dict = {}
        for fn in sorted(filenames):
            full = os.path.join(dirpath, fn)
            if not os.path.isfile(full):
                continue
            s = _sniff(full)
            if s is None:
                skipped.append(full)
            elif s[0] == "unreadable" or s[0] == "text":
                inputs.append(AuditInput(full, "text", (full,)))
            else:
                groups.setdefault(_stem(fn, s[1]), []).append((full, s[1]))
        for stem, members in sorted(groups.items()):
            members.sort(key=_sig_key)
            ident = os.path.join(dirpath, stem) if stem else dirpath
            inputs.append(AuditInput(ident, "tables", tuple(p for p, _ in members)))


# ---------------------------------------------------------------- one machine


def _oem(m) -> tuple:
    t = m.srat or (next(iter(m.tables), None) if m.tables is not None else None)
    h = getattr(t, "header", None)
    if h is None:
        return "", ""

    def s(v):
        if isinstance(v, bytes):
            v = v.decode("latin-1")
        return str(v).replace("\x00", "").strip()

    return s(h.oem_id), s(h.oem_table_id)


def _gib(n: int) -> float:
    return round(n / GIB, 2)


def _srat_summary(m):
    """Nodes and hotplug bytes straight from the SRAT (other architectures)."""
    pxms, hot = set(), 0
    for s in getattr(m.srat, "subtables", ()) if m.srat is not None else ():
        if type(s).__name__ == "SratMemAffinity" and s.enabled and s.address_length:
            pxms.add(s.proximity_domain)
            if s.hot_pluggable:
                hot += s.address_length
    return len(pxms), hot


def _top(findings) -> list:
    out, seen = [], set()
    for f in sorted(findings, key=lambda f: -f.severity.rank):
        if f.severity.rank == 0 or f.code in seen:
            continue
        seen.add(f.code)
        out.append(f.code)
    return out


def _row(inp: AuditInput, **kw) -> dict:
    row = {"id": inp.id, "kind": inp.kind, "vendor": "", "oem_table_id": "", "arch": "", "kernel": "",
           "nodes": None, "ram_gib": None, "hotplug_gib": None, "cmdline": "", "movable_gib": None,
           "removable_gib": None, "offlinable_gib": None, "verdict": "", "why": "", "findings": [], "all_findings": [], "live": None,
           "error": None}
    row.update(kw)
    return row


def audit_one(inp: AuditInput, cmdline: str | None = None, kernel: str | None = None) -> dict:
    """Plan one machine; never raises."""
    try:
        return _audit_one(inp, cmdline, kernel)
    except SratplanError as e:
        return _row(inp, verdict="error", error=str(e))
    except (MemoryError, RecursionError) as e:
        return _row(inp, verdict="error", error=f"resource limit: {type(e).__name__}")
    except Exception as e:  # noqa: BLE001 — a planner bug becomes that machine's row; the audit goes on
        return _row(inp, verdict="error", error=f"internal error: {type(e).__name__}: {e}")


def _audit_one(inp, cmdline, kernel):
    if inp.kind != "sysroot":
        for pth in inp.paths:
            try:
                mode = os.stat(pth).st_mode
            except OSError as e:
                raise InputError(f"cannot read: {e.strerror or e}", path=pth) from None
            if not stat.S_ISREG(mode):
                raise InputError("not a regular file", path=pth)

    if inp.kind == "sysroot":
        m = live.load_live_machine(sysroot=inp.paths[0], kernel=kernel, cmdline=cmdline)
    else:
        try:
            m = load_machine(list(inp.paths), cmdline=cmdline or "", kernel=kernel)
        except InputError:
            # tables without an SRAT (a lone CEDT or HMAT) and no e820 map:
            # decoded and checked, but there is no memory to plan
            fs, sigs = [], []
            for pth in inp.paths:
                ts = read_tables(pth)
                fs += ts.all_findings()
                sigs += [t.signature for t in ts.tables]
            if "SRAT" in sigs or not sigs:
                raise
            return _row(inp, verdict="not planned: no memory map",
                        why=f"{', '.join(sorted(set(sigs)))} without an SRAT or e820 map: no RAM to plan",
                        findings=_top(fs), all_findings=sorted({f.code for f in fs}))
    vendor, table_id = _oem(m)
    table_findings = list(m.tables.findings) if m.tables is not None else []
    base = {"vendor": vendor, "oem_table_id": table_id, "arch": m.arch, "kernel": m.profile.name}
    if m.arch != "x86_64":
        fs = table_findings + (list(m.srat.findings) if m.srat is not None else []) + \
            (list(m.slit.findings) if m.slit is not None else [])
        nodes, hot = _srat_summary(m)
        return _row(inp, **base, nodes=nodes, hotplug_gib=_gib(hot), verdict=f"not planned: {m.arch}",
                    why="the planner models x86_64 only", findings=_top(fs),
                    all_findings=sorted({f.code for f in fs}))
    report = pipeline.run(m, options=False)
    used = report
    live_state = None
    if inp.kind == "sysroot" and cmdline is None:
        # a capture also says what its kernel did: check the plan of its own
        # command line against it, as `sratplan live --sysroot` does
        rep = live.compare(report, live.read_actual(inp.paths[0]))
        if rep.checks:
            live_state = "agrees" if rep.ok else f"{len(rep.disagreements)} disagreement(s)"
    own = m.cmdline.raw or ""
    rec = report.recommendation
    if cmdline is None and rec is not None and rec.cmdline.strip() != own.strip():
        used = rec.planned       # the recommended line, as the advice planned it
    v = used.verdict
    ok = v.hot_removable
    nodes = used.plan.nodes
    return _row(inp, **base, live=live_state,
                nodes=sum(1 for n in nodes if n.online),
                ram_gib=_gib(sum(n.present_bytes for n in nodes)),
                hotplug_gib=_gib(sum(n.hotplug_ram_bytes for n in nodes)),
                cmdline=used.machine.cmdline.raw or "",
                movable_gib=_gib(sum(n.movable_present_bytes for n in nodes)),
                removable_gib=_gib(v.removable_bytes),
                offlinable_gib=_gib(v.offlinable_bytes),
                verdict="hot-removable" if ok else "not hot-removable",
                why="" if ok else (v.blocker or ""),
                findings=_top(used.findings)[:MAX_TOP_FINDINGS],
                all_findings=sorted({f.code for f in used.findings}))


# ---------------------------------------------------------------- many machines


def _content_key(inp: AuditInput, opts, stat_cache: dict) -> str | None:
    """Same bytes + same options -> same row.  Files are hashed once per
    (device, inode, size, mtime), so links to one file cost one read."""
    if inp.kind == "sysroot":
        return None
    h = hashlib.sha256(repr(opts).encode())
    # the name matters only past the machine's stem (SRAT vs SRAT2 order)
    stem = os.path.basename(inp.id) if inp.kind == "tables" else ""
    for p in inp.paths:
        try:
            st = os.stat(p)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        sk = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        digest = stat_cache.get(sk)
        if digest is None:
            fh_hash = hashlib.sha256()
            try:
                with open(p, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        fh_hash.update(chunk)
            except OSError:
                return None
            digest = fh_hash.hexdigest()
            stat_cache[sk] = digest
        name = os.path.basename(p)
        if stem and name.startswith(stem):
            name = name[len(stem):]
        h.update(name.encode() + b"\0" + digest.encode())
    return h.hexdigest()


def _work(item):
    key, inp, cmdline, kernel = item
    return key, audit_one(inp, cmdline, kernel)


@dataclass
class AuditResult:
    rows: list
    skipped: list
    seconds: float
    unique: int

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r["verdict"] == "error")

    def summary(self) -> dict:
        by_verdict: dict = {}
        by_code: dict = {}
        for r in self.rows:
            by_verdict[r["verdict"]] = by_verdict.get(r["verdict"], 0) + 1
            for c in r["all_findings"]:
                by_code[c] = by_code.get(c, 0) + 1
        return {"machines": len(self.rows), "unique_inputs": self.unique, "errors": self.errors,
                "skipped_files": len(self.skipped), "seconds": round(self.seconds, 3),
                "by_verdict": dict(sorted(by_verdict.items(), key=lambda kv: (-kv[1], kv[0]))),
                "by_finding": dict(sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])))}


def audit(paths, *, cmdline=None, kernel=None, jobs: int = 0, progress=None, dedup: bool = True) -> AuditResult:
    """Audit every machine under ``paths``.  ``jobs`` worker processes (0:
    all cores); ``progress(done, total)`` is called as rows arrive."""
    t0 = time.perf_counter()
    disc = discover(paths)
    inputs = disc.inputs
    opts = (cmdline, kernel)
    stat_cache: dict = {}
    keys, work, seen = [], [], set()
    for i, inp in enumerate(inputs):
        k = _content_key(inp, opts, stat_cache) if dedup else None
        k = k or f"#{i}"
        keys.append(k)
        if k not in seen:
            seen.add(k)
            work.append((k, inp, cmdline, kernel))
    results: dict = {}
    jobs = jobs or os.cpu_count() or 1
    total = len(work)
    if jobs <= 1 or total <= 2:
        for n, item in enumerate(work, 1):
            k, row = _work(item)
            results[k] = row
            if progress:
                progress(n, total)
    else:
        ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context()
        chunk = max(1, min(16, total // (jobs * 8)))
        with ctx.Pool(min(jobs, total)) as pool:
            for n, (k, row) in enumerate(pool.imap_unordered(_work, work, chunksize=chunk), 1):
                results[k] = row
                if progress:
                    progress(n, total)
    rows = []
    for inp, k in zip(inputs, keys):
        r = results[k]
        rows.append(r if r["id"] == inp.id else dict(r, id=inp.id, kind=inp.kind))
    return AuditResult(rows=rows, skipped=disc.skipped, seconds=time.perf_counter() - t0, unique=total)
