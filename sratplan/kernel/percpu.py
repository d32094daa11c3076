"""The first per-CPU chunk, allocated at boot from memblock.

Mirrors ``arch/x86/kernel/setup_percpu.c:setup_per_cpu_areas`` and
``mm/percpu.c:pcpu_embed_first_chunk`` for 5.10-7.2: one block per node group
of CPUs (2 MiB atoms, node first), then the unused tail of every unit is freed,
so each CPU keeps ``percpu_pages_per_cpu`` pages (a kernel build constant,
"percpu: Embedded N pages/cpu").
"""

from __future__ import annotations

from ..units import PAGE_SIZE

MAX_DMA_ADDRESS = 16 << 20


def setup_per_cpu_areas(mb, profile, cpu_nodes, online):
    """Allocate the units; returns the (nid, start, end) ranges that stay reserved."""
    groups: dict = {}
    for nid in cpu_nodes:
        groups[nid] = groups.get(nid, 0) + 1
    unit = max(profile.percpu_unit_size,
               -(-profile.percpu_pages_per_cpu * PAGE_SIZE // profile.percpu_unit_size) * profile.percpu_unit_size)
    keep = profile.percpu_pages_per_cpu * PAGE_SIZE
    kept = []
    for nid in sorted(groups):
        n = groups[nid]
        a = mb.alloc_try_nid(n * unit, 2 << 20, MAX_DMA_ADDRESS, 0, nid if nid in online else -1)
        if not a:
            continue
        for i in range(n):
            u = a + i * unit
            if unit > keep:
                mb.phys_free(u + keep, unit - keep)
            kept.append((nid, u, u + keep))
    return kept
