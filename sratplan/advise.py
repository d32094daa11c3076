"""Feasibility rules and command-line advice over a Plan.

Sizing rules follow the kernel's Documentation/admin-guide/mm/memory-hotplug.rst
("ZONE_MOVABLE Sizing Considerations", "Zone Imbalances"): a MOVABLE:KERNEL
ratio up to 3:1 is usually fine, above 4:1 risky, and kernel zones must hold
the memmap (1/64) of all memory.  Finding codes are stable; the catalogue is
docs/findings.md.
"""

from __future__ import annotations

from .records import replace

from .findings import Finding, Severity

GIB = 1 << 30
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


def _gib(n: int) -> str:
    return f"{n / GIB:.2f} GiB" if n % GIB else f"{n // GIB} GiB"


class _Intervals:
    """Memory regions sorted by start, for "what overlaps [s, e)?" in log time
    (plans of 2,000-range machines ask it thousands of times)."""

    def __init__(self, items):
        self.items = sorted(items)
        self.starts = [i[0] for i in self.items]
        self.maxend = []
        mx = 0
        for _, e, _n in self.items:
            mx = max(mx, e)
            self.maxend.append(mx)

    def any(self, s, e) -> bool:
        import bisect

        k = bisect.bisect_left(self.starts, e)
        return k > 0 and self.maxend[k - 1] > s

    def nids(self, s, e):
        import bisect

        k = bisect.bisect_left(self.starts, e)
        out = set()
        for i in range(k - 1, -1, -1):
            if self.maxend[i] <= s:
                break
            a, b, n = self.items[i]
            if b > s:
                out.add(n)
        return out


def _f(code, sev, msg, where=None):
    return Finding(code=code, severity=sev, message=msg, where=where)


