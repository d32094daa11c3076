"""Generate the malformed-input corpus in fixtures/malformed/ (issue 7).

One file per class of firmware or dump damage, each built from fields with
:mod:`fuzz.build` (never by editing bytes by hand).  Run from the repo root::

    python3 -m fuzz.make_malformed            # (re)write fixtures/malformed/
    python3 -m fuzz.make_malformed --check    # exit 1 if a file differs

``tests/test_malformed.py`` asserts the exact finding (or error) each file
produces and that the committed files are what this script makes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from fuzz import build as b  # noqa: E402

DEST = ROOT / "fixtures" / "malformed"
G = 1 << 30
M = 1 << 20


def _two_nodes():
    """A healthy two-node SRAT body: CPUs and memory on PXM 0 and 1."""
    return [b.cpu(0, 0), b.cpu(1, 1), b.mem(0, 0, 0xA0000), b.mem(0, M, 2 * G - M), b.mem(1, 4 * G, 2 * G)]


def _base(**kw) -> bytes:
    return b.srat(_two_nodes(), **kw)


def _e820_dmesg(prefix="[    0.000000] ") -> list[str]:
    return [f"{prefix}BIOS-provided physical RAM map:",
            f"{prefix}BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable",
            f"{prefix}BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved",
            f"{prefix}BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable"]


CASES: dict[str, tuple[str, object]] = {}


def case(name: str, what: str):
    def deco(fn):
        CASES[name] = (what, fn)
        return fn
    return deco


@case("srat-truncated-header.bin", "the first 20 bytes of an SRAT: not even the 36-byte ACPI header")
def _():
    return _base()[:20]


@case("srat-length-larger.bin", "Table Length says 64 bytes more than the file holds (a dump cut short)")
def _():
    t = _base()
    return b.srat(_two_nodes(), length=len(t) + 64)


@case("srat-length-smaller.bin", "Table Length stops before the last memory entry, which is still in the file")
def _():
    t = _base()
    return b.srat(_two_nodes(), length=len(t) - 40)


@case("srat-zero-length-mid.bin", "a memory entry with Length 0 in the middle (hung Linux before 2.6.39)")
def _():
    subs = _two_nodes()
    return b.srat(subs[:3] + [b.mem(0, M, 2 * G - M, length=0) + bytes(38)] + subs[4:])


@case("srat-zero-length-first.bin", "the very first structure has Length 0: the walk stops before any entry")
def _():
    return b.srat([b.raw_sub(1, 0, 40)] + _two_nodes())


@case("srat-subtable-past-end.bin", "the last memory entry claims 40 bytes but the table ends 24 bytes later")
def _():
    subs = _two_nodes()
    return b.srat(subs[:-1] + [subs[-1][:24]])


@case("srat-trailing-stub.bin", "one stray byte after the last structure (Linux never looks at it)")
def _():
    return b.srat(_two_nodes(), tail=b"\x00")


@case("srat-unknown-type.bin", "a structure of type 0x42 (no ACPI revision defines it), 16 bytes, kept raw")
def _():
    subs = _two_nodes()
    return b.srat(subs[:2] + [b.raw_sub(0x42, 16)] + subs[2:])


@case("srat-future-revision.bin", "a memory entry 48 bytes long: a future ACPI revision's bigger structure")
def _():
    subs = _two_nodes()
    return b.srat(subs[:4] + [b.mem(1, 4 * G, 2 * G, length=48)])


@case("srat-bad-checksum.bin", "a correct table whose checksum byte is off by one")
def _():
    return _base(good_checksum=False)


@case("srat-overlap.bin", "PXM 1's range overlaps PXM 0's, and PXM 0 repeats a piece of its own range")
def _():
    return b.srat([b.cpu(0, 0), b.cpu(1, 1), b.mem(0, 0, 4 * G), b.mem(1, 3 * G, 2 * G), b.mem(0, 2 * G, G)])


@case("srat-wraparound.bin", "an enabled range whose base + length runs past 2^64")
def _():
    subs = _two_nodes()
    return b.srat(subs + [b.mem(1, (1 << 64) - G, 2 * G)])


@case("srat-pxm-over-255-rev1.bin", "a revision-1 SRAT with memory in PXM 257 (Linux masks it to PXM 1)")
def _():
    return b.srat([b.cpu(0, 0), b.cpu(1, 1), b.mem(0, 0, 2 * G), b.mem(257, 4 * G, 2 * G)], revision=1)


@case("srat-2049-memory-entries.bin", "2,049 enabled memory entries of 128 MiB: one more than NR_NODE_MEMBLKS")
def _():
    mems = [b.mem(0, 0, 0xA0000), b.mem(0, M, G - M)]
    base = 4 * G
    for i in range(2047):
        mems.append(b.mem(i % 2, base, 128 * M))
        base += 128 * M
    return b.srat([b.cpu(0, 0), b.cpu(1, 1)] + mems)


@case("srat-padded-disabled.bin", "400 all-zero disabled memory entries after the real ones (BIOS padding)")
def _():
    return b.srat(_two_nodes() + [b.mem(0, 0, 0, flags=0)] * 400)


@case("srat-binary-creator-id.bin", "OEM ID and Creator ID made of non-ASCII bytes (as some HP tables have)")
def _():
    t = bytearray(_base(oem=b"\xff\x00HP\x01\x80"))
    t[28:32] = b"\x8b\x00\xfe\x01"      # Creator ID
    return b.checksum(bytes(t))


@case("acpidump-broken-hex.txt", "an acpidump text whose SRAT block has a hex line with a non-hex byte")
def _():
    text = b.acpidump([("SRAT", _base())])
    lines = text.split("\n")
    lines[3] = lines[3][:12] + "ZZ" + lines[3][14:]
    return "\n".join(lines).encode()


@case("acpidump-odd-offset.txt", "an acpidump text whose third hex line is labelled 0x21 instead of 0x20")
def _():
    text = b.acpidump([("SRAT", _base())])
    lines = text.split("\n")
    lines[3] = lines[3].replace("0020:", "0021:", 1)
    return "\n".join(lines).encode()


@case("acpidump-missing-tables.txt", "an acpidump of a SLIT and an SRAT block cut to its first 32 bytes: no "
                                     "usable SRAT")
def _():
    slit = b.slit([[10, 20], [20, 10]])
    return b.acpidump([("SLIT", slit), ("SRAT", _base()[:32])]).encode()


@case("dsl-length-mismatch.dsl", "an iasl -d Raw Table Data block that declares 16 bytes more than it holds")
def _():
    t = _base()
    return b.dsl(t, declared=len(t) + 16).encode()


@case("e820-dmesg-garbage.txt", "a 3.x-6.x dmesg e820 map with a garbled line and an unknown type name")
def _():
    lines = _e820_dmesg()
    lines.insert(2, "[    0.000000] BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffzz] reserved")
    lines.append("[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000017fffffff] sparkly")
    return ("\n".join(lines) + "\n").encode()


@case("e820-dmesg-7x-garbage.txt", "a 7.x e820 map (System RAM / device reserved, [gap] lines) with a "
                                   "garbled line")
def _():
    p = "[    0.000000] "
    lines = [f"{p}BIOS-provided physical RAM map:",
             f"{p}BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff]  System RAM",
             f"{p}BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff]  device reserved",
             f"{p}BIOS-e820: [gap 0x00000000000a0000-0x00000000000effff]",
             f"{p}BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff]  device reserved",
             f"{p}BIOS-e820: [mem 0x0000000000100000-0x00000000?fffffff]  System RAM",
             f"{p}BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff]  System RAM"]
    return ("\n".join(lines) + "\n").encode()


@case("e820-dmesg-old-garbage.txt", "a pre-3.x ' BIOS-e820: start - end (type)' map with a garbled line")
def _():
    lines = ["BIOS-provided physical RAM map:",
             " BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)",
             " BIOS-e820: 000000000009fc00 - 00000000000a0000 (reserved)",
             " BIOS-e820: 00000000000f0000 - 000000000010000 (reserved",
             " BIOS-e820: 0000000000100000 - 0000000080000000 (usable)"]
    return ("\n".join(lines) + "\n").encode()


@case("e820-memmap-garbage.txt", "a flattened /sys/firmware/memmap listing with an address beyond 2^64 "
                                 "and a type nobody defines")
def _():
    lines = ["0 0x0 0x9fbff System RAM",
             "1 0x9fc00 0x9ffff Reserved",
             "2 0x1ffffffffffffffff 0x1ffffffffffffffff Reserved",
             "3 0x100000 0x7fffffff System RAM",
             "4 0x80000000 0x8fffffff Sparkly RAM"]
    return ("\n".join(lines) + "\n").encode()


@case("e820-text-garbage.txt", "a hand-written map with a range whose last address is below its start")
def _():
    lines = ["# hand-written", "0x0-0x9fbff usable", "0x100000-0xfffff usable", "0x100000+0x7ff00000 usable",
             "banana"]
    return ("\n".join(lines) + "\n").encode()


@case("e820-json-garbage.json", "a JSON map with one entry whose start is not a number")
def _():
    doc = {"e820": [{"start": "0x0", "size": "0x9fc00", "type": "usable"},
                    {"start": "soon", "size": "0x1000", "type": "reserved"},
                    {"start": "0x100000", "size": "0x7ff00000", "type": "usable"}]}
    return (json.dumps(doc, indent=1) + "\n").encode()


@case("boot_params-short.bin", "a zero page cut to 1,024 bytes: the e820 table at 0x2d0 does not fit")
def _():
    return b.boot_params([(0, 0x9FC00, 1), (M, 2 * G - M, 1)], size=1024)


@case("boot_params-count-over-128.bin", "a 4,096-byte zero page whose e820_entries byte says 200")
def _():
    return b.boot_params([(0, 0x9FC00, 1), (M, 2 * G - M, 1)], count=200)


def generate() -> dict[str, bytes]:
    return {name: fn() for name, (_what, fn) in CASES.items()}


def readme() -> str:
    out = ["# Malformed inputs", "",
           "One file per class of damage real firmware and dumps show.  Every file is generated by",
           "`python3 -m fuzz.make_malformed` (from fields, with `fuzz/build.py`; nothing is edited by hand)",
           "and `tests/test_malformed.py` checks both that the files are exactly what the generator makes",
           "and the precise finding or error each one produces.", "",
           "| file | what is wrong |", "|---|---|"]
    out += [f"| `{name}` | {what} |" for name, (what, _fn) in CASES.items()]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    files = generate()
    files["README.md"] = readme().encode()
    bad = 0
    for name, data in files.items():
        p = DEST / name
        if args.check:
            if not p.is_file() or p.read_bytes() != data:
                print(f"differs: {p.relative_to(ROOT)}")
                bad += 1
        else:
            DEST.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
