"""providers._json._loads calls json's C scanner directly: it must be json.loads exactly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import ProviderProtocolError
from streamrecover.core.sse import ServerSentEvent
from streamrecover.providers import get_provider
from streamrecover.providers._json import JSONStreamParser, _loads

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


def test_a_text_delta_made_from_its_parts_is_an_ordinary_text_delta() -> None:
    from dataclasses import FrozenInstanceError

    from streamrecover.core.events import TextDelta
    from streamrecover.providers._json import new_event, set_text

    event = new_event(TextDelta)
    set_text(event, "héllo 🙂")
    built = TextDelta(text="héllo 🙂")
    assert type(event) is TextDelta
    assert (event == built, hash(event) == hash(built), repr(event)) == (True, True, repr(built))
    with pytest.raises(FrozenInstanceError):
        event.text = "changed"  # type: ignore[misc]


def decoded(text: str) -> tuple[str, object]:
    # What a parser's _decode (which runs _loads inline) makes of ``text``.
    parser = get_provider("openai").new_parser()
    assert isinstance(parser, JSONStreamParser)
    parser._event = ServerSentEvent(data=text)
    try:
        return ("value", repr(parser._decode(text)))
    except ProviderProtocolError:
        return ("refused", None)


def expected(text: str) -> tuple[str, object]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return ("refused", None)
    return ("value", repr(value)) if type(value) is dict else ("refused", None)


@given(JSON_TEXT)
def test_decode_is_json_loads_of_an_object(text: str) -> None:
    assert decoded(text) == expected(text)


def test_decode_edge_cases() -> None:
    for text in EDGE_CASES:
        assert decoded(text) == expected(text), text[:40]
