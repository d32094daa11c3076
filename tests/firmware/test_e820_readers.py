"""e820 readers: log dialects, sysfs, zero page, iomem, hand-written forms,
real-world files (fixtures/e820/realdata), and hostile input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sratplan.errors import LimitError, ParseError, SratplanError
from sratplan.firmware.bootfacts import parse_boot_log, read_boot_facts
from sratplan.firmware.e820 import E820_TYPE_UNKNOWN, E820Entry
from sratplan.firmware.e820_readers import (
    MAX_TEXT_ENTRIES,
    parse_boot_params,
    parse_dmesg_e820,
    parse_e820_any,
    parse_e820_json,
    parse_e820_text,
    parse_iomem,
    parse_memmap_text,
    read_e820,
)
from sratplan.firmware.structs import BootParamsStruct
from sratplan.kernel.e820 import kernel_e820, memory_setup_default, sanitize, trim_bios_range

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "e820" / "realdata"
G = 1 << 30


def E(s, size, t):
    return E820Entry(s, size, t)


def _codes(t):
    return {f.code for f in t.findings}


# -- log dialects -------------------------------------------------------------

OLD_LOG = """\
[    0.000000] BIOS-provided physical RAM map:
[    0.000000]  BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)
[    0.000000]  BIOS-e820: 000000000009fc00 - 00000000000a0000 (reserved)
[    0.000000]  BIOS-e820: 0000000000100000 - 000000003fff0000 (usable)
[    0.000000]  BIOS-e820: 000000003fff0000 - 0000000040000000 (ACPI data)
[    0.000000]  BIOS-e820: 00000000fec00000 - 00000000fec01000 type 9
[    0.000000]  user: 0000000000000000 - 000000000009fc00 (usable)
"""


def test_pre_3x_dialect_has_exclusive_ends():
    t = parse_dmesg_e820(OLD_LOG)
    assert t.dialect == "old"
    assert t.entries == (E(0, 0x9FC00, 1), E(0x9FC00, 0x400, 2), E(0x100000, 0x3FEF0000, 1),
                         E(0x3FFF0000, 0x10000, 3), E(0xFEC00000, 0x1000, 9))
    assert t.user == (E(0, 0x9FC00, 1),)


def test_syslog_prefix_and_other_labels():
    t = parse_dmesg_e820((REAL / "VMware_VirtualPlatform_ty-vm.dmesg-excerpt.txt").read_text())
    assert len(t.entries) == 12 and t.label == "BIOS-e820"
    log = "[    0.000000] BIOS-e801: [mem 0x0000000000000000-0x000000000009efff] usable\n" \
          "[    0.000000] BIOS-e801: [mem 0x0000000000100000-0x0000000003ffffff] usable\n"
    t = parse_dmesg_e820(log)
    assert t.label == "BIOS-e801" and t.entries == (E(0, 0x9F000, 1), E(0x100000, 0x3F00000, 1))


def test_only_the_first_boot_and_first_map():
    one = "[0.0] Linux version 6.1.0\n[0.0] BIOS-e820: [mem 0x0000000000000000-0x0000000000000fff] usable\n" \
          "[0.0] BIOS-e820: [mem 0x0000000000001000-0x0000000000001fff] reserved\n"
    two = one.replace("0x0000000000000fff] usable", "0x0000000000000fff] ACPI data")
    t = parse_dmesg_e820(one + "[0.1] other line\n" + two)
    assert t.entries == (E(0, 0x1000, 1), E(0x1000, 0x1000, 2))
    assert "E820_SECOND_BOOT" in _codes(t)


def test_log_garbage_gives_findings_not_errors():
    t = parse_dmesg_e820("BIOS-e820: [mem 0x0-0x1] frobnicated\nBIOS-e820: whatever\n")
    assert t.entries == ()
    assert {"E820_UNKNOWN_TYPE_NAME", "E820_BAD_LINE", "E820_NOT_FOUND"} <= _codes(t)
    assert all(f.where and "line" in f.where for f in t.findings if f.code != "E820_NOT_FOUND")


def test_gap_lines_are_checked():
    log = ("BIOS-e820: [mem 0x0000000000000000-0x0000000000000fff]  System RAM\n"
           "BIOS-e820: [gap 0x0000000000001000-0x0000000000001fff]\n"
           "BIOS-e820: [mem 0x0000000000002000-0x0000000000002fff]  device reserved\n")
    t = parse_dmesg_e820(log)
    assert t.dialect == "gaps" and not t.findings
    t = parse_dmesg_e820(log.replace("[gap 0x0000000000001000", "[gap 0x0000000000001800"))
    assert "E820_GAP_MISMATCH" in _codes(t)


# -- real-world files -------------------------------------------------------


def test_vmware_memmap_equals_the_same_bios_log():
    memmap = read_e820(REAL / "VMware_VirtualPlatform-BIOS-MEMPLUG_nlayo.sys_firmware_memmap.txt")
    log = read_e820(REAL / "VMware_VirtualPlatform_ty-vm.dmesg-excerpt.txt")
    assert memmap.source == "firmware-memmap" and log.source == "dmesg"
    assert sanitize(memmap.entries) == sanitize(log.entries)
    assert len(memmap.entries) == 12


def test_hyperv_iomem_is_the_trimmed_log_map():
    log = read_e820(REAL / "Microsoft_HyperV-Gen2-VM_coreos-sosreport.dmesg.txt")
    iomem = read_e820(REAL / "Microsoft_HyperV-Gen2-VM_coreos-sosreport.proc_iomem.txt")
    assert iomem.source == "iomem" and "E820_FROM_IOMEM" in _codes(iomem)
    final = trim_bios_range(sanitize(log.entries))
    for typ in (1, 3, 4):
        assert [e for e in iomem.entries if e.type == typ] == [e for e in final if e.type == typ]
    # iomem lacks the reserved ranges above 1 MiB that PCI may claim
    assert set(e for e in iomem.entries if e.type == 2) < set(e for e in final if e.type == 2)


@pytest.mark.parametrize("name,max_pfn,low_pfn", [
    ("Microsoft_HyperV-Gen2-VM_coreos-sosreport.dmesg.txt", 0x208000, 0xF8000),
    ("Quanta_QSSC-S4R_lkp-wsx02.dmesg-excerpt.txt", 0x2080000, 0x7B43E),
    ("VMware_VirtualPlatform_ty-vm.dmesg-excerpt.txt", 0x140000, 0xC0000),
    ("Sun_FireX4600M2_8S.dmesg-excerpt.txt", 0x2028000, 0xD7FA0),
])
def test_real_logs_max_pfn(name, max_pfn, low_pfn):
    """The expected numbers are the logs' own ``last_pfn =`` lines."""
    text = (REAL / name).read_text()
    facts = parse_boot_log(text)
    k = kernel_e820(facts.e820, facts.cmdline)
    assert k.max_pfn == max_pfn
    assert k.max_low_pfn == low_pfn
    # and the trim_bios_range debug lines the log shows before last_pfn
    printed = [re.search(r"(e820: (?:update|remove) \[mem .*?)\s*$", ln).group(1)
               for ln in text.split("last_pfn =")[0].splitlines() if re.search(r"e820: (update|remove) \[", ln)]
    assert list(k.log) == printed


