"""Replay of the real-kernel captures (fixtures/kernel, 5.10-seed / 5.10 / 6.1 / 6.12 / 7.2,
KASLR repeats and offline boots): every allocation address and every dump
region must come out exactly as the kernel printed it.  The log parser is
cross-checked against the harness's own parse (truth.json -> memblock)."""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sratplan.errors import InputError, SratplanError
from sratplan.kernel import memblock_log as mlog
from sratplan.replay import replay_file, replay_text

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures" / "kernel"
LOGS = sorted(FIXTURES.rglob("dmesg.txt"))
IDS = [str(p.parent.relative_to(FIXTURES)) for p in LOGS]
RAW = FIXTURES.parent / "replay"          # raw serial logs, see fixtures/replay/PROVENANCE.md
_RECORD = re.compile(r"^\[\s*\d+\.\d+\] ")


def _raw_log(path: Path) -> Path | None:
    raw = RAW / path.parent.relative_to(FIXTURES) / "console.log.gz"
    return raw if raw.is_file() else None


def _replay(path: Path):
    """Replay a capture's kernel log.  When the harness rebuilt dmesg.txt from
    ttyS0 (a boot too big for the printk buffer), its de-duplication dropped
    every record equal to one of the last few dozen -- before timekeeping all
    timestamps are 0.000000, so genuine repeated memblock lines went too
    (fixtures/replay/PROVENANCE.md).  Those boots are replayed from the raw
    serial log, after checking that dmesg.txt only lost lines."""
    raw = _raw_log(path)
    if raw is None:
        return replay_file(str(path))
    text = gzip.decompress(raw.read_bytes()).decode("utf-8", errors="replace")
    records = iter([ln for ln in text.splitlines() if _RECORD.match(ln)])
    # dmesg.txt is an ordered subsequence of the raw records (lines lost, none
    # changed, added or reordered)
    assert all(any(ln == rec for rec in records) for ln in path.read_text().splitlines())
    return replay_text(text, path=str(raw))


def test_corpus_is_there():
    kernels = {p.relative_to(FIXTURES).parts[0] for p in LOGS}
    assert {"5.10-seed", "5.10", "6.1", "6.12", "7.2", "offline"} <= kernels
    assert any("rep" in p.parent.name for p in LOGS)        # KASLR repeats


@pytest.mark.parametrize("path", LOGS, ids=IDS)
def test_capture_replays_exactly(path):
    r = _replay(path)
    bad_allocs = [a for a in r.allocations if not a.match]
    assert not bad_allocs, bad_allocs[:3]
    assert all(d.match for d in r.dumps), [d.diff[:3] for d in r.dumps if not d.match]
    assert len(r.dumps) == 2 and r.allocations
    assert r.region_matches == r.region_count > 0
    # the profile comes from the log's "Linux version" line
    parts = path.relative_to(FIXTURES).parts
    assert r.profile == (parts[1] if parts[0] == "offline" else parts[0])


@pytest.mark.parametrize("path", LOGS, ids=IDS)
def test_parser_agrees_with_the_harness(path):
    truth = json.loads((path.parent / "truth.json").read_text())["memblock"]
    log = mlog.parse(path.read_text())
    # dumps: every region, base/size/node/flags
    assert len(log.dumps) == len(truth["dumps"])
    for mine, theirs in zip(log.dumps, truth["dumps"]):
        assert mine.memory_size == theirs["memory_size"]
        assert mine.reserved_size == theirs["reserved_size"]
        for which in ("memory", "reserved"):
            assert [(r.base, r.size, r.nid, r.flags) for r in mine.regions(which)] == \
                [(t["base"], t["size"], t["node"], t["flags"]) for t in theirs[which]]
    # allocation requests, in order, with what the kernel reserved for them
    r = replay_file(str(path))
    logged = [a for a in truth["allocs"] if a["func"] is not None]
    mine = [a for a in r.allocations if a.func not in _UNLOGGED + ("memblock_find_in_range",)]
    assert [(a.func, a.size, a.align, a.min_addr, a.max_addr) for a in mine] == \
        [(t["func"], t["size"], t["align"], t["from"], t["max_addr"]) for t in logged]
    for a, t in zip(mine, logged):
        if t["result"] is not None:
            assert a.actual == t["result"]["start"]
    if not any(t["result"] for t in truth["allocs"]):
        return          # the harness does not read 7.x "__memblock_reserve:" lines
    # reservations the harness saw without a request line: NODE_DATA, on 5.10
    # the crash kernel (memblock_phys_alloc_range logs no request there), and
    # in a dmesg.txt rebuilt from ttyS0 those whose repeated request line the
    # rebuild dropped (see _replay), which the replay applies as printed
    bare = [(t["line"] + 1, t["result"]["start"]) for t in truth["allocs"] if t["func"] is None]
    assert sorted([(a.line, a.actual) for a in r.allocations if a.func in _UNLOGGED and a.actual] +
                  [(ln, base) for ln, base, _ in r.unrequested]) == bare
    if _raw_log(path) is None:
        assert not r.unrequested


