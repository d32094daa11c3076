"""Findings about a planned boot: what the tables, the command line and the
simulated kernel say that a person should act on.

Every finding of every source reaches here (the decoded tables and their
cross-table checks, the e820 readers, the command line, the kernel's own e820
edits) and the plan adds its own.  Sizing rules follow the kernel's
Documentation/admin-guide/mm/memory-hotplug.rst ("ZONE_MOVABLE Sizing
Considerations"): a MOVABLE:KERNEL ratio up to 3:1 is usually fine, above
4:1 risky, and kernel zones must hold the memmap (1/64) of all memory.
Codes are stable; the catalogue is docs/findings.md.
"""

from __future__ import annotations

from ..findings import Finding, Severity
from ..intervals import IntervalIndex
from ..units import GIB, PAGE_SIZE

LABEL_TEXT = {
    "kernel_image": "the kernel image",
    "low_1m": "the first MiB (BIOS area, real-mode trampoline)",
    "initrd": "the initrd that the loader places at the top of low memory",
    "acpi_tables": "the firmware's ACPI tables",
    "page_tables": "direct-map page tables allocated top-down before the SRAT is parsed",
    "setup_data": "boot loader setup_data",
    "efi": "EFI memory map / boot services data",
    "soft_reserved": "a soft-reserved e820 range",
    "other": "early memblock allocations",
}
# reservations the command line cannot move (firmware and loader placement)
FIXED_LABELS = frozenset({"kernel_image", "low_1m", "initrd", "acpi_tables", "efi", "setup_data"})


def gib(n: int) -> str:
    return f"{n / GIB:.2f} GiB" if n % GIB else f"{n // GIB} GiB"


def _f(code, sev, msg, where=None):
    return Finding(code=code, severity=sev, message=msg, where=where)


def source_findings(machine) -> list[Finding]:
    """The findings of every input: tables (with the cross-table checks),
    e820 readers, boot facts, command line.  Each once."""
    out = list(machine.findings) + list(machine.cmdline.findings)
    if machine.tables is not None:
        out.extend(machine.tables.all_findings())
    return _unique(out)


# which modelled fact each hotplug-clearing reservation's placement follows
_LABEL_FACT = {"kernel_image": "kernel_image", "initrd": "initrd", "acpi_tables": "acpi_tables",
               "page_tables": "kernel_image", "other": "e820", "soft_reserved": "e820"}
_FACT_TEXT = {"kernel_image": "kernel image placement", "initrd": "initrd placement",
              "acpi_tables": "ACPI table addresses", "e820": "e820 map"}


def _resting_on(machine, labels) -> list[str]:
    """The assumed facts a node's loss of its hotplug flag rests on, or [] when
    one of its causes is a fact of the input (the first MiB, a given image)."""
    facts = [_LABEL_FACT.get(x) for x in labels]
    if not facts or any(f is None or f not in machine.assumed for f in facts):
        return []
    return sorted({_FACT_TEXT[f] for f in facts})


def _ram_dependent(reason: str | None) -> bool:
    """An SRAT rejected for where RAM is (cross-node overlap of RAM, NUMA
    coverage of RAM) rather than for the table itself."""
    return bool(reason) and any(w in reason for w in ("overlaps", "coverage", "RAM"))


