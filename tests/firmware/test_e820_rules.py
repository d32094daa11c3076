"""The kernel's e820 rules on hand-built maps: e820__update_table, the
mem=/memmap= forms, trim_bios_range, e820_add_kernel_range, e820_end_pfn and
e820__memblock_setup (arch/x86/kernel/e820.c, setup.c)."""

from __future__ import annotations

from sratplan.firmware.e820 import E820Entry, E820Table, E820Type, format_map, type_name
from sratplan.firmware.e820_readers import parse_dmesg_e820
from sratplan.kernel.cmdline import parse_memmap_item
from sratplan.kernel.e820 import (
    add_kernel_range,
    apply_cmdline,
    end_pfn,
    kernel_e820,
    max_low_pfn,
    max_pfn,
    mem_limit,
    memblock_ranges,
    sanitize,
    trim_bios_range,
    update_table,
)
from sratplan.kernel.profile import get_profile

G = 1 << 30
M = 1 << 20
RAM, RES, ACPI, NVS, PRAM, SOFT = 1, 2, 3, 4, 12, 0xEFFFFFFF


def E(s, size, t):
    return E820Entry(s, size, t)


# A QEMU-like firmware map: 3 GiB low, 2 GiB high.
QEMU = (E(0, 0x9FC00, RAM), E(0x9FC00, 0x400, RES), E(0xF0000, 0x10000, RES),
        E(0x100000, 0xBFEE0000, RAM), E(0xBFFE0000, 0x20000, RES), E(0xFFFC0000, 0x40000, RES),
        E(0x100000000, 0x80000000, RAM))


def test_overlap_larger_type_wins_and_splits():
    out = sanitize([E(0, 0x10000, RAM), E(0x4000, 0x2000, RES), E(0x5000, 0x4000, ACPI)])
    assert out == (E(0, 0x4000, RAM), E(0x4000, 0x1000, RES), E(0x5000, 0x4000, ACPI), E(0x9000, 0x7000, RAM))


def test_adjacent_equal_types_merge_and_sort():
    out = sanitize([E(0x3000, 0x1000, RAM), E(0, 0x1000, RAM), E(0x1000, 0x2000, RAM), E(0x5000, 0x1000, RES)])
    assert out == (E(0, 0x4000, RAM), E(0x5000, 0x1000, RES))


def test_zero_size_entries_dropped():
    assert sanitize([E(0, 0x1000, RAM), E(0x500, 0, RES), E(0x2000, 0, RAM)]) == (E(0, 0x1000, RAM),)


def test_pram_and_soft_reserved_never_merge():
    # e820_nomerge(): equal PRAM neighbours stay apart, and a PRAM range is even
    # cut where an overlapping lower-type entry starts or ends.
    out = sanitize([E(0, 0x1000, PRAM), E(0x1000, 0x1000, PRAM), E(0x2000, 0x1000, RAM)])
    assert out == (E(0, 0x1000, PRAM), E(0x1000, 0x1000, PRAM), E(0x2000, 0x1000, RAM))
    out = sanitize([E(0, 0x4000, SOFT), E(0x1000, 0x1000, RAM)])
    assert out == (E(0, 0x1000, SOFT), E(0x1000, 0x1000, SOFT), E(0x2000, 0x2000, SOFT))
    out = sanitize([E(0, 0x1000, RES), E(0x1000, 0x1000, RES)])
    assert out == (E(0, 0x2000, RES),)


def test_sanitize_refuses_like_the_kernel():
    # fewer than two entries: returned as is (even overlapping garbage)
    assert update_table([E(5, 0, RAM)]) == ((E(5, 0, RAM),), False)
    # an entry whose end wraps 2**64 (or lands exactly on it) makes the kernel
    # keep the whole table unsanitised
    bad = [E(0, 0x1000, RAM), E(0xFFFFFFFFFFFFF000, 0x1000, RES), E(0x500, 0x10, ACPI)]
    assert update_table(bad) == (tuple(bad), False)


def test_sanitize_capacity_stops_filling():
    many = [E(i * 0x2000, 0x1000, RAM) for i in range(10)]
    assert len(sanitize(many, max_entries=4)) == 4


