"""The argparse-free parse of plain ``sratplan`` (plan) command lines
(sratplan.commands.plan.quick_args) gives exactly what the plan parser
gives, hands every other command line to argparse, and the main job on a
binary table imports none of the heavy modules."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


_TOKENS = ["t.bin", "dir/", "", "-", "--", "-5", "--e820", "--e820=m.txt", "m.txt", "--cmdline", "movable_node",
           "--cmdline=", "--cmdline=a=b c", "--boot-facts", "--kernel", "6.1", "--kernel=7.2", "--initrd",
           "0x1000:0x2000", "--kernel-image=16M:32M", "--cpus", "4", "--cpus=+8", "--cpus=x", "--cpus=-3",
           "--cpus= 7 ", "--format", "json", "--format=svg", "--format=html", "--example", "qemu-2node-hotplug",
           "--example=x", "--compare", "--form", "--help", "-h", "--e8"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=7))
def test_quick_args_parse_as_argparse_does(argv):
    from sratplan.cli import _Parser
    from sratplan.commands.plan import build_parser, quick_args

    quick = quick_args(argv)
    if quick is None:
        return                                   # argparse handles it
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            want = build_parser(_Parser).parse_args(argv)
    except SystemExit:
        pytest.fail(f"quick path accepted {argv!r}, argparse rejects it")
    assert vars(quick) == vars(want)


def test_quick_args_take_the_common_lines():
    from sratplan.commands.plan import quick_args

    for argv in (["SRAT"], ["SRAT", "--format", "json"], ["a.dat", "b.dat", "--e820", "memmap/", "--cmdline",
                                                            "movable_node kernelcore=mirror"],
                 ["--example", "qemu-2node-hotplug"], ["--example"], []):
        assert quick_args(argv) is not None, argv
    for argv in (["--help"], ["SRAT", "--compare", "a", "b"], ["SRAT", "--form", "json"]):
        assert quick_args(argv) is None, argv


def test_main_job_imports_no_heavy_module(tmp_path):
    from importprobe import loaded_modules

    table = sorted((ROOT / "fixtures" / "real" / "srat").glob("*.SRAT.bin"))[-1]
    loaded, r = loaded_modules([table], ("construct", "tabulate", "dataclasses", "argparse", "json", "typing",
                                         "pathlib"), tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert "VERDICT" in r.stdout
    assert loaded == [], loaded
