"""sratplan.units: the kernel's number parsers and sratplan's size options."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.errors import UsageError
from sratplan.units import (
    fmt_range,
    fmt_size,
    kstrtobool,
    kstrtouint,
    memparse,
    parse_size,
    parse_start_size,
    simple_strtoull,
)


@pytest.mark.parametrize("text,value,end", [
    ("512M", 512 << 20, 4), ("0x1c0000000", 0x1C0000000, 11), ("7G", 7 << 30, 2), ("1k", 1024, 2),
    ("2T", 2 << 40, 2), ("1P", 1 << 50, 2), ("1E", 1 << 60, 2), ("20E", (20 << 60) % (1 << 64), 3),
    ("0100M", 64 << 20, 5),          # leading 0: octal, as simple_strtoull(…, 0)
    ("0x", 0, 1),                    # "0x" without a hex digit: the 0 only
    ("09", 0, 1),                    # 9 is not octal
    ("abc", 0, 0), ("", 0, 0), ("12Q", 12, 2), ("1GB", 1 << 30, 2),
    ("18446744073709551616", 0, 20),  # wraps modulo 2**64 like the C loop
])
def test_memparse(text, value, end):
    assert memparse(text) == (value, end)


def test_simple_strtoull_positions():
    assert simple_strtoull("x=0x10,", 2) == (16, 6)
    assert simple_strtoull("ff", 0, 16) == (255, 2)


def test_kstrto():
    assert [kstrtobool(x) for x in ("y", "Yes", "1", "on", "n", "0", "off", "of", "o", "", None, "maybe")] == \
        [True, True, True, True, False, False, False, False, None, None, None, None]
    assert kstrtouint("301") == 301 and kstrtouint("0x10") == 16 and kstrtouint("010") == 8
    assert kstrtouint("+5\n") == 5
    assert kstrtouint("4294967296") is None and kstrtouint("-1") is None and kstrtouint("5x") is None


@pytest.mark.parametrize("text,value", [
    ("4096", 4096), ("0x1000", 4096), ("4K", 4096), ("4k", 4096), ("2G", 2 << 30), ("2GiB", 2 << 30),
    ("2gb", 2 << 30), ("0x10M", 16 << 20), ("0x1e", 0x1E), ("0x1eb", 0x1EB), ("1e", 1 << 60), ("1_000", 1000),
    (" 64M ", 64 << 20),
])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "G", "0x", "1.5G", "-1", "0o17", "1 G", "12Q", "0x1G0", "99999E", "١٢"])
def test_parse_size_rejects(text):
    with pytest.raises(UsageError):
        parse_size(text)


def test_parse_start_size():
    assert parse_start_size("0xbfee4000:1029355") == (0xBFEE4000, 1029355)
    assert parse_start_size("16M:0x2000000") == (16 << 20, 32 << 20)
    for bad in ("16M", "1:0", "a:b", "1:2:3", "0xffffffffffffffff:2"):
        with pytest.raises(UsageError):
            parse_start_size(bad)


def test_formatting():
    assert fmt_size(0) == "0 B" and fmt_size(4096) == "4 KiB" and fmt_size(3 << 29) == "1.5 GiB"
    assert fmt_size(655360) == "640 KiB" and fmt_size(1 << 60) == "1 EiB"
    assert fmt_range(0x1000, 0x9F000) == "[mem 0x00001000-0x0009efff]"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parsers_total(text):
    v, p = memparse(text)
    assert 0 <= v < 1 << 64 and 0 <= p <= len(text)
    kstrtobool(text)
    kstrtouint(text)
    try:
        assert 0 <= parse_size(text) < 1 << 64
    except UsageError:
        pass