def _unique(findings) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.message, f.table, f.offset, f.where)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def collect(machine, trace, plan) -> list[Finding]:
    """All findings of a plan, most severe first."""
    m, cl = machine, machine.cmdline
    findings = source_findings(m) + list(trace.findings)
    numa = trace.numa
    srat_used = m.srat is not None and plan.numa_source == "srat"
    srat_hot_nodes = [n for n in plan.nodes if n.hotplug_in_srat]
    movable = cl.movable_node

    if cl.numa_fake is not None:
        findings.append(_f("NUMA_FAKE_NOT_MODELLED", Severity.WARNING,
                           f"numa=fake={cl.numa_fake}: x86 NUMA emulation (arch/x86/mm/numa_emulation.c) splits the "
                           "memory into fake nodes; sratplan does not model it, and this plan shows the physical "
                           "nodes - the kernel's node numbers, zones and hotplug flags will differ",
                           where="cmdline numa"))
    for what in trace.failed:
        findings.append(_f("BOOT_ALLOCATION_FAILED", Severity.ERROR,
                           f"the kernel does not boot: no memory for {what} (it panics or dereferences the "
                           "missing allocation)"))
    if m.srat is None:
        findings.append(_f("NO_SRAT", Severity.INFO,
                           "no SRAT: Linux runs this machine as one node; movable_node has nothing to work with"))
    elif plan.numa_source == "dummy":
        sev = Severity.ERROR if (movable or any(getattr(s, "hot_pluggable", False) for s in m.srat.subtables)) \
            else Severity.WARNING
        msg = (f"Linux discards the whole SRAT ({plan.numa_reason}); the machine boots as one node and no memory "
               "is hotpluggable")
        if "e820" in m.assumed and _ram_dependent(plan.numa_reason):
            sev = Severity.WARNING
            msg += " - on the e820 map assumed from the SRAT; give --e820 or --boot-facts to decide it"
        findings.append(_f("SRAT_NOT_USED", sev, msg))

    mem_index = IntervalIndex((r.base, r.base + r.size, r.nid) for r in trace.memblock.memory)
    if srat_used and numa.srat is not None:
        for sm in numa.srat.mems:
            if sm.hotplug and not mem_index.any(sm.start, sm.end):
                findings.append(_f("SRAT_HOTPLUG_WINDOW", Severity.INFO,
                                   f"hotpluggable range [{sm.start:#x}-{sm.end - 1:#x}] of node {sm.node} has no RAM "
                                   "at boot: it is a hot-add window (memory added there later follows the "
                                   "onlining policy, not movable_node)", where=f"node {sm.node}"))
            elif not sm.hotplug and sm.end > sm.start and not mem_index.any(sm.start, sm.end):
                findings.append(_f("SRAT_RANGE_WITHOUT_RAM", Severity.INFO,
                                   f"SRAT range [{sm.start:#x}-{sm.end - 1:#x}] of node {sm.node} holds no e820 RAM",
                                   where=f"node {sm.node}"))
        loose = [r for r in trace.memblock.memory if not m.profile.valid_nid(r.nid)]
        if loose:
            total = sum(r.size for r in loose)
            findings.append(_f("RAM_WITHOUT_SRAT", Severity.WARNING,
                               f"{total >> 10} KiB of e820 RAM lies in no SRAT range ({loose[0].base:#x}...): "
                               "Linux tolerates up to 1 MiB of it, leaving those pages without a node"))
    if cl.crashkernel and not trace.late.crashkernel:
        findings.append(_f("CRASHKERNEL_NOT_RESERVED", Severity.WARNING,
                           "crashkernel= is given but no room was found for it in non-hotpluggable memory"))

    for n in plan.nodes:
        kern = n.kernel_present_bytes
        if n.movable_present_bytes and kern and n.movable_present_bytes / kern > 3:
            findings.append(_f("NODE_MOVABLE_RATIO", Severity.INFO,
                               f"node {n.node}: MOVABLE:KERNEL is {n.movable_present_bytes / kern:.1f}:1 - its kernel "
                               "allocations spill to other nodes", where=f"node {n.node}"))
        if n.hotplug_cleared_by:
            what = ", ".join(LABEL_TEXT.get(x, x) for x in n.hotplug_cleared_by)
            sev = Severity.ERROR if movable else Severity.WARNING
            msg = f"node {n.node} loses its hotplug flag: {what} lie(s) in node {n.node}"
            guesses = _resting_on(m, n.hotplug_cleared_by)
            if guesses:
                # an error never rests on an assumption: say what decides it
                sev = Severity.WARNING
                msg += (" - on the assumed " + ", ".join(guesses) + "; give the real placement (--kernel-image, "
                        "--initrd, --boot-facts) to decide it")
            findings.append(_f(f"HOTPLUG_CLEARED_{n.hotplug_cleared_by[0].upper()}", sev, msg,
                               where=f"node {n.node}"))
        if movable and n.hotplug and n.node_data and n.node_data_on is not None and n.node_data_on != n.node:
            findings.append(_f("NODE_DATA_OFF_NODE", Severity.INFO,
                               f"node {n.node} is entirely hotpluggable: its NODE_DATA and memmap live on node "
                               f"{n.node_data_on}", where=f"node {n.node}"))

    if srat_hot_nodes and not movable and srat_used:
        findings.append(_f("MOVABLE_NODE_NOT_GIVEN", Severity.WARNING,
                           "the SRAT marks RAM hotpluggable but movable_node is not on the command line: that "
                           "memory goes to kernel zones and cannot be hot-removed"))
    if movable and (cl.kernelcore or cl.movablecore):
        findings.append(_f("KERNELCORE_IGNORED", Severity.WARNING,
                           "movable_node silently overrides kernelcore= and movablecore="))
    if movable and srat_used and not srat_hot_nodes:
        findings.append(_f("MOVABLE_NODE_NO_EFFECT", Severity.INFO,
                           "movable_node is given but no boot RAM is marked hotpluggable: it has no effect"))

    if movable and m.profile.bottom_up_above_kernel:
        findings.extend(_bottom_up_findings(plan, trace.early))
    findings.extend(_sizing(plan))

    k = trace.kaslr
    if k is not None and k.nodes:
        hot_cands = [n for n in plan.nodes if n.node in k.nodes and n.hotplug_in_srat]
        if m.srat is not None and not k.filtered and hot_cands:
            findings.append(_f("KASLR_MAY_LAND_IN_HOTPLUG", Severity.WARNING,
                               "KASLR's immovable-memory filter is off (every SRAT range is hotpluggable, or the "
                               "table has a zero-length subtable): the kernel image may land in node(s) "
                               + ", ".join(str(n.node) for n in hot_cands)
                               + " and make it non-removable; boot with nokaslr or fix the SRAT"))
        else:
            findings.append(_f("KASLR_NODES", Severity.INFO,
                               "with KASLR the kernel image can land in node(s) "
                               + ", ".join(str(x) for x in k.nodes)
                               + (" (the SRAT's non-hotpluggable ranges)" if k.filtered else "")))
    findings = _unique(findings)
    findings.sort(key=lambda f: (-f.severity.rank, f.code))
    return findings


