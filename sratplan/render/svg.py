"""The memory-map picture (``sratplan --format svg``).

One horizontal physical-address axis, shared by stacked lanes: the firmware
e820 map, the SRAT memory affinity ranges (hatched where hot-pluggable; CXL
windows that became nodes dashed), the NUMA nodes as memblock sees them ("Early memory node ranges"), the zones of
every node, the memory that keeps MEMBLOCK_HOTPLUG after
numa_clear_kernel_node_hotplug (and what was cleared), the boot allocations
(kernel image, initrd, ACPI tables, NODE_DATA, memmap, per-CPU areas,
swiotlb, crashkernel, boot hash tables) and the boot memory blocks.
``render_compare`` stacks the pictures of several plans in one document.

A machine mixes 4 KiB firmware entries with terabyte nodes and terabyte holes,
so the axis is piecewise: every range boundary that appears in any lane
starts a new segment, each segment gets a width that grows with the
logarithm of its size (plus a small share proportional to its size, so a
1 TiB node still looks bigger than a 1 GiB one), and large holes (no e820
entry, no SRAT range, no RAM) shrink to a fixed-width gap drawn with a break
mark.  Within a segment the scale is linear, and the axis labels carry the
true addresses.  Every shape has a ``<title>`` giving its exact range, shown
when the pointer rests on it in a browser.

Presentation only: every fact comes from the Plan (``plan.nodes``,
``plan.blocks``) and its simulation (``plan.sim``); nothing is recomputed
here.  Pure standard library (ElementTree), so text is escaped by the
serialiser; characters XML 1.0 cannot carry (an ACPI signature may hold any
byte) are replaced before they reach it.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..firmware.e820 import E820_TYPE_UNKNOWN
from ..intervals import covers, subtract, union
from ..kernel.memory_hotplug import YES
from ..units import PAGE_SIZE

SVG_NS = "http://www.w3.org/2000/svg"

# canvas geometry (px)
WIDTH = 1360
LEFT = 160            # lane captions live left of the axis
RIGHT = 24
LANE_H = 26
SUB_H = 20           # one sub-row of a lane whose ranges overlap
LANE_GAP = 8
FONT = 11
CHAR_W = 6.4          # rough width of one character at FONT px sans-serif
MIN_SEG = 5.0         # narrowest segment, so a 4 KiB entry stays visible
GAP_W = 26.0          # width of a compressed hole
GAP_MIN = 16 << 20    # holes at least this big are compressed with a break mark
MAX_GAPS = 12         # at most this many of them (the biggest)
MAX_SUBROWS_H = 200   # a lane split into sub-rows grows to at most this height
MIN_MARK = 3.0        # narrowest drawn allocation marker
MAX_LABEL_ROWS = 7

E820_STYLE = {
    1: ("#a9dc8f", "usable RAM"),
    # E820_TYPE_RESERVED_KERN: RAM to memblock up to 6.12, an unknown type in 7.x
    128: ("#7fbf6a", "type 128 (reserved-kern)"),
    2: ("#a6a6a6", "reserved"),
    3: ("#f2cf4a", "ACPI data"),
    4: ("#e39b4c", "ACPI NVS"),
    5: ("#d9534f", "unusable"),
    7: ("#a77bca", "persistent memory"),
    12: ("#c5a3e0", "persistent memory (legacy, type 12)"),
    0xEFFFFFFF: ("#6bb7e6", "soft reserved"),
}
E820_OTHER = ("#505050", "other / unknown type")

ZONE_STYLE = {
    "DMA": "#f08a80",
    "DMA32": "#f6bd60",
    "Normal": "#5b9bd5",
    "Movable": "#4cc38a",
    "Device": "#b084cc",
}

NODE_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                "#9c755f", "#bab0ac")

HOTPLUG_KEPT = "#e67e22"
HOTPLUG_CLEARED = "#7f7f7f"

BLOCK_STYLE = {
    "offlinable": ("#27ae60", "offlinable (Movable, free of boot allocations)"),
    "movable-busy": ("#e74c3c", "Movable but not offlinable (holes or boot allocations)"),
    "kernel": ("#c9ced3", "kernel zone (not offlinable)"),
    "none": ("#6c7a89", "spans zones or nodes (valid_zones none)"),
}

MARK_STYLE = {
    "kernel": ("#c0392b", "kernel image"),
    "initrd": ("#8e44ad", "initrd"),
    "acpi": ("#b7950b", "ACPI tables"),
    "node_data": ("#1f4e79", "NODE_DATA"),
    "memmap": ("#117a65", "memmap (struct pages)"),
    "percpu": ("#6c3483", "per-CPU areas"),
    "swiotlb": ("#a04000", "swiotlb"),
    "crashkernel": ("#17202a", "crashkernel"),
    "hash": ("#5d6d7e", "boot hash tables"),
}

_XML_BAD = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text) -> str:
    """Text XML 1.0 can carry: anything else becomes U+FFFD (ET escapes the rest)."""
    return _XML_BAD.sub("\ufffd", str(text))


def human(nbytes: int) -> str:
    """A short binary size: ``4 KiB``, ``640 KiB``, ``3.5 GiB``, ``16 TiB``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    v = float(nbytes)
    i = 0
    while v >= 1024 and i < len(units) - 1:
        v /= 1024
        i += 1
    if v == int(v):
        return f"{v:.0f} {units[i]}"
    if v >= 100:
        return f"{v:.1f} {units[i]}"
    return f"{v:.3g} {units[i]}"


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- scale


