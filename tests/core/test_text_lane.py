"""The session's text lane gives exactly what the general path gives.

A read that is one plain text frame may be committed by
``RecoverySession.receive_text_frame`` without the SSE decoder and the parser's
general path. Every recorded OpenAI Chat / Anthropic stream, cut into one read
per SSE event (as the APIs flush) and into other reads, and fuzzed near-misses of
a learnt frame (other text with escapes, unicode and surrogates, damaged bytes,
event ids, CR line ends, other event names, a frame cut across reads), are fed
to one session that tries the lane first on every read and to one that never
does: the events of every read, the text, the state and every result are the same.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamrecover.core.errors import UsageError
from streamrecover.core.events import TextDelta
from streamrecover.core.session import RecoverySession
from streamrecover.providers.anthropic import AnthropicProvider
from streamrecover.providers.base import Provider
from streamrecover.providers.openai_chat import OpenAIChatProvider

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "realstreams"))
from realstreams_location import realstreams_folder

PROVIDERS: dict[str, type[Provider]] = {
    "anthropic": AnthropicProvider,
    "openai": OpenAIChatProvider,
}
BODY = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
HEAD = [("content-type", "text/event-stream")]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def session(provider: str) -> RecoverySession:
    started = RecoverySession(
        PROVIDERS[provider](api_key="k"), BODY, clock=Clock(), rng=random.Random(0)
    )
    started.next_request()
    started.response_started(200, HEAD)
    return started


def general(s: RecoverySession, data: bytes) -> list[Any]:
    s.queue_data(data)
    events: list[Any] = []
    while (step := s.next_events()) is not None:
        if step:  # as Stream hands them over: an empty step is no batch
            events.append(step)
    return events


def play(provider: str, reads: Sequence[bytes], *, lane: bool) -> tuple[list[Any], int]:
    """Each read's events (as Stream hands them over) and the state after; lane reads."""
    s = session(provider)
    if not lane:
        s._lane_event = ""  # the lane for one event of a run, off too
    seen: list[Any] = []
    taken = 0
    for data in reads:
        try:
            if lane:
                events = s.receive_text_frame(data)
                if events is not None:
                    taken += 1
                    seen.append([events])
                    continue
            seen.append(general(s, data))
        except UsageError as error:  # a read after the end: the same both ways
            seen.append(("usage error", str(error)))
            break
    seen.append(state(s))
    return seen, taken


def state(s: RecoverySession) -> dict[str, Any]:
    result: dict[str, Any] = {
        "state": s.state,
        "text": s.text,
        "finish_reason": s.finish_reason,
        "usage": s.usage,
        "resume_point": s.resume_point,
        "surrogates_replaced": s.surrogates_replaced,
        "outbox": s.take_events(),
        "queued": s.has_queued_events,
    }
    try:
        decision = s.decision()
    except UsageError:
        decision = None
    result["decision"] = repr(decision) if decision is not None else None
    return result


def same_both_ways(provider: str, reads: Sequence[bytes]) -> int:
    fast, taken = play(provider, reads, lane=True)
    full, _ = play(provider, reads, lane=False)
    # By repr: a fault inside a Retrying compares by identity.
    assert repr(fast) == repr(full)
    return taken


def per_event(raw: bytes) -> list[bytes]:
    """``raw`` cut after every blank line (LF LF, CRLF CRLF or CR CR)."""
    pieces = re.split(rb"(?<=\r\n\r\n)|(?<=\n\n)|(?<=\r\r)(?!\n)", raw)
    return [piece for piece in pieces if piece]


# -- recorded streams --------------------------------------------------------------

FOLDER = realstreams_folder()
RECORDED = sorted(
    path.name for path in FOLDER.glob("*.sse") if path.name.split("__", maxsplit=1)[0] in PROVIDERS
)


@pytest.mark.skipif(not RECORDED, reason=f"no recorded streams at {FOLDER}")
@pytest.mark.parametrize("name", RECORDED)
def test_recorded_streams_read_the_same_one_read_per_event(name: str) -> None:
    raw = (FOLDER / name).read_bytes()
    provider = name.split("__", maxsplit=1)[0]
    same_both_ways(provider, [*per_event(raw), b""])
    # Two events per read, and reads cut off by one byte, seldom take the lane.
    pieces = per_event(raw)
    pairs = [b"".join(pieces[i : i + 2]) for i in range(0, len(pieces), 2)]
    same_both_ways(provider, [*pairs, b""])
    same_both_ways(provider, [raw[:1], *per_event(raw[1:]), b""])
    # The whole body in one read, and in reads of 61 bytes: runs of events.
    same_both_ways(provider, [raw, b""])
    same_both_ways(provider, [*(raw[i : i + 61] for i in range(0, len(raw), 61)), b""])


@pytest.mark.skipif(not RECORDED, reason=f"no recorded streams at {FOLDER}")
def test_the_lane_is_taken_on_recorded_text() -> None:
    # Not a speed test: proof that the comparisons above covered the lane.
    taken = {
        provider: sum(
            play(provider, [*per_event((FOLDER / name).read_bytes()), b""], lane=True)[1]
            for name in RECORDED
            if name.startswith(provider + "__")
        )
        for provider in PROVIDERS
    }
    assert taken["anthropic"] > 100
    assert taken["openai"] > 100


