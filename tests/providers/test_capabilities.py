"""Capabilities: prefill, thinking, structured output, idle timeouts, continuation, limits."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from streamrecover.core.errors import UsageError
from streamrecover.providers import (
    AnthropicProvider,
    GeminiProvider,
    OpenAIChatProvider,
    OpenAIResponsesProvider,
    get_provider,
)
from streamrecover.providers.anthropic import claude_version

USER = {"role": "user", "content": "Write a poem."}
INSTRUCTION = "Continue exactly where you stopped."

# -- prefill ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "version"),
    [
        ("claude-3-5-sonnet-20241022", (3, 5)),
        ("claude-3-haiku-20240307", (3, 0)),
        ("claude-3-7-sonnet-latest", (3, 7)),
        ("claude-sonnet-4-20250514", (4, 0)),
        ("claude-opus-4-1-20250805", (4, 1)),
        ("claude-sonnet-4-5", (4, 5)),
        ("claude-haiku-4-5-20251001", (4, 5)),
        ("claude-opus-4-6", (4, 6)),
        ("claude-sonnet-4-6", (4, 6)),
        ("claude-opus-4-7", (4, 7)),
        ("claude-sonnet-4-6-20260101", (4, 6)),
        ("claude-5-opus", (5, 0)),
        ("claude-opus-5-1-20270101", (5, 1)),
        ("anthropic/claude-3.5-sonnet", (3, 5)),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", (4, 5)),
        ("us.anthropic.claude-sonnet-4-6-v1:0", (4, 6)),
        ("claude-opus-4-1@20250805", (4, 1)),
        ("claude-2.1", (2, 1)),
        ("claude-latest", None),
        ("gpt-4o", None),
        ("", None),
    ],
)
def test_claude_version(model: str, version: tuple[int, int] | None) -> None:
    assert claude_version(model) == version


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-3-5-sonnet-20241022", True),
        ("claude-sonnet-4-5", True),
        ("claude-opus-4-1", True),
        ("claude-opus-4-6", False),
        ("claude-sonnet-4-6-20260101", False),
        ("claude-opus-4-7", False),
        ("claude-5-sonnet", False),
        ("some-compatible-model", False),  # unknown version: no prefill (safe choice)
    ],
)
def test_anthropic_prefill_by_model(model: str, expected: bool) -> None:
    body = {"model": model, "max_tokens": 10, "messages": [USER]}
    assert AnthropicProvider().supports_prefill(body) is expected


@pytest.mark.parametrize("kind", ["enabled", "adaptive"])
def test_anthropic_no_prefill_with_thinking(kind: str) -> None:
    body = {"model": "claude-sonnet-4-5", "messages": [USER], "thinking": {"type": kind}}
    assert AnthropicProvider().supports_prefill(body) is False
    disabled = {**body, "thinking": {"type": "disabled"}}
    assert AnthropicProvider().supports_prefill(disabled) is True


def test_prefill_override_wins() -> None:
    new_model = {"model": "claude-opus-4-6", "messages": [USER], "thinking": {"type": "enabled"}}
    assert AnthropicProvider(prefill=True).supports_prefill(new_model) is True
    old_model = {"model": "claude-3-5-sonnet-20241022", "messages": [USER]}
    assert AnthropicProvider(prefill=False).supports_prefill(old_model) is False
    assert OpenAIChatProvider().supports_prefill({"messages": []}) is False
    assert OpenAIChatProvider(prefill=True).supports_prefill({"messages": []}) is True
    assert GeminiProvider().supports_prefill({"model": "gemini-2.5-flash"}) is False
    assert GeminiProvider(prefill=True).supports_prefill({"model": "gemini-2.5-flash"}) is True
    assert OpenAIResponsesProvider(prefill=False).supports_prefill({"input": "x"}) is False


# -- thinking and idle timeouts -----------------------------------------------------------

THINKING = [
    ("openai", {"model": "gpt-4o"}, False),
    ("openai", {"model": "gpt-4o", "reasoning_effort": "low"}, True),
    ("openai", {"model": "gpt-5.1", "reasoning_effort": "none"}, False),
    ("openai", {"model": "o3-mini"}, True),
    ("openai", {"model": "gpt-5"}, True),
    ("openai", {"model": "gpt-5-chat-latest"}, False),
    ("openai", {"model": "openai/o4-mini"}, True),
    ("openai", {"model": "deepseek-reasoner"}, True),
    ("openai", {"model": "qwen3", "reasoning": {"effort": "high"}}, True),
    ("openai", {"model": "qwen3", "reasoning": {"enabled": False}}, False),
    ("openai-responses", {"model": "gpt-4.1"}, False),
    ("openai-responses", {"model": "gpt-4.1", "reasoning": {"effort": "medium"}}, True),
    ("openai-responses", {"model": "gpt-5.1", "reasoning": {"effort": "none"}}, False),
    ("openai-responses", {"model": "o3"}, True),
    ("anthropic", {"model": "claude-sonnet-4-5"}, False),
    (
        "anthropic",
        {"model": "claude-sonnet-4-5", "thinking": {"type": "enabled", "budget_tokens": 2048}},
        True,
    ),
    ("anthropic", {"model": "claude-opus-4-6", "thinking": {"type": "adaptive"}}, True),
    ("anthropic", {"model": "claude-sonnet-4-5", "thinking": {"type": "disabled"}}, False),
    ("gemini", {"model": "gemini-2.0-flash"}, False),
    ("gemini", {"model": "gemini-2.5-flash-lite"}, False),
    ("gemini", {"model": "gemini-2.5-pro"}, True),
    ("gemini", {"model": "gemini-3-pro-preview"}, True),
    (
        "gemini",
        {
            "model": "gemini-2.5-flash",
            "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}},
        },
        False,
    ),
    (
        "gemini",
        {
            "model": "gemini-2.0-flash",
            "generationConfig": {"thinkingConfig": {"thinkingBudget": 1024}},
        },
        True,
    ),
    (
        "gemini",
        {
            "model": "gemini-2.5-flash-lite",
            "generationConfig": {"thinkingConfig": {"thinkingBudget": -1}},
        },
        True,
    ),
    (
        "gemini",
        {"model": "x", "generationConfig": {"thinkingConfig": {"thinkingLevel": "low"}}},
        True,
    ),
]


@pytest.mark.parametrize(("name", "body", "expected"), THINKING)
def test_thinking_enabled(name: str, body: dict[str, Any], expected: bool) -> None:
    provider = get_provider(name)
    assert provider.thinking_enabled(body) is expected
    # Thinking models may be silent for minutes: a longer idle timeout.
    assert provider.default_idle_timeout(body) == (300.0 if expected else 60.0)


# -- structured output ---------------------------------------------------------------------

STRUCTURED = [
    ("openai", {}, False),
    ("openai", {"response_format": {"type": "text"}}, False),
    ("openai", {"response_format": {"type": "json_object"}}, True),
    ("openai", {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, True),
    ("openai", {"tool_choice": "auto"}, False),
    ("openai", {"tool_choice": "required"}, True),
    ("openai", {"tool_choice": {"type": "function", "function": {"name": "f"}}}, True),
    ("openai-responses", {"text": {"format": {"type": "text"}}}, False),
    ("openai-responses", {"text": {"format": {"type": "json_schema", "name": "x"}}}, True),
    ("openai-responses", {"tool_choice": {"type": "function", "name": "f"}}, True),
    ("openai-responses", {"tool_choice": "auto"}, False),
    ("anthropic", {}, False),
    ("anthropic", {"output_format": {"type": "json_schema", "schema": {}}}, True),
    ("anthropic", {"output_config": {"format": {"type": "json_schema", "schema": {}}}}, True),
    ("anthropic", {"tool_choice": {"type": "auto"}}, False),
    ("anthropic", {"tool_choice": {"type": "any"}}, True),
    ("anthropic", {"tool_choice": {"type": "tool", "name": "f"}}, True),
    ("gemini", {"generationConfig": {"temperature": 0}}, False),
    ("gemini", {"generationConfig": {"responseMimeType": "application/json"}}, True),
    ("gemini", {"generationConfig": {"responseSchema": {"type": "OBJECT"}}}, True),
    ("gemini", {"toolConfig": {"functionCallingConfig": {"mode": "ANY"}}}, True),
    ("gemini", {"toolConfig": {"functionCallingConfig": {"mode": "AUTO"}}}, False),
]


@pytest.mark.parametrize(("name", "body", "expected"), STRUCTURED)
def test_structured_output(name: str, body: dict[str, Any], expected: bool) -> None:
    assert get_provider(name).structured_output(body) is expected


# -- continuation bodies -------------------------------------------------------------------


def continued(
    provider: Any, body: dict[str, Any], partial: str, *, prefill: bool
) -> dict[str, Any]:
    before = copy.deepcopy(body)
    result: dict[str, Any] = provider.continuation_body(
        body, partial, prefill=prefill, instruction=INSTRUCTION
    )
    assert body == before, "the original body was mutated"
    return result


def test_openai_continuation_without_prefill() -> None:
    body = {"model": "gpt-4o", "messages": [USER], "temperature": 0.2}
    result = continued(OpenAIChatProvider(), body, "Roses are red, ", prefill=False)
    assert result["messages"] == [
        USER,
        {"role": "assistant", "content": "Roses are red, "},
        {"role": "user", "content": INSTRUCTION},
    ]
    assert result["temperature"] == 0.2
    assert "continue_final_message" not in result


def test_openai_continuation_with_vllm_prefill() -> None:
    provider = OpenAIChatProvider(prefill=True)
    result = continued(provider, {"messages": [USER]}, "Roses are red, ", prefill=True)
    assert result["messages"] == [USER, {"role": "assistant", "content": "Roses are red, "}]
    assert result["continue_final_message"] is True
    assert result["add_generation_prompt"] is False


def test_openai_continuation_with_prefix_prefill() -> None:
    provider = OpenAIChatProvider(prefill=True, prefill_style="prefix")
    result = continued(provider, {"messages": [USER]}, "Roses", prefill=True)
    assert result["messages"] == [USER, {"role": "assistant", "content": "Roses", "prefix": True}]
    assert "continue_final_message" not in result


def test_openai_continuation_extends_the_callers_own_prefill() -> None:
    body = {"messages": [USER, {"role": "assistant", "content": "{"}]}
    result = continued(OpenAIChatProvider(), body, '"a": 1', prefill=False)
    assert result["messages"] == [
        USER,
        {"role": "assistant", "content": '{"a": 1'},
        {"role": "user", "content": INSTRUCTION},
    ]
    blocks = {"messages": [USER, {"role": "assistant", "content": [{"type": "text", "text": "{"}]}]}
    result = continued(OpenAIChatProvider(), blocks, '"a"', prefill=True)
    assert result["messages"][-1]["content"] == [{"type": "text", "text": '{"a"'}]


def test_anthropic_continuation_with_prefill_strips_trailing_whitespace() -> None:
    body = {"model": "claude-3-5-sonnet-20241022", "max_tokens": 50, "messages": [USER]}
    result = continued(AnthropicProvider(), body, "Roses are red,\n ", prefill=True)
    assert result["messages"] == [USER, {"role": "assistant", "content": "Roses are red,"}]


def test_anthropic_continuation_without_prefill() -> None:
    body = {"model": "claude-opus-4-6", "max_tokens": 50, "messages": [USER]}
    result = continued(AnthropicProvider(), body, "Roses are red,\n", prefill=False)
    assert result["messages"] == [
        USER,
        {"role": "assistant", "content": "Roses are red,\n"},
        {"role": "user", "content": INSTRUCTION},
    ]


def test_anthropic_continuation_merges_with_a_block_prefill() -> None:
    prefill = {"role": "assistant", "content": [{"type": "text", "text": "Here: "}]}
    body = {"model": "claude-3-5-sonnet-20241022", "messages": [USER, prefill]}
    result = continued(AnthropicProvider(), body, "one two ", prefill=True)
    assert result["messages"] == [
        USER,
        {"role": "assistant", "content": [{"type": "text", "text": "Here: one two"}]},
    ]


@pytest.mark.parametrize("partial", ["", "  \n"])
def test_anthropic_continuation_of_nothing_is_the_original(partial: str) -> None:
    body = {"model": "claude-sonnet-4-5", "messages": [USER]}
    for prefill in (True, False):
        assert continued(AnthropicProvider(), body, partial, prefill=prefill) == body


def test_responses_continuation_turns_string_input_into_a_list() -> None:
    body = {"model": "gpt-4.1", "input": "Write a poem.", "instructions": "Be brief."}
    result = continued(OpenAIResponsesProvider(), body, "Roses", prefill=False)
    assert result["input"] == [
        {"role": "user", "content": "Write a poem."},
        {"role": "assistant", "content": "Roses"},
        {"role": "user", "content": INSTRUCTION},
    ]
    assert result["instructions"] == "Be brief."


def test_responses_continuation_appends_to_list_input() -> None:
    body = {"input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]}
    result = continued(OpenAIResponsesProvider(), body, "Hello", prefill=False)
    assert result["input"][0] == body["input"][0]
    assert result["input"][1:] == [
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": INSTRUCTION},
    ]


def test_gemini_continuation() -> None:
    user = {"role": "user", "parts": [{"text": "Write a poem."}]}
    body = {"model": "gemini-2.5-flash", "contents": [user]}
    result = continued(GeminiProvider(), body, "Roses ", prefill=False)
    assert result["contents"] == [
        user,
        {"role": "model", "parts": [{"text": "Roses "}]},
        {"role": "user", "parts": [{"text": INSTRUCTION}]},
    ]
    prefilled = continued(GeminiProvider(prefill=True), body, "Roses ", prefill=True)
    assert prefilled["contents"] == [user, {"role": "model", "parts": [{"text": "Roses "}]}]


def test_gemini_continuation_extends_a_final_model_turn() -> None:
    user = {"role": "user", "parts": [{"text": "Q"}]}
    body = {"contents": [user, {"role": "model", "parts": [{"text": "A: "}]}]}
    result = continued(GeminiProvider(), body, "yes", prefill=True)
    assert result["contents"] == [
        user,
        {"role": "model", "parts": [{"text": "A: "}, {"text": "yes"}]},
    ]


@pytest.mark.parametrize(
    ("name", "key", "bad"),
    [
        ("openai", "messages", "hi"),
        ("anthropic", "messages", {"role": "user"}),
        ("gemini", "contents", "hi"),
        ("openai-responses", "input", 5),
    ],
)
def test_continuation_of_a_body_without_a_conversation_is_a_usage_error(
    name: str, key: str, bad: Any
) -> None:
    with pytest.raises(UsageError):
        get_provider(name).continuation_body({key: bad}, "text", prefill=False, instruction="go")


@pytest.mark.parametrize("name", ["openai", "openai-responses", "gemini"])
def test_continuation_of_empty_text_is_a_copy(name: str) -> None:
    body = {"model": "m", "messages": [USER], "input": "x", "contents": []}
    result = get_provider(name).continuation_body(body, "", prefill=False, instruction="go")
    assert result == body and result is not body


# -- output limits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "path"),
    [
        ("openai", {"max_completion_tokens": 1000}, ("max_completion_tokens",)),
        ("openai", {"max_tokens": 1000}, ("max_tokens",)),
        ("openai-responses", {"max_output_tokens": 1000}, ("max_output_tokens",)),
        ("anthropic", {"max_tokens": 1000}, ("max_tokens",)),
        (
            "gemini",
            {"generationConfig": {"maxOutputTokens": 1000, "temperature": 1}},
            ("generationConfig", "maxOutputTokens"),
        ),
    ],
)
def test_limit_output_tokens(name: str, body: dict[str, Any], path: tuple[str, ...]) -> None:
    provider = get_provider(name)

    def limit_of(value: dict[str, Any]) -> Any:
        for key in path:
            value = value[key]
        return value

    before = copy.deepcopy(body)
    assert limit_of(provider.limit_output_tokens(body, 300, floor=64)) == 700
    assert limit_of(provider.limit_output_tokens(body, 990, floor=64)) == 64
    assert limit_of(provider.limit_output_tokens(body, 0, floor=64)) == 1000
    # Never above the caller's own limit, even with a larger floor.
    assert limit_of(provider.limit_output_tokens(body, 990, floor=5000)) == 1000
    assert body == before
    if name == "gemini":
        result = provider.limit_output_tokens(body, 300, floor=64)
        assert result["generationConfig"]["temperature"] == 1


@pytest.mark.parametrize("name", ["openai", "openai-responses", "anthropic", "gemini"])
def test_limit_output_tokens_without_a_limit_is_a_copy(name: str) -> None:
    body = {"model": "m", "messages": [USER]}
    result = get_provider(name).limit_output_tokens(body, 100, floor=10)
    assert result == body and result is not body


def test_openai_limits_both_fields_when_both_are_set() -> None:
    body = {"max_tokens": 500, "max_completion_tokens": 800}
    result = OpenAIChatProvider().limit_output_tokens(body, 100, floor=1)
    assert result == {"max_tokens": 400, "max_completion_tokens": 700}


def test_anthropic_limit_stays_above_the_thinking_budget() -> None:
    body = {"max_tokens": 10_000, "thinking": {"type": "enabled", "budget_tokens": 8000}}
    result = AnthropicProvider().limit_output_tokens(body, 5000, floor=100)
    assert result["max_tokens"] == 8100
    assert AnthropicProvider().limit_output_tokens(body, 500, floor=100)["max_tokens"] == 9500