def test_real_log_oddities():
    sun = parse_dmesg_e820((REAL / "Sun_FireX4600M2_8S.dmesg-excerpt.txt").read_text())
    assert E(0xD7FAE000, 0x2000, 9) in sun.entries          # "type 9"
    quanta = parse_dmesg_e820((REAL / "Quanta_QSSC-S4R_lkp-wsx02.dmesg-excerpt.txt").read_text())
    assert quanta.entries[0] == E(0x100, 0x9B300, 1)        # RAM starting at 0x100
    assert len(quanta.entries) == 28
    fujitsu = parse_dmesg_e820((REAL / "Fujitsu_movable_node_fragment.dmesg-excerpt.txt").read_text())
    assert fujitsu.entries == (E(0x180000000000, 0x1000000000, 1), E(0x1C0000000000, 0x1000000000, 1))
    arm = read_e820(REAL / "HiSilicon_Kunpeng920-HIP08_2S.dmesg-excerpt.txt")
    assert arm.entries == () and "E820_NOT_FOUND" in _codes(arm)


def test_hyperv_boot_facts():
    f = read_boot_facts(REAL / "Microsoft_HyperV-Gen2-VM_coreos-sosreport.dmesg.txt")
    assert f.kernel_release == "4.18.0-80.11.2.el8_0.x86_64"
    assert f.cpus == 2 and f.cpus_hotplug == 0
    assert f.ramdisk == (0x3A6A8000, 0x3E0FD000)
    assert f.cmdline == (REAL / "Microsoft_HyperV-Gen2-VM_coreos-sosreport.proc_cmdline.txt").read_text().strip()
    assert {t.sig for t in f.acpi_tables} >= {"RSDP", "XSDT", "SRAT", "FACP"}
    assert len(f.e820.entries) == 15


