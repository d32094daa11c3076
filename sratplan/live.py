"""A running system (or a captured sysroot) as a Machine.

Everything is read through a root directory (``/`` for the live system, a
capture for ``--sysroot``), read-only, so live mode and captured trees share
one code path.  Files read: /sys/firmware/acpi/tables/*, /sys/firmware/memmap,
/proc/cmdline, /proc/sys/kernel/osrelease.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import InputError

TABLES = "sys/firmware/acpi/tables"
MEMMAP = "sys/firmware/memmap"
CMDLINE = "proc/cmdline"
OSRELEASE = "proc/sys/kernel/osrelease"

HOW_TO = ("run it as root ('sudo sratplan'), or save the tables elsewhere with "
          "'acpidump > dump.txt' and run 'sratplan dump.txt'; 'sratplan --example' lists bundled examples")


def _read_text(root: Path, rel: str) -> str | None:
    p = root / rel
    try:
        with open(p, "rb") as fh:
            return fh.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return None


def load_live_machine(*, sysroot=None, e820=None, cmdline=None, boot_facts=None, kernel=None, initrd=None,
                      kernel_image=None, cpus=None):
    from .kernel.profile import profile_for_release
    from .machine import load_machine

    root = Path(sysroot) if sysroot else Path("/")
    if sysroot is None and not sys.platform.startswith("linux"):
        raise InputError(f"no input given and this is not Linux: {HOW_TO}")
    tdir = root / TABLES
    if not tdir.is_dir():
        raise InputError(f"{tdir} does not exist (not Linux, or no ACPI): {HOW_TO}")
    try:
        names = os.listdir(tdir)
    except OSError as e:
        raise InputError(f"cannot list {tdir}: {e.strerror}; {HOW_TO}") from None
    paths = []
    for sig in ("SRAT", "SLIT", "MSCT", "CEDT", "HMAT"):
        p = tdir / sig
        if sig in names:
            try:
                with open(p, "rb") as fh:
                    fh.read(1)
            except PermissionError:
                raise InputError(f"cannot read {p} (permission denied): {HOW_TO}") from None
            except OSError:
                continue
            paths.append(str(p))
    memmap = root / MEMMAP
    e820_src = e820 or (str(memmap) if memmap.is_dir() else None)
    cl = cmdline
    if cl is None:
        cl = (_read_text(root, CMDLINE) or "").strip()
    kv = kernel
    note = None
    if kv is None:
        rel = (_read_text(root, OSRELEASE) or "").strip()
        if rel:
            prof, note = profile_for_release(rel)
            kv = prof.name
    if not paths:
        # a machine without SRAT: Linux runs it as one dummy node
        paths = []
    m = load_machine(paths, e820=e820_src, cmdline=cl, boot_facts=boot_facts, kernel=kv, initrd=initrd,
                     kernel_image=kernel_image, cpus=cpus)
    if note:
        from dataclasses import replace

        m = replace(m, assumptions=m.assumptions + (note,))
    return m
