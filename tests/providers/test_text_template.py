"""The text-frame fast path (providers/_template.py) gives exactly what the full parse gives.

Every recorded stream, and fuzzed near-misses of a learnt frame (other text with
escapes and unicode, a changed field, another index, decoy fields, damaged
bytes), are fed to a parser with the fast path and to one whose template never
matches (every frame decoded in full): the events, and the errors, are the same.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import Fault
from streamrecover.core.events import TextDelta
from streamrecover.core.sse import ServerSentEvent, SSEDecoder
from streamrecover.providers._template import TextTemplate
from streamrecover.providers.anthropic import AnthropicParser
from streamrecover.providers.base import StreamParser
from streamrecover.providers.openai_chat import OpenAIChatParser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "realstreams"))
from realstreams_location import realstreams_folder

PARSERS: dict[str, type[StreamParser]] = {
    "anthropic": AnthropicParser,
    "openai": OpenAIChatParser,
}


class _NeverMatches(TextTemplate):
    __slots__ = ()

    def match(self, data: str) -> str | None:
        return None


def reference(parser: StreamParser) -> StreamParser:
    """``parser`` with its fast path off: every frame decoded in full."""
    template = parser._template  # type: ignore[attr-defined]
    parser._template = _NeverMatches(  # type: ignore[attr-defined]
        template._text_marker, template._classify, template._ignored_marker
    )
    return parser


def outcomes(parser: StreamParser, events: Sequence[ServerSentEvent]) -> list[Any]:
    """What ``parser`` makes of each event in turn: its events, or the fault it raised."""
    seen: list[Any] = []
    for event in events:
        try:
            seen.append(("events", parser.feed(event)))
        except Fault as fault:
            seen.append(("fault", type(fault).__name__, str(fault)))
            break
    seen.append(("complete", parser.complete))
    return seen


def same_both_ways(provider: str, events: Sequence[ServerSentEvent]) -> list[Any]:
    fast = outcomes(PARSERS[provider](), events)
    full = outcomes(reference(PARSERS[provider]()), events)
    assert fast == full
    return fast


def sse(data: str, event: str = "message") -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data)


# -- recorded streams --------------------------------------------------------------

FOLDER = realstreams_folder()
RECORDED = sorted(
    path.name for path in FOLDER.glob("*.sse") if path.name.split("__", maxsplit=1)[0] in PARSERS
)


@pytest.mark.skipif(not RECORDED, reason=f"no recorded streams at {FOLDER}")
@pytest.mark.parametrize("name", RECORDED)
def test_recorded_streams_read_the_same(name: str) -> None:
    decoder = SSEDecoder()
    raw = (FOLDER / name).read_bytes()
    events = decoder.feed(raw) + decoder.feed(b"")
    same_both_ways(name.split("__", maxsplit=1)[0], events)


@pytest.mark.skipif(not RECORDED, reason=f"no recorded streams at {FOLDER}")
def test_the_fast_path_is_taken_on_recorded_text() -> None:
    # Not a speed test: proof that the comparisons above covered the fast path.
    hits = 0
    for name in RECORDED:
        parser = PARSERS[name.split("__", maxsplit=1)[0]]()
        template = parser._template  # type: ignore[attr-defined]
        decoder = SSEDecoder()
        for event in decoder.feed((FOLDER / name).read_bytes()):
            hits += template.match(event.data) is not None
            try:
                parser.feed(event)
            except Fault:
                break
    assert hits > 300


# -- fuzzed near-misses ------------------------------------------------------------

TEXT = st.text(
    st.one_of(
        st.sampled_from(list('ab "\\/\n\t\x00\x1féü日🙂\u2028\ud800\udfff{}[],:')),
        st.characters(),
    ),
    max_size=12,
)


def anthropic_frame(text: str, index: int = 0, **changes: Any) -> str:
    frame: dict[str, Any] = {
        "type": "content_block_delta",
        "index": index,
        "delta": {"type": "text_delta", "text": text},
    }
    frame.update(changes)
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def openai_frame(text: str, obfuscation: str | None = "aB3", **changes: Any) -> str:
    frame: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        "usage": None,
    }
    frame.update(changes)
    if obfuscation is not None:
        frame["obfuscation"] = obfuscation
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


ESCAPINGS: list[Callable[[Any], str]] = [
    lambda frame: json.dumps(frame, ensure_ascii=False, separators=(",", ":")),
    json.dumps,  # \u escapes and spaces
    lambda frame: json.dumps(frame, indent=1),
]


def _mutate(data: str, position: int, replacement: str, cut: int) -> str:
    position %= len(data) + 1
    return data[:position] + replacement + data[position + cut :]


@given(
    st.lists(TEXT, min_size=1, max_size=4),
    st.integers(0, 400),
    st.sampled_from(['"', "\\", "}", "x", "", ",", ' "text":"z"', "\\u00e9", "\\ud83d"]),
    st.integers(0, 3),
)
def test_anthropic_near_misses_read_the_same(
    texts: list[str], position: int, replacement: str, cut: int
) -> None:
    learnt = anthropic_frame("learnt")
    frames = [learnt, *(anthropic_frame(text) for text in texts)]
    frames.append(_mutate(anthropic_frame(texts[0]), position, replacement, cut))
    frames.append(anthropic_frame("after"))
    same_both_ways("anthropic", [sse(frame, "content_block_delta") for frame in frames])


@given(
    st.lists(TEXT, min_size=1, max_size=4),
    st.lists(TEXT, min_size=1, max_size=4),
    st.integers(0, 400),
    st.sampled_from(['"', "\\", "}", "1", "", ",", '"obfuscation":"q",', "null", "\\u0041"]),
    st.integers(0, 3),
)
def test_openai_near_misses_read_the_same(
    texts: list[str], paddings: list[str], position: int, replacement: str, cut: int
) -> None:
    frames = [openai_frame("learnt")]
    frames += [openai_frame(t, p) for t, p in zip(texts, paddings * len(texts), strict=False)]
    frames.append(_mutate(openai_frame(texts[0]), position, replacement, cut))
    frames.append(openai_frame("after", obfuscation=None))
    frames.append(openai_frame("after"))
    same_both_ways("openai", [sse(frame) for frame in frames])


CHANGED_ANTHROPIC = [
    anthropic_frame("x", index=1),
    anthropic_frame("x", index="0"),
    anthropic_frame("x", type="content_block_start"),
    anthropic_frame("x", delta={"type": "thinking_delta", "thinking": "x"}),
    anthropic_frame("x", delta={"type": "text_delta", "text": 5}),
    anthropic_frame("x", delta={"type": "text_delta"}),
    anthropic_frame("x", extra={"text": "decoy"}),
    anthropic_frame("x", type="error", error={"type": "overloaded_error", "message": "m"}),
    anthropic_frame(""),
    anthropic_frame("x").replace('"text":"x"', '"text":"x","text":"y"'),
    anthropic_frame("x").replace('{"type":"text_delta"', '{"text":"y","type":"text_delta"'),
    anthropic_frame("x") + " ",
    " " + anthropic_frame("x"),
    anthropic_frame("x") + "x",
    anthropic_frame("x")[:-1],
    anthropic_frame("x").replace('"x"', '"\\q"'),
    anthropic_frame("x").replace('"x"', '"a\nb"'),
]


@pytest.mark.parametrize("learnt", [anthropic_frame("learnt"), *CHANGED_ANTHROPIC])
@pytest.mark.parametrize("changed", CHANGED_ANTHROPIC)
def test_anthropic_changed_fields_read_the_same(learnt: str, changed: str) -> None:
    frames = [learnt, anthropic_frame("one"), changed, anthropic_frame("two"), changed]
    same_both_ways("anthropic", [sse(frame, "content_block_delta") for frame in frames])


CHANGED_OPENAI = [
    openai_frame("x", choices=[{"index": 1, "delta": {"content": "x"}, "finish_reason": None}]),
    openai_frame("x", choices=[{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}]),
    openai_frame("x", choices=[{"index": 0, "delta": {"content": "x", "refusal": "r"}}]),
    openai_frame("x", choices=[{"index": 0, "delta": {"reasoning_content": "x"}}]),
    openai_frame("x", usage={"prompt_tokens": 1, "completion_tokens": 2}),
    openai_frame("x", error={"message": "boom", "type": "server_error"}),
    openai_frame("x", obfuscation="\\"),
    openai_frame("x", model="x"),
    openai_frame("x", decoy={"content": "x"}),
    openai_frame("x", choices=[]),
    openai_frame("x").replace('"content":"x"', '"content":"x","content":"y"'),
    openai_frame("x").replace('"obfuscation":"aB3"', '"obfuscation":"aB3","obfuscation":5'),
    openai_frame("x").replace('"obfuscation":"aB3"', '"obfuscation":"aB3","error":"e"'),
    openai_frame(""),
    "[DONE]",
    *(escape(json.loads(openai_frame("é\u2028x"))) for escape in ESCAPINGS),
]


@pytest.mark.parametrize("learnt", [openai_frame("learnt"), *CHANGED_OPENAI])
@pytest.mark.parametrize("changed", CHANGED_OPENAI)
def test_openai_changed_fields_read_the_same(learnt: str, changed: str) -> None:
    frames = [learnt, openai_frame("one", "p1"), changed, openai_frame("two", "p22"), changed]
    same_both_ways("openai", [sse(frame) for frame in frames])


def test_a_decoy_field_with_the_same_text_is_not_taken_for_the_text() -> None:
    # The marker's last occurrence is a decoy holding the same text: the check of
    # the learnt shape must refuse it, or the next frame would read the decoy.
    learnt = anthropic_frame("same", decoy={"text": "same"})
    fooled = anthropic_frame("same", decoy={"text": "fake"})
    changed = anthropic_frame("real", decoy={"text": "fake"})
    outcome = same_both_ways(
        "anthropic", [sse(frame, "content_block_delta") for frame in (learnt, fooled, changed)]
    )
    assert [events for _, events in outcome[:3]] == [
        [TextDelta(text="same")],
        [TextDelta(text="same")],
        [TextDelta(text="real")],
    ]


def test_a_duplicate_key_after_the_text_is_not_taken_for_it() -> None:
    # json keeps the last of duplicate keys: a learnt hole in the first one is refused.
    learnt = openai_frame("a").replace('"content":"a"', '"content":"a","content":"a"')
    fooled = openai_frame("a").replace('"content":"a"', '"content":"b","content":"a"')
    outcome = same_both_ways("openai", [sse(learnt), sse(fooled)])
    assert [events for _, events in outcome[:2]] == [[TextDelta(text="a")]] * 2


def test_padding_that_changes_on_every_chunk_still_takes_the_fast_path() -> None:
    parser = OpenAIChatParser()
    parser.feed(sse(openai_frame("a", "pad1")))
    template = parser._template
    assert template.match(openai_frame("b", "other padding")) == "b"
    assert template.match(openai_frame("b", obfuscation=None)) is None