def test_type_names_per_dialect():
    assert type_name(1) == "usable" and type_name(128) == "usable"
    assert type_name(1, "gaps") == "System RAM" and type_name(2, "gaps") == "device reserved"
    assert type_name(12) == "persistent (type 12)" and type_name(7, "gaps") == "persistent RAM (type 7)"
    assert type_name(9) == "type 9" and type_name(SOFT) == "soft reserved"
    assert type_name(1, "old") == "(usable)"


def test_format_map_round_trips_every_dialect():
    for dialect in ("classic", "gaps", "old"):
        text = format_map(QEMU, dialect=dialect)
        t = parse_dmesg_e820(text)
        assert t.entries == QEMU, dialect
        assert t.dialect == dialect
    assert "[gap 0x00000000000a0000-0x00000000000effff]" in format_map(QEMU, dialect="gaps")


def test_mem_removes_ram_at_and_above_the_limit():
    u = apply_cmdline(QEMU, "mem=5G")
    assert u.source == "user"
    assert [e for e in u.entries if e.type == RAM][-1] == E(0x100000000, G, RAM)
    # an address limit, not an amount: mem=3G leaves the low 3 GiB only
    u = apply_cmdline(QEMU, "mem=3G")
    assert max(e.end for e in u.entries if e.type == RAM) == 0xBFFE0000
    # reserved entries above the limit stay
    assert u.entries[-1] == E(0xFFFC0000, 0x40000, RES)
    assert mem_limit("mem=3G mem=5G") == 5 * G


def test_mem_zero_or_junk_reprints_but_changes_nothing():
    u = apply_cmdline(QEMU, "mem=junk")
    assert u.source == "user" and u.entries == sanitize(QEMU)
    assert apply_cmdline(QEMU, "mem=nopentium").source != "user"
    assert apply_cmdline(QEMU, "quiet").source != "user"


def test_memmap_forms():
    hole = apply_cmdline(QEMU, "memmap=512M$0x140000000").entries
    assert E(0x140000000, 512 * M, RES) in hole
    assert E(0x100000000, 0x40000000, RAM) in hole and E(0x160000000, 0x20000000, RAM) in hole
    acpi = apply_cmdline(QEMU, "memmap=1M#0x200000000").entries
    assert acpi[-1] == E(0x200000000, M, ACPI)
    add = apply_cmdline(QEMU, "memmap=1G@0x200000000").entries
    assert add[-1] == E(0x200000000, G, RAM)
    pram = apply_cmdline(QEMU, "memmap=4K!0x10000,4K!0x11000").entries
    assert E(0x10000, 0x1000, PRAM) in pram and E(0x11000, 0x1000, PRAM) in pram
    # % forms: convert, add, remove typed, remove any
    conv = apply_cmdline(QEMU, "memmap=1G%0x100000000-1+12").entries
    assert E(0x100000000, G, PRAM) in conv
    rm_any = apply_cmdline(QEMU, "memmap=0x40000%0xfffc0000").entries
    assert all(e.start != 0xFFFC0000 for e in rm_any)
    rm_typed = apply_cmdline(QEMU, "memmap=0x40000%0xfffc0000-1").entries
    assert E(0xFFFC0000, 0x40000, RES) in rm_typed
    # plain memmap=N behaves like mem=N
    assert apply_cmdline(QEMU, "memmap=3G").entries == apply_cmdline(QEMU, "mem=3G").entries


def test_memmap_exactmap():
    u = apply_cmdline(QEMU, "memmap=exactmap memmap=640K@0 memmap=1G@1M")
    assert u.entries == (E(0, 640 << 10, RAM), E(M, G, RAM))
    # one range only: the kernel panics "Invalid user supplied memory map"
    u = apply_cmdline(QEMU, "memmap=exactmap memmap=1G@1M")
    assert any(f.code == "E820_USER_MAP_INVALID" for f in u.findings)


def test_memmap_item_parsing_quirks():
    assert parse_memmap_item("exactmapXYZ").kind == "exactmap"
    op = parse_memmap_item("1G%0x100000000-1+12junk")
    assert not op.applied and op.userdef
    op = parse_memmap_item("junk")
    assert not op.applied and not op.userdef
    op = parse_memmap_item("1G@2Gjunk")     # applied, then reported malformed
    assert op.applied and op.malformed and op.start == 2 * G
    assert parse_memmap_item("0100M$0").size == 64 * M   # leading 0 = octal, as in the kernel
    assert parse_memmap_item("1G%0-1+1").kind == "update-same-type"