BOTTOM_UP_WHAT = {"trampoline": "the real-mode trampoline", "page_tables": "direct-map page tables",
                  "initrd": "the relocated initrd", "numa_distance": "the SLIT copy (numa_distance)"}


def _bottom_up_findings(plan, early) -> list[Finding]:
    """Seed-era kernels (profile.bottom_up_above_kernel) with movable_node:
    where the allocations made before the SRAT is parsed land relative to the
    kernel image, which node(s) that pins, and the kernel's warning when
    nothing above the image was free."""
    mb = early.memblock
    kend = early.kernel_end
    prof = plan.machine.profile

    def node_of(addr):
        nid = mb.memory_nid_at(addr)
        return nid if prof.valid_nid(nid) else None

    def rng(s, e):
        return f"[{s:#x}-{e - 1:#x}]"

    kernel_node = node_of(plan.machine.loader.kernel_text)
    above = [(w, s, e) for w, s, e in early.bottom_up_allocations if s >= kend]
    below = [(w, s, e) for w, s, e in early.bottom_up_allocations if s < kend]
    out = []
    where = "kernel" if kernel_node is None else f"node {kernel_node}"
    msg = (f"profile {prof.name} starts bottom-up allocations above the kernel image: with movable_node, memblock "
           f"allocations made before the SRAT is parsed are searched upward from its end (_end = {kend:#x}"
           + (f", node {kernel_node}" if kernel_node is not None else "") + "), so early data lands next to the "
           "kernel and in its node")
    if above:
        nodes = sorted({n for _, s, _ in above if (n := node_of(s)) is not None})
        msg += "; here, above the image: " + ", ".join(f"{BOTTOM_UP_WHAT.get(w, w)} {rng(s, e)}"
                                                       for w, s, e in above)
        if nodes:
            msg += ", in node(s) " + ", ".join(map(str, nodes))
            extra = [n for n in nodes if n != kernel_node]
            msg += (" (the kernel's own node, which the image already pins)" if not extra else
                    f": node(s) {', '.join(map(str, extra))} besides the kernel's are pinned by them")
            where = "node " + ",".join(map(str, nodes))
    else:
        msg += "; on this machine no such allocation lands above the image"
    fell = [f for *_, f in mb.bottom_up_fallbacks if f]
    for w, s, e in below:
        if any(s <= f < e for f in fell):
            continue                      # reported by BOTTOM_UP_FALLBACK
        n = node_of(s)
        msg += (f"; {BOTTOM_UP_WHAT.get(w, w)} {rng(s, e)} goes top-down"
                + (" below 1 MiB" if e <= 1 << 20 else "") + " because its search window ends below the image"
                + (f" (node {n})" if n is not None and n != kernel_node else ""))
    out.append(_f("BOTTOM_UP_ABOVE_KERNEL", Severity.INFO, msg, where=where))
    if mb.bottom_up_fallbacks:
        size, lo, hi, found = mb.bottom_up_fallbacks[0]
        n = node_of(found) if found else None
        more = len(mb.bottom_up_fallbacks) - 1
        out.append(_f("BOTTOM_UP_FALLBACK", Severity.WARNING,
                      "the kernel will warn \"memblock: bottom-up allocation failed, memory hotremove may be "
                      f"affected\": a {size}-byte allocation found nothing free above the kernel image (_end = "
                      f"{kend:#x}; what lies above is hotpluggable, reserved or not RAM) and fell back to a top-down "
                      f"search of [{lo:#x}-{min(hi, mb.end_of_dram()) - 1:#x}]"
                      + (f", landing at {found:#x}" + (f" in node {n}" if n is not None else "") if found
                         else ", which found nothing either")
                      + (f"; {more} more allocation(s) fell back the same way" if more else ""),
                      where=f"node {n}" if n is not None else None))
    return out


