"""Numbers and sizes: the kernel's own number parsers and sratplan's formatters.

Two families live here:

* Kernel-faithful parsers used to read a kernel command line exactly as Linux
  does: :func:`simple_strtoull` (lib/vsprintf.c, lib/kstrtox.c:
  ``_parse_integer_fixup_radix`` / ``_parse_integer_limit``), :func:`memparse`
  (lib/cmdline.c) and :func:`kstrtobool` / :func:`kstrtouint` (lib/kstrtox.c).
  Identical in 5.10, 6.1, 6.12 and 7.2.  They return where parsing stopped, wrap
  modulo 2**64 like the C code and never raise.
* User-facing parsers for sratplan's own options (``--initrd START:SIZE``,
  hand-written e820 maps): :func:`parse_size` and :func:`parse_start_size`
  accept hex ``0x…``, decimal and K/M/G/T/P/E suffixes and raise
  :class:`~sratplan.errors.UsageError` on anything else — unlike the kernel they
  never guess (no octal, no trailing junk).
"""

from __future__ import annotations

from .errors import UsageError

U64_MASK = (1 << 64) - 1
U32_MAX = (1 << 32) - 1

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30
TIB = 1 << 40
PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
# the kernel's SZ_* names where kernel code uses them (include/linux/sizes.h)
SZ_1M = MIB
SZ_4G = 4 * GIB

