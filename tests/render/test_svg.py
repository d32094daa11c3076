"""The memory-map picture (``--format svg``): the address scale, what each
lane shows, escaping, robustness on odd plans, and one real rendering in
headless Chromium when it is installed."""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import signal
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sratplan import examples, pipeline
from sratplan.commands.plan import build_parser, machine_from_args
from sratplan.render import svg
from sratplan.render.svg import GAP_MIN, GAP_W, MIN_SEG, AddressScale, human

NS = "{http://www.w3.org/2000/svg}"
TIB = 1 << 40
GIB = 1 << 30
EXAMPLES = [ex["name"] for ex in examples.all_examples()]


def example_plan(name, *extra):
    args = build_parser().parse_args(["--example", name, *extra])
    return pipeline.run(machine_from_args(examples.apply(examples.get(name), args)))


def parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode())
    assert root.tag == NS + "svg"
    return root


def titles(root) -> list[str]:
    return [t.text or "" for t in root.iter(NS + "title")]


def texts(root) -> list[str]:
    return [t.text or "" for t in root.iter(NS + "text")]


def rng(s, e_excl):
    return f"[{s:#x}-{e_excl - 1:#x}]"


# --------------------------------------------------------------------------- scale


def test_scale_small_and_huge_both_visible():
    sc = AddressScale([(0, 0x1000), (0x1000, TIB)], 100, 1000)
    small = sc.x(0x1000) - sc.x(0)
    big = sc.x(TIB) - sc.x(0x1000)
    assert small >= MIN_SEG
    assert big > 5 * small
    assert sc.x(0) == 100 and sc.x1 == pytest.approx(1100)


def test_scale_compresses_large_holes_only():
    sc = AddressScale([(0, GIB), (GIB + (1 << 20), 2 * GIB), (TIB, TIB + GIB)], 0, 800)
    gaps = [s for s in sc.segments if s.gap]
    assert [(g.start, g.end) for g in gaps] == [(2 * GIB, TIB)]
    assert gaps[0].x1 - gaps[0].x0 == pytest.approx(GAP_W)
    # the 1 MiB hole is below GAP_MIN: an ordinary (uncompressed) segment
    one_mib = [s for s in sc.segments if s.start == GIB]
    assert one_mib and not one_mib[0].gap and GIB + (1 << 20) - GIB < GAP_MIN


ranges_st = st.lists(st.tuples(st.integers(0, 1 << 52), st.integers(1, 1 << 44)).map(lambda t: (t[0], t[0] + t[1])),
                     min_size=0, max_size=40)


@settings(max_examples=200, deadline=None)
@given(ranges_st, st.lists(st.integers(0, 1 << 53), max_size=30))
def test_scale_monotonic_and_fills_the_width(ranges, probes):
    sc = AddressScale(ranges, 50, 1200)
    assert sc.x1 == pytest.approx(1250)
    xs = [sc.x(a) for a in sorted(probes + [0, sc.top] + [s for s, _ in ranges])]
    assert all(a <= b + 1e-9 for a, b in itertools.pairwise(xs))
    assert all(50 - 1e-9 <= x <= 1250 + 1e-9 for x in xs)
    # segments tile the axis: contiguous in address and in pixels
    for a, b in itertools.pairwise(sc.segments):
        assert a.end == b.start and a.x1 == pytest.approx(b.x0)
        assert a.x1 > a.x0
    if ranges:
        # every range boundary is a segment boundary, so it is labelled on the axis
        cuts = {s.start for s in sc.segments} | {sc.top}
        assert {s for s, _ in ranges} <= cuts and {e for _, e in ranges} <= cuts


