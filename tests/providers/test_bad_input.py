"""Malformed and misshapen events: always a clear ProviderProtocolError, never a bare crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import (
    Fault,
    ProviderProtocolError,
    ProviderStreamError,
    UsageError,
)
from streamrecover.core.events import TextDelta, ToolCallDelta
from streamrecover.core.sse import ServerSentEvent
from streamrecover.providers import get_provider, provider_names

ALL = provider_names()

# Malformed JSON and JSON that is not an object, for every provider: (data, message words).
NOT_AN_OBJECT = [
    ('{"choices": [{"delta": {"content": "hi"', "malformed JSON"),
    ("[1, 2, 3]", "got array"),
    ('"just a string"', "got string"),
    ("null", "got null"),
    ("[" * 50_000, "too deeply"),
]

# Frames of the wrong shape: (provider, SSE event type, frame, words the message holds).
WRONG_SHAPE: list[tuple[str, str, dict[str, Any], str]] = [
    ("openai", "message", {"choices": {"0": {}}}, "'choices'"),
    ("openai", "message", {"choices": [42]}, "choice must be an object"),
    (
        "openai",
        "message",
        {"choices": [{"index": 0, "delta": {"content": 5}}]},
        "'content' must be a string",
    ),
    (
        "openai",
        "message",
        {
            "choices": [
                {"index": 0, "delta": {"content": "a", "role": "assistant", "tool_calls": {}}}
            ]
        },
        "'tool_calls'",
    ),
    (
        "openai",
        "message",
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": "0"}]}}]},
        "'index'",
    ),
    (
        "openai",
        "message",
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": -1}]}}]},
        "negative",
    ),
    (
        "openai",
        "message",
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": {"a": 1}}}]},
                }
            ]
        },
        "'arguments'",
    ),
    ("openai", "message", {"choices": [{"index": 0, "delta": "text"}]}, "'delta'"),
    (
        "openai",
        "message",
        {"choices": [{"index": 0, "delta": {}, "finish_reason": 1}]},
        "'finish_reason'",
    ),
    ("openai", "message", {"choices": [], "usage": [1]}, "'usage'"),
    ("openai", "message", {"choices": [], "usage": {"prompt_tokens": "12"}}, "'prompt_tokens'"),
    ("openai", "message", {"choices": [], "usage": {"prompt_tokens": -3}}, "non-negative"),
    ("openai-responses", "message", {"delta": "hi"}, "missing field 'type'"),
    (
        "openai-responses",
        "response.output_text.delta",
        {"type": "response.output_text.delta"},
        "missing field 'delta'",
    ),
    (
        "openai-responses",
        "response.output_text.delta",
        {"type": "response.output_text.delta", "delta": 7},
        "'delta' must be a string",
    ),
    (
        "openai-responses",
        "response.created",
        {"type": "response.created", "sequence_number": "1", "response": {"id": "r"}},
        "'sequence_number'",
    ),
    (
        "openai-responses",
        "response.created",
        {"type": "response.created", "sequence_number": 0},
        "missing field 'response'",
    ),
    (
        "openai-responses",
        "response.created",
        {"type": "response.created", "response": {"status": "x"}},
        "missing field 'id'",
    ),
    (
        "openai-responses",
        "response.function_call_arguments.delta",
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_9",
            "output_index": 3,
            "delta": "{",
        },
        "never added",
    ),
    (
        "openai-responses",
        "response.output_item.added",
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "function_call", "id": "fc_1", "name": "f"},
        },
        "missing field 'call_id'",
    ),
    (
        "openai-responses",
        "response.completed",
        {"type": "response.completed", "response": {"usage": {"input_tokens": 1.5}}},
        "'input_tokens'",
    ),
    ("anthropic", "message_start", {"message": {}}, "missing field 'type'"),
    (
        "anthropic",
        "content_block_delta",
        {"type": "content_block_delta", "index": 0},
        "missing field 'delta'",
    ),
    (
        "anthropic",
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}},
        "missing field 'text'",
    ),
    (
        "anthropic",
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"text": "x"}},
        "missing field 'type'",
    ),
    (
        "anthropic",
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 4,
            "delta": {"type": "input_json_delta", "partial_json": "{"},
        },
        "never started",
    ),
    (
        "anthropic",
        "content_block_delta",
        {"type": "content_block_delta", "delta": {"type": "input_json_delta", "partial_json": "{"}},
        "missing field 'index'",
    ),
    (
        "anthropic",
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "name": "f", "input": {}},
        },
        "missing field 'id'",
    ),
    (
        "anthropic",
        "content_block_start",
        {"type": "content_block_start", "index": "0", "content_block": {"type": "text"}},
        "'index' must be an integer",
    ),
    (
        "anthropic",
        "message_delta",
        {"type": "message_delta", "delta": {"stop_reason": 3}},
        "'stop_reason'",
    ),
    ("anthropic", "error", {"type": "error", "message": "Overloaded"}, "missing field 'error'"),
    (
        "anthropic",
        "message_start",
        {"type": "message_start", "message": {"usage": {"input_tokens": "9"}}},
        "'input_tokens'",
    ),
    ("gemini", "message", {"candidates": {"content": {}}}, "'candidates'"),
    ("gemini", "message", {"candidates": ["x"]}, "candidate must be an object"),
    (
        "gemini",
        "message",
        {"candidates": [{"content": {"parts": [{"text": 1}]}}]},
        "'text' must be a string",
    ),
    ("gemini", "message", {"candidates": [{"content": {"parts": {"text": "a"}}}]}, "'parts'"),
    (
        "gemini",
        "message",
        {"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]},
        "missing field 'name'",
    ),
    (
        "gemini",
        "message",
        {"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": [1]}}]}}]},
        "'args'",
    ),
    (
        "gemini",
        "message",
        {"candidates": [{"finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": "7"}},
        "'promptTokenCount'",
    ),
    ("gemini", "message", {"error": "boom"}, "'error' must be an object"),
]

BAD: list[tuple[str, str, str, str]] = [
    *[(name, "message", data, words) for name in ALL for data, words in NOT_AN_OBJECT],
    *[(name, kind, json.dumps(frame), words) for name, kind, frame, words in WRONG_SHAPE],
]


def bad_id(case: tuple[str, str, str, str]) -> str:
    return f"{case[0]}:{case[2][:40]}"


@pytest.mark.parametrize("case", BAD, ids=[bad_id(case) for case in BAD])
def test_bad_event_is_a_provider_protocol_error(
    case: tuple[str, str, str, str],
) -> None:
    name, event_type, data, words = case
    parser = get_provider(name).new_parser()
    with pytest.raises(ProviderProtocolError) as info:
        parser.feed(ServerSentEvent(event=event_type, data=data))
    error = info.value
    assert error.provider == name
    assert str(error).startswith(f"{name}: ")
    assert words in str(error)
    # The offending event is named (type and an excerpt), and the excerpt is short.
    assert error.event.startswith(f"{event_type}: ")
    assert data[:20] in error.event
    assert len(str(error)) < 600
    assert isinstance(error, Fault)  # one failed attempt, like a reset
    assert parser.failed
    with pytest.raises(UsageError):
        parser.feed(ServerSentEvent(data="{}"))


def test_the_json_error_is_chained() -> None:
    parser = get_provider("openai").new_parser()
    with pytest.raises(ProviderProtocolError) as info:
        parser.feed(ServerSentEvent(data="{nope"))
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


@pytest.mark.parametrize("name", ALL)
def test_empty_data_and_keepalives_are_ignored(name: str) -> None:
    parser = get_provider(name).new_parser()
    assert parser.feed(ServerSentEvent(data="")) == []
    assert parser.feed(ServerSentEvent(event="ping", data="")) == []
    assert not parser.complete


# -- fuzzing: any JSON of roughly the right vocabulary --------------------------------

KEYS = st.sampled_from(
    [
        "type",
        "choices",
        "index",
        "delta",
        "content",
        "reasoning",
        "reasoning_content",
        "refusal",
        "tool_calls",
        "id",
        "function",
        "name",
        "arguments",
        "finish_reason",
        "usage",
        "error",
        "message",
        "code",
        "status",
        "sequence_number",
        "response",
        "item",
        "item_id",
        "output_index",
        "call_id",
        "content_block",
        "text",
        "partial_json",
        "thinking",
        "signature",
        "stop_reason",
        "candidates",
        "parts",
        "functionCall",
        "args",
        "thought",
        "thoughtSignature",
        "finishReason",
        "usageMetadata",
        "promptFeedback",
        "blockReason",
        "incomplete_details",
        "input_tokens",
        "output_tokens",
        "prompt_tokens",
        "promptTokenCount",
    ]
)
TYPES = st.sampled_from(
    [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "message_delta",
        "message_stop",
        "error",
        "text_delta",
        "thinking_delta",
        "signature_delta",
        "input_json_delta",
        "tool_use",
        "text",
        "thinking",
        "function_call",
        "response.created",
        "response.output_text.delta",
        "response.output_item.added",
        "response.output_item.done",
        "response.function_call_arguments.delta",
        "response.completed",
        "response.incomplete",
        "response.failed",
        "response.reasoning_summary_text.delta",
        "STOP",
        "[DONE]",
    ]
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | TYPES
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=25,
)


@pytest.mark.parametrize("name", ALL)
@given(frames=st.lists(JSON_VALUES, min_size=1, max_size=6))
def test_any_json_gives_events_or_a_fault_never_a_crash(name: str, frames: list[Any]) -> None:
    parser = get_provider(name).new_parser()
    for frame in frames:
        data = frame if isinstance(frame, str) and frame == "[DONE]" else json.dumps(frame)
        try:
            events = parser.feed(ServerSentEvent(data=data))
        except (ProviderProtocolError, ProviderStreamError):
            break
        for event in events:
            if isinstance(event, TextDelta):
                assert isinstance(event.text, str)
            if isinstance(event, ToolCallDelta):
                assert isinstance(event.arguments, str) and event.index >= 0
