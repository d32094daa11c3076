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
    "signature" / Bytes(4),
    "length" / Int32ul,
    "revision" / Int8ul,
    "checksum" / Int8ul,
    "oem_id" / Bytes(6),
    "oem_table_id" / Bytes(8),
    "oem_revision" / Int32ul,
    "asl_compiler_id" / Bytes(4),
    "asl_compiler_revision" / Int32ul,
)
ACPI_HEADER_SIZE = 36

# --- actbl3.h: SRAT ---------------------------------------------------------
# struct acpi_table_srat: header, TableRevision (u32, "must be 1"), Reserved (u64)
AcpiTableSrat = Struct(
    "header" / AcpiTableHeader,
    "table_revision" / Int32ul,
    "reserved" / Int64ul,
)
SRAT_SUBTABLE_START = 48

# struct acpi_subtable_header
AcpiSubtableHeader = Struct("type" / Int8ul, "length" / Int8ul)

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

# Generic Initiator / Port device handle types
ACPI_SRAT_ACPI_DEVICE_HANDLE = 0
ACPI_SRAT_PCI_DEVICE_HANDLE = 1

# 0: struct acpi_srat_cpu_affinity (16 bytes)
AcpiSratCpuAffinity = Struct(
    "type" / Int8ul,
    "length" / Int8ul,
    "proximity_domain_lo" / Int8ul,
    "apic_id" / Int8ul,
    "flags" / Int32ul,
    "local_sapic_eid" / Int8ul,
    "proximity_domain_hi" / Int24ul,  # u8[3] in C: bits 8..31 of the domain
    "clock_domain" / Int32ul,
)

# 1: struct acpi_srat_mem_affinity (40 bytes)
AcpiSratMemAffinity = Struct(
    "type" / Int8ul,
    "length" / Int8ul,
    "proximity_domain" / Int32ul,
    "reserved" / Int16ul,
    "base_address" / Int64ul,
    "length_" / Int64ul,  # "Length" in C; renamed: "length" is the subtable length
    "reserved1" / Int32ul,
    "flags" / Int32ul,
    "reserved2" / Int64ul,
)

# 2: struct acpi_srat_x2apic_cpu_affinity (24 bytes)
AcpiSratX2apicCpuAffinity = Struct(
    "type" / Int8ul,
    "length" / Int8ul,
    "reserved" / Int16ul,
    "proximity_domain" / Int32ul,
    "apic_id" / Int32ul,
    "flags" / Int32ul,
    "clock_domain" / Int32ul,
    "reserved2" / Int32ul,
)

# 3: struct acpi_srat_gicc_affinity (18 bytes, packed)
AcpiSratGiccAffinity = Struct(
    "type" / Int8ul,
    "length" / Int8ul,
    "proximity_domain" / Int32ul,
    "acpi_processor_uid" / Int32ul,
    "flags" / Int32ul,
    "clock_domain" / Int32ul,
)

# 4: struct acpi_srat_gic_its_affinity (12 bytes)
AcpiSratGicItsAffinity = Struct(
    "type" / Int8ul,
    "length" / Int8ul,
    "proximity_domain" / Int32ul,
    "reserved" / Int16ul,
    "its_id" / Int32ul,
)

# 5 and 6: struct acpi_srat_generic_affinity (32 bytes)
AcpiSratGenericAffinity = Struct(
    "type" / Int8ul,
    "length" / Int8ul,
    "reserved" / Int8ul,
    "device_handle_type" / Int8ul,
    "proximity_domain" / Int32ul,
    "device_handle" / Bytes(16),
    "flags" / Int32ul,
    "reserved1" / Int32ul,
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
    "type" / Int8ul,
    "length" / Int8ul,
    "reserved" / Int16ul,
    "proximity_domain" / Int32ul,
    "acpi_processor_uid" / Int32ul,
    "flags" / Int32ul,
    "clock_domain" / Int32ul,
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
    "locality_count" / Int64ul,
)
SLIT_ENTRY_START = 44

# --- actbl2.h: MSCT ---------------------------------------------------------
AcpiTableMsct = Struct(
    "header" / AcpiTableHeader,
    "proximity_offset" / Int32ul,
    "max_proximity_domains" / Int32ul,  # "Max Proximity Domains" minus one
    "max_clock_domains" / Int32ul,
    "max_address" / Int64ul,
)
MSCT_FIXED_SIZE = 56
# struct acpi_msct_proximity (22 bytes)
AcpiMsctProximity = Struct(
    "revision" / Int8ul,
    "length" / Int8ul,
    "range_start" / Int32ul,
    "range_end" / Int32ul,
    "processor_capacity" / Int32ul,
    "memory_capacity" / Int64ul,
)

