"""construct definitions of the ACPI tables sratplan decodes, and nothing else.

Names follow ACPICA's headers (``include/acpi/actbl.h`` for the common header,
``actbl3.h`` for SRAT/SLIT, ``actbl2.h`` for MSCT, ``actbl1.h`` for CEDT and
HMAT), written in Python's snake_case: ``ProximityDomainLo`` becomes
``proximity_domain_lo``.  All fields are little-endian.  Each subtable Struct
*includes* its common subtable header (type + length), as ACPICA's C structs
do, so ``Struct.sizeof()`` is the length of the subtable as the specification
defines it.

The model (:mod:`sratplan.acpi.model`) and the walker (:mod:`sratplan.acpi.tables`)
use these definitions; the walker has ``struct``-module fast paths for the three
subtable types a large SRAT is made of (0, 1, 2), tested against these.
"""

from __future__ import annotations

from construct import (
    Bytes,
    Int8ul,
    Int16ul,
    Int24ul,
    Int32ul,
    Int64ul,
    Struct,
)

# --- include/acpi/actbl.h: struct acpi_table_header (36 bytes) ---------------
# Text fields are raw bytes (NUL padding and non-ASCII kept) so any table round-trips.
AcpiTableHeader = Struct(
    "signature" / Bytes(4) * "Signature",
    "length" / Int32ul * "Table Length",
    "revision" / Int8ul * "Revision",
    "checksum" / Int8ul * "Checksum",
    "oem_id" / Bytes(6) * "Oem ID",
    "oem_table_id" / Bytes(8) * "Oem Table ID",
    "oem_revision" / Int32ul * "Oem Revision",
    "asl_compiler_id" / Bytes(4) * "Asl Compiler ID",
    "asl_compiler_revision" / Int32ul * "Asl Compiler Revision",
)
ACPI_HEADER_SIZE = 36
# Header fields iasl prints as text (the rest of the Bytes fields are shown as bytes)
TEXT_FIELDS = frozenset({"signature", "oem_id", "oem_table_id", "asl_compiler_id"})

# --- actbl3.h: SRAT ---------------------------------------------------------
# struct acpi_table_srat: header, TableRevision (u32, "must be 1"), Reserved (u64)
AcpiTableSrat = Struct(
    "header" / AcpiTableHeader,
    "table_revision" / Int32ul * "Table Revision",
    "reserved" / Int64ul * "Reserved",
)
SRAT_SUBTABLE_START = 48

# struct acpi_subtable_header
AcpiSubtableHeader = Struct("type" / Int8ul * "Subtable Type", "length" / Int8ul * "Length")

# enum acpi_srat_type
ACPI_SRAT_TYPE_CPU_AFFINITY = 0
ACPI_SRAT_TYPE_MEMORY_AFFINITY = 1
ACPI_SRAT_TYPE_X2APIC_CPU_AFFINITY = 2
ACPI_SRAT_TYPE_GICC_AFFINITY = 3
ACPI_SRAT_TYPE_GIC_ITS_AFFINITY = 4
ACPI_SRAT_TYPE_GENERIC_AFFINITY = 5
ACPI_SRAT_TYPE_GENERIC_PORT_AFFINITY = 6
ACPI_SRAT_TYPE_RINTC_AFFINITY = 7

# Flags (actbl3.h)
ACPI_SRAT_CPU_USE_AFFINITY = 1  # ACPI_SRAT_CPU_ENABLED
ACPI_SRAT_MEM_ENABLED = 1
ACPI_SRAT_MEM_HOT_PLUGGABLE = 1 << 1
ACPI_SRAT_MEM_NON_VOLATILE = 1 << 2
ACPI_SRAT_MEM_SPEC_PURPOSE = 1 << 3
ACPI_SRAT_GICC_ENABLED = 1
ACPI_SRAT_GENERIC_AFFINITY_ENABLED = 1
ACPI_SRAT_ARCHITECTURAL_TRANSACTIONS = 1 << 1
ACPI_SRAT_RINTC_ENABLED = 1

