"""The single frozen input of the planner: a machine as firmware and loader
describe it.

Everything left of :class:`Machine` only decodes (ACPI tables, e820, command
line, boot facts); everything right of it only computes.  Facts the inputs do
not give are filled in by modelling the usual loaders and written down in
``assumptions``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .acpi.checks import check_tables
from .acpi.sources import TableSet, read_tables
from .errors import InputError
from .firmware.e820 import E820Entry, E820Table, E820Type
from .intervals import subtract_all
from .kernel.cmdline import KernelCmdline, parse_cmdline
from .kernel.profile import KernelProfile, choose_profile, get_profile
from .kernel.setup import LoaderFacts

LOAD_PHYSICAL_ADDR = 16 << 20          # CONFIG_PHYSICAL_START (K1)
DEFAULT_INITRD_SIZE = 64 << 20
# CONFIG_NR_CPUS of the Debian kernels ("setup_percpu: NR_CPUS:8192" in every
# capture): the kernel never makes more CPUs possible (prefill_possible_map
# warns "... Processors exceeds NR_CPUS limit" and caps them).
NR_CPUS = 8192
QEMU_OEMS = ("BOCHS", "BXPC")
HYPERVISOR_OEMS = ("BOCHS", "BXPC", "VRTUAL", "MSFTVM", "VMWARE", "XEN", "AMAZON", "GOOGLE", "QEMU")


@dataclass(frozen=True)
class Machine:
    profile: KernelProfile
    cmdline: KernelCmdline
    e820: E820Table
    loader: LoaderFacts
    srat: object | None = None          # decoded SratTable (first instance) or None
    slit: object | None = None
    cedt: object | None = None
    msct: object | None = None
    tables: object | None = None        # the whole TableSet
    assumptions: tuple = ()
    sources: tuple = ()
    findings: tuple = ()
    arch: str = "x86_64"
    profile_note: str | None = None
    kernel_image_given: bool = False
    # facts the inputs did not give, modelled instead: e820, kernel_image,
    # initrd, acpi_tables, cpus, gbpages (the findings say when an answer rests on one)
    assumed: frozenset = frozenset()
    # hotpluggable SRAT ranges whose RAM at boot the input does not say (no e820)
    hotplug_unknown: tuple = ()
    # when the kernel release cannot tell whether the seed-era kernel_end rule
    # is there: the other profile to plan (kernel/profile.py:choose_profile)
    profile_alternative: str | None = None

    @property
    def srat_raw(self) -> bytes | None:
        return self.srat.raw if self.srat is not None else None

    @property
    def slit_raw(self) -> bytes | None:
        return self.slit.raw if self.slit is not None else None

    @property
    def cfmws_windows(self) -> tuple:
        if self.cedt is None:
            return ()
        out = []
        for st in getattr(self.cedt, "subtables", ()):
            if type(st).__name__ == "CedtCfmws":
                out.append((st.base_hpa, st.base_hpa + st.window_size))
        return tuple(out)


def _oem(t) -> str:
    h = getattr(t, "header", None)
    if h is None:
        return ""
    v = h.oem_id
    if isinstance(v, bytes):
        v = v.decode("latin-1")
    return str(v).strip("\x00 ").upper()


def guess_arch(tables) -> str:
    srat = tables.get("SRAT") if tables is not None else None
    if srat is None:
        return "x86_64"
    kinds = {type(s).__name__ for s in srat.subtables}
    if "SratGiccAffinity" in kinds or "SratGicItsAffinity" in kinds:
        return "arm64"
    if "SratRintcAffinity" in kinds:
        return "riscv64"
    oem = _oem(srat)
    if oem.startswith("LOONGS"):
        return "loongarch64"
    if oem in QEMU_OEMS:
        # QEMU's x86 SRAT always starts node 0 with [0, 640K) (hw/i386/acpi-build.c
        # build_srat); its LoongArch SRAT reuses the LAPIC subtable but not the hole
        mems = [s for s in srat.subtables if type(s).__name__ == "SratMemAffinity" and s.address_length]
        if mems and not any(m.base_address == 0 and m.address_length == 0xA0000 for m in mems):
            return "loongarch64"
    return "x86_64"


def e820_from_srat(srat, assumptions: list) -> tuple[E820Table, tuple]:
    """No e820 given: RAM = the enabled, volatile SRAT memory ranges minus the
    legacy holes (640K-1M and a 1 GiB PCI hole below 4 GiB).  Non-volatile
    ranges are persistent memory, not RAM (e820 types 7/12), and Specific
    Purpose ranges are soft-reserved: neither becomes RAM.  Hotpluggable ranges
    above the last non-hotpluggable one (or above 4 GiB when every range is
    hotpluggable) may be empty hot-add windows or populated DIMMs: they are
    left out, and returned as the ranges whose RAM the input does not say."""
    mems = [s for s in (srat.subtables if srat else ()) if type(s).__name__ == "SratMemAffinity"
            and s.enabled and s.address_length and not s.non_volatile and not s.specific_purpose]
    fixed = [m for m in mems if not m.hot_pluggable]
    top_fixed = max((m.base_address + m.address_length for m in fixed), default=0)
    ram, unknown = [], []
    for m in mems:
        s, e = m.base_address, min(m.base_address + m.address_length, 1 << 52)
        if m.hot_pluggable and ((fixed and s >= top_fixed) or (not fixed and s >= 4 << 30)):
            unknown.append((s, e))
            continue
        ram.append((s, e))
    holes = [(0x9FC00, 0x100000), (0xC0000000, 0x100000000)]
    pieces = subtract_all(ram, holes)
    entries = [E820Entry(a, b - a, E820Type.RAM) for a, b in pieces if b > a]
    entries.append(E820Entry(0x9FC00, 0x400, E820Type.RESERVED))
    entries.append(E820Entry(0xF0000, 0x10000, E820Type.RESERVED))
    note = ("no e820 map given: RAM assumed to be the enabled, volatile SRAT memory ranges minus 640K-1M "
            "and a PCI hole at 3-4 GiB")
    if unknown:
        note += ("; the hotpluggable ranges above all other memory are taken as empty hot-add windows (the "
                 "input does not say whether they hold RAM at boot)")
    assumptions.append(note + " - give --e820 or --boot-facts for the real map")
    return E820Table(entries=tuple(sorted(entries, key=lambda x: x.start)), source="assumed from SRAT"), \
        tuple(subtract_all(unknown, holes))


def with_hotplug_ram(machine: Machine) -> Machine:
    """The other answer to the fact the input did not give: the SRAT's
    hotpluggable ranges that were taken as empty windows hold RAM at boot."""
    extra = tuple(E820Entry(s, e - s, E820Type.RAM) for s, e in machine.hotplug_unknown)
    table = replace(machine.e820, entries=tuple(sorted(machine.e820.entries + extra, key=lambda x: x.start)))
    return replace(machine, e820=table, hotplug_unknown=())


def place_kernel_image(e820_table: E820Table, size: int) -> int:
    """Where a loader puts the kernel when the input does not say: at
    LOAD_PHYSICAL_ADDR (16 MiB) when that is usable RAM, else at the lowest
    2 MiB-aligned address above it inside one usable range (a loader never
    loads the image outside usable RAM)."""
    align = 2 << 20
    for e in sorted((x for x in e820_table.entries if x.type == E820Type.RAM), key=lambda x: x.start):
        a = max(LOAD_PHYSICAL_ADDR, -(-e.start // align) * align)
        if a + size <= e.start + e.size:
            return a
    return LOAD_PHYSICAL_ADDR


def _image_assumption(kaslr: bool, given: bool, text: int = LOAD_PHYSICAL_ADDR) -> str | None:
    if given:
        return None
    where = "16 MiB" if text == LOAD_PHYSICAL_ADDR else f"{text:#x} (the first usable 2 MiB slot above 16 MiB)"
    if kaslr:
        return (f"KASLR: the kernel image is assumed at {where} (its lowest slot); give --kernel-image for the "
                "real placement")
    return f"kernel image at {where} (nokaslr, a loader that loads bzImage at 1 MiB)"


def with_cmdline(machine: Machine, raw: str) -> Machine:
    """The same machine booted with another command line: the line is parsed
    for the machine's kernel, and what the line decides about the loader
    (KASLR) and the assumptions that follow from it change with it."""
    cl = parse_cmdline(raw, machine.profile)
    kaslr = not cl.nokaslr
    old = _image_assumption(machine.loader.kaslr, machine.kernel_image_given, machine.loader.kernel_text)
    new = _image_assumption(kaslr, machine.kernel_image_given, machine.loader.kernel_text)
    assumptions = tuple(new if a == old else a for a in machine.assumptions)
    return replace(machine, cmdline=cl, loader=replace(machine.loader, kaslr=kaslr), assumptions=assumptions)


def with_profile(machine: Machine, name: str) -> Machine:
    """The same machine booting another kernel: the command line is read by
    that kernel's rules and, when the inputs did not place the kernel image,
    the image is that kernel's build size."""
    profile = get_profile(name)
    cl = parse_cmdline(machine.cmdline.raw, profile)
    loader = machine.loader
    if not machine.kernel_image_given:
        loader = replace(loader, kernel_reserve_end=loader.kernel_text + profile.kernel_reserve_size)
    return replace(machine, profile=profile, cmdline=cl, loader=loader, profile_alternative=None,
                   profile_note=f"profile {profile.name} chosen for comparison")


