"""Build synthetic tables for tests from field dicts, with the construct
definitions (no byte soup): length and checksum are filled in."""

from __future__ import annotations

from sratplan.acpi import structs as S


def header(sig: str, length: int, revision: int = 3) -> dict:
    return dict(signature=sig.encode(), length=length, revision=revision, checksum=0,
                oem_id=b"SRTPLN", oem_table_id=b"TESTTABL", oem_revision=1,
                asl_compiler_id=b"TEST", asl_compiler_revision=1)


def fix_checksum(b: bytes) -> bytes:
    b = bytearray(b)
    b[9] = 0
    b[9] = (-sum(b)) & 0xFF
    return bytes(b)


def cpu(pxm=0, apic=0, flags=1, hi=0, length=16) -> bytes:
    b = S.AcpiSratCpuAffinity.build(dict(type=0, length=length, proximity_domain_lo=pxm, apic_id=apic,
                                         flags=flags, local_sapic_eid=0, proximity_domain_hi=hi,
                                         clock_domain=0))
    return (b + bytes(max(0, length - 16)))[:length]


def mem(pxm=0, base=0, size=0x80000000, flags=1, length=40, reserved=0, reserved1=0, reserved2=0) -> bytes:
    b = S.AcpiSratMemAffinity.build(dict(type=1, length=length, proximity_domain=pxm, reserved=reserved,
                                         base_address=base, address_length=size, reserved1=reserved1, flags=flags,
                                         reserved2=reserved2))
    return (b + bytes(max(0, length - 40)))[:length]


def x2apic(pxm=0, apic=0, flags=1) -> bytes:
    return S.AcpiSratX2apicCpuAffinity.build(dict(type=2, length=24, reserved=0, proximity_domain=pxm,
                                                  apic_id=apic, flags=flags, clock_domain=0, reserved2=0))


def generic(typ=5, pxm=0, handle_type=1, handle=bytes(16), flags=1) -> bytes:
    return S.AcpiSratGenericAffinity.build(dict(type=typ, length=32, reserved=0, device_handle_type=handle_type,
                                                proximity_domain=pxm, device_handle=handle, flags=flags,
                                                reserved1=0))


def srat(*subs: bytes, revision: int = 3, table_revision: int = 1, tail: bytes = b"",
         length: int | None = None) -> bytes:
    body = b"".join(subs) + tail
    n = 48 + len(body) if length is None else length
    h = S.AcpiTableSrat.build(dict(header=header("SRAT", n, revision), table_revision=table_revision,
                                   reserved=0))
    return fix_checksum(h + body)


def slit(rows) -> bytes:
    n = len(rows)
    body = bytes(d for r in rows for d in r)
    h = S.AcpiTableSlit.build(dict(header=header("SLIT", 44 + len(body), 1), locality_count=n))
    return fix_checksum(h + body)
