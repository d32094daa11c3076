"""kernel.kaslr.candidate_ranges against a plain transcription of the
decompressor's every-entry-by-every-region walk (process_mem_region), on
random e820 maps and SRATs with disjoint and overlapping immovable ranges."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.firmware.e820 import E820Entry
from sratplan.kernel import kaslr

MiB = 1 << 20


def _srat(mems):
    subs = b"".join(struct.pack("<BBIHQQIIQ", 1, 40, 0, 0, base, size, 0, flags, 0) for base, size, flags in mems)
    hdr = b"SRAT" + struct.pack("<I", 48 + len(subs)) + bytes(40)
    return hdr + subs


def _reference(e820, srat_raw, image_size, mem_limit=None):
    limit = min(kaslr.MAXMEM, mem_limit) if mem_limit else kaslr.MAXMEM
    imm = kaslr.immovable_regions(srat_raw, acpi_off=False)
    out = []
    for e in e820:
        if e.type != 1:
            continue
        s, t = max(e.start, kaslr.MIN_ADDR), min(e.start + e.size, limit)
        pieces = [(s, t)] if imm is None else [(max(s, a), min(t, b)) for a, b in imm if a < t and s < b]
        for a, b in pieces:
            a = -(-a // kaslr.KERNEL_ALIGN) * kaslr.KERNEL_ALIGN
            if b - a >= image_size:
                out.append((a, b))
    return out, imm is not None


span = st.tuples(st.integers(0, 512), st.integers(1, 256))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(span, st.sampled_from([1, 1, 2, 3])), max_size=12),
       st.lists(st.tuples(span, st.sampled_from([1, 3, 0])), max_size=12),
       st.sampled_from([2 * MiB, 40 * MiB]), st.sampled_from([None, 300 * MiB]))
def test_candidate_ranges_match_the_decompressor_walk(e820, mems, image, mem_limit):
    entries = [E820Entry(a * MiB, n * MiB, typ) for (a, n), typ in e820]
    raw = _srat([(a * MiB, n * MiB, flags) for (a, n), flags in mems])
    got = kaslr.candidate_ranges(entries, raw, acpi_off=False, image_size=image, mem_limit=mem_limit)
    assert got == _reference(entries, raw, image, mem_limit)
