"""Request translation between wire formats: round trips and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from streamrecover.core.errors import UsageError
from streamrecover.providers.translate import (
    UntranslatableError,
    read_body,
    translate_body,
)

CHAT: dict[str, Any] = {
    "model": "gpt-4o",
    "stream": True,
    "messages": [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in "},
                {"type": "text", "text": "Paris?"},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"},
        {"role": "assistant", "content": "It is 18C."},
        {"role": "user", "content": "Thanks; and tomorrow?"},
    ],
    "max_completion_tokens": 300,
    "temperature": 0.2,
    "top_p": 0.9,
    "stop": ["END"],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Weather now",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ],
    "tool_choice": {"type": "function", "function": {"name": "weather"}},
}

FORMATS = ("openai", "anthropic", "gemini", "openai-responses")


@pytest.mark.parametrize("target", FORMATS)
def test_round_trip_through_every_format_keeps_the_conversation(target: str) -> None:
    source = dict(CHAT)
    if target == "openai-responses":
        del source["stop"]  # refused there, see below
    there = translate_body(source, "openai", target, model="other")
    assert there["model"] == "other"
    back = translate_body(there, target, "openai", model="gpt-4o")
    assert read_body(back, "openai", "openai") == read_body(source, "openai", "openai")


@pytest.mark.parametrize("target", ["openai-responses", "gemini"])
def test_json_schema_mode_round_trips(target: str) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema},
        },
    }
    back = translate_body(translate_body(body, "openai", target), target, "openai")
    assert back["response_format"] == body["response_format"]


def test_stop_sequences_to_responses_are_refused() -> None:
    with pytest.raises(UntranslatableError) as caught:
        translate_body(CHAT, "openai", "openai-responses")
    assert caught.value.field == "stop"


def test_gemini_shape_and_made_up_call_ids() -> None:
    body = translate_body(CHAT, "openai", "gemini", model="gemini-2.5-pro")
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["generationConfig"]["maxOutputTokens"] == 300
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user", "model", "user"]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["weather"]}
    }
    idless = {
        "model": "g",
        "contents": [
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"x": 1}}}]},
        ],
    }
    chat = translate_body(idless, "gemini", "openai")
    call_id = chat["messages"][0]["tool_calls"][0]["id"]
    assert chat["messages"][1] == {"role": "tool", "tool_call_id": call_id, "content": '{"x": 1}'}


def test_gemini_server_tools_and_safety_settings_are_refused() -> None:
    with pytest.raises(UntranslatableError, match=r"tools\[0\]"):
        translate_body(
            {"model": "g", "contents": [], "tools": [{"googleSearch": {}}]}, "gemini", "openai"
        )
    with pytest.raises(UntranslatableError, match="safetySettings"):
        translate_body({"model": "g", "contents": [], "safetySettings": []}, "gemini", "openai")


def test_responses_hosted_tools_and_state_are_refused() -> None:
    with pytest.raises(UntranslatableError, match=r"tools\[0\]\.type"):
        translate_body(
            {"model": "o", "input": "hi", "tools": [{"type": "web_search"}]},
            "openai-responses",
            "anthropic",
        )
    with pytest.raises(UntranslatableError, match="previous_response_id"):
        translate_body(
            {"model": "o", "input": "hi", "previous_response_id": "r1"},
            "openai-responses",
            "anthropic",
        )


def test_chat_to_anthropic_shape() -> None:
    body = translate_body(CHAT, "openai", "anthropic", model="claude-sonnet-4-5")
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 300
    assert body["stop_sequences"] == ["END"]
    assert body["tool_choice"] == {"type": "tool", "name": "weather"}
    assert body["tools"][0]["input_schema"]["properties"]["city"] == {"type": "string"}
    assert [m["role"] for m in body["messages"]] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert body["messages"][1]["content"][0] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "weather",
        "input": {"city": "Paris"},
    }
    assert body["messages"][2]["content"][0]["type"] == "tool_result"


def test_image_is_refused_naming_the_field() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:..."}}]}
        ],
    }
    with pytest.raises(UntranslatableError) as caught:
        translate_body(body, "openai", "anthropic")
    assert caught.value.field == "messages[0].content[0].type"
    assert isinstance(caught.value, UsageError)


def test_anthropic_cache_control_and_server_tools_are_refused() -> None:
    cached = {
        "model": "c",
        "max_tokens": 5,
        "system": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}],
        "messages": [],
    }
    with pytest.raises(UntranslatableError, match=r"system\[0\]\.cache_control"):
        translate_body(cached, "anthropic", "openai")
    server = {
        "model": "c",
        "max_tokens": 5,
        "messages": [],
        "tools": [{"type": "web_search_20250305", "name": "web_search"}],
    }
    with pytest.raises(UntranslatableError, match=r"tools\[0\]\.type"):
        translate_body(server, "anthropic", "openai")


def test_json_mode_to_anthropic_is_refused() -> None:
    body = {"model": "m", "messages": [], "response_format": {"type": "json_object"}}
    with pytest.raises(UntranslatableError, match="response_format"):
        translate_body(body, "openai", "anthropic")


def test_unknown_top_level_field_is_refused_not_dropped() -> None:
    body = {"model": "m", "messages": [], "logit_bias": {"1": 2}}
    with pytest.raises(UntranslatableError, match="logit_bias"):
        translate_body(body, "openai", "anthropic")


def test_a_participant_name_on_a_chat_message_is_refused_not_dropped() -> None:
    body = {"model": "m", "messages": [{"role": "user", "name": "alice", "content": "hi"}]}
    with pytest.raises(UntranslatableError) as caught:
        translate_body(body, "openai", "gemini")
    assert caught.value.field == "messages[0].name"


def test_a_system_message_in_mid_conversation_is_refused_not_moved() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "now terse"}],
    }
    with pytest.raises(UntranslatableError) as caught:
        translate_body(body, "openai", "anthropic")
    assert caught.value.field == "messages[1].role"
