"""Regression tests for the hangs and crashes the fuzzer found (issue 7).

Each test rebuilds the smallest input class that triggered the problem and
checks the behaviour that fixed it, not just that it terminates.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz import build  # noqa: E402
from sratplan.acpi.checks import MAX_OVERLAP_FINDINGS  # noqa: E402
from sratplan.acpi.tables import decode  # noqa: E402
from sratplan.kernel import sparse  # noqa: E402
from sratplan.kernel.memblock import Memblock  # noqa: E402
from sratplan.kernel.pgtable import PMD_SIZE, PUD_SIZE, DirectMap  # noqa: E402
from sratplan.kernel.profile import get_profile  # noqa: E402

G = 1 << 30


def _overlap_findings(t):
    return [f for f in t.findings if f.code.startswith("SRAT_MEMORY_OVERLAP")]


def test_overlaps_of_a_padded_table_are_capped_and_counted():
    # fuzz: 3,000 copies of one memory entry -> 4.5M overlap findings and a
    # quadratic walk in checks._overlaps (hang)
    n = 3000
    t = decode(build.srat([build.mem(0, 0, 4 * G)] * n))
    got = _overlap_findings(t)
    assert len(got) == MAX_OVERLAP_FINDINGS + 1
    total = n * (n - 1) // 2
    assert f"{total - MAX_OVERLAP_FINDINGS} more overlapping pair(s)" in got[-1].message


def test_overlaps_below_the_cap_are_all_listed():
    t = decode(build.srat([build.mem(0, 0, 4 * G), build.mem(1, 2 * G, 4 * G), build.mem(0, 3 * G, G)]))
    codes = [f.code for f in _overlap_findings(t)]
    assert codes == ["SRAT_MEMORY_OVERLAP_CROSS_DOMAIN", "SRAT_MEMORY_OVERLAP", "SRAT_MEMORY_OVERLAP_CROSS_DOMAIN"]


def test_sections_beyond_max_physmem_are_not_present():
    # fuzz: an e820 RAM entry ending near 2^64 made sparse_init allocate one
    # mem_section root per 32 GiB up to 2^64 (hang); memory_present() clamps
    # at MAX_PHYSMEM_BITS (46)
    mb = Memblock(get_profile("6.1"))
    mb.add(0x100000, 4 * G)
    mb.add(8 * G, (1 << 64) - 16 * G)
    runs = sparse.present_sections(mb, get_profile("6.1"))
    assert runs[-1][1] == 1 << (46 - 27)
    assert all(e <= 1 << 19 for _s, e, _n in runs)
    mb2 = Memblock(get_profile("6.1"))
    mb2.add(0x100000, 4 * G)
    mb2.add(1 << 50, G)                      # wholly above the limit: no section at all
    assert sparse.present_sections(mb2, get_profile("6.1"))[-1][1] == ((4 * G + 0x100000 - 1) >> 27) + 1


def _direct_map(top):
    mb = Memblock(get_profile("6.1"))
    mb.add(0x100000, top - 0x100000)
    dm = DirectMap(mb, gbpages=False, pgt_buf_start=16 << 20, pgt_buf_pages=6, kernel_end=64 << 20,
                   max_pfn=top >> 12)
    dm.run()
    return dm


def test_direct_map_of_64_tib_without_gbpages():
    # fuzz: 64 TiB mapped with 2 MiB pages walked 33M PMD entries (hang);
    # fresh PMD pages full of 2 MiB entries are now kept per GiB
    top = 64 << 40
    dm = _direct_map(top)
    pt = dm.pt
    assert not dm.failed
    assert len(pt.pud_pages) == top // (512 * G)
    assert len(pt.pmd_pages) == top // G
    # every page-table page was allocated once: PUDs + PMDs + the PTE page of the first 2 MiB
    assert len(dm.allocated) == len(pt.pud_pages) + len(pt.pmd_pages) + len(pt.pte_pages)
    # the per-GiB shortcut and the per-entry walk describe the same map
    covered = len(pt.pmd_full) * (G // PMD_SIZE) + len(pt.pmd_large) + len(pt.pte_pages)
    assert covered == top // PMD_SIZE


def test_direct_map_shortcut_matches_the_entry_walk():
    # a small map walked entry by entry (no full fresh GiB at the ISA start)
    # and the same map through the shortcut give the same page counts
    dm = _direct_map(8 * G)
    pt = dm.pt
    assert len(pt.pmd_pages) == 8
    assert len(pt.pmd_full) * (G // PMD_SIZE) + len(pt.pmd_large) + len(pt.pte_pages) == 8 * G // PMD_SIZE
    assert 0 not in pt.pmd_full                # GiB 0 holds the 4 KiB-mapped first 2 MiB
    assert PUD_SIZE // PMD_SIZE == 512


def test_table_and_subtable_caps_are_limit_errors_before_minutes_of_work():
    # fuzz: a 64 MiB table of 2-byte unknown entries took minutes and a
    # gigabyte under the old caps; now 4 MiB and 65,536 structures
    import pytest

    from sratplan.acpi import tables as T
    from sratplan.errors import LimitError

    with pytest.raises(LimitError) as ei:
        T.decode(build.srat([], length=T.MAX_TABLE_BYTES + 1, tail=bytes(T.MAX_TABLE_BYTES + 1 - 48)))
    assert (ei.value.field, ei.value.offset) == ("Table Length", 0)
    n = T.MAX_SUBTABLES + 1
    with pytest.raises(LimitError) as ei:
        T.decode(build.srat([build.cpu(0, 0)] * n))
    assert ei.value.table == "SRAT" and ei.value.offset == 48 + 16 * T.MAX_SUBTABLES
    # exactly at the cap is still decoded
    assert len(T.decode(build.srat([build.cpu(0, 0)] * T.MAX_SUBTABLES)).subtables) == T.MAX_SUBTABLES


def test_every_reader_module_imports_on_its_own():
    # fuzz harness: "import sratplan.firmware.e820_readers" first raised a
    # circular ImportError (e820.py re-exported the readers eagerly)
    import subprocess

    for stmt in ("import sratplan.firmware.e820_readers", "import sratplan.firmware.bootfacts",
                 "from sratplan.firmware.e820_readers import read_e820, parse_boot_params, MAX_TEXT_ENTRIES",
                 "import sratplan.kernel.memblock_log", "import sratplan.replay", "import sratplan.acpi.sources"):
        r = subprocess.run([sys.executable, "-c", stmt], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (stmt, r.stderr[-400:])


def test_possible_cpus_are_capped_at_nr_cpus(tmp_path):
    # fuzz-style extreme: 65,000 SRAT CPU entries took tens of seconds to
    # plan; the kernel makes at most NR_CPUS (8192) CPUs possible
    from sratplan.machine import NR_CPUS, load_machine

    p = tmp_path / "SRAT"
    p.write_bytes(build.srat([build.x2apic(i % 4, i) for i in range(NR_CPUS + 808)]
                             + [build.mem(0, 0, 2 * G), build.mem(1, 4 * G, 4 * G)]))
    m = load_machine([p])
    assert m.loader.cpus == NR_CPUS
    assert any("exceed NR_CPUS" in a for a in m.assumptions)


def _holey_map(monkeypatch, bottom_up, skip, top):
    mb = Memblock(get_profile("6.1"))
    mb.add(16 << 20, 0x3230000)
    mb.add(top, 0xA0000)
    mb.add(top + G, 3 * G)
    if bottom_up:
        mb.bottom_up = True
    if not skip:
        monkeypatch.setattr(DirectMap, "_memory_end_below", lambda self, limit: limit)
        monkeypatch.setattr(DirectMap, "_memory_start_from", lambda self, start: start)
    dm = DirectMap(mb, gbpages=False, pgt_buf_start=16 << 20, pgt_buf_pages=6, kernel_end=64 << 20,
                   max_pfn=(top + 4 * G) >> 12)
    limit = dm.run()
    pt = dm.pt
    return (limit, dm.min_pfn_mapped, dm.allocated, pt.pud_pages, pt.pmd_pages, pt.pte_pages, pt.pmd_large,
            pt.pmd_full, [(r.base, r.size) for r in mb.reserved])


def test_direct_map_skips_empty_chunks_exactly(monkeypatch):
    # fuzz: memory at 16 MiB and at 16 TiB made memory_map_top_down walk the
    # hole 2 MiB at a time (8M iterations, a hang); empty chunks are skipped.
    # With a 64 GiB hole the plain walk is affordable: both give the same map.
    for bottom_up in (False, True):
        fast = _holey_map(monkeypatch, bottom_up, True, 64 * G)
        monkeypatch.undo()
        slow = _holey_map(monkeypatch, bottom_up, False, 64 * G)
        monkeypatch.undo()
        assert fast == slow
    # and the 16 TiB hole now takes no time to cross
    with_hole = _holey_map(monkeypatch, False, True, 16 << 40)
    assert with_hole[0] == (16 << 40) + 4 * G


def test_fuzz_reproducers_finish_within_the_contract():
    # the raw inputs the fuzzer hung on: each now answers in seconds
    import signal

    from fuzz import seeds, targets

    def fire(signum, frame):
        raise TimeoutError("hang")

    files = seeds.regressions()
    assert len(files) >= 9
    old = signal.signal(signal.SIGALRM, fire)
    try:
        for p in files:
            signal.setitimer(signal.ITIMER_REAL, 20)
            try:
                feat = targets.run_one(p.read_bytes())
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            assert feat[1] == "ok", (p.name, feat)
    finally:
        signal.signal(signal.SIGALRM, old)