def advise(plan, advise_more: bool = True):
    m = plan.machine
    cl = m.cmdline
    findings = list(m.findings)
    if m.srat is not None:
        findings.extend(m.srat.findings)
    if m.slit is not None:
        findings.extend(m.slit.findings)
    sim = plan.sim
    numa = sim.early.numa
    # the kernel's own e820 edits (mem=, memmap=): e.g. a user map it panics on
    known = {(f.code, f.message) for f in findings}
    findings.extend(f for f in sim.e820.findings if (f.code, f.message) not in known)
    srat_hot_nodes = [n for n in plan.nodes if n.hotplug_in_srat]
    movable = cl.movable_node

    if m.srat is None:
        findings.append(_f("NO_SRAT", Severity.INFO,
                           "no SRAT: Linux runs this machine as one node; movable_node has nothing to work with"))
    elif plan.numa_source == "dummy":
        sev = Severity.ERROR if (movable or any(getattr(s, "hot_pluggable", False) for s in m.srat.subtables)) \
            else Severity.WARNING
        findings.append(_f("SRAT_NOT_USED", sev,
                           f"Linux discards the whole SRAT ({plan.numa_reason}); the machine boots as one node "
                           "and no memory is hotpluggable"))

    mem_index = _Intervals((r.base, r.base + r.size, r.nid) for r in sim.early.memblock.memory)

    # hotplug ranges with no boot RAM: hot-add windows
    if numa.srat is not None and plan.numa_source == "srat":
        for sm in numa.srat.mems:
            if sm.hotplug and not mem_index.any(sm.start, sm.end):
                findings.append(_f("SRAT_HOTPLUG_WINDOW", Severity.INFO,
                                   f"hotpluggable range [{sm.start:#x}-{sm.end - 1:#x}] of node {sm.node} has no RAM "
                                   "at boot: it is a hot-add window (memory added there later follows the "
                                   "onlining policy, not movable_node)", where=f"node {sm.node}"))

    # e820 against the SRAT
    if numa.srat is not None and plan.numa_source == "srat":
        for sm in numa.srat.mems:
            if not sm.hotplug and sm.end > sm.start and not mem_index.any(sm.start, sm.end):
                findings.append(_f("SRAT_RANGE_WITHOUT_RAM", Severity.INFO,
                                   f"SRAT range [{sm.start:#x}-{sm.end - 1:#x}] of node {sm.node} holds no e820 RAM",
                                   where=f"node {sm.node}"))
        loose = [r for r in sim.early.memblock.memory if not m.profile.valid_nid(r.nid)]
        if loose:
            total = sum(r.size for r in loose)
            findings.append(_f("RAM_WITHOUT_SRAT", Severity.WARNING,
                               f"{total >> 10} KiB of e820 RAM lies in no SRAT range ({loose[0].base:#x}...): "
                               "Linux tolerates up to 1 MiB of it, leaving those pages without a node"))
    if cl.crashkernel and not sim.late.crashkernel:
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
            findings.append(_f(f"HOTPLUG_CLEARED_{n.hotplug_cleared_by[0].upper()}", sev,
                               f"node {n.node} loses its hotplug flag: {what} lie(s) in node {n.node}",
                               where=f"node {n.node}"))
        if movable and n.hotplug and n.node_data and n.node_data_on is not None and n.node_data_on != n.node:
            findings.append(_f("NODE_DATA_OFF_NODE", Severity.INFO,
                               f"node {n.node} is entirely hotpluggable: its NODE_DATA and memmap live on node "
                               f"{n.node_data_on}", where=f"node {n.node}"))

    if srat_hot_nodes and not movable and plan.numa_source == "srat":
        findings.append(_f("MOVABLE_NODE_NOT_GIVEN", Severity.WARNING,
                           "the SRAT marks RAM hotpluggable but movable_node is not on the command line: that "
                           "memory goes to kernel zones and cannot be hot-removed"))
    if movable and (cl.kernelcore or cl.movablecore):
        findings.append(_f("KERNELCORE_IGNORED", Severity.WARNING,
                           "movable_node silently overrides kernelcore= and movablecore="))
    if movable and plan.numa_source == "srat" and not srat_hot_nodes:
        findings.append(_f("MOVABLE_NODE_NO_EFFECT", Severity.INFO,
                           "movable_node is given but no boot RAM is marked hotpluggable: it has no effect"))

    if movable and m.profile.bottom_up_above_kernel:
        findings.extend(_bottom_up_findings(plan, sim.early))

    # sizing (memory-hotplug.rst)
    total_movable = sum(n.movable_present_bytes for n in plan.nodes)
    total_kernel = sum(n.kernel_present_bytes for n in plan.nodes)
    total = total_movable + total_kernel
    if total_movable:
        ratio = total_movable / max(total_kernel, 1)
        if ratio > 4:
            findings.append(_f("MOVABLE_RATIO_HIGH", Severity.ERROR,
                               f"MOVABLE:KERNEL is {ratio:.1f}:1 overall (> 4:1): expect OOM under kernel-heavy load"))
        elif ratio > 3:
            findings.append(_f("MOVABLE_RATIO_RISKY", Severity.WARNING,
                               f"MOVABLE:KERNEL is {ratio:.1f}:1 overall (3:1 is the documented comfortable limit)"))
        kernel_managed = sum(z.managed for n in plan.nodes for z in n.zones[:3]) * 4096
        if kernel_managed < total // 64 + (256 << 20):
            findings.append(_f("MEMMAP_CHARGE", Severity.ERROR,
                               f"kernel zones manage {_gib(kernel_managed)}, less than the memmap of all memory "
                               f"({_gib(total // 64)}) plus a 256 MiB margin"))
        low_kernel = any(z.present for n in plan.nodes for z in n.zones[:2])
        if not low_kernel:
            findings.append(_f("NO_LOW_KERNEL_MEMORY", Severity.WARNING,
                               "no DMA/DMA32 kernel memory: swiotlb and crashkernel need non-movable memory below 4 GiB"))

    kaslr_nodes = None
    if not cl.nokaslr and m.arch == "x86_64":
        from .kernel.kaslr import candidate_ranges

        image = m.loader.kernel_reserve_end - m.loader.kernel_text
        cands, filtered = candidate_ranges(sim.e820.firmware, m.srat_raw, acpi_off=cl.acpi_off,
                                           image_size=image, mem_limit=cl.mem)
        kaslr_nodes = sorted({nid for a, b in cands for nid in mem_index.nids(a, b)})
        hot_cands = [n for n in plan.nodes if n.node in kaslr_nodes and n.hotplug_in_srat]
        if m.srat is not None and not filtered and hot_cands:
            findings.append(_f("KASLR_MAY_LAND_IN_HOTPLUG", Severity.WARNING,
                               "KASLR's immovable-memory filter is off (every SRAT range is hotpluggable, or the "
                               "table has a zero-length subtable): the kernel image may land in node(s) "
                               + ", ".join(str(n.node) for n in hot_cands)
                               + " and make it non-removable; boot with nokaslr or fix the SRAT"))
        elif kaslr_nodes:
            findings.append(_f("KASLR_NODES", Severity.INFO,
                               "with KASLR the kernel image can land in node(s) "
                               + ", ".join(str(x) for x in kaslr_nodes)
                               + (" (the SRAT's non-hotpluggable ranges)" if filtered else "")))

    # verdict
    ok_bytes = {}
    for r in plan.blocks:
        if r.offlinable:
            ok_bytes[r.node] = ok_bytes.get(r.node, 0) + (r.end - r.start)
    hot = bool(ok_bytes)
    blocker = None
    if not hot:
        blocker = _blocker(plan, findings, movable, srat_hot_nodes)
    verdict = {"kaslr_nodes": kaslr_nodes, "hot_removable": hot, "nodes": sorted(ok_bytes), "bytes": hex(sum(ok_bytes.values())),
               "bytes_per_node": {str(k): hex(v) for k, v in sorted(ok_bytes.items())}, "blocker": blocker}
    rec = recommend(replace(plan, findings=tuple(findings), verdict=verdict), srat_hot_nodes) \
        if advise_more else {}
    findings.sort(key=lambda f: (-f.severity.rank, f.code))
    return replace(plan, findings=tuple(findings), verdict=verdict, recommendation=rec)


