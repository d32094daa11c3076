"""render.jsontext.dumps prints exactly what json.dumps(indent=N) prints:
random documents, the values json treats specially, and every bundled
example's plan."""

from __future__ import annotations

import enum
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.render import jsontext

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(1 << 70), 1 << 70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
docs = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.lists(kids, max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=5), kids, max_size=4)), max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(docs, st.sampled_from([1, 2, 4]))
def test_same_text_as_json(doc, indent):
    assert jsontext.dumps(doc, indent) == json.dumps(doc, indent=indent)


class Sev(str, enum.Enum):
    ERROR = "error"


class Num(enum.IntEnum):
    ONE = 1


@pytest.mark.parametrize("doc", [
    {}, [], {"a": []}, {"a": {}}, [[[]]], {1: "int key"}, {None: 1, True: 2, 1.5: 3},
    {"sev": Sev.ERROR, "n": Num.ONE}, {"x": float("nan")}, "é\u2028\x00", 10 ** 30,
])
def test_special_values(doc):
    assert jsontext.dumps(doc) == json.dumps(doc, indent=2)


def test_other_objects_raise_as_json_does():
    with pytest.raises(TypeError):
        jsontext.dumps({"a": object()})


@pytest.mark.parametrize("name", [ex["name"] for ex in __import__("sratplan.examples").examples.all_examples()])
def test_every_example_plan(name):
    from sratplan import examples
    from sratplan.commands.plan import build_parser, machine_from_args
    from sratplan.plan import plan

    args = examples.apply(examples.get(name), build_parser().parse_args([]))
    doc = plan(machine_from_args(args)).to_json()
    assert jsontext.dumps(doc) == json.dumps(doc, indent=2)
