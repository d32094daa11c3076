"""Build inputs from fields (no byte soup): ACPI tables through the construct
definitions of :mod:`sratplan.acpi.structs`, their acpidump and ``iasl -d``
text forms, and zero pages.  Used by the malformed-corpus generator and the
robustness tests."""

from __future__ import annotations

import struct

from sratplan.acpi import structs as S


def header(sig: str, length: int, revision: int = 3, oem: bytes = b"SRTPLN") -> dict:
    return dict(signature=sig.encode("latin-1"), length=length, revision=revision, checksum=0,
                oem_id=oem, oem_table_id=b"MALFORMD", oem_revision=1,
                asl_compiler_id=b"FUZZ", asl_compiler_revision=1)


def checksum(b: bytes, upto: int | None = None) -> bytes:
    """Set byte 9 so that the first ``upto`` bytes (default all) sum to 0."""
    b = bytearray(b)
    b[9] = 0
    b[9] = (-sum(b[:upto if upto is not None else len(b)])) & 0xFF
    return bytes(b)


def cpu(pxm=0, apic=0, flags=1, hi=0, length=16) -> bytes:
    b = S.AcpiSratCpuAffinity.build(dict(type=0, length=length, proximity_domain_lo=pxm, apic_id=apic,
                                         flags=flags, local_sapic_eid=0, proximity_domain_hi=hi,
                                         clock_domain=0))
    return (b + bytes(max(0, length - 16)))[:max(length, 2)]


def mem(pxm=0, base=0, size=0x80000000, flags=1, length=40) -> bytes:
    """Memory affinity (type 1); ``flags`` 1 enabled, 2 hot pluggable, 4 non-volatile.
    ``length`` other than 40 pads with zeros or cuts the structure."""
    b = S.AcpiSratMemAffinity.build(dict(type=1, length=length & 0xFF, proximity_domain=pxm, reserved=0,
                                         base_address=base, address_length=size, reserved1=0, flags=flags,
                                         reserved2=0))
    return (b + bytes(max(0, length - 40)))[:length] if length >= 2 else b[:2]


def x2apic(pxm=0, apic=0, flags=1) -> bytes:
    return S.AcpiSratX2apicCpuAffinity.build(dict(type=2, length=24, reserved=0, proximity_domain=pxm,
                                                  apic_id=apic, flags=flags, clock_domain=0, reserved2=0))


def raw_sub(typ: int, length: int, body_len: int | None = None) -> bytes:
    """A structure of any type with the given Length byte and ``body_len``
    bytes in total (default: ``length``)."""
    n = length if body_len is None else body_len
    return bytes([typ & 0xFF, length & 0xFF]) + bytes(max(0, n - 2))


def srat(subs, *, revision: int = 3, length: int | None = None, tail: bytes = b"",
         good_checksum: bool = True, oem: bytes = b"SRTPLN") -> bytes:
    body = b"".join(subs) + tail
    n = 48 + len(body) if length is None else length
    h = S.AcpiTableSrat.build(dict(header=header("SRAT", n, revision, oem), table_revision=1, reserved=0))
    b = checksum(h + body, min(n, len(h + body)))
    if not good_checksum:
        b = b[:9] + bytes([(b[9] + 1) & 0xFF]) + b[10:]
    return b


def slit(rows) -> bytes:
    body = bytes(d for r in rows for d in r)
    h = S.AcpiTableSlit.build(dict(header=header("SLIT", 44 + len(body), 1), locality_count=len(rows)))
    return checksum(h + body)


def hex_lines(data: bytes, *, indent: str = "    ", sep: str = ": ") -> list[str]:
    """acpidump's ``OFFS: HH HH ...  ascii`` lines."""
    out = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        hx = " ".join(f"{c:02X}" for c in chunk)
        asc = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in chunk)
        out.append(f"{indent}{off:04X}{sep}{hx:<47}  {asc}")
    return out


def acpidump(tables, addr: int = 0x7FFE0000) -> str:
    """acpidump text for ``[(label, bytes), ...]``."""
    out = []
    for i, (label, data) in enumerate(tables):
        out.append(f"{label} @ 0x{addr + i * 0x1000:016X}")
        out += hex_lines(data)
        out.append("")
    return "\n".join(out) + "\n"


def dsl(data: bytes, declared: int | None = None) -> str:
    """The Raw Table Data block of an ``iasl -d`` listing."""
    n = len(data) if declared is None else declared
    lines = [f"Raw Table Data: Length {n} (0x{n:X})", ""]
    lines += [f"  {off:04X}: " + " ".join(f"{c:02X}" for c in data[off:off + 16])
              for off in range(0, len(data), 16)]
    return "\n".join(lines) + "\n"


def boot_params(entries, size: int = 4096, count: int | None = None) -> bytes:
    """A zero page with ``entries`` [(addr, size, type)] in its e820 table."""
    b = bytearray(max(size, 0x2D0 + 128 * 20))
    b[0x1E8] = len(entries) if count is None else count
    b[0x202:0x206] = b"HdrS"
    b[0x206:0x208] = (0x20F).to_bytes(2, "little")
    for i, (a, n, t) in enumerate(entries[:128]):
        struct.pack_into("<QQI", b, 0x2D0 + 20 * i, a, n, t)
    return bytes(b[:size])
