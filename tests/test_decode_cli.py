"""`sratplan decode` end to end: every real table in every form, output
formats, exit codes, and nothing written next to the inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sratplan.cli import main

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
DSL = ROOT / "fixtures" / "dsl"
DELL = REAL / "srat" / "Dell_Precision-Tower-5810_998589835EA1.SRAT.bin"


def _all_inputs():
    real = [p for p in sorted(REAL.rglob("*")) if p.is_file() and p.stat().st_size > 0
            and p.parent.name in ("srat", "acpidump") or (p.is_file() and "qemu" in p.parts and p.suffix != ".md"
                                                          and p.stat().st_size > 0)]
    return real + sorted(DSL.rglob("*.dsl"))


def test_every_real_input_decodes(capsys):
    paths = [str(p) for p in _all_inputs()]
    assert len(paths) > 200
    rc = main(["decode", *paths, "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == "sratplan.decode/1" and out["errors"] == []
    assert len(out["sources"]) == len(paths)
    # exactly one input set carries an error-level finding: the malformed Dell SRAT
    # (as a binary, as its .dsl, and inside the Dell decoded dump)
    bad = sorted({Path(s["path"]).name for s in out["sources"]
                  for f in s["findings"] + [f for t in s["tables"] for f in t["findings"]]
                  if f["severity"] == "error"})
    assert bad == ["Dell_Precision-Tower-5810_998589835EA1.SRAT.bin",
                   "Dell_Precision-Tower-5810_998589835EA1.SRAT.bin.dsl",
                   "Dell_Precision-Tower-5810_998589835EA1.noaml.decoded.txt"]
    assert rc == 1


def test_text_output_has_iasl_labels_and_summary(capsys):
    rc = main(["decode", str(REAL / "srat" / "Microsoft_HyperV-Gen2-VM_coreos-sosreport.SRAT.bin")])
    out = capsys.readouterr().out
    assert rc == 0
    assert '[000h 0000 004h]                   Signature : "SRAT"    [System Resource Affinity Table]' in out
    assert "                               Hot Pluggable : 1" in out
    # summary: every enabled range, PXM first, with flags
    assert "PXM" in out and "hotplug" in out and "Disabled memory entries:" in out


def test_zero_length_exit_status_and_finding(capsys):
    rc = main(["decode", str(DELL)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "SRAT_ZERO_LENGTH_SUBTABLE" in out and "\nInvalid zero length subtable\n" in out


def test_table_filter_and_markdown(capsys):
    dump = REAL / "acpidump" / "Supermicro_H8DGU_57ED146F2C3C.txt"
    rc = main(["decode", str(dump), "--table", "slit", "--format", "markdown"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "### SLIT" in out and "### SRAT" not in out and "```" in out


def test_json_fields(capsys):
    main(["decode", str(ROOT / "fixtures" / "aml" / "srat-all-types.aml"), "--format", "json"])
    t = json.loads(capsys.readouterr().out)["sources"][0]["tables"][0]
    subs = t["subtables"]
    assert subs[2]["base_address"] == "0x0" and subs[3]["address_length"] == "0x7ff00000"
    assert subs[4]["hot_pluggable"] is True
    assert subs[12]["device_handle"] == {"kind": "acpi", "hid": "ACPI0016", "uid": 7}
    assert subs[13]["device_handle"]["kind"] == "pci"
    assert t["header"]["revision"] == 3 and t["table_revision"] == 1


def test_unreadable_input_exit_2(tmp_path, capsys):
    rc = main(["decode", str(tmp_path / "nope"), str(DELL)])
    cap = capsys.readouterr()
    assert rc == 2
    assert "no such file" in cap.err
    assert "SRAT_ZERO_LENGTH_SUBTABLE" in cap.out  # the other input is still shown


def test_console_script_and_inputs_untouched(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "SRAT").write_bytes(DELL.read_bytes())
    before = sorted(p.name for p in src.iterdir())
    r = subprocess.run([sys.executable, "-m", "sratplan", "decode", str(src / "SRAT")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "SRAT_ZERO_LENGTH_SUBTABLE" in r.stdout
    assert sorted(p.name for p in src.iterdir()) == before
    assert (src / "SRAT").read_bytes() == DELL.read_bytes()


@pytest.mark.parametrize("bad", [b"", b"SRAT", b"\x00" * 100, b"SRAT\xff\xff\xff\xff" + bytes(40)])
def test_bad_bytes_never_crash(tmp_path, capsys, bad):
    p = tmp_path / "t.bin"
    p.write_bytes(bad)
    rc = main(["decode", str(p)])
    assert rc in (0, 1, 2)