@dataclass(frozen=True)
class Segment:
    start: int
    end: int          # exclusive
    x0: float
    x1: float
    gap: bool         # a compressed hole drawn with a break mark


class AddressScale:
    """Piecewise-linear map from physical addresses to x pixels.

    ``ranges`` are the ``(start, end_exclusive)`` ranges drawn in any lane;
    their boundaries, and the extra addresses in ``boundaries`` (zone edges:
    a zone spans holes, so it cuts the axis without covering it), cut
    ``[0, top)`` into segments.  Covered segments get
    ``MIN_SEG`` plus a share of the free width that grows with log2 of their
    size (and a little with the size itself); uncovered segments of at least
    ``GAP_MIN`` bytes become fixed-width gaps.  ``x`` is monotonic, maps 0 to
    ``x0`` and ``top`` to ``x0 + width``.
    """

    def __init__(self, ranges, x0: float, width: float, boundaries=()):
        ranges = [(max(0, int(s)), min(int(e), 1 << 64)) for s, e in ranges]
        ranges = [(s, e) for s, e in ranges if e > s]
        top = max((e for _, e in ranges), default=1 << 30)
        cuts = {0, top}
        for s, e in ranges:
            cuts.add(s)
            cuts.add(e)
        cuts.update(int(b) for b in boundaries)
        cuts = sorted(c for c in cuts if 0 <= c <= top)
        merged = union(ranges)

        def covered(a, b):
            return covers(merged, a, b)

        pieces = []
        for a, b in itertools.pairwise(cuts):
            gap = not covered(a, b) and b - a >= GAP_MIN
            pieces.append((a, b, gap))
        if all(g for _, _, g in pieces):
            # nothing drawn at all: one plain segment, no break mark
            pieces = [(a, b, False) for a, b, _ in pieces]
        gaps = sorted((b - a for a, b, g in pieces if g), reverse=True)
        if len(gaps) > MAX_GAPS:
            # a wall of break marks reads as noise: only the biggest holes are
            # compressed, the others are scaled like any segment
            least = gaps[MAX_GAPS - 1]
            keep = MAX_GAPS - sum(1 for x in gaps if x > least)
            out = []
            for a, b, g in pieces:
                if g and b - a == least and keep > 0:
                    keep -= 1
                    out.append((a, b, True))
                else:
                    out.append((a, b, g and b - a > least))
            pieces = out
        n = len(pieces)
        ngap = sum(1 for p in pieces if p[2])
        floor, gapw = MIN_SEG, GAP_W
        # many segments: shrink the fixed parts so the free share stays positive
        fixed = (n - ngap) * floor + ngap * gapw
        if fixed > width * 0.6:
            k = width * 0.6 / fixed
            floor, gapw = floor * k, gapw * k
        free = width - (n - ngap) * floor - ngap * gapw
        total = sum(b - a for a, b, g in pieces if not g) or 1
        weights = []
        for a, b, g in pieces:
            if g:
                weights.append(0.0)
            else:
                size = b - a
                weights.append(math.log2(size / PAGE_SIZE + 1) + 1 + 40 * (size / total) ** 0.5)
        wsum = sum(weights) or 1.0
        segs = []
        x = x0
        for (a, b, g), w in zip(pieces, weights):
            px = gapw if g else floor + free * w / wsum
            segs.append(Segment(a, b, x, x + px, g))
            x += px
        self.segments = tuple(segs)
        self.top = top
        self.x0 = x0
        self.x1 = x
        self._starts = [s.start for s in segs]

    def x(self, addr: int) -> float:
        """x pixel of byte address ``addr`` (clamped to the axis)."""
        if addr <= 0 or not self.segments:
            return self.x0
        if addr >= self.top:
            return self.x1
        i = bisect.bisect_right(self._starts, addr) - 1
        s = self.segments[i]
        return s.x0 + (s.x1 - s.x0) * (addr - s.start) / (s.end - s.start)

    def span(self, start: int, end: int, minimum: float = 0.0) -> tuple[float, float]:
        """x pixels of ``[start, end)``, widened around its middle to ``minimum``."""
        a, b = self.x(start), self.x(end)
        if b - a < minimum:
            mid = (a + b) / 2
            a, b = mid - minimum / 2, mid + minimum / 2
        return a, b


# --------------------------------------------------------------------------- picture


