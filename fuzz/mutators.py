"""Structure-aware mutations for the fuzz inputs of :mod:`fuzz.targets`.

Binary ACPI tables are mutated the way firmware gets them wrong: Table Length
off by a little or a lot, checksums fixed or broken, subtables with length
0, 1, shorter or longer than their type, types nobody knows, entries
duplicated by the thousand (padding BIOSes), ranges that wrap or sit above
2^52, PXMs above 255, flags toggled, tables cut at any byte.  Text inputs
(e820 dialects, acpidump and .dsl hex, boot logs, memblock=debug traces) get
line-level edits and numbers swapped for boundary values.  Generic byte
edits and splices with other seeds fill the rest.

Everything takes a :class:`random.Random` so a run is reproducible from its
seed.
"""

from __future__ import annotations

import random
import re

from .targets import SEP_CMDLINE, SEP_E820, TARGETS

MAX_LEN = 256 << 10

INTERESTING = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
               0xFFFFFFFF, 1 << 32, 1 << 40, 1 << 46, 1 << 52, (1 << 52) - 1, 1 << 63,
               (1 << 64) - 1, (1 << 64) - 0x1000, 0x9F000, 0x100000, 0xC0000000, 1 << 30,
               0x1000, 0xFFF, 64 << 40)
SIGS = (b"SRAT", b"SLIT", b"MSCT", b"CEDT", b"HMAT", b"APIC", b"\0\0\0\0", b"srat", b"RSD ", b"FACS")

CMDLINE_TOKENS = (
    "movable_node", "nokaslr", "numa=off", "numa=fake=4", "numa=noacpi", "acpi=off", "mem=4G", "mem=1",
    "mem=0x", "mem=-1", "memmap=1G@4G", "memmap=64M$0x100000000", "memmap=exactmap", "memmap=2G!4G",
    "memmap=16M#0x40000000", "memmap=", "memmap=%0x1000+", "kernelcore=mirror", "kernelcore=50%",
    "kernelcore=4G", "kernelcore=", "kernelcore=200%", "movablecore=1G", "movablecore=101%",
    "crashkernel=512M", "crashkernel=1G-4G:192M,4G-:256M", "crashkernel=256M,high", "crashkernel=64M@16M",
    "crashkernel=:", "memory_hotplug.memmap_on_memory=1", "memhp_default_state=online_movable",
    "memory_hotplug.online_policy=auto-movable", "movable_node=1", "mem=18446744073709551615",
    "memmap=18446744073709551615@0", '"', "--", "init=/bin/sh", "hugepages=4", "hugepagesz=1G",
    "memblock=debug", "earlyprintk=ttyS0", "memmap=1G%0x100000000-1+2",
)

