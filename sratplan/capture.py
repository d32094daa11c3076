"""``sratplan capture DIR``: a sysroot holding exactly the files live mode
reads, so a machine can be checked somewhere else with
``sratplan live --sysroot DIR`` — the way ``hwloc-gather-topology`` and
``lsmem --sysroot`` work.

The paths are those of :mod:`sratplan.live`; the kernel log (``/dev/kmsg``,
a record device) is stored as dmesg text in a regular file at ``dev/kmsg``,
which live mode reads the same way.  The source is never written; the
destination must be new or empty unless ``force`` is given, and then the
files of an earlier capture there are removed first, so that a capture never
mixes two machines.  ``sratplan-capture.json`` records what was written and
what could not be read (a table a non-root reader may not open), so that
``live --sysroot`` and ``audit`` never mistake a missing SRAT for a machine
without one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import live
from .errors import InputError, UsageError


@dataclass(frozen=True)
class CaptureResult:
    dest: str
    written: tuple            # relative paths written (files and links)
    unreadable: tuple         # relative paths live mode would read but could not be read here
    notes: tuple = ()


def _files_to_copy(src: Path) -> list:
    """Relative paths of the regular files live mode reads under ``src``."""
    out = []
    tdir = src / live.TABLES
    try:
        names = set(os.listdir(tdir))
    except OSError:
        names = set()
    out += [f"{live.TABLES}/{s}" for s in live.PLAN_TABLES if s in names]
    out += [f"{live.MEMMAP}/{r}" for r in live.memmap_files(src / live.MEMMAP)]
    out += [live.CMDLINE, live.OSRELEASE, live.ZONEINFO, live.IOMEM]
    out += [f"{live.MEMORY}/block_size_bytes", f"{live.MEMORY}/auto_online_blocks"]
    try:
        blocks = sorted(int(m.group(1)) for n in os.listdir(src / live.MEMORY)
                        if (m := re.fullmatch(r"memory(\d{1,9})", n)))
    except OSError:
        blocks = []
    for b in blocks[:live.MAX_BLOCKS]:
        out += [f"{live.MEMORY}/memory{b}/state", f"{live.MEMORY}/memory{b}/valid_zones"]
    out += [f"{live.NODE}/{s}" for s in live.NODE_STATES]
    try:
        nodes = sorted(int(n[4:]) for n in os.listdir(src / live.NODE) if re.fullmatch(r"node\d{1,6}", n))
    except OSError:
        nodes = []
    out += [f"{live.NODE}/node{n}/meminfo" for n in nodes]
    return out


MANIFEST = live.MANIFEST
# what a capture may hold (files and trees), removed before --force writes a new one
CAPTURE_TREES = (live.TABLES, live.MEMMAP, live.MEMORY, live.NODE)
CAPTURE_FILES = (live.CMDLINE, live.OSRELEASE, live.ZONEINFO, live.IOMEM, live.KMSG, MANIFEST)


def _clear_old_capture(dst: Path) -> None:
    """Remove what an earlier capture wrote into ``dst`` (and nothing else of
    the directory's), never following a symbolic link out of it."""
    for rel in CAPTURE_TREES + CAPTURE_FILES:
        p = dst / rel
        if any((dst / Path(rel).parents[i]).is_symlink() for i in range(len(Path(rel).parents) - 1)):
            raise UsageError(f"{dst / Path(rel).parent} leads through a symbolic link: refusing to clear it")
        if p.is_symlink() or p.is_file():
            p.unlink()
        elif p.is_dir():
            shutil.rmtree(p)


def capture(dest, *, sysroot=None, force: bool = False) -> CaptureResult:
    """Copy what live mode reads from ``sysroot`` (default ``/``) into ``dest``."""
    src = Path(sysroot) if sysroot else Path("/")
    dst = Path(dest)
    if not src.is_dir():
        raise InputError("source is not a directory", path=str(src))
    if dst.exists():
        if not dst.is_dir():
            raise UsageError(f"{dst} exists and is not a directory")
        if any(dst.iterdir()) and not force:
            raise UsageError(f"{dst} is not empty (use --force to write into it)")
        if dst.resolve() == src.resolve():
            raise UsageError("the capture directory is the source itself")
        _clear_old_capture(dst)
    tdir = src / live.TABLES
    if not tdir.is_dir():
        raise InputError(f"{tdir} does not exist (not Linux, or no ACPI): nothing worth capturing")
    written, unreadable, notes = [], [], []
    dst.mkdir(parents=True, exist_ok=True)

    def mkdirs(reldir: str) -> Path:
        # one component at a time, never through a symbolic link: with
        # --force a planted link must not lead the capture out of DIR
        d = dst
        for part in Path(reldir).parts:
            d = d / part
            if d.is_symlink():
                raise UsageError(f"{d} is a symbolic link: refusing to write through it")
            if not d.exists():
                d.mkdir()
            elif not d.is_dir():
                raise UsageError(f"{d} exists and is not a directory")
        return d

    def put(rel: str, data: bytes):
        p = mkdirs(os.path.dirname(rel)) / os.path.basename(rel)
        if p.is_symlink() or (p.exists() and not p.is_file()):
            raise UsageError(f"{p} exists and is not a regular file")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        written.append(rel)

    # the tables directory exists on every ACPI machine, with or without SRAT
    mkdirs(live.TABLES)

    for rel in _files_to_copy(src):
        data = live._read_bytes(src / rel)
        if data is None:
            if os.path.lexists(src / rel):
                unreadable.append(rel)
            continue
        put(rel, data)
    # block -> node links, as sysfs has them
    for rel in [w for w in written if w.endswith("/state") and w.startswith(live.MEMORY + "/memory")]:
        bdir = rel.rsplit("/", 1)[0]
        try:
            links = [e for e in os.listdir(src / bdir) if re.fullmatch(r"node\d{1,6}", e)]
        except OSError:
            links = []
        for e in sorted(links):
            p = mkdirs(bdir) / e
            if not os.path.lexists(p):
                os.symlink(f"../../node/{e}", p)
            written.append(f"{bdir}/{e}")
    log = live.read_boot_log(src)
    if log is not None:
        put(live.KMSG, log.encode("utf-8"))
    else:
        notes.append("kernel log not readable (dmesg_restrict or not root): capture has no dev/kmsg")
    if not any(w.startswith(live.TABLES + "/") for w in written):
        notes.append("no SRAT/SLIT/MSCT/CEDT/HMAT captured (unreadable without root, or absent): "
                     "the capture will be planned as a machine without NUMA tables")
    io = live._read_bytes(src / live.IOMEM)
    if io is not None and live.parse_iomem_kernel(io.decode("utf-8", "replace")) is None:
        notes.append("/proc/iomem addresses are hidden from non-root readers: the kernel image range "
                     "will be modelled")
    result = CaptureResult(dest=str(dst), written=tuple(written), unreadable=tuple(unreadable), notes=tuple(notes))
    manifest = {"schema": "sratplan.capture/1", "source": str(src), "written": written,
                "unreadable": unreadable, "notes": notes}
    put(MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    return result
