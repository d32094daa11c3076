"""numa.NumaMeminfo's merge pass (numa_cleanup_meminfo) against a plain
transcription of the kernel loop: the same blocks, in the same order, and the
same log lines, for random layouts with and without blocks of different nodes
overlapping (arch/x86/mm/numa.c 5.10-6.1, mm/numa_memblks.c 6.12+)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.kernel.numa import NumaMeminfo


def kernel_merge(blks):
    """The (i, j, k) loops of numa_cleanup_meminfo's merge pass, for blocks
    of different nodes that do not overlap (that case fails the walk)."""
    blks = [list(b) for b in blks]
    log = []
    i = 0
    while i < len(blks):
        bi = blks[i]
        j = i + 1
        while j < len(blks):
            bj = blks[j]
            if bi[2] != bj[2]:
                j += 1
                continue
            if bi[1] > bj[0] and bi[0] < bj[1]:
                log.append(f"Warning: node {bi[2]} [mem {bi[0]:#010x}-{bi[1] - 1:#010x}] overlaps "
                           f"with itself [mem {bj[0]:#010x}-{bj[1] - 1:#010x}]")
            start, end = min(bi[0], bj[0]), max(bi[1], bj[1])
            if any(bk[2] != bi[2] and start < bk[1] and bk[0] < end for bk in blks):
                j += 1
                continue
            log.append(f"NUMA: Node {bi[2]} [mem {bi[0]:#010x}-{bi[1] - 1:#010x}] + "
                       f"[mem {bj[0]:#010x}-{bj[1] - 1:#010x}] -> [mem {start:#010x}-{end - 1:#010x}]")
            bi[0], bi[1] = start, end
            del blks[j]
        i += 1
    return blks, log


blocks = st.lists(st.tuples(st.integers(0, 200), st.integers(1, 30), st.integers(0, 4)), max_size=60)


def _layout(raw):
    out = []
    for s, ln, nid in raw:
        b = [s << 20, (s + ln) << 20, nid]
        # keep layouts where blocks of different nodes never overlap
        if all(o[2] == nid or b[1] <= o[0] or o[1] <= b[0] for o in out):
            out.append(b)
    return out


@settings(max_examples=400, deadline=None)
@given(blocks)
def test_same_node_merge_is_the_kernel_loop(raw):
    layout = _layout(raw)
    want, want_log = kernel_merge(layout)
    mi = NumaMeminfo(cap=1 << 20, blks=[list(b) for b in layout])
    assert mi._merge() is None
    assert mi.blks == want
    assert mi.log == want_log


def test_many_nodes_interleaved_and_grouped():
    """2,000 blocks over 64 nodes: grouped by node (the synthetic benchmark
    machine), interleaved round-robin, and with gaps that block merges."""
    for order in ("grouped", "interleaved", "gapped"):
        layout = []
        for i in range(2000):
            nid = i // 32 if order != "interleaved" else i % 64
            gap = 1 if order == "gapped" and i % 7 == 0 else 0
            layout.append([(i * 4 + gap) << 20, (i * 4 + 4) << 20, nid])
        want, want_log = kernel_merge(layout)
        mi = NumaMeminfo(cap=1 << 20, blks=[list(b) for b in layout])
        assert mi._merge() is None
        assert mi.blks == want and mi.log == want_log
