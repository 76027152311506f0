"""SDKFeed: what the SDK receives is never taken back."""

from __future__ import annotations

import json

import pytest

from streamrecover.core.events import Completed, ReasoningDelta, Rewind, TextDelta, Usage
from streamrecover.core.sse import SSEDecoder
from streamrecover.integrations._sdk_stream import SDKFeed, StreamDiverged
from streamrecover.providers.encode import encoder_for
from streamrecover.providers.encode.passthrough import Passthrough


def sent_text(raw: bytes) -> str:
    text = ""
    for sse in SSEDecoder().feed(raw):
        if sse.data != "[DONE]":
            for choice in json.loads(sse.data).get("choices", []):
                text += choice["delta"].get("content") or ""
    return text


def test_trailing_whitespace_waits_and_may_be_rewritten() -> None:
    feed = SDKFeed(encoder_for("openai"), "exact")
    first = feed.feed(TextDelta(text="Hello world. "))
    assert sent_text(first) == "Hello world."
    # A continuation's seam drops the held space: nothing sent is taken back.
    assert feed.feed(Rewind(to=12)) == b""
    rest = feed.feed(TextDelta(text="\n\nNext")) + feed.feed(Completed(finish_reason="stop"))
    assert sent_text(first + rest) == "Hello world.\n\nNext"


def test_rewind_below_what_the_sdk_holds_is_refused() -> None:
    feed = SDKFeed(encoder_for("openai"), "exact")
    feed.feed(TextDelta(text="Hello world"))
    with pytest.raises(StreamDiverged):
        feed.feed(Rewind(to=3))


def test_restart_mode_holds_everything_until_completed() -> None:
    feed = SDKFeed(encoder_for("openai"), "restart")
    assert feed.feed(TextDelta(text="draft")) == b""
    assert feed.feed(Rewind(to=0, reasoning_to=0)) == b""
    raw = feed.feed(TextDelta(text="final")) + feed.feed(
        Completed(finish_reason="stop", usage=Usage())
    )
    assert sent_text(raw) == "final"


def test_reasoning_waits_for_the_answer_and_a_restart_drops_it() -> None:
    feed = SDKFeed(encoder_for("anthropic"), "exact")
    assert feed.feed(ReasoningDelta(text="first thoughts")) == b""
    feed.feed(Rewind(to=0, reasoning_to=0))
    feed.feed(ReasoningDelta(text="second"))
    raw = feed.feed(TextDelta(text="Hi")) + feed.feed(Completed(finish_reason="end_turn"))
    assert b"second" in raw and b"first thoughts" not in raw


def _frames(raw: bytes) -> list[dict[str, object]]:
    return [json.loads(sse.data) for sse in SSEDecoder().feed(raw)]


def _ping() -> Passthrough:
    return Passthrough(event="ping", data={"type": "ping"})


def test_a_passed_through_frame_keeps_its_place_relative_to_the_text() -> None:
    feed = SDKFeed(encoder_for("anthropic"), "exact")
    raw = feed.feed(TextDelta(text="Before "))  # the trailing space is held
    raw += feed.feed(_ping())
    raw += feed.feed(TextDelta(text="after."))
    raw += feed.feed(Completed(finish_reason="end_turn"))
    kinds = [f["type"] for f in _frames(raw)]
    texts = [f["delta"]["text"] for f in _frames(raw) if f["type"] == "content_block_delta"]
    # The held space went out before the ping, as it came.
    assert texts == ["Before", " ", "after."]
    assert kinds.index("ping") == kinds.index("content_block_delta") + 2


def test_a_rewind_drops_what_came_after_the_text_it_takes_back() -> None:
    feed = SDKFeed(encoder_for("anthropic"), "paragraph")
    raw = feed.feed(TextDelta(text="Kept.\n\nLost"))
    raw += feed.feed(_ping())  # after "Lost", which the paragraph strategy rolls back
    raw += feed.feed(Rewind(to=7))
    raw += feed.feed(TextDelta(text="Again."))
    raw += feed.feed(Completed(finish_reason="end_turn"))
    assert "ping" not in [f["type"] for f in _frames(raw)]


def test_a_restart_drops_every_frame_not_yet_delivered() -> None:
    feed = SDKFeed(encoder_for("anthropic"), "restart")
    feed.feed(_ping())
    feed.feed(TextDelta(text="draft"))
    feed.feed(Rewind(to=0, reasoning_to=0))
    raw = feed.feed(TextDelta(text="final")) + feed.feed(Completed(finish_reason="end_turn"))
    assert "ping" not in [f["type"] for f in _frames(raw)]


def test_a_header_goes_to_the_encoder_at_once() -> None:
    feed = SDKFeed(encoder_for("anthropic", model="asked-for"), "exact")
    header = Passthrough(
        event="message_start", data={"fields": {"model": "served-model"}, "usage": {}}, header=True
    )
    raw = feed.feed(header) + feed.feed(TextDelta(text="Hi"))
    raw += feed.feed(Completed(finish_reason="end_turn"))
    assert _frames(raw)[0]["message"]["model"] == "served-model"  # type: ignore[index]
