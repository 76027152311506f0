"""Resume strategies: the request each strategy builds, for every provider, and its helpers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from _frames import BODIES

from streamrecover.core.errors import UsageError
from streamrecover.core.http import HTTPRequest
from streamrecover.core.resume import (
    CONTINUE_INSTRUCTION,
    ELISION,
    MIN_OUTPUT_TOKENS,
    STRATEGIES,
    SUMMARY_INSTRUCTION,
    ResumePlan,
    condense,
    last_paragraph_end,
    plan_resume,
)
from streamrecover.providers import (
    AnthropicProvider,
    GeminiProvider,
    OpenAIChatProvider,
    OpenAIResponsesProvider,
    Provider,
    ResumePoint,
    get_provider,
)

PROVIDERS = tuple(BODIES)
PARTIAL = "First paragraph.\n\nSecond one is cut in the mid "
NO_POINT = ResumePoint()


def payload(request: HTTPRequest) -> dict[str, Any]:
    assert request.body is not None
    result = json.loads(request.body)
    assert isinstance(result, dict)
    return result


def plan(
    provider: Provider,
    body: Mapping[str, Any],
    strategy: Any = "exact",
    committed: str = PARTIAL,
    **options: Any,
) -> ResumePlan:
    point = options.pop("point", NO_POINT)
    return plan_resume(
        provider, body, strategy=strategy, committed_text=committed, point=point, **options
    )


def conversation(provider: Provider, request: HTTPRequest) -> list[Any]:
    """The turns of a request body, whatever the provider calls them."""
    sent = payload(request)
    key = {"openai": "messages", "anthropic": "messages", "gemini": "contents"}.get(
        provider.name, "input"
    )
    turns = sent[key]
    assert isinstance(turns, list)
    return turns


def text_of(turn: Mapping[str, Any]) -> str:
    if "parts" in turn:
        return "".join(part["text"] for part in turn["parts"])
    content = turn["content"]
    if isinstance(content, str):
        return content
    return "".join(block["text"] for block in content)


# -- helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("no break at all", 0),
        ("one line\nanother line", 0),
        ("para\n\n", 6),
        ("para\n\nnext", 6),
        ("a\n\nb\n\nc", 6),
        ("a\r\n\r\nb", 5),
        ("a\n\nb\r\n\r\nc", 8),
        ("a\r\n\r\nb\n\nc", 8),
        ("a\n\n\nb", 4),
    ],
)
def test_last_paragraph_end(text: str, expected: int) -> None:
    assert last_paragraph_end(text) == expected


# Regression (a bug of 7efbafb, fixed in 0172bab): last_paragraph_end ignores blank lines holding
# spaces or a CR between the line feeds, although its docstring counts them as paragraph breaks
@pytest.mark.parametrize(("text", "expected"), [("one\n \ntwo", 6), ("one\n\r\ntwo", 6)])
def test_last_paragraph_end_blank_line_with_spaces_or_cr(text: str, expected: int) -> None:
    assert last_paragraph_end(text) == expected


def test_condense_keeps_short_text_and_cuts_long_text() -> None:
    assert condense("short", head=2, tail=2) == "short"
    exact_fit = "x" * (4 + len(ELISION))
    assert condense(exact_fit, head=2, tail=2) == exact_fit
    text = "".join(chr(ord("a") + i % 26) for i in range(100))
    condensed = condense(text, head=10, tail=5)
    assert condensed == text[:10] + ELISION + text[-5:]


# -- exact ----------------------------------------------------------------------------

WITH_PREFILL = [
    pytest.param(AnthropicProvider(), BODIES["anthropic"], id="anthropic-claude-3-5"),
    pytest.param(OpenAIChatProvider(prefill=True), BODIES["openai"], id="openai-prefill"),
    pytest.param(GeminiProvider(prefill=True), BODIES["gemini"], id="gemini-prefill"),
]
WITHOUT_PREFILL = [
    pytest.param(
        AnthropicProvider(), {**BODIES["anthropic"], "model": "claude-sonnet-4-6"}, id="claude-4-6"
    ),
    pytest.param(
        AnthropicProvider(),
        {**BODIES["anthropic"], "thinking": {"type": "enabled", "budget_tokens": 512}},
        id="anthropic-thinking",
    ),
    pytest.param(OpenAIChatProvider(), BODIES["openai"], id="openai"),
    pytest.param(GeminiProvider(), BODIES["gemini"], id="gemini"),
    pytest.param(OpenAIResponsesProvider(), BODIES["openai-responses"], id="openai-responses"),
]


@pytest.mark.parametrize(("provider", "body"), WITH_PREFILL)
def test_exact_with_prefill_sends_the_partial_as_the_final_assistant_turn(
    provider: Provider, body: dict[str, Any]
) -> None:
    result = plan(provider, body)
    assert (result.strategy, result.keep, result.stitch) == ("exact", len(PARTIAL), True)
    assert not result.reuse_parser
    turns = conversation(provider, result.request)
    final = turns[-1]
    assert final["role"] in ("assistant", "model")
    assert CONTINUE_INSTRUCTION not in result.request.body.decode()  # type: ignore[union-attr]
    if provider.name == "anthropic":
        # The Messages API rejects a final assistant turn ending in whitespace.
        assert text_of(final) == PARTIAL.rstrip()
    else:
        assert text_of(final) == PARTIAL
    assert turns[:-1] == conversation(provider, provider.build_request(body))


def test_exact_prefill_styles_of_openai_compatible_servers() -> None:
    vllm = payload(plan(OpenAIChatProvider(prefill=True), BODIES["openai"]).request)
    assert vllm["continue_final_message"] is True
    assert vllm["add_generation_prompt"] is False
    prefix_provider = OpenAIChatProvider(prefill=True, prefill_style="prefix")
    prefix = payload(plan(prefix_provider, BODIES["openai"]).request)
    assert prefix["messages"][-1] == {"role": "assistant", "content": PARTIAL, "prefix": True}
    assert "continue_final_message" not in prefix


@pytest.mark.parametrize(("provider", "body"), WITHOUT_PREFILL)
def test_exact_without_prefill_adds_a_user_turn_with_the_instruction(
    provider: Provider, body: dict[str, Any]
) -> None:
    result = plan(provider, body)
    assert (result.strategy, result.keep, result.stitch) == ("exact", len(PARTIAL), True)
    turns = conversation(provider, result.request)
    assistant, user = turns[-2], turns[-1]
    assert assistant["role"] in ("assistant", "model")
    assert text_of(assistant) == PARTIAL
    assert user["role"] == "user"
    assert text_of(user) == CONTINUE_INSTRUCTION


def test_exact_extends_the_callers_own_prefill() -> None:
    body = {
        **BODIES["anthropic"],
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure: "}],
    }
    turns = conversation(AnthropicProvider(), plan(AnthropicProvider(), body).request)
    assert len(turns) == 2
    assert turns[-1] == {"role": "assistant", "content": "Sure: " + PARTIAL.rstrip()}


@pytest.mark.parametrize("name", PROVIDERS)
def test_resume_never_mutates_the_callers_body(name: str) -> None:
    body = json.loads(json.dumps(BODIES[name]))
    before = json.dumps(body, sort_keys=True)
    for strategy in STRATEGIES:
        plan(get_provider(name), body, strategy)
    assert json.dumps(body, sort_keys=True) == before


# -- paragraph ------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_paragraph_rolls_back_to_the_last_complete_paragraph(name: str) -> None:
    provider = get_provider(name)
    result = plan(provider, BODIES[name], "paragraph")
    kept = "First paragraph.\n\n"
    assert (result.strategy, result.keep, result.stitch) == ("paragraph", len(kept), True)
    sent = [text_of(turn) for turn in conversation(provider, result.request)]
    if provider.supports_prefill(BODIES[name]):
        assert sent[-1] == kept.rstrip()  # claude-3-5: prefill, whitespace stripped
    else:
        assert sent[-2:] == [kept, CONTINUE_INSTRUCTION]


@pytest.mark.parametrize("name", PROVIDERS)
def test_paragraph_without_a_complete_paragraph_restarts(name: str) -> None:
    provider = get_provider(name)
    result = plan(provider, BODIES[name], "paragraph", committed="one paragraph, cut")
    assert (result.strategy, result.keep, result.stitch) == ("restart", 0, False)
    assert result.request == provider.build_request(BODIES[name])


def test_paragraph_that_ends_on_a_break_keeps_everything() -> None:
    committed = "Done paragraph.\n\n"
    result = plan(OpenAIChatProvider(), BODIES["openai"], "paragraph", committed=committed)
    assert (result.strategy, result.keep) == ("paragraph", len(committed))


# -- summarize ------------------------------------------------------------------------

LONG = "".join(f"word{i:05d} " for i in range(600))  # 6000 characters


@pytest.mark.parametrize("name", PROVIDERS)
def test_summarize_sends_a_condensed_head_and_a_verbatim_tail(name: str) -> None:
    provider = get_provider(name)
    threshold = 2000
    body = {**BODIES[name], "model": "claude-opus-4-6"} if name == "anthropic" else BODIES[name]
    result = plan(provider, body, "summarize", committed=LONG, summarize_threshold=threshold)
    assert (result.strategy, result.keep, result.stitch) == ("summarize", len(LONG), True)
    turns = conversation(provider, result.request)
    assistant, user = turns[-2], turns[-1]
    shown = text_of(assistant)
    assert shown == LONG[: threshold // 2] + ELISION + LONG[-threshold // 4 :]
    assert text_of(user) == SUMMARY_INSTRUCTION
    assert len(shown) < len(LONG)


def test_summarize_with_prefill_ends_with_the_stripped_verbatim_tail() -> None:
    result = plan(
        AnthropicProvider(),
        BODIES["anthropic"],
        "summarize",
        committed=LONG,
        summarize_threshold=2000,
    )
    final = conversation(AnthropicProvider(), result.request)[-1]
    assert final["role"] == "assistant"
    assert text_of(final).endswith(LONG[-500:].rstrip())
    assert ELISION in text_of(final)


def test_summarize_uses_the_callers_summarizer_for_the_head() -> None:
    seen: list[str] = []

    def summarizer(text: str) -> str:
        seen.append(text)
        return "A list of numbered words.  \n"

    result = plan(
        OpenAIChatProvider(),
        BODIES["openai"],
        "summarize",
        committed=LONG,
        summarize_threshold=2000,
        summarizer=summarizer,
    )
    assert seen == [LONG]
    shown = text_of(conversation(OpenAIChatProvider(), result.request)[-2])
    assert shown == "A list of numbered words." + ELISION + LONG[-500:]


def test_summarize_below_the_threshold_resumes_exactly() -> None:
    result = plan(OpenAIChatProvider(), BODIES["openai"], "summarize", committed=LONG)
    assert (result.strategy, result.keep) == ("exact", len(LONG))
    assert text_of(conversation(OpenAIChatProvider(), result.request)[-2]) == LONG


# -- restart, structured output, nothing to extend ---------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_restart_sends_the_original_request(name: str) -> None:
    provider = get_provider(name)
    result = plan(provider, BODIES[name], "restart")
    assert (result.strategy, result.keep, result.stitch, result.reuse_parser) == (
        "restart",
        0,
        False,
        False,
    )
    assert result.request == provider.build_request(BODIES[name])


STRUCTURED = [
    ("openai", {"response_format": {"type": "json_object"}}),
    ("openai", {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}),
    ("openai", {"tool_choice": "required"}),
    ("anthropic", {"output_format": {"type": "json_schema", "schema": {}}}),
    ("anthropic", {"tool_choice": {"type": "any"}}),
    ("gemini", {"generationConfig": {"responseMimeType": "application/json"}}),
    ("openai-responses", {"text": {"format": {"type": "json_schema", "schema": {}}}}),
]


@pytest.mark.parametrize(("name", "extra"), STRUCTURED)
@pytest.mark.parametrize("strategy", ["exact", "paragraph", "summarize"])
def test_structured_output_always_restarts(name: str, extra: dict[str, Any], strategy: Any) -> None:
    provider = get_provider(name)
    body = {**BODIES[name], **extra}
    result = plan(provider, body, strategy, committed='{"answer": "half', summarize_threshold=4)
    assert (result.strategy, result.keep, result.stitch) == ("restart", 0, False)
    assert result.request == provider.build_request(body)


@pytest.mark.parametrize("strategy", ["exact", "paragraph", "summarize"])
def test_nothing_committed_restarts(strategy: Any) -> None:
    result = plan(OpenAIChatProvider(), BODIES["openai"], strategy, committed="")
    assert (result.strategy, result.keep) == ("restart", 0)


def test_unknown_strategy_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown strategy 'resend'"):
        plan(OpenAIChatProvider(), BODIES["openai"], "resend")


# -- native ---------------------------------------------------------------------------

RESPONSE_POINT = ResumePoint(response_id="resp_abc", sequence_number=41)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_native_is_chosen_for_background_responses_whatever_the_strategy(strategy: Any) -> None:
    provider = OpenAIResponsesProvider(api_key="sk-test")
    body = {**BODIES["openai-responses"], "background": True}
    result = plan(provider, body, strategy, point=RESPONSE_POINT)
    assert (result.strategy, result.keep, result.stitch, result.reuse_parser) == (
        "native",
        len(PARTIAL),
        False,
        True,
    )
    assert result.request.method == "GET"
    assert result.request.url == (
        "https://api.openai.com/v1/responses/resp_abc?stream=true&starting_after=41"
    )
    assert result.request.body is None
    assert result.request.header("authorization") == "Bearer sk-test"


def test_native_even_for_structured_output() -> None:
    # No regeneration happens, so nothing of the JSON document can be corrupted.
    body = {
        **BODIES["openai-responses"],
        "background": True,
        "text": {"format": {"type": "json_object"}},
    }
    result = plan(OpenAIResponsesProvider(), body, point=RESPONSE_POINT)
    assert result.strategy == "native"


@pytest.mark.parametrize(
    ("body_extra", "point"),
    [
        ({}, RESPONSE_POINT),  # not a background response: nothing to stream again
        ({"background": True}, ResumePoint(response_id="resp_abc")),  # no sequence number
        ({"background": True}, ResumePoint(sequence_number=3)),  # no response id
    ],
)
def test_no_native_resume_without_what_it_needs(
    body_extra: dict[str, Any], point: ResumePoint
) -> None:
    body = {**BODIES["openai-responses"], **body_extra}
    result = plan(OpenAIResponsesProvider(), body, point=point)
    assert result.strategy == "exact"
    assert result.request.method == "POST"


@pytest.mark.parametrize("name", PROVIDERS)
def test_native_last_event_id_reconnect_when_enabled(name: str) -> None:
    provider = get_provider(name, last_event_id_resume=True)
    result = plan(provider, BODIES[name], point=ResumePoint(last_event_id="ev-17"))
    assert result.strategy == "native"
    assert result.request.header("last-event-id") == "ev-17"
    assert payload(result.request) == payload(provider.build_request(BODIES[name]))
    assert plan(provider, BODIES[name]).strategy == "exact"  # no event id seen


# -- output-token limit -------------------------------------------------------------------

LIMITS = [
    ("openai", {"max_completion_tokens": 1000}, ("max_completion_tokens",)),
    ("openai", {"max_tokens": 1000}, ("max_tokens",)),
    ("anthropic", {"max_tokens": 1000}, ("max_tokens",)),
    (
        "gemini",
        {"generationConfig": {"maxOutputTokens": 1000}},
        ("generationConfig", "maxOutputTokens"),
    ),
    ("openai-responses", {"max_output_tokens": 1000}, ("max_output_tokens",)),
]


def limit_of(sent: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = sent
    for key in path:
        value = value[key]
    return value


@pytest.mark.parametrize(("name", "extra", "path"), LIMITS)
@pytest.mark.parametrize("strategy", ["exact", "paragraph", "summarize"])
def test_resume_reduces_the_output_limit_by_what_was_generated(
    name: str, extra: dict[str, Any], path: tuple[str, ...], strategy: Any
) -> None:
    provider = get_provider(name)
    body = {**BODIES[name], **extra}
    committed = "x" * 400 + "\n\n" + "y" * 398  # 800 characters, about 200 tokens
    result = plan(provider, body, strategy, committed=committed)
    kept = result.keep
    assert limit_of(payload(result.request), path) == 1000 - kept // 4
    reported = plan(provider, body, strategy, committed=committed, generated_tokens=300)
    assert limit_of(payload(reported.request), path) == 700


@pytest.mark.parametrize(("name", "extra", "path"), LIMITS)
def test_resume_limit_never_below_the_floor(
    name: str, extra: dict[str, Any], path: tuple[str, ...]
) -> None:
    provider = get_provider(name)
    body = {**BODIES[name], **extra}
    result = plan(provider, body, committed="z" * 10_000)
    assert limit_of(payload(result.request), path) == MIN_OUTPUT_TOKENS
    small = json.loads(json.dumps(body).replace("1000", "100"))
    # A limit already under the floor is never raised.
    assert limit_of(payload(plan(provider, small, committed="z" * 10_000).request), path) == 100


def test_restart_keeps_the_original_limit() -> None:
    body = {**BODIES["anthropic"], "max_tokens": 1000}
    result = plan(AnthropicProvider(), body, "restart", committed="z" * 2000)
    assert payload(result.request)["max_tokens"] == 1000


def test_anthropic_limit_stays_above_the_thinking_budget() -> None:
    body = {
        **BODIES["anthropic"],
        "max_tokens": 4000,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
    }
    result = plan(AnthropicProvider(), body, committed="z" * 12_000)
    assert payload(result.request)["max_tokens"] == 2000 + MIN_OUTPUT_TOKENS
