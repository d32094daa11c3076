"""Fuzz targets: every public entry point of sratplan behind one byte string.

An input is ``selector byte + payload``; ``selector % len(TARGETS)`` picks the
target.  Each target feeds the payload to one entry point and checks the
contract of issue 7: the call returns a result (with findings) or raises a
:class:`~sratplan.errors.SratplanError`.  Any other exception is a crash and
propagates; :class:`Violation` marks a broken invariant (e.g. a decoded table
that does not rebuild to its own bytes, i.e. silently lost data).

The same module serves the atheris harness (``fuzz/run.py --engine atheris``),
the plain structure-aware mutator (``--engine mutate``), the CI smoke pass and
the property tests.
"""

from __future__ import annotations

import os
import tempfile
import zlib

from sratplan.errors import SratplanError


class Violation(AssertionError):
    """An invariant of the contract does not hold (not an exception kind the
    library may raise)."""


_TMP = None


def _tmpdir() -> str:
    global _TMP
    if _TMP is None:
        _TMP = tempfile.mkdtemp(prefix="sratplan-fuzz-")
    return _TMP


def _file(name: str, data: bytes) -> str:
    p = os.path.join(_tmpdir(), name)
    with open(p, "wb") as fh:
        fh.write(data)
    return p


def _text(data: bytes) -> str:
    return data.decode("latin-1")


def _check_findings(obj) -> None:
    from sratplan.findings import Finding

    for f in getattr(obj, "findings", ()) or ():
        if not isinstance(f, Finding) or not f.code or not isinstance(f.message, str):
            raise Violation(f"malformed finding {f!r}")
        f.to_json()
        f.location()


# --- the targets -------------------------------------------------------------

def _sampled(data: bytes, small: int) -> bool:
    """Expensive checks (render, construct rebuild) on every input up to
    ``small`` bytes and on a fixed eighth of the bigger ones (by content, so
    a reproducer always takes the same path)."""
    return len(data) <= small or zlib.crc32(data[:64]) % 8 == 0


def t_decode(data: bytes):
    """acpi.tables.decode, then render it, then the lossless round trip."""
    from sratplan.acpi import tables
    from sratplan.render import acpi_json, acpi_text

    t = tables.decode(data)
    _check_findings(t)
    if t.header is not None and _sampled(data, 2048):
        acpi_json.table_json(t)
        list(acpi_text.table_lines(t))
        rebuilt = tables.build(t)
        if rebuilt != bytes(data):
            raise Violation(f"build(decode(x)) != x for {t.signature} ({len(rebuilt)} vs {len(data)} bytes)")
    return t.findings


def t_read_tables(data: bytes):
    """acpi.sources.read_tables on a file (binary, acpidump text or .dsl)."""
    from sratplan.acpi.sources import read_tables
    from sratplan.render import acpi_json, acpi_text

    ts = read_tables(_file("tables.in", data))
    for t in ts:
        _check_findings(t)
    if _sampled(data, 4096):
        acpi_text.render_tableset(ts, "table")
        acpi_json.tableset_json(ts)
    return ts.all_findings()


def t_e820_text(data: bytes):
    """e820 text in any form (dmesg dialects, memmap, iomem, JSON, hand-written)."""
    from sratplan.firmware.e820_readers import parse_e820_any

    e = parse_e820_any(_text(data))
    _check_findings(e)
    return e.findings


def t_e820_file(data: bytes):
    """read_e820 on a file: boot_params when it holds a NUL, else text."""
    from sratplan.firmware.e820_readers import read_e820

    e = read_e820(_file("e820.in", data))
    _check_findings(e)
    return e.findings


def t_boot_params(data: bytes):
    from sratplan.firmware.e820_readers import parse_boot_params
    from sratplan.kernel.e820 import memory_setup_default

    bp = parse_boot_params(data)
    _check_findings(bp)
    return bp.findings + memory_setup_default(bp.e820).findings   # the fake-map fallback runs here


def t_boot_log(data: bytes):
    from sratplan.firmware.bootfacts import parse_boot_log

    bf = parse_boot_log(_text(data))
    _check_findings(bf)
    return bf.findings


def t_cmdline(data: bytes):
    from sratplan.firmware.e820 import E820Entry
    from sratplan.kernel.cmdline import format_cmdline, parse_cmdline
    from sratplan.kernel.e820 import apply_cmdline
    from sratplan.kernel.profile import PROFILES

    text = _text(data)
    for prof in PROFILES.values():
        cl = parse_cmdline(text, prof)
        _check_findings(cl)
    format_cmdline(cl)
    apply_cmdline((E820Entry(0, 0x9F000, 1), E820Entry(0x100000, 0x7FF00000, 1)), cl)
    return cl.findings


