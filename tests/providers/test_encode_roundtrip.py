"""Re-encoding: parse(encode(events)) == events, on synthetic answers and on every
recorded real stream in ../shared/realstreams/ (skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamrecover.core.errors import Fault, ProviderStreamError, UsageError
from streamrecover.core.events import (
    Completed,
    Event,
    Finished,
    ReasoningDelta,
    Rewind,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from streamrecover.core.sse import SSEDecoder
from streamrecover.providers import get_provider
from streamrecover.providers.encode import encoder_for

REPO = Path(__file__).resolve().parents[2]
REALSTREAMS = REPO.parent / "shared" / "realstreams"
PROVIDERS = ("anthropic", "openai", "openai-responses", "gemini")


def parse(provider: str, raw: bytes) -> tuple[list[Event], bool]:
    parser = get_provider(provider).new_parser()
    decoder = SSEDecoder()
    events: list[Event] = []
    for sse in [*decoder.feed(raw), *decoder.feed(b"")]:
        events.extend(parser.feed(sse))
    return events, parser.complete


def roundtrip(provider: str, events: list[Event]) -> list[Event]:
    raw = encoder_for(provider, response_id="id-1", model="m", created=1).encode(events)
    parsed, complete = parse(provider, raw)
    assert complete
    return parsed


SYNTHETIC: dict[str, list[Event]] = {
    "anthropic": [
        Usage(input_tokens=12, output_tokens=1, cached_tokens=2),
        ReasoningDelta(text="Let me think."),
        ReasoningDelta(signature="sig=="),
        TextDelta(text="Hello "),
        TextDelta(text="wörld 🌍"),
        ToolCallDelta(index=0, id="toolu_1", name="get"),
        ToolCallDelta(index=0, arguments='{"a":'),
        ToolCallDelta(index=0, arguments="1}"),
        ToolCallDelta(index=1, id="toolu_2", name="put"),
        # A call without arguments: the parser gives "{}" at the block's end.
        ToolCallDelta(index=1, arguments="{}"),
        Usage(input_tokens=12, output_tokens=30, cached_tokens=2),
        Finished(reason="tool_use"),
    ],
    "openai": [
        ReasoningDelta(text="hmm"),
        TextDelta(text="Hello "),
        TextDelta(text="wörld"),
        ToolCallDelta(index=0, id="call_1", name="get", arguments=""),
        ToolCallDelta(index=0, arguments='{"a":1}'),
        Finished(reason="tool_calls"),
        Usage(input_tokens=5, output_tokens=7, reasoning_tokens=2, cached_tokens=1),
    ],
    "openai-responses": [
        ReasoningDelta(text="thinking"),
        TextDelta(text="Hello "),
        TextDelta(text="wörld"),
        ToolCallDelta(index=0, id="call_1", name="get", arguments=""),
        ToolCallDelta(index=0, arguments='{"a":1}'),
        Usage(input_tokens=5, output_tokens=7, reasoning_tokens=2, cached_tokens=1),
        Finished(reason="completed"),
    ],
    "gemini": [
        ReasoningDelta(text="thinking"),
        TextDelta(text="Hello "),
        TextDelta(text="wörld"),
        ReasoningDelta(signature="c2ln"),
        ToolCallDelta(index=0, id="", name="get", arguments='{"a": 1}'),
        Usage(input_tokens=5, output_tokens=7, reasoning_tokens=2, cached_tokens=1),
        Finished(reason="STOP"),
    ],
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_synthetic_answer_roundtrips(provider: str) -> None:
    events = SYNTHETIC[provider]
    assert roundtrip(provider, events) == events


@pytest.mark.parametrize("provider", PROVIDERS)
def test_completed_gives_final_reason_and_usage_once(provider: str) -> None:
    encoder = encoder_for(provider, response_id="r", model="m")
    usage = Usage(input_tokens=3, output_tokens=4)
    raw = encoder.feed(TextDelta(text="a")) + encoder.feed(
        Completed(finish_reason="length" if provider == "openai" else "max_tokens", usage=usage)
    )
    parsed, complete = parse(provider, raw)
    assert complete
    assert [e for e in parsed if isinstance(e, Usage)][-1] == usage
    assert len([e for e in parsed if isinstance(e, Finished)]) == 1
    with pytest.raises(UsageError):
        encoder.feed(TextDelta(text="late"))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rewind_cannot_be_encoded(provider: str) -> None:
    with pytest.raises(UsageError):
        encoder_for(provider).feed(Rewind(to=0))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_error_event_is_the_providers_own(provider: str) -> None:
    encoder = encoder_for(provider)
    raw = encoder.feed(TextDelta(text="partial")) + encoder.error("overloaded", "overloaded_error")
    with pytest.raises(ProviderStreamError, match="overloaded"):
        parse(provider, raw)


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(UsageError, match="anthropic"):
        encoder_for("nope")


def test_anthropic_block_indexes_are_contiguous_and_one_message_start() -> None:
    raw = encoder_for("anthropic").encode(SYNTHETIC["anthropic"])
    frames = [json.loads(s.data) for s in SSEDecoder().feed(raw)]
    kinds = [f["type"] for f in frames]
    assert kinds.count("message_start") == 1 and kinds.count("message_delta") == 1
    assert kinds[-1] == "message_stop"
    starts = [f["index"] for f in frames if f["type"] == "content_block_start"]
    assert starts == list(range(len(starts)))


def test_responses_sequence_numbers_are_monotonic() -> None:
    raw = encoder_for("openai-responses").encode(SYNTHETIC["openai-responses"])
    frames = [json.loads(s.data) for s in SSEDecoder().feed(raw)]
    assert [f["sequence_number"] for f in frames] == list(range(len(frames)))
    completed = frames[-1]["response"]
    assert [item["type"] for item in completed["output"]] == [
        "reasoning",
        "message",
        "function_call",
    ]


def _real_streams() -> list[Path]:
    if not REALSTREAMS.is_dir():
        return []
    return sorted(REALSTREAMS.glob("*.sse"))


def _expected() -> dict[str, dict[str, object]]:
    return json.loads((REALSTREAMS / "expected.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.skipif(not REALSTREAMS.is_dir(), reason=f"recorded streams not found at {REALSTREAMS}")
@pytest.mark.parametrize("path", _real_streams(), ids=lambda p: p.name)
def test_real_stream_roundtrips(path: Path) -> None:
    info = _expected()[path.name]
    provider = str(info["provider"])
    try:
        events, complete = parse(provider, path.read_bytes())
    except Fault:
        pytest.skip("the recorded stream ends in an error")
    if not complete:
        pytest.skip("the recorded stream is incomplete")
    assert roundtrip(provider, events) == events
