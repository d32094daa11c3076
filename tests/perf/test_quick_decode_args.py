"""The argparse-free parse of plain ``sratplan decode`` command lines
(sratplan.cli.quick_decode_args) gives exactly what the decode parser gives,
and hands every other command line to argparse."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.cli import build_decode_parser, quick_decode_args

TOKENS = ["a.bin", "SRAT", "dir/", "", "x y", "--format", "--format=json", "--format=", "json", "table",
          "markdown", "svg", "--table", "--table=SLIT", "slit", "-h", "--help", "--form", "-", "--", "-x",
          "--table=", "--format=markdown"]


def _argparse(argv):
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            ns = build_decode_parser().parse_args(argv)
    except SystemExit:
        return None
    return (ns.paths, ns.format, ns.table)


@given(st.lists(st.sampled_from(TOKENS), max_size=7))
@settings(max_examples=400, deadline=None)
def test_quick_parse_agrees_with_argparse(argv):
    quick = quick_decode_args(argv)
    if quick is not None:
        assert (quick.paths, quick.format, quick.table) == _argparse(argv)


@pytest.mark.parametrize("argv", [
    ["t.bin"], ["a", "b", "--format", "json"], ["--format=markdown", "a"], ["a", "--table", "SRAT", "--table=slit"],
])
def test_plain_lines_take_the_quick_path(argv):
    quick = quick_decode_args(argv)
    assert quick is not None
    assert (quick.paths, quick.format, quick.table) == _argparse(argv)


@pytest.mark.parametrize("argv", [[], ["-h"], ["a", "--format", "svg"], ["a", "--form", "json"], ["a", "--table", "S", "b"]])
def test_other_lines_go_to_argparse(argv):
    assert quick_decode_args(argv) is None