# Flag tables: each flags field's bits as ``iasl -d`` decodes them, ``(label,
# mask)``; a value shown is ``(flags & mask) >> (lowest bit of mask)``.  The
# masks together are the bits the specification defines (the rest are reserved).
AcpiSratCpuAffinityFlags = (("Enabled", ACPI_SRAT_CPU_USE_AFFINITY),)
AcpiSratMemAffinityFlags = (
    ("Enabled", ACPI_SRAT_MEM_ENABLED),
    ("Hot Pluggable", ACPI_SRAT_MEM_HOT_PLUGGABLE),
    ("Non-Volatile", ACPI_SRAT_MEM_NON_VOLATILE),
    ("Specific Purpose", ACPI_SRAT_MEM_SPEC_PURPOSE),
)
AcpiSratX2apicCpuAffinityFlags = (("Enabled", ACPI_SRAT_CPU_USE_AFFINITY),)
AcpiSratGiccAffinityFlags = (("Enabled", ACPI_SRAT_GICC_ENABLED),)
AcpiSratGenericAffinityFlags = (
    ("Enabled", ACPI_SRAT_GENERIC_AFFINITY_ENABLED),
    ("Architectural Transactions", ACPI_SRAT_ARCHITECTURAL_TRANSACTIONS),
)
AcpiSratRintcAffinityFlags = (("Enabled", ACPI_SRAT_RINTC_ENABLED),)

# Generic Initiator / Port device handle types
ACPI_SRAT_ACPI_DEVICE_HANDLE = 0
ACPI_SRAT_PCI_DEVICE_HANDLE = 1

# 0: struct acpi_srat_cpu_affinity (16 bytes)
AcpiSratCpuAffinity = Struct(
    "type" / Int8ul * "Subtable Type",
    "length" / Int8ul * "Length",
    "proximity_domain_lo" / Int8ul * "Proximity Domain Low(8)",
    "apic_id" / Int8ul * "Apic ID",
    "flags" / Int32ul * "Flags (decoded below)",
    "local_sapic_eid" / Int8ul * "Local Sapic EID",
    "proximity_domain_hi" / Int24ul * "Proximity Domain High(24)",  # u8[3] in C: bits 8..31 of the domain
    "clock_domain" / Int32ul * "Clock Domain",
)

# 1: struct acpi_srat_mem_affinity (40 bytes)
AcpiSratMemAffinity = Struct(
    "type" / Int8ul * "Subtable Type",
    "length" / Int8ul * "Length",
    "proximity_domain" / Int32ul * "Proximity Domain",
    "reserved" / Int16ul * "Reserved1",
    "base_address" / Int64ul * "Base Address",
    "address_length" / Int64ul * "Address Length",  # "Length" in C; renamed: "length" is the subtable length
    "reserved1" / Int32ul * "Reserved2",
    "flags" / Int32ul * "Flags (decoded below)",
    "reserved2" / Int64ul * "Reserved3",
)

# 2: struct acpi_srat_x2apic_cpu_affinity (24 bytes)
AcpiSratX2apicCpuAffinity = Struct(
    "type" / Int8ul * "Subtable Type",
    "length" / Int8ul * "Length",
    "reserved" / Int16ul * "Reserved1",
    "proximity_domain" / Int32ul * "Proximity Domain",
    "apic_id" / Int32ul * "Apic ID",
    "flags" / Int32ul * "Flags (decoded below)",
    "clock_domain" / Int32ul * "Clock Domain",
    "reserved2" / Int32ul * "Reserved2",
)

# 3: struct acpi_srat_gicc_affinity (18 bytes, packed)
AcpiSratGiccAffinity = Struct(
    "type" / Int8ul * "Subtable Type",
    "length" / Int8ul * "Length",
    "proximity_domain" / Int32ul * "Proximity Domain",
    "acpi_processor_uid" / Int32ul * "Acpi Processor UID",
    "flags" / Int32ul * "Flags (decoded below)",
    "clock_domain" / Int32ul * "Clock Domain",
)

# 4: struct acpi_srat_gic_its_affinity (12 bytes)
AcpiSratGicItsAffinity = Struct(
    "type" / Int8ul * "Subtable Type",
    "length" / Int8ul * "Length",
    "proximity_domain" / Int32ul * "Proximity Domain",
    "reserved" / Int16ul * "Reserved",
    "its_id" / Int32ul * "ITS ID",
)

# 5 and 6: struct acpi_srat_generic_affinity (32 bytes)
AcpiSratGenericAffinity = Struct(
    "type" / Int8ul * "Subtable Type",
    "length" / Int8ul * "Length",
    "reserved" / Int8ul * "Reserved1",
    "device_handle_type" / Int8ul * "Device Handle Type",
    "proximity_domain" / Int32ul * "Proximity Domain",
    "device_handle" / Bytes(16) * "Device Handle",
    "flags" / Int32ul * "Flags (decoded below)",
    "reserved1" / Int32ul * "Reserved2",
)