BOTTOM_UP_WHAT = {"trampoline": "the real-mode trampoline", "page_tables": "direct-map page tables",
                  "initrd": "the relocated initrd", "numa_distance": "the SLIT copy (numa_distance)"}


def _bottom_up_findings(plan, early):
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


def _blocker(plan, findings, movable, srat_hot_nodes):
    for f in findings:
        if f.code == "E820_USER_MAP_INVALID":
            return "the kernel panics while parsing the command line's memory map (memmap=exactmap needs two ranges)"
        if f.code == "SRAT_NOT_USED":
            return f.message
        if f.code == "NO_SRAT":
            return "no SRAT: nothing marks memory hotpluggable"
    cleared = [n for n in plan.nodes if n.hotplug_cleared_by]
    fixed = {"kernel_image", "low_1m", "initrd", "acpi_tables", "efi", "setup_data"}
    stuck = [n for n in srat_hot_nodes if set(n.hotplug_cleared_by) & fixed]
    if srat_hot_nodes and len(stuck) == len(srat_hot_nodes):
        n = stuck[0]
        what = ", ".join(LABEL_TEXT.get(x, x) for x in n.hotplug_cleared_by if x in fixed)
        return f"node {n.node} loses its hotplug flag: {what} lie(s) in node {n.node}"
    if srat_hot_nodes and not movable:
        return "movable_node is not given, so hotpluggable SRAT memory goes to kernel zones"
    if cleared and not any(n.hotplug for n in plan.nodes):
        n = cleared[0]
        what = ", ".join(LABEL_TEXT.get(x, x) for x in n.hotplug_cleared_by)
        return f"node {n.node} loses its hotplug flag: {what} lie(s) in node {n.node}"
    if not srat_hot_nodes:
        if any(n.zones[3].present for n in plan.nodes):
            return ("ZONE_MOVABLE exists (kernelcore=/movablecore=) but every Movable block holds boot "
                    "allocations or spans zones")
        return "the SRAT marks no boot memory hotpluggable"
    return "every Movable block holds boot-time reserved pages, spans nodes/zones or has holes"


def _movable_gib(plan) -> str:
    parts = [f"node {n.node}: {_gib(n.movable_present_bytes)}" for n in plan.nodes if n.movable_present_bytes]
    return ", ".join(parts) or "none"