class _Svg:
    def __init__(self):
        self.root = ET.Element("svg", {"xmlns": SVG_NS, "version": "1.1",
                                       "font-family": "DejaVu Sans, Arial, Helvetica, sans-serif",
                                       "font-size": str(FONT)})
        self.defs = ET.SubElement(self.root, "defs")

    def el(self, parent, tag, attrs=None, text=None, title=None):
        e = ET.SubElement(parent if parent is not None else self.root, tag,
                          {k: _clean(v) for k, v in (attrs or {}).items()})
        if title:
            ET.SubElement(e, "title").text = _clean(title)
        if text is not None:
            e.text = _clean(text)
        return e

    def rect(self, parent, x, y, w, h, fill, title=None, **extra):
        attrs = {"x": _f(x), "y": _f(y), "width": _f(max(w, 0.0)), "height": _f(h), "fill": fill}
        attrs.update({k.replace("_", "-"): v for k, v in extra.items()})
        return self.el(parent, "rect", attrs, title=title)

    def text(self, parent, x, y, s, **extra):
        attrs = {"x": _f(x), "y": _f(y)}
        attrs.update({k.replace("_", "-"): str(v) for k, v in extra.items()})
        return self.el(parent, "text", attrs, text=s)

    def hatch(self, pid, colour, background="none"):
        p = self.el(self.defs, "pattern", {"id": pid, "patternUnits": "userSpaceOnUse", "width": "6", "height": "6",
                                           "patternTransform": "rotate(45)"})
        if background != "none":
            self.el(p, "rect", {"width": "6", "height": "6", "fill": background})
        self.el(p, "rect", {"width": "2.5", "height": "6", "fill": colour})
        return f"url(#{pid})"


def _rng(s: int, e: int) -> str:
    return f"[{s:#x}-{e - 1:#x}] {human(e - s)}"


def _fits(w: float, s: str) -> bool:
    return len(s) * CHAR_W + 6 <= w


def _free_span(a: float, b: float, gaps) -> tuple[float, float]:
    """The widest part of pixels [a, b] outside every compressed hole (a label
    written there is not crossed by a break mark)."""
    pieces = [(a, b)]
    for ga, gb in gaps:
        nxt = []
        for pa, pb in pieces:
            if gb <= pa or ga >= pb:
                nxt.append((pa, pb))
                continue
            if ga > pa:
                nxt.append((pa, ga))
            if gb < pb:
                nxt.append((gb, pb))
        pieces = nxt
    return max(pieces, key=lambda p: p[1] - p[0], default=(a, a))


def _pack(intervals) -> tuple[list[int], int]:
    """Sub-row of each ``(start, end)`` so that overlapping ones (interleaved
    nodes' zone spans, overlapping SRAT entries) do not hide each other;
    returns the rows, in input order, and their count."""
    order = sorted(range(len(intervals)), key=lambda i: (intervals[i][0], intervals[i][1]))
    ends: list[int] = []
    rows = [0] * len(intervals)
    for i in order:
        s, e = intervals[i]
        for r, end in enumerate(ends):
            if s >= end:
                ends[r] = e
                rows[i] = r
                break
        else:
            ends.append(e)
            rows[i] = len(ends) - 1
    return rows, max(1, len(ends))


def _e820_lanes(plan):
    """(caption, entries) for the firmware map and, when mem=/memmap= changed it, the user map."""
    e = plan.trace.e820
    caption = "e820 (assumed from SRAT)" if plan.machine.e820.source == "assumed from SRAT" else "e820 (firmware)"
    lanes = [(caption, tuple(e.firmware))]
    if e.user is not None and tuple(e.user) != tuple(e.firmware):
        lanes.append(("e820 (cmdline)", tuple(e.user)))
    return lanes


def _zone_spans(n):
    out = []
    for z in n.zones:
        if z.start_pfn is not None and z.spanned:
            out.append((z.zone, z.start_pfn * PAGE_SIZE, (z.start_pfn + z.spanned) * PAGE_SIZE, z))
    return out


def _hotplug_pieces(plan):
    """(start, end, kept, nid, cleared_by): memory in SRAT hot-pluggable ranges,
    split by whether memblock still carries MEMBLOCK_HOTPLUG there."""
    kept = list(plan.trace.hotplug_kept)
    out = [(s, e, True, nid, ()) for s, e, nid in kept]
    for n in plan.nodes:
        for _s, _e, a, b in n.hotplug_ram():
            # what no longer has the flag
            i = max(0, bisect.bisect_left(kept, (a,)) - 1)
            out.extend((x, y, False, n.node, n.hotplug_cleared_by)
                       for x, y in subtract(a, b, ((ks, ke) for ks, ke, _ in kept[i:])))
    return sorted(out)


def _markers(plan):
    """(kind, start, end, label, detail) for every boot allocation the picture marks."""
    out = []
    ld = plan.trace.loader
    out.append(("kernel", ld.kernel_text, ld.kernel_reserve_end, "kernel", "kernel image"))
    if ld.initrd:
        out.append(("initrd", ld.initrd[0], ld.initrd[1], "initrd", "initrd"))
    for sig, addr, ln in ld.acpi_tables:
        if ln > 0:
            out.append(("acpi", addr, addr + ln, str(sig), f"ACPI table {sig}"))
    for n in plan.nodes:
        if n.node_data:
            on = f" (on node {n.node_data_on})" if n.node_data_on not in (None, n.node) else ""
            out.append(("node_data", n.node_data[0], n.node_data[1] + 1, f"NODE_DATA{n.node}",
                        f"NODE_DATA of node {n.node}{on}"))
    for a in plan.trace.allocations:
        if a.kind in _ALLOC_MARKS:
            label, detail = _ALLOC_MARKS[a.kind]
            out.append((a.kind, a.start, a.end, label.format(node=a.node), detail.format(node=a.node)))
    return [m for m in out if m[2] > m[1]]