def _top_of_low_ram(entries) -> int:
    top = 0
    for e in entries:
        if e.type == E820Type.RAM and e.start < 4 << 30:
            top = max(top, min(e.start + e.size, 4 << 30))
    return top


def load_machine(paths=(), *, e820=None, cmdline=None, boot_facts=None, kernel=None, initrd=None,
                 kernel_image=None, cpus=None, boot_params=None, live_root=None) -> Machine:
    """Build a Machine from inputs.  ``paths``: ACPI table files/dirs;
    ``e820``: a path (dmesg, memmap dir, boot_params, text/JSON); ``cmdline``:
    string; ``boot_facts``: path of a boot log; ``kernel``: profile name;
    ``initrd`` / ``kernel_image``: (start, size) tuples; ``cpus``: int."""
    assumptions: list = []
    sources: list = []
    findings: list = []
    assumed: set = set()
    hotplug_unknown: tuple = ()
    tables = None
    tsets = []
    for pth in paths or ():
        ts = read_tables(pth)
        tsets.append(ts)
        sources.append(f"tables: {pth}")
    if tsets:
        all_tables = tuple(t for ts in tsets for t in ts.tables)
        set_findings = [f for ts in tsets for f in ts.findings]
        if len(tsets) > 1:
            # tables from different files meet only here: check them together
            # (an SRAT in one file, its SLIT in another)
            set_findings += [f for f in check_tables(all_tables) if f not in set_findings]
        tables = TableSet(tables=all_tables, findings=tuple(set_findings),
                          source=", ".join(ts.source for ts in tsets), format=tsets[0].format)

    facts = None
    boot_oem_qemu = None
    if boot_facts is not None:

        # the readers of text and zero-page inputs (a few ms of regexes and
        # records) are imported only when such an input is given
        from .firmware.bootfacts import read_boot_facts

        facts = read_boot_facts(boot_facts)       # a boot log, a boot_params zero page or a capture dir
        # the "ACPI: SIG 0xADDR LEN (vNN OEMID ...)" table lines name the firmware
        boot_oem_qemu = any(t.oem_id in QEMU_OEMS for t in facts.acpi_tables)
        findings.extend(getattr(facts, "findings", ()))
        sources.append(f"boot facts: {boot_facts}")

    # kernel profile: explicit, else the boot log's release, else the newest
    note = alternative = None
    if kernel is not None:
        profile = get_profile(kernel)
    elif facts is not None and getattr(facts, "kernel_release", None):
        choice = choose_profile(facts.kernel_release)
        profile, note, alternative = choice.profile, choice.note, choice.alternative
    else:
        profile = get_profile(None)
    if note:
        assumptions.append(note)

    raw_cmdline = cmdline
    if raw_cmdline is None and facts is not None and facts.cmdline is not None:
        raw_cmdline = facts.cmdline
    cl = parse_cmdline(raw_cmdline or "", profile)

    srat = slit = cedt = msct = None
    if tables is not None:
        srat, slit, cedt, msct = (tables.get(s) for s in ("SRAT", "SLIT", "CEDT", "MSCT"))

    # e820: explicit file, else boot facts, else assumed from the SRAT
    if e820 is not None:
        from .firmware.e820_readers import read_e820  # only for an e820 file, see read_boot_facts above

        e820_table = read_e820(e820)
        sources.append(f"e820: {e820}")
    elif facts is not None and facts.e820 is not None and facts.e820.entries:
        e820_table = facts.e820
    else:
        e820_table, hotplug_unknown = e820_from_srat(srat, assumptions)
        assumed.add("e820")
    findings.extend(getattr(e820_table, "findings", ()))
    if not any(en.type == E820Type.RAM for en in e820_table.entries):
        if e820 is None and (facts is None or facts.e820 is None) and srat is None:
            what = ", ".join(sorted({t.signature for t in tables})) if tables is not None else "nothing"
            raise InputError(f"no SRAT and no e820 map among the inputs ({what}): nothing says where RAM is; "
                             "give the SRAT, --e820 or --boot-facts")
        if "e820" in assumed:
            # the SRAT was the only description of RAM: say what is wrong with it first
            bad = [f for f in srat.findings if f.severity.rank >= 1] or list(srat.findings)
            why = "; ".join(f"{f.location() or 'SRAT'}: {f.message}" for f in bad[:3]) or \
                "no enabled, volatile memory affinity entry"
            raise InputError(f"nothing says where RAM is: the SRAT describes no usable memory ({why}) and no "
                             "e820 map was given; give --e820 FILE or --boot-facts LOG")
        raise InputError("the e820 map has no usable RAM", path=str(e820) if e820 else None)

    # loader facts
    # a hypervisor (CPUID bit) changes the memory block size rule above 64 GiB;
    # the firmware's OEM id in the tables or in the boot log's ACPI lines says so
    hyper = any(_oem(t) in HYPERVISOR_OEMS or _oem(t).startswith("VMWARE") for t in (tables or ())) \
        or bool(boot_oem_qemu)
    kaslr = not cl.nokaslr
    if kernel_image is not None:
        ktext, kend = kernel_image[0], kernel_image[0] + kernel_image[1]
    else:
        ktext = place_kernel_image(e820_table, profile.kernel_reserve_size + profile.image_end_after_reserve)
        kend = ktext + profile.kernel_reserve_size
        assumed.add("kernel_image")
    image_note = _image_assumption(kaslr, kernel_image is not None, ktext)
    if image_note:
        assumptions.append(image_note)
    if initrd is not None:
        rd = (initrd[0], initrd[0] + initrd[1])
    elif facts is not None and facts.ramdisk is not None:
        rd = tuple(facts.ramdisk)
    else:
        # QEMU's linuxboot and GRUB load the initrd at the top of RAM below
        # 4 GiB (QEMU leaves SeaBIOS's ACPI tables above it), inside one usable
        # range and never over the kernel
        rd = None
        size = 0
        for en in sorted((x for x in e820_table.entries if x.type == E820Type.RAM and x.start < 4 << 30),
                         key=lambda x: -(x.start + x.size)):
            top = min(en.start + en.size, 4 << 30) & ~0xFFF
            lo = max(en.start, kend)
            size = min(DEFAULT_INITRD_SIZE, max(0, (top - lo) // 2) & ~0xFFF)
            if size >= (1 << 20) and (top - size) >= lo:
                rd = (top - size, top)
                break
        if rd:
            assumed.add("initrd")
            assumptions.append(f"initrd of {size >> 20} MiB placed by a QEMU/GRUB-style loader at the "
                               f"top of RAM below 4 GiB [{rd[0]:#x}-{rd[1] - 1:#x}]")
    acpi = ()
    if facts is not None and facts.acpi_tables:
        acpi = tuple((t.sig, t.address, t.length) for t in facts.acpi_tables)
    elif tables is not None and any(t.address for t in tables):
        acpi = tuple((t.signature, t.address, len(t.raw)) for t in tables if t.address)
    else:
        # firmware keeps its tables in e820 "ACPI data" ranges, or just above
        # the top of low RAM
        acpi_ranges = [(e.start, e.size) for e in e820_table.entries if e.type == E820Type.ACPI]
        if not acpi_ranges:
            top = _top_of_low_ram(e820_table.entries)
            if top:
                acpi_ranges = [(top, 0x2000)]
        acpi = tuple(("ACPI", s, n) for s, n in acpi_ranges)
        if acpi:
            assumed.add("acpi_tables")
            assumptions.append("ACPI tables assumed in the e820 ACPI-data range or just above the top of "
                               "low RAM (table addresses unknown)")
    ncpu = cpus
    if ncpu is None and facts is not None and facts.cpus:
        ncpu = facts.cpus
    if ncpu is None:
        n = 0
        if srat is not None:
            for s in srat.subtables:
                if type(s).__name__ in ("SratCpuAffinity", "SratX2apicCpuAffinity") and s.enabled:
                    n += 1
        ncpu = max(n, 1)
        assumed.add("cpus")
        assumptions.append(f"{ncpu} possible CPU(s), counted from the SRAT's enabled CPU entries")
    if ncpu > NR_CPUS:
        assumptions.append(f"{ncpu} CPUs exceed NR_CPUS ({NR_CPUS}): the kernel makes only {NR_CPUS} possible")
        ncpu = NR_CPUS
    # QEMU's default CPU models lack 1 GiB pages (pdpe1gb); real CPUs and the
    # other hypervisors (Hyper-V, VMware, KVM with host CPU) pass them through
    qemu = any(_oem(t) in QEMU_OEMS for t in (tables or ())) or bool(boot_oem_qemu)
    gb = not qemu
    assumed.add("gbpages")
    assumptions.append("CPU with 1 GiB pages" if gb else
                       "CPU without 1 GiB pages (QEMU's default CPU model)")
    loader = LoaderFacts(kernel_text=ktext, kernel_reserve_end=kend, initrd=rd, acpi_tables=acpi, cpus=ncpu,
                    gbpages=gb, hypervisor=hyper, kaslr=kaslr)
    if srat is None:
        assumptions.append("no SRAT: Linux runs the machine as one dummy NUMA node")
    return Machine(profile=profile, cmdline=cl, e820=e820_table, loader=loader, srat=srat, slit=slit,
                   cedt=cedt, msct=msct, tables=tables, assumptions=tuple(assumptions),
                   sources=tuple(sources), findings=tuple(findings), arch=guess_arch(tables),
                   profile_note=note, kernel_image_given=kernel_image is not None,
                   assumed=frozenset(assumed), hotplug_unknown=hotplug_unknown,
                   profile_alternative=alternative)
