"""The decoded-table model: frozen value classes, one per ACPI structure.

Every object keeps its exact bytes (``raw``) and its offset inside the table,
so that the planner can replay Linux's own walk over the bytes
(drivers/acpi/tables.c:acpi_parse_entries_array) and so that a table can be
rebuilt byte for byte (:func:`sratplan.acpi.tables.build`).

Each structure class carries a ``LAYOUT``: its fixed fields in byte order as
``(attribute, size, iasl label, kind)`` where kind is ``u`` (little-endian
unsigned int), ``s`` (text, shown as iasl shows it) or ``b`` (bytes).  The
labels are the ones ``iasl -d`` prints (ACPICA common/dmtbinfo*.c), so the
text output can be diffed against iasl; ``fields()`` lists each field with its
absolute table offset.  ``tests/acpi/test_structs.py`` checks every LAYOUT
against the construct definitions in :mod:`sratplan.acpi.structs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from dataclasses import fields as dc_fields
from typing import ClassVar

from construct import Bytes, Renamed

from ..findings import Finding, Severity
from . import structs

__all__ = ["replace"]

# One listed field: (absolute offset, size, label, value, kind)
Field = tuple


def iasl_text(s: str) -> str:
    """A header text field the way iasl prints it: cut at the first NUL, and
    every byte outside printable ASCII shown as a space (ACPICA repairs such
    names before printing them, with an 'invalid ASCII' warning)."""
    out = []
    for ch in s:
        if ch == "\0":
            break
        out.append(ch if " " <= ch <= "~" else " ")
    return "".join(out)


def finding(code: str, severity: str, message: str, **where) -> Finding:
    """A :class:`~sratplan.findings.Finding`; severity given by value
    ("info", "warning", "error")."""
    return Finding(code, Severity(severity), message, **where)


def layout_of(cstruct, rename=None) -> tuple:
    """The LAYOUT of a construct Struct: its fields in byte order as
    ``(attribute, size, iasl label, kind)``; kind is ``u`` (little-endian
    unsigned int), ``s`` (header text, shown as iasl shows it) or ``b``
    (bytes).  The label is the field's construct docstring.  A nested
    ``header`` (the common ACPI header) is left out: it is its own record."""
    rename = rename or {}
    out = []
    for sc in cstruct.subcons:
        if sc.name == "header":
            continue
        inner = sc.subcon
        while isinstance(inner, Renamed):      # ``name / Type * "doc"`` nests one Renamed in another
            inner = inner.subcon
        if isinstance(inner, Bytes):
            kind = "s" if sc.name in structs.TEXT_FIELDS else "b"
        else:
            kind = "u"
        out.append((rename.get(sc.name, sc.name), sc.sizeof(), sc.docs, kind))
    return tuple(out)


def acpi_record(cstruct, *, name=None, rename=None, flags=(), flags_field="flags", kw_only=True, default=None):
    """Make ``cls`` a frozen record whose fixed fields are those of the
    construct Struct ``cstruct`` (declared once, in :mod:`.structs`): each
    Struct field that the base class does not already hold becomes an
    ``int``/``bytes``/``str`` field (``rename`` maps a Struct name to the
    attribute name where a decoded property takes the Struct's name), then
    the class's own annotated fields follow.  ``flags`` is the Struct's flag
    table ``((iasl label, mask), ...)`` of field ``flags_field``; ``default``
    gives every Struct-derived field a default (tables whose bytes may be
    cut short)."""

    def make(cls):
        layout = layout_of(cstruct, rename)
        inherited = set()
        for b in cls.__mro__[1:]:
            if "__dataclass_fields__" in b.__dict__:
                inherited |= set(b.__dataclass_fields__)
        own = dict(cls.__dict__.get("__annotations__", {}))
        ann = {}
        for attr, _size, _label, kind in layout:
            if attr not in inherited and attr not in own:
                ann[attr] = "int" if kind == "u" else ("str" if kind == "s" else "bytes")
                if default is not None:
                    setattr(cls, attr, default if kind == "u" else ("" if kind == "s" else b""))
        ann.update(own)
        cls.__annotations__ = ann
        cls.LAYOUT = layout
        cls.FLAGS = tuple(flags)
        cls.FLAGS_FIELD = flags_field
        cls.SIZE = sum(f[1] for f in layout)
        if name is not None:
            cls.NAME = name
        return dataclass(frozen=True, slots=True, kw_only=kw_only)(cls)

    return make


def record_fields(obj) -> tuple:
    """Field names of a record, in order."""
    return tuple(f.name for f in dc_fields(obj))


def _layout_fields(obj, base: int, limit: int) -> Iterator[Field]:
    off = base
    for attr, size, label, kind in obj.LAYOUT:
        if off + size > limit:
            return
        yield (off, size, label, getattr(obj, attr), kind)
        off += size


# --- the common ACPI header -------------------------------------------------

@acpi_record(structs.AcpiTableHeader, kw_only=False)
class AcpiHeader:
    """include/acpi/actbl.h: struct acpi_table_header.  Text fields hold the
    bytes as latin-1 (NUL padding kept)."""

    def fields(self) -> Iterator[Field]:
        return _layout_fields(self, 0, 36)


# --- subtables ---------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class Subtable:
    """A structure inside a table: where it is, its type, its declared length
    and its exact bytes (``raw`` is ``length`` bytes, or fewer when the table
    ends first)."""

    offset: int
    type: int
    length: int
    raw: bytes

    LAYOUT: ClassVar = ()
    NAME: ClassVar = "Unknown"
    FLAGS: ClassVar = ()
    FLAGS_FIELD: ClassVar = "flags"
    SIZE: ClassVar = 0

    @property
    def known_size(self) -> int:
        """Bytes of the fixed fields this decoder knows (the spec's size)."""
        return self.SIZE

    @property
    def extra(self) -> bytes:
        """Bytes past the fields this decoder knows (a longer-than-known subtable)."""
        return self.raw[self.known_size:]

    def fields(self) -> Iterator[Field]:
        return _layout_fields(self, self.offset, self.offset + min(self.length, len(self.raw)))

    def flag_names(self) -> tuple[tuple[str, int], ...]:
        """(iasl flag label, value) pairs that iasl prints under 'Flags (decoded
        below)': the bits of FLAGS_FIELD as the Struct's flag table names them."""
        if not self.FLAGS:
            return ()
        v = getattr(self, self.FLAGS_FIELD)
        return tuple((label, (v & mask) >> ((mask & -mask).bit_length() - 1)) for label, mask in self.FLAGS)


_SRAT_HDR = layout_of(structs.AcpiSubtableHeader)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownSubtable(Subtable):
    """A subtable kept raw: an unknown type, or one too short (or too truncated)
    to hold its known fields.  ``reason`` says which."""

    reason: str = "unknown type"
    header_layout: tuple = _SRAT_HDR

    def fields(self) -> Iterator[Field]:
        """The common header fields (type, length, ...) read from ``raw``."""
        pos = 0
        for _attr, size, label, kind in self.header_layout:
            if pos + size > len(self.raw):
                return
            yield (self.offset + pos, size, label, int.from_bytes(self.raw[pos:pos + size], "little"), kind)
            pos += size


@acpi_record(structs.AcpiSratCpuAffinity, name="Processor Local APIC/SAPIC Affinity", flags=structs.AcpiSratCpuAffinityFlags)
class SratCpuAffinity(Subtable):
    """actbl3.h struct acpi_srat_cpu_affinity (type 0, 16 bytes): x86 LAPIC,
    IA-64 SAPIC, and LoongArch cores."""

    @property
    def enabled(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_CPU_USE_AFFINITY)

    def pxm(self, srat_revision: int) -> int:
        """The proximity domain as Linux computes it (arch/x86/mm/srat.c:
        acpi_numa_processor_affinity_init): the high 24 bits count only when the
        SRAT header revision is >= 2."""
        if srat_revision >= 2:
            return self.proximity_domain_lo | (self.proximity_domain_hi << 8)
        return self.proximity_domain_lo


@acpi_record(structs.AcpiSratMemAffinity, name="Memory Affinity", flags=structs.AcpiSratMemAffinityFlags)
class SratMemAffinity(Subtable):
    """actbl3.h struct acpi_srat_mem_affinity (type 1, 40 bytes)."""

    @property
    def enabled(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_MEM_ENABLED)

    @property
    def hot_pluggable(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_MEM_HOT_PLUGGABLE)

    @property
    def non_volatile(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_MEM_NON_VOLATILE)

    @property
    def specific_purpose(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_MEM_SPEC_PURPOSE)

    @property
    def end(self) -> int:
        """Exclusive end address (may exceed 2**64 for a bogus entry)."""
        return self.base_address + self.address_length

    def pxm(self, srat_revision: int) -> int:
        """drivers/acpi/numa/srat.c:acpi_numa_memory_affinity_init masks the
        domain to 8 bits when the SRAT header revision is <= 1."""
        if srat_revision <= 1:
            return self.proximity_domain & 0xFF
        return self.proximity_domain


@acpi_record(structs.AcpiSratX2apicCpuAffinity, name="Processor Local x2APIC Affinity", flags=structs.AcpiSratX2apicCpuAffinityFlags)
class SratX2apicCpuAffinity(Subtable):
    """actbl3.h struct acpi_srat_x2apic_cpu_affinity (type 2, 24 bytes)."""

    @property
    def enabled(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_CPU_USE_AFFINITY)


@acpi_record(structs.AcpiSratGiccAffinity, name="GICC Affinity", flags=structs.AcpiSratGiccAffinityFlags)
class SratGiccAffinity(Subtable):
    """actbl3.h struct acpi_srat_gicc_affinity (type 3, 18 bytes, arm64)."""

    @property
    def enabled(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_GICC_ENABLED)


@acpi_record(structs.AcpiSratGicItsAffinity, name="GIC ITS Affinity")
class SratGicItsAffinity(Subtable):
    """actbl3.h struct acpi_srat_gic_its_affinity (type 4, 12 bytes)."""




@dataclass(frozen=True, slots=True)
class AcpiDeviceHandle:
    """actbl3.h struct acpi_srat_acpi_device_handle: _HID (8 chars) and _UID."""

    hid: str
    uid: int

    def __str__(self) -> str:
        return f"ACPI {iasl_text(self.hid)} UID {self.uid}"


@dataclass(frozen=True, slots=True)
class PciDeviceHandle:
    """actbl3.h struct acpi_srat_pci_device_handle: segment and BDF."""

    segment: int
    bus: int
    device: int
    function: int

    def __str__(self) -> str:
        return f"PCI {self.segment:04x}:{self.bus:02x}:{self.device:02x}.{self.function:x}"


@acpi_record(structs.AcpiSratGenericAffinity, rename={"device_handle": "device_handle_raw"}, flags=structs.AcpiSratGenericAffinityFlags)
class SratGenericAffinity(Subtable):
    """actbl3.h struct acpi_srat_generic_affinity: type 5 (Generic Initiator)
    and type 6 (Generic Port), 32 bytes.  ``device_handle`` is decoded per
    ``device_handle_type`` (0 ACPI, 1 PCI; other values keep the bytes)."""

    @property
    def NAME(self) -> str:  # noqa: N802 - mirrors the ClassVar of the other classes
        return "Generic Port Affinity" if self.type == 6 else "Generic Initiator Affinity"

    @property
    def device_handle(self):
        h = self.device_handle_raw
        if self.device_handle_type == 0 and len(h) == 16:
            return AcpiDeviceHandle(h[:8].decode("latin-1"), int.from_bytes(h[8:12], "little"))
        if self.device_handle_type == 1 and len(h) == 16:
            bdf = int.from_bytes(h[2:4], "little")
            return PciDeviceHandle(int.from_bytes(h[0:2], "little"), bdf >> 8, (bdf >> 3) & 0x1F, bdf & 7)
        return h

    @property
    def enabled(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_GENERIC_AFFINITY_ENABLED)

    @property
    def architectural_transactions(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_ARCHITECTURAL_TRANSACTIONS)


@acpi_record(structs.AcpiSratRintcAffinity, name="RINTC Affinity", flags=structs.AcpiSratRintcAffinityFlags)
class SratRintcAffinity(Subtable):
    """actbl3.h struct acpi_srat_rintc_affinity (type 7, 20 bytes, RISC-V)."""

    @property
    def enabled(self) -> bool:
        return bool(self.flags & structs.ACPI_SRAT_RINTC_ENABLED)


SRAT_CLASSES = {
    0: SratCpuAffinity,
    1: SratMemAffinity,
    2: SratX2apicCpuAffinity,
    3: SratGiccAffinity,
    4: SratGicItsAffinity,
    5: SratGenericAffinity,
    6: SratGenericAffinity,
    7: SratRintcAffinity,
}

# --- CEDT --------------------------------------------------------------------


_CEDT_HDR = layout_of(structs.AcpiCedtHeader)


@acpi_record(structs.AcpiCedtChbs, name="CXL Host Bridge Structure")
class CedtChbs(Subtable):
    """actbl1.h struct acpi_cedt_chbs (type 0): a CXL host bridge."""




@acpi_record(structs.AcpiCedtCfmws, name="CXL Fixed Memory Window Structure")
class CedtCfmws(Subtable):
    """actbl1.h struct acpi_cedt_cfmws (type 1): a CXL fixed memory window and
    its interleave target list (host bridge UIDs)."""

    targets: tuple


    @property
    def ways(self) -> int | None:
        """Number of interleave targets the encoded ``interleave_ways`` means
        (CXL ENIW: 0-4 -> 1..16, 8-10 -> 3, 6, 12); None if reserved."""
        e = self.interleave_ways
        if e <= 4:
            return 1 << e
        if 8 <= e <= 10:
            return 3 << (e - 8)
        return None

    @property
    def end(self) -> int:
        return self.base_hpa + self.window_size

    @property
    def extra(self) -> bytes:
        return self.raw[self.known_size + 4 * len(self.targets):]

    def fields(self):
        yield from _layout_fields(self, self.offset, self.offset + min(self.length, len(self.raw)))
        off = self.offset + self.known_size
        for i, t in enumerate(self.targets):
            yield (off, 4, "First Target" if i == 0 else "Next Target", t, "u")
            off += 4


CEDT_CLASSES = {0: CedtChbs, 1: CedtCfmws}

# --- HMAT --------------------------------------------------------------------


_HMAT_HDR = layout_of(structs.AcpiHmatStructure)


@acpi_record(structs.AcpiHmatProximityDomain, name="Memory Proximity Domain Attributes", flags=structs.AcpiHmatProximityDomainFlags)
class HmatProximityDomain(Subtable):
    """actbl1.h struct acpi_hmat_proximity_domain (type 0)."""




@acpi_record(structs.AcpiHmatLocality, name="System Locality Latency and Bandwidth Information", flags=structs.AcpiHmatLocalityFlags)
class HmatLocality(Subtable):
    """actbl1.h struct acpi_hmat_locality (type 1): latency/bandwidth matrix."""

    initiator_pds: tuple
    target_pds: tuple
    entries: tuple


    @property
    def extra(self) -> bytes:
        n = 4 * (len(self.initiator_pds) + len(self.target_pds)) + 2 * len(self.entries)
        return self.raw[self.known_size + n:]

    def fields(self):
        yield from _layout_fields(self, self.offset, self.offset + min(self.length, len(self.raw)))
        off = self.offset + self.known_size
        for v in self.initiator_pds:
            yield (off, 4, "Initiator Proximity Domain List", v, "u")
            off += 4
        for v in self.target_pds:
            yield (off, 4, "Target Proximity Domain List", v, "u")
            off += 4
        for v in self.entries:
            yield (off, 2, "Entry", v, "u")
            off += 2


@acpi_record(structs.AcpiHmatCache, name="Memory Side Cache Information", flags=structs.AcpiHmatCacheAttributes, flags_field="cache_attributes")
class HmatCache(Subtable):
    """actbl1.h struct acpi_hmat_cache (type 2): memory-side cache."""

    smbios_handles: tuple


    @property
    def extra(self) -> bytes:
        return self.raw[self.known_size + 2 * len(self.smbios_handles):]

    def fields(self):
        yield from _layout_fields(self, self.offset, self.offset + min(self.length, len(self.raw)))
        off = self.offset + self.known_size
        for v in self.smbios_handles:
            yield (off, 2, "SMBIOS Handle", v, "u")
            off += 2


HMAT_CLASSES = {0: HmatProximityDomain, 1: HmatLocality, 2: HmatCache}

# --- MSCT --------------------------------------------------------------------


@acpi_record(structs.AcpiMsctProximity, name="Proximity Domain Information", rename={"revision": "type"})
class MsctProximity(Subtable):
    """actbl2.h struct acpi_msct_proximity (22 bytes).  ``type`` holds the
    structure's Revision byte (the MSCT array has no type field)."""

    @property
    def revision(self) -> int:
        return self.type


# --- tables ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """One ACPI table.  ``raw`` is every byte the source held for it;
    ``instance`` is 1-based among tables of the same signature (SSDT1..n);
    ``address`` is the physical address when the source gives a real one."""

    signature: str
    header: AcpiHeader | None
    raw: bytes
    findings: tuple[Finding, ...] = ()
    address: int | None = None
    instance: int = 1
    path: str | None = None
    subtables: tuple = ()
    trailing: bytes = b""  # bytes inside header.length that the walk did not consume
    trailing_offset: int | None = None  # where the walk stopped (start of ``trailing``)
    LAYOUT: ClassVar = ()

    @property
    def name(self) -> str:
        """SRAT, or SRAT2 for a second instance (acpidump/acpixtract naming)."""
        return self.signature if self.instance == 1 else f"{self.signature}{self.instance}"

    @property
    def excess(self) -> bytes:
        """Bytes after the walked part: what the source held beyond the
        header's Table Length (or past the fixed header when Table Length is
        too small for it)."""
        if self.trailing_offset is None:
            return b""
        return self.raw[self.trailing_offset + len(self.trailing):]

    def fields(self) -> Iterator[Field]:
        """Header fields, then the table's own fixed fields (not subtables)."""
        if self.header is not None:
            yield from self.header.fields()
        yield from _layout_fields(self, 36, len(self.raw))


@acpi_record(structs.AcpiTableSrat, default=0)
class SratTable(Table):
    """actbl3.h struct acpi_table_srat and its subtables."""


    @property
    def revision(self) -> int:
        """The ACPI header revision, which Linux uses as acpi_srat_revision."""
        return self.header.revision if self.header else 0

    def memory(self) -> list[SratMemAffinity]:
        return [s for s in self.subtables if isinstance(s, SratMemAffinity)]


@acpi_record(structs.AcpiTableSlit, default=0)
class SlitTable(Table):
    """actbl3.h struct acpi_table_slit: ``entry[i][j]`` is the relative
    distance from locality i to j.  Rows the table is too short for are absent."""

    entry: tuple = ()

    def fields(self):
        yield from Table.fields(self)
        off = 44
        for i, row in enumerate(self.entry):
            yield (off, len(row), f"Locality {i:3d}", bytes(row), "b")
            off += len(row)


@acpi_record(structs.AcpiTableMsct, default=0)
class MsctTable(Table):
    """actbl2.h struct acpi_table_msct; ``subtables`` are MsctProximity."""


    @property
    def proximity(self) -> tuple:
        return self.subtables


@dataclass(frozen=True, slots=True, kw_only=True)
class CedtTable(Table):
    """actbl1.h struct acpi_table_cedt; ``structures`` are CHBS/CFMWS/unknown."""

    @property
    def structures(self) -> tuple:
        return self.subtables

    def windows(self) -> list[CedtCfmws]:
        return [s for s in self.subtables if isinstance(s, CedtCfmws)]


@acpi_record(structs.AcpiTableHmat, default=0)
class HmatTable(Table):
    """actbl1.h struct acpi_table_hmat, decoded at structure level."""


    @property
    def structures(self) -> tuple:
        return self.subtables


TABLE_NAMES = {
    "SRAT": "System Resource Affinity Table",
    "SLIT": "System Locality Information Table",
    "MSCT": "Maximum System Characteristics Table",
    "CEDT": "CXL Early Discovery Table",
    "HMAT": "Heterogeneous Memory Attributes Table",
}