# marker label and description of each kind of boot allocation (NODE_DATA is drawn from the nodes)
_ALLOC_MARKS = {
    "memmap": ("memmap{node}", "memmap (struct pages) of node {node}"),
    "percpu": ("percpu{node}", "per-CPU area, node {node}"),
    "swiotlb": ("swiotlb", "swiotlb bounce buffer"),
    "crashkernel": ("crashkernel", "crashkernel reservation"),
    "hash": ("hash", "boot-time hash table (dentry/inode cache)"),
}


def _cluster_markers(marks, scale):
    """Join markers of one kind that land within a few pixels of each other
    into one labelled group (the ACPI tables of a machine sit together)."""
    items = sorted((scale.x(s), scale.x(e), kind, s, e, lab, det) for kind, s, e, lab, det in marks)
    groups = []
    for xa, xb, kind, s, e, lab, det in items:
        for gr in reversed(groups[-6:]):
            if gr["kind"] == kind and xa - gr["xb"] < 6:
                gr["xb"] = max(gr["xb"], xb)
                gr["end"] = max(gr["end"], e)
                gr["labels"].append(lab)
                gr["details"].append(f"{det} {_rng(s, e)}")
                break
        else:
            groups.append({"kind": kind, "xa": xa, "xb": xb, "start": s, "end": e, "labels": [lab],
                           "details": [f"{det} {_rng(s, e)}"]})
    for gr in groups:
        labs = gr["labels"]
        if gr["kind"] == "acpi":
            # a boot log that only says where the tables lie gives the pseudo-signature "ACPI"
            sigs = [x for x in labs if x != "ACPI"]
            if not sigs:
                text = "ACPI tables"
            elif len(labs) <= 4:
                text = "ACPI " + " ".join(sigs)
            else:
                text = f"ACPI x{len(labs)} ({' '.join(sigs[:3])} ...)"
        elif len(labs) == 1:
            text = labs[0]
        else:
            text = f"{MARK_STYLE[gr['kind']][1].split(' (')[0]} x{len(labs)}"
        gr["text"] = text
    return groups


def _place_rows(items, x_left, x_right):
    """Greedy rows for labels ``(x, text)``: row index per item, or None when
    every row is taken there (the label is then left to the tooltip)."""
    ends = []
    rows = []
    for x, text in items:
        w = len(text) * CHAR_W + 8
        a = min(max(x - 3, x_left), x_right - w)
        for r, end in enumerate(ends):
            if a > end:
                ends[r] = a + w
                rows.append((r, a))
                break
        else:
            if len(ends) < MAX_LABEL_ROWS:
                ends.append(a + w)
                rows.append((len(ends) - 1, a))
            else:
                rows.append((None, a))
    return rows, len(ends)


