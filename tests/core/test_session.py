"""RecoverySession: every strategy, fault and driver-contract rule, deterministically.

Each test drives the sans-IO session by hand with provider SSE rendered by
``_frames`` (no network), a seeded ``random.Random`` and a fake clock.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import pytest
from _frames import BODIES, SSE_HEADERS, Tool, answer_stream, attempt, error_frame, frames

from streamrecover.core.errors import (
    HTTPStatusError,
    IncompleteStreamError,
    ProviderProtocolError,
    ProviderStreamError,
    SSEProtocolError,
    StreamInterrupted,
    TransportError,
    UnexpectedContentError,
    UsageError,
)
from streamrecover.core.events import (
    Completed,
    Event,
    ReasoningDelta,
    Resumed,
    Retrying,
    Rewind,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from streamrecover.core.http import HTTPRequest
from streamrecover.core.intake import MAX_ERROR_BODY
from streamrecover.core.policy import RetryBudget, RetryPolicy
from streamrecover.core.resume import CONTINUE_INSTRUCTION, ELISION, MIN_OUTPUT_TOKENS
from streamrecover.core.session import (
    Done,
    GiveUp,
    RecoverySession,
    Retry,
    SessionState,
)
from streamrecover.providers import ResumePoint, get_provider

PROVIDERS = tuple(BODIES)


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def reset() -> TransportError:
    return TransportError("connection reset by peer", kind="reset")


def make(
    name: str = "openai",
    body: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    provider_options: dict[str, Any] | None = None,
    **options: Any,
) -> RecoverySession:
    options.setdefault("rng", random.Random(seed))
    options.setdefault("clock", FakeClock())
    provider = get_provider(name, **(provider_options or {}))
    return RecoverySession(provider, BODIES[name] if body is None else body, **options)


def consume(events: Sequence[Event], text: str = "") -> str:
    """Apply events the way a consumer does: TextDelta appends, Rewind cuts."""
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Rewind):
            text = event.apply(text)
    return text


def kinds(events: Sequence[Event]) -> list[type[Event]]:
    return [type(event) for event in events]


def of(events: Sequence[Event], cls: type[Any]) -> list[Any]:
    return [event for event in events if isinstance(event, cls)]


def sent(request: HTTPRequest) -> dict[str, Any]:
    assert request.body is not None
    body = json.loads(request.body)
    assert isinstance(body, dict)
    return body


def turns_of(name: str, request: HTTPRequest) -> list[Any]:
    key = {"openai": "messages", "anthropic": "messages", "gemini": "contents"}.get(name, "input")
    turns = sent(request)[key]
    assert isinstance(turns, list)
    return turns


def turn_text(turn: dict[str, Any]) -> str:
    if "parts" in turn:
        return "".join(part["text"] for part in turn["parts"])
    content = turn["content"]
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


def broken_then_resumed(
    session: RecoverySession,
    name: str,
    first: Sequence[str],
    rest: Sequence[str],
    *,
    fault: BaseException | None = None,
) -> tuple[list[Event], HTTPRequest, list[Event]]:
    """Attempt 1 streams ``first`` and breaks; attempt 2 streams ``rest`` to the end."""
    session.next_request()
    before = attempt(session, frames(name, first, complete=False), fault=fault or reset())
    assert isinstance(session.decision(), Retry)
    request = session.next_request()
    after = attempt(session, [answer_stream(name, rest)])
    return before, request, after


# -- the happy path ---------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_whole_stream_completes_in_one_attempt(name: str) -> None:
    session = make(name)
    request = session.next_request()
    assert request == get_provider(name).build_request(BODIES[name])
    events = attempt(session, [answer_stream(name, ["Hel", "lo ", "wörld 👋"])])
    assert consume(events) == session.text == "Hello wörld 👋"
    assert isinstance(events[-1], Completed)
    assert events[-1].usage == session.usage == Usage(input_tokens=10, output_tokens=5)
    assert session.state is SessionState.DONE
    assert isinstance(session.decision(), Done)
    assert (session.attempts, session.retries, session.resumes) == (1, 0, 0)
    assert not of(events, Rewind) and not of(events, Resumed) and not of(events, Retrying)


@pytest.mark.parametrize("name", PROVIDERS)
def test_tool_calls_are_released_only_when_the_stream_completes(name: str) -> None:
    session = make(name)
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    body = frames(name, ["Let me check."], tool=Tool())
    events: list[Event] = []
    for frame in body[:-1]:
        events += session.receive_data(frame)
    assert not of(events, ToolCallDelta)
    events += session.receive_data(body[-1])
    tools = of(events, ToolCallDelta)
    assert tools
    assert {tool.index for tool in tools} == {0}
    assert tools[0].id in ("call_1", "") and tools[0].name == "get_weather"
    assert json.loads("".join(tool.arguments for tool in tools)) == {"city": "Paris"}
    # Delivered together, after every text delta and just before Completed.
    position = events.index(tools[0])
    assert not of(events[position:], TextDelta)
    assert isinstance(events[-1], Completed)
    assert session.state is SessionState.DONE


# -- exact ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "prefill"),
    [
        ("anthropic", {}, True),
        ("anthropic", {"prefill": False}, False),
        ("openai", {}, False),
        ("openai", {"prefill": True}, True),
        ("gemini", {}, False),
        ("gemini", {"prefill": True}, True),
        ("openai-responses", {}, False),
    ],
)
def test_exact_resume_continues_from_the_cut(
    name: str, options: dict[str, Any], prefill: bool
) -> None:
    session = make(name, provider_options=options, strategy="exact")
    before, request, after = broken_then_resumed(
        session, name, ["The capital of France ", "is "], ["Paris", ", of course."]
    )
    assert consume(before) == "The capital of France is "
    retrying = of(before, Retrying)
    assert len(retrying) == 1 and retrying[0].resume and retrying[0].attempt == 2
    assert isinstance(retrying[0].cause, TransportError)
    assert not of(before, Rewind)
    turns = turns_of(name, request)
    if prefill:
        expected = "The capital of France is"
        if name != "anthropic":
            expected += " "  # only Anthropic requires the trailing whitespace stripped
        assert turns[-1]["role"] in ("assistant", "model")
        assert turn_text(turns[-1]) == expected
    else:
        assert turn_text(turns[-2]) == "The capital of France is "
        assert turns[-1]["role"] == "user" and turn_text(turns[-1]) == CONTINUE_INSTRUCTION
    assert after[0] == Resumed(strategy="exact", attempt=2)
    assert not of(after, Rewind)
    assert consume(before + after) == session.text == "The capital of France is Paris, of course."
    assert (session.attempts, session.retries, session.resumes) == (2, 0, 1)
    assert session.strategy_used == "exact"


def test_anthropic_prefill_continuation_that_re_emits_the_stripped_space() -> None:
    session = make("anthropic")
    before, _, after = broken_then_resumed(session, "anthropic", ["Hello world "], [" again."])
    assert consume(before + after) == session.text == "Hello world again."
    assert session.overlap_removed == 1


def test_continuation_that_repeats_the_tail_is_stitched() -> None:
    session = make("openai")
    before, _, after = broken_then_resumed(
        session,
        "openai",
        ["The answer lies in ", "the garden"],
        ["in the garden", " behind ", "the house."],
    )
    assert (
        consume(before + after) == session.text == "The answer lies in the garden behind the house."
    )
    assert session.overlap_removed == len("in the garden")
    assert not of(after, Rewind)


def test_continuation_that_restarts_from_scratch_and_diverges_is_rewound() -> None:
    opening = "The quick brown fox jumps over the lazy dog, and then it "
    session = make("openai")
    before, _, after = broken_then_resumed(
        session, "openai", [opening, "stops."], ["The quick brown fox jumps over the lazy cat."]
    )
    assert consume(before) == opening + "stops."
    rewinds = of(after, Rewind)
    assert rewinds == [Rewind(to=len("The quick brown fox jumps over the lazy "))]
    assert consume(before + after) == session.text == "The quick brown fox jumps over the lazy cat."


def test_continuation_that_reproduces_the_whole_answer_is_not_duplicated() -> None:
    opening = "The quick brown fox jumps over the lazy dog, and then it "
    session = make("openai")
    before, _, after = broken_then_resumed(session, "openai", [opening], [opening + "sleeps."])
    assert not of(after, Rewind)
    assert consume(before + after) == session.text == opening + "sleeps."


# -- paragraph ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_paragraph_rolls_back_to_the_last_paragraph_and_continues(name: str) -> None:
    session = make(name, strategy="paragraph")
    first = ["Intro paragraph.\n\n", "Second para", "graph is half"]
    before, request, after = broken_then_resumed(
        session, name, first, ["Second paragraph, regenerated.\n\nThird."]
    )
    kept = "Intro paragraph.\n\n"
    assert of(before, Rewind) == [Rewind(to=len(kept))]
    # The rewind comes before the announcement of the next attempt.
    assert kinds(before)[-2:] == [Rewind, Retrying]
    assert "Second" not in request.body.decode()  # type: ignore[union-attr]
    assert after[0] == Resumed(strategy="paragraph", attempt=2)
    expected = kept + "Second paragraph, regenerated.\n\nThird."
    assert consume(before + after) == session.text == expected


def test_paragraph_with_no_complete_paragraph_restarts() -> None:
    session = make("openai", strategy="paragraph")
    before, request, after = broken_then_resumed(
        session, "openai", ["Only one paragraph, cu"], ["Only one paragraph, complete."]
    )
    assert of(before, Rewind) == [Rewind(to=0, reasoning_to=0)]
    assert request == get_provider("openai").build_request(BODIES["openai"])
    assert after[0] == Resumed(strategy="restart", attempt=2)
    assert consume(before + after) == session.text == "Only one paragraph, complete."


# -- summarize ---------------------------------------------------------------------------


def test_summarize_sends_a_condensed_head_and_the_verbatim_tail() -> None:
    words = [f"w{i:05d} " for i in range(4000)]  # 28 000 characters, over the threshold
    partial = "".join(words)
    session = make("openai", strategy="summarize")
    before, request, after = broken_then_resumed(session, "openai", words, ["and the end."])
    assert not of(before, Rewind)
    assistant, user = turns_of("openai", request)[-2:]
    shown = turn_text(assistant)
    assert ELISION in shown and len(shown) < len(partial)
    assert shown.startswith(partial[:1000])
    assert shown.endswith(partial[-6000:])
    assert user["role"] == "user"
    assert after[0] == Resumed(strategy="summarize", attempt=2)
    assert consume(before + after) == session.text == partial + "and the end."


def test_summarize_a_short_partial_resumes_exactly() -> None:
    session = make("openai", strategy="summarize")
    _, request, after = broken_then_resumed(session, "openai", ["Short "], ["answer."])
    assert turn_text(turns_of("openai", request)[-2]) == "Short "
    assert after[0] == Resumed(strategy="exact", attempt=2)
    assert session.text == "Short answer."


# -- restart -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_restart_rewinds_to_zero_and_sends_the_original_request(name: str) -> None:
    session = make(name, strategy="restart")
    before, request, after = broken_then_resumed(
        session, name, ["A first try"], ["A second, ", "different try."]
    )
    assert of(before, Rewind) == [Rewind(to=0, reasoning_to=0)]
    assert request == get_provider(name).build_request(BODIES[name])
    assert after[0] == Resumed(strategy="restart", attempt=2)
    assert consume(before + after) == session.text == "A second, different try."
    assert session.resumes == 1


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("openai", {"response_format": {"type": "json_object"}}),
        ("anthropic", {"tool_choice": {"type": "any"}}),
        ("gemini", {"generationConfig": {"responseMimeType": "application/json"}}),
        ("openai-responses", {"text": {"format": {"type": "json_object"}}}),
    ],
)
def test_structured_output_falls_back_to_restart(name: str, extra: dict[str, Any]) -> None:
    body = {**BODIES[name], **extra}
    session = make(name, body, strategy="exact")
    before, request, after = broken_then_resumed(
        session, name, ['{"city": "Pa'], ['{"city": "Paris"}']
    )
    assert of(before, Rewind) == [Rewind(to=0, reasoning_to=0)]
    assert request == get_provider(name).build_request(body)
    assert after[0] == Resumed(strategy="restart", attempt=2)
    assert json.loads(consume(before + after)) == {"city": "Paris"}


# -- native (OpenAI Responses background mode) ----------------------------------------------


def test_native_resume_streams_the_same_response_from_the_cut() -> None:
    name = "openai-responses"
    body = {**BODIES[name], "background": True}
    session = make(name, body, strategy="paragraph")  # native wins whatever was chosen
    session.next_request()
    whole = frames(name, ["Once ", "upon ", "a ", "time."], response_id="resp_42")
    # Cut in the middle of event 4 (sequence numbers 0..3 arrived whole).
    cut = len(b"".join(whole[:4])) + 17
    before = attempt(session, [b"".join(whole)[:cut]], fault=reset())
    assert consume(before) == "Once upon "
    assert session.resume_point == ResumePoint(response_id="resp_42", sequence_number=3)
    request = session.next_request()
    assert request.method == "GET"
    assert request.url == "https://api.openai.com/v1/responses/resp_42?stream=true&starting_after=3"
    assert request.body is None
    # The server replays from sequence 4: nothing is regenerated or stitched.
    after = attempt(session, [b"".join(whole[4:])])
    assert after[0] == Resumed(strategy="native", attempt=2)
    assert not of(before + after, Rewind)
    assert consume(before + after) == session.text == "Once upon a time."
    assert session.overlap_removed == 0


def test_native_resume_ignores_events_replayed_from_before_the_cut() -> None:
    name = "openai-responses"
    session = make(name, {**BODIES[name], "background": True})
    session.next_request()
    whole = frames(name, ["Once ", "upon ", "a ", "time."])
    before = attempt(session, whole[:4], fault=reset())
    session.next_request()
    after = attempt(session, [b"".join(whole)])  # a server that replays everything
    assert consume(before + after) == session.text == "Once upon a time."


def test_native_resume_continues_a_half_streamed_tool_call() -> None:
    name = "openai-responses"
    session = make(name, {**BODIES[name], "background": True})
    session.next_request()
    whole = frames(name, ["Checking."], tool=Tool(arguments=('{"ci', 'ty": ', '"Paris"}')))
    # Up to the first argument fragment of the call (sequence 5).
    before = attempt(session, whole[:6], fault=reset())
    assert not of(before, ToolCallDelta)
    session.next_request()
    after = attempt(session, [b"".join(whole[6:])])
    tools = of(after, ToolCallDelta)
    assert json.loads("".join(tool.arguments for tool in tools)) == {"city": "Paris"}
    assert tools[0].name == "get_weather"


# -- tool calls and thinking are never half-resumed ------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_cut_inside_a_tool_call_drops_it_and_it_is_regenerated_whole(name: str) -> None:
    session = make(name)
    session.next_request()
    body = b"".join(frames(name, ["Let me check."], tool=Tool()))
    # Cut inside the tool call: after the text, before the terminal marker.
    text_end = b"".join(frames(name, ["Let me check."], complete=False))
    cut = len(text_end) + (len(body) - len(text_end)) // 3
    before = attempt(session, [body[:cut]], fault=reset())
    assert consume(before) == "Let me check."
    assert not of(before, ToolCallDelta)
    retrying = of(before, Retrying)
    assert retrying and retrying[0].resume
    session.next_request()
    after = attempt(session, [answer_stream(name, [" "], tool=Tool())])
    tools = of(after, ToolCallDelta)
    assert json.loads("".join(tool.arguments for tool in tools)) == {"city": "Paris"}
    assert sum(1 for tool in tools if tool.name) == 1
    assert isinstance(after[-1], Completed)


@pytest.mark.parametrize("name", ["openai", "anthropic", "openai-responses"])
def test_a_cut_tool_call_before_any_text_is_retried_invisibly(name: str) -> None:
    session = make(name)
    session.next_request()
    body = frames(name, [], tool=Tool(arguments=('{"city":', ' "Paris"', "}")))
    before = attempt(session, body[:-4], fault=reset())
    assert not of(before, ToolCallDelta)
    assert of(before, Retrying)[0].resume is False
    session.next_request()
    after = attempt(session, [answer_stream(name, [], tool=Tool())])
    tools = of(after, ToolCallDelta)
    assert json.loads("".join(tool.arguments for tool in tools)) == {"city": "Paris"}
    assert (session.retries, session.resumes) == (1, 0)


@pytest.mark.parametrize(
    ("name", "body_extra"),
    [
        ("anthropic", {"thinking": {"type": "enabled", "budget_tokens": 512}}),
        ("openai", {}),
        ("gemini", {}),
        ("openai-responses", {}),
    ],
)
def test_a_cut_inside_thinking_restarts_with_reasoning_rewound(
    name: str, body_extra: dict[str, Any]
) -> None:
    body = {**BODIES[name], **body_extra}
    session = make(name, body, strategy="exact")
    session.next_request()
    thinking = frames(name, ["Hello"], reasoning=["Let me ", "think about it"])
    # Cut after the first reasoning piece, before any text.
    count = {"anthropic": 3, "openai": 2, "gemini": 1, "openai-responses": 2}[name]
    before = attempt(session, thinking[:count], fault=reset())
    assert [event.text for event in of(before, ReasoningDelta)] == ["Let me "]
    assert of(before, Rewind) == [Rewind(to=0, reasoning_to=0)]
    assert kinds(before)[-2:] == [Rewind, Retrying]
    request = session.next_request()
    assert request == get_provider(name).build_request(body)
    after = attempt(session, [answer_stream(name, ["Hello"], reasoning=["Fresh thought"])])
    assert after[0] == Resumed(strategy="restart", attempt=2)
    assert [event.text for event in of(after, ReasoningDelta) if event.text] == ["Fresh thought"]
    assert consume(before + after) == session.text == "Hello"


def test_a_continuation_thinks_again_but_its_reasoning_is_not_delivered() -> None:
    name = "anthropic"
    body = {**BODIES[name], "thinking": {"type": "enabled", "budget_tokens": 512}}
    session = make(name, body)
    session.next_request()
    before = attempt(
        session, frames(name, ["Half an "], reasoning=["plan"], complete=False), fault=reset()
    )
    assert not of(before, Rewind)
    request = session.next_request()
    # Thinking forbids prefill: the continuation is asked for with a user turn.
    assert turn_text(turns_of(name, request)[-1]) == CONTINUE_INSTRUCTION
    after = attempt(session, [answer_stream(name, ["answer."], reasoning=["again"])])
    assert not of(after, ReasoningDelta)
    assert consume(before + after) == "Half an answer."


# -- retries before any text ----------------------------------------------------------------


def test_a_fault_before_any_text_is_an_invisible_retry() -> None:
    session = make("anthropic", policy=RetryPolicy(max_retries=2, max_resumes=0))
    events: list[Event] = []
    for _ in range(2):
        session.next_request()
        # message_start and the text block start arrive, but no text.
        events += attempt(session, frames("anthropic", ["x"])[:2], fault=reset())
        assert isinstance(session.decision(), Retry)
        assert session.decision() == Retry(delay=of(events, Retrying)[-1].delay, resume=False)
    assert not of(events, Rewind) and not of(events, Resumed)
    assert (session.retries, session.resumes) == (2, 0)
    request = session.next_request()
    assert request == get_provider("anthropic").build_request(BODIES["anthropic"])
    events = attempt(session, [answer_stream("anthropic", ["Fine."])])
    assert not of(events, Resumed)
    assert session.text == "Fine." and session.attempts == 3


def test_invisible_retries_count_against_max_retries_not_max_resumes() -> None:
    session = make("openai", policy=RetryPolicy(max_retries=1, max_resumes=5))
    session.next_request()
    attempt(session, [], fault=reset())
    assert isinstance(session.decision(), Retry)
    session.next_request()
    attempt(session, [], fault=reset())
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert "retries_exhausted" in str(decision.error)
    assert session.state is SessionState.GAVE_UP


def test_resumes_count_against_max_resumes() -> None:
    session = make("openai", policy=RetryPolicy(max_retries=5, max_resumes=1))
    broken = frames("openai", ["Some text"], complete=False)
    session.next_request()
    attempt(session, broken, fault=reset())
    session.next_request()
    attempt(session, [], fault=reset())
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert "resumes_exhausted" in str(decision.error)
    assert (session.retries, session.resumes) == (0, 1)


def test_first_transport_retry_is_immediate_and_later_delays_follow_the_seeded_rng() -> None:
    first = make("openai", seed=7)
    second = make("openai", seed=7)
    delays = []
    for session in (first, second):
        seen = []
        for _ in range(3):
            session.next_request()
            attempt(session, [], fault=reset())
            decision = session.decision()
            assert isinstance(decision, Retry)
            seen.append(decision.delay)
        delays.append(seen)
    assert delays[0] == delays[1]
    assert delays[0][0] == 0.0
    policy = RetryPolicy()
    rng = random.Random(7)
    assert delays[0][1:] == [policy.backoff(1, rng), policy.backoff(2, rng)]
    assert first.delay_total == pytest.approx(sum(delays[0]))


# -- output-token limit and usage ---------------------------------------------------------


def test_resume_request_asks_for_fewer_output_tokens() -> None:
    session = make("anthropic", {**BODIES["anthropic"], "max_tokens": 1000})
    _, request, _ = broken_then_resumed(session, "anthropic", ["a" * 399 + " "], ["b."])
    assert sent(request)["max_tokens"] == 1000 - 400 // 4
    session = make("anthropic", {**BODIES["anthropic"], "max_tokens": 1000})
    _, request, _ = broken_then_resumed(session, "anthropic", ["a" * 9999 + " "], ["b."])
    assert sent(request)["max_tokens"] == MIN_OUTPUT_TOKENS


def test_usage_is_summed_across_attempts() -> None:
    session = make("anthropic")
    session.next_request()
    before = attempt(
        session, frames("anthropic", ["Half "], usage=(100, 0), complete=False), fault=reset()
    )
    assert of(before, Usage) == [Usage(input_tokens=100, output_tokens=1)]
    assert session.usage == Usage(input_tokens=100, output_tokens=1)
    session.next_request()
    after = attempt(session, [answer_stream("anthropic", ["done."], usage=(120, 7))])
    total = Usage(input_tokens=220, output_tokens=8)
    assert session.usage == total
    completed = after[-1]
    assert isinstance(completed, Completed)
    assert completed.usage == total
    assert completed.finish_reason == "end_turn"


# -- faults the stream itself reports --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error_type"),
    [
        ("anthropic", "overloaded_error"),
        ("openai", "server_error"),
        ("gemini", "UNAVAILABLE"),
        ("openai-responses", "server_error"),
    ],
)
def test_a_provider_error_event_mid_stream_is_resumed(name: str, error_type: str) -> None:
    session = make(name)
    session.next_request()
    broken = [*frames(name, ["Partial "], complete=False), error_frame(name, error_type)]
    before = attempt(session, broken)
    cause = of(before, Retrying)[0].cause
    assert isinstance(cause, ProviderStreamError)
    assert cause.error_type == error_type
    assert session.decision() == Retry(delay=of(before, Retrying)[0].delay, resume=True)
    session.next_request()
    after = attempt(session, [answer_stream(name, ["answer."])])
    assert consume(before + after) == session.text == "Partial answer."


def test_anthropic_overloaded_error_carries_its_529_status() -> None:
    session = make("anthropic")
    session.next_request()
    attempt(
        session,
        [
            *frames("anthropic", ["x "], complete=False),
            error_frame("anthropic", "overloaded_error"),
        ],
    )
    assert isinstance(session.last_fault, ProviderStreamError)
    assert session.last_fault.status == 529
    assert session.last_verdict is not None and session.last_verdict.retryable


def test_a_fatal_error_event_mid_stream_gives_up_with_the_partial_text() -> None:
    session = make("anthropic")
    session.next_request()
    broken = [
        *frames("anthropic", ["Partial "], complete=False),
        error_frame("anthropic", "invalid_request_error", "bad"),
    ]
    attempt(session, broken)
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert decision.error.committed_text == "Partial "
    assert decision.error.recoverable is False
    assert isinstance(decision.error.cause, ProviderStreamError)


@pytest.mark.parametrize("name", PROVIDERS)
def test_eof_without_the_terminal_marker_is_incomplete_and_resumed(name: str) -> None:
    session = make(name)
    session.next_request()
    # The stop reason may even have come: only the terminal marker completes a stream.
    body = frames(name, ["Nearly "])
    before = attempt(session, body[:-1])
    assert isinstance(session.last_fault, IncompleteStreamError)
    assert of(before, Retrying)[0].resume
    assert not of(before, Completed)
    session.next_request()
    after = attempt(session, [answer_stream(name, ["done."])])
    assert consume(before + after) == session.text == "Nearly done."


# Regression (a bug of 7efbafb, fixed in 0172bab): at EOF the session calls Stitcher.finish()
# before checking that the continuation completed, so text the stitcher was holding as possible
# overlap is released from a truncated continuation and duplicated
def test_eof_in_a_continuation_abandons_what_the_stitcher_holds() -> None:
    session = make("openai")
    session.next_request()
    attempt(session, frames("openai", ["The answer is in the"], complete=False), fault=reset())
    session.next_request()
    # The continuation starts repeating "the" and the body ends (no [DONE]).
    middle = attempt(session, frames("openai", ["th"], complete=False))
    assert isinstance(session.last_fault, IncompleteStreamError)
    assert not of(middle, TextDelta)
    assert session.text == "The answer is in the"


# -- failed responses -----------------------------------------------------------------------


def test_a_non_2xx_response_body_becomes_an_http_status_error() -> None:
    session = make("anthropic")
    session.next_request()
    body = json.dumps(
        {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}
    ).encode()
    events = attempt(
        session,
        [body[:10], body[10:]],
        status=401,
        headers=[("Content-Type", "application/json"), ("Request-Id", "req_1")],
    )
    assert not of(events, Retrying)
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    error = decision.error
    assert isinstance(error, StreamInterrupted)
    cause = error.cause
    assert isinstance(cause, HTTPStatusError)
    assert (cause.status, cause.error_type, cause.provider) == (
        401,
        "authentication_error",
        "anthropic",
    )
    assert cause.body == body.decode()
    assert ("request-id", "req_1") in cause.headers
    assert error.recoverable is False and error.committed_text == "" and error.attempts == 1
    assert session.state is SessionState.GAVE_UP


@pytest.mark.parametrize(
    ("name", "body", "error_type"),
    [
        ("openai", {"error": {"type": "server_error", "message": "oops"}}, "server_error"),
        (
            "gemini",
            {"error": {"code": 503, "status": "UNAVAILABLE", "message": "x"}},
            "UNAVAILABLE",
        ),
        ("anthropic", {"type": "error", "error": {"type": "overloaded_error"}}, "overloaded_error"),
    ],
)
def test_a_retryable_status_is_retried_with_the_provider_error_type(
    name: str, body: dict[str, Any], error_type: str
) -> None:
    session = make(name)
    session.next_request()
    attempt(session, [json.dumps(body).encode()], status=529 if name == "anthropic" else 503)
    assert isinstance(session.decision(), Retry)
    assert isinstance(session.last_fault, HTTPStatusError)
    assert session.last_fault.error_type == error_type
    session.next_request()
    attempt(session, [answer_stream(name, ["ok"])])
    assert session.text == "ok" and session.retries == 1


def test_the_error_body_kept_is_capped() -> None:
    session = make("openai")
    session.next_request()
    attempt(session, [b"x" * 5000, b"y" * 5000, b"z" * 5000], status=500)
    assert isinstance(session.last_fault, HTTPStatusError)
    assert session.last_fault.body == "x" * 5000 + "y" * (MAX_ERROR_BODY - 5000)


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/json"])
def test_a_2xx_that_is_not_an_event_stream_is_unexpected_content(content_type: str) -> None:
    session = make("openai")
    for _ in range(2):
        session.next_request()
        attempt(session, [b"<html>portal</html>"], headers=[("content-type", content_type)])
    fault = session.last_fault
    assert isinstance(fault, UnexpectedContentError)
    assert fault.content_type == content_type and fault.body == "<html>portal</html>"
    # One retry only: a wrong base URL never turns into an event stream.
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert session.retries == 1


def test_an_event_stream_content_type_with_parameters_is_accepted() -> None:
    session = make("openai")
    session.next_request()
    headers = [("Content-Type", "Text/Event-Stream; charset=utf-8")]
    attempt(session, [answer_stream("openai", ["ok"])], headers=headers)
    assert session.text == "ok"


# -- Retry-After, deadline, shared budget -------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value", "at_least"),
    [("retry-after", "7", 7.0), ("retry-after-ms", "2500", 2.5), ("Retry-After", "0", 0.0)],
)
def test_retry_after_is_honoured(header: str, value: str, at_least: float) -> None:
    session = make("openai", seed=3)
    session.next_request()
    attempt(session, [b"{}"], status=429, headers=[(header, value)])
    decision = session.decision()
    assert isinstance(decision, Retry)
    assert decision.delay >= at_least
    assert session.last_verdict is not None and session.last_verdict.server_delay == at_least


def test_retry_after_http_date_is_read_against_the_injected_wall_clock() -> None:
    wall = 1_445_412_470.0  # Wed, 21 Oct 2015 07:27:50 GMT
    session = make("openai", wall_clock=lambda: wall)
    session.next_request()
    attempt(session, [], status=503, headers=[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])
    decision = session.decision()
    assert isinstance(decision, Retry) and decision.delay >= 10.0


def test_retry_after_beyond_the_cap_gives_up() -> None:
    session = make("openai", policy=RetryPolicy(max_server_delay=30.0))
    session.next_request()
    attempt(session, [], status=503, headers=[("retry-after", "31")])
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert "server_delay_too_long" in str(decision.error)
    assert decision.error.recoverable is True


def test_the_deadline_stops_recovery() -> None:
    clock = FakeClock(1000.0)
    session = make("openai", clock=clock, policy=RetryPolicy(deadline=10.0, backoff_base=1.0))
    session.next_request()
    attempt(session, [], status=503, headers=[("retry-after", "2")])
    assert isinstance(session.decision(), Retry)  # 2 s of 10 left
    clock.now = 1009.0
    session.next_request()
    attempt(session, [], status=503, headers=[("retry-after", "2")])
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert "deadline" in str(decision.error)


def test_a_retry_budget_is_shared_between_sessions() -> None:
    # A floor of 1 retry, nothing answered yet: the first failure gets it.
    budget = RetryBudget(min_retries_per_second=0.1, ttl=10)
    first = make("openai", budget=budget)
    second = make("openai", budget=budget)
    first.next_request()
    attempt(first, [], fault=reset())
    assert isinstance(first.decision(), Retry)
    second.next_request()
    attempt(second, [], fault=reset())
    decision = second.decision()
    assert isinstance(decision, GiveUp)
    assert "budget_exhausted" in str(decision.error)
    # Five answered streams fund one more retry (20% each).
    for _ in range(5):
        done = make("openai", budget=budget)
        done.next_request()
        attempt(done, [answer_stream("openai", ["ok"])])
        assert isinstance(done.decision(), Done)
    third = make("openai", budget=budget)
    third.next_request()
    attempt(third, [], fault=reset())
    assert isinstance(third.decision(), Retry)


# -- StreamInterrupted --------------------------------------------------------------------------


def test_stream_interrupted_carries_the_committed_text_and_the_cause() -> None:
    session = make("openai", policy=RetryPolicy(max_resumes=1))
    session.next_request()
    attempt(session, frames("openai", ["Half "], complete=False), fault=reset())
    session.next_request()
    final_fault = reset()
    attempt(session, frames("openai", ["an ans"], complete=False), fault=final_fault)
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    error = decision.error
    assert error.cause is final_fault
    assert error.committed_text == session.text == "Half an ans"
    assert error.recoverable is True
    assert error.attempts == 2


def test_a_non_retryable_fault_gives_up_at_once() -> None:
    session = make("openai")
    session.next_request()
    fault = TransportError("certificate verify failed", kind="tls_certificate")
    attempt(session, [], fault=fault)
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert decision.error.cause is fault and decision.error.recoverable is False


# -- the driver contract ------------------------------------------------------------------------


def _idle(session: RecoverySession) -> None:
    pass


def _sent(session: RecoverySession) -> None:
    session.next_request()


def _streaming(session: RecoverySession) -> None:
    session.next_request()
    session.response_started(200, SSE_HEADERS)


def _done(session: RecoverySession) -> None:
    session.next_request()
    attempt(session, [answer_stream("openai", ["ok"])])


def _gave_up(session: RecoverySession) -> None:
    session.next_request()
    attempt(session, [], status=401)


def _calls() -> dict[str, Any]:
    return {
        "next_request": lambda s: s.next_request(),
        "response_started": lambda s: s.response_started(200, SSE_HEADERS),
        "receive_data": lambda s: s.receive_data(b"data: x\n\n"),
        "connection_failed": lambda s: s.connection_failed(reset()),
        "cancel": lambda s: s.cancel(),
    }


ILLEGAL = [
    (_idle, "response_started"),
    (_idle, "receive_data"),
    (_idle, "connection_failed"),
    (_sent, "next_request"),
    (_sent, "receive_data"),
    (_streaming, "next_request"),
    (_streaming, "response_started"),
    (_done, "receive_data"),
    (_done, "next_request"),
    (_done, "cancel"),
    (_done, "connection_failed"),
    (_gave_up, "next_request"),
    (_gave_up, "response_started"),
    (_gave_up, "cancel"),
]


@pytest.mark.parametrize(("setup", "call"), ILLEGAL, ids=[f"{s.__name__}-{c}" for s, c in ILLEGAL])
def test_an_illegal_call_raises_usage_error_and_fails_the_session(setup: Any, call: str) -> None:
    session = make("openai")
    setup(session)
    with pytest.raises(UsageError, match=f"{call}\\(\\) is not allowed"):
        _calls()[call](session)
    assert session.state is SessionState.ERROR
    for other in _calls().values():
        with pytest.raises(UsageError):
            other(session)
    assert session.state is SessionState.ERROR


def test_decision_before_the_attempt_ended_is_a_usage_error() -> None:
    session = make("openai")
    with pytest.raises(UsageError, match="no decision"):
        session.decision()
    _streaming(session)
    with pytest.raises(UsageError, match="no decision"):
        session.decision()


# Regression (a bug of 7efbafb, fixed in 0172bab): receive_data() given str lets the decoder's
# UsageError escape but leaves the session STREAMING instead of ERROR
def test_receive_data_of_text_instead_of_bytes_fails_the_session() -> None:
    session = make("openai")
    _streaming(session)
    with pytest.raises(UsageError):
        session.receive_data("data: x\n\n")  # type: ignore[arg-type]
    assert session.state is SessionState.ERROR


def test_after_give_up_the_session_is_finished() -> None:
    session = make("openai")
    _gave_up(session)
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert session.decision() is decision  # asking again does not change it
    assert session.state is SessionState.GAVE_UP
    with pytest.raises(UsageError):
        session.next_request()


@pytest.mark.parametrize("setup", [_idle, _sent, _streaming])
def test_cancel_ends_the_session(setup: Any) -> None:
    session = make("openai")
    setup(session)
    if session.state is SessionState.STREAMING:
        session.receive_data(b"".join(frames("openai", ["so far"], complete=False)))
    session.cancel()
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert decision.error.cause is None
    assert decision.error.committed_text == session.text
    assert decision.error.recoverable is bool(session.text)
    assert session.state is SessionState.GAVE_UP


def test_cancel_while_waiting_to_retry() -> None:
    session = make("openai")
    session.next_request()
    attempt(session, frames("openai", ["so far"], complete=False), fault=reset())
    assert session.state is SessionState.IDLE
    session.cancel()
    decision = session.decision()
    assert isinstance(decision, GiveUp) and decision.error.committed_text == "so far"


def test_unknown_strategy_is_refused() -> None:
    with pytest.raises(UsageError, match="unknown strategy"):
        make("openai", strategy="guess")


def test_connection_failure_before_the_status_line_is_retried() -> None:
    session = make("openai")
    session.next_request()
    session.connection_failed(TransportError("refused", kind="connect_refused"))
    assert session.decision() == Retry(delay=0.0, resume=False)
    events = session.take_events()
    assert kinds(events) == [Retrying]
    assert session.take_events() == []


def test_the_stream_stops_at_the_terminal_marker() -> None:
    session = make("openai")
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    trailing = b'data: {"choices":[{"index":0,"delta":{"content":"late"}}]}\n\n'
    events = session.receive_data(answer_stream("openai", ["ok"]) + trailing)
    assert consume(events) == session.text == "ok"
    assert session.state is SessionState.DONE


# -- resuming a stored stream (committed_text at construction) --------------------------------


def test_a_stored_partial_resumes_on_the_first_request() -> None:
    session = make("openai", committed_text="Stored half ")
    request = session.next_request()
    assert turn_text(turns_of("openai", request)[-2]) == "Stored half "
    events = attempt(session, [answer_stream("openai", ["and the rest."])])
    assert events[0] == Resumed(strategy="exact", attempt=1)
    assert consume(events, "Stored half ") == session.text == "Stored half and the rest."


def test_a_stored_background_response_resumes_natively() -> None:
    name = "openai-responses"
    whole = frames(name, ["Stored ", "half ", "and more."], response_id="resp_9")
    point = ResumePoint(response_id="resp_9", sequence_number=3)
    session = make(
        name,
        {**BODIES[name], "background": True},
        committed_text="Stored half ",
        resume_point=point,
    )
    request = session.next_request()
    assert request.url.endswith("/responses/resp_9?stream=true&starting_after=3")
    events = attempt(session, [b"".join(whole[4:])])
    assert consume(events, "Stored half ") == session.text == "Stored half and more."


# Regression (a bug of 7efbafb, fixed in 0172bab): a session built with committed_text plans a
# restart (or a paragraph roll-back) but never emits the Rewind nor cuts its text, so the
# regenerated answer is appended to the stored partial
@pytest.mark.parametrize(
    ("strategy", "stored", "regenerated", "keep"),
    [
        ("restart", "Stored half", "A new whole answer.", 0),
        ("paragraph", "Para one.\n\nPara tw", "Second paragraph, reworded.", 11),
    ],
)
def test_a_stored_partial_is_rolled_back_as_the_strategy_says(
    strategy: str, stored: str, regenerated: str, keep: int
) -> None:
    session = make("openai", committed_text=stored, strategy=strategy)
    session.next_request()
    events = attempt(session, [answer_stream("openai", [regenerated])])
    assert of(events, Rewind) and of(events, Rewind)[0].to == keep
    assert consume(events, stored) == session.text == stored[:keep] + regenerated


# Regression (a bug of 7efbafb, fixed in 0172bab): native resume of a stream cut while thinking
# (no text yet) emits Rewind(0, reasoning_to=0) although the resumed response does not replay the
# reasoning already delivered, so the consumer loses it
def test_native_resume_inside_thinking_keeps_the_reasoning() -> None:
    name = "openai-responses"
    session = make(name, {**BODIES[name], "background": True})
    session.next_request()
    whole = frames(name, ["Hello"], reasoning=["think ", "hard"])
    before = attempt(session, whole[:3], fault=reset())
    assert session.next_request().method == "GET"
    after = attempt(session, [b"".join(whole[3:])])
    assert not of(before + after, Rewind)
    reasoning = "".join(event.text for event in of(before + after, ReasoningDelta))
    assert reasoning == "think hard"


# -- more faults ----------------------------------------------------------------------------


def test_a_malformed_event_mid_stream_is_resumed() -> None:
    session = make("openai")
    session.next_request()
    broken = [*frames("openai", ["Good so far "], complete=False), b'data: {"choices": [\n\n']
    before = attempt(session, broken)
    assert isinstance(session.last_fault, ProviderProtocolError)
    assert of(before, Retrying)[0].resume
    session.next_request()
    after = attempt(session, [answer_stream("openai", ["and after."])])
    assert consume(before + after) == session.text == "Good so far and after."


def test_an_event_over_the_size_cap_gives_up() -> None:
    session = make("openai", max_line_size=256)
    session.next_request()
    attempt(session, [answer_stream("openai", ["x" * 300])])
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert isinstance(decision.error.cause, SSEProtocolError)
    assert decision.error.recoverable is False


def test_a_foreign_exception_reported_as_a_failure_is_never_retried() -> None:
    session = make("openai")
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    session.receive_data(b"".join(frames("openai", ["Some "], complete=False)))
    bug = ValueError("a bug in the caller")
    session.connection_failed(bug)
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert decision.error.cause is bug
    assert decision.error.committed_text == "Some "
    assert decision.error.recoverable is False


# Regression: a refused body used to leave the session half-updated.
def test_a_body_the_provider_refuses_fails_the_session_cleanly() -> None:
    try:
        session = make("openai", {"model": "gpt-4o"})  # no messages
    except UsageError:
        return  # refused at construction: fine too
    with pytest.raises(UsageError, match="messages"):
        session.next_request()
    assert session.state is SessionState.ERROR
    assert session.attempts == 0


# Regression: an unbuildable resume request used to escape with the session half-updated.
@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("gemini", {"model": "gemini-2.0-flash", "contents": "hi"}),
        ("openai-responses", {"model": "gpt-4o", "input": {"role": "user", "content": "hi"}}),
    ],
)
@pytest.mark.parametrize("eof", [False, True], ids=["reset", "eof"])
def test_a_fault_whose_resume_cannot_be_built_gives_up(
    name: str, body: dict[str, Any], eof: bool
) -> None:
    session = make(name, body)
    session.next_request()
    attempt(session, frames(name, ["Partial "], complete=False), fault=None if eof else reset())
    decision = session.decision()
    assert isinstance(decision, GiveUp)
    assert decision.error.committed_text == "Partial "
    assert session.state is SessionState.GAVE_UP
