"""sratplan.records behaves as dataclasses does for every feature the package
uses: each case defines the same class body twice, once with @dataclass and
once with @record, and compares what the two do."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar

import pytest

from sratplan import records


def both(body, **opts):
    """The class ``body`` (a function returning a fresh namespace-defining
    class) decorated by dataclasses and by records with the same options."""
    dc_field = {"field": dataclasses.field}
    rec_field = {"field": records.field}
    a = dataclasses.dataclass(**opts)(body(**dc_field))
    b = records.record(**opts)(body(**rec_field))
    return a, b


def point(field):
    class Point:
        """A point."""

        x: int
        y: int = 0
        tags: list = field(default_factory=list)
        note: str = field(default="", compare=False)
        K: ClassVar[int] = 7

        def norm(self):
            return abs(self.x) + abs(self.y)

    return Point


OPTS = [dict(), dict(frozen=True), dict(frozen=True, order=True), dict(frozen=True, slots=True), dict(order=True)]


@pytest.mark.parametrize("opts", OPTS, ids=str)
def test_same_behaviour(opts):
    D, R = both(point, **opts)
    for args, kw in [((1,), {}), ((1, 2), {}), ((), {"x": 3, "y": 4, "note": "n"}), ((1, 2, [5]), {})]:
        d, r = D(*args, **kw), R(*args, **kw)
        assert repr(d).replace(D.__qualname__, "P") == repr(r).replace(R.__qualname__, "P")
        assert [getattr(d, n) for n in ("x", "y", "tags", "note")] == [getattr(r, n) for n in ("x", "y", "tags", "note")]
        assert d.norm() == r.norm() and R.K == 7
        assert (r == R(*args, **kw)) and r != R(99) and r != object() and not (r == d)
        assert R(*args, **{**kw, "note": "other"}) == r  # compare=False
        if opts.get("frozen"):
            h = R(*args[:2], **{**kw, "tags": ()})
            assert hash(h) == hash(R(*args[:2], **{**kw, "tags": ()})) == hash(D(*args[:2], **{**kw, "tags": ()}))
            with pytest.raises(dataclasses.FrozenInstanceError):
                r.x = 5
            with pytest.raises(dataclasses.FrozenInstanceError):
                del r.y
        else:
            assert D.__hash__ is None and R.__hash__ is None
            r.x = 5
            assert r.x == 5
        rr = records.replace(r, y=9)
        assert (rr.x, rr.y, rr.tags) == (r.x, 9, r.tags)
        assert copy.deepcopy(r) == r and copy.copy(r) == r
    assert R(1).tags is not R(1).tags                       # a fresh default per instance
    assert records.fields(R) == ("x", "y", "tags", "note") == tuple(f.name for f in dataclasses.fields(D))
    assert R.__match_args__ == D.__match_args__
    assert R.__doc__ == "A point."
    if opts.get("order"):
        assert sorted([R(2), R(1, 5), R(1, 2)]) == [R(1, 2), R(1, 5), R(2)]
        assert (R(1) < R(2)) == (D(1) < D(2)) and (R(2) >= R(2)) and not (R(3) <= R(2))
    else:
        with pytest.raises(TypeError):
            R(1) < R(2)  # noqa: B015
    if opts.get("slots"):
        assert "__slots__" in R.__dict__ and not hasattr(R(1), "__dict__")


def test_errors_as_dataclasses():
    D, R = both(point, frozen=True)
    for cls in (D, R):
        with pytest.raises(TypeError):
            cls()
        with pytest.raises(TypeError):
            cls(1, 2, [], "", 5)
        with pytest.raises(TypeError):
            cls(1, z=2)
    with pytest.raises(TypeError):
        records.replace(R(1), z=3)
    with pytest.raises(ValueError):
        records.field(default=1, default_factory=list)

    with pytest.raises(TypeError):
        @records.record
        class Bad:
            a: int = 1
            b: int

    for decorate in (dataclasses.dataclass, records.record):
        with pytest.raises(ValueError):
            @decorate
            class Shared:
                a: list = []  # noqa: RUF012 - the mistake under test


def test_post_init_own_methods_and_class_defaults():
    @records.record(frozen=True)
    class P:
        a: int
        b: int = 2
        c: tuple = records.field(default=(1,))
        d: list = records.field(default_factory=list)

        def __post_init__(self):
            object.__setattr__(self, "a", self.a * 10)

        def __repr__(self):
            return "mine"

    p = P(1, d=())
    assert p.a == 10 and repr(p) == "mine"
    assert P.b == 2 and P.c == (1,) and not hasattr(P, "d")   # as dataclasses leaves them
    assert hash(p) == hash(P(1, d=()))


def test_model_and_kernel_records_are_records():
    from sratplan.firmware.e820 import E820Entry
    from sratplan.kernel.memblock import Region

    e = E820Entry(0x1000, 0x2000, 1)
    assert sorted([E820Entry(0x1000, 0x1000, 2), e, E820Entry(5, 1, 1)]) == [
        E820Entry(5, 1, 1), E820Entry(0x1000, 0x1000, 2), e]
    assert pickle.loads(pickle.dumps(e)) == e
    r = Region(1, 2)
    assert r.end == 3 and r == Region(1, 2, 0, r.nid) and len({r, Region(1, 2)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.base = 0
    assert pickle.loads(pickle.dumps(r)) == r and copy.deepcopy(r) == r