# -- fuzzed near-misses ------------------------------------------------------------

TEXT = st.text(
    st.one_of(
        st.sampled_from(list('ab "\\/\n\r\t\x00\x1féü日🙂\u2028\u00a0\ud800\udbff\udfff{}[],:')),
        st.characters(),
    ),
    max_size=10,
)


def anthropic_read(text: str, index: int = 0, event: str = "content_block_delta") -> bytes:
    frame = {
        "type": "content_block_delta",
        "index": index,
        "delta": {"type": "text_delta", "text": text},
    }
    data = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event}\ndata: {data}\n\n".encode("utf-8", "surrogatepass")


def openai_read(text: str, obfuscation: str = "aB3") -> bytes:
    frame = {
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        "obfuscation": obfuscation,
    }  # fmt: skip
    data = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
    return f"data: {data}\n\n".encode("utf-8", "surrogatepass")


ANTHROPIC_HEAD = [
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
    b'"role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
    b'"usage":{"input_tokens":3,"output_tokens":1}}}\n\n',
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n',
]
ANTHROPIC_END = [
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":9}}\n\n',
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
]
OPENAI_END = [
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    b"data: [DONE]\n\n",
]


def damaged(read: bytes, position: int, replacement: bytes, cut: int) -> bytes:
    position %= len(read) + 1
    return read[:position] + replacement + read[position + cut :]


READ_CHANGES = st.sampled_from(
    [b"", b"\n", b"\r", b"\r\n", b"\\", b'"', b"\x00", b"\xff", b"\xe6", b"id: 7\n", b"id:\n",
     b":c\n", b"retry: 5\n", b"event: ping\n", b"data: x\n", b" ", b"}", b"\n\n"]
)  # fmt: skip


@st.composite
def near_miss_reads(draw: Any, make: Any) -> list[bytes]:
    reads = []
    for _ in range(draw(st.integers(1, 6))):
        read = make(draw(TEXT))
        kind = draw(st.integers(0, 4))
        if kind == 1:
            read = damaged(
                read, draw(st.integers(0, 400)), draw(READ_CHANGES), draw(st.integers(0, 3))
            )
        elif kind == 2:
            cut = draw(st.integers(0, len(read)))
            reads.append(read[:cut])
            read = read[cut:]
        reads.append(read)
    return reads


@settings(max_examples=300, deadline=None)
@given(
    near_miss_reads(anthropic_read),
    st.sampled_from(["content_block_delta", "ping", "message_delta", "other"]),
    st.integers(0, 2),
)
def test_anthropic_near_misses_read_the_same(reads: list[bytes], name: str, index: int) -> None:
    learnt = anthropic_read("Hello")
    odd = anthropic_read("odd", index=index, event=name)
    same_both_ways("anthropic", [*ANTHROPIC_HEAD, learnt, *reads, odd, learnt, *ANTHROPIC_END, b""])


@settings(max_examples=300, deadline=None)
@given(near_miss_reads(openai_read), st.sampled_from(["aB3", "", "x\\"]))
def test_openai_near_misses_read_the_same(reads: list[bytes], obfuscation: str) -> None:
    learnt = openai_read("Hello")
    same_both_ways("openai", [learnt, *reads, openai_read("pad", obfuscation), *OPENAI_END, b""])


def test_a_read_of_exactly_the_learnt_shape_takes_the_lane() -> None:
    reads = [
        *ANTHROPIC_HEAD,
        anthropic_read("Hello"),
        anthropic_read(" wörld 🙂"),
        anthropic_read('"\\'),
    ]
    fast, taken = play("anthropic", reads, lane=True)
    assert taken == 2
    assert fast[-1]["text"] == 'Hello wörld 🙂"\\'
    assert fast[-2] == [[TextDelta(text='"\\')]]


def test_no_lane_after_an_event_id_or_a_read_cut_inside_a_line() -> None:
    learnt = anthropic_read("Hello")
    with_id = b"id: 5\n" + anthropic_read("a")
    assert same_both_ways("anthropic", [*ANTHROPIC_HEAD, learnt, with_id, learnt, learnt]) == 0
    cut = learnt[:-1]
    assert same_both_ways("anthropic", [*ANTHROPIC_HEAD, learnt, cut, learnt]) == 0
    # A read that is one LF ends no blank line of its own: one general read first.
    assert same_both_ways("anthropic", [*ANTHROPIC_HEAD, learnt, b"\n", learnt, learnt]) == 1


def test_a_lone_surrogate_escape_goes_the_general_way() -> None:
    learnt = anthropic_read("Hello")
    high = anthropic_read("a\ud83d")
    low = anthropic_read("\ude42b")
    assert same_both_ways("anthropic", [*ANTHROPIC_HEAD, learnt, high, low, learnt]) == 1