# allocations whose request the kernel does not log, named by the replay
_UNLOGGED = ("alloc_node_data", "reserve_crashkernel", "reserve_crashkernel_low")


def test_totals_over_the_corpus():
    allocs = regions = dumps = 0
    for p in LOGS:
        r = _replay(p)
        assert r.ok
        allocs += len(r.allocations)
        regions += r.region_count
        dumps += len(r.dumps)
    assert dumps == 2 * len(LOGS)
    assert allocs > 10 * len(LOGS) and regions > 10 * len(LOGS)


def _log(rel: str) -> str:
    return (FIXTURES / rel / "dmesg.txt").read_text()


def test_unlogged_early_reservations_are_seeded_from_the_first_dump():
    r = replay_text(_log("6.1/c01_hp_above4g_movable"))
    seeded = [(s.base, s.end) for s in r.seeded]
    # [0, 64K) and the BIOS area, the kernel image up to brk, the initrd
    assert (0, 0x10000) in seeded
    assert (0x1000000, 0x4400000) in seeded
    assert (0xbfee4000, 0xbffe0000) in seeded


def test_7x_reservation_nid_and_flags_are_compared():
    r = replay_text(_log("7.2/c01_hp_above4g_movable"))
    checked = [a for a in r.allocations if a.actual_nid is not None]
    assert checked and all(a.predicted_flags == 0x20 for a in checked)
    node_data = [a for a in r.allocations if a.func == "alloc_node_data"]
    # NODE_DATA(1) of the hotplug node falls back to "any node": NUMA_NO_NODE
    assert [(a.nid, a.actual_nid) for a in node_data] == [(0, 0), (1, -1)]


def test_movable_node_makes_early_allocations_bottom_up():
    moved = replay_text(_log("6.1/c01_hp_above4g_movable"))
    plain = replay_text(_log("6.1/c02_hp_above4g_no_movable_node"))
    trampoline = next(a for a in moved.allocations if a.caller.startswith("reserve_real_mode"))
    assert trampoline.actual == trampoline.predicted == 0x10000
    trampoline = next(a for a in plain.allocations if a.caller.startswith("reserve_real_mode"))
    assert trampoline.actual == trampoline.predicted == 0x98000


def test_5_10_trampoline_is_bottom_up_below_the_kernel_with_movable_node():
    # 5.10.223 has no "bottom-up starts above _end" rule: with movable_node
    # the trampoline (memblock_find_in_range(0, 1M) + memblock_reserve) is
    # the lowest free page, without it the highest below the BIOS area
    moved = replay_text(_log("5.10/c01_hp_above4g_movable"))
    plain = replay_text(_log("5.10/c02_hp_above4g_no_movable_node"))
    for r, addr in ((moved, 0x1000), (plain, 0x99000)):
        t = [a for a in r.allocations if a.func == "memblock_find_in_range"
             and a.caller.startswith("reserve_real_mode")]
        assert len(t) == 1 and t[0].predicted == t[0].actual == addr


def test_5_10_crashkernel_is_predicted_from_the_command_line():
    # 5.10 logs no request for memblock_phys_alloc_range: the replay derives
    # the windows from crashkernel= (arch/x86/kernel/setup.c:reserve_crashkernel)
    def crash(rel):
        r = replay_text(_log(rel))
        assert r.ok and not r.unrequested
        return [(a.func, a.size, a.min_addr, a.max_addr, a.actual) for a in r.allocations
                if a.func.startswith("reserve_crashkernel")]

    # ",high": straight to [16M, 64T), then 256M below 4G for the low part
    assert crash("5.10/s03_movable_node_crashkernel_512M_high") == [
        ("reserve_crashkernel", 512 << 20, 16 << 20, 64 << 40, 0x15f000000),
        ("reserve_crashkernel_low", 256 << 20, 0, 1 << 32, 0xaf000000)]
    # 3G does not fit below 4G: the second window (only the attempt that
    # succeeded is listed)
    assert crash("5.10/s13_crashkernel_3G_falls_back_high")[0][2:] == (16 << 20, 64 << 40, 0x17f000000)
    # size@base inside the hotplug node under movable_node: the only window is
    # [7G, 7G+256M), memblock skips hotplug memory, the kernel prints "memory is in use"
    assert crash("5.10/s23_crashkernel_fixed_base_in_hp_node") == [
        ("reserve_crashkernel", 256 << 20, 7 << 30, (7 << 30) + (256 << 20), 0)]
    # 5.10 compares the range syntax with the unrounded RAM size (8191M < 8G):
    # 128M, where 6.1+ (rounded up to 8G) reserve 384M
    assert crash("5.10/s27_crashkernel_range_syntax_boundary")[0][1] == 128 << 20


