"""Kernel profiles: which profile a release string picks (DESIGN.md
"Profiles"), when the string cannot tell whether the seed-era kernel_end rule
is there, and the 5.10-seed build constants against its own captures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sratplan.errors import UsageError
from sratplan.kernel.memblock_log import parse
from sratplan.kernel.profile import (
    PROFILES,
    alternative_profile,
    choose_profile,
    get_profile,
    profile_for_release,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kernel"
SEED = FIXTURES / "5.10-seed"


@pytest.mark.parametrize("kernel", ["5.10-seed", "5.10", "6.1", "6.12", "7.2"])
def test_every_capture_release_picks_its_profile_exactly(kernel):
    releases = {parse((d / "dmesg.txt").read_text()).release
                for d in (FIXTURES / kernel).glob("*/") if (d / "dmesg.txt").is_file()}
    assert len(releases) == 1
    c = choose_profile(releases.pop())
    assert (c.profile.name, c.alternative, c.exact) == (kernel, None, True)


@pytest.mark.parametrize("release, profile, alternative", [
    # the 5.10.y point where the removal (2dcb39645441) was backported
    ("5.10.0", "5.10-seed", None), ("5.10.14", "5.10-seed", None), ("5.10.15", "5.10", None),
    ("5.10.223", "5.10", None), ("5.10.0-rc7", "5.10-seed", None),
    # the other stable series that took it, before and after
    ("5.4.96", "5.10-seed", None), ("5.4.97", "5.10", None), ("4.19.174", "5.10-seed", None),
    ("4.19.175", "5.10", None), ("4.9.258", "5.10", None),
    # series that were end-of-life before it: plain releases still have the rule
    ("4.18.20", "5.10-seed", None), ("5.3.18", "5.10-seed", None),
    # distribution releases: the string cannot tell
    ("5.10.0-8-amd64", "5.10", "5.10-seed"),                 # Debian ABI name
    ("4.18.0-513.el8.x86_64", "5.10-seed", "5.10"),           # RHEL 8
    ("3.10.0-1160.el7.x86_64", "5.10-seed", "5.10"),          # RHEL 7
    ("5.4.0-150-generic", "5.10-seed", "5.10"),               # Ubuntu 20.04
    ("4.15.0-213-generic", "5.10-seed", "5.10"),              # Ubuntu 18.04
    ("5.3.18-150300.59.87-default", "5.10-seed", "5.10"),     # SLES 15 SP3
    ("4.12.14-122.37-default", "5.10-seed", "5.10"),          # SLES 15 / 12
    ("5.10.10-custom", "5.10-seed", "5.10"),                  # a build of 5.10.10, maybe patched
    ("4.14.300", "5.10-seed", "5.10"),                        # backport point not checked
    # after 5.10
    ("5.11.0", "6.1", None), ("6.6.30", "6.1", None), ("6.7.1", "6.12", None),
    ("6.8.0-40-generic", "6.12", None), ("6.12.1", "6.12", None), ("7.0.0", "7.2", None),
])
def test_profile_from_release(release, profile, alternative):
    c = choose_profile(release)
    assert (c.profile.name, c.alternative) == (profile, alternative)
    assert alternative_profile(release) == alternative
    # the old two-value form, as every caller used it
    assert profile_for_release(release) == (c.profile, c.note)
    if alternative:
        assert "cannot tell" in c.note and f"profile {alternative} is the alternative" in c.note


def test_release_not_understood_uses_the_default():
    c = choose_profile("not-a-kernel")
    assert c.profile.name == "7.2" and "not understood" in c.note and c.alternative is None


def test_aliases_and_unknown_names():
    assert get_profile("seed") is PROFILES["5.10-seed"]
    assert get_profile("pre-5.11") is PROFILES["5.10-seed"]
    with pytest.raises(UsageError, match="5.10-seed"):
        get_profile("5.9")


def test_only_the_seed_profile_has_the_rule():
    assert [p.name for p in PROFILES.values() if p.bottom_up_above_kernel] == ["5.10-seed"]
    # the same kernel and config otherwise: the 5.10 behaviour switches agree
    a, b = PROFILES["5.10-seed"], PROFILES["5.10"]
    for f in ("setup_style", "valid_zones_rule", "default_nid", "nid_none", "numa_register_by",
              "mirror_needs_kernelcore_mirror", "cfmws_fake_nodes", "memoryless_pgdat_in_free_area_init",
              "movable_node_pfn_up", "trampoline_size", "pgt_buf_pages", "brk_reserve_size",
              "percpu_pages_per_cpu", "swiotlb_meta_bytes", "node_data_size", "image_end_after_reserve"):
        assert getattr(a, f) == getattr(b, f), f


def _seed_boots():
    return sorted(p.parent for p in SEED.rglob("truth.json"))


def test_seed_build_constants_come_from_its_captures():
    p = PROFILES["5.10-seed"]
    boots = _seed_boots()
    assert len(boots) == 39
    for d in boots:
        t = json.loads((d / "truth.json").read_text())
        ki = t["kernel_image"]
        reserve, image = ki["memblock_reserve"], ki["image"]
        # [_text, __end_of_kernel_reserve) and _end, in every boot (KASLR moves both)
        assert reserve["end"] - reserve["start"] == p.kernel_reserve_size, d
        assert image["end"] - reserve["end"] == p.image_end_after_reserve, d
        log = (d / "dmesg.txt").read_text()
        # reserve_brk(): [__end_of_kernel_reserve, + used brk)
        m = re.search(r"memblock_reserve: \[0x([0-9a-f]+)-0x([0-9a-f]+)\] setup_arch", log)
        assert int(m[1], 16) == reserve["end"] and int(m[2], 16) + 1 - int(m[1], 16) == p.brk_reserve_size
        assert f"percpu: Embedded {p.percpu_pages_per_cpu} pages/cpu" in log
        m = re.search(r"memblock_reserve: \[0x([0-9a-f]+)-0x([0-9a-f]+)\] reserve_real_mode", log)
        assert int(m[2], 16) + 1 - int(m[1], 16) == p.trampoline_size
    c02 = (SEED / "c02_hp_above4g_no_movable_node" / "dmesg.txt").read_text()
    assert "NODE_DATA(0) allocated [mem 0x17ffd6000-0x17fffffff]" in c02
    assert p.node_data_size == 0x180000000 - 0x17ffd6000
    freed = sum(int(k) for k in re.findall(r"Freeing (?:unused|SMP alternatives)[^:]*: (\d+)K", c02))
    assert p.image_freed_bytes == freed << 10


def test_seed_kernel_end_is_the_image_end_in_the_simulation():
    from truthcases import load_truth, machine_for

    from sratplan.kernel.boot import boot

    d = SEED / "r03_real_hp_dl165g7_4n"
    t = load_truth(d)
    trace = boot(machine_for("5.10-seed", d, t))
    assert trace.memblock.kernel_end == t["kernel_image"]["image"]["end"] == 0x3E2C000