def test_trim_bios_range():
    t = trim_bios_range(sanitize(QEMU))
    assert t[0] == E(0, 0x1000, RES) and t[1] == E(0x1000, 0x9EC00, RAM)
    # RAM the firmware claims inside 640K-1M disappears
    t = trim_bios_range([E(0, 2 * M, RAM), E(4 * M, M, RES)])
    assert t == (E(0, 0x1000, RES), E(0x1000, 0x9F000, RAM), E(M, M, RAM), E(4 * M, M, RES))


def test_add_kernel_range():
    ents = sanitize([E(0, 0x9FC00, RAM), E(M, 64 * M, RAM), E(65 * M, 8 * M, RES)])
    same, f = add_kernel_range(ents, 16 * M, 48 * M)
    assert same == ents and not f
    fixed, f = add_kernel_range(ents, 60 * M, 70 * M)
    assert f and f[-1].code == "E820_KERNEL_NOT_RAM"
    assert sanitize(fixed) == (E(0, 0x9FC00, RAM), E(M, 69 * M, RAM), E(70 * M, 3 * M, RES))


def test_end_pfn_walk_stops_at_the_crossing_entry():
    ents = sanitize(QEMU)
    assert max_pfn(ents) == 0x180000
    assert max_low_pfn(ents) == 0xBFFE0
    # an entry crossing 4 GiB yields exactly 4 GiB and stops the walk
    cross = (E(0, 0x9F000, RAM), E(M, 6 * G, RAM))
    assert end_pfn(cross, 1 << 20) == 1 << 20
    assert max_low_pfn(cross) == 1 << 20
    assert max_pfn([E(0, 0x9F000, RAM), E(M, 0x1800, RAM)]) == 0x101   # partial page rounded down


def test_memblock_ranges_types_merge_and_trim():
    ents = (E(0x1000, 0x9EC00, RAM), E(M, M, RAM), E(2 * M, M, 128), E(3 * M, M, SOFT),
            E(4 * M, M, ACPI), E(5 * M + 0x10, 0x2000, RAM), E(8 * M, 0x800, RAM))
    mem, res = memblock_ranges(ents)            # 5.10 .. 6.12: type 128 is RAM
    assert mem == [(0x1000, 0x9E000), (M, 2 * M), (5 * M + 0x1000, 0x1000)]
    assert res == [(3 * M, M)]
    mem72, _ = memblock_ranges(ents, get_profile("7.2"))   # 7.x dropped RESERVED_KERN
    assert (M, M) in mem72 and (M, 2 * M) not in mem72


def test_kernel_e820_whole_path():
    k = kernel_e820(E820Table(QEMU, source="test"), "memmap=512M$0x140000000 mem=7G", profile=get_profile("6.1"))
    assert k.user is not None and k.mem_limit == 7 * G
    assert k.memory[0] == (0x1000, 0x9E000)
    assert (0x160000000, 0x20000000) in k.memory
    assert k.max_pfn == 0x180000
    k2 = kernel_e820(QEMU)
    assert k2.user is None and k2.firmware == sanitize(QEMU)
    empty = kernel_e820([E(0, 0x1000, RES), E(0x2000, 0x1000, RES)])
    assert any(f.code == "E820_NO_RAM" for f in empty.findings)
    many = kernel_e820([E(i << 20, 0x1000, RAM) for i in range(3300)])
    assert len(many.firmware) == 3200 and any(f.code == "E820_TABLE_FULL" for f in many.findings)
    huge = kernel_e820([E(0, 0x9F000, RAM), E(1 << 20, 1 << 30, RAM), E(1 << 47, 1 << 30, RAM)])
    # e820_end_pfn() skips entries that start above MAX_ARCH_PFN
    assert huge.max_pfn == 0x40100 and any(f.code == "E820_RAM_BEYOND_PHYSMEM" for f in huge.findings)


def test_e820type_values():
    assert (E820Type.RAM, E820Type.RESERVED, E820Type.ACPI, E820Type.NVS, E820Type.UNUSABLE, E820Type.PMEM,
            E820Type.PRAM, E820Type.RESERVED_KERN, E820Type.SOFT_RESERVED) == (1, 2, 3, 4, 5, 7, 12, 128,
                                                                                0xEFFFFFFF)