def test_a_log_that_lost_repeated_lines_is_not_taken_as_exact():
    # what the harness's ttyS0 rebuild did to the 66G boot: a record equal to
    # one in its recent set is dropped; the set grows to 65 records, then
    # restarts from the last 32 kept (fixtures/replay/PROVENANCE.md)
    raw = RAW / "6.1" / "s14_pc_66g_2n_hp_block_size" / "console.log.gz"
    kept: list[str] = []
    recent: set[str] = set()
    for ln in gzip.decompress(raw.read_bytes()).decode().splitlines():
        if not _RECORD.match(ln) or ln in recent:
            continue
        kept.append(ln)
        recent.add(ln)
        if len(recent) > 64:
            recent = set(kept[-32:])
    r = replay_text("\n".join(kept))
    assert not r.ok
    # the repeated alloc_low_pages requests are gone: their pages are applied
    # as printed and listed, not counted as predictions
    assert len(r.unrequested) > 50
    assert [u["line"] for u in r.to_json()["unrequested_reservations"]] == [ln for ln, _, _ in r.unrequested]
    # the first spp_getpage page (0x87ff90000) printed the same reservation
    # line as pcpu_embed_first_chunk's page before: lost, so the next one
    # looks like the answer to the first request
    bad = [a for a in r.allocations if not a.match]
    assert bad[0].caller.startswith("spp_getpage") and (bad[0].predicted, bad[0].actual) == (0x87ff90000, 0x87ff8e000)


def test_a_disagreement_is_reported_once_and_the_replay_stays_in_step():
    # make one request ask for memory below 4 GiB: the engine places it there,
    # the kernel's reservation (above 4 GiB) is then applied in its place, so
    # everything after it still matches
    text = _log("6.1/c01_hp_above4g_movable")
    old = ("memblock_alloc_try_nid: 32768 bytes align=0x40 nid=-1 from=0x0000000000000000 "
           "max_addr=0x0000000000000000 sparse_init")
    assert old in text
    r = replay_text(text.replace(old, old.replace("max_addr=0x0000000000000000",
                                                  "max_addr=0x0000000100000000")))
    bad = [a for a in r.allocations if not a.match]
    assert len(bad) == 1
    assert bad[0].predicted < 1 << 32 and bad[0].actual == 0x17ffa2000
    assert all(d.match for d in r.dumps) and not r.ok


def test_a_changed_dump_region_is_reported():
    text = _log("6.12/b01_qemu_2n_equal")
    lines = text.splitlines()
    idx = [i for i, l in enumerate(lines) if " memory[0x1]\t" in l][-1]
    lines[idx] = lines[idx].replace("flags: 0x0", "flags: 0x1")
    r = replay_text("\n".join(lines))
    assert [d.match for d in r.dumps] == [True, False]
    d = r.dumps[1]
    assert d.matched_regions == d.regions - 1
    assert any("flags: 0x1" in k for k, _ in d.diff)


def test_kernel_override_changes_the_rules():
    # a 6.1 log read with the 7.2 rules: reservation flags/nids and dump
    # formats differ -> disagreement
    r = replay_text(_log("6.1/b01_qemu_2n_equal"), kernel="7.2")
    assert r.profile == "7.2" and not r.ok


def test_not_a_boot_log():
    with pytest.raises(InputError, match="not a Linux boot log"):
        replay_text("hello\nworld\n")


def test_boot_log_without_memblock_debug():
    text = "\n".join(l for l in _log("6.1/b01_qemu_2n_equal").splitlines()
                     if "memblock" not in l and "MEMBLOCK" not in l and "] memory" not in l
                     and "] reserved" not in l)
    with pytest.raises(InputError, match="no memblock=debug trace"):
        replay_text(text)


def test_prefixes_other_than_dmesg_timestamps():
    text = _log("6.1/b01_qemu_2n_equal")
    plain = "\n".join(l.split("] ", 1)[1] if l.startswith("[") else l for l in text.splitlines())
    assert replay_text(plain).ok
    journal = "\n".join("Nov 25 19:00:00 host kernel: " + l for l in text.splitlines())
    assert replay_text(journal).ok
    # journalctl -k: no timestamps, leading blanks of the dump lines dropped
    stripped = "\n".join("Nov 25 19:00:00 host kernel: " + l.split("] ", 1)[1].lstrip()
                         for l in text.splitlines() if l.startswith("["))
    assert replay_text(stripped).ok
    dated = "\n".join("[Tue Nov 25 19:00:00 2026] " + l.split("] ", 1)[1]
                      for l in text.splitlines() if l.startswith("["))
    assert replay_text(dated).ok