def recommend(plan, srat_hot_nodes):
    """A command line for what this machine's tables allow, each change with
    its reason and its predicted effect (the machine is planned again with the
    recommended command line)."""
    from .records import replace as _replace

    from .kernel.cmdline import format_cmdline, parse_cmdline

    m = plan.machine
    cl = m.cmdline
    p = m.profile
    why = []
    add, remove = [], []
    srat_used = m.srat is not None and plan.numa_source == "srat"
    hot_ram_nodes = [n.node for n in plan.nodes if n.hotplug_in_srat]
    if srat_used and hot_ram_nodes:
        if not cl.movable_node:
            add.append("movable_node")
            why.append("movable_node: the SRAT marks RAM of node(s) " + ", ".join(map(str, hot_ram_nodes))
                       + " hotpluggable; movable_node keeps boot allocations off it (bottom-up until the "
                       "SRAT is parsed) and makes it ZONE_MOVABLE")
        if cl.kernelcore or cl.movablecore:
            remove += ["kernelcore", "movablecore"]
            why.append("drop kernelcore=/movablecore=: movable_node takes precedence and silently ignores them")
        kaslr_nodes = set(plan.verdict.get("kaslr_nodes") or ())
        removable = set(hot_ram_nodes) - {n.node for n in plan.nodes if n.hotplug_cleared_by and
                                          set(n.hotplug_cleared_by) & {"low_1m", "initrd", "acpi_tables"}}
        if (any(f.code == "KASLR_MAY_LAND_IN_HOTPLUG" for f in plan.findings) and not cl.nokaslr
                and len(kaslr_nodes & removable) >= 1 and len(kaslr_nodes) > 1):
            add.append("nokaslr")
            why.append("nokaslr: KASLR's immovable-memory filter is off for this SRAT, so the kernel image could "
                       "land in a hotpluggable node (" + ", ".join(map(str, sorted(kaslr_nodes & removable)))
                       + ") and pin it")
        stuck = [n for n in plan.nodes if n.hotplug_cleared_by and
                 set(n.hotplug_cleared_by) & {"kernel_image", "low_1m", "initrd", "acpi_tables", "efi",
                                              "setup_data"}]
        for n in stuck:
            what = ", ".join(LABEL_TEXT.get(x, x) for x in n.hotplug_cleared_by
                             if x in ("kernel_image", "low_1m", "initrd", "acpi_tables", "efi", "setup_data"))
            why.append(f"node {n.node} cannot be made removable from the command line: {what} lie(s) in it "
                       "(firmware and loader placement)")
    elif srat_used and not hot_ram_nodes and (cl.movable_node or cl.kernelcore or cl.movablecore):
        if cl.movable_node:
            why.append("movable_node has no effect here: no boot RAM is marked hotpluggable")
        if cl.kernelcore or cl.movablecore:
            why.append("kernelcore=/movablecore= spread ZONE_MOVABLE over all nodes (memory below the movable "
                       "zone counts as kernel memory): it helps compaction and huge pages, but does not make "
                       "any node removable")
    # hot-add windows: how memory added later is onlined
    has_window = any(f.code == "SRAT_HOTPLUG_WINDOW" for f in plan.findings)
    if has_window and cl.memhp_default_state is None and cl.online_policy is None:
        add.append("memory_hotplug.online_policy=auto-movable")
        why.append("memory_hotplug.online_policy=auto-movable: memory hot-added into the SRAT's hot-add windows "
                   "is onlined Movable while MOVABLE:KERNEL stays within auto_movable_ratio (301 %), so it can "
                   "be removed again without starving the kernel (movable_node does not apply to hot-added "
                   "memory; auto_online_blocks is '" + cl.auto_online_blocks(p) + "' on this kernel"
                   + (", so udev or memhp_default_state=online must online it)" if cl.auto_online_blocks(p) == "offline"
                      else ")"))
        if p.version >= (6, 1) and cl.memmap_on_memory is None:
            add.append("memory_hotplug.memmap_on_memory=1")
            why.append("memory_hotplug.memmap_on_memory=1: hot-added blocks carry their own memmap (1/64 of "
                       "their size) instead of taking it from kernel zones")
    new = format_cmdline(cl, remove=tuple(remove), add=tuple(add))
    effect = None
    trials: dict = {}           # command line -> its plan, so it is planned once
    if "movable_node" in add:
        # only worth adding when it makes something removable
        try:
            from .plan import plan as _plan

            trial = _plan(_replace(m, cmdline=parse_cmdline(new, p), findings=()), advise_more=False)
            trials[new] = trial
            if not trial.verdict.get("hot_removable") and not plan.verdict.get("hot_removable"):
                add.remove("movable_node")
                why[0] = ("movable_node would not help: " + (trial.verdict.get("blocker") or "no node stays "
                                                              "hotpluggable"))
                new = format_cmdline(cl, remove=tuple(remove), add=tuple(add))
        except Exception as exc:  # advice must never break the plan
            why.append(f"(effect not predicted: {exc})")
    boot_changing = {"movable_node", "nokaslr", "kernelcore", "movablecore"}
    if (set(add) & boot_changing) or (set(remove) & boot_changing):
        try:
            from .plan import plan as _plan

            alt = trials.get(new) or _plan(_replace(m, cmdline=parse_cmdline(new, p), findings=()),
                                           advise_more=False)
            v = alt.verdict
            effect = {"movable": _movable_gib(alt), "hot_removable": v.get("hot_removable"),
                      "bytes": v.get("bytes"), "nodes": v.get("nodes")}
            why.append(f"predicted effect: ZONE_MOVABLE {_movable_gib(alt)}; "
                       + (f"{_gib(int(v['bytes'], 16))} on node(s) {', '.join(map(str, v['nodes']))} can be "
                          "offlined and hot-removed" if v.get("hot_removable") else
                          f"still nothing can be hot-removed ({v.get('blocker')})"))
        except Exception as exc:  # advice must never break the plan
            why.append(f"(effect not predicted: {exc})")
    elif add or remove:
        why.append("predicted effect: the boot layout does not change; the advice is for memory added later")
    if not add and not remove:
        why.append("no change needed for what this machine's tables allow")
    return {"cmdline": new, "add": add, "remove": remove, "why": why, "effect": effect}