def t_memblock_log(data: bytes):
    from sratplan.kernel import memblock_log

    log = memblock_log.parse(_text(data))
    return [f"dumps={min(len(log.dumps), 3)}", f"trace={log.has_trace}"]


def t_replay(data: bytes):
    from sratplan.render import replay_text as rt
    from sratplan.replay import replay_text

    r = replay_text(_text(data))
    rt.render(r, verbose=True)
    return [f"match={r.alloc_matches == len(r.allocations)}"]


SEP_E820 = b"\n--e820--\n"
SEP_CMDLINE = b"\n--cmdline--\n"


def split_plan_input(data: bytes) -> tuple[bytes, bytes | None, bytes]:
    """A plan input is ``tables [SEP_E820 e820-text] [SEP_CMDLINE cmdline]``."""
    rest, _, cmd = data.partition(SEP_CMDLINE)
    tables, sep, e820 = rest.partition(SEP_E820)
    return tables, (e820 if sep else None), cmd


def t_plan(data: bytes):
    """load_machine + plan + advice + render on hostile-but-decodable tables."""
    from sratplan import pipeline, render
    from sratplan.machine import load_machine

    tables, e820, cmd = split_plan_input(data)
    paths = [_file("plan-tables.in", tables)] if tables else []
    kw = {}
    if e820 is not None:
        kw["e820"] = _file("plan-e820.in", e820)
    if not paths and not kw:
        return
    m = load_machine(paths, cmdline=_text(cmd)[:4096], **kw)
    r = pipeline.run(m)
    _check_findings(r)
    render.formatter("json").plan(r)
    render.formatter("table").plan(r)
    if _sampled(data, 0):
        render.formatter("markdown").plan(r)
        render.formatter("svg").plan(r)
    return r.findings


def _special(kind: int, data: bytes) -> str:
    """A path that is not an ordinary small file: a FIFO with no writer, a
    character device that never ends, a file past every cap, a symlink loop,
    a directory, a file that is not there."""
    d = _tmpdir()
    kind %= 6
    if kind == 0:
        p = os.path.join(d, "fifo")
        if not os.path.exists(p):
            os.mkfifo(p)
        return p
    if kind == 1:
        return "/dev/zero" if data[:1] < b"\x80" else "/dev/urandom"
    if kind == 2:
        p = os.path.join(d, "huge")
        with open(p, "wb") as fh:               # sparse: no disk used
            fh.truncate((65 << 20) + len(data))
            fh.write(data[:64])
        return p
    if kind == 3:
        p = os.path.join(d, "loop")
        if not os.path.lexists(p):
            os.symlink(p, p)
        return p
    if kind == 4:
        return d
    return os.path.join(d, "absent")


def t_stream(data: bytes):
    """Every entry point that takes a path, handed a hostile one: it must
    refuse or read within its caps, never block or exhaust memory."""
    from sratplan.cli import main

    if len(data) < 2:
        return
    path = _special(data[0], data[2:])
    srat = os.path.join(os.path.dirname(__file__), "..", "sratplan", "examples", "qemu-2node-hotplug", "SRAT")
    argv = [[path], [srat, "--e820", path], [srat, "--boot-facts", path], ["decode", path], ["replay", path],
            ["audit", "--no-progress", "--jobs", "1", path], ["live", "--sysroot", path]][data[1] % 7]
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = main(argv)
    if rc not in (0, 1, 2):
        raise Violation(f"exit status {rc} for {argv}")
    return ()


# Order matters (the selector byte indexes it); append only.
TARGETS = (
    ("decode", t_decode),
    ("read_tables", t_read_tables),
    ("e820_text", t_e820_text),
    ("e820_file", t_e820_file),
    ("boot_params", t_boot_params),
    ("boot_log", t_boot_log),
    ("cmdline", t_cmdline),
    ("memblock_log", t_memblock_log),
    ("replay", t_replay),
    ("plan", t_plan),
    ("stream", t_stream),
)
TARGET_INDEX = {name: i for i, (name, _) in enumerate(TARGETS)}


def run_one(data: bytes) -> tuple:
    """Run one fuzz input; raises on a crash.  Returns a feature tuple
    ``(target, outcome, finding codes...)`` that the plain mutator uses as
    cheap feedback (a new tuple keeps the input in the corpus)."""
    if not data:
        return ("empty",)
    name, fn = TARGETS[data[0] % len(TARGETS)]
    try:
        res = fn(data[1:])
    except SratplanError as e:
        # the contract: an expected error says where it happened
        str(e)
        return (name, type(e).__name__, getattr(e, "field", None) or "")
    codes = sorted({getattr(f, "code", f) for f in (res or ())})
    return (name, "ok", *codes)


def encode(target: str, payload: bytes) -> bytes:
    return bytes([TARGET_INDEX[target]]) + payload
