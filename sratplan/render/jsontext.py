"""Indented JSON text, byte for byte what ``json.dumps(obj, indent=N)``
prints, without the standard library's pure-Python indenting encoder.

``json`` only uses its C encoder when ``indent`` is None; with an indent it
walks the document through nested Python generators, one small string per
token, which costs more than planning a machine of 2,000 ranges.  Our
documents hold only dicts with string keys, lists/tuples, strings, ints,
finite floats, booleans and None; :func:`dumps` writes those directly (the
strings through json's own C escaper) and hands anything else to
``json.dumps`` so the output never differs.  tests/render/test_jsontext.py
holds the two to the same text.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _string


class _Other(Exception):
    """Something this writer leaves to json.dumps."""


_EXACT = {str: _string, int: int.__repr__, bool: lambda b: "true" if b else "false",
          type(None): lambda _n: "null"}
_CONTAINERS = (list, tuple, dict)


def _scalar(o) -> str:
    f = _EXACT.get(type(o))
    if f is not None:
        return f(o)
    if isinstance(o, str):
        return _string(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float) and o == o and o not in (float("inf"), float("-inf")):
        return float.__repr__(o)
    raise _Other


_ITEM = object()  # the "key" of a list member


def _write(o, pad: str, step: str, out: list) -> None:
    if isinstance(o, (list, tuple)):
        if not o:
            out.append("[]")
            return
        inner = pad + step
        for v in o:
            if isinstance(v, _CONTAINERS):
                break
        else:
            # a list of scalars (most of a plan: [start, end] pairs) in one join
            out.append("[\n" + inner + (",\n" + inner).join(map(_scalar, o)) + "\n" + pad + "]")
            return
        _members("[", "]", ((_ITEM, v) for v in o), pad, step, out)
        return
    if isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        _members("{", "}", o.items(), pad, step, out)
        return
    out.append(_scalar(o))


def _members(opening: str, closing: str, items, pad: str, step: str, out: list) -> None:
    inner = pad + step
    out.append(opening + "\n" + inner)
    first = True
    for k, v in items:
        if not first:
            out.append(",\n" + inner)
        first = False
        if k is not _ITEM:
            if type(k) is not str:
                raise _Other  # json's key coercions: leave them to json
            out.append(_string(k) + ": ")
        if isinstance(v, _CONTAINERS):
            _write(v, inner, step, out)
        else:
            out.append(_scalar(v))
    out.append("\n" + pad + closing)


def dumps(obj, indent: int = 2) -> str:
    """``json.dumps(obj, indent=indent)``."""
    out: list = []
    try:
        _write(obj, "", " " * indent, out)
    except (_Other, RecursionError):
        return json.dumps(obj, indent=indent)
    return "".join(out)