# The 16-byte device handle: struct acpi_srat_acpi_device_handle / _pci_
AcpiSratAcpiDeviceHandle = Struct(
    "hid" / Bytes(8),
    "uid" / Int32ul,
    "reserved" / Int32ul,
)
AcpiSratPciDeviceHandle = Struct(
    "segment" / Int16ul,
    "bdf" / Int16ul,  # bus << 8 | device << 3 | function
    "reserved" / Bytes(12),
)

# 7: struct acpi_srat_rintc_affinity (20 bytes)
AcpiSratRintcAffinity = Struct(
    "type" / Int8ul * "Subtable Type",
    "length" / Int8ul * "Length",
    "reserved" / Int16ul * "Reserved",
    "proximity_domain" / Int32ul * "Proximity Domain",
    "acpi_processor_uid" / Int32ul * "Acpi Processor UID",
    "flags" / Int32ul * "Flags (decoded below)",
    "clock_domain" / Int32ul * "Clock Domain",
)

SRAT_SUBTABLES = {
    ACPI_SRAT_TYPE_CPU_AFFINITY: AcpiSratCpuAffinity,
    ACPI_SRAT_TYPE_MEMORY_AFFINITY: AcpiSratMemAffinity,
    ACPI_SRAT_TYPE_X2APIC_CPU_AFFINITY: AcpiSratX2apicCpuAffinity,
    ACPI_SRAT_TYPE_GICC_AFFINITY: AcpiSratGiccAffinity,
    ACPI_SRAT_TYPE_GIC_ITS_AFFINITY: AcpiSratGicItsAffinity,
    ACPI_SRAT_TYPE_GENERIC_AFFINITY: AcpiSratGenericAffinity,
    ACPI_SRAT_TYPE_GENERIC_PORT_AFFINITY: AcpiSratGenericAffinity,
    ACPI_SRAT_TYPE_RINTC_AFFINITY: AcpiSratRintcAffinity,
}

# --- actbl3.h: SLIT ---------------------------------------------------------
# struct acpi_table_slit: header, LocalityCount (u64), Entry[] (count * count bytes)
AcpiTableSlit = Struct(
    "header" / AcpiTableHeader,
    "locality_count" / Int64ul * "Localities",
)
SLIT_ENTRY_START = 44

# --- actbl2.h: MSCT ---------------------------------------------------------
AcpiTableMsct = Struct(
    "header" / AcpiTableHeader,
    "proximity_offset" / Int32ul * "Proximity Offset",
    "max_proximity_domains" / Int32ul * "Max Proximity Domains",  # "Max Proximity Domains" minus one
    "max_clock_domains" / Int32ul * "Max Clock Domains",
    "max_address" / Int64ul * "Max Physical Address",
)
MSCT_FIXED_SIZE = 56
# struct acpi_msct_proximity (22 bytes)
AcpiMsctProximity = Struct(
    "revision" / Int8ul * "Revision",
    "length" / Int8ul * "Length",
    "range_start" / Int32ul * "Domain Range Start",
    "range_end" / Int32ul * "Domain Range End",
    "processor_capacity" / Int32ul * "Processor Capacity",
    "memory_capacity" / Int64ul * "Memory Capacity",
)

# --- actbl1.h: CEDT ---------------------------------------------------------
AcpiTableCedt = Struct("header" / AcpiTableHeader)
CEDT_SUBTABLE_START = 36
AcpiCedtHeader = Struct("type" / Int8ul * "Subtable Type", "reserved" / Int8ul * "Reserved", "length" / Int16ul * "Length")
ACPI_CEDT_TYPE_CHBS = 0
ACPI_CEDT_TYPE_CFMWS = 1

# 0: struct acpi_cedt_chbs (32 bytes)
AcpiCedtChbs = Struct(
    "type" / Int8ul * "Subtable Type",
    "reserved" / Int8ul * "Reserved",
    "length" / Int16ul * "Length",
    "uid" / Int32ul * "Associated host bridge",
    "cxl_version" / Int32ul * "Specification version",
    "reserved2" / Int32ul * "Reserved",
    "base" / Int64ul * "Register base",
    "register_length" / Int64ul * "Register length",  # "Length" in C (register block length)
)

