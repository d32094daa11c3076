"""Property tests for issue 7: for any input, every public entry point returns
a result with findings or raises one SratplanError saying where — never
another exception, never a hang, never silently lost bytes.

Kept fast (~30 s in all) and deterministic (``derandomize``); the long,
exploring runs are ``python3 -m fuzz.run`` (see fuzz/README.md).
"""

from __future__ import annotations

import random
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz import build, mutators, targets  # noqa: E402
from fuzz import seeds as fuzz_seeds
from sratplan.acpi import tables  # noqa: E402
from sratplan.errors import LimitError, ParseError, SratplanError  # noqa: E402
from sratplan.findings import Finding  # noqa: E402

FAST = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

G = 1 << 30
U64 = (1 << 64) - 1


@contextmanager
def time_limit(seconds: float):
    """A hang is a failure: the alarm fires inside the code under test."""
    def fire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")
    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def contract(target: str, payload: bytes, seconds: float = 20.0):
    """Run one fuzz target; only SratplanError may escape (run_one returns
    those as an outcome), and ParseErrors must say where."""
    with time_limit(seconds):
        try:
            return targets.TARGETS[targets.TARGET_INDEX[target]][1](payload)
        except ParseError as e:
            assert e.path or e.table or e.line is not None or e.offset is not None, f"unlocated: {e}"
            return e
        except SratplanError as e:
            assert str(e)
            return e


# --- strategies ----------------------------------------------------------------

interesting = st.sampled_from(mutators.INTERESTING) | st.integers(0, U64)
pxm = st.sampled_from((0, 1, 2, 255, 256, 257, 0xFFFF, 0xFFFFFFFF)) | st.integers(0, 8)


@st.composite
def srat_entry(draw):
    kind = draw(st.sampled_from(("mem", "mem", "mem", "cpu", "x2apic", "raw")))
    if kind == "mem":
        base = draw(st.sampled_from((0, 1 << 20, G, 4 * G, 1 << 46, 1 << 52, U64 - G)) | interesting)
        size = draw(st.sampled_from((0, 0xA0000, G, 2 * G, 64 << 40, U64)) | interesting)
        return build.mem(draw(pxm), base & U64, size & U64, draw(st.sampled_from((0, 1, 3, 5, 7, 0xFF))),
                         length=draw(st.sampled_from((40, 40, 40, 48, 39, 0, 1))))
    if kind == "cpu":
        return build.cpu(draw(st.integers(0, 255)), draw(st.integers(0, 255)), draw(st.sampled_from((0, 1))),
                         length=draw(st.sampled_from((16, 16, 20))))
    if kind == "x2apic":
        return build.x2apic(draw(pxm), draw(st.integers(0, 1 << 20)), draw(st.sampled_from((0, 1))))
    return build.raw_sub(draw(st.integers(0, 255)), draw(st.integers(0, 255)), draw(st.integers(0, 64)))


@st.composite
def srat_table(draw, max_entries=12):
    subs = draw(st.lists(srat_entry(), max_size=max_entries))
    t = build.srat(subs, revision=draw(st.sampled_from((1, 2, 3))),
                   tail=draw(st.binary(max_size=3)))
    how = draw(st.sampled_from(("ok", "ok", "longer", "shorter", "cut", "checksum")))
    if how == "longer":
        t = t[:4] + (len(t) + draw(st.integers(1, 1000))).to_bytes(4, "little") + t[8:]
    elif how == "shorter":
        t = t[:4] + draw(st.integers(0, len(t))).to_bytes(4, "little") + t[8:]
    elif how == "cut":
        t = t[:draw(st.integers(0, len(t)))]
    elif how == "checksum":
        t = t[:9] + bytes([(t[9] + 1) & 0xFF]) + t[10:]
    return t


# --- decode / read_tables ------------------------------------------------------

@FAST
@given(st.binary(max_size=600))
def test_decode_any_bytes(data):
    r = contract("decode", data)
    assert isinstance(r, (SratplanError, tuple, type(None)))