LOG_LINES = (
    "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0xffffffffffffffff] usable",
    "[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000000fffffff] usable",
    "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bfffffff] reserved",
    "[    0.000000] BIOS-e820: [gap 0x00000000c0000000-0x00000000feffffff]",
    "[    0.000000] BIOS-e820: [mem 0x00000000c0000000-0x00000000c0000fff] System RAM",
    " BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)",
    "[    0.000000] user: [mem 0x0000000000000000-0x000000000009ffff] usable",
    "[    0.000000] ACPI: SRAT 0x00000000BFFE1000 0000D0 (v01 BOCHS  BXPC     00000001 BXPC 00000001)",
    "[    0.000000] ACPI: SRAT 0xFFFFFFFFFFFFFFFF FFFFFFFF (v01 BOCHS  BXPC     00000001 BXPC 00000001)",
    "[    0.000000] RAMDISK: [mem 0x7f000000-0x7fffffff]",
    "[    0.000000] RAMDISK: [mem 0xffffffffffffffff-0x0]",
    "[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)",
    "[    0.000000] Linux version 99.99.99",
    "[    0.000000] Command line: movable_node memblock=debug",
    "[    0.000000] smpboot: Allowing 100000 CPUs, 0 hotplug CPUs",
    "[    0.000000] CPU topo: Allowing 4 present CPUs plus 4096 hotplug CPUs",
    "[    0.000000] memblock_add: [0x0000000000001000-0x000000000009efff] e820__memblock_setup+0x7b/0xa0",
    "[    0.000000] memblock_reserve: [0xffffffffffffffff-0x0000000000000000] setup_arch+0x1/0x2",
    "[    0.000000] memblock_remove: [0x0000000000000000-0xffffffffffffffff] x+0x1/0x2",
    "[    0.000000] memblock_alloc_try_nid: 18446744073709551615 bytes align=0x0 nid=-1 from=0x0000000000000000 "
    "max_addr=0x0000000000000000 x+0x1/0x2",
    "[    0.000000] memblock_alloc_try_nid: 4096 bytes align=0x1000 nid=99999 from=0x0000000000000000 "
    "max_addr=0x0000000000000000 x+0x1/0x2",
    "[    0.000000] memblock_phys_alloc_range: 4096 bytes align=0x3 from=0x0000000000000000 "
    "max_addr=0x0000000000000000 x+0x1/0x2",
    "[    0.000000] __memblock_reserve: [0x0000000000000000-0x0000000000000fff] nid=-1 flags=0 x+0x1/0x2",
    "[    0.000000] memblock_add_node: [0x0000000100000000-0x00000001ffffffff] nid=5000 flags=ff x+0x1/0x2",
    "[    0.000000] memblock: reserved is doubled to 256 at [0x000000013fff7000-0x000000013fffefff]",
    "[    0.000000] MEMBLOCK configuration:",
    "[    0.000000]  memory size = 0x00000000bff7d000 reserved size = 0x0000000004a9a3e6",
    "[    0.000000]  memory.cnt  = 0xffffffff",
    "[    0.000000]  memory[0xffffff]\t[0x0000000000001000-0x000000000009efff], 0x000000000009e000 bytes on node "
    "0 flags: 0x0",
    "[    0.000000]  reserved[0x0]\t[0x0000000000000000-0x0000000000000fff], 0x0000000000001000 bytes flags: 0x0",
    "[    0.000000] last_pfn = 0xfffffffffffff max_arch_pfn = 0x400000000",
    "[    0.000000] ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x9ffff]",
    "[    0.000000] ACPI: SRAT: Node 70000 PXM 4294967295 [mem 0x00000000-0xffffffffffffffff] hotplug",
    "[    0.000000] NODE_DATA(0) allocated [mem 0x13fffc000-0x13fffffff]",
    "[    0.000000] NUMA: Initialized distance table, cnt=2",
    "SRAT @ 0x0000000000000000",
    "    0000: 53 52 41 54 FF FF FF FF 01 00 42 4F 43 48 53 20  SRAT....BOCHS ",
    "    0010: 53 52 41 54",
    "    ffff: 00",
    "Raw Table Data: Length 4294967295 (0xFFFFFFFF)",
    "Raw Table Data: Length 0 (0x0)",
    "0 0x0 0xffffffffffffffff System RAM",
    "1 0xffffffffffffffff 0x0 Reserved",
    "00000000-ffffffffffffffff : System RAM",
    "0x100000000 0x0 usable",
    '{"e820": [{"start": "0x0", "end": "0xffffffffffffffff", "type": "usable"}]}',
    '[{"addr": -1, "size": 1e400, "type": null}]',
)

_HEXNUM = re.compile(rb"0x[0-9a-fA-F]+|\b[0-9a-fA-F]{4,16}\b|\b\d+\b")


def _pick_int(rnd: random.Random) -> int:
    v = rnd.choice(INTERESTING)
    r = rnd.random()
    if r < 0.2:
        v += rnd.choice((-1, 1))
    elif r < 0.3:
        v = rnd.getrandbits(rnd.choice((8, 16, 32, 64)))
    return v & ((1 << 64) - 1)


# --- binary ------------------------------------------------------------------

