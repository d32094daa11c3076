"""Construct definitions of the x86 boot protocol's ``struct boot_params``
(the zero page, /sys/kernel/boot_params/data), field names and offsets as in
arch/x86/include/uapi/asm/bootparam.h (Linux 5.10-7.x: the fields read here
have not moved).  Definitions only; e820_readers.parse_boot_params turns a
parse into the model.  Only the fields the planner needs are declared, each at
its fixed offset."""

from __future__ import annotations

import construct as cs

from .e820 import E820_MAX_ENTRIES_ZEROPAGE

BootE820Entry = cs.Struct("addr" / cs.Int64ul, "size" / cs.Int64ul, "type" / cs.Int32ul)

# Only the fields sratplan uses, at their bootparam.h offsets.
BootParamsStruct = cs.Struct(
    "ext_mem_k" / cs.Pointer(0x002, cs.Int16ul),          # screen_info.ext_mem_k
    "acpi_rsdp_addr" / cs.Pointer(0x070, cs.Int64ul),
    "ext_ramdisk_image" / cs.Pointer(0x0C0, cs.Int32ul),
    "ext_ramdisk_size" / cs.Pointer(0x0C4, cs.Int32ul),
    "ext_cmd_line_ptr" / cs.Pointer(0x0C8, cs.Int32ul),
    "alt_mem_k" / cs.Pointer(0x1E0, cs.Int32ul),
    "e820_entries" / cs.Pointer(0x1E8, cs.Int8ul),
    "setup_sects" / cs.Pointer(0x1F1, cs.Int8ul),
    "boot_flag" / cs.Pointer(0x1FE, cs.Int16ul),
    "header" / cs.Pointer(0x202, cs.Bytes(4)),
    "version" / cs.Pointer(0x206, cs.Int16ul),
    "type_of_loader" / cs.Pointer(0x210, cs.Int8ul),
    "loadflags" / cs.Pointer(0x211, cs.Int8ul),
    "code32_start" / cs.Pointer(0x214, cs.Int32ul),
    "ramdisk_image" / cs.Pointer(0x218, cs.Int32ul),
    "ramdisk_size" / cs.Pointer(0x21C, cs.Int32ul),
    "cmd_line_ptr" / cs.Pointer(0x228, cs.Int32ul),
    "initrd_addr_max" / cs.Pointer(0x22C, cs.Int32ul),
    "kernel_alignment" / cs.Pointer(0x230, cs.Int32ul),
    "relocatable_kernel" / cs.Pointer(0x234, cs.Int8ul),
    "xloadflags" / cs.Pointer(0x236, cs.Int16ul),
    "cmdline_size" / cs.Pointer(0x238, cs.Int32ul),
    "setup_data" / cs.Pointer(0x250, cs.Int64ul),
    "pref_address" / cs.Pointer(0x258, cs.Int64ul),
    "init_size" / cs.Pointer(0x260, cs.Int32ul),
    "e820_table" / cs.Pointer(0x2D0, cs.Array(E820_MAX_ENTRIES_ZEROPAGE, BootE820Entry)),
)