def _sizing(plan) -> list[Finding]:
    """memory-hotplug.rst's ZONE_MOVABLE sizing rules over the whole machine."""
    out = []
    total_movable = sum(n.movable_present_bytes for n in plan.nodes)
    total_kernel = sum(n.kernel_present_bytes for n in plan.nodes)
    if not total_movable:
        return out
    total = total_movable + total_kernel
    ratio = total_movable / max(total_kernel, 1)
    if ratio > 4:
        out.append(_f("MOVABLE_RATIO_HIGH", Severity.ERROR,
                      f"MOVABLE:KERNEL is {ratio:.1f}:1 overall (> 4:1): expect OOM under kernel-heavy load"))
    elif ratio > 3:
        out.append(_f("MOVABLE_RATIO_RISKY", Severity.WARNING,
                      f"MOVABLE:KERNEL is {ratio:.1f}:1 overall (3:1 is the documented comfortable limit)"))
    kernel_managed = sum(z.managed for n in plan.nodes for z in n.zones[:3]) * PAGE_SIZE
    if kernel_managed < total // 64 + (256 << 20):
        out.append(_f("MEMMAP_CHARGE", Severity.ERROR,
                      f"kernel zones manage {gib(kernel_managed)}, less than the memmap of all memory "
                      f"({gib(total // 64)}) plus a 256 MiB margin"))
    if not any(z.present for n in plan.nodes for z in n.zones[:2]):
        out.append(_f("NO_LOW_KERNEL_MEMORY", Severity.WARNING,
                      "no DMA/DMA32 kernel memory: swiotlb and crashkernel need non-movable memory below 4 GiB"))
    return out