def _put(b: bytearray, off: int, size: int, v: int) -> None:
    if 0 <= off and off + size <= len(b):
        b[off:off + size] = (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def fix_checksum(b: bytearray) -> None:
    if len(b) >= 36:
        b[9] = 0
        b[9] = (-sum(b[:min(len(b), int.from_bytes(b[4:8], "little"))])) & 0xFF


def _subtables(b: bytes):
    """(offset, length) of the SRAT/MSCT-style 1-byte-type/1-byte-length
    entries, walked like the kernel (stops at length 0 or the end)."""
    sig = bytes(b[:4])
    if sig == b"SRAT":
        off, hs, lenat, lensz = 48, 2, 1, 1
    elif sig == b"MSCT":
        off, hs, lenat, lensz = 56, 2, 1, 1
    elif sig == b"CEDT":
        off, hs, lenat, lensz = 36, 4, 2, 2
    elif sig == b"HMAT":
        off, hs, lenat, lensz = 40, 8, 4, 4
    else:
        return [], 0
    out = []
    while off + hs < len(b) and len(out) < 4096:
        ln = int.from_bytes(b[off + lenat:off + lenat + lensz], "little")
        if ln == 0:
            break
        out.append((off, ln))
        off += ln
    return out, lenat


def mutate_table(data: bytes, rnd: random.Random, pool=()) -> bytes:
    b = bytearray(data)
    subs, lenat = _subtables(b)
    op = rnd.randrange(18)
    if op == 0 and len(b) >= 8:                    # Table Length
        v = rnd.choice((len(b) + rnd.randint(-4, 4), len(b) * 2, 0, 35, 36, 48, 0xFFFFFFFF,
                        rnd.getrandbits(32)))
        _put(b, 4, 4, v)
    elif op == 1 and len(b) >= 4:                  # signature
        b[0:4] = rnd.choice(SIGS)
    elif op == 2 and subs:                         # subtable length
        off, ln = rnd.choice(subs)
        size = 1 if lenat == 1 else (2 if lenat == 2 else 4)
        _put(b, off + lenat, size, rnd.choice((0, 1, 2, ln - 1, ln + 1, ln + 8, ln * 2, 255, 0xFFFF)))
    elif op == 3 and subs:                         # subtable type
        off, _ = rnd.choice(subs)
        b[off] = rnd.choice((0, 1, 2, 3, 4, 5, 6, 7, 8, 0x7F, 0xFF))
    elif op == 4 and subs:                         # duplicate one entry many times
        off, ln = rnd.choice(subs)
        k = rnd.choice((1, 2, 10, 100)) if rnd.random() < 0.97 else rnd.choice((2049, 3000))
        ent = bytes(b[off:off + ln])
        b[off:off] = ent * k
        _put(b, 4, 4, len(b))
    elif op == 5 and subs:                         # delete or swap entries
        off, ln = rnd.choice(subs)
        if rnd.random() < 0.5 or len(subs) < 2:
            del b[off:off + ln]
        else:
            o2, l2 = rnd.choice(subs)
            a, c = sorted(((off, ln), (o2, l2)))
            if a[0] + a[1] <= c[0]:
                b[:] = b[:a[0]] + b[c[0]:c[0] + c[1]] + b[a[0] + a[1]:c[0]] + b[a[0]:a[0] + a[1]] + \
                    b[c[0] + c[1]:]
        _put(b, 4, 4, len(b))
    elif op == 6 and subs and b[:4] == b"SRAT":    # memory affinity fields
        mem = [(o, ln) for o, ln in subs if b[o] == 1 and ln >= 40] or subs
        off, ln = rnd.choice(mem)
        fld = rnd.choice(((2, 4), (8, 8), (16, 8), (28, 4), (2, 1)))   # PXM, base, length, flags
        v = _pick_int(rnd)
        if fld == (28, 4):
            v = rnd.choice((0, 1, 2, 3, 5, 7, 0xF, 0xFFFFFFFF))
        _put(b, off + fld[0], fld[1], v)
    elif op == 7 and len(b) >= 48 and b[:4] == b"SRAT":   # revision (PXM width)
        b[8] = rnd.choice((0, 1, 2, 3, 255))
    elif op == 8:                                  # cut
        cut = rnd.choice([rnd.randrange(len(b) + 1)] + [o for o, _ in subs] + [o + 1 for o, _ in subs])
        del b[cut:]
    elif op == 9:                                  # append a stub or junk
        b += bytes(rnd.getrandbits(8) for _ in range(rnd.choice((1, 2, 3, 16, 40))))
        if rnd.random() < 0.5:
            _put(b, 4, 4, len(b))
    elif op == 10 and len(b) > 0:                  # overwrite an int anywhere
        size = rnd.choice((1, 2, 4, 8))
        _put(b, rnd.randrange(len(b)), size, _pick_int(rnd))
    elif op == 11 and len(b) > 0:                  # flip bits
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
    elif op == 12 and pool:                        # splice with another table
        other = rnd.choice(pool)
        if other:
            i = rnd.randrange(len(b) + 1)
            j = rnd.randrange(len(other) + 1)
            b = b[:i] + bytearray(other[j:])
    elif op == 13 and len(b) >= 44 and b[:4] == b"SLIT":
        _put(b, 36, 8, rnd.choice((0, 1, 2, 255, 256, 1 << 20, (1 << 64) - 1)))
    elif op == 14 and subs and b[:4] == b"SRAT":   # entry of the other kind (CPU/x2APIC/GICC/generic)
        off, ln = rnd.choice(subs)
        t = rnd.choice((0, 2, 3, 5, 6))
        ent = bytearray({0: 16, 2: 24, 3: 18, 5: 32, 6: 36}[t])
        ent[0], ent[1] = t, len(ent)
        _put(ent, 2 if t != 2 else 4, 4, _pick_int(rnd))
        _put(ent, {0: 4, 2: 12, 3: 6, 5: 28, 6: 28}[t], 4, rnd.choice((0, 1, 3)))
        b[off:off] = ent
        _put(b, 4, 4, len(b))
    elif op == 15 and subs:                        # future revision: entry longer than known
        off, ln = rnd.choice(subs)
        extra = rnd.choice((1, 4, 8, 100))
        if lenat == 1 and ln + extra > 255:
            extra = 255 - ln
        b[off + ln:off + ln] = bytes(extra)
        _put(b, off + lenat, {1: 1, 2: 2, 4: 4}[lenat], ln + extra)
        _put(b, 4, 4, len(b))
    elif op == 16 and len(b) >= 36:                # OEM fields as binary garbage
        i = rnd.choice((10, 16, 24, 28, 32))
        b[i:i + 4] = bytes(rnd.getrandbits(8) for _ in range(4))
    else:
        b = bytearray(mutate_bytes(bytes(b), rnd))
    if rnd.random() < 0.6:
        fix_checksum(b)
    return bytes(b[:MAX_LEN])


# --- generic bytes and text -------------------------------------------------

def mutate_bytes(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    op = rnd.randrange(6)
    if op == 0 and b:
        i = rnd.randrange(len(b))
        b[i] = rnd.getrandbits(8)
    elif op == 1 and b:
        i = rnd.randrange(len(b))
        del b[i:i + rnd.randint(1, 16)]
    elif op == 2:
        i = rnd.randrange(len(b) + 1)
        b[i:i] = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 16)))
    elif op == 3 and b:
        i = rnd.randrange(len(b))
        j = rnd.randrange(len(b))
        b[i:i] = b[j:j + rnd.randint(1, 64)]
    elif op == 4 and b:
        i = rnd.randrange(len(b))
        size = rnd.choice((1, 2, 4, 8))
        _put(b, i, size, _pick_int(rnd))
    else:
        b = b[:rnd.randrange(len(b) + 1)]
    return bytes(b)


