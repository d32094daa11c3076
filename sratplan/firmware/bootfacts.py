"""Loader and firmware facts from a boot log or a zero page (``--boot-facts``).

A boot log is read for facts only, never for results.  The lines used are:

* ``BIOS-e820:`` (via :func:`~sratplan.firmware.e820_readers.parse_dmesg_e820`),
* ``ACPI: XXXX 0x<address> <length> (…)`` — the table list
  ``acpi_tb_print_table_header`` prints (drivers/acpi/acpica/tbprint.c),
* ``RAMDISK: [mem 0x…-0x…]`` — ``reserve_initrd`` (arch/x86/kernel/setup.c)
  prints the page-aligned range ``[ramdisk_image, PAGE_ALIGN(end))``,
* ``Command line: …`` (setup_arch),
* ``smpboot: Allowing N CPUs, M hotplug CPUs`` (arch/x86/kernel/smpboot.c,
  ≤ 6.1) or ``CPU topo: Allowing N present CPUs plus M hotplug CPUs``
  (arch/x86/kernel/cpu/topology.c, 6.12+) — the possible-CPU count the MADT
  gives,
* ``Linux version …`` (the kernel release, to pick a profile).

Zone, NUMA, SRAT, NODE_DATA, memblock and Movable lines are never looked at:
the planner must predict those.  Only the first boot of a log is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, LimitError
from ..findings import Finding, Severity
from ..inputs import read_bytes
from .e820 import E820Table
from .e820_readers import MAX_INPUT_BYTES, MAX_LINE_CHARS, BootParams, parse_boot_params, parse_dmesg_e820

_ACPI_RE = re.compile(r"ACPI: ([A-Z0-9_!$]{4}|[A-Za-z0-9_ ]{4}) 0x([0-9A-Fa-f]{1,16}) ([0-9A-Fa-f]{1,8})(?:\s|$)"
                      r"(?:\s*\(v\d\d\s+([^\s)]{1,6}))?")
_RAMDISK_RE = re.compile(r"RAMDISK: \[mem 0x([0-9a-fA-F]{1,16})-0x([0-9a-fA-F]{1,16})\]")
_CMDLINE_RE = re.compile(r"(?:^|[\s\]])Command line: ?(.*)$")
_SMPBOOT_RE = re.compile(r"smpboot: Allowing (\d{1,7}) CPUs, (\d{1,7}) hotplug CPUs")
_TOPO_RE = re.compile(r"CPU topo: Allowing (\d{1,7}) present CPUs plus (\d{1,7}) hotplug CPUs")
_VERSION_RE = re.compile(r"Linux version (\S+)")
MAX_ACPI_TABLES = 4096


@dataclass(frozen=True)
class AcpiTableAddr:
    """One ``ACPI: SIG 0xADDR LEN`` line: where firmware put a table."""
    sig: str
    address: int
    length: int
    oem_id: str = ""          # the "(vNN OEMID ..." the kernel prints after it

    def __iter__(self):  # allows  sig, addr, length = t
        return iter((self.sig, self.address, self.length))


@dataclass(frozen=True)
class BootFacts:
    """Facts a loader and the firmware fixed before the kernel decided anything.

    ``ramdisk`` is ``(start, end)`` half-open; from a log the end is the
    page-aligned end the kernel reserves, from boot_params it is
    ``ramdisk_image + ramdisk_size`` (use :attr:`ramdisk_reserved` for the
    page-aligned reservation either way).  ``cpus`` is the possible-CPU count
    (present + hotplug); ``cpus_hotplug`` the hotplug part.
    """
    e820: E820Table | None = None
    acpi_tables: tuple[AcpiTableAddr, ...] = ()
    ramdisk: tuple[int, int] | None = None
    cmdline: str | None = None
    cpus: int | None = None
    cpus_hotplug: int | None = None
    kernel_release: str | None = None
    source: str = "log"
    boot_params: BootParams | None = None
    findings: tuple[Finding, ...] = field(default=())

    @property
    def ramdisk_reserved(self) -> tuple[int, int] | None:
        """``[ramdisk_image, PAGE_ALIGN(ramdisk_image + ramdisk_size))``, what
        ``early_reserve_initrd`` reserves."""
        if self.ramdisk is None:
            return None
        s, e = self.ramdisk
        return s, (e + 0xFFF) & ~0xFFF


def _f(code, sev, msg, where=None):
    return Finding(code=code, severity=sev, message=msg, where=where)


def parse_boot_log(text: str, *, path: str | None = None) -> BootFacts:
    """Read the loader facts of the first boot in a kernel log (see module doc)."""
    if not isinstance(text, str):
        raise InputError("boot log must be text", path=path)
    if len(text) > MAX_INPUT_BYTES:
        raise LimitError(f"boot log is larger than {MAX_INPUT_BYTES >> 20} MiB", path=path)
    findings: list[Finding] = []
    tables: list[AcpiTableAddr] = []
    seen_sig_addr = set()
    ramdisk = cmdline = release = None
    cpus = hotplug = None
    boots = 0
    cut = len(text)
    pos = 0
    for no, line in enumerate(text.splitlines(), 1):
        start = pos
        pos += len(line) + 1
        if len(line) > MAX_LINE_CHARS:
            continue
        if "Linux version" in line:
            boots += 1
            if boots > 1:
                cut = start
                findings.append(_f("BOOTLOG_SECOND_BOOT", Severity.INFO,
                                   "the log holds more than one boot; only the first is read",
                                   f"{path or 'log'}:{no}"))
                break
            m = _VERSION_RE.search(line)
            if m and release is None:
                release = m.group(1)
            continue
        if "ACPI: " in line:
            m = _ACPI_RE.search(line)
            if m and "Reserving" not in line:
                key = (m.group(1), int(m.group(2), 16))
                if key not in seen_sig_addr and len(tables) < MAX_ACPI_TABLES:
                    seen_sig_addr.add(key)
                    tables.append(AcpiTableAddr(m.group(1), int(m.group(2), 16), int(m.group(3), 16),
                                                m.group(4) or ""))
            continue
        if "RAMDISK:" in line and ramdisk is None:
            m = _RAMDISK_RE.search(line)
            if m:
                s, last = int(m.group(1), 16), int(m.group(2), 16)
                if last >= s:
                    ramdisk = (s, last + 1)
            continue
        if "Command line:" in line and cmdline is None:
            m = _CMDLINE_RE.search(line)
            if m:
                cmdline = m.group(1)
            continue
        if "Allowing" in line and cpus is None:
            m = _SMPBOOT_RE.search(line)
            if m:
                # "Allowing %d CPUs, %d hotplug CPUs": the first number is the
                # possible count and already includes the hotplug ones.
                cpus, hotplug = int(m.group(1)), int(m.group(2))
                continue
            m = _TOPO_RE.search(line)
            if m:
                cpus = int(m.group(1)) + int(m.group(2))
                hotplug = int(m.group(2))
    e820 = parse_dmesg_e820(text[:cut], path=path)
    if not e820.entries:
        e820 = None
        findings.append(_f("BOOTLOG_NO_E820", Severity.WARNING, "no BIOS-e820 lines in the boot log", path))
    missing = [n for n, v in (("RAMDISK", ramdisk), ("Command line", cmdline), ("CPU count", cpus)) if v is None]
    if missing:
        findings.append(_f("BOOTLOG_MISSING", Severity.INFO, f"not in the log: {', '.join(missing)}", path))
    return BootFacts(e820=e820, acpi_tables=tuple(tables), ramdisk=ramdisk, cmdline=cmdline, cpus=cpus,
                     cpus_hotplug=hotplug, kernel_release=release, source="log",
                     findings=tuple(findings) + (e820.findings if e820 else ()))


def boot_facts_from_boot_params(data: bytes, *, path: str | None = None) -> BootFacts:
    """Loader facts from a raw zero page: the e820 table (as the kernel takes
    it: :func:`sratplan.kernel.e820.memory_setup_default`) and the ramdisk."""
    bp = parse_boot_params(data, path=path)
    rd = bp.ramdisk
    return BootFacts(e820=bp.e820, ramdisk=(rd[0], rd[0] + rd[1]) if rd else None, source="boot_params",
                     boot_params=bp, findings=bp.findings)


def read_boot_facts(path) -> BootFacts:
    """``--boot-facts FILE``: a boot log (text) or a ``boot_params`` zero page
    (binary), or a capture directory holding ``dmesg.txt`` / ``boot_params.bin``."""
    p = Path(path)
    if p.is_dir():
        for name in ("dmesg.txt", "boot_params.bin"):
            if (p / name).is_file():
                return read_boot_facts(p / name)
        raise InputError("directory holds no dmesg.txt or boot_params.bin", path=str(p))
    raw = read_bytes(p, MAX_INPUT_BYTES, what="boot log")
    if b"\0" in raw[:4096]:
        return boot_facts_from_boot_params(raw, path=str(p))
    return parse_boot_log(raw.decode("utf-8", errors="replace"), path=str(p))
