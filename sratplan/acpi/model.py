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

# typing is not imported at run time (annotations stay strings): it is
# ~3 ms of every start of the CLI.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import ClassVar

    from ..findings import Finding

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
    ("info", "warning", "error").  The findings module (an enum and a
    dataclass) is imported on the first finding, not before: a clean table
    never needs it."""
    from ..findings import Finding, Severity

    return Finding(code, Severity(severity), message, **where)


def _frozen(obj, name):
    # dataclasses is imported only when someone tries to mutate a record
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(f"cannot assign to field {name!r}")


class _Record:
    """Base of the frozen value classes below: slots, equality and hash over
    the fields, a dataclass-style repr, and no assignment after construction.

    They behave like ``@dataclass(frozen=True, slots=True)`` classes (and
    raise ``dataclasses.FrozenInstanceError`` on assignment) but are made by
    :func:`_record`, which generates no code: creating some twenty dataclasses
    cost more than decoding a 10,000-entry SRAT, on every run of the CLI.
    ``replace()`` stands for ``dataclasses.replace``."""

    __slots__ = ()
    _FIELDS: ClassVar[tuple] = ()
    _DEFAULTS: ClassVar[dict] = {}
    _KW_ONLY: ClassVar[bool] = False
    _SIZE: ClassVar[int] = 0  # bytes of LAYOUT

    def __init__(self, *args, **kw):
        names = self._FIELDS
        if args:
            if self._KW_ONLY or len(args) > len(names):
                raise TypeError(f"{type(self).__name__}() takes {0 if self._KW_ONLY else len(names)} "
                                f"positional arguments but {len(args)} were given")
            for n, v in zip(names, args):
                if n in kw:
                    raise TypeError(f"{type(self).__name__}() got multiple values for argument {n!r}")
                kw[n] = v
        set_ = object.__setattr__
        defaults = self._DEFAULTS
        for n in names:
            if n in kw:
                set_(self, n, kw.pop(n))
            elif n in defaults:
                set_(self, n, defaults[n])
            else:
                raise TypeError(f"{type(self).__name__}() missing required argument: {n!r}")
        if kw:
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {next(iter(kw))!r}")

    def _values(self) -> tuple:
        return tuple([getattr(self, n) for n in self._FIELDS])

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self):
        return hash(self._values())

    def __repr__(self):
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._FIELDS)})"

    def __setattr__(self, name, value):
        raise _frozen(self, name)

    def __delattr__(self, name):
        raise _frozen(self, name)

    def __getstate__(self):
        return self._values()

    def __setstate__(self, state):
        for n, v in zip(self._FIELDS, state):
            object.__setattr__(self, n, v)


def _record(kw_only: bool = False):
    """Make ``cls`` (a class body with annotated fields, like a dataclass) a
    slotted :class:`_Record`: fields are the annotations that are not
    ``ClassVar``, after the base class's fields; class-level values of those
    fields are their defaults."""

    def make(cls):
        own = [n for n, ann in cls.__dict__.get("__annotations__", {}).items()
               if not str(ann).startswith(("ClassVar", "typing.ClassVar"))]
        ns = {k: v for k, v in cls.__dict__.items() if k not in own and k not in ("__dict__", "__weakref__")}
        defaults = dict(getattr(cls, "_DEFAULTS", {}))
        defaults.update({n: cls.__dict__[n] for n in own if n in cls.__dict__})
        ns["__slots__"] = tuple(own)
        ns["_FIELDS"] = tuple(getattr(cls, "_FIELDS", ())) + tuple(own)
        ns["_DEFAULTS"] = defaults
        ns["_KW_ONLY"] = kw_only
        ns["_SIZE"] = sum(f[1] for f in ns.get("LAYOUT", getattr(cls, "LAYOUT", ())))
        bases = cls.__bases__ if issubclass(cls, _Record) else (_Record,)
        return type(cls)(cls.__name__, bases, ns)

    return make


def replace(obj, **changes):
    """A copy of a record with some fields changed (``dataclasses.replace``)."""
    for k in changes:
        if k not in obj._FIELDS:
            raise TypeError(f"{type(obj).__name__} has no field {k!r}")
    return type(obj)(**{n: changes[n] if n in changes else getattr(obj, n) for n in obj._FIELDS})


def _layout_fields(obj, base: int, limit: int) -> Iterator[Field]:
    off = base
    for attr, size, label, kind in obj.LAYOUT:
        if off + size > limit:
            return
        yield (off, size, label, getattr(obj, attr), kind)
        off += size


# --- the common ACPI header -------------------------------------------------

@_record()
class AcpiHeader:
    """include/acpi/actbl.h: struct acpi_table_header.  Text fields hold the
    bytes as latin-1 (NUL padding kept)."""

    signature: str
    length: int
    revision: int
    checksum: int
    oem_id: str
    oem_table_id: str
    oem_revision: int
    asl_compiler_id: str
    asl_compiler_revision: int

    LAYOUT: ClassVar = (
        ("signature", 4, "Signature", "s"),
        ("length", 4, "Table Length", "u"),
        ("revision", 1, "Revision", "u"),
        ("checksum", 1, "Checksum", "u"),
        ("oem_id", 6, "Oem ID", "s"),
        ("oem_table_id", 8, "Oem Table ID", "s"),
        ("oem_revision", 4, "Oem Revision", "u"),
        ("asl_compiler_id", 4, "Asl Compiler ID", "s"),
        ("asl_compiler_revision", 4, "Asl Compiler Revision", "u"),
    )

    def fields(self) -> Iterator[Field]:
        return _layout_fields(self, 0, 36)


# --- subtables ---------------------------------------------------------------

@_record(kw_only=True)
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

    @property
    def known_size(self) -> int:
        """Bytes of the fixed fields this decoder knows (the spec's size)."""
        return self._SIZE

    @property
    def extra(self) -> bytes:
        """Bytes past the fields this decoder knows (a longer-than-known subtable)."""
        return self.raw[self.known_size:]

    def fields(self) -> Iterator[Field]:
        return _layout_fields(self, self.offset, self.offset + min(self.length, len(self.raw)))

    def flag_names(self) -> tuple[tuple[str, int], ...]:
        """(iasl flag label, value) pairs that iasl prints under 'Flags (decoded below)'."""
        return ()


_SRAT_HDR = (("type", 1, "Subtable Type", "u"), ("length", 1, "Length", "u"))


@_record(kw_only=True)
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


@_record(kw_only=True)
class SratCpuAffinity(Subtable):
    """actbl3.h struct acpi_srat_cpu_affinity (type 0, 16 bytes): x86 LAPIC,
    IA-64 SAPIC, and LoongArch cores."""

    proximity_domain_lo: int
    apic_id: int
    flags: int
    local_sapic_eid: int
    proximity_domain_hi: int
    clock_domain: int

    NAME: ClassVar = "Processor Local APIC/SAPIC Affinity"
    LAYOUT: ClassVar = _SRAT_HDR + (
        ("proximity_domain_lo", 1, "Proximity Domain Low(8)", "u"),
        ("apic_id", 1, "Apic ID", "u"),
        ("flags", 4, "Flags (decoded below)", "u"),
        ("local_sapic_eid", 1, "Local Sapic EID", "u"),
        ("proximity_domain_hi", 3, "Proximity Domain High(24)", "u"),
        ("clock_domain", 4, "Clock Domain", "u"),
    )

    @property
    def enabled(self) -> bool:
        return bool(self.flags & 1)

    def pxm(self, srat_revision: int) -> int:
        """The proximity domain as Linux computes it (arch/x86/mm/srat.c:
        acpi_numa_processor_affinity_init): the high 24 bits count only when the
        SRAT header revision is >= 2."""
        if srat_revision >= 2:
            return self.proximity_domain_lo | (self.proximity_domain_hi << 8)
        return self.proximity_domain_lo

    def flag_names(self):
        return (("Enabled", self.flags & 1),)


@_record(kw_only=True)
class SratMemAffinity(Subtable):
    """actbl3.h struct acpi_srat_mem_affinity (type 1, 40 bytes)."""

    proximity_domain: int
    reserved: int
    base_address: int
    address_length: int
    reserved1: int
    flags: int
    reserved2: int

    NAME: ClassVar = "Memory Affinity"
    LAYOUT: ClassVar = _SRAT_HDR + (
        ("proximity_domain", 4, "Proximity Domain", "u"),
        ("reserved", 2, "Reserved1", "u"),
        ("base_address", 8, "Base Address", "u"),
        ("address_length", 8, "Address Length", "u"),
        ("reserved1", 4, "Reserved2", "u"),
        ("flags", 4, "Flags (decoded below)", "u"),
        ("reserved2", 8, "Reserved3", "u"),
    )

    @property
    def enabled(self) -> bool:
        return bool(self.flags & 1)

    @property
    def hot_pluggable(self) -> bool:
        return bool(self.flags & 2)

    @property
    def non_volatile(self) -> bool:
        return bool(self.flags & 4)

    @property
    def specific_purpose(self) -> bool:
        return bool(self.flags & 8)

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

    def flag_names(self):
        return (
            ("Enabled", self.flags & 1),
            ("Hot Pluggable", (self.flags >> 1) & 1),
            ("Non-Volatile", (self.flags >> 2) & 1),
            ("Specific Purpose", (self.flags >> 3) & 1),
        )


@_record(kw_only=True)
class SratX2apicCpuAffinity(Subtable):
    """actbl3.h struct acpi_srat_x2apic_cpu_affinity (type 2, 24 bytes)."""

    reserved: int
    proximity_domain: int
    apic_id: int
    flags: int
    clock_domain: int
    reserved2: int

    NAME: ClassVar = "Processor Local x2APIC Affinity"
    LAYOUT: ClassVar = _SRAT_HDR + (
        ("reserved", 2, "Reserved1", "u"),
        ("proximity_domain", 4, "Proximity Domain", "u"),
        ("apic_id", 4, "Apic ID", "u"),
        ("flags", 4, "Flags (decoded below)", "u"),
        ("clock_domain", 4, "Clock Domain", "u"),
        ("reserved2", 4, "Reserved2", "u"),
    )

    @property
    def enabled(self) -> bool:
        return bool(self.flags & 1)

    def flag_names(self):
        return (("Enabled", self.flags & 1),)


@_record(kw_only=True)
class SratGiccAffinity(Subtable):
    """actbl3.h struct acpi_srat_gicc_affinity (type 3, 18 bytes, arm64)."""

    proximity_domain: int
    acpi_processor_uid: int
    flags: int
    clock_domain: int

    NAME: ClassVar = "GICC Affinity"
    LAYOUT: ClassVar = _SRAT_HDR + (
        ("proximity_domain", 4, "Proximity Domain", "u"),
        ("acpi_processor_uid", 4, "Acpi Processor UID", "u"),
        ("flags", 4, "Flags (decoded below)", "u"),
        ("clock_domain", 4, "Clock Domain", "u"),
    )

    @property
    def enabled(self) -> bool:
        return bool(self.flags & 1)

    def flag_names(self):
        return (("Enabled", self.flags & 1),)


@_record(kw_only=True)
class SratGicItsAffinity(Subtable):
    """actbl3.h struct acpi_srat_gic_its_affinity (type 4, 12 bytes)."""

    proximity_domain: int
    reserved: int
    its_id: int

    NAME: ClassVar = "GIC ITS Affinity"
    LAYOUT: ClassVar = _SRAT_HDR + (
        ("proximity_domain", 4, "Proximity Domain", "u"),
        ("reserved", 2, "Reserved", "u"),
        ("its_id", 4, "ITS ID", "u"),
    )


@_record()
class AcpiDeviceHandle:
    """actbl3.h struct acpi_srat_acpi_device_handle: _HID (8 chars) and _UID."""

    hid: str
    uid: int

    def __str__(self) -> str:
        return f"ACPI {iasl_text(self.hid)} UID {self.uid}"


@_record()
class PciDeviceHandle:
    """actbl3.h struct acpi_srat_pci_device_handle: segment and BDF."""

    segment: int
    bus: int
    device: int
    function: int

    def __str__(self) -> str:
        return f"PCI {self.segment:04x}:{self.bus:02x}:{self.device:02x}.{self.function:x}"


@_record(kw_only=True)
class SratGenericAffinity(Subtable):
    """actbl3.h struct acpi_srat_generic_affinity: type 5 (Generic Initiator)
    and type 6 (Generic Port), 32 bytes.  ``device_handle`` is decoded per
    ``device_handle_type`` (0 ACPI, 1 PCI; other values keep the bytes)."""

    reserved: int
    device_handle_type: int
    proximity_domain: int
    device_handle_raw: bytes
    flags: int
    reserved1: int

    LAYOUT: ClassVar = _SRAT_HDR + (
        ("reserved", 1, "Reserved1", "u"),
        ("device_handle_type", 1, "Device Handle Type", "u"),
        ("proximity_domain", 4, "Proximity Domain", "u"),
        ("device_handle_raw", 16, "Device Handle", "b"),
        ("flags", 4, "Flags (decoded below)", "u"),
        ("reserved1", 4, "Reserved2", "u"),
    )

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
        return bool(self.flags & 1)

    @property
    def architectural_transactions(self) -> bool:
        return bool(self.flags & 2)

    def flag_names(self):
        return (("Enabled", self.flags & 1), ("Architectural Transactions", (self.flags >> 1) & 1))


@_record(kw_only=True)
class SratRintcAffinity(Subtable):
    """actbl3.h struct acpi_srat_rintc_affinity (type 7, 20 bytes, RISC-V)."""

    reserved: int
    proximity_domain: int
    acpi_processor_uid: int
    flags: int
    clock_domain: int

    NAME: ClassVar = "RINTC Affinity"
    LAYOUT: ClassVar = _SRAT_HDR + (
        ("reserved", 2, "Reserved", "u"),
        ("proximity_domain", 4, "Proximity Domain", "u"),
        ("acpi_processor_uid", 4, "Acpi Processor UID", "u"),
        ("flags", 4, "Flags (decoded below)", "u"),
        ("clock_domain", 4, "Clock Domain", "u"),
    )

    @property
    def enabled(self) -> bool:
        return bool(self.flags & 1)

    def flag_names(self):
        return (("Enabled", self.flags & 1),)


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

_CEDT_HDR = (("type", 1, "Subtable Type", "u"), ("reserved", 1, "Reserved", "u"), ("length", 2, "Length", "u"))


@_record(kw_only=True)
class CedtChbs(Subtable):
    """actbl1.h struct acpi_cedt_chbs (type 0): a CXL host bridge."""

    reserved: int
    uid: int
    cxl_version: int
    reserved2: int
    base: int
    register_length: int

    NAME: ClassVar = "CXL Host Bridge Structure"
    LAYOUT: ClassVar = _CEDT_HDR + (
        ("uid", 4, "Associated host bridge", "u"),
        ("cxl_version", 4, "Specification version", "u"),
        ("reserved2", 4, "Reserved", "u"),
        ("base", 8, "Register base", "u"),
        ("register_length", 8, "Register length", "u"),
    )


@_record(kw_only=True)
class CedtCfmws(Subtable):
    """actbl1.h struct acpi_cedt_cfmws (type 1): a CXL fixed memory window and
    its interleave target list (host bridge UIDs)."""

    reserved: int
    reserved1: int
    base_hpa: int
    window_size: int
    interleave_ways: int
    interleave_arithmetic: int
    reserved2: int
    granularity: int
    restrictions: int
    qtg_id: int
    targets: tuple

    NAME: ClassVar = "CXL Fixed Memory Window Structure"
    LAYOUT: ClassVar = _CEDT_HDR + (
        ("reserved1", 4, "Reserved", "u"),
        ("base_hpa", 8, "Window base address", "u"),
        ("window_size", 8, "Window size", "u"),
        ("interleave_ways", 1, "Interleave Members", "u"),
        ("interleave_arithmetic", 1, "Interleave Arithmetic", "u"),
        ("reserved2", 2, "Reserved", "u"),
        ("granularity", 4, "Granularity", "u"),
        ("restrictions", 2, "Restrictions", "u"),
        ("qtg_id", 2, "QtgId", "u"),
    )

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

_HMAT_HDR = (("type", 2, "Structure Type", "u"), ("reserved", 2, "Reserved", "u"), ("length", 4, "Length", "u"))


@_record(kw_only=True)
class HmatProximityDomain(Subtable):
    """actbl1.h struct acpi_hmat_proximity_domain (type 0)."""

    reserved: int
    flags: int
    reserved1: int
    processor_pd: int
    memory_pd: int
    reserved2: int
    reserved3: int
    reserved4: int

    NAME: ClassVar = "Memory Proximity Domain Attributes"
    LAYOUT: ClassVar = _HMAT_HDR + (
        ("flags", 2, "Flags (decoded below)", "u"),
        ("reserved1", 2, "Reserved1", "u"),
        ("processor_pd", 4, "Attached Initiator Proximity Domain", "u"),
        ("memory_pd", 4, "Memory Proximity Domain", "u"),
        ("reserved2", 4, "Reserved2", "u"),
        ("reserved3", 8, "Reserved3", "u"),
        ("reserved4", 8, "Reserved4", "u"),
    )

    def flag_names(self):
        return (("Processor Proximity Domain Valid", self.flags & 1),)


@_record(kw_only=True)
class HmatLocality(Subtable):
    """actbl1.h struct acpi_hmat_locality (type 1): latency/bandwidth matrix."""

    reserved: int
    flags: int
    data_type: int
    min_transfer_size: int
    reserved1: int
    number_of_initiator_pds: int
    number_of_target_pds: int
    reserved2: int
    entry_base_unit: int
    initiator_pds: tuple
    target_pds: tuple
    entries: tuple

    NAME: ClassVar = "System Locality Latency and Bandwidth Information"
    LAYOUT: ClassVar = _HMAT_HDR + (
        ("flags", 1, "Flags (decoded below)", "u"),
        ("data_type", 1, "Data Type", "u"),
        ("min_transfer_size", 1, "Minimum Transfer Size", "u"),
        ("reserved1", 1, "Reserved1", "u"),
        ("number_of_initiator_pds", 4, "Initiator Proximity Domains #", "u"),
        ("number_of_target_pds", 4, "Target Proximity Domains #", "u"),
        ("reserved2", 4, "Reserved2", "u"),
        ("entry_base_unit", 8, "Entry Base Unit", "u"),
    )

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

    def flag_names(self):
        return (
            ("Memory Hierarchy", self.flags & 0xF),
            ("Use Minimum Transfer Size", (self.flags >> 4) & 1),
            ("Non-sequential Transfers", (self.flags >> 5) & 1),
        )


@_record(kw_only=True)
class HmatCache(Subtable):
    """actbl1.h struct acpi_hmat_cache (type 2): memory-side cache."""

    reserved: int
    memory_pd: int
    reserved1: int
    cache_size: int
    cache_attributes: int
    address_mode: int
    number_of_smbios_handles: int
    smbios_handles: tuple

    NAME: ClassVar = "Memory Side Cache Information"
    LAYOUT: ClassVar = _HMAT_HDR + (
        ("memory_pd", 4, "Memory Proximity Domain", "u"),
        ("reserved1", 4, "Reserved1", "u"),
        ("cache_size", 8, "Memory Side Cache Size", "u"),
        ("cache_attributes", 4, "Cache Attributes (decoded below)", "u"),
        ("address_mode", 2, "Address Mode", "u"),
        ("number_of_smbios_handles", 2, "SMBIOS Handle #", "u"),
    )

    @property
    def extra(self) -> bytes:
        return self.raw[self.known_size + 2 * len(self.smbios_handles):]

    def fields(self):
        yield from _layout_fields(self, self.offset, self.offset + min(self.length, len(self.raw)))
        off = self.offset + self.known_size
        for v in self.smbios_handles:
            yield (off, 2, "SMBIOS Handle", v, "u")
            off += 2

    def flag_names(self):
        a = self.cache_attributes
        return (
            ("Total Cache Levels", a & 0xF),
            ("Cache Level", (a >> 4) & 0xF),
            ("Cache Associativity", (a >> 8) & 0xF),
            ("Write Policy", (a >> 12) & 0xF),
            ("Cache Line Size", (a >> 16) & 0xFFFF),
        )


HMAT_CLASSES = {0: HmatProximityDomain, 1: HmatLocality, 2: HmatCache}

# --- MSCT --------------------------------------------------------------------


@_record(kw_only=True)
class MsctProximity(Subtable):
    """actbl2.h struct acpi_msct_proximity (22 bytes).  ``type`` holds the
    structure's Revision byte (the MSCT array has no type field)."""

    range_start: int
    range_end: int
    processor_capacity: int
    memory_capacity: int

    NAME: ClassVar = "Proximity Domain Information"
    LAYOUT: ClassVar = (
        ("type", 1, "Revision", "u"),
        ("length", 1, "Length", "u"),
        ("range_start", 4, "Domain Range Start", "u"),
        ("range_end", 4, "Domain Range End", "u"),
        ("processor_capacity", 4, "Processor Capacity", "u"),
        ("memory_capacity", 8, "Memory Capacity", "u"),
    )

    @property
    def revision(self) -> int:
        return self.type


# --- tables ------------------------------------------------------------------


@_record(kw_only=True)
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


@_record(kw_only=True)
class SratTable(Table):
    """actbl3.h struct acpi_table_srat and its subtables."""

    table_revision: int = 0
    reserved: int = 0
    LAYOUT: ClassVar = (
        ("table_revision", 4, "Table Revision", "u"),
        ("reserved", 8, "Reserved", "u"),
    )

    @property
    def revision(self) -> int:
        """The ACPI header revision, which Linux uses as acpi_srat_revision."""
        return self.header.revision if self.header else 0

    def memory(self) -> list[SratMemAffinity]:
        return [s for s in self.subtables if isinstance(s, SratMemAffinity)]


@_record(kw_only=True)
class SlitTable(Table):
    """actbl3.h struct acpi_table_slit: ``entry[i][j]`` is the relative
    distance from locality i to j.  Rows the table is too short for are absent."""

    locality_count: int = 0
    entry: tuple = ()
    LAYOUT: ClassVar = (("locality_count", 8, "Localities", "u"),)

    def fields(self):
        yield from Table.fields(self)
        off = 44
        for i, row in enumerate(self.entry):
            yield (off, len(row), f"Locality {i:3d}", bytes(row), "b")
            off += len(row)


@_record(kw_only=True)
class MsctTable(Table):
    """actbl2.h struct acpi_table_msct; ``subtables`` are MsctProximity."""

    proximity_offset: int = 0
    max_proximity_domains: int = 0
    max_clock_domains: int = 0
    max_address: int = 0
    LAYOUT: ClassVar = (
        ("proximity_offset", 4, "Proximity Offset", "u"),
        ("max_proximity_domains", 4, "Max Proximity Domains", "u"),
        ("max_clock_domains", 4, "Max Clock Domains", "u"),
        ("max_address", 8, "Max Physical Address", "u"),
    )

    @property
    def proximity(self) -> tuple:
        return self.subtables


@_record(kw_only=True)
class CedtTable(Table):
    """actbl1.h struct acpi_table_cedt; ``structures`` are CHBS/CFMWS/unknown."""

    @property
    def structures(self) -> tuple:
        return self.subtables

    def windows(self) -> list[CedtCfmws]:
        return [s for s in self.subtables if isinstance(s, CedtCfmws)]


@_record(kw_only=True)
class HmatTable(Table):
    """actbl1.h struct acpi_table_hmat, decoded at structure level."""

    reserved: int = 0
    LAYOUT: ClassVar = (("reserved", 4, "Reserved", "u"),)

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
