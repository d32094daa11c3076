"""Kernel profiles: the constants and behaviour switches of each kernel
version sratplan models (5.10, 6.1, 6.12, 7.2).

Modules that model kernel code never test a version number; they ask the
profile.  Each number below says where it came from (kernel source file or a
measurement from ../shared/kernel-truth captures, copied to fixtures/kernel/).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import UsageError

MAX_NUMNODES_DEBIAN = 1024  # CONFIG_NODES_SHIFT=10 on Debian amd64 (all four kernels)


@dataclass(frozen=True)
class KernelProfile:
    name: str                    # "5.10", "6.1", "6.12", "7.2"
    release: str                 # the Debian kernel the captures came from
    version: tuple[int, int]

    # --- mm/memblock.c -------------------------------------------------
    # Default nid of a new region: MAX_NUMNODES up to ~6.8, NUMA_NO_NODE (-1) later.
    default_nid: int = MAX_NUMNODES_DEBIAN
    # 5.10 and older: a bottom-up search starts above the end of the kernel
    # image and falls back to top-down (commit 79442ed189ac removed it in 5.11).
    bottom_up_above_kernel: bool = False
    # Flag values printed in dumps (include/linux/memblock.h).
    flag_hotplug: int = 0x1
    flag_mirror: int = 0x2
    flag_nomap: int = 0x4
    flag_driver_managed: int = 0x8
    flag_rsrv_noinit: int | None = None   # 0x10 from 6.5
    flag_rsrv_kern: int | None = None     # 0x20 from ~6.14: every allocation's reservation
    flag_kho_scratch: int | None = None   # 0x40 from ~6.16

    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def with_(self, **kw) -> "KernelProfile":
        return replace(self, **kw)


PROFILES: dict[str, KernelProfile] = {
    "5.10": KernelProfile(name="5.10", release="5.10.223 (Debian 5.10.0-32-amd64)", version=(5, 10),
                          bottom_up_above_kernel=True),
    "6.1": KernelProfile(name="6.1", release="6.1.192 (Debian 6.1.0-56-amd64)", version=(6, 1),
                         flag_rsrv_noinit=None),
    "6.12": KernelProfile(name="6.12", release="6.12.117 (Debian 6.12.117+deb13-amd64)", version=(6, 12),
                          default_nid=-1, flag_rsrv_noinit=0x10),
    "7.2": KernelProfile(name="7.2", release="7.2.13 (Debian 7.2.13+deb14-amd64)", version=(7, 2),
                         default_nid=-1, flag_rsrv_noinit=0x10, flag_rsrv_kern=0x20,
                         flag_kho_scratch=0x40),
}

DEFAULT_PROFILE = "7.2"


def get_profile(name: str | None) -> KernelProfile:
    if name is None:
        return PROFILES[DEFAULT_PROFILE]
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(f"unknown kernel profile {name!r}; choose one of {', '.join(PROFILES)}") from None


def profile_for_release(release: str) -> tuple[KernelProfile, str]:
    """Pick the highest profile not newer than a running kernel's release
    string (``uname -r`` / ``Linux version`` line); the lowest if it is older
    than all.  Returns the profile and a sentence saying what was chosen."""
    import re

    m = re.match(r"\s*(\d+)\.(\d+)", release)
    if not m:
        p = PROFILES[DEFAULT_PROFILE]
        return p, f"kernel release {release!r} not understood; using profile {p.name}"
    ver = (int(m.group(1)), int(m.group(2)))
    ordered = sorted(PROFILES.values(), key=lambda p: p.version)
    chosen = ordered[0]
    for p in ordered:
        if p.version <= ver:
            chosen = p
    note = f"kernel {ver[0]}.{ver[1]} -> profile {chosen.name}"
    if ver < ordered[0].version:
        note += " (older than every profile; using the oldest)"
    return chosen, note