def test_human_sizes():
    assert human(4096) == "4 KiB"
    assert human(640 << 10) == "640 KiB"
    assert human(3 * GIB + GIB // 2) == "3.5 GiB"
    assert human(16 * TIB) == "16 TiB"
    assert human(0xfffc0000 - 0xc0000000) == "1023.8 MiB"


# --------------------------------------------------------------------------- content


# kernel-truth boots with features of their own: no SRAT, memoryless CPU node,
# memmap= hole, KASLR, 8 nodes, CXL-less q35 hotplug, mem= truncation
TRUTH_CASES = ["6.1/a01_nosrat_movable_node", "5.10/b09_qemu_3n_memoryless_cpu", "6.1/i03_memmap_hole_in_hp_node",
               "6.12/h01_kaslr_movable_node_rep10", "6.12/m02_8n_2hp", "7.2/q01_q35_hp_high",
               "7.2/i01_mem_truncates_hp_node"]


@pytest.fixture(scope="module", params=EXAMPLES + TRUTH_CASES)
def ex_plan(request):
    if "/" in request.param:
        from truthcases import ROOT, machine_for

        kernel, name = request.param.split("/", 1)
        if not (ROOT / kernel / name / "truth.json").exists():
            pytest.skip(f"kernel-truth case {request.param} is not in fixtures/kernel")
        p = pipeline.run(machine_for(kernel, ROOT / kernel / name))
    else:
        p = example_plan(request.param)
    return p, svg.plan(p)


def test_every_lane_shows_what_the_plan_says(ex_plan):
    report, text = ex_plan
    p = report.plan
    root = parse(text)
    tt = "\n".join(titles(root))
    trace = p.trace
    for e in trace.e820.firmware:
        assert rng(e.start, e.end) in tt
    for n in p.nodes:
        for s, e in n.memory_ranges:
            assert f"node {n.node} memory {rng(s, e + 1)}" in tt
        for s, e, hp in n.srat_ranges:
            assert any(t.startswith(f"SRAT node {n.node} ") and rng(s, e + 1) in t and ("hot-pluggable" in t) == hp
                       for t in titles(root))
        for z in n.zones:
            if z.spanned:
                assert f"node {n.node} {z.zone}: start_pfn {z.start_pfn:#x}, spanned {z.spanned}" in tt
        if n.node_data:
            assert any(t.startswith(f"NODE_DATA of node {n.node}") and rng(n.node_data[0], n.node_data[1] + 1) in t
                       for t in titles(root))
    ld = trace.loader
    assert f"kernel image {rng(ld.kernel_text, ld.kernel_reserve_end)}" in tt
    if ld.initrd:
        assert f"initrd {rng(*ld.initrd)}" in tt
    for sig, addr, ln in ld.acpi_tables:
        assert f"ACPI table {sig} {rng(addr, addr + ln)}" in tt
    for r in p.blocks:
        assert any(t.startswith("memory block") and f"valid_zones {r.valid_zones};" in t
                   and t.endswith(rng(r.start, r.end) + " " + human(r.end - r.start)) for t in titles(root))
    assert any(t.startswith("VERDICT: ") for t in texts(root))


def test_every_kernel_truth_boot_draws():
    """All kernel-truth boots (fixtures/kernel, offline ones included): a
    well-formed picture naming every node's memory and NODE_DATA."""
    from truthcases import case_dirs, load_truth, machine_for

    # Boots that reached the page allocator (truth.json has zones), as in
    # test_kernel_truth: a boot that panicked in setup_arch (e820 e09,
    # memmap=exactmap with one range) printed no memory layout to compare
    # with and reserved no kernel image (truth.json kernel_image is empty).
    cases = [c for c in case_dirs(include_offline=True) if load_truth(c[1]).get("zones")]
    if not cases:
        pytest.skip("no kernel-truth cases in fixtures/kernel")
    for kernel, d in cases:
        p = pipeline.run(machine_for(kernel, d), advise=False)
        tt = set(titles(parse(svg.plan(p))))
        for n in p.plan.nodes:
            for s, e in n.memory_ranges:
                assert f"node {n.node} memory {rng(s, e + 1)} {human(e + 1 - s)}" in tt, (kernel, d.name)
            if n.node_data:
                a, b = n.node_data[0], n.node_data[1] + 1
                assert any(t.startswith(f"NODE_DATA of node {n.node}") and t.endswith(f"{rng(a, b)} {human(b - a)}")
                           for t in tt), (kernel, d.name)


def test_legend_names_every_colour_used_in_lanes(ex_plan):
    _, text = ex_plan
    root = parse(text)
    legend = next(g for g in root.iter(NS + "g") if g.get("id") == "legend")
    legend_fills = {r.get("fill") for r in legend.iter(NS + "rect")}
    lanes = next(g for g in root.iter(NS + "g") if g.get("id") == "lanes")
    for g in lanes:
        if g.get("class") in ("e820", "blocks"):
            for r in g.iter(NS + "rect"):
                assert r.get("fill") in legend_fills, (g.get("class"), r.get("fill"))


def test_axis_labels_are_true_addresses():
    p = example_plan("qemu-2node-hotplug")
    root = parse(svg.plan(p))
    axis = next(g for g in root.iter(NS + "g") if g.get("id") == "axis")
    labels = [t.text for t in axis.iter(NS + "text")]
    # node 1 starts at 6 GiB and ends at 9 GiB; both boundaries carry a label
    assert "0x180000000 (6 GiB)" in labels
    assert "0x240000000 (9 GiB)" in labels
    # the 1 TiB-sized hole below QEMU's reserved area is drawn as a break mark
    gaps = next(g for g in root.iter(NS + "g") if g.get("id") == "gaps")
    assert list(gaps.iter(NS + "polyline"))
    assert any("hole" in t for t in titles(gaps))


def test_hotplug_lane_kept_and_cleared():
    kept = "\n".join(titles(parse(svg.plan(example_plan("qemu-2node-hotplug")))))
    assert f"node 1: MEMBLOCK_HOTPLUG kept {rng(0x180000000, 0x240000000)}" in kept
    # Hyper-V marks everything hot-pluggable; the kernel image, initrd, ... clear node 0
    p = example_plan("hyperv-gen2")
    cleared = "\n".join(titles(parse(svg.plan(p))))
    assert "MEMBLOCK_HOTPLUG cleared (" in cleared and "kernel_image" in cleared
    assert "MEMBLOCK_HOTPLUG kept" not in cleared


def test_memmap_lane_appears_only_when_the_command_line_edits_e820():
    p = example_plan("qemu-2node-hotplug", "--cmdline", "movable_node memmap=512M$0x1c0000000")
    root = parse(svg.plan(p))
    caps = texts(root)
    assert "e820 (firmware)" in caps and "e820 (cmdline)" in caps
    assert "e820 (cmdline)" not in texts(parse(svg.plan(example_plan("qemu-2node-hotplug"))))


def test_interleaved_zone_spans_get_their_own_rows():
    """A hot-pluggable node inside node 0's DMA32 (kernel-truth case d02):
    node 0's DMA32 span covers node 1's Movable span; both stay visible."""
    from truthcases import ROOT, machine_for

    p = pipeline.run(machine_for("6.1", ROOT / "6.1" / "d02_hp_dma32_island"))
    spans = {(n.node, z.zone): (z.start_pfn, z.start_pfn + z.spanned) for n in p.plan.nodes for z in n.zones if z.spanned}
    (a0, a1), (b0, b1) = spans[(0, "DMA32")], spans[(1, "Movable")]
    assert a0 < b0 and b1 < a1        # the case still is what this test is about
    root = parse(svg.plan(p))
    lanes = next(g for g in root.iter(NS + "g") if g.get("id") == "lanes")
    zones = next(g for g in lanes if g.get("class") == "zones")
    ys = {}
    for r in zones.iter(NS + "rect"):
        t = r.find(NS + "title")
        if t is not None and ": start_pfn" in t.text:
            ys[t.text.split(":")[0]] = float(r.get("y"))
    assert ys["node 0 DMA32"] != ys["node 1 Movable"]
    assert ys["node 0 DMA32"] == ys["node 0 Normal"]


def test_cxl_windows_that_became_nodes_are_drawn():
    """QEMU's CXL test tables (SRAT + CEDT): 7.2 turns the CFMWS window no
    SRAT range covers into a node of its own."""
    from sratplan.machine import load_machine

    q35 = Path(__file__).resolve().parents[2] / "fixtures" / "real" / "qemu" / "x86" / "q35"
    p = pipeline.run(load_machine([str(q35 / "SRAT.acpihmat-generic-x"), str(q35 / "CEDT.cxl")], kernel="7.2"))
    windows = p.plan.trace.cfmws_nodes
    assert windows
    tt = titles(parse(svg.plan(p)))
    for nid, pxm, s, e in windows:
        assert f"CEDT CFMWS window: node {nid} (fake PXM {pxm}) {rng(s, e)} {human(e - s)}" in tt


def test_text_is_escaped_and_xml_safe():
    p = example_plan("qemu-2node-hotplug", "--cmdline", "movable_node x=<b>&'\"")
    tr = p.plan.trace
    ld = dataclasses.replace(tr.loader, acpi_tables=tr.loader.acpi_tables + (("<&\x01>", 0x1000, 0x40),))
    p = dataclasses.replace(p, plan=dataclasses.replace(p.plan, trace=dataclasses.replace(tr, loader=ld)))
    root = parse(svg.plan(p))
    assert any("x=<b>&'\"" in t for t in texts(root))
    assert any("ACPI table <&\ufffd> [0x1000-0x103f]" in t for t in titles(root))


def test_plan_without_nodes_still_draws():
    p = example_plan("dell-r820")
    bare = dataclasses.replace(p, plan=dataclasses.replace(p.plan, nodes=(), blocks=()))
    root = parse(svg.plan(bare))
    assert any("no SRAT memory ranges" in t for t in texts(root))


def _e820_text(entries):
    names = {1: "usable", 2: "reserved", 3: "ACPI data"}
    return "".join(f"BIOS-e820: [mem {s:#018x}-{s + n - 1:#018x}] {names[t]}\n" for s, n, t in entries)


# (pxm, size in 256 MiB units, hot-pluggable, e820 type or None for an SRAT-only window,
#  gap before it in units, listed in the SRAT)
piece_st = st.tuples(st.integers(0, 3), st.integers(1, 32), st.booleans(), st.sampled_from([1, 1, 1, 2, 3, None]),
                     st.integers(0, 8), st.sampled_from([True, True, True, False]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(piece_st, max_size=7), st.sampled_from(["", "movable_node", "movable_node movablecore=50%"]))
def test_any_planned_machine_gives_a_well_formed_picture(tmp_path, pieces, cmdline):
    """Random machines laid out above a 1 GiB node-0 start: whatever the
    planner makes of them, the picture is well-formed and draws every node's
    memory, SRAT range and zone."""
    acpi_tests = str(Path(__file__).resolve().parents[1] / "acpi")
    if acpi_tests not in sys.path:
        sys.path.insert(0, acpi_tests)    # the table builders live with the ACPI tests
    import builders as B

    from sratplan.errors import SratplanError
    from sratplan.machine import load_machine

    unit = 256 << 20
    subs = [B.cpu(pxm=0, apic=0), B.mem(pxm=0, base=0, size=GIB)]
    e820 = [(0, 0x9f000, 1), (1 << 20, GIB - (1 << 20), 1)]
    addr = GIB
    for pxm, n, hp, typ, gap, listed in pieces:
        addr += gap * unit
        if typ is not None:
            e820.append((addr, n * unit, typ))
        if listed:
            subs.append(B.mem(pxm=pxm, base=addr, size=n * unit, flags=1 | (2 if hp else 0)))
        addr += n * unit
    srat = tmp_path / "SRAT"
    srat.write_bytes(B.srat(*subs))
    ef = tmp_path / "e820.txt"
    ef.write_text(_e820_text(e820))
    try:
        p = pipeline.run(load_machine([str(srat)], e820=str(ef), cmdline=cmdline or None))
    except SratplanError:
        return      # the planner refused the input: nothing to draw
    root = parse(svg.plan(p))
    tt = "\n".join(titles(root))
    for n in p.plan.nodes:
        for s, e in n.memory_ranges:
            assert f"node {n.node} memory {rng(s, e + 1)}" in tt
        for s, e, _ in n.srat_ranges:
            assert rng(s, e + 1) in tt
        for z in n.zones:
            if z.spanned:
                assert f"node {n.node} {z.zone}: start_pfn {z.start_pfn:#x}" in tt


def test_compare_stacks_one_picture_per_command_line():
    plans = [example_plan("qemu-2node-hotplug", "--cmdline", c) for c in ("", "movable_node")]
    root = parse(svg.compare(plans))
    inner = root.findall(NS + "svg")
    assert len(inner) == 2
    assert [float(x.get("y")) for x in inner] == [0, float(inner[0].get("height")) + 3]
    assert int(root.get("height")) == sum(int(x.get("height")) for x in inner) + 3
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    # every hatch reference points at a pattern of the same document
    refs = {v[5:-1] for e in root.iter() for v in [e.get("fill") or ""] if v.startswith("url(#")}
    assert refs and refs <= set(ids)
    heads = [t for t in texts(root) if t.startswith("command line: ")]
    assert heads == ["command line: (empty)", "command line: movable_node"]
    before, after = plans[0].plan.node(1), plans[1].plan.node(1)
    assert not before.hotplug and before.hotplug_cleared_by and after.hotplug
    assert any(f"node 1: MEMBLOCK_HOTPLUG cleared ({', '.join(before.hotplug_cleared_by)})" in t
               for t in titles(inner[0]))
    assert any("node 1: MEMBLOCK_HOTPLUG kept" in t for t in titles(inner[1]))


def test_cli_writes_svg(capsys):
    from sratplan.cli import main

    rc = main(["--example", "qemu-2node-hotplug", "--format", "svg"])
    out = capsys.readouterr().out
    assert rc == 0
    parse(out)


# --------------------------------------------------------------------------- browser


def _png_pixels(data: bytes):
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes):
    returns (width, height, Counter of RGB colours)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    colours = Counter()
    p = 0
    for _ in range(h):
        f, line = raw[p], bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return w, h, colours


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_renders_in_headless_chromium(tmp_path):
    p = example_plan("qemu-2node-hotplug")
    f = tmp_path / "map.svg"
    f.write_text(svg.plan(p), encoding="utf-8")
    png = tmp_path / "map.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1400,900",
           f.as_uri()]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "HOME": str(tmp_path)})
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)   # chromium's helpers are in the session it leads
        proc.wait()
        pytest.fail("chromium did not finish within 120 s")
    assert png.exists(), "chromium wrote no screenshot"
    w, h, colours = _png_pixels(png.read_bytes())
    assert (w, h) == (1400, 900)
    total = w * h
    assert colours[b"\xff\xff\xff"] < 0.95 * total
    assert len(colours) > 50
    # the picture's own fills reach the screen (an XML error page would not have them)
    for hexc in (svg.E820_STYLE[1][0], svg.NODE_COLOURS[0], svg.NODE_COLOURS[1], svg.ZONE_STYLE["Movable"],
                 svg.HOTPLUG_KEPT, svg.BLOCK_STYLE["offlinable"][0]):
        assert colours[bytes.fromhex(hexc[1:])] > 500, hexc


if __name__ == "__main__":   # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