@FAST
@given(srat_table())
def test_decode_structured_srat_is_lossless(data):
    try:
        t = tables.decode(data)
    except ParseError as e:
        assert len(data) < 36 and e.field == "header"
        return
    assert all(isinstance(f, Finding) and f.code for f in t.findings)
    # nothing is lost: the model rebuilds the exact bytes
    assert tables.build(t) == data


@FAST
@given(st.sampled_from(("SRAT", "SLIT", "MSCT", "CEDT", "HMAT", "APIC")), st.binary(min_size=0, max_size=400),
       st.integers(0, 2000))
def test_decode_every_signature_with_any_body(sig, body, length):
    hdr = build.header(sig, length)
    from sratplan.acpi import structs as S

    data = S.AcpiTableHeader.build(hdr) + body
    t = tables.decode(data)
    assert tables.build(t) == data


@SLOW
@given(st.lists(srat_table(max_entries=4), min_size=1, max_size=3), st.integers(0, 40), st.sampled_from(("hex", "off",
       "cut", "none", "blank")))
def test_acpidump_text_with_damaged_lines(tabs, which, how):
    text = build.acpidump([("SRAT", t) for t in tabs])
    lines = text.split("\n")
    i = which % len(lines)
    if how == "hex":
        lines[i] = lines[i][:8] + "G" + lines[i][9:]
    elif how == "off":
        lines[i] = lines[i].replace("0", "1", 1)
    elif how == "cut":
        lines[i] = lines[i][: len(lines[i]) // 2]
    elif how == "blank":
        lines[i] = ""
    contract("read_tables", "\n".join(lines).encode())


@SLOW
@given(srat_table(max_entries=4), st.integers(-64, 64))
def test_dsl_raw_data_with_wrong_length(t, delta):
    contract("read_tables", build.dsl(t, declared=max(0, len(t) + delta)).encode())


# --- e820, boot_params, boot logs, command lines, memblock traces ----------------

_E820_WORDS = ["BIOS-e820:", "[mem", "0x0000000000000000-0x000000000009fbff]", "usable", "reserved", "System RAM",
               "device reserved", "[gap", "ACPI data", "user:", "(usable)", "-", "0x100000+0x7ff00000", "0x",
               "ffffffffffffffff", "18446744073709551616", "{", "}", "[", "]", '"start":', "type", "\t", "#",
               " : ", "0 0x0 0x9fbff System RAM", "00000000-0009ffff : System RAM", "persistent (type 12)",
               "unknown-type", "Linux version 6.1.0", "[    0.000000] "]


@st.composite
def text_lines(draw, words=_E820_WORDS, max_lines=20):
    lines = draw(st.lists(st.lists(st.sampled_from(words) | st.text(max_size=6), max_size=6), max_size=max_lines))
    return "\n".join(" ".join(ln) for ln in lines).encode("utf-8", "replace")


@FAST
@given(text_lines())
def test_e820_text_any_dialect(data):
    contract("e820_text", data)


@FAST
@given(st.binary(max_size=300))
def test_e820_text_any_bytes(data):
    contract("e820_text", data)


@SLOW
@given(st.sampled_from((0, 1, 0x1E8, 0x2D0, 0xCD0, 0xFFF, 0x1000, 0x1001, 0x2000)),
       st.lists(st.tuples(interesting, interesting, st.integers(0, 0xFFFFFFFF)), max_size=130),
       st.integers(0, 255))
def test_boot_params_any_size_and_table(size, entries, count):
    data = build.boot_params(entries, size=max(size, 0), count=count) if size >= 0x1E9 else bytes(size)
    r = contract("boot_params", data)
    if size < 0x2D0 + 128 * 20:
        assert isinstance(r, ParseError) and r.field == "e820_table"


_LOG_WORDS = list(mutators.LOG_LINES) + ["", "garbage", "\x00", "[    0.000000] "]


@FAST
@given(st.lists(st.sampled_from(_LOG_WORDS) | st.text(max_size=40), max_size=30))
def test_boot_log(lines):
    contract("boot_log", "\n".join(lines).encode("utf-8", "replace"))


@FAST
@given(st.lists(st.sampled_from(mutators.CMDLINE_TOKENS) | st.text(max_size=12), max_size=12))
def test_cmdline(tokens):
    contract("cmdline", " ".join(tokens).encode("utf-8", "replace"))


@FAST
@given(st.lists(st.sampled_from(_LOG_WORDS) | st.text(max_size=30), max_size=40))
def test_memblock_log(lines):
    contract("memblock_log", "\n".join(lines).encode("utf-8", "replace"))


# --- seeded mutation through every target (the fuzzer's own mutator) -------------

_SEEDS = None


def _seeds():
    global _SEEDS
    if _SEEDS is None:
        # the big logs make each replay cost ~30 ms; the fuzz run covers them
        _SEEDS = [s for s in fuzz_seeds.seeds() if len(s) <= 16 << 10]
    return _SEEDS


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 1 << 30), st.integers(1, 4))
def test_mutated_seeds_keep_the_contract(seed, rounds):
    rnd = random.Random(seed)
    data = rnd.choice(_seeds())
    for _ in range(rounds):
        data = mutators.mutate(data, rnd)
    with time_limit(20):
        targets.run_one(data)


