"""The fast canonical-JSON path must be byte-identical to the rfc8785 library on the ledger's domain."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from custodes.kit.canonical import _in_fast_domain, canonical_json

SAFE = 2**53 - 1
scalars = st.none() | st.booleans() | st.integers(-SAFE, SAFE) | st.text()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)
ascii_keyed = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)


def _encodable(value: Any) -> bool:
    try:
        rfc8785.dumps(value)
    except Exception:
        return False
    return True


@given(ascii_keyed)
def test_fast_path_matches_rfc8785(value: Any) -> None:
    if _encodable(value):
        assert canonical_json(value) == rfc8785.dumps(value)


@given(values)
def test_any_value_matches_rfc8785(value: Any) -> None:
    if _encodable(value):
        assert canonical_json(value) == rfc8785.dumps(value)


def test_floats_and_non_ascii_keys_go_to_the_library() -> None:
    assert not _in_fast_domain({"a": 1.5})
    assert not _in_fast_domain({"é": 1})
    assert not _in_fast_domain(2**60)
    assert canonical_json({"b": 1.0, "a": [1e21, -0.0]}) == rfc8785.dumps({"b": 1.0, "a": [1e21, -0.0]})
    assert canonical_json({"\U0001f600": 1, "\ufb01": 2}) == rfc8785.dumps({"\U0001f600": 1, "\ufb01": 2})


def test_entry_shaped_value() -> None:
    entry = {
        "v": 1,
        "index": 7,
        "at": "2026-01-01T00:00:00.000000Z",
        "actor": "staff:S1",
        "op": "consultation",
        "object": {"type": "nominal", "id": "N1"},
        "subjects": ["N1"],
        "justification": 'CASE/1 \u2028 "q"',
        "recipients": [],
        "detail": {"x": None, "y": True},
        "salt": "00" * 16,
    }
    assert canonical_json(entry) == rfc8785.dumps(entry)
