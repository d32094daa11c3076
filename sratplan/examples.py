"""Bundled examples (``sratplan --example [NAME]``): real machines' tables
and synthetic ones built from kernel-truth scenarios, each labelled."""

from __future__ import annotations

import json
from argparse import Namespace
from importlib import resources

from .errors import UsageError


def _root():
    return resources.files("sratplan") / "examples"


def all_examples() -> list[dict]:
    out = []
    for d in sorted(_root().iterdir(), key=lambda p: p.name):
        meta = d / "example.json"
        if d.is_dir() and meta.is_file():
            ex = json.loads(meta.read_text())
            ex["dir"] = d
            out.append(ex)
    return out


def listing() -> str:
    lines = ["bundled examples (sratplan --example NAME):", ""]
    for ex in all_examples():
        lines.append(f"  {ex['name']:<26} [{ex['kind']}] {ex['title']}")
    lines.append("")
    lines.append("real: tables taken from a real machine or from QEMU's own test data; synthetic: built for")
    lines.append("sratplan from a scenario the real kernel was booted on (no real bare-metal SRAT with the")
    lines.append("hotplug flag has been found)")
    return "\n".join(lines) + "\n"


def get(name: str) -> dict:
    for ex in all_examples():
        if ex["name"] == name:
            return ex
    raise UsageError(f"no example named {name!r}; run 'sratplan --example' for the list")


def apply(ex: dict, args: Namespace) -> Namespace:
    """Fill the input options of ``args`` from an example (explicit options win)."""
    d = ex["dir"]
    a = Namespace(**vars(args))
    a.paths = [str(d / p) for p in ex.get("paths", [])]
    if ex.get("e820") and not args.e820:
        a.e820 = str(d / ex["e820"])
    if ex.get("boot_facts") and not args.boot_facts:
        a.boot_facts = str(d / ex["boot_facts"])
    if ex.get("cmdline") is not None and args.cmdline is None:
        a.cmdline = ex["cmdline"]
    if ex.get("kernel") and not args.kernel:
        a.kernel = ex["kernel"]
    a.example = None
    return a