# --- the planner on hostile-but-decodable tables ----------------------------------

@SLOW
@given(srat_table(max_entries=8), st.sampled_from(("", "movable_node", "movable_node nokaslr", "numa=off",
                                                   "kernelcore=50% mem=8G", "memmap=1G@4G movablecore=1G")),
       st.booleans())
def test_plan_hostile_tables(t, cmd, with_e820):
    e820 = None
    if with_e820:
        e820 = b"0x0+0x9fc00 usable\n0x100000+0x7ff00000 usable\n0x100000000+0x100000000 usable\n"
    payload = t + (targets.SEP_E820 + e820 if e820 else b"") + targets.SEP_CMDLINE + cmd.encode()
    contract("plan", payload, seconds=30)


@pytest.mark.parametrize("what", ["64 TiB", "above 2^52", "all hotplug", "zero RAM", "2049 ranges",
                                  "PXM 0xFFFFFFFF", "1024 nodes"])
def test_plan_extremes(what):
    cpus = [build.cpu(0, 0)]
    if what == "64 TiB":
        mems = [build.mem(0, 0, 2 * G), build.mem(1, 4 * G, 64 << 40)]
    elif what == "above 2^52":
        mems = [build.mem(0, 0, 2 * G), build.mem(1, 1 << 52, 4 * G, flags=3)]
    elif what == "all hotplug":
        mems = [build.mem(0, 0, 2 * G, flags=3), build.mem(1, 4 * G, 4 * G, flags=3)]
    elif what == "zero RAM":
        mems = [build.mem(0, 0, 0)]
    elif what == "2049 ranges":
        mems = [build.mem(i % 4, 4 * G + i * (128 << 20), 128 << 20) for i in range(2049)]
    elif what == "PXM 0xFFFFFFFF":
        mems = [build.mem(0, 0, 2 * G), build.mem(0xFFFFFFFF, 4 * G, 2 * G)]
    else:
        mems = [build.mem(0, 0, 2 * G)] + [build.mem(i, 4 * G + i * G, G) for i in range(1, 1024)]
    r = contract("plan", build.srat(cpus + mems) + targets.SEP_CMDLINE + b"movable_node", seconds=60)
    if what == "zero RAM":
        assert isinstance(r, SratplanError)
    else:
        assert not isinstance(r, SratplanError), r


def test_caps_are_limit_errors():
    from sratplan.acpi import tables as T

    with pytest.raises(LimitError) as ei:
        T.decode(b"SRAT" + bytes(T.MAX_TABLE_BYTES))
    assert ei.value.field == "Table Length"
