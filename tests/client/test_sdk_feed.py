"""SDKFeed: what the SDK receives is never taken back."""

from __future__ import annotations

import json

import pytest

from streamrecover.core.events import Completed, ReasoningDelta, Rewind, TextDelta, Usage
from streamrecover.core.sse import SSEDecoder
from streamrecover.integrations._sdk_stream import SDKFeed, StreamDiverged
from streamrecover.providers.encode import encoder_for


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