# 1: struct acpi_cedt_cfmws (36 bytes) + InterleaveTargets[] (u32 each)
AcpiCedtCfmws = Struct(
    "type" / Int8ul * "Subtable Type",
    "reserved" / Int8ul * "Reserved",
    "length" / Int16ul * "Length",
    "reserved1" / Int32ul * "Reserved",
    "base_hpa" / Int64ul * "Window base address",
    "window_size" / Int64ul * "Window size",
    "interleave_ways" / Int8ul * "Interleave Members",
    "interleave_arithmetic" / Int8ul * "Interleave Arithmetic",
    "reserved2" / Int16ul * "Reserved",
    "granularity" / Int32ul * "Granularity",
    "restrictions" / Int16ul * "Restrictions",
    "qtg_id" / Int16ul * "QtgId",
)
AcpiCedtCfmwsTarget = Int32ul

CEDT_SUBTABLES = {ACPI_CEDT_TYPE_CHBS: AcpiCedtChbs, ACPI_CEDT_TYPE_CFMWS: AcpiCedtCfmws}

# --- actbl1.h: HMAT ---------------------------------------------------------
AcpiTableHmat = Struct("header" / AcpiTableHeader, "reserved" / Int32ul * "Reserved")
HMAT_SUBTABLE_START = 40
AcpiHmatStructure = Struct("type" / Int16ul * "Structure Type", "reserved" / Int16ul * "Reserved", "length" / Int32ul * "Length")
ACPI_HMAT_TYPE_PROXIMITY = 0
ACPI_HMAT_TYPE_LOCALITY = 1
ACPI_HMAT_TYPE_CACHE = 2

# 0: struct acpi_hmat_proximity_domain (40 bytes)
AcpiHmatProximityDomain = Struct(
    "type" / Int16ul * "Structure Type",
    "reserved" / Int16ul * "Reserved",
    "length" / Int32ul * "Length",
    "flags" / Int16ul * "Flags (decoded below)",
    "reserved1" / Int16ul * "Reserved1",
    "processor_pd" / Int32ul * "Attached Initiator Proximity Domain",
    "memory_pd" / Int32ul * "Memory Proximity Domain",
    "reserved2" / Int32ul * "Reserved2",
    "reserved3" / Int64ul * "Reserved3",
    "reserved4" / Int64ul * "Reserved4",
)

# 1: struct acpi_hmat_locality (32 bytes) + initiator list, target list, entries
AcpiHmatLocality = Struct(
    "type" / Int16ul * "Structure Type",
    "reserved" / Int16ul * "Reserved",
    "length" / Int32ul * "Length",
    "flags" / Int8ul * "Flags (decoded below)",
    "data_type" / Int8ul * "Data Type",
    "min_transfer_size" / Int8ul * "Minimum Transfer Size",
    "reserved1" / Int8ul * "Reserved1",
    "number_of_initiator_pds" / Int32ul * "Initiator Proximity Domains #",
    "number_of_target_pds" / Int32ul * "Target Proximity Domains #",
    "reserved2" / Int32ul * "Reserved2",
    "entry_base_unit" / Int64ul * "Entry Base Unit",
)
# followed by u32 initiator PDs[m], u32 target PDs[n], u16 entries[m * n]

# 2: struct acpi_hmat_cache (32 bytes) + SMBIOS handles (u16 each)
AcpiHmatCache = Struct(
    "type" / Int16ul * "Structure Type",
    "reserved" / Int16ul * "Reserved",
    "length" / Int32ul * "Length",
    "memory_pd" / Int32ul * "Memory Proximity Domain",
    "reserved1" / Int32ul * "Reserved1",
    "cache_size" / Int64ul * "Memory Side Cache Size",
    "cache_attributes" / Int32ul * "Cache Attributes (decoded below)",
    "address_mode" / Int16ul * "Address Mode",
    "number_of_smbios_handles" / Int16ul * "SMBIOS Handle #",
)

HMAT_SUBTABLES = {
    ACPI_HMAT_TYPE_PROXIMITY: AcpiHmatProximityDomain,
    ACPI_HMAT_TYPE_LOCALITY: AcpiHmatLocality,
    ACPI_HMAT_TYPE_CACHE: AcpiHmatCache,
}

# HMAT flag and attribute tables (actbl1.h ACPI_HMAT_*), as iasl decodes them
AcpiHmatProximityDomainFlags = (("Processor Proximity Domain Valid", 1),)
AcpiHmatLocalityFlags = (
    ("Memory Hierarchy", 0xF),
    ("Use Minimum Transfer Size", 1 << 4),
    ("Non-sequential Transfers", 1 << 5),
)
AcpiHmatCacheAttributes = (
    ("Total Cache Levels", 0xF),
    ("Cache Level", 0xF << 4),
    ("Cache Associativity", 0xF << 8),
    ("Write Policy", 0xF << 12),
    ("Cache Line Size", 0xFFFF << 16),
)
