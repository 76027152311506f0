"""Golden transcripts: each provider's documented stream shapes, event by event.

Every transcript under ``transcripts/`` is fed to a fresh parser (decoded by
``events_from_transcript``), and the test asserts the exact content events each
SSE event produced, the completion verdict at every step, the fault the stream
ends with, and the accumulated text, reasoning and tool calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from streamrecover.core.errors import (
    Fault,
    IncompleteStreamError,
    ProviderStreamError,
    UsageError,
)
from streamrecover.core.events import (
    Event,
    Finished,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from streamrecover.core.sse import ServerSentEvent
from streamrecover.providers import get_provider
from streamrecover.providers.base import StreamParser

Loader = Callable[[str], list[ServerSentEvent]]


def T(text: str) -> TextDelta:
    return TextDelta(text=text)


def R(text: str = "", signature: str = "") -> ReasoningDelta:
    return ReasoningDelta(text=text, signature=signature)


def C(index: int, id: str = "", name: str = "", arguments: str = "") -> ToolCallDelta:
    return ToolCallDelta(index=index, id=id, name=name, arguments=arguments)


def U(inp: int, out: int, reasoning: int = 0, cached: int = 0) -> Usage:
    return Usage(
        input_tokens=inp, output_tokens=out, reasoning_tokens=reasoning, cached_tokens=cached
    )


def F(reason: str) -> Finished:
    return Finished(reason=reason)


@dataclass
class Golden:
    """One transcript and everything it must produce."""

    provider: str
    file: str
    #: Content events per SSE event, in order (a fault-raising event has no entry).
    steps: list[list[Event]]
    complete: bool
    finish_reason: str | None = None
    #: The fault at the end: a ProviderStreamError's attributes, or "incomplete".
    fault: dict[str, Any] | str | None = None
    text: str = ""
    reasoning: str = ""
    tools: dict[int, tuple[str, str, str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.file}"


GOLDEN = [
    # -- OpenAI Chat Completions and compatible servers ---------------------------
    Golden(
        "openai",
        "text.sse",
        [[], [T("Hello")], [T(", wörld")], [T(" 👋\n\nBye.")], [F("stop")], [U(19, 7, 0, 3)], []],
        complete=True,
        finish_reason="stop",
        text="Hello, wörld 👋\n\nBye.",
    ),
    Golden(
        "openai",
        "tool_call.sse",
        [
            [C(0, "call_abc", "get_weather")],
            [C(0, arguments='{"loc')],
            [C(0, arguments='ation": "Paris"}')],
            [C(1, "call_def", "get_time", "{}")],
            [F("tool_calls")],
            [U(80, 30)],
            [],
        ],
        complete=True,
        finish_reason="tool_calls",
        tools={
            0: ("call_abc", "get_weather", '{"location": "Paris"}'),
            1: ("call_def", "get_time", "{}"),
        },
    ),
    Golden(
        "openai",
        "reasoning.sse",
        [
            [],
            [R("9.11 vs 9.8: ")],
            [R("compare tenths.")],
            [T("9.8 is larger.")],
            [U(12, 40, 31), F("stop")],
            [],
        ],
        complete=True,
        finish_reason="stop",
        text="9.8 is larger.",
        reasoning="9.11 vs 9.8: compare tenths.",
    ),
    Golden(
        "openai",
        "reasoning_compat.sse",
        [[R("Think")], [R("ing.")], [T("Done")], [U(5, 4), F("stop")], []],
        complete=True,
        finish_reason="stop",
        text="Done",
        reasoning="Thinking.",
    ),
    Golden(
        "openai",
        "error_midstream.sse",
        [[], [T("The answer")]],
        complete=False,
        fault={
            "error_type": "ServiceUnavailableError",
            "status": 503,
            "code": "503",
            "detail": "The engine is overloaded.",
        },
        text="The answer",
    ),
    Golden(
        "openai",
        "error_openai.sse",
        [[T("Par")]],
        complete=False,
        fault={"error_type": "server_error", "status": 500, "code": ""},
        text="Par",
    ),
    Golden(
        "openai",
        "truncated.sse",
        [[], [T("Once upon")], [T(" a time")]],
        complete=False,
        fault="incomplete",
        text="Once upon a time",
    ),
    Golden(
        "openai",
        "done_without_finish.sse",
        [[T("Half")], []],
        complete=False,
        fault="incomplete",
        text="Half",
    ),
    Golden(
        "openai",
        "unknown.sse",
        [[], [T("Hi")], [], [T("I can't help with that.")], [F("stop")], [], []],
        complete=True,
        finish_reason="stop",
        text="HiI can't help with that.",
    ),
    # -- OpenAI Responses ----------------------------------------------------------
    Golden(
        "openai-responses",
        "text.sse",
        [
            [],
            [],
            [],
            [],
            [T("Hi")],
            [T(" there, ")],
            [T("naïve 🌍")],
            [],
            [],
            [],
            [U(37, 11), F("completed")],
        ],
        complete=True,
        finish_reason="completed",
        text="Hi there, naïve 🌍",
    ),
    Golden(
        "openai-responses",
        "tool_call.sse",
        [
            [],
            [C(0, "call_12345xyz", "get_weather")],
            [C(0, arguments='{"location":')],
            [C(0, arguments='"Paris, France"}')],
            [],
            [],
            [C(1, "call_2", "get_time")],
            [C(1, arguments='{"tz":"CET"}')],
            [U(60, 25, 0, 10), F("completed")],
        ],
        complete=True,
        finish_reason="completed",
        tools={
            0: ("call_12345xyz", "get_weather", '{"location":"Paris, France"}'),
            1: ("call_2", "get_time", '{"tz":"CET"}'),
        },
    ),
    Golden(
        "openai-responses",
        "reasoning.sse",
        [
            [],
            [],
            [],
            [R("**Comparing** ")],
            [R("decimals.")],
            [],
            [R(" Raw.")],
            [],
            [T("9.8 is larger.")],
            [U(20, 300, 256), F("completed")],
        ],
        complete=True,
        finish_reason="completed",
        text="9.8 is larger.",
        reasoning="**Comparing** decimals. Raw.",
    ),
    Golden(
        "openai-responses",
        "error.sse",
        [[], [T("Partial")]],
        complete=False,
        fault={
            "error_type": "rate_limit_exceeded",
            "status": 429,
            "code": "rate_limit_exceeded",
            "detail": "Rate limit reached for gpt-4.1",
        },
        text="Partial",
    ),
    Golden(
        "openai-responses",
        "failed.sse",
        [[], [T("Some")]],
        complete=False,
        fault={"error_type": "server_error", "status": 500, "code": "server_error"},
        text="Some",
    ),
    Golden(
        "openai-responses",
        "incomplete.sse",
        [[], [T("A long")], [U(5, 16), F("max_output_tokens")]],
        complete=True,
        finish_reason="max_output_tokens",
        text="A long",
    ),
    Golden(
        "openai-responses",
        "truncated.sse",
        [[], [T("Cut ")], [T("here")]],
        complete=False,
        fault="incomplete",
        text="Cut here",
    ),
    Golden(
        "openai-responses",
        "unknown.sse",
        [[], [], [T("Found it.")], [], [], [T(" No more.")], [F("completed")]],
        complete=True,
        finish_reason="completed",
        text="Found it. No more.",
    ),
    # -- Anthropic Messages ---------------------------------------------------------
    Golden(
        "anthropic",
        "text.sse",
        [
            [U(30, 1, cached=5)],
            [],
            [],
            [T("Hello")],
            [T("! Ça va ? ")],
            [T("🙂")],
            [],
            [U(30, 15, cached=5), F("end_turn")],
            [],
        ],
        complete=True,
        finish_reason="end_turn",
        text="Hello! Ça va ? 🙂",
    ),
    Golden(
        "anthropic",
        "tool_use.sse",
        [
            [U(472, 2)],
            [],
            [T("Let me check.")],
            [],
            [C(0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather")],
            [],
            [C(0, arguments='{"location":')],
            [C(0, arguments=' "San Francisco, CA"}')],
            [],
            [C(1, "toolu_02", "get_time")],
            [C(1, arguments="{}")],
            [],
            [U(472, 89), F("tool_use")],
            [],
        ],
        complete=True,
        finish_reason="tool_use",
        text="Let me check.",
        tools={
            0: (
                "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                "get_weather",
                '{"location": "San Francisco, CA"}',
            ),
            1: ("toolu_02", "get_time", "{}"),
        },
    ),
    Golden(
        "anthropic",
        "thinking.sse",
        [
            [U(40, 1)],
            [],
            [R("I need to find the GCD of 1071 and 462.")],
            [R("\n\n1071 = 2 × 462 + 147")],
            [R(signature="EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds")],
            [],
            [],
            [T("The GCD is 21.")],
            [],
            [U(40, 120), F("end_turn")],
            [],
        ],
        complete=True,
        finish_reason="end_turn",
        text="The GCD is 21.",
        reasoning="I need to find the GCD of 1071 and 462.\n\n1071 = 2 × 462 + 147",
    ),
    Golden(
        "anthropic",
        "error.sse",
        [[U(10, 1)], [], [T("Working on")]],
        complete=False,
        fault={"error_type": "overloaded_error", "status": 529, "code": "", "detail": "Overloaded"},
        text="Working on",
    ),
    Golden(
        "anthropic",
        "truncated.sse",
        [[U(8, 1)], [], [T("Cut short")], [], [U(8, 3), F("end_turn")]],
        complete=False,
        finish_reason="end_turn",
        fault="incomplete",
        text="Cut short",
    ),
    Golden(
        "anthropic",
        "unknown.sse",
        [
            [U(142, 1, cached=100)],
            # redacted_thinking: its opaque data goes back with the turn (issue 13).
            [ReasoningDelta(redacted_data="EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP")],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [T("Sunny.")],
            [],
            [],
            [U(142, 42, cached=100), F("end_turn")],
            [],
        ],
        complete=True,
        finish_reason="end_turn",
        text="Sunny.",
    ),
    # -- Gemini ---------------------------------------------------------------------
    Golden(
        "gemini",
        "text.sse",
        [[T("The")], [T(" quick brown fox")], [T(" jumps — naïvely.\n"), U(9, 12), F("STOP")]],
        complete=True,
        finish_reason="STOP",
        text="The quick brown fox jumps — naïvely.\n",
    ),
    Golden(
        "gemini",
        "function_call.sse",
        [
            [T("Checking.")],
            [
                C(0, "", "get_weather", '{"location": "Zürich", "unit": "celsius"}'),
                R(signature="CiIBVKhc7oDPpCaXy"),
                C(1, "fc-2", "get_time", "{}"),
                U(50, 20),
                F("STOP"),
            ],
        ],
        complete=True,
        finish_reason="STOP",
        text="Checking.",
        tools={
            0: ("", "get_weather", '{"location": "Zürich", "unit": "celsius"}'),
            1: ("fc-2", "get_time", "{}"),
        },
    ),
    Golden(
        "gemini",
        "thinking.sse",
        [
            [R("**Weighing options** I compare")],
            [R(" both.")],
            [T("Option B.")],
            [R(signature="EnwKegEM"), U(12, 121, 118, 4), F("STOP")],
        ],
        complete=True,
        finish_reason="STOP",
        text="Option B.",
        reasoning="**Weighing options** I compare both.",
    ),
    Golden(
        "gemini",
        "error.sse",
        [[T("Partial answer")]],
        complete=False,
        fault={
            "error_type": "UNAVAILABLE",
            "status": 503,
            "code": "503",
            "detail": "The model is overloaded. Please try again later.",
        },
        text="Partial answer",
    ),
    Golden(
        "gemini",
        "truncated.sse",
        [[T("Never")], [T(" finished")]],
        complete=False,
        fault="incomplete",
        text="Never finished",
    ),
    Golden(
        "gemini",
        "safety.sse",
        [[T("I started to")], [U(7, 3), F("SAFETY")]],
        complete=True,
        finish_reason="SAFETY",
        text="I started to",
    ),
    Golden(
        "gemini",
        "blocked.sse",
        [[U(7, 0), F("PROHIBITED_CONTENT")]],
        complete=True,
        finish_reason="PROHIBITED_CONTENT",
    ),
    Golden(
        "gemini",
        "unknown.sse",
        [[], [T("It is 2.")], [], [], [U(5, 6), F("STOP")], [U(5, 7)]],
        complete=True,
        finish_reason="STOP",
        text="It is 2.",
    ),
]


@dataclass
class Outcome:
    steps: list[list[Event]]
    fault: Fault | None
    parser: StreamParser
    completion: list[bool]


def play(provider: str, events: list[ServerSentEvent]) -> Outcome:
    """Feed ``events`` one by one, then end the body; stop at the first fault."""
    parser = get_provider(provider).new_parser()
    steps: list[list[Event]] = []
    completion: list[bool] = []
    for event in events:
        try:
            steps.append(parser.feed(event))
        except Fault as exc:
            return Outcome(steps, exc, parser, completion)
        completion.append(parser.complete)
    try:
        parser.finish()
    except IncompleteStreamError as exc:
        return Outcome(steps, exc, parser, completion)
    return Outcome(steps, None, parser, completion)


def accumulate(events: list[Event]) -> tuple[str, str, dict[int, tuple[str, str, str]]]:
    text, reasoning = "", ""
    tools: dict[int, list[str]] = {}
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, ReasoningDelta):
            reasoning += event.text
        elif isinstance(event, ToolCallDelta):
            call = tools.setdefault(event.index, ["", "", ""])
            call[0] += event.id
            call[1] += event.name
            call[2] += event.arguments
    return text, reasoning, {index: (c[0], c[1], c[2]) for index, c in tools.items()}


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda golden: golden.id)
def test_golden_transcript(golden: Golden, transcript: Loader) -> None:
    outcome = play(golden.provider, transcript(golden.id))

    assert outcome.steps == golden.steps
    assert outcome.parser.complete is golden.complete
    assert outcome.parser.finish_reason == golden.finish_reason
    if golden.fault is None:
        assert outcome.fault is None
    elif golden.fault == "incomplete":
        assert isinstance(outcome.fault, IncompleteStreamError)
        assert outcome.fault.provider == golden.provider
    else:
        assert isinstance(outcome.fault, ProviderStreamError)
        assert outcome.fault.provider == golden.provider
        assert isinstance(golden.fault, dict)
        for name, value in golden.fault.items():
            assert getattr(outcome.fault, name) == value, name

    flat = [event for step in outcome.steps for event in step]
    text, reasoning, tools = accumulate(flat)
    assert text == golden.text
    assert reasoning == golden.reasoning
    assert tools == golden.tools
    for _, _, arguments in tools.values():
        json.loads(arguments)  # every accumulated tool call is whole JSON


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda golden: golden.id)
def test_golden_completion_flips_once_at_the_terminal_event(
    golden: Golden, transcript: Loader
) -> None:
    outcome = play(golden.provider, transcript(golden.id))
    # Monotonic: once complete, a stream stays complete; and only the last
    # event of a complete transcript's terminal marker makes it so.
    assert outcome.completion == sorted(outcome.completion)
    if golden.complete:
        assert True in outcome.completion
    else:
        assert True not in outcome.completion


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda golden: golden.id)
def test_golden_whole_equals_event_by_event(golden: Golden, transcript: Loader) -> None:
    # The same transcript fed to one parser as a batch gives what feeding it
    # event by event to that parser gave (parsers keep no hidden per-call state).
    events = transcript(golden.id)
    parser = get_provider(golden.provider).new_parser()
    batch: list[Event] = []
    try:
        for event in events:
            batch.extend(parser.feed(event))
    except Fault:
        pass
    assert batch == [event for step in golden.steps for event in step]


@pytest.mark.parametrize(
    "golden", [g for g in GOLDEN if isinstance(g.fault, dict)], ids=lambda golden: golden.id
)
def test_a_parser_that_raised_stays_failed(golden: Golden, transcript: Loader) -> None:
    events = transcript(golden.id)
    outcome = play(golden.provider, events)
    parser = outcome.parser
    assert parser.failed
    # vLLM sends [DONE] after its error frame: it must not complete the stream.
    with pytest.raises(UsageError):
        parser.feed(ServerSentEvent(data="[DONE]"))
    assert not parser.complete
    with pytest.raises(IncompleteStreamError):
        parser.finish()


def test_responses_resume_point_tracks_response_id_and_sequence(transcript: Loader) -> None:
    parser = get_provider("openai-responses").new_parser()
    for event in transcript("openai-responses/truncated.sse"):
        parser.feed(event)
    point = parser.resume_point
    assert point.response_id == "resp_t"
    assert point.sequence_number == 2


def test_transcript_splitter_follows_whatwg(
    decode_transcript: Callable[[bytes], list[ServerSentEvent]],
) -> None:
    raw = (
        b"\xef\xbb\xbf: comment\r\nevent: a\r\nid: 7\r\ndata:x\r\ndata:  y\r\n\r\n"
        b"data\rretry: 5\r\r: c\n\ndata: cut"
    )
    assert decode_transcript(raw) == [
        ServerSentEvent(event="a", data="x\n y", id="7"),
        ServerSentEvent(event="message", data="", id="7", retry=5),
    ]
