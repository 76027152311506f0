"""Request translation across every ordered pair of wire formats.

A conversation every format can express (system, multi-part text, an assistant
tool call and its result in the history, sampling, a token limit, tools and a
forced tool choice) is written in each format, translated to every other one
and back, and must come back as the same conversation.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from streamrecover.core.errors import UsageError
from streamrecover.providers.translate import (
    UntranslatableError,
    read_body,
    translate_request,
)
from streamrecover.providers.translate.neutral import ToolCall, ToolResult

FORMATS = ("openai", "anthropic", "gemini", "openai-responses")

COMMON: dict[str, Any] = {
    "model": "gpt-4o",
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
        {"role": "user", "content": "And tomorrow?"},
    ],
    "max_tokens": 300,
    "temperature": 0.5,
    "top_p": 0.75,
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

#: Where each format keeps the token limit.
LIMIT_FIELD = {
    "openai": ("max_completion_tokens", "max_tokens"),
    "anthropic": ("max_tokens",),
    "openai-responses": ("max_output_tokens",),
}


def in_format(fmt: str) -> dict[str, Any]:
    return translate_request(COMMON, source="openai", target=fmt, model=f"{fmt}-model")


def neutral(body: dict[str, Any], fmt: str) -> Any:
    return read_body(body, fmt, fmt)


def token_limit(body: dict[str, Any], fmt: str) -> Any:
    if fmt == "gemini":
        return body["generationConfig"]["maxOutputTokens"]
    return next(body[k] for k in LIMIT_FIELD[fmt] if k in body)


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(FORMATS, 2)))
def test_every_pair_carries_the_conversation_there_and_back(source: str, target: str) -> None:
    original = in_format(source)
    there = translate_request(original, source=source, target=target, model="fallback-model")
    assert there["model"] == "fallback-model"
    assert token_limit(there, target) == 300
    back = translate_request(there, source=target, target=source, model=f"{source}-model")
    assert neutral(back, source) == neutral(original, source)


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(FORMATS, 2)))
def test_every_pair_keeps_the_tool_call_and_its_result(source: str, target: str) -> None:
    there = translate_request(in_format(source), source=source, target=target)
    turns = neutral(there, target).turns
    calls = [p for t in turns for p in t.parts if isinstance(p, ToolCall)]
    results = [p for t in turns for p in t.parts if isinstance(p, ToolResult)]
    assert [(c.name, dict(c.arguments)) for c in calls] == [("weather", {"city": "Paris"})]
    assert [(r.name, r.content) for r in results] == [("weather", "18C, sunny")]
    assert results[0].call_id == calls[0].id
    assert [t.role for t in turns] == ["user", "assistant", "user", "assistant", "user"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_format_translation_is_the_identity_on_the_conversation(fmt: str) -> None:
    body = in_format(fmt)
    assert neutral(translate_request(body, source=fmt, target=fmt), fmt) == neutral(body, fmt)


@pytest.mark.parametrize("source", FORMATS)
def test_the_written_bodies_use_each_formats_own_names(source: str) -> None:
    anthropic = translate_request(in_format(source), source=source, target="anthropic")
    assert anthropic["system"] == "Be brief."
    assert anthropic["tool_choice"] == {"type": "tool", "name": "weather"}
    assert anthropic["tools"][0]["input_schema"]["type"] == "object"
    gemini = translate_request(in_format(source), source=source, target="gemini")
    assert gemini["generationConfig"]["temperature"] == 0.5
    assert gemini["generationConfig"]["topP"] == 0.75
    assert gemini["tools"][0]["functionDeclarations"][0]["name"] == "weather"
    chat = translate_request(in_format(source), source=source, target="openai")
    assert chat["messages"][0] == {"role": "system", "content": "Be brief."}
    assert chat["tools"][0]["function"]["name"] == "weather"


def test_stop_sequences_cross_the_formats_that_have_them() -> None:
    body = dict(COMMON, stop=["END", "STOP"])
    anthropic = translate_request(body, source="openai", target="anthropic")
    assert anthropic["stop_sequences"] == ["END", "STOP"]
    gemini = translate_request(anthropic, source="anthropic", target="gemini")
    assert gemini["generationConfig"]["stopSequences"] == ["END", "STOP"]
    chat = translate_request(gemini, source="gemini", target="openai")
    assert chat["stop"] == ["END", "STOP"]


@pytest.mark.parametrize(
    ("body", "source", "target", "field"),
    [
        (
            {
                "model": "c",
                "max_tokens": 5,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
                        ],
                    }
                ],
            },
            "anthropic",
            "gemini",
            "messages[0].content[0].cache_control",
        ),
        (
            {"model": "c", "max_tokens": 5, "messages": [], "metadata": {"user_id": "u"}},
            "anthropic",
            "openai",
            "metadata",
        ),
        (
            {"model": "m", "messages": [], "logprobs": True},
            "openai",
            "gemini",
            "logprobs",
        ),
    ],
)
def test_refusals_name_the_field(
    body: dict[str, Any], source: str, target: str, field: str
) -> None:
    with pytest.raises(UntranslatableError) as caught:
        translate_request(body, source=source, target=target)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert isinstance(caught.value, UsageError)


def test_an_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cohere"):
        translate_request(COMMON, source="openai", target="cohere")


FAILED_TOOL = {
    "model": "c",
    "max_tokens": 5,
    "messages": [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "boom", "is_error": True}
            ],
        },
    ],
}


@pytest.mark.parametrize("target", ["openai", "openai-responses"])
def test_a_failed_tool_result_is_refused_where_no_error_flag_exists(target: str) -> None:
    with pytest.raises(UntranslatableError) as caught:
        translate_request(FAILED_TOOL, source="anthropic", target=target)
    assert caught.value.field == "messages[2].content[0].is_error"


def test_a_failed_tool_result_crosses_gemini_as_its_error_response() -> None:
    gemini = translate_request(FAILED_TOOL, source="anthropic", target="gemini")
    answer = gemini["contents"][-1]["parts"][0]["functionResponse"]
    assert answer["response"] == {"error": "boom"}
    back = translate_request(gemini, source="gemini", target="anthropic", model="c")
    assert neutral(back, "anthropic") == neutral(FAILED_TOOL, "anthropic")
    with pytest.raises(UntranslatableError) as caught:
        translate_request(gemini, source="gemini", target="openai")
    assert caught.value.field == "contents[2].parts[0].functionResponse.response.error"


def _chat_tool(**function: Any) -> dict[str, Any]:
    spec = {"name": "f", "parameters": {"type": "object"}, **function}
    return {"model": "m", "messages": [], "tools": [{"type": "function", "function": spec}]}


def test_a_strict_tool_crosses_between_the_openai_formats() -> None:
    responses = translate_request(
        _chat_tool(strict=True), source="openai", target="openai-responses"
    )
    assert responses["tools"][0]["strict"] is True
    chat = translate_request(responses, source="openai-responses", target="openai")
    assert chat["tools"][0]["function"]["strict"] is True


@pytest.mark.parametrize("target", ["anthropic", "gemini"])
def test_a_strict_tool_is_refused_where_strictness_is_unknown(target: str) -> None:
    with pytest.raises(UntranslatableError) as caught:
        translate_request(_chat_tool(strict=True), source="openai", target=target)
    assert caught.value.field == "tools[0].function.strict"


@pytest.mark.parametrize(
    ("body", "source", "field"),
    [
        (_chat_tool(examples=[1]), "openai", "tools[0].function.examples"),
        (
            {
                "model": "c",
                "max_tokens": 5,
                "messages": [],
                "tools": [{"name": "f", "input_schema": {"type": "object"}, "input_examples": []}],
            },
            "anthropic",
            "tools[0].input_examples",
        ),
        (
            {
                "model": "g",
                "contents": [],
                "tools": [{"functionDeclarations": [{"name": "f", "behavior": "NON_BLOCKING"}]}],
            },
            "gemini",
            "tools[0].functionDeclarations[0].behavior",
        ),
        (
            {"model": "g", "contents": [], "generationConfig": {"candidateCount": 2}},
            "gemini",
            "generationConfig.candidateCount",
        ),
    ],
)
def test_unknown_tool_fields_and_extra_candidates_are_refused(
    body: dict[str, Any], source: str, field: str
) -> None:
    target = "openai-responses" if source == "openai" else "openai"
    with pytest.raises(UntranslatableError) as caught:
        translate_request(body, source=source, target=target)
    assert caught.value.field == field


def test_one_gemini_candidate_is_the_default_and_passes() -> None:
    body = {"model": "g", "contents": [], "generationConfig": {"candidateCount": 1}}
    assert translate_request(body, source="gemini", target="openai")["messages"] == []


def test_the_formats_are_the_registered_provider_names() -> None:
    from streamrecover.providers.registry import provider_names

    for name in provider_names():
        body = translate_request(COMMON, source="openai", target=name)
        assert translate_request(body, source=name, target="openai")["tools"]
    assert set(FORMATS) == set(provider_names())


def test_one_tool_call_per_answer_crosses_openai_and_anthropic() -> None:
    chat = dict(COMMON, parallel_tool_calls=False)
    del chat["tool_choice"]
    anthropic = translate_request(chat, source="openai", target="anthropic")
    assert anthropic["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    responses = translate_request(anthropic, source="anthropic", target="openai-responses")
    assert responses["parallel_tool_calls"] is False
    back = translate_request(responses, source="openai-responses", target="openai")
    assert back["parallel_tool_calls"] is False
    assert neutral(back, "openai").one_tool_call


@pytest.mark.parametrize(
    ("body", "source", "field"),
    [
        (dict(COMMON, parallel_tool_calls=False), "openai", "parallel_tool_calls"),
        (
            {
                "model": "c",
                "max_tokens": 5,
                "messages": [],
                "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
            },
            "anthropic",
            "tool_choice.disable_parallel_tool_use",
        ),
    ],
)
def test_one_tool_call_per_answer_is_refused_for_gemini(
    body: dict[str, Any], source: str, field: str
) -> None:
    with pytest.raises(UntranslatableError) as caught:
        translate_request(body, source=source, target="gemini")
    assert caught.value.field == field