_SAMPLE = (FIXTURES / "6.1" / "c01_hp_above4g_movable" / "dmesg.txt").read_text().splitlines()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_logs_never_crash(data):
    lines = list(_SAMPLE)
    rnd = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(data.draw(st.integers(1, 40))):
        i = rnd.randrange(len(lines))
        op = rnd.randrange(4)
        if op == 0:
            del lines[i]
        elif op == 1:
            cut = rnd.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:cut]
        elif op == 2:
            lines.insert(i, lines[rnd.randrange(len(lines))])
        else:
            s = lines[i]
            j = rnd.randrange(len(s) + 1)
            lines[i] = s[:j] + rnd.choice("0123456789abcdefx-[] \t") + s[j:]
    try:
        replay_text("\n".join(lines))
    except SratplanError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_crash(blob):
    try:
        replay_text(blob.decode("utf-8", errors="replace"))
    except SratplanError:
        pass


def _synthetic_log(doubled_at: int) -> str:
    """A 6.1-style log whose 130 reservations overflow the 128-entry
    reserved array, so memblock_double_array() runs once."""
    ts = "[    0.000000] "
    out = [ts + "Linux version 6.1.0-56-amd64 (x) #1 SMP", ts + "Command line: memblock=debug",
           ts + "last_pfn = 0x80000 max_arch_pfn = 0x400000000",
           ts + "memblock_add: [0x0000000040000000-0x000000007fffffff] e820__memblock_setup+0x65/0x7d",
           ts + "MEMBLOCK configuration:",
           ts + " memory size = 0x0000000040000000 reserved size = 0x0000000000000000",
           ts + " memory.cnt  = 0x1",
           ts + " memory[0x0]\t[0x0000000040000000-0x000000007fffffff], 0x0000000040000000 bytes flags: 0x0",
           ts + " reserved.cnt  = 0x1",
           ts + " reserved[0x0]\t[0x0000000000000000-0xffffffffffffffff], 0x0000000000000000 bytes flags: 0x0",
           ts + "RAMDISK: [mem 0x50000000-0x5fffffff]"]
    for i in range(130):
        base = 0x40000000 + i * 0x2000
        out.append(ts + f"memblock_reserve: [0x{base:016x}-0x{base + 0xfff:016x}] foo+0x1/0x2")
        if i == 128:
            # the 129th region needs a bigger array: 256 * 24 bytes, page aligned, top-down
            out.append(ts + f"memblock: reserved is doubled to 256 at [0x{doubled_at:016x}-0x{doubled_at + 6143:016x}]"
                       + f"memblock_reserve: [0x{doubled_at:016x}-0x{doubled_at + 0x1fff:016x}] "
                       "memblock_double_array+0x1/0x2")
    return "\n".join(out) + "\n"


def test_region_array_doubling_is_replayed():
    r = replay_text(_synthetic_log(0x7fffe000))
    dbl = [a for a in r.allocations if a.func == "memblock_double_array"]
    assert len(dbl) == 1 and dbl[0].match and dbl[0].actual == 0x7fffe000
    assert r.ok
    r = replay_text(_synthetic_log(0x7fff0000))
    assert not r.ok and [a.predicted for a in r.allocations if not a.match] == [0x7fffe000]


def test_a_region_missing_from_the_kernel_dump_is_reported_once():
    lines = _log("6.1/c01_hp_above4g_movable").splitlines()
    idx = [i for i, l in enumerate(lines) if " reserved[0x1]\t" in l][-1]
    gone = lines.pop(idx).split("] ", 1)[1]
    r = replay_text("\n".join(lines))
    d = r.dumps[1]
    assert not d.match and d.matched_regions == d.regions
    # the engine's extra region, nothing about the shifted indices after it
    assert d.diff == (("", gone.strip()),)


def test_absurd_region_counts_are_refused_not_ground_through():
    ts = "[    0.000000] "
    lines = [ts + "Linux version 6.1.0-56-amd64 (x) #1 SMP",
             ts + "memblock_add: [0x0000000000001000-0x00000000fffff000] e820__memblock_setup+0x1/0x2",
             ts + "MEMBLOCK configuration:", ts + "RAMDISK: [mem 0x10000000-0x1fffffff]"]
    # descending, non-adjacent reservations: every one is a new region at index 0
    for k in range(33000, 0, -1):
        base = k * 0x2000
        lines.append(ts + f"memblock_reserve: [0x{base:016x}-0x{base + 0xfff:016x}] foo+0x1/0x2")
    with pytest.raises(SratplanError, match="regions"):
        replay_text("\n".join(lines))
