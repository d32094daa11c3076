"""Where the kdump crash kernel is reserved at boot.

Mirrors ``arch/x86/kernel/setup.c:reserve_crashkernel`` (5.10, 6.1) and
``kernel/crash_reserve.c:reserve_crashkernel_generic`` (6.7+, so 6.12 and 7.2):
after the SRAT is parsed, top-down, skipping hotpluggable memory under
movable_node.  The sizes come from ``kernel/cmdline.py:resolve_crashkernel``.
"""

from __future__ import annotations

from ..units import SZ_4G


def reserve_crashkernel(mb, requests, profile, log):
    """reserve_crashkernel(): [16M, 4G) aligned 16M first (unless ,high), then
    anywhere; a high reservation also gets a low part below 4 GiB."""
    out = []
    for req in requests:
        size = req.size
        if not size:
            continue
        if req.base:
            if mb.find_in_range(req.base, req.base + size, size, 1 << 20) == req.base:
                mb.reserve(req.base, size)
                out.append((req.base, req.base + size))
            else:
                log.append(f"crashkernel reservation failed - memory is in use at {req.base:#x}")
            continue
        base = 0
        if not req.high:
            base = mb.phys_alloc_range(size, 16 << 20, 16 << 20, SZ_4G)
        if not base:
            base = mb.phys_alloc_range(size, 16 << 20, 16 << 20, 1 << 46)
        if not base:
            log.append("crashkernel reservation failed - No suitable area found.")
            continue
        out.append((base, base + size))
        if base >= SZ_4G:
            low = req.low_size if req.low_size is not None else max((64 << 20) + (8 << 20), 256 << 20)
            if low:
                lb = mb.phys_alloc_range(low, 16 << 20, 0, SZ_4G)
                if lb:
                    out.append((lb, lb + low))
    return out
