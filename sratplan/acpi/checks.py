"""Table findings: what is wrong with a decoded table, with stable codes.

Structural findings (zero-length, truncated, too-short and unknown
subtables, trailing bytes) come from the walker in :mod:`sratplan.acpi.tables`;
this module adds the rest.  Codes are modelled on fwts's SRAT/SLIT test labels
and documented in docs/findings.md.  Where a finding has a consequence in
Linux the message says which, citing the kernel function:

* drivers/acpi/numa/srat.c: acpi_numa_memory_affinity_init (PXM masked to
  8 bits when the SRAT revision <= 1; length < 40 -> bad_srat),
  acpi_parse_slit / slit_valid (diagonal must be 10, others > 10);
* arch/x86/mm/srat.c: acpi_numa_processor_affinity_init (type 0 length must
  be exactly 16), acpi_numa_x2apic_affinity_init (length >= 24);
* arch/x86/mm/numa.c / mm/numa_memblks.c: numa_cleanup_meminfo (overlapping
  ranges of different nodes make NUMA init fail when both hold RAM).
"""

from __future__ import annotations

import heapq

from ..findings import Finding
from . import model as m

W, E, INFO = "warning", "error", "info"

# Flag bits each subtable type defines (its Struct's flag table); anything
# else is a reserved bit.  Fields ACPI calls Reserved ("must be zero").
_SRAT_TYPES = tuple(dict.fromkeys(m.SRAT_CLASSES.values()))
_DEFINED_FLAGS = {cls: sum(mask for _label, mask in cls.FLAGS) for cls in _SRAT_TYPES if cls.FLAGS}
_RESERVED = {cls: tuple(a for a, _s, _l, _k in cls.LAYOUT if a.startswith("reserved")) for cls in _SRAT_TYPES}
_RESERVED = {cls: names for cls, names in _RESERVED.items() if names}


# How _check_srat treats each class (anything else: only the generic checks).
_LAPIC, _OTHER_CPU, _MEMORY = 1, 2, 3
_KIND = {m.SratCpuAffinity: _LAPIC, m.SratX2apicCpuAffinity: _OTHER_CPU, m.SratGiccAffinity: _OTHER_CPU,
         m.SratRintcAffinity: _OTHER_CPU, m.SratMemAffinity: _MEMORY}


def _f(code, sev, msg, table, offset=None, where=None):
    return m.finding(code, sev, msg, table=table, offset=offset, where=where)


def _hex(v):
    return f"0x{v:x}"


def check_table(t: m.Table) -> list[Finding]:
    """Findings for one table (header checks for every signature)."""
    out: list[Finding] = []
    h = t.header
    if h is None:
        return out
    sig = t.signature
    present = len(t.raw)
    if h.length != present:
        if h.length > present:
            out.append(_f(f"{sig}_LENGTH_MISMATCH", E,
                          f"header Table Length is {h.length} but only {present} bytes are present", sig, 4))
        else:
            out.append(_f(f"{sig}_LENGTH_MISMATCH", W,
                          f"{present - h.length} byte(s) beyond the header's Table Length ({h.length}) "
                          f"are ignored", sig, 4))
    if sum(t.raw[:min(h.length, present)]) & 0xFF:
        want = (h.checksum - sum(t.raw[:min(h.length, present)])) & 0xFF
        # Linux installs the early tables without checking their checksums
        # unless booted with acpi_force_table_verification
        # (drivers/acpi/tables.c:acpi_locate_initial_tables), so SRAT/SLIT are
        # still used for NUMA; the full verification after early boot
        # (acpi_reallocate_root_table) then uninstalls the table.
        out.append(_f(f"{sig}_BAD_CHECKSUM", W,
                      f"checksum 0x{h.checksum:02x} is wrong (0x{want:02x} would make the bytes sum to 0); "
                      f"early boot still uses the table unless acpi_force_table_verification is given",
                      sig, 9))
    if isinstance(t, m.SratTable):
        out += _check_srat(t)
    elif isinstance(t, m.SlitTable):
        out += _check_slit(t)
    elif isinstance(t, m.CedtTable):
        out += _check_cedt(t)
    return out


