"""Kernel-truth cases (fixtures/kernel): one real boot each, and the inputs a
planner may use from it (SRAT/SLIT, e820, loader facts from the log, the
kernel image range from truth.json).  Everything else in the capture is the
answer."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "kernel"
KERNELS = ("5.10-seed", "5.10", "6.1", "6.12", "7.2")


def case_dirs(include_offline: bool = False):
    out = []
    for k in KERNELS:
        for d in sorted((ROOT / k).glob("*/")):
            if (d / "truth.json").exists():
                out.append((k, d))
            for r in sorted(d.glob("rep*/")):
                if (r / "truth.json").exists():
                    out.append((k, r))
    # whole captures made for the e820 / command-line work (fixtures/e820/oracle)
    extra = ROOT.parent / "e820" / "oracle"
    for k in KERNELS:
        for d in sorted((extra / k).glob("*/")):
            if (d / "truth.json").exists():
                out.append((k, d))
    if include_offline:
        for k in KERNELS:
            for d in sorted((ROOT / "offline" / k).glob("*/")):
                if (d / "truth.json").exists():
                    out.append((k, d))
    return out


def case_id(kd):
    k, d = kd
    try:
        return str(d.relative_to(ROOT))
    except ValueError:
        return "e820/" + str(d.relative_to(ROOT.parent / "e820" / "oracle"))


def load_truth(d: Path) -> dict:
    return json.loads((d / "truth.json").read_text())


def machine_for(kernel: str, d: Path, truth: dict | None = None):
    from sratplan.machine import load_machine

    truth = truth or load_truth(d)
    paths = []
    srat = d / "guest_SRAT.bin"
    if srat.exists() and srat.stat().st_size:
        paths.append(str(srat))
    slit = d / "guest_SLIT.bin"
    if slit.exists() and slit.stat().st_size:
        paths.append(str(slit))
    ki = truth["kernel_image"]["memblock_reserve"]
    return load_machine(paths, e820=str(d / "e820.txt"), boot_facts=str(d / "dmesg.txt"), kernel=kernel,
                        kernel_image=(ki["start"], ki["end"] - ki["start"]))
