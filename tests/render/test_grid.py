"""render.grid lays tables out exactly as tabulate does (simple / github,
disable_numparse): random cells, the edge cases tabulate treats specially,
and every table the renderers print for the bundled examples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.render import grid as g

tabulate = pytest.importorskip("tabulate").tabulate

FMT = {"table": "simple", "markdown": "github"}

# Mostly the printable ASCII our renderers produce, with surrounding spaces,
# empty cells and newlines; sometimes a tab or a wide character, which must
# go to tabulate itself.
plain = st.text(alphabet=st.sampled_from(list("0123456789abcdefxGiBMT,-:._()[]/ ") + ["\n"]), max_size=16)
odd = st.lists(st.sampled_from(["\t", "é", "界", "\x1b[1m", " ", "a"]), max_size=4).map("".join)
cell = st.one_of(plain, plain, plain, odd, st.none(), st.integers(-5, 10 ** 12))
header = st.text(alphabet=st.sampled_from(list("ABCDEFGHIJ klmno")), max_size=10)


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(header, min_size=n, max_size=n),
    st.lists(st.lists(cell, min_size=max(1, n - 1), max_size=n), max_size=6))),
    st.sampled_from(["table", "markdown"]))
def test_grid_is_tabulate(head_rows, fmt):
    head, rows = head_rows
    if fmt == "markdown":
        rows = [[c.replace("\n", "<br>") if isinstance(c, str) else c for c in r] for r in rows]
    assert g.grid(rows, head, fmt) == tabulate(rows, head, tablefmt=FMT[fmt], disable_numparse=True)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
@pytest.mark.parametrize("rows", [
    [],
    [["a\nbb", " x ", ""]],
    [["  a  \n b ", "x"]],
    [["a", "x"], ["b", ""]],
    [["a"], ["b", "c", "d"]],          # a row longer than the header: tabulate's own rules
    [[None, 3]],
    [["a\tb", "x"]],                    # tab: tabulate's own handling
    [["déjà", "界"]],                   # display width needs wcwidth: tabulate's own handling
    [["a\nb", "c"]],                    # multi-line markdown cell: tabulate's own handling
])
def test_edge_cases(rows, fmt):
    head = ["h1", "head2", ""]
    assert g.grid(rows, head, fmt) == tabulate(rows, head, tablefmt=FMT[fmt], disable_numparse=True)


def test_plain_tables_do_not_import_tabulate():
    import subprocess
    import sys

    code = ("import sys; from sratplan.render.grid import grid; "
            "grid([['a\\nb', 'c', None]], ['x', 'y', 'z']); grid([['a']], ['x'], 'markdown'); "
            "print('tabulate' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
