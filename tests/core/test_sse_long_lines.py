"""Lines longer than the chunks they come in, against the reference decoder.

A line that goes on over chunks with no line end is held as bytes and decoded
once when it ends (see ``SSEChunkFeed._feed_long_line``); past max_line_size
bytes it goes back to text, where characters are counted. These tests cut
long lines of every field kind at every kind of point (inside the field name,
inside a CRLF, inside a multi-byte character, right after a BOM) with short
lines, comments and retry lines around them, and check that the events, the
end state and the caps are those of the standard.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import SSEProtocolError
from streamrecover.core.sse import ServerSentEvent, SSEDecoder
from tests.core.test_sse_properties import (
    LINE_ENDS,
    VALUE_CHARS,
    fast_decode,
    reference_decode,
    sse_lines,
)

# Every way a long line can start: the data shortcut ("data: "), data lines the
# shortcut must not take, the other fields, a comment, a field with no colon,
# and names that are almost "data".
LONG_LINE_HEADS = [
    "data: ",
    "data: ",
    "data: ",
    "data:",
    "data:  ",
    "data",
    "event: ",
    "id: ",
    ": ",
    ":",
    "dat",
    "datas: ",
    "Data: ",
    "\ufeffdata: ",
]


@st.composite
def long_lines(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 5)) == 0:
        # A valid reconnection time with many (leading-zero) digits.
        return "retry: " + draw(st.from_regex(r"[0-9]{30,200}", fullmatch=True))
    head = draw(st.sampled_from(LONG_LINE_HEADS))
    return head + draw(st.text(VALUE_CHARS, min_size=30, max_size=300))


@st.composite
def long_line_streams(draw: st.DrawFn) -> bytes:
    parts: list[str] = []
    runs = st.one_of(long_lines(), long_lines(), sse_lines(), st.just(""))
    for line in draw(st.lists(runs, min_size=1, max_size=12)):
        parts.append(line + draw(LINE_ENDS))
    if draw(st.booleans()):
        parts.append(draw(long_lines()))  # an unterminated long last line
    raw = "".join(parts).encode()
    if draw(st.booleans()):
        raw = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xef\xbb"])) + raw
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.integers(0, len(raw)))
        junk = draw(st.sampled_from([b"\xff", b"\x80", b"\xe6\x97", b"\xf0\x9f\x99", b"\xc3"]))
        raw = raw[:where] + junk + raw[where:]
    return raw


# Chunk sizes, used in turn: mostly far shorter than a long line, so that most
# pieces hold no line end.
chunk_sizes = st.lists(st.integers(1, 64), min_size=1, max_size=6)


def cut_in_turn(stream: bytes, sizes: list[int]) -> list[bytes]:
    chunks = []
    start = 0
    for size in itertools.cycle(sizes):
        if start >= len(stream):
            return chunks
        chunks.append(stream[start : start + size])
        start += size
    raise AssertionError("unreachable")


@given(long_line_streams(), chunk_sizes)
def test_long_lines_in_small_chunks_match_the_reference_decoder(
    stream: bytes, sizes: list[int]
) -> None:
    expected = reference_decode(stream)
    for chunks in ([stream], cut_in_turn(stream, sizes)):
        got = fast_decode(chunks)
        assert not got.error
        assert got.events == expected.events
        assert (got.truncated, got.last_event_id, got.retry) == (
            expected.truncated,
            expected.last_event_id,
            expected.retry,
        )


@given(
    long_line_streams(),
    chunk_sizes,
    st.lists(st.sampled_from([bytes, bytearray, memoryview]), min_size=1, max_size=5),
)
def test_long_lines_in_pieces_of_any_bytes_type_match_the_reference_decoder(
    stream: bytes, sizes: list[int], kinds: list[type]
) -> None:
    # Only bytes pieces start a held line; any bytes-like piece may go on with it
    # or end it (a bytearray is copied: the caller may change it afterwards).
    expected = reference_decode(stream)
    chunks = cut_in_turn(stream, sizes)
    got = fast_decode([kind(chunk) for kind, chunk in zip(itertools.cycle(kinds), chunks)])
    assert not got.error
    assert got.events == expected.events
    assert got.truncated == expected.truncated


@given(long_line_streams(), chunk_sizes, st.integers(-3, 3), st.integers(-3, 3))
def test_caps_on_long_lines_fire_exactly_when_the_reference_passes_them(
    stream: bytes, sizes: list[int], line_slack: int, event_slack: int
) -> None:
    # Caps near the stream's own longest line and largest event, so that they fire
    # about half the time, in characters while the held line is counted in bytes.
    expected = reference_decode(stream)
    max_line_size = max(1, expected.longest_line + line_slack)
    max_event_size = max(1, expected.largest_event + event_slack)
    over = expected.longest_line > max_line_size or expected.largest_event > max_event_size
    for chunks in ([stream], cut_in_turn(stream, sizes)):
        got = fast_decode(chunks, max_line_size=max_line_size, max_event_size=max_event_size)
        assert got.error == over
        assert got.events == expected.events[: len(got.events)]
        if not over:
            assert got.events == expected.events


LONG_EVENT = (
    b"\xef\xbb\xbf: keep-alive\r\nretry: 1500\r\nevent: big\r\nid: 42\r\n"
    + b"data: "
    + ('{"k":"vålue 日本 🙂"},' * 150).encode()
    + b"\r\n: between\r\ndata:second line\r\n\r\ndata: small\n\n"
)


def test_long_event_split_at_every_point_then_in_small_pieces() -> None:
    expected = reference_decode(LONG_EVENT)
    assert [len(event.data) for event in expected.events] == [2862, 5]
    for first in range(1, len(LONG_EVENT)):
        for size in (8, 61):
            chunks = [LONG_EVENT[:first], *cut_in_turn(LONG_EVENT[first:], [size])]
            got = fast_decode(chunks)
            assert got.events == expected.events, (first, size)
            assert (got.last_event_id, got.retry, got.truncated) == ("42", 1500, False)


def test_held_line_counts_characters_not_bytes() -> None:
    # 300 characters of 3 bytes each: 906 bytes, past a cap of 400 bytes but not
    # of 400 characters; held as bytes up to the cap, then counted as text.
    stream = b"data: " + "日".encode() * 300 + b"\n\n"
    for size in (1, 7, 100, 399, 400, 401):
        chunks = cut_in_turn(stream, [size])
        assert fast_decode(chunks, max_line_size=306).events == (ServerSentEvent(data="日" * 300),)
        assert fast_decode(chunks, max_line_size=305).error
        assert fast_decode(chunks, max_event_size=300).events == (ServerSentEvent(data="日" * 300),)
        assert fast_decode(chunks, max_event_size=299).error


def test_held_line_over_the_cap_raises_before_it_ends() -> None:
    decoder = SSEDecoder(max_line_size=1000)
    decoder.feed(b"\n")
    for _ in range(99):
        assert decoder.feed(b"x" * 10) == []  # 990 bytes held
    decoder.feed(b"x" * 10)  # 1000: at the cap
    with pytest.raises(SSEProtocolError, match="max_line_size"):
        decoder.feed(b"x")


@pytest.mark.parametrize("head", [b"data: ", b": ", b"event: "])
@pytest.mark.parametrize("size", [99, 100, 101])
def test_held_line_ended_by_the_piece_that_takes_it_past_the_cap_raises(
    head: bytes, size: int
) -> None:
    # ASCII, so that bytes and characters agree: held within the cap up to its
    # last piece, which both ends the line and takes it past the cap (or not).
    stream = b"\n" + head + b"x" * (size - len(head)) + b"\n\ndata: after\n\n"
    for piece in (10, 33):
        got = fast_decode(cut_in_turn(stream, [piece]), max_line_size=100)
        assert got.error == (size > 100)


def test_held_line_at_the_end_of_the_stream_is_truncated() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n") == [ServerSentEvent(data="a")]
    for _ in range(5):
        assert decoder.feed("data: é🙂".encode()) == []
    assert decoder.feed(b"\xf0\x9f") == []  # a character cut at the very end
    assert decoder.feed(b"") == []
    assert decoder.truncated


def test_benchmark_big_workload_in_any_chunk_size() -> None:
    unit = '{"k":"vålue 日本 🙂"},'.encode()
    payload = (unit * 4000).decode()
    stream = b"data: " + payload.encode() + b"\n\ndata: small\n\n"
    for size in (1000, 4095, 4096, 4097, 65536):
        assert fast_decode(cut_in_turn(stream, [size])).events == (
            ServerSentEvent(data=payload),
            ServerSentEvent(data="small"),
        )
