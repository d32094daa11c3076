"""The SRAT and NUMA lines the simulation prints (kernel/printk.KernelLog)
are the lines the real kernels printed: for every kernel-truth boot, the
"SRAT: PXM", "ACPI: SRAT: Node" and "NUMA: Node ... -> ..." lines of the
simulated log equal those of the captured dmesg, in order."""

from __future__ import annotations

import re

import pytest
from truthcases import ROOT, case_dirs, case_id, machine_for

from sratplan.kernel.boot import boot

PREFIXES = ("SRAT: PXM", "ACPI: SRAT: Node", "NUMA: Node")
CASES = [kd for kd in case_dirs() if ROOT in kd[1].parents]


@pytest.mark.parametrize("kd", CASES, ids=case_id)
def test_srat_and_numa_lines_match_dmesg(kd):
    kernel, d = kd
    trace = boot(machine_for(kernel, d))
    got = [line for line in trace.numa.log if line.startswith(PREFIXES)]
    text = (d / "dmesg.txt").read_text(errors="replace")
    want = [re.sub(r"^\[\s*\d+\.\d+\]\s", "", line) for line in text.splitlines()]
    want = [line for line in want if line.startswith(PREFIXES)]
    assert got == want