def _check_srat(t: m.SratTable) -> list[Finding]:
    out = []
    sig = "SRAT"
    rev = t.revision
    if len(t.raw) >= 48 and t.table_revision != 1:
        out.append(_f("SRAT_BAD_TABLE_REVISION", W,
                      f"Table Revision is {t.table_revision}; ACPI requires 1", sig, 36))
    if len(t.raw) >= 48 and t.reserved:
        out.append(_f("SRAT_RESERVED_NON_ZERO", W, f"header Reserved is {_hex(t.reserved)}", sig, 40,
                      "Reserved"))
    cpu_pxm: dict[int, int] = {}
    mem_pxm: dict[int, int] = {}
    ranges = []
    spec: dict = {}  # class -> (known size, undefined flag bits, reserved fields, kind)
    for s in t.subtables:
        cls = s.__class__
        sp = spec.get(cls)
        if sp is None:
            defined = _DEFINED_FLAGS.get(cls)
            sp = spec[cls] = (cls.SIZE, None if defined is None else ~defined, _RESERVED.get(cls, ()),
                              _KIND.get(cls, 0) if not issubclass(cls, m.UnknownSubtable) else -1)
        known, undefined, reserved, kind = sp
        if kind < 0:
            continue
        if s.length > known:
            if isinstance(s, m.SratCpuAffinity):
                out.append(_f("SRAT_SUBTABLE_TOO_LONG", E,
                              f"Local APIC affinity is {s.length} bytes, not 16: Linux calls bad_srat() "
                              f"and ignores the whole SRAT (x86 acpi_numa_processor_affinity_init)",
                              sig, s.offset))
            else:
                out.append(_f("SRAT_SUBTABLE_TOO_LONG", W,
                              f"{cls.__name__} is {s.length} bytes, {known} known; the extra "
                              f"{s.length - known} bytes are kept undecoded", sig, s.offset))
        if undefined is not None and s.flags & undefined:
            out.append(_f("SRAT_RESERVED_BITS_NON_ZERO", W,
                          f"{cls.__name__} flags {_hex(s.flags)} set reserved bit(s) "
                          f"{_hex(s.flags & undefined)}", sig, s.offset, "Flags"))
        for name in reserved:
            v = getattr(s, name)
            if v:
                out.append(_f("SRAT_RESERVED_NON_ZERO", W, f"{cls.__name__} {name} is {_hex(v)}",
                              sig, s.offset, name))
        if kind == _OTHER_CPU:
            if s.flags & 1:  # enabled
                cpu_pxm.setdefault(s.proximity_domain, s.offset)
        elif kind == _LAPIC:
            if s.proximity_domain_hi and rev < 2:
                out.append(_f("SRAT_PXM_TRUNCATED", W,
                              f"Proximity Domain High is {_hex(s.proximity_domain_hi)} but the SRAT "
                              f"revision is {rev}: Linux uses only the low 8 bits", sig, s.offset))
            if s.enabled:
                cpu_pxm.setdefault(s.pxm(rev), s.offset)
        elif kind == _MEMORY:
            if rev <= 1 and s.proximity_domain > 0xFF:
                out.append(_f("SRAT_PXM_TRUNCATED", W,
                              f"memory Proximity Domain {s.proximity_domain} in a revision-{rev} SRAT: "
                              f"Linux masks it to {s.proximity_domain & 0xFF}", sig, s.offset))
            if s.enabled:
                if s.address_length == 0:
                    out.append(_f("SRAT_EMPTY_MEMORY_RANGE", W,
                                  f"enabled memory range at {_hex(s.base_address)} has length 0 "
                                  f"(Linux counts the entry but adds no memory)", sig, s.offset))
                elif s.end > 1 << 64:
                    out.append(_f("SRAT_RANGE_OVERFLOW", E,
                                  f"memory range {_hex(s.base_address)}+{_hex(s.address_length)} wraps "
                                  f"past 2^64 (Linux: 'invalid memblk', ignored)", sig, s.offset))
                else:
                    ranges.append(s)
                if s.hot_pluggable and s.non_volatile:
                    out.append(_f("SRAT_HOTPLUG_NON_VOLATILE", W,
                                  f"range {_hex(s.base_address)}-{_hex(s.end - 1)} is both Hot Pluggable "
                                  f"and Non-Volatile", sig, s.offset))
                mem_pxm.setdefault(s.pxm(rev), s.offset)
            elif s.base_address or s.address_length:
                out.append(_f("SRAT_DISABLED_RANGE", W,
                              f"disabled memory entry carries a range {_hex(s.base_address)}-"
                              f"{_hex(s.base_address + s.address_length - 1)} (ignored by Linux)",
                              sig, s.offset))
    out += _overlaps(ranges, rev)
    for pxm, off in sorted(cpu_pxm.items()):
        if pxm not in mem_pxm:
            out.append(_f("SRAT_MEMORYLESS_DOMAIN", INFO,
                          f"proximity domain {pxm} has CPUs but no enabled memory", sig, off, f"PXM {pxm}"))
    for pxm, off in sorted(mem_pxm.items()):
        if pxm not in cpu_pxm:
            out.append(_f("SRAT_CPULESS_DOMAIN", INFO,
                          f"proximity domain {pxm} has memory but no enabled CPU", sig, off, f"PXM {pxm}"))
    if not mem_pxm and not any(f.code == "SRAT_ZERO_LENGTH_SUBTABLE" for f in t.findings):
        out.append(_f("SRAT_NO_MEMORY", W,
                      "no enabled memory affinity entry: Linux does not use this SRAT for NUMA", sig))
    return out