# memparse(): a suffix letter shifts by 10 for itself and every smaller unit.
_SUFFIX_SHIFT = {"k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}

# A cap on how many characters a number may have before sratplan gives up on it
# (the kernel reads up to INT_MAX digits; 4096 is far beyond any real value and
# keeps hostile input cheap).
MAX_NUMBER_CHARS = 4096


def _fixup_radix(s: str, pos: int, base: int) -> tuple[int, int]:
    """lib/kstrtox.c:_parse_integer_fixup_radix — base 0 means C rules:
    ``0x`` + hex digit → 16, a leading ``0`` → 8 (octal!), else 10."""
    if base == 0:
        if s[pos:pos + 1] == "0":
            if s[pos + 1:pos + 2].lower() == "x" and s[pos + 2:pos + 3] in _HEXDIGITS:
                base = 16
            else:
                base = 8
        else:
            base = 10
    if base == 16 and s[pos:pos + 1] == "0" and s[pos + 1:pos + 2].lower() == "x":
        pos += 2
    return base, pos


_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
_DECDIGITS = frozenset("0123456789")
_DIGIT_VALUE = {c: int(c, 16) for c in _HEXDIGITS}


def simple_strtoull(s: str, pos: int = 0, base: int = 0) -> tuple[int, int]:
    """Kernel ``simple_strtoull(s + pos, &end, base)``: returns ``(value, end)``.

    No sign, no leading blanks.  ``end == pos`` (or just past a ``0x``) when no
    digit was read; the value wraps modulo 2**64 exactly like the C loop.
    """
    base, p = _fixup_radix(s, pos, base)
    val = 0
    n = len(s)
    limit = min(n, p + MAX_NUMBER_CHARS)
    while p < limit:
        c = s[p]
        d = _DIGIT_VALUE.get(c)
        if d is None:
            break
        if d >= base:
            break
        val = (val * base + d) & U64_MASK
        p += 1
    return val, p


def memparse(s: str, pos: int = 0) -> tuple[int, int]:
    """lib/cmdline.c:memparse — a number (C radix rules) optionally followed by
    one of K/M/G/T/P/E (either case).  Returns ``(value, end)``; value wraps
    modulo 2**64 (``memparse("20E")`` is 0x4000000000000000 << 0 wrapped)."""
    val, p = simple_strtoull(s, pos, 0)
    c = s[p:p + 1].lower()
    if c in _SUFFIX_SHIFT:
        val = (val << _SUFFIX_SHIFT[c]) & U64_MASK
        p += 1
    return val, p


def kstrtobool(s: str | None) -> bool | None:
    """lib/kstrtox.c:kstrtobool — first letter y/Y/t/T/1 or n/N/f/F/0, or
    ``on``/``of…``; anything else is None (the kernel's -EINVAL)."""
    if s is None or s == "":
        return None
    c = s[0]
    if c in "yYtT1":
        return True
    if c in "nNfF0":
        return False
    if c in "oO" and len(s) > 1:
        if s[1] in "nN":
            return True
        if s[1] in "fF":
            return False
    return None


def kstrtouint(s: str | None) -> int | None:
    """lib/kstrtox.c:kstrtouint(s, 0) — whole string must be a number (one
    trailing newline allowed, optional leading ``+``), no overflow past 2**32-1;
    None means -EINVAL/-ERANGE."""
    if not s:
        return None
    t = s[1:] if s[0] == "+" else s
    if t.endswith("\n"):
        t = t[:-1]
    if not t or len(t) > MAX_NUMBER_CHARS:
        return None
    base, p = _fixup_radix(t, 0, 0)
    digits = t[p:]
    if not digits:
        return None
    try:
        v = int(digits, base)
    except ValueError:
        return None
    if digits.startswith(("+", "-", "_")) or "_" in digits or v > U32_MAX:
        return None
    return v


# ---------------------------------------------------------------------------
# user-facing parsing (sratplan options, hand-written maps)


def parse_size(text: str, *, what: str = "size") -> int:
    """Parse ``0x1f000``, ``4096``, ``512M``, ``2G``, ``0x10M`` … into bytes.

    Hex (``0x``) or decimal digits, then at most one K/M/G/T/P/E suffix (either
    case, an optional trailing ``B``/``iB`` is accepted: ``2GiB``).  Raises
    UsageError naming *what* on anything else or on values of 2**64 and up.
    """
    if not isinstance(text, str):
        raise UsageError(f"{what}: expected a number, got {type(text).__name__}")
    # the common case (every number of an e820 map): bare hex or decimal
    if text[:2] in ("0x", "0X") and 2 < len(text) <= 18 and _HEXDIGITS.issuperset(text[2:]):
        return int(text[2:], 16)
    if 0 < len(text) <= 19 and _DECDIGITS.issuperset(text):
        return int(text)
    t = text.strip().replace("_", "")
    if not t or len(t) > 64:
        raise UsageError(f"{what}: {text!r} is not a number")
    low = t.lower()
    hexa = low.startswith("0x")
    # In hex, "e" (and "b") are digits, so only the non-hex unit letters count.
    units = "kmgtp" if hexa else "kmgtpe"
    for tail in ("ib", "b"):
        if len(low) > len(tail) + 1 and low.endswith(tail) and low[-len(tail) - 1] in units:
            low = low[: -len(tail)]
            break
    shift = 0
    if low[-1] in units:
        shift = _SUFFIX_SHIFT[low[-1]]
        low = low[:-1]
    digits = low[2:] if hexa else low
    if not digits or not digits.isascii() or not all(c in (_HEXDIGITS if hexa else _DECDIGITS) for c in digits):
        raise UsageError(f"{what}: {text!r} is not a number (use hex 0x…, decimal, or a K/M/G/T suffix)")
    v = int(digits, 16 if hexa else 10)
    v <<= shift
    if v > U64_MASK:
        raise UsageError(f"{what}: {text!r} does not fit in 64 bits")
    return v


def parse_start_size(text: str, *, what: str = "range") -> tuple[int, int]:
    """Parse ``START:SIZE`` (each as :func:`parse_size`) into ``(start, size)``.

    The end (start + size) must not pass 2**64 and the size must be non-zero.
    """
    if not isinstance(text, str) or text.count(":") != 1:
        raise UsageError(f"{what}: expected START:SIZE, got {text!r}")
    a, b = text.split(":")
    start = parse_size(a, what=f"{what} start")
    size = parse_size(b, what=f"{what} size")
    if size == 0:
        raise UsageError(f"{what}: size must not be zero")
    if start + size > 1 << 64:
        raise UsageError(f"{what}: {text!r} runs past the end of the 64-bit address space")
    return start, size


# ---------------------------------------------------------------------------
# formatting


def fmt_hex(value: int, width: int = 0) -> str:
    """``0x`` + lowercase hex, zero-padded to *width* digits (kernel ``%#0Nllx``
    style without the kernel's quirk of counting the ``0x`` in the width)."""
    return f"0x{value:0{width}x}" if width else f"0x{value:x}"


def fmt_size(n: int) -> str:
    """Human size with a binary unit: ``4 KiB``, ``1.5 GiB``, ``640 KiB``.

    Exact multiples print without decimals; others get up to two decimals.
    """
    if n < 0:
        return "-" + fmt_size(-n)
    units = (("EiB", 60), ("PiB", 50), ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10))
    for name, sh in units:
        if n >= 1 << sh:
            if n % (1 << sh) == 0:
                return f"{n >> sh} {name}"
            return f"{n / (1 << sh):.2f}".rstrip("0").rstrip(".") + f" {name}"
    return f"{n} B"


def fmt_range(start: int, end: int) -> str:
    """A half-open range ``[start, end)`` as the kernel prints it: inclusive end,
    ``[mem 0x…-0x…]`` with at least 8 hex digits (``%#010Lx``)."""
    last = max(start, end - 1)
    return f"[mem {start:#010x}-{last:#010x}]"