def test_boot_log_reads_only_fact_lines():
    log = ("[0] Linux version 6.12.1 (x)\n[0] Command line: movable_node\n"
           "[0] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
           "[0] BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable\n"
           "[0] ACPI: SRAT 0x000000007FFE1B68 0000C8 (v03 ORACLE SRATPLAN 00000001 INTL 20200925)\n"
           "[0] ACPI: Reserving SRAT table memory at [mem 0x7ffe1b68-0x7ffe1c2f]\n"
           "[0] CPU topo: Allowing 2 present CPUs plus 6 hotplug CPUs\n"
           "[0] Movable zone start for each node\n[0]   Node 0: 0x0000000040000000\n")
    f = parse_boot_log(log)
    assert f.cpus == 8 and f.cpus_hotplug == 6 and f.cmdline == "movable_node"
    assert [tuple(t) for t in f.acpi_tables] == [("SRAT", 0x7FFE1B68, 0xC8)]
    assert f.ramdisk is None and "BOOTLOG_MISSING" in _codes(f)
    assert not hasattr(f, "movable_zone_start")


# -- sysfs, zero page, hand-written --------------------------------------------


def test_memmap_text_unknown_type_and_order():
    t = parse_memmap_text("1 0x1000 0x1fff Reserved\n0 0x0 0xfff System RAM\n2 0x2000 0x2fff Unknown E820 type\n"
                          "3 zz 0x1 Reserved\n")
    assert t.entries == (E(0, 0x1000, 1), E(0x1000, 0x1000, 2), E(0x2000, 0x1000, E820_TYPE_UNKNOWN))
    assert {"E820_TYPE_UNKNOWN", "E820_BAD_LINE"} <= _codes(t)


def _zero_page(entries, **kw) -> bytes:
    fields = dict(ext_mem_k=0, acpi_rsdp_addr=0xF59B0, ext_ramdisk_image=0, ext_ramdisk_size=0,
                  ext_cmd_line_ptr=0, alt_mem_k=0, e820_entries=len(entries), setup_sects=0, boot_flag=0xAA55,
                  header=b"HdrS", version=0x20F, type_of_loader=0xB0, loadflags=0x81, code32_start=0x100000,
                  ramdisk_image=0, ramdisk_size=0, cmd_line_ptr=0x20000, initrd_addr_max=0x7FFFFFFF,
                  kernel_alignment=0x200000, relocatable_kernel=1, xloadflags=0x7F, cmdline_size=2047,
                  setup_data=0, pref_address=0x1000000, init_size=0x3F98000,
                  e820_table=[dict(addr=e.start, size=e.size, type=e.type) for e in entries]
                  + [dict(addr=0, size=0, type=0)] * (128 - len(entries)))
    fields.update(kw)
    buf = bytearray(4096)
    built = BootParamsStruct.build(fields)
    # Pointer fields build into their offsets of a zero-filled page.
    buf[: len(built)] = built
    return bytes(buf)


def test_boot_params_round_trip_and_high_ramdisk_bits():
    ents = [E(0, 0x9FC00, 1), E(0x100000, 0x7FF00000, 1), E(0x9FC00, 0x400, 2)]
    raw = _zero_page(ents, ramdisk_image=0x7F000000, ramdisk_size=0x100000, ext_ramdisk_image=1)
    bp = parse_boot_params(raw)
    assert bp.e820.entries == tuple(ents)
    assert memory_setup_default(bp.e820).entries == sanitize(ents)
    assert bp.ramdisk == (0x17F000000, 0x100000)
    assert bp.boot_protocol == "2.15" and not bp.kaslr


def test_boot_params_fake_map_when_table_unusable():
    raw = _zero_page([E(0, 0x9FC00, 1)], alt_mem_k=0x3FC00, ext_mem_k=0x1000)
    k = memory_setup_default(parse_boot_params(raw).e820)
    assert k.label == "BIOS-e801" and k.entries == (E(0, 0x9F000, 1), E(0x100000, 0x3FC00 << 10, 1))
    assert "E820_FAKE_MAP" in _codes(k)


def test_boot_params_too_short_names_the_field():
    with pytest.raises(ParseError) as exc:
        parse_boot_params(b"\0" * 100, path="bp.bin")
    assert exc.value.field == "e820_table" and "bp.bin" in str(exc.value)


def test_boot_params_counts_above_128():
    raw = bytearray(_zero_page([E(0, 0x1000, 1), E(0x1000, 0x1000, 2)]))
    raw[0x1E8] = 200
    bp = parse_boot_params(bytes(raw))
    assert len(bp.e820.entries) == 128 and "E820_BOOT_PARAMS_COUNT" in _codes(bp.e820)


