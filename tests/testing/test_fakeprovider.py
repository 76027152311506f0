"""The fake providers: their frames read back with the real parsers, and the inspector's checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.classify import classify
from streamrecover.core.errors import HTTPStatusError, ProviderStreamError
from streamrecover.core.events import Event, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from streamrecover.core.http import HTTPRequest
from streamrecover.core.resume import CONTINUE_INSTRUCTION
from streamrecover.core.sse import SSEDecoder
from streamrecover.providers.registry import get_provider
from streamrecover.testing.fakeprovider import (
    DEFAULT_ANSWER,
    JSON_ANSWER,
    PROVIDERS,
    REASONING_TEXT,
    REFERENCE_TEXT,
    TOOL_CALL,
    Answer,
    Expectations,
    Inspection,
    continuation_answer,
    error_body,
    error_frames,
    inspect_request,
    keepalive_frame,
    prefill_allowed,
    render,
    render_frames,
    split_deltas,
)

FULL = Answer(text=REFERENCE_TEXT, reasoning=REASONING_TEXT, tool_call=TOOL_CALL)
ANSWERS = [DEFAULT_ANSWER, FULL, JSON_ANSWER, Answer(text=""), Answer(text="", tool_call=TOOL_CALL)]
KEY = "sk-test"

BODIES: dict[str, dict[str, Any]] = {
    "openai": {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_completion_tokens": 1024,
    },
    "openai-responses": {"model": "gpt-4.1-mini", "input": "Hi", "max_output_tokens": 1024},
    "anthropic": {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hi"}],
    },
    "gemini": {
        "model": "gemini-2.0-flash",
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "generationConfig": {"maxOutputTokens": 1024},
    },
}


def parse(provider: str, data: bytes, *, pieces: int = 1) -> tuple[list[Event], bool]:
    """Feed ``data`` to the real decoder and parser in ``pieces`` slices."""
    parser = get_provider(provider).new_parser()
    decoder = SSEDecoder()
    events: list[Event] = []
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        for sse in decoder.feed(data[start : start + step]):
            events.extend(parser.feed(sse))
    for sse in decoder.feed(b""):
        events.extend(parser.feed(sse))
    return events, parser.complete


def text_of(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# -- rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("answer", ANSWERS, ids=["text", "full", "json", "empty", "tool-only"])
def test_frames_parse_back_to_the_reference(provider: str, answer: Answer) -> None:
    events, complete = parse(provider, b"".join(render(provider, answer)))
    assert complete
    assert text_of(events) == answer.text
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert reasoning == answer.reasoning
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    if answer.tool_call is None:
        assert calls == []
    else:
        assert {e.index for e in calls} == {0}
        assert "".join(e.name for e in calls) == answer.tool_call.name
        arguments = "".join(e.arguments for e in calls)
        assert json.loads(arguments) == json.loads(answer.tool_call.arguments)
    usage = [e for e in events if isinstance(e, Usage)][-1]
    assert usage.input_tokens == answer.input_tokens
    assert usage.output_tokens == answer.usage_output_tokens


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("pieces", [7, 101, 10_000])
def test_chunking_does_not_change_the_parse(provider: str, pieces: int) -> None:
    events, complete = parse(provider, b"".join(render(provider, FULL)), pieces=pieces)
    assert complete
    assert text_of(events) == FULL.text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_frame_is_one_sse_event(provider: str) -> None:
    for frame in render(provider, FULL):
        assert frame.endswith(b"\n\n")
        assert b"\n\n" not in frame[:-2]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stream_without_its_last_frame_is_incomplete(provider: str) -> None:
    # The last frame is the terminal marker ([DONE], message_stop, ...): without
    # it the project's parser must not call the stream complete.
    _, complete = parse(provider, b"".join(render(provider, DEFAULT_ANSWER)[:-1]))
    assert not complete


def test_text_deltas_are_a_few_words_with_multibyte_characters() -> None:
    frames = render_frames("anthropic", DEFAULT_ANSWER)
    texts = [f.text for f in frames if f.kind == "text"]
    assert len(texts) > 20
    assert all(len(t.split()) <= 3 for t in texts)
    widths = {len(ch.encode()) for ch in REFERENCE_TEXT}
    assert {2, 3, 4} <= widths


def test_responses_events_carry_consecutive_sequence_numbers() -> None:
    frames = render_frames("openai-responses", FULL)
    numbers = [json.loads(f.data.split(b"data: ", 1)[1])["sequence_number"] for f in frames]
    assert numbers == list(range(len(frames)))
    assert [f.sequence_number for f in frames] == numbers
    assert b"event: response.created" in frames[0].data
    assert b"event: response.completed" in frames[-1].data


def test_openai_ends_with_finish_usage_and_done() -> None:
    frames = render("openai", DEFAULT_ANSWER)
    assert frames[-1] == b"data: [DONE]\n\n"
    assert json.loads(frames[-2][6:])["choices"] == []
    assert json.loads(frames[-3][6:])["choices"][0]["finish_reason"] == "stop"


def test_anthropic_event_order() -> None:
    types = [json.loads(f.split(b"data: ", 1)[1])["type"] for f in render("anthropic", FULL)]
    assert types[:2] == ["message_start", "ping"]
    assert types[-2:] == ["message_delta", "message_stop"]
    assert types.count("content_block_start") == types.count("content_block_stop") == 3


@given(
    st.text(alphabet=st.sampled_from(["a", "é", " ", "\n", "🚀", "語"]), max_size=60),
    st.integers(min_value=1, max_value=5),
)
def test_split_deltas_concatenate_to_the_text(text: str, words: int) -> None:
    assert "".join(split_deltas(text, words)) == text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_error_frames_are_retryable_stream_errors(provider: str) -> None:
    data = b"".join(f.data for f in render_frames(provider)[:3]) + b"".join(
        f.data for f in error_frames(provider, "overloaded")
    )
    with pytest.raises(ProviderStreamError) as caught:
        parse(provider, data)
    assert classify(caught.value).retryable


def test_openai_error_frame_is_followed_by_done() -> None:
    frames = error_frames("openai")
    assert b'"error"' in frames[0].data
    assert frames[1].data == b"data: [DONE]\n\n"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("status", "fatal"), [(400, True), (401, True), (429, False), (503, False)]
)
def test_error_bodies_are_read_by_the_providers(provider: str, status: int, fatal: bool) -> None:
    body = error_body(provider, status).decode()
    error_type, message = get_provider(provider).error_info(body)
    assert error_type
    assert str(status) in message
    fault = HTTPStatusError(status, body=body, provider=provider, error_type=error_type)
    assert classify(fault).retryable is not fatal


def test_keepalives() -> None:
    assert keepalive_frame("anthropic").startswith(b"event: ping\n")
    assert keepalive_frame("gemini") == b": keep-alive\n\n"


# -- inspecting requests ------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def incoming(request: HTTPRequest) -> Incoming:
    split = urlsplit(request.url)
    path = split.path + (f"?{split.query}" if split.query else "")
    return Incoming(request.method, path, request.headers, request.body or b"")


def continuation(provider: str, partial: str, *, prefill: bool, **options: Any) -> Incoming:
    """A continuation as the project's provider builds it (limit reduced as the session does)."""
    maker = get_provider(provider, api_key=KEY)
    body = {**BODIES[provider], **options}
    limited = maker.limit_output_tokens(body, len(partial) // 4, floor=128)
    cont = maker.continuation_body(
        limited, partial, prefill=prefill, instruction=CONTINUE_INSTRUCTION
    )
    return incoming(maker.build_request(cont))


def expect(**changes: Any) -> Expectations:
    return Expectations(**{"reference": REFERENCE_TEXT, "api_key": KEY, **changes})


PARTIAL = REFERENCE_TEXT[:120]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_original_request_passes(provider: str) -> None:
    request = incoming(get_provider(provider, api_key=KEY).build_request(BODIES[provider]))
    result = inspect_request(provider, BODIES[provider], request, expect())
    assert result == Inspection(kind="original")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_correct_continuation_passes(provider: str) -> None:
    prefill = prefill_allowed(provider, BODIES[provider])
    sent = PARTIAL.rstrip() if prefill else PARTIAL
    request = continuation(provider, sent, prefill=prefill)
    result = inspect_request(provider, BODIES[provider], request, expect())
    assert result.problems == ()
    assert (result.kind, result.partial, result.prefill) == ("continuation", sent, prefill)


def test_prefill_rules() -> None:
    assert prefill_allowed("anthropic", {"model": "claude-sonnet-4-5"})
    assert prefill_allowed("anthropic", {"model": "claude-3-5-sonnet-20241022"})
    assert not prefill_allowed("anthropic", {"model": "claude-sonnet-4-6"})
    assert not prefill_allowed("anthropic", {"model": "claude-opus-4-6-20260101"})
    thinking = {"model": "claude-sonnet-4-5", "thinking": {"type": "enabled", "budget_tokens": 256}}
    assert not prefill_allowed("anthropic", thinking)
    assert not prefill_allowed("openai", {"model": "gpt-4.1"})


def problems(
    provider: str, request: Incoming, body: dict[str, Any] | None = None, **changes: Any
) -> str:
    result = inspect_request(provider, body or BODIES[provider], request, expect(**changes))
    assert not result.ok
    return " | ".join(result.problems)


def test_rejects_prefill_for_a_model_that_refuses_it() -> None:
    body = {**BODIES["anthropic"], "model": "claude-sonnet-4-6"}
    request = continuation("anthropic", PARTIAL.rstrip(), prefill=True, model="claude-sonnet-4-6")
    assert "refuses it" in problems("anthropic", request, body)


def test_rejects_prefill_with_thinking() -> None:
    thinking = {"type": "enabled", "budget_tokens": 256}
    body = {**BODIES["anthropic"], "thinking": thinking}
    request = continuation("anthropic", PARTIAL.rstrip(), prefill=True, thinking=thinking)
    assert "refuses it" in problems("anthropic", request, body)


def test_rejects_a_continue_turn_where_prefill_is_expected() -> None:
    request = continuation("anthropic", PARTIAL, prefill=False)
    assert "accepts a prefill" in problems("anthropic", request)


def test_rejects_an_anthropic_prefill_ending_in_whitespace() -> None:
    request = continuation("anthropic", "Streaming keeps ", prefill=True)
    payload = json.loads(request.body)
    payload["messages"][-1]["content"] = "Streaming keeps "  # undo the provider's strip
    tampered = Incoming(request.method, request.path, request.headers, json.dumps(payload).encode())
    assert "whitespace" in problems("anthropic", tampered)


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_rejects_a_duplicated_assistant_turn(provider: str) -> None:
    request = continuation(provider, PARTIAL, prefill=False)
    payload = json.loads(request.body)
    key = "contents" if provider == "gemini" else "messages"
    payload[key].insert(-1, payload[key][-2])  # the partial answer twice
    tampered = Incoming(request.method, request.path, request.headers, json.dumps(payload).encode())
    assert "one new" in problems(provider, tampered)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rejects_a_partial_that_is_not_what_was_streamed(provider: str) -> None:
    request = continuation(provider, "Something else entirely", prefill=False)
    assert "not a prefix" in problems(provider, request, prefill=False)


def test_rejects_a_limit_that_was_not_reduced() -> None:
    maker = get_provider("openai", api_key=KEY)
    cont = maker.continuation_body(BODIES["openai"], PARTIAL, prefill=False, instruction="go on")
    assert "not reduced" in problems("openai", incoming(maker.build_request(cont)))


def test_rejects_a_limit_below_the_floor() -> None:
    maker = get_provider("gemini", api_key=KEY)
    body = {**BODIES["gemini"], "generationConfig": {"maxOutputTokens": 10}}
    cont = maker.continuation_body(body, PARTIAL, prefill=False, instruction="go on")
    assert "below the floor" in problems("gemini", incoming(maker.build_request(cont)))


def test_rejects_max_tokens_at_or_under_the_thinking_budget() -> None:
    thinking = {"type": "enabled", "budget_tokens": 900}
    body = {**BODIES["anthropic"], "thinking": thinking}
    maker = get_provider("anthropic", api_key=KEY)
    cont = maker.continuation_body(
        {**body, "max_tokens": 800}, PARTIAL, prefill=False, instruction="go on"
    )
    assert "budget_tokens" in problems("anthropic", incoming(maker.build_request(cont)), body)


def test_rejects_continuing_structured_output() -> None:
    body = {**BODIES["openai"], "response_format": {"type": "json_object"}}
    request = continuation(
        "openai", JSON_ANSWER.text[:40], prefill=False, response_format={"type": "json_object"}
    )
    result = inspect_request("openai", body, request, expect(reference=JSON_ANSWER.text))
    assert any("structured" in p for p in result.problems)


def test_rejects_a_continuation_under_the_restart_strategy() -> None:
    request = continuation("gemini", PARTIAL, prefill=False)
    assert "restart" in problems("gemini", request, strategy="restart")


def test_paragraph_strategy_wants_a_paragraph_break() -> None:
    cut = REFERENCE_TEXT.index("\n\n") + 2
    good = continuation("openai", REFERENCE_TEXT[:cut], prefill=False)
    assert inspect_request("openai", BODIES["openai"], good, expect(strategy="paragraph")).ok
    stripped = continuation("anthropic", REFERENCE_TEXT[:cut].rstrip(), prefill=True)
    assert inspect_request(
        "anthropic", BODIES["anthropic"], stripped, expect(strategy="paragraph")
    ).ok
    bad = continuation("openai", PARTIAL, prefill=False)
    assert "paragraph" in problems("openai", bad, strategy="paragraph")


def test_rejects_a_wrong_api_key() -> None:
    request = incoming(
        get_provider("anthropic", api_key="other").build_request(BODIES["anthropic"])
    )
    assert "x-api-key" in problems("anthropic", request)


def test_rejects_a_changed_field() -> None:
    maker = get_provider("openai", api_key=KEY)
    request = incoming(maker.build_request({**BODIES["openai"], "temperature": 2}))
    assert "other than the conversation" in problems("openai", request)


BACKGROUND = {**BODIES["openai-responses"], "background": True}


def native(response_id: str, after: int) -> Incoming:
    url = f"/v1/responses/{response_id}?stream=true&starting_after={after}"
    return Incoming("GET", url, (("authorization", f"Bearer {KEY}"),), b"")


def test_native_resume_passes_with_the_right_point() -> None:
    result = inspect_request(
        "openai-responses", BACKGROUND, native("resp_1", 7), expect(native_point=("resp_1", 7))
    )
    assert result == Inspection(kind="native_resume", starting_after=7, response_id="resp_1")


@pytest.mark.parametrize(
    ("response_id", "after", "fragment"),
    [("resp_1", 6, "starting_after=6"), ("resp_2", 7, "expected 'resp_1'")],
)
def test_native_resume_must_name_the_last_event(
    response_id: str, after: int, fragment: str
) -> None:
    request = native(response_id, after)
    assert fragment in problems("openai-responses", request, BACKGROUND, native_point=("resp_1", 7))


def test_a_continuation_is_wrong_when_native_resume_was_possible() -> None:
    request = continuation("openai-responses", PARTIAL, prefill=False, background=True)
    assert "native resume was possible" in problems(
        "openai-responses", request, BACKGROUND, native_point=("resp_1", 7)
    )


def test_error_response_names_the_problems() -> None:
    result = Inspection(kind="continuation", problems=("one", "two"))
    assert json.loads(result.error_response())["error"]["problems"] == ["one", "two"]


# -- answering continuations ---------------------------------------------------------------


def test_continuation_answers() -> None:
    seen = Inspection(kind="continuation", partial=PARTIAL)
    assert continuation_answer(DEFAULT_ANSWER, seen).text == REFERENCE_TEXT[120:]
    assert continuation_answer(DEFAULT_ANSWER, seen, overlap=5).text == REFERENCE_TEXT[115:]
    words = continuation_answer(DEFAULT_ANSWER, seen, overlap=2, overlap_unit="words").text
    assert words.endswith(REFERENCE_TEXT[120:])
    assert len(words[: -len(REFERENCE_TEXT[120:])].split()) == 2
    assert continuation_answer(DEFAULT_ANSWER, seen, restart=True).text == REFERENCE_TEXT


def _anthropic_with_headers(headers: list[tuple[str, str]]) -> Incoming:
    request = incoming(get_provider("anthropic", api_key=KEY).build_request(BODIES["anthropic"]))
    kept = [(n, v) for n, v in request.headers if n.lower() not in ("x-api-key", "authorization")]
    return Incoming(request.method, request.path, (*kept, *headers), request.body)


def test_anthropic_takes_the_key_as_x_api_key_or_as_a_bearer_token() -> None:
    for headers in ([("x-api-key", KEY)], [("authorization", f"Bearer {KEY}")]):
        request = _anthropic_with_headers(headers)
        assert inspect_request("anthropic", BODIES["anthropic"], request, expect()).problems == ()
    wrong = _anthropic_with_headers([("authorization", "Bearer sk-other")])
    assert "auth header" in problems("anthropic", wrong)
