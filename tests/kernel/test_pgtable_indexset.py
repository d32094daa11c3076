"""pgtable.IndexSet behaves as a set of ints under the operations the
direct-map walk uses (random operation sequences against a Python set)."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from sratplan.kernel.pgtable import IndexSet

idx = st.integers(0, 80)
ops = st.lists(st.one_of(
    st.tuples(st.just("add"), idx, idx),
    st.tuples(st.just("discard"), idx, idx),
    st.tuples(st.just("update"), idx, st.integers(0, 20)),
), max_size=40)


@settings(max_examples=400, deadline=None)
@given(ops, st.lists(st.tuples(idx, st.integers(0, 30)), max_size=10))
def test_indexset_is_a_set(script, queries):
    got, want = IndexSet(), set()
    for op, a, b in script:
        if op == "add":
            got.add(a)
            want.add(a)
        elif op == "discard":
            got.discard(a)
            want.discard(a)
        else:
            got.update(range(a, a + b))
            want.update(range(a, a + b))
        assert all((x in got) == (x in want) for x in range(-1, 110))
        assert len(got) == len(want)
        # intervals stay sorted, disjoint and never touching
        assert all(s < e for s, e in zip(got.starts, got.ends))
        assert all(e < s for e, s in zip(got.ends, got.starts[1:]))
    for lo, span in queries:
        hi = lo + span
        assert got.next_in(lo, hi) == min((x for x in want if lo <= x < hi), default=hi)
    assert pickle.loads(pickle.dumps(got)) == got
