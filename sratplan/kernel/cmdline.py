"""The kernel command line, read the way Linux reads it.

Mirrors, for 5.10, 6.1, 6.12 and 7.2 (Debian sources):

* splitting: ``lib/cmdline.c:next_arg`` (quotes, first ``=``) and
  ``kernel/params.c:parse_args`` (stops at ``--``; names compare with ``-`` and
  ``_`` equal, ``parameq``);
* ``mem=`` / ``memmap=``: ``arch/x86/kernel/e820.c:parse_memopt`` /
  ``parse_memmap_one`` (applied to a map by
  :func:`sratplan.firmware.e820.apply_cmdline`);
* ``movable_node``: ``mm/memory_hotplug.c:cmdline_parse_movable_node``;
* ``kernelcore=`` / ``movablecore=``: ``cmdline_parse_kernelcore`` /
  ``cmdline_parse_core`` (mm/page_alloc.c in 5.10/6.1, mm/mm_init.c later);
* ``numa=``: ``arch/x86/mm/numa.c:numa_setup`` (prefix matches);
* ``acpi=``: ``arch/x86/kernel/acpi/boot.c:parse_acpi``;
* ``nokaslr``: ``arch/x86/lib/cmdline.c:cmdline_find_option_bool`` as the
  decompressor (``arch/x86/boot/compressed/kaslr.c``) uses it;
* ``crashkernel=``: ``kernel/crash_core.c`` (5.10, 6.1) /
  ``kernel/crash_reserve.c`` (6.12, 7.2), which search the raw command line
  with ``strstr`` and use the **last** match;
* ``memhp_default_state=``: ``mm/memory_hotplug.c`` + ``drivers/base/memory.c:
  mhp_online_type_from_str``; ``memory_hotplug.online_policy`` /
  ``auto_movable_ratio`` / ``auto_movable_numa_aware`` / ``memmap_on_memory``
  module parameters of mm/memory_hotplug.c.

Unknown parameters are ignored.  A known parameter the kernel would reject
("Malformed early option", "invalid for parameter") gives a finding and has the
kernel's effect (often none).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..findings import Finding, Severity
from ..firmware.e820 import E820Type
from ..units import PAGE_SHIFT, kstrtobool, kstrtouint, memparse, simple_strtoull

# A cap on what sratplan reads (the kernel's COMMAND_LINE_SIZE is 2048 on
# x86_64; bootloaders may pass more through setup_data, never megabytes).
MAX_CMDLINE_CHARS = 65536

# arch/x86/include/asm/setup.h COMMAND_LINE_SIZE 2048: the kernel copies at
# most 2047 characters plus the terminating NUL (boot protocol cmdline_size).
COMMAND_LINE_CHARS = 2047

ONLINE_TYPES = ("offline", "online", "online_kernel", "online_movable")
# parameters read only when memory is hot-added (mm/memory_hotplug.c,
# drivers/base/memory.c): the boot itself does not look at them
HOTADD_ONLY_PARAMS = frozenset({"memhp_default_state", "memory_hotplug.online_policy",
                                "memory_hotplug.auto_movable_ratio", "memory_hotplug.auto_movable_numa_aware",
                                "memory_hotplug.memmap_on_memory"})
ONLINE_POLICIES = ("contig-zones", "auto-movable")


# memmap= (arch/x86/kernel/e820.c:parse_memmap_one), one item at a time

@dataclass(frozen=True)
class MemmapOp:
    """One ``memmap=`` item as the kernel understood it.

    ``kind``: ``exactmap``, ``add`` (``N@S`` RAM, ``N#S`` ACPI, ``N$S``
    reserved, ``N!S`` PRAM, ``N%S+T`` add type T), ``update`` (``N%S-F+T``),
    ``remove`` (``N%S-F`` only type F, ``N%S`` any type) or ``limit``
    (plain ``memmap=N``, like ``mem=N``).  ``applied`` is False when the kernel
    parsed nothing useful (it returned -EINVAL *before* touching the table);
    ``malformed`` is True when it printed "Malformed early option" (which can
    happen *after* the table was already changed, e.g. trailing junk).
    """

    text: str
    kind: str
    size: int = 0
    start: int = 0
    type: int = 0
    old_type: int = 0
    applied: bool = True
    malformed: bool = False
    userdef: bool = True


def parse_memmap_item(text: str) -> MemmapOp:
    """``parse_memmap_one`` for one comma-separated ``memmap=`` item."""
    if text.startswith("exactmap"):
        # strncmp(p, "exactmap", 8): anything after it is ignored.
        return MemmapOp(text, "exactmap")
    size, p = memparse(text, 0)
    if p == 0:
        return MemmapOp(text, "invalid", applied=False, malformed=True, userdef=False)
    c = text[p:p + 1]
    kinds = {"@": E820Type.RAM, "#": E820Type.ACPI, "$": E820Type.RESERVED, "!": E820Type.PRAM}
    if c in kinds:
        start, p = memparse(text, p + 1)
        return MemmapOp(text, "add", size=size, start=start, type=int(kinds[c]), malformed=p != len(text))
    if c == "%":
        start, p = memparse(text, p + 1)
        old = new = 0
        if text[p:p + 1] == "-":
            old, p = simple_strtoull(text, p + 1, 0)
        if text[p:p + 1] == "+":
            new, p = simple_strtoull(text, p + 1, 0)
        # enum e820_type is a 32-bit value: a longer number is truncated.
        old &= 0xFFFFFFFF
        new &= 0xFFFFFFFF
        if p != len(text):
            return MemmapOp(text, "invalid", size=size, start=start, applied=False, malformed=True)
        if old and new:
            if old == new:
                # __e820__range_update() BUG_ON(old_type == new_type): the
                # kernel would crash here; sratplan refuses to model it.
                return MemmapOp(text, "update-same-type", size=size, start=start, type=new, old_type=old,
                                applied=False, malformed=True)
            return MemmapOp(text, "update", size=size, start=start, type=new, old_type=old)
        if new:
            return MemmapOp(text, "add", size=size, start=start, type=new)
        return MemmapOp(text, "remove", size=size, start=start, old_type=old)
    return MemmapOp(text, "limit", size=size, malformed=p != len(text))



@dataclass(frozen=True)
class CoreSpec:
    """``kernelcore=`` / ``movablecore=`` after the kernel parsed every
    occurrence in order.

    ``pages`` is the byte form shifted to pages (``required_kernelcore``);
    ``percent`` the ``N%`` form (``required_kernelcore_percent``), which the
    kernel evaluates first and which then **overrides** ``pages``;
    ``mirror`` is ``kernelcore=mirror`` (sticky once seen; only kernelcore).
    A later byte value resets percent to 0, but a later percent value does
    *not* reset pages — exactly like ``cmdline_parse_core``.
    """

    pages: int = 0
    percent: int = 0
    mirror: bool = False

    @property
    def bytes(self) -> int:
        return self.pages << PAGE_SHIFT

    def describe(self) -> str:
        if self.mirror:
            return "mirror"
        if self.percent:
            return f"{self.percent}%"
        return f"{self.pages} pages"


@dataclass(frozen=True)
class CrashkernelRequest:
    """What ``crashkernel=`` asks for, resolved against the system RAM size.

    ``base`` 0 means "find a place"; ``high`` is the ``,high`` form;
    ``low_size`` is the ``,low`` size or None for the kernel's default;
    ``cma_size`` the 7.x ``,cma`` extra.
    """

    size: int
    base: int = 0
    high: bool = False
    low_size: int | None = None
    cma_size: int = 0
    text: str = ""


@dataclass(frozen=True)
class KernelCmdline:
    """A parsed kernel command line.  Build one with :func:`parse_cmdline`."""

    raw: str
    params: tuple[tuple[str, str | None], ...] = ()
    init_args: tuple[str, ...] = ()
    movable_node: bool = False
    kernelcore: CoreSpec | None = None
    movablecore: CoreSpec | None = None
    # mem= and memmap= values in command-line order: ("mem"|"memmap", value)
    memory_map_ops: tuple[tuple[str, str | None], ...] = ()
    mem: int | None = None                       # max_mem_size from the last valid mem=
    numa_off: bool = False
    numa_noacpi: bool = False
    numa_nohmat: bool = False
    numa_fake: str | None = None
    nokaslr: bool = False
    acpi_off: bool = False
    acpi_options: tuple[str, ...] = ()
    crashkernel: tuple[str, ...] = ()            # every "crashkernel=" value strstr() finds, in order
    memhp_default_state: str | None = None       # offline|online|online_kernel|online_movable
    online_policy: str | None = None             # contig-zones|auto-movable
    auto_movable_ratio: int | None = None
    auto_movable_numa_aware: bool | None = None
    memmap_on_memory: bool | str | None = None   # True/False, or "force" (6.6+)
    memblock_debug: bool = False
    findings: tuple[Finding, ...] = field(default=())

    # -- derived ---------------------------------------------------------
    def boot_key(self) -> tuple:
        """What the boot model reads from this line: every parameter except
        the ones that act only on memory hot-added later (memhp_default_state=,
        memory_hotplug.*) and the strstr() view crashkernel= takes.  Two lines
        with the same key boot the same machine the same way."""
        params = tuple((n, v) for n, v in self.params if _norm(n) not in HOTADD_ONLY_PARAMS)
        return params, self.init_args, self.crashkernel

    def memblock_key(self) -> tuple:
        """What the boot reads before free_area_init(): :meth:`boot_key`
        without kernelcore= and movablecore=, which only
        find_zone_movable_pfns_for_nodes() reads -- after every early
        allocation is made (kernelcore=mirror is kept: it steers memblock to
        mirrored memory from the start)."""
        params, init_args, crash = self.boot_key()
        mirror = bool(self.kernelcore and self.kernelcore.mirror)
        params = tuple((n, v) for n, v in params if _norm(n) not in ("kernelcore", "movablecore"))
        return params, init_args, crash, mirror

    @property
    def userdef(self) -> bool:
        """The kernel prints a ``user:`` e820 map: some ``mem=`` with a value
        (``mem=junk`` too: parse_memopt sets userdef before its zero check) or
        a ``memmap=`` item that parse_memmap_one accepted."""
        for kind, value in self.memory_map_ops:
            if value is None:
                continue
            if kind == "mem":
                if value != "nopentium":
                    return True
            elif any(parse_memmap_item(item).userdef for item in value.split(",")):
                return True
        return False

    def get(self, name: str) -> str | None:
        """The value of the last occurrence of parameter *name* (``-``/``_``
        equal), or None.  A parameter given without ``=`` returns ``""``."""
        key = _norm(name)
        val = None
        found = False
        for n, v in self.params:
            if _norm(n) == key:
                found = True
                val = v
        if not found:
            return None
        return "" if val is None else val

    def has(self, name: str) -> bool:
        key = _norm(name)
        return any(_norm(n) == key for n, _ in self.params)

    def auto_online_blocks(self, profile) -> str:
        """What ``/sys/devices/system/memory/auto_online_blocks`` will say:
        ``memhp_default_state=`` if valid, else the kernel's build default
        (``KernelProfile.memhp_default_online``)."""
        return self.memhp_default_state or profile.memhp_default_online

    def effective_online_policy(self, profile) -> str | None:
        """``memory_hotplug.online_policy`` in effect (default contig-zones);
        None on kernels without the parameter (< 5.15)."""
        if profile.version < (5, 15):
            return None
        return self.online_policy or "contig-zones"

    def crashkernel_request(self, system_ram: int, profile=None) -> tuple[CrashkernelRequest | None, tuple[Finding, ...]]:
        """Resolve ``crashkernel=`` against the system RAM size (the kernel uses
        ``memblock_phys_mem_size()``), as ``reserve_crashkernel`` (5.10/6.1) or
        ``arch_reserve_crashkernel`` + ``parse_crashkernel`` (6.12+) does."""
        return resolve_crashkernel(self.raw, system_ram, profile)

    def with_changes(self, set: dict | None = None, remove=(), add=()) -> "KernelCmdline":
        """A new command line: parameters in *remove* (names) dropped, those in
        *set* replaced in place (or appended), bare words in *add* appended."""
        return parse_cmdline(format_cmdline(self, set=set, remove=remove, add=add))

    def to_json(self) -> dict:
        d = {"raw": self.raw, "movable_node": self.movable_node, "nokaslr": self.nokaslr,
             "numa_off": self.numa_off, "numa_noacpi": self.numa_noacpi, "acpi_off": self.acpi_off,
             "mem": self.mem, "memmap": [v for k, v in self.memory_map_ops if k == "memmap"],
             "kernelcore": self.kernelcore.describe() if self.kernelcore else None,
             "movablecore": self.movablecore.describe() if self.movablecore else None,
             "crashkernel": list(self.crashkernel), "memhp_default_state": self.memhp_default_state,
             "online_policy": self.online_policy, "auto_movable_ratio": self.auto_movable_ratio,
             "auto_movable_numa_aware": self.auto_movable_numa_aware,
             "memmap_on_memory": self.memmap_on_memory,
             "findings": [f.to_json() for f in self.findings]}
        return d


def _norm(name: str) -> str:
    # parameq()/dash2underscore(): '-' and '_' are the same in parameter names.
    return name.replace("-", "_")


def _isspace(c: str) -> bool:
    # The kernel's isspace() (lib/ctype.c) on ASCII: space, \t \n \v \f \r.
    return c in " \t\n\v\f\r"


def _skip_spaces(s: str, i: int) -> int:
    while i < len(s) and _isspace(s[i]):
        i += 1
    return i


def split_args(text: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    """``parse_args``/``next_arg``: split into ``(param, value)`` pairs (value
    None when there is no ``=``); everything after a bare ``--`` goes to init
    and is returned as the second list."""
    params: list[tuple[str, str | None]] = []
    i = _skip_spaces(text, 0)
    n = len(text)
    while i < n:
        in_quote = quoted = False
        start = i
        if text[i] == '"':
            start += 1
            in_quote = quoted = True
        j = start
        equals = -1
        while j < n:
            c = text[j]
            if _isspace(c) and not in_quote:
                break
            if equals < 0 and c == "=":
                equals = j
            if c == '"':
                in_quote = not in_quote
            j += 1
        word = text[start:j]
        # next_arg(): strip a closing quote of a quoted word, and quotes
        # around the value.
        if equals < 0:
            param, val = word, None
            if quoted and word.endswith('"'):
                param = word[:-1]
        else:
            k = equals - start
            param, val = word[:k], word[k + 1:]
            if val.startswith('"'):
                val = val[1:]
                if val.endswith('"'):
                    val = val[:-1]
            elif quoted and val.endswith('"'):
                val = val[:-1]
        i = _skip_spaces(text, j + 1 if j < n else j)
        if val is None and param == "--":
            rest = text[i:]
            return params, rest.split() if rest else []
        params.append((param, val))
    return params, []


def find_option_bool(text: str, option: str, limit: int = 2048) -> bool:
    """``arch/x86/lib/cmdline.c:__cmdline_find_option_bool`` (what the
    decompressor uses for ``nokaslr``): *option* must be a whole word — at the
    start or after "whitespace", and followed by whitespace or the end (so
    ``nokaslr=1`` does **not** count).  Whitespace there is ``myisspace``: any
    character <= ' '.  Quotes are not special, and only the first
    COMMAND_LINE_SIZE (2048) characters are scanned."""
    s = text.split("\0", 1)[0][:limit]
    n, m = len(s), len(option)

    def sp(c: str) -> bool:
        return c <= " "

    i = 0
    while i <= n - m:
        if (i == 0 or sp(s[i - 1])) and s.startswith(option, i) and (i + m == n or sp(s[i + m])):
            return True
        i += 1
    return False


def _f(code: str, sev: Severity, msg: str, where: str = "cmdline", param=None) -> Finding:
    """A command-line finding; ``param`` is the ``(name, value)`` occurrence it
    is about (value None for a bare word), so advice can drop exactly that."""
    return Finding(code=code, severity=sev, message=msg, where=where,
                   extra=(("param", param),) if param is not None else ())


def finding_param(f: Finding):
    """The ``(name, value)`` command-line occurrence a finding is about, or None."""
    return dict(f.extra).get("param")


def _parse_core(val: str, spec: CoreSpec) -> CoreSpec:
    # cmdline_parse_core(): "N%" (simple_strtoull then '%') or memparse bytes.
    v, p = simple_strtoull(val, 0, 0)
    if val[p:p + 1] == "%":
        return replace(spec, percent=v)
    b, _ = memparse(val, 0)
    return replace(spec, pages=b >> PAGE_SHIFT, percent=0)


def parse_cmdline(text: str | None, profile=None) -> KernelCmdline:
    """Parse a kernel command line with the kernel's own semantics.

    *profile* (a :class:`~sratplan.kernel.profile.KernelProfile`) only matters
    for version-dependent parameters (``memory_hotplug.*``); without it the
    newest semantics apply.  Never raises for any string; overlong input is
    cut at :data:`MAX_CMDLINE_CHARS` with a finding.
    """
    findings: list[Finding] = []
    raw = "" if text is None else str(text)
    if len(raw) > MAX_CMDLINE_CHARS:
        findings.append(_f("CMDLINE_TOO_LONG", Severity.WARNING,
                           f"command line longer than {MAX_CMDLINE_CHARS} characters; the rest is ignored "
                           "(the kernel itself keeps at most 2048 on x86_64)"))
        raw = raw[:MAX_CMDLINE_CHARS]
    if len(raw) > COMMAND_LINE_CHARS:
        findings.append(_f("CMDLINE_TRUNCATED", Severity.WARNING,
                           f"command line is {len(raw)} characters; x86 kernels keep only the first "
                           f"{COMMAND_LINE_CHARS} (COMMAND_LINE_SIZE 2048 with its NUL), the rest is lost"))
        raw = raw[:COMMAND_LINE_CHARS]
    params, init_args = split_args(raw)
    version = getattr(profile, "version", (99, 0))

    st: dict = dict(movable_node=False, kernelcore=None, movablecore=None, mem=None, numa_off=False,
                    numa_noacpi=False, numa_nohmat=False, numa_fake=None, acpi_off=False,
                    memhp_default_state=None, online_policy=None, auto_movable_ratio=None,
                    auto_movable_numa_aware=None, memmap_on_memory=None, memblock_debug=False)
    mm_ops: list[tuple[str, str | None]] = []
    acpi_opts: list[str] = []

    def malformed(name, val, why, sev=Severity.WARNING, whole=None):
        shown = name if val is None else f"{name}={val}"
        findings.append(_f("CMDLINE_MALFORMED", sev, f"'{shown}': {why}", where=f"cmdline {name}",
                           param=(name, whole if whole is not None else val)))

    for name, val in params:
        key = _norm(name)
        if key == "movable_node":
            st["movable_node"] = True
        elif key in ("kernelcore", "movablecore"):
            cur = st[key] or CoreSpec()
            if val is None:
                if key == "kernelcore":
                    malformed(name, val, "no value: the kernel hands a NULL string to its kernelcore parser "
                                         "(undefined behaviour); give kernelcore=SIZE, N% or mirror",
                              Severity.ERROR)
                else:
                    malformed(name, val, "needs a value (movablecore=SIZE or N%); ignored")
                continue
            if key == "kernelcore" and _option_str(val, "mirror"):
                st[key] = replace(cur, mirror=True)
                continue
            new = _parse_core(val, cur)
            if new.percent > 100:
                findings.append(_f("CMDLINE_PERCENT_OVER_100", Severity.WARNING,
                                   f"'{name}={val}': more than 100% (the kernel WARNs and uses it anyway)",
                                   where=f"cmdline {name}"))
            if new.percent == 0 and new.pages == 0 and not val.startswith("0"):
                malformed(name, val, "not a size or percentage; it means 0 (no effect)")
            st[key] = new
        elif key == "mem":
            mm_ops.append(("mem", val))
            if val is None:
                malformed(name, val, "needs a value; ignored")
            elif val == "nopentium":
                malformed(name, val, "only meaningful on 32-bit kernels; ignored (\"mem=nopentium ignored!\")",
                          Severity.INFO)
            else:
                v, p = memparse(val, 0)
                if v == 0:
                    malformed(name, val, "0 or not a size; the kernel ignores it but still reprints the "
                                         "e820 map as user-defined")
                else:
                    st["mem"] = v
                    if p != len(val):
                        findings.append(_f("CMDLINE_TRAILING_JUNK", Severity.INFO,
                                           f"'{name}={val}': the kernel reads {v:#x} and ignores "
                                           f"{val[p:]!r}", where=f"cmdline {name}"))
        elif key == "memmap":
            mm_ops.append(("memmap", val))
            if val is None:
                malformed(name, val, "needs a value; ignored")
                continue
            for item in val.split(","):
                op = parse_memmap_item(item)
                if op.kind == "update-same-type":
                    findings.append(_f("CMDLINE_MEMMAP_BUG", Severity.ERROR,
                                       f"'memmap={item}': converting a type to itself hits BUG_ON in "
                                       "__e820__range_update (the kernel crashes); sratplan ignores it",
                                       where="cmdline memmap", param=(name, val)))
                elif op.malformed:
                    what = "ignored" if not op.applied else "applied, but the kernel reports it as malformed"
                    malformed(name, item, f"not a valid memmap= item; {what}", whole=val)
                if op.kind == "limit" and op.size == 0 and op.applied:
                    findings.append(_f("CMDLINE_MEMMAP_ZERO", Severity.ERROR,
                                       f"'memmap={item}': a plain memmap=0 removes all RAM from the e820 map "
                                       "(unlike mem=0, which is ignored)", where="cmdline memmap",
                                       param=(name, val)))
                if len(item) and op.kind in ("add", "remove", "update") and op.size == 0:
                    findings.append(_f("CMDLINE_MEMMAP_EMPTY", Severity.INFO,
                                       f"'memmap={item}': size 0, nothing to do", where="cmdline memmap"))
        elif key == "numa":
            if val is None:
                malformed(name, val, "needs a value (off, noacpi, nohmat, fake=…); ignored")
                continue
            known = False
            if val.startswith("off"):
                st["numa_off"] = known = True
            if val.startswith("fake="):
                st["numa_fake"] = val[5:]
                known = True
            if val.startswith("noacpi"):
                st["numa_noacpi"] = known = True
            if val.startswith("nohmat"):
                st["numa_nohmat"] = known = True
            if not known:
                findings.append(_f("CMDLINE_IGNORED", Severity.INFO,
                                   f"'numa={val}': not an x86 numa= option the kernel acts on",
                                   where="cmdline numa"))
        elif key == "acpi":
            if val is None:
                malformed(name, val, "needs a value; ignored")
                continue
            acpi_opts.append(val)
            if val == "off":
                st["acpi_off"] = True
            elif val == "force":
                st["acpi_off"] = False   # acpi=force clears acpi_disabled again
            elif val not in ("strict", "rsdt", "noirq", "copy_dsdt", "nocmcff") and \
                    not (val == "spcr" and version >= (7, 0)):   # acpi=spcr: checked in 7.2.13, not 6.12
                malformed(name, val, "not an acpi= option the kernel knows; ignored")
        elif key == "memhp_default_state" and val is not None:
            # __setup("memhp_default_state="): an unknown state is ignored silently.
            v = val[:-1] if val.endswith("\n") else val
            if v in ONLINE_TYPES:
                st["memhp_default_state"] = v
            else:
                malformed(name, val, f"not one of {', '.join(ONLINE_TYPES)}; the kernel silently ignores it")
        elif key.startswith("memory_hotplug."):
            _module_param(key[len("memory_hotplug."):], name, val, st, version, findings, malformed)
        elif key == "memblock":
            if val is not None and "debug" in val:
                st["memblock_debug"] = True
    # memhp_default_state without "=" is not matched by __setup at all.
    nokaslr = find_option_bool(_kernel_part(raw), "nokaslr")
    # crashkernel= is found with strstr() on the raw line, not by parameter
    # name: "xcrashkernel=64M" counts (verified on 5.10, 6.1, 6.12 and 7.2).
    crash = tuple(_strstr_values(raw, "crashkernel="))
    cl = KernelCmdline(raw=raw, params=tuple(params), init_args=tuple(init_args),
                       memory_map_ops=tuple(mm_ops), nokaslr=nokaslr, acpi_options=tuple(acpi_opts),
                       crashkernel=crash, findings=tuple(findings), **st)
    if crash:
        # Parse errors of crashkernel= do not depend on the RAM size for the
        # simple forms; check them once with a generous size.
        req, more = resolve_crashkernel(raw, 1 << 62, profile)
        if more:
            cl = replace(cl, findings=cl.findings + more)
    return cl


def _strstr_values(raw: str, name: str) -> list[str]:
    out = []
    p = raw.find(name)
    while p >= 0:
        end = raw.find(" ", p)
        out.append(raw[p + len(name): end if end >= 0 else len(raw)])
        p = raw.find(name, p + 1)
    return out


def _kernel_part(raw: str) -> str:
    # The decompressor scans the whole boot command line (it knows nothing of
    # "--"); keep it whole.
    return raw


def _option_str(s: str, option: str) -> bool:
    """lib/cmdline.c:parse_option_str — *option* as one item of a comma list."""
    for item in s.split(","):
        if item == option:
            return True
    return False


def _module_param(pname, name, val, st, version, findings, malformed):
    """memory_hotplug.* module parameters (mm/memory_hotplug.c)."""
    if pname == "online_policy":
        if version < (5, 15):
            _absent(name, findings, "5.15")
        elif val is None:
            malformed(name, val, "needs a value (contig-zones or auto-movable)")
        else:
            # sysfs_match_string(): exact match, one trailing newline allowed.
            v = val[:-1] if val.endswith("\n") else val
            if v in ONLINE_POLICIES:
                st["online_policy"] = v
            else:
                malformed(name, val, "not contig-zones or auto-movable; the kernel rejects it")
    elif pname == "auto_movable_ratio":
        if version < (5, 15):
            _absent(name, findings, "5.15")
        else:
            v = kstrtouint(val)
            if v is None:
                malformed(name, val, "not an unsigned number; the kernel rejects it")
            else:
                st["auto_movable_ratio"] = v
    elif pname == "auto_movable_numa_aware":
        if version < (5, 15):
            _absent(name, findings, "5.15")
        else:
            b = True if val is None else kstrtobool(val)
            if b is None:
                malformed(name, val, "not a boolean (y/n/1/0/on/off); the kernel rejects it")
            else:
                st["auto_movable_numa_aware"] = b
    elif pname == "memmap_on_memory":
        if version < (5, 12):
            _absent(name, findings, "5.12")
            return
        if val is not None and version >= (6, 6) and (val.rstrip("\n") in ("force", "FORCE")):
            st["memmap_on_memory"] = "force"
            return
        b = True if val is None else kstrtobool(val)
        if b is None:
            malformed(name, val, "not a boolean; the kernel rejects it")
        else:
            if val is not None and val.rstrip("\n") in ("force", "FORCE"):
                # Before 6.6 the parameter is a plain bool and kstrtobool()
                # reads only the first letter: "force" is 'f' = false.
                findings.append(_f("CMDLINE_FORCE_MEANS_OFF", Severity.WARNING,
                                   f"'{name}={val}': this kernel has no \"force\" mode (6.6+); it reads the "
                                   "'f' as false and turns memmap_on_memory OFF", where=f"cmdline {name}"))
            st["memmap_on_memory"] = b


def _absent(name, findings, since):
    findings.append(_f("CMDLINE_IGNORED", Severity.INFO,
                       f"'{name}' does not exist in this kernel (added in {since}); ignored",
                       where=f"cmdline {name}"))


# ---------------------------------------------------------------------------
# crashkernel= (kernel/crash_core.c, kernel/crash_reserve.c)


def _get_last_crashkernel(cmdline: str, suffix: str | None, suffixes: tuple[str, ...]) -> int | None:
    """``get_last_crashkernel``: strstr() for "crashkernel=" (so
    ``xcrashkernel=`` matches too), the last one whose word (up to a space)
    ends with *suffix* — or, with no suffix, with none of the known ones."""
    name = "crashkernel="
    found = None
    p = cmdline.find(name)
    while p >= 0:
        end = cmdline.find(" ", p)
        if end < 0:
            end = len(cmdline)
        word = cmdline[p:end]
        if suffix is None:
            if not any(word.endswith(s) for s in suffixes):
                found = p
        elif word.endswith(suffix):
            found = p
        p = cmdline.find(name, p + 1)
    return found


def _parse_ck_mem(s: str, system_ram: int, roundup: bool = True) -> tuple[int, int, str | None]:
    """parse_crashkernel_mem: ``range:size[,range:size…][@offset]``.  6.1 and
    later first round the RAM size up to 128 MiB ("firmware sometimes reserves
    some memory"); 5.10 compares the raw size."""
    total = (system_ram + (128 << 20) - 1) // (128 << 20) * (128 << 20) if roundup else system_ram
    cur = 0
    size = 0
    while True:
        start, t = memparse(s, cur)
        if t == cur:
            return 0, 0, "memory value expected"
        cur = t
        if s[cur:cur + 1] != "-":
            return 0, 0, "'-' expected"
        cur += 1
        end = None
        if s[cur:cur + 1] != ":":
            end, t = memparse(s, cur)
            if t == cur:
                return 0, 0, "memory value expected"
            cur = t
            if end <= start:
                return 0, 0, "end <= start"
        if s[cur:cur + 1] != ":":
            return 0, 0, "':' expected"
        cur += 1
        sz, t = memparse(s, cur)
        if t == cur:
            return 0, 0, "memory value expected"
        cur = t
        if sz >= total:
            return 0, 0, "invalid size (not below the system RAM)"
        if total >= start and (end is None or total < end):
            size = sz
            break
        c = s[cur:cur + 1]
        cur += 1
        if c != ",":
            break
    base = 0
    if size > 0:
        while cur < len(s) and s[cur] not in " @":
            cur += 1
        if s[cur:cur + 1] == "@":
            base, t = memparse(s, cur + 1)
            if t == cur + 1:
                return 0, 0, "memory value expected after '@'"
    return size, base, None


def _parse_ck(cmdline: str, system_ram: int, suffix: str | None, suffixes, roundup: bool = True
              ) -> tuple[str, int, int, str | None]:
    """__parse_crashkernel: returns (status, size, base, error) where status is
    'ok', 'enoent' or 'einval'."""
    p = _get_last_crashkernel(cmdline, suffix, suffixes)
    if p is None:
        return "enoent", 0, 0, None
    s = cmdline[p + len("crashkernel="):]
    if suffix:
        size, t = memparse(s, 0)
        if t == 0:
            return "einval", 0, 0, "memory value expected"
        if not s.startswith(suffix, t):
            return "einval", size, 0, f"unrecognized char: {s[t:t + 1]!r}"
        t += len(suffix)
        if t < len(s) and s[t] != " ":
            return "einval", size, 0, f"unrecognized char: {s[t:t + 1]!r}"
        return "ok", size, 0, None
    colon = s.find(":")
    space = s.find(" ")
    if colon >= 0 and (space < 0 or colon < space):
        size, base, err = _parse_ck_mem(s, system_ram, roundup)
        return ("einval" if err else "ok"), size, base, err
    size, t = memparse(s, 0)
    if t == 0:
        return "einval", 0, 0, "memory value expected"
    base = 0
    if s[t:t + 1] == "@":
        base, t = memparse(s, t + 1)
    elif t < len(s) and s[t] != " ":
        return "einval", size, 0, f"unrecognized char: {s[t:t + 1]!r}"
    return "ok", size, base, None


def resolve_crashkernel(cmdline: str, system_ram: int, profile=None
                        ) -> tuple[CrashkernelRequest | None, tuple[Finding, ...]]:
    """The crashkernel reservation request for this command line, or None.

    5.10/6.1 (``reserve_crashkernel`` in arch/x86/kernel/setup.c): the plain
    form first; if it is absent, invalid or 0, the ``,high`` form; the ``,low``
    size is read later (None here = the kernel's default).  6.12+ (generic
    ``parse_crashkernel``): ``,high`` is only tried when no plain form exists,
    a missing ``,low`` means the default, and any size ≥ system RAM is refused.
    """
    version = getattr(profile, "version", (99, 0))
    generic = version >= (6, 7)
    suffixes = (",high", ",low", ",cma") if version >= (6, 14) else (",high", ",low")
    findings: list[Finding] = []

    def bad(err):
        findings.append(_f("CMDLINE_CRASHKERNEL_INVALID", Severity.WARNING,
                           f"crashkernel=: {err}; no crash kernel memory is reserved", where="cmdline crashkernel"))

    roundup = version >= (6, 0)
    st, size, base, err = _parse_ck(cmdline, system_ram, None, suffixes, roundup)
    if err:
        bad(err)
    if not generic:
        high = False
        if st != "ok" or size <= 0:
            st, size, base, err2 = _parse_ck(cmdline, system_ram, ",high", suffixes, roundup)
            if err2:
                bad(err2)
            if st != "ok" or size <= 0:
                return None, tuple(findings)
            high = True
        # reserve_crashkernel_low() reads ",low" whenever the region ends up
        # above 4 GiB; report its value (or None = default) either way.
        low = None
        lst, lsize, _, lerr = _parse_ck(cmdline, system_ram, ",low", suffixes)
        if lst == "ok":
            low = lsize
        elif lerr:
            bad(lerr)
        return CrashkernelRequest(size=size, base=base, high=high, low_size=low,
                                  text=_ck_text(cmdline)), tuple(findings)
    high = False
    low = None
    if st == "enoent":
        st, size, base, err2 = _parse_ck(cmdline, 0, ",high", suffixes)
        if err2:
            bad(err2)
        if st != "ok" or not size:
            return None, tuple(findings)
        lst, lsize, _, lerr = _parse_ck(cmdline, 0, ",low", suffixes)
        if lst == "ok":
            low = lsize
        elif lst == "einval":
            bad(lerr)
            return None, tuple(findings)
        high = True
        base = 0
    if st != "ok" or not size:
        return None, tuple(findings)
    if size >= system_ram:
        bad(f"size {size:#x} is not below the system RAM ({system_ram:#x})")
        return None, tuple(findings)
    cma = 0
    if ",cma" in suffixes:
        cst, csize, _, _ = _parse_ck(cmdline, 0, ",cma", suffixes)
        cma = csize if cst == "ok" else 0
    return CrashkernelRequest(size=size, base=base, high=high, low_size=low, cma_size=cma,
                              text=_ck_text(cmdline)), tuple(findings)


def _ck_text(cmdline: str) -> str:
    return " ".join(w for w in cmdline.split() if "crashkernel=" in w)


# ---------------------------------------------------------------------------
# Building command lines for advice


def _quote(name: str, val: str | None) -> str:
    if val is None:
        return name
    if any(_isspace(c) for c in val) or val == "":
        return f'{name}="{val}"'
    return f"{name}={val}"


def format_cmdline(cl: KernelCmdline | str, set: dict | None = None, remove=(), add=(), drop=()) -> str:
    """Rebuild a command line, optionally changed: names in *remove* dropped
    (every occurrence), ``(name, value)`` occurrences in *drop* dropped, names
    in *set* given the new value (value None → bare word; the first occurrence
    is replaced in place and later ones dropped, or the parameter is
    appended), words in *add* appended if not present.  Words after ``--``
    are kept at the end."""
    if isinstance(cl, str):
        cl = parse_cmdline(cl)
    set = dict(set or {})
    rm = {_norm(n) for n in remove}
    dropped = {(_norm(n), v) for n, v in drop}
    setn = {_norm(k): (k, v) for k, v in set.items()}
    out: list[str] = []
    done: dict[str, bool] = {}
    for n, v in cl.params:
        k = _norm(n)
        if k in rm or (k, v) in dropped:
            continue
        if k in setn:
            if k in done:
                continue
            name, newv = setn[k]
            out.append(_quote(n, newv))
            done[k] = True
            continue
        out.append(_quote(n, v))
    for k, (name, v) in setn.items():
        if k not in done:
            out.append(_quote(name, v))
    present = {_norm(n) for n, _ in cl.params}
    for w in add:
        if _norm(w.split("=", 1)[0]) not in present or "=" in w:
            if w not in out:
                out.append(w)
    text = " ".join(out)
    if cl.init_args:
        text += " -- " + " ".join(cl.init_args)
    return text