# --- actbl1.h: CEDT ---------------------------------------------------------
AcpiTableCedt = Struct("header" / AcpiTableHeader)
CEDT_SUBTABLE_START = 36
AcpiCedtHeader = Struct("type" / Int8ul, "reserved" / Int8ul, "length" / Int16ul)
ACPI_CEDT_TYPE_CHBS = 0
ACPI_CEDT_TYPE_CFMWS = 1

# 0: struct acpi_cedt_chbs (32 bytes)
AcpiCedtChbs = Struct(
    "type" / Int8ul,
    "reserved" / Int8ul,
    "length" / Int16ul,
    "uid" / Int32ul,
    "cxl_version" / Int32ul,
    "reserved2" / Int32ul,
    "base" / Int64ul,
    "length_" / Int64ul,  # "Length" in C (register block length)
)

# 1: struct acpi_cedt_cfmws (36 bytes) + InterleaveTargets[] (u32 each)
AcpiCedtCfmws = Struct(
    "type" / Int8ul,
    "reserved" / Int8ul,
    "length" / Int16ul,
    "reserved1" / Int32ul,
    "base_hpa" / Int64ul,
    "window_size" / Int64ul,
    "interleave_ways" / Int8ul,
    "interleave_arithmetic" / Int8ul,
    "reserved2" / Int16ul,
    "granularity" / Int32ul,
    "restrictions" / Int16ul,
    "qtg_id" / Int16ul,
)
AcpiCedtCfmwsTarget = Int32ul

CEDT_SUBTABLES = {ACPI_CEDT_TYPE_CHBS: AcpiCedtChbs, ACPI_CEDT_TYPE_CFMWS: AcpiCedtCfmws}

# --- actbl1.h: HMAT ---------------------------------------------------------
AcpiTableHmat = Struct("header" / AcpiTableHeader, "reserved" / Int32ul)
HMAT_SUBTABLE_START = 40
AcpiHmatStructure = Struct("type" / Int16ul, "reserved" / Int16ul, "length" / Int32ul)
ACPI_HMAT_TYPE_PROXIMITY = 0
ACPI_HMAT_TYPE_LOCALITY = 1
ACPI_HMAT_TYPE_CACHE = 2

# 0: struct acpi_hmat_proximity_domain (40 bytes)
AcpiHmatProximityDomain = Struct(
    "type" / Int16ul,
    "reserved" / Int16ul,
    "length" / Int32ul,
    "flags" / Int16ul,
    "reserved1" / Int16ul,
    "processor_pd" / Int32ul,
    "memory_pd" / Int32ul,
    "reserved2" / Int32ul,
    "reserved3" / Int64ul,
    "reserved4" / Int64ul,
)

# 1: struct acpi_hmat_locality (32 bytes) + initiator list, target list, entries
AcpiHmatLocality = Struct(
    "type" / Int16ul,
    "reserved" / Int16ul,
    "length" / Int32ul,
    "flags" / Int8ul,
    "data_type" / Int8ul,
    "min_transfer_size" / Int8ul,
    "reserved1" / Int8ul,
    "number_of_initiator_pds" / Int32ul,
    "number_of_target_pds" / Int32ul,
    "reserved2" / Int32ul,
    "entry_base_unit" / Int64ul,
)
# followed by u32 initiator PDs[m], u32 target PDs[n], u16 entries[m * n]

# 2: struct acpi_hmat_cache (32 bytes) + SMBIOS handles (u16 each)
AcpiHmatCache = Struct(
    "type" / Int16ul,
    "reserved" / Int16ul,
    "length" / Int32ul,
    "memory_pd" / Int32ul,
    "reserved1" / Int32ul,
    "cache_size" / Int64ul,
    "cache_attributes" / Int32ul,
    "address_mode" / Int16ul,
    "number_of_smbios_handles" / Int16ul,
)

HMAT_SUBTABLES = {
    ACPI_HMAT_TYPE_PROXIMITY: AcpiHmatProximityDomain,
    ACPI_HMAT_TYPE_LOCALITY: AcpiHmatLocality,
    ACPI_HMAT_TYPE_CACHE: AcpiHmatCache,
}