def _num(rnd: random.Random, like: bytes) -> bytes:
    v = _pick_int(rnd)
    if like.startswith(b"0x"):
        return b"0x%x" % v if rnd.random() < 0.8 else b"0x%016x" % v
    if len(like) >= 4 and re.fullmatch(rb"[0-9a-fA-F]+", like) and not like.isdigit():
        return b"%0*x" % (len(like), v)
    return b"%d" % (v if rnd.random() < 0.8 else -v)


def mutate_text(data: bytes, rnd: random.Random, pool=()) -> bytes:
    lines = data.split(b"\n")
    op = rnd.randrange(10)
    i = rnd.randrange(len(lines))
    if op in (0, 1, 2):                            # a number becomes a boundary value
        ms = list(_HEXNUM.finditer(lines[i]))
        if not ms:
            cand = [k for k, ln in enumerate(lines) if _HEXNUM.search(ln)]
            if cand:
                i = rnd.choice(cand)
                ms = list(_HEXNUM.finditer(lines[i]))
        if ms:
            mm = rnd.choice(ms)
            lines[i] = lines[i][:mm.start()] + _num(rnd, mm.group()) + lines[i][mm.end():]
    elif op == 3:
        del lines[i]
    elif op == 4:                                  # duplicate a line, maybe many times
        lines[i:i] = [lines[i]] * (rnd.choice((1, 2, 50)) if rnd.random() < 0.98 else 3300)
    elif op == 5:
        j = rnd.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 6:                                  # insert a known-hostile line
        lines.insert(i, rnd.choice(LOG_LINES).encode())
    elif op == 7:                                  # truncate a line
        lines[i] = lines[i][:rnd.randrange(len(lines[i]) + 1)]
    elif op == 8 and pool:                         # splice lines of another seed
        other = rnd.choice(pool).split(b"\n")
        j = rnd.randrange(len(other))
        lines[i:i] = other[j:j + rnd.randint(1, 40)]
    else:
        return mutate_bytes(data, rnd)[:MAX_LEN]
    return b"\n".join(lines)[:MAX_LEN]


