"""Reading what the user gave: every input file goes through here.

A read is bounded by its cap (the read itself, not a size from ``stat()``:
``/proc`` and ``/sys`` report 0 or 4096 for files of any length, and a
growing file or a device has no size at all), never blocks (a FIFO or a
character device is refused before anything is read: a FIFO without a
writer would wait forever, ``/dev/zero`` never ends), and never changes the
file.  Errors are :class:`~sratplan.errors.InputError` /
:class:`~sratplan.errors.LimitError` naming the path.
"""

from __future__ import annotations

import errno
import os
import stat

from .errors import InputError, LimitError

CHUNK = 1 << 20


def _open(path) -> int:
    try:
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("no such file or directory", path=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory", path=str(path)) from None
    except PermissionError:
        raise InputError("permission denied (firmware tables and boot logs in /sys and /dev need root)",
                         path=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=str(path)) from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise InputError("is a directory", path=str(path))
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise InputError(f"not a regular file ({kind}): sratplan reads files, not streams", path=str(path))
    return fd


def read_bytes(path, cap: int, *, what: str = "input") -> bytes:
    """All of a regular file, at most ``cap`` bytes; a longer one is a
    LimitError (nothing is silently cut)."""
    fd = _open(path)
    try:
        chunks, size = [], 0
        while size <= cap:
            try:
                b = os.read(fd, min(CHUNK, cap + 1 - size))
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno == errno.EINTR:
                    continue
                raise InputError(f"cannot read: {e.strerror or e}", path=str(path)) from None
            if not b:
                break
            chunks.append(b)
            size += len(b)
    finally:
        os.close(fd)
    if size > cap:
        raise LimitError(f"{what} is larger than the {cap}-byte cap", path=str(path))
    return b"".join(chunks)


def read_text(path, cap: int, *, what: str = "input") -> str:
    """:func:`read_bytes` decoded as UTF-8 (undecodable bytes replaced)."""
    return read_bytes(path, cap, what=what).decode("utf-8", "replace")


def read_head(path, size: int) -> bytes:
    """The first ``size`` bytes of a regular file (for recognising its form)."""
    fd = _open(path)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)