# Overlap findings listed one pair at a time; beyond this many the rest are
# only counted (a padded table of thousands of identical entries would
# otherwise produce millions of findings and quadratic time).
MAX_OVERLAP_FINDINGS = 64


def _overlaps(ranges, rev):
    out = []
    rs = sorted(ranges, key=lambda s: (s.base_address, s.end))
    active = []  # ranges whose end is beyond the current start
    for k, s in enumerate(rs):
        active = [a for a in active if a.end > s.base_address]
        for i, a in enumerate(active):
            if len(out) == MAX_OVERLAP_FINDINGS:
                return out + _count_rest(s, len(active) - i, rs[k + 1:], active + [s])
            lo, hi = s.base_address, min(a.end, s.end)
            if a.pxm(rev) == s.pxm(rev):
                out.append(_f("SRAT_MEMORY_OVERLAP", W,
                              f"memory ranges at 0x{a.offset:x} and 0x{s.offset:x} of PXM {s.pxm(rev)} overlap "
                              f"in [{_hex(lo)}-{_hex(hi - 1)}]", "SRAT", s.offset))
            else:
                out.append(_f("SRAT_MEMORY_OVERLAP_CROSS_DOMAIN", W,
                              f"PXM {a.pxm(rev)} range at 0x{a.offset:x} overlaps PXM {s.pxm(rev)} range at "
                              f"0x{s.offset:x} in [{_hex(lo)}-{_hex(hi - 1)}]; if both hold RAM Linux "
                              f"rejects the NUMA layout (numa_cleanup_meminfo)", "SRAT", s.offset))
        active.append(s)
    return out


def _count_rest(at, pairs, rest, active):
    """One summary finding: ``pairs`` unlisted pairs of range ``at`` plus every
    overlapping pair among ``rest`` (sorted by base) and the still-open
    ``active`` ranges, counted with a heap of ends in O(n log n)."""
    ends = [a.end for a in active]
    heapq.heapify(ends)
    for s in rest:
        while ends and ends[0] <= s.base_address:
            heapq.heappop(ends)
        pairs += len(ends)
        heapq.heappush(ends, s.end)
    return [_f("SRAT_MEMORY_OVERLAP", W,
               f"{pairs} more overlapping pair(s) of memory ranges from 0x{at.offset:x} on are not listed "
               f"(only the first {MAX_OVERLAP_FINDINGS} pairs are)", "SRAT", at.offset)]


