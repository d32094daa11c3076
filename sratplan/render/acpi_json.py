"""JSON form of ``sratplan decode`` (schema ``sratplan.decode/1``, documented
in docs/decode-json.md)."""

from __future__ import annotations

from ..acpi import model as m

SCHEMA = "sratplan.decode/1"


def _val(value, size, kind):
    if kind == "s":
        return value
    if kind == "b":
        return value.hex()
    if size == 8:
        return f"0x{value:x}"  # 64-bit values as hex strings: JSON numbers lose precision past 2**53
    return value


def _attr_name(attr):
    return attr


def struct_json(obj) -> dict:
    d = {}
    for attr, size, _label, kind in obj.LAYOUT:
        if hasattr(obj, attr):
            d[_attr_name(attr)] = _val(getattr(obj, attr), size, kind)
    return d


def subtable_json(s: m.Subtable) -> dict:
    d = {"offset": s.offset, "type": s.type, "length": s.length}
    if isinstance(s, m.UnknownSubtable):
        d["name"] = "unknown"
        d["reason"] = s.reason
        d["raw"] = s.raw.hex()
        return d
    d["name"] = s.NAME
    d.update(struct_json(s))
    for k in ("type", "length"):
        d[k] = getattr(s, k)
    if isinstance(s, m.MsctProximity):
        d.pop("type")
        d["revision"] = s.revision
    if isinstance(s, m.SratMemAffinity):
        d.update(enabled=s.enabled, hot_pluggable=s.hot_pluggable, non_volatile=s.non_volatile,
                 specific_purpose=s.specific_purpose, end=f"0x{s.end:x}")
    elif isinstance(s, m.SratCpuAffinity):
        d.update(enabled=s.enabled)
    elif isinstance(s, (m.SratX2apicCpuAffinity, m.SratGiccAffinity, m.SratRintcAffinity)):
        d.update(enabled=s.enabled)
    elif isinstance(s, m.SratGenericAffinity):
        h = s.device_handle
        if isinstance(h, m.AcpiDeviceHandle):
            d["device_handle"] = {"kind": "acpi", "hid": m.iasl_text(h.hid), "uid": h.uid}
        elif isinstance(h, m.PciDeviceHandle):
            d["device_handle"] = {"kind": "pci", "segment": h.segment, "bus": h.bus, "device": h.device,
                                  "function": h.function}
        else:
            d["device_handle"] = {"kind": "unknown", "raw": bytes(h).hex()}
        d.update(enabled=s.enabled, architectural_transactions=s.architectural_transactions)
    elif isinstance(s, m.CedtCfmws):
        d.update(targets=list(s.targets), ways=s.ways)
    elif isinstance(s, m.HmatLocality):
        d.update(initiator_pds=list(s.initiator_pds), target_pds=list(s.target_pds), entries=list(s.entries))
    elif isinstance(s, m.HmatCache):
        d.update(smbios_handles=list(s.smbios_handles))
    extra = s.extra
    if extra:
        d["extra"] = extra.hex()
    return d


def table_json(t: m.Table) -> dict:
    d = {"signature": t.signature, "name": t.name, "instance": t.instance,
         "address": None if t.address is None else f"0x{t.address:x}", "size": len(t.raw)}
    if t.header is not None:
        d["header"] = struct_json(t.header)
    d.update(struct_json(t))
    if isinstance(t, m.SlitTable):
        d["entry"] = [list(r) for r in t.entry]
    if t.subtables:
        key = "proximity" if isinstance(t, m.MsctTable) else "subtables"
        d[key] = [subtable_json(s) for s in t.subtables]
    if t.trailing:
        d["trailing"] = {"offset": t.trailing_offset, "raw": t.trailing.hex()}
    d["findings"] = [f.to_json() for f in t.findings]
    return d


def tableset_json(ts, only=None) -> dict:
    return {
        "path": ts.source,
        "format": ts.format,
        "tables": [table_json(t) for t in ts if not only or t.signature in only],
        "findings": [f.to_json() for f in ts.findings],
    }


def document(tablesets, errors=(), only=None) -> dict:
    return {"schema": SCHEMA, "sources": [tableset_json(ts, only) for ts in tablesets],
            "errors": list(errors)}
