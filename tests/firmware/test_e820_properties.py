"""Property tests: every e820 parser takes any text/bytes to a result or a
SratplanError; the sanitiser keeps the kernel's invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sratplan.errors import SratplanError
from sratplan.firmware.bootfacts import parse_boot_log
from sratplan.firmware.e820 import E820Entry, format_map
from sratplan.firmware.e820_readers import (
    parse_boot_params,
    parse_dmesg_e820,
    parse_e820_any,
    parse_e820_json,
    parse_e820_text,
    parse_iomem,
    parse_memmap_text,
)
from sratplan.kernel.e820 import apply_cmdline, kernel_e820, memory_setup_default, sanitize, update_table

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text made of the pieces real inputs have, so that the parsers get past their
# first checks.
_pieces = st.sampled_from([
    "BIOS-e820: ", "user: ", "[mem ", "[gap ", "0x", "0000000000000000", "000000000009fbff", "-", " - ",
    "] ", "usable", "reserved", "System RAM", "device reserved", "type ", "persistent (type 12)", "(usable)",
    "ACPI data", "\n", " ", "ffffffffffffffff", "1", "Linux version 6.1\n", "RAMDISK: [mem 0x1000-0x1fff]\n",
    "ACPI: SRAT 0x00000000BFFE1B68 0000C8 (v03)\n", "Command line: mem=1G\n", "smpboot: Allowing 2 CPUs, 0 hotplug CPUs\n",
    " : ", "System RAM\n", "#", "+", "G", "{", "[", '"start"', ":", ",", "}", "]", "\x00", "é",
])
texts = st.one_of(st.text(max_size=300), st.lists(_pieces, max_size=60).map("".join))

ENTRY = st.builds(E820Entry,
                  st.one_of(st.integers(0, 1 << 40), st.integers(0, (1 << 64) - 1)),
                  st.one_of(st.integers(0, 1 << 36), st.integers(0, (1 << 64) - 1)),
                  st.sampled_from([1, 2, 3, 4, 5, 7, 9, 12, 128, 0xEFFFFFFF]))
SANE = st.builds(E820Entry, st.integers(0, 1 << 36).map(lambda x: x & ~0xFF),
                 st.integers(0, 1 << 30).map(lambda x: x & ~0xFF), st.sampled_from([1, 2, 3, 4, 5, 7, 12, 128]))


@FAST
@given(texts)
def test_text_parsers_never_crash(text):
    for fn in (parse_dmesg_e820, parse_memmap_text, parse_iomem, parse_e820_text, parse_e820_any, parse_boot_log):
        try:
            fn(text)
        except SratplanError:
            pass


@FAST
@given(texts)
def test_json_parser_never_crashes(text):
    try:
        parse_e820_json(text)
    except SratplanError:
        pass


@FAST
@given(st.binary(max_size=5000))
def test_boot_params_any_bytes(data):
    try:
        bp = parse_boot_params(data)
    except SratplanError:
        return
    memory_setup_default(bp.e820)  # must not raise either


@FAST
@given(st.lists(ENTRY, max_size=12), st.text(max_size=80))
def test_kernel_path_never_crashes(entries, cmdline):
    try:
        kernel_e820(entries, cmdline)
        apply_cmdline(entries, "memmap=" + cmdline)
    except SratplanError:
        pass


def _type_at(entries, addr):
    best = 0
    for e in entries:
        if e.start <= addr < e.end and e.size:
            best = max(best, e.type)
    return best


@FAST
@given(st.lists(SANE, min_size=2, max_size=12))
def test_sanitize_invariants(entries):
    out, ok = update_table(entries)
    assert ok
    # sorted, non-overlapping, no empty entries
    for a, b in zip(out, out[1:]):
        assert a.end <= b.start
    assert all(e.size for e in out)
    # every address keeps the highest type that covered it
    points = {e.start for e in entries} | {e.end - 1 for e in entries if e.size} | {e.start for e in out}
    for p in points:
        assert _type_at(out, p) == _type_at(entries, p)
    # idempotent (but PRAM/soft-reserved pieces may stay split)
    assert sanitize(out) == out
    # equal mergeable neighbours were merged
    for a, b in zip(out, out[1:]):
        assert not (a.end == b.start and a.type == b.type and a.type not in (12, 0xEFFFFFFF))


@FAST
@given(st.lists(SANE, min_size=2, max_size=10))
def test_log_round_trip(entries):
    ents = sanitize(entries)
    for dialect in ("classic", "gaps", "old"):
        got = parse_dmesg_e820(format_map(ents, dialect=dialect)).entries
        # 3.x-6.x print RESERVED_KERN (128) as "usable"; 7.x dropped the type and prints "type 128".
        expect = tuple(E820Entry(e.start, e.size, 1) if e.type == 128 and dialect != "gaps" else e for e in ents)
        assert got == expect