def _check_slit(t: m.SlitTable) -> list[Finding]:
    out = []
    bad_diag = [i for i, row in enumerate(t.entry) if i < len(row) and row[i] != 10]
    if bad_diag:
        out.append(_f("SLIT_BAD_DIAGONAL", E,
                      f"self-distance is not 10 for localit{'y' if len(bad_diag) == 1 else 'ies'} "
                      f"{', '.join(map(str, bad_diag[:8]))}: Linux ignores the SLIT (slit_valid)", "SLIT", 44))
    low = [(i, j) for i, row in enumerate(t.entry) for j, d in enumerate(row) if i != j and d <= 10]
    if low:
        i, j = low[0]
        out.append(_f("SLIT_BAD_DISTANCE", E,
                      f"{len(low)} off-diagonal distance(s) are <= 10 (first: {i}->{j} = {t.entry[i][j]}): "
                      f"Linux ignores the SLIT (slit_valid)", "SLIT", 44 + i * t.locality_count + j))
    asym = [(i, j) for i, row in enumerate(t.entry) for j in range(i + 1, len(row))
            if j < len(t.entry) and row[j] != t.entry[j][i]]
    if asym:
        i, j = asym[0]
        out.append(_f("SLIT_ASYMMETRIC", INFO, f"{len(asym)} pair(s) have different distances each way "
                      f"(first: {i}<->{j})", "SLIT", 44 + i * t.locality_count + j))
    return out


def _check_cedt(t: m.CedtTable) -> list[Finding]:
    out = []
    for s in t.subtables:
        if isinstance(s, m.CedtCfmws) and s.window_size == 0:
            out.append(_f("CEDT_EMPTY_WINDOW", W, "CFMWS window of size 0", "CEDT", s.offset))
    return out


def srat_domains(srat: m.SratTable) -> tuple[set[int], set[int]]:
    """(PXMs with enabled CPUs or initiators, PXMs with enabled memory), as Linux computes PXMs."""
    rev = srat.revision
    cpus, mems = set(), set()
    kinds = {m.SratCpuAffinity: 1, m.SratMemAffinity: 3, m.SratX2apicCpuAffinity: 2, m.SratGiccAffinity: 2,
             m.SratRintcAffinity: 2, m.SratGenericAffinity: 2}
    for s in srat.subtables:
        kind = kinds.get(s.__class__)
        if kind is None or not s.flags & 1:   # not a CPU, initiator or memory entry, or disabled
            continue
        if kind == 2:
            cpus.add(s.proximity_domain)
        elif kind == 1:
            cpus.add(s.pxm(rev))
        else:
            mems.add(s.pxm(rev))
    return cpus, mems


def check_tables(tables) -> list[Finding]:
    """Findings that need several tables: the first SRAT against the first
    SLIT and MSCT (Linux uses only the first instance of each)."""
    out = []
    first = {}
    for t in tables:
        first.setdefault(t.signature, t)
    srat, slit, msct = first.get("SRAT"), first.get("SLIT"), first.get("MSCT")
    if not isinstance(srat, m.SratTable):
        return out
    cpus, mems = srat_domains(srat)
    pxms = cpus | mems
    if isinstance(slit, m.SlitTable) and pxms:
        beyond = sorted(p for p in pxms if p >= slit.locality_count)
        if beyond:
            out.append(_f("SLIT_DOMAIN_MISMATCH", W,
                          f"SLIT has {slit.locality_count} localities but SRAT uses PXM "
                          f"{', '.join(map(str, beyond[:8]))}: those domains get no distances", "SLIT", 36))
        elif slit.locality_count > max(pxms) + 1:
            out.append(_f("SLIT_DOMAIN_MISMATCH", INFO,
                          f"SLIT has {slit.locality_count} localities, SRAT's highest PXM is {max(pxms)}",
                          "SLIT", 36))
    if isinstance(msct, m.MsctTable) and pxms and max(pxms) > msct.max_proximity_domains:
        out.append(_f("MSCT_DOMAIN_MISMATCH", W,
                      f"MSCT Max Proximity Domains is {msct.max_proximity_domains} but SRAT uses PXM "
                      f"{max(pxms)}", "MSCT", 40))
    return out