def test_hand_written_text_and_json():
    text = "# test\n0x0-0x9fbff usable\n1M+0xbfee0000 RAM\n4G+4G System RAM  # high\n" \
           "0xfd00000000-0xffffffffff reserved\n5G 6G RAM\n0x0-0x1 bogus\n"
    t = parse_e820_text(text)
    assert t.entries == (E(0, 0x9FC00, 1), E(0x100000, 0xBFEE0000, 1), E(4 * G, 4 * G, 1),
                         E(0xFD00000000, 0x300000000, 2))
    assert {"E820_BAD_LINE", "E820_UNKNOWN_TYPE_NAME"} <= _codes(t)
    doc = [{"start": "0x0", "last": "0x9fbff", "type": "usable"}, {"start": 1 << 20, "size": "1G", "type": 1},
           {"start": "4G", "end": "6G", "type": "ACPI NVS"}, {"start": "x", "size": 1, "type": 1}, 7]
    j = parse_e820_json(json.dumps(doc))
    assert j.entries == (E(0, 0x9FC00, 1), E(1 << 20, G, 1), E(4 * G, 2 * G, 4))
    assert len(j.findings) == 2
    assert parse_e820_any(json.dumps({"e820": doc[:3]})).entries == j.entries
    with pytest.raises(ParseError):
        parse_e820_json("{not json")


def test_caps():
    many = "".join(f"{i * 0x2000:#x}+0x1000 RAM\n" for i in range(MAX_TEXT_ENTRIES + 1))
    with pytest.raises(LimitError):
        parse_e820_text(many)


def test_read_e820_detects_forms(tmp_path):
    (tmp_path / "bp.bin").write_bytes(_zero_page([E(0, 0x9FC00, 1), E(0x100000, 0x1000000, 1)]))
    assert read_e820(tmp_path / "bp.bin").source == "boot_params"
    (tmp_path / "m.txt").write_text("0 0x0 0x9fbff System RAM\n1 0x100000 0xffffff System RAM\n")
    assert read_e820(tmp_path / "m.txt").source == "firmware-memmap"
    (tmp_path / "j.json").write_text('[{"start": 0, "size": 4096, "type": 1}]')
    assert read_e820(tmp_path / "j.json").source == "json"
    (tmp_path / "io.txt").write_text("00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n")
    assert read_e820(tmp_path / "io.txt").source == "iomem"
    with pytest.raises(SratplanError):
        read_e820(tmp_path / "missing")
    with pytest.raises(SratplanError):
        read_e820(tmp_path)          # a directory without any map


def test_iomem_without_root_is_empty():
    t = parse_iomem("00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n")
    assert t.entries == () and "E820_IOMEM_ZEROED" in _codes(t)


def test_readers_module_imports_first():
    """e820_readers imports e820 and e820 re-exports the readers: either may be
    imported first (a fresh interpreter, so no module is cached)."""
    import subprocess
    import sys

    for mod in ("sratplan.firmware.e820_readers", "sratplan.firmware.bootfacts", "sratplan.firmware.e820"):
        code = f"import {mod}; from sratplan.firmware.e820_readers import parse_dmesg_e820, BootParams, read_e820"
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_boot_params_of_the_wrong_size_is_a_finding():
    from pathlib import Path

    from sratplan.firmware.e820_readers import parse_boot_params

    d = (Path(__file__).resolve().parents[2] / "fixtures" / "kernel" / "6.1" / "c01_hp_above4g_movable"
         / "boot_params.bin").read_bytes()
    assert [f.code for f in parse_boot_params(d).findings] == []
    long = parse_boot_params(d + bytes(4096))
    assert [f.code for f in long.findings] == ["BOOT_PARAMS_SIZE"]
    assert long.e820.entries == parse_boot_params(d).e820.entries


def test_memmap_listing_with_one_garbled_line_is_still_a_memmap():
    from pathlib import Path

    from sratplan.firmware.e820_readers import parse_e820_any

    lines = (Path(__file__).resolve().parents[2] / "fixtures" / "kernel" / "6.1" / "c01_hp_above4g_movable"
             / "memmap.txt").read_text().splitlines()
    lines[2] = "garbage here !!"
    t = parse_e820_any("\n".join(lines) + "\n")
    assert t.source == "firmware-memmap"
    assert len(t.entries) == len(lines) - 1
    assert [f.code for f in t.findings] == ["E820_BAD_LINE"]