def _wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap to at most ``width`` characters a line (long words are cut)."""
    lines, cur = [], ""
    for word in text.split():
        while len(word) > width:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(word[:width])
            word = word[width:]
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines or [""]


def _block_kind(r) -> str:
    if r.valid_zones == "none":
        return "none"
    if r.offlinable == YES:
        return "offlinable"
    if r.valid_zones == "Movable":
        return "movable-busy"
    return "kernel"


class _Picture:
    """One picture being drawn: the plan, the scale, and what the lanes leave
    for later (labels go on top of the break marks, the legend lists what was
    used)."""

    def __init__(self, report, prefix: str = ""):
        plan = report.plan
        self.report = report
        self.plan = plan
        self.prefix = prefix      # keeps ids unique when several pictures share one document
        self.svg = _Svg()
        self.e820_lanes = _e820_lanes(plan)
        self.hp = _hotplug_pieces(plan)
        self.cfmws = list(plan.trace.cfmws_nodes)
        ranges = [(s, e) for _, _, s, e in self.cfmws]
        zone_edges = []
        for _, entries in self.e820_lanes:
            ranges += [(x.start, x.end) for x in entries]
        for n in plan.nodes:
            ranges += [(s, e + 1) for s, e, _ in n.srat_ranges]
            ranges += [(s, e + 1) for s, e in n.memory_ranges]
            zone_edges += [a for _, s, e, _ in _zone_spans(n) for a in (s, e)]
        self.scale = AddressScale(ranges, LEFT, WIDTH - LEFT - RIGHT, boundaries=zone_edges)
        # an allocation beyond everything drawn (should not happen) has no place
        self.marks = [m for m in _markers(plan) if m[1] < self.scale.top]
        # (node, start, end, hot-pluggable, fake PXM of a CXL window or None)
        self.srat_items = [(n.node, s, e_incl + 1, hp, None) for n in plan.nodes for s, e_incl, hp in n.srat_ranges]
        self.srat_items += [(nid, s, e, False, pxm) for nid, pxm, s, e in self.cfmws]
        self.pxms = {n.node: ",".join(map(str, n.pxms)) or "-" for n in plan.nodes}
        self.srat_rows, self.srat_n = _pack([(s, e) for _, s, e, _, _ in self.srat_items])
        self.zone_items = [(n, zs) for n in plan.nodes for zs in _zone_spans(n)]
        self.zone_rows, self.zone_n = _pack([(zs[1], zs[2]) for _, zs in self.zone_items])
        self.labels = []      # (a, b, y, candidates, colour, box, height)
        self.notes = []       # (y, text): a lane with nothing to draw says why
        self.used_e820 = {}   # legend name -> colour
        self._hatches = {}

    # ---- helpers

    def hatch(self, colour, bg="#ffffff"):
        key = (colour, bg)
        if key not in self._hatches:
            self._hatches[key] = self.svg.hatch(f"{self.prefix}h{len(self._hatches)}", colour, bg)
        return self._hatches[key]

    def label(self, a, b, y, candidates, colour="#111111", box=False, h=LANE_H):
        """Ask for the first of ``candidates`` that fits in pixels [a, b] of a lane row."""
        self.labels.append((a, b, y, candidates, colour, box, h))

    @staticmethod
    def node_colour(nid):
        return NODE_COLOURS[nid % len(NODE_COLOURS)]

    @staticmethod
    def sub_h(rows):
        return LANE_H if rows == 1 else min(SUB_H, MAX_SUBROWS_H / rows)

    # ---- the parts, top to bottom

    def header(self, y):
        plan, svg = self.plan, self.svg
        title = f"sratplan memory map: kernel {plan.kernel}, NUMA from {plan.numa_source}, " \
                f"{sum(1 for n in plan.nodes if n.online)} online node(s) of {len(plan.nodes)}"
        svg.text(None, 12, y, title, font_size=15, font_weight="bold")
        y += 18
        verdict = self.report.verdict
        good = verdict.hot_removable
        for line in _wrap("VERDICT: " + verdict.headline(), int((WIDTH - 24) / 7.0))[:4]:
            svg.text(None, 12, y, line, font_size=12, fill="#1e8449" if good else "#a93226")
            y += 15
        cmd = plan.machine.cmdline.raw or "(empty)"
        for line in _wrap(f"command line: {cmd}", int((WIDTH - 24) / 5.8))[:3]:
            svg.text(None, 12, y, line, font_size=10, fill="#444")
            y += 14
        svg.text(None, 12, y, "Axis not to scale: each segment's width grows with the logarithm of its size; "
                 "// marks a compressed hole; tick labels are true addresses; hover a shape for its exact range.",
                 font_size=10, fill="#444")
        return y + 10

    def lanes(self, y):
        """Draw every lane from ``y`` down; returns {lane key: (y, height)}."""
        lanes = [(cap, "e820", entries) for cap, entries in self.e820_lanes]
        lanes += [("SRAT ranges", "srat", None), ("NUMA nodes", "nodes", None), ("zones", "zones", None),
                  ("MEMBLOCK_HOTPLUG", "hotplug", None), ("boot allocations", "alloc", None),
                  ("memory blocks", "blocks", None)]
        heights = {"srat": self.srat_n * self.sub_h(self.srat_n), "zones": self.zone_n * self.sub_h(self.zone_n)}
        g_lanes = self.svg.el(None, "g", {"id": "lanes"})
        where = {}
        for cap, key, entries in lanes:
            h = heights.get(key, LANE_H)
            self.svg.rect(g_lanes, self.scale.x0, y, self.scale.x1 - self.scale.x0, h, "#f7f7f7", stroke="#e0e0e0")
            self.svg.text(g_lanes, LEFT - 8, y + h / 2 + 4, cap, text_anchor="end", font_weight="bold")
            g = self.svg.el(g_lanes, "g", {"class": key})
            if key == "e820":
                self.lane_e820(g, y, entries)
            else:
                getattr(self, f"lane_{key}")(g, y)
            where.setdefault(key, (y, h))
            y += h + LANE_GAP
        return where

    def lane_e820(self, g, ly, entries):
        for x in entries:
            colour, name = E820_STYLE.get(x.type, E820_OTHER)
            if x.type not in E820_STYLE:
                name = "unknown type" if x.type == E820_TYPE_UNKNOWN else f"type {x.type}"
                self.used_e820[E820_OTHER[1]] = E820_OTHER[0]
            else:
                self.used_e820[name] = colour
            a, b = self.scale.span(x.start, x.end, 1.0)
            self.svg.rect(g, a, ly, b - a, LANE_H, colour, title=f"e820 {name} {_rng(x.start, x.end)}",
                          stroke="#ffffff", stroke_width="0.5")
            self.label(a, b, ly, [name])

    def lane_srat(self, g, ly):
        plan = self.plan
        if not self.srat_items:
            self.notes.append((ly, "no SRAT memory ranges" + (f": {plan.numa_reason}" if plan.numa_reason else "")))
        sh = self.sub_h(self.srat_n)
        for (nid, s, e, hp, fake), row in zip(self.srat_items, self.srat_rows, strict=True):
            c = self.node_colour(nid)
            a, b = self.scale.span(s, e, 1.0)
            yy = ly + row * sh
            if fake is not None:
                # acpi_parse_cfmws: a CXL window no SRAT range covers becomes a
                # node of its own, under a PXM past the SRAT's highest
                self.svg.rect(g, a, yy + 1, b - a, sh - 2, "#ffffff", stroke=c, stroke_width="1.5",
                              stroke_dasharray="4,2",
                              title=f"CEDT CFMWS window: node {nid} (fake PXM {fake}) {_rng(s, e)}")
                self.label(a, b, yy, [f"CXL window N{nid}", f"CXL N{nid}", f"N{nid}"], h=sh)
                continue
            self.svg.rect(g, a, yy, b - a, sh, self.hatch(c) if hp else c, stroke=c, stroke_width="1",
                          title=f"SRAT node {nid} (PXM {self.pxms.get(nid, '-')})"
                                f"{' hot-pluggable' if hp else ''} {_rng(s, e)}")
            self.label(a, b, yy, [f"N{nid} hotplug", f"N{nid}"] if hp else [f"N{nid}"], box=True, h=sh)

    def lane_nodes(self, g, ly):
        for n in self.plan.nodes:
            c = self.node_colour(n.node)
            for s, e_incl in n.memory_ranges:
                a, b = self.scale.span(s, e_incl + 1, 1.0)
                self.svg.rect(g, a, ly, b - a, LANE_H, c, stroke="#ffffff", stroke_width="0.5",
                              title=f"node {n.node} memory {_rng(s, e_incl + 1)}")
                self.label(a, b, ly, [f"node {n.node}", f"{n.node}"], colour="#ffffff")

    def lane_zones(self, g, ly):
        zh = self.sub_h(self.zone_n)
        inset = 3 if zh >= 12 else 0
        for (n, (zname, s, e, z)), row in zip(self.zone_items, self.zone_rows, strict=True):
            c = ZONE_STYLE.get(zname, "#999999")
            a, b = self.scale.span(s, e, 1.0)
            yy = ly + row * zh
            self.svg.rect(g, a, yy, b - a, zh, c, opacity="0.35",
                          title=f"node {n.node} {zname}: start_pfn {z.start_pfn:#x}, spanned {z.spanned}, "
                                f"present {z.present}, managed ~{z.managed} pages; {_rng(s, e)}")
            for ms, me_incl in n.memory_ranges:
                ra, rb = max(s, ms), min(e, me_incl + 1)
                if ra < rb:
                    xa, xb = self.scale.span(ra, rb, 1.0)
                    self.svg.rect(g, xa, yy + inset, xb - xa, zh - 2 * inset, c,
                                  title=f"node {n.node} {zname} present memory {_rng(ra, rb)}")
            self.svg.rect(g, a, yy, b - a, zh, "none", stroke="#333333", stroke_width="0.6")
            self.label(a, b, yy, [f"{zname} n{n.node}", zname], h=zh)

    def lane_hotplug(self, g, ly):
        if not self.hp:
            self.notes.append((ly, "no memory in SRAT hot-pluggable ranges"))
        for s, e, kept, nid, why in self.hp:
            a, b = self.scale.span(s, e, 1.0)
            if kept:
                self.svg.rect(g, a, ly, b - a, LANE_H, HOTPLUG_KEPT,
                              title=f"node {nid}: MEMBLOCK_HOTPLUG kept {_rng(s, e)}")
                self.label(a, b, ly, ["hotplug kept", "kept"])
                continue
            if why:
                state, short = f"MEMBLOCK_HOTPLUG cleared ({', '.join(why)})", f"cleared: {', '.join(why)}"
            else:
                state, short = "MEMBLOCK_HOTPLUG not set", "not set"
            self.svg.rect(g, a, ly, b - a, LANE_H, self.hatch(HOTPLUG_CLEARED), stroke=HOTPLUG_CLEARED,
                          title=f"node {nid}: {state} {_rng(s, e)}")
            self.label(a, b, ly, [short, short.split(":")[0]], box=True)

    def lane_alloc(self, g, ly):
        # biggest first, so a small allocation inside a big one stays on top
        for kind, s, e, _, det in sorted(self.marks, key=lambda m: (-(m[2] - m[1]), m[1])):
            a, b = self.scale.span(s, e, MIN_MARK)
            self.svg.rect(g, a, ly + 2, b - a, LANE_H - 4, MARK_STYLE[kind][0], opacity="0.85",
                          title=f"{det} {_rng(s, e)}")

    def lane_blocks(self, g, ly):
        bs = self.plan.block_size
        for r in self.plan.blocks:
            a, b = self.scale.span(r.start, r.end, 1.0)
            many = r.last != r.first
            why = f"; not offlinable: {r.why}" if r.why else "; offlinable"
            self.svg.rect(g, a, ly, b - a, LANE_H, BLOCK_STYLE[_block_kind(r)][0], stroke="#ffffff",
                          stroke_width="0.5",
                          title=f"memory block{'s' if many else ''} {r.first}{'-' + str(r.last) if many else ''} "
                                f"({human(bs)} each), nodes {','.join(map(str, r.nodes))}, "
                                f"valid_zones {r.valid_zones}{why}; {_rng(r.start, r.end)}")
            self.label(a, b, ly, [f"{r.first}-{r.last}" if many else str(r.first)])

    def marker_labels(self, groups, rows, label_top, alloc_y):
        """Marker names in their rows, with a leader line down to the allocation lane."""
        g_marks = self.svg.el(None, "g", {"id": "markers"})
        for gr, (row, lx) in zip(groups, rows, strict=True):
            if row is None:       # every row taken there: the lane's tooltip still names it
                continue
            c = MARK_STYLE[gr["kind"]][0]
            xm = (gr["xa"] + gr["xb"]) / 2
            ty = label_top + row * 15 + 11
            self.svg.el(g_marks, "line", {"x1": _f(xm), "y1": _f(ty + 3), "x2": _f(xm), "y2": _f(alloc_y + 2),
                                          "stroke": c, "stroke-width": "0.8", "stroke-dasharray": "2,2",
                                          "opacity": "0.7"})
            details = gr["details"]
            tip = "\n".join(details[:40]) + (f"\n... {len(details) - 40} more" if len(details) > 40 else "")
            t = self.svg.text(g_marks, lx, ty, gr["text"], fill=c, font_weight="bold", font_size=10)
            ET.SubElement(t, "title").text = _clean(tip)

    def break_marks(self, top, bottom):
        """A compressed hole: a white band with a zig-zag across all lanes and its size below."""
        g_gaps = self.svg.el(None, "g", {"id": "gaps"})
        last_label_end = -1e9
        for sgm in self.scale.segments:
            if not sgm.gap:
                continue
            w = sgm.x1 - sgm.x0
            self.svg.rect(g_gaps, sgm.x0 + 1, top - 2, w - 2, bottom - top + 4, "#ffffff",
                          title=f"hole (nothing in any lane) {_rng(sgm.start, sgm.end)}, drawn compressed")
            for off in (-3, 3):
                xm = sgm.x0 + w / 2 + off
                pts = []
                yy, k = top - 2, 0
                while yy < bottom + 2:
                    pts.append(f"{_f(xm + (3 if k % 2 else -3))},{_f(yy)}")
                    yy += 6
                    k += 1
                self.svg.el(g_gaps, "polyline", {"points": " ".join(pts), "fill": "none", "stroke": "#555555",
                                                 "stroke-width": "1"})
            hl = human(sgm.end - sgm.start)
            half = len(hl) * 2.6
            if sgm.x0 + w / 2 - half > last_label_end + 3:
                self.svg.text(g_gaps, sgm.x0 + w / 2, bottom + 12, hl, text_anchor="middle", font_size=8,
                              fill="#555555")
                last_label_end = sgm.x0 + w / 2 + half

    def lane_labels(self):
        """The labels the lanes asked for, in the widest stretch clear of break marks."""
        g_labels = self.svg.el(None, "g", {"id": "labels"})
        gap_px = [(sg.x0, sg.x1) for sg in self.scale.segments if sg.gap]
        for a, b, ly, candidates, colour, box, h in self.labels:
            fa, fb = _free_span(a, b, gap_px)
            text = next((c for c in candidates if _fits(fb - fa, c)), None)
            if text is None or h < 13:
                continue
            if box:
                w = len(text) * CHAR_W + 4
                self.svg.rect(g_labels, (fa + fb) / 2 - w / 2, ly + h / 2 - 7, w, 14, "#ffffff", opacity="0.85")
            self.svg.text(g_labels, (fa + fb) / 2, ly + h / 2 + 4, text, text_anchor="middle", fill=colour)
        room = int((self.scale.x1 - self.scale.x0 - 12) / CHAR_W)
        for ly, text in self.notes:
            if len(text) > room:
                text = text[:max(room - 3, 0)] + "..."
            self.svg.rect(g_labels, self.scale.x0 + 3, ly + 5, len(text) * CHAR_W + 6, LANE_H - 10, "#f7f7f7")
            self.svg.text(g_labels, self.scale.x0 + 6, ly + LANE_H / 2 + 4, text, fill="#777777",
                          font_style="italic")

    def axis(self, y):
        """A tick at every segment boundary; true addresses where labels do not
        collide, node and zone boundaries first.  Returns the y below it."""
        scale = self.scale
        g_axis = self.svg.el(None, "g", {"id": "axis"})
        self.svg.el(g_axis, "line", {"x1": _f(scale.x0), "y1": _f(y), "x2": _f(scale.x1), "y2": _f(y),
                                     "stroke": "#333333"})
        important = set()
        for n in self.plan.nodes:
            for s, e in n.memory_ranges:
                important.update((s, e + 1))
            for _, s, e, _ in _zone_spans(n):
                important.update((s, e))
        cuts = sorted({s.start for s in scale.segments} | {scale.top})
        placed = []          # sorted x of labelled ticks
        labelled = []
        for c in sorted(cuts, key=lambda c: (c not in important, c)):
            xc = scale.x(c)
            self.svg.el(g_axis, "line", {"x1": _f(xc), "y1": _f(y), "x2": _f(xc), "y2": _f(y + 4),
                                         "stroke": "#333333"})
            i = bisect.bisect_left(placed, xc)
            if all(abs(xc - placed[j]) >= 12 for j in (i - 1, i) if 0 <= j < len(placed)):
                placed.insert(i, xc)
                labelled.append((xc, c))
        longest = 0
        for xc, c in sorted(labelled):
            s = f"{c:#x}" + (f" ({human(c)})" if c else "")
            longest = max(longest, len(s))
            # rotated so the text runs down and to the left of its tick: the
            # caption margin takes the first labels, nothing runs off the right
            self.svg.text(g_axis, xc + 3, y + 9, s, font_size=9, font_family="DejaVu Sans Mono, monospace",
                          text_anchor="end", transform=f"rotate(-50 {_f(xc + 3)} {_f(y + 9)})")
        return y + 14 + longest * 5.4 * 0.77 + 14

    def legend(self, y):
        """One line per lane family, listing only what the picture uses.  Returns the y below it."""
        plan = self.plan
        zones_used = [z for z in ZONE_STYLE if any(zn == z for n in plan.nodes for zn, *_ in _zone_spans(n))]
        marks_used = [k for k in MARK_STYLE if any(m[0] == k for m in self.marks)]
        blocks_used = [k for k in BLOCK_STYLE if any(_block_kind(r) == k for r in plan.blocks)]
        shown = plan.nodes[:len(NODE_COLOURS)]
        node_items = [(self.node_colour(n.node), f"node {n.node}" + ("" if n.memory_ranges else
                                                                      f" (no memory, {n.cpus} CPU(s))"))
                      for n in shown]
        if len(plan.nodes) > len(shown):
            node_items.append(("#ffffff", f"(colours repeat every {len(NODE_COLOURS)} nodes)"))
        if any(h for n in plan.nodes for *_, h in n.srat_ranges):
            node_items.append((self.hatch("#444444"), "SRAT hot-pluggable (hatched)"))
        if self.cfmws:
            node_items.append(("#ffffff", "dashed: CXL window (CEDT CFMWS) made a node"))
        hp_items = []
        if any(p[2] for p in self.hp):
            hp_items.append((HOTPLUG_KEPT, "MEMBLOCK_HOTPLUG kept (movable_node can use it)"))
        if any(not p[2] for p in self.hp):
            hp_items.append((self.hatch(HOTPLUG_CLEARED),
                             "flag cleared (a boot reservation sits in the node) or not set"))
        families = [
            ("e820", [(c, name) for name, c in self.used_e820.items()]),
            ("nodes", node_items),
            ("zones", [(ZONE_STYLE[z], z) for z in zones_used]
             + ([("#dddddd", "light: spanned, dark: present")] if zones_used else [])),
            ("hotplug", hp_items),
            ("allocations", [MARK_STYLE[k] for k in marks_used]),
            (f"blocks ({human(plan.block_size)})", [BLOCK_STYLE[k] for k in blocks_used]),
        ]
        g_leg = self.svg.el(None, "g", {"id": "legend"})
        for head, items in families:
            if not items:
                continue
            self.svg.text(g_leg, 12, y + 10, head + ":", font_weight="bold")
            x = 140
            for fill, name in items:
                w = 16 + len(name) * CHAR_W + 14
                if x + w > WIDTH - RIGHT:
                    x, y = 140, y + 17
                self.svg.rect(g_leg, x, y, 12, 12, fill, stroke="#555555", stroke_width="0.5")
                self.svg.text(g_leg, x + 16, y + 10, name)
                x += w
            y += 18
        return y + 10

    def draw(self) -> ET.Element:
        """Draw everything; returns the ``<svg>`` element, sized."""
        y = self.header(22)
        groups = _cluster_markers(self.marks, self.scale)
        rows, nrows = _place_rows([((g["xa"] + g["xb"]) / 2, g["text"]) for g in groups], LEFT, WIDTH - RIGHT)
        label_top = y + 6
        lanes_top = label_top + nrows * 15 + 6
        where = self.lanes(lanes_top)
        lanes_bottom = max(ly + h for ly, h in where.values())
        self.marker_labels(groups, rows, label_top, where["alloc"][0])
        self.break_marks(lanes_top, lanes_bottom)
        self.lane_labels()
        y = self.axis(lanes_bottom + 16)
        height = math.ceil(self.legend(y))
        root = self.svg.root
        root.set("width", str(WIDTH))
        root.set("height", str(height))
        root.set("viewBox", f"0 0 {WIDTH} {height}")
        root.insert(1, ET.Element("rect", {"width": "100%", "height": "100%", "fill": "#ffffff"}))
        for g in root.iter("g"):
            if g.get("id"):
                g.set("id", self.prefix + g.get("id"))
        return root


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def plan(report) -> str:
    """The SVG picture of a :class:`sratplan.pipeline.Report` as a string."""
    return _document(_Picture(report).draw())


def compare(reports, labels=None) -> str:
    """One SVG document with the pictures of several plans (``--compare``)
    stacked top to bottom, each headed by its own command line."""
    outer = ET.Element("svg", {"xmlns": SVG_NS, "version": "1.1"})
    y = 0
    for i, rep in enumerate(reports):
        pic = _Picture(rep, prefix=f"p{i}-").draw()
        h = int(pic.get("height"))
        del pic.attrib["xmlns"]
        pic.set("x", "0")
        pic.set("y", str(y))
        outer.append(pic)
        y += h
        if i + 1 < len(reports):
            ET.SubElement(outer, "line", {"x1": "0", "y1": str(y + 1), "x2": str(WIDTH), "y2": str(y + 1),
                                          "stroke": "#333333", "stroke-width": "2"})
            y += 3
    outer.set("width", str(WIDTH))
    outer.set("height", str(max(y, 1)))
    outer.set("viewBox", f"0 0 {WIDTH} {max(y, 1)}")
    return _document(outer)


__all__ = ["AddressScale", "Segment", "human", "plan", "compare"]