def mutate_cmdline(data: bytes, rnd: random.Random) -> bytes:
    toks = data.split(b" ") if data else []
    op = rnd.randrange(4)
    if op == 0 or not toks:
        toks.insert(rnd.randrange(len(toks) + 1), rnd.choice(CMDLINE_TOKENS).encode())
    elif op == 1:
        del toks[rnd.randrange(len(toks))]
    elif op == 2:
        i = rnd.randrange(len(toks))
        toks[i] = mutate_text(toks[i], rnd)
    else:
        return mutate_bytes(data, rnd)
    return b" ".join(toks)[:8192]


# --- per target ---------------------------------------------------------------

_BINARY = {"decode", "boot_params"}
_TEXT = {"e820_text", "boot_log", "memblock_log", "replay"}


def mutate(data: bytes, rnd: random.Random, pools: dict | None = None) -> bytes:
    """One mutation of an encoded fuzz input (selector byte kept, except for
    a rare switch of target that feeds one parser another's input)."""
    if not data:
        return bytes([rnd.randrange(len(TARGETS))])
    sel, payload = data[0], data[1:]
    name = TARGETS[sel % len(TARGETS)][0]
    pool = (pools or {}).get(name, ())
    if rnd.random() < 0.02:
        sel = rnd.randrange(len(TARGETS))
    if name == "decode":
        out = mutate_table(payload, rnd, pool)
    elif name == "boot_params":
        b = bytearray(payload)
        if len(b) >= 0x2D0 + 20 and rnd.random() < 0.7:
            if rnd.random() < 0.3:
                b[0x1E8] = rnd.choice((0, 1, 2, 128, 129, 255))
            else:
                k = rnd.randrange(128)
                _put(b, 0x2D0 + 20 * k + rnd.choice((0, 8, 16)), rnd.choice((4, 8)), _pick_int(rnd))
            out = bytes(b)
        elif rnd.random() < 0.5:
            out = bytes(b[:rnd.choice((0, 1, 0x1E8, 0x2D0, 0xCD0, 0xFFF, len(b)))]) + \
                (bytes(rnd.choice((1, 100))) if rnd.random() < 0.3 else b"")
        else:
            out = mutate_bytes(payload, rnd)
    elif name in ("read_tables", "e820_file"):
        if payload[:4].isalpha() and len(payload) >= 8 and \
                int.from_bytes(payload[4:8], "little") <= len(payload) + 64:
            out = mutate_table(payload, rnd, pool)
        else:
            out = mutate_text(payload, rnd, pool)
    elif name == "cmdline":
        out = mutate_cmdline(payload, rnd)
    elif name == "plan":
        from .targets import split_plan_input

        tables, e820, cmd = split_plan_input(payload)
        r = rnd.random()
        if r < 0.55:
            tables = mutate_table(tables, rnd)
        elif r < 0.8 and e820 is not None:
            e820 = mutate_text(e820, rnd)
        elif r < 0.83:
            e820 = None
        else:
            cmd = mutate_cmdline(cmd, rnd)
        out = tables + (SEP_E820 + e820 if e820 is not None else b"") + SEP_CMDLINE + cmd
    else:
        out = mutate_text(payload, rnd, pool)
    return bytes([sel]) + out[:MAX_LEN]
