"""providers._json._loads calls json's C scanner directly: it must be json.loads exactly."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from streamrecover.providers._json import _loads

JSON_TEXT = st.text(
    st.sampled_from(list('{}[]",:0123456789.eE+-truefalsnl \t\n\r\\u\ufeffé日🙂\x00\x1f')),
    max_size=40,
)
EDGE_CASES = [
    "",
    " ",
    '{"a":1}',
    ' {"a":1}',
    '{"a":1} ',
    '{"a":1}\n',
    '{"a":1}x',
    '{"a":1}{"b":2}',
    "\ufeff{}",
    '{"a":"\\ud800"}',
    '{"a":"\x01"}',
    "[" * 100_000,
    "NaN",
    "-Infinity",
    "1e400",
    '"just a string"',
    "null",
    '{"a":{"b":[1,2.5,true,false,null]}}',
    '{"a":1,"a":2}',
]


def outcome(function: object, text: str) -> tuple[str, object]:
    try:
        return ("value", repr(function(text)))  # type: ignore[operator]
    except (ValueError, RecursionError) as exc:
        return (type(exc).__name__, str(exc))


def test_edge_cases_match_json_loads() -> None:
    for text in EDGE_CASES:
        assert outcome(_loads, text) == outcome(json.loads, text), text[:40]


@given(JSON_TEXT)
def test_any_text_matches_json_loads(text: str) -> None:
    assert outcome(_loads, text) == outcome(json.loads, text)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_dumped_values_match_json_loads(value: object) -> None:
    text = json.dumps(value)
    assert outcome(_loads, text) == outcome(json.loads, text)
