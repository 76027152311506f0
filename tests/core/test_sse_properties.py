"""Property tests of the SSE decoder against a naive reference decoder.

The reference is written character by character straight from WHATWG HTML
9.2.5 / 9.2.6, with no attempt at speed, so that the fast decoder (string
splitting, a fast path for one-line events, size checks skipped when they
cannot fire) is compared with the plain reading of the standard.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import SSEProtocolError
from streamrecover.core.sse import ServerSentEvent, SSEDecoder


@dataclass(frozen=True)
class Reference:
    events: tuple[ServerSentEvent, ...]
    truncated: bool
    last_event_id: str
    retry: int | None
    longest_line: int  # characters, the unterminated last line included
    largest_event: int  # characters of the data buffer (joined with LF), at its largest


def reference_decode(stream: bytes) -> Reference:
    """Decode a whole stream the slow, literal way."""
    # 9.2.5: UTF-8 decode (U+FFFD for errors), one leading BOM ignored.
    text = stream.decode("utf-8", errors="replace")
    if text[:1] == "\ufeff":
        text = text[1:]
    # Lines end with CRLF, LF or CR.
    lines: list[str] = []
    current = ""
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\r":
            lines.append(current)
            current = ""
            if index + 1 < len(text) and text[index + 1] == "\n":
                index += 1
        elif char == "\n":
            lines.append(current)
            current = ""
        else:
            current += char
        index += 1
    unterminated = current  # the end of the file came first: discarded

    # 9.2.6.
    events: list[ServerSentEvent] = []
    data_buffer = ""
    event_type_buffer = ""
    last_event_id_buffer = ""
    last_event_id_string = ""
    reconnection_time: int | None = None
    retry_since_blank_line: int | None = None
    largest_event = 0
    for line in lines:
        if line == "":
            last_event_id_string = last_event_id_buffer
            if data_buffer == "":
                event_type_buffer = ""
                retry_since_blank_line = None
                continue
            if data_buffer[-1] == "\n":
                data_buffer = data_buffer[:-1]
            events.append(
                ServerSentEvent(
                    event=event_type_buffer or "message",
                    data=data_buffer,
                    id=last_event_id_string,
                    retry=retry_since_blank_line,
                )
            )
            data_buffer = ""
            event_type_buffer = ""
            retry_since_blank_line = None
            continue
        if line[0] == ":":
            continue
        if ":" in line:
            colon = line.index(":")
            field, value = line[:colon], line[colon + 1 :]
            if value[:1] == " ":
                value = value[1:]
        else:
            field, value = line, ""
        if field == "event":
            event_type_buffer = value
        elif field == "data":
            data_buffer += value + "\n"
            largest_event = max(largest_event, len(data_buffer) - 1)
        elif field == "id":
            if "\x00" not in value:
                last_event_id_buffer = value
        elif field == "retry" and value != "" and all(char in "0123456789" for char in value):
            reconnection_time = retry_since_blank_line = int(value)
    return Reference(
        events=tuple(events),
        truncated=unterminated != "" or data_buffer != "",
        last_event_id=last_event_id_string,
        retry=reconnection_time,
        longest_line=max(map(len, [*lines, unterminated])),
        largest_event=largest_event,
    )


def cut(stream: bytes, points: list[int]) -> list[bytes]:
    bounds = sorted({0, len(stream), *(point % (len(stream) + 1) for point in points)})
    return [stream[start:end] for start, end in itertools.pairwise(bounds) if end > start]


@dataclass(frozen=True)
class Fast:
    events: tuple[ServerSentEvent, ...]
    truncated: bool
    last_event_id: str
    retry: int | None
    error: bool


def fast_decode(chunks: list[bytes], **caps: int) -> Fast:
    decoder = SSEDecoder(**caps)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            if chunk:  # b"" is the end of the stream
                events.extend(decoder.feed(chunk))
        decoder.feed(b"")
    except SSEProtocolError:
        return Fast(tuple(events), False, "", None, error=True)
    return Fast(tuple(events), decoder.truncated, decoder.last_event_id, decoder.retry, False)


# --- streams built from the pieces the standard talks about -------------------------

FIELD_NAMES = [
    "data",
    "data",
    "data",
    "event",
    "id",
    "retry",
    "",
    "Data",
    "dat",
    "datas",
    "foo",
    "\ufeffdata",
    " data",
]
VALUE_CHARS = st.sampled_from(
    [
        "a",
        "z",
        "0",
        "7",
        " ",
        ":",
        "\x00",
        "\t",
        "\x0b",
        "\x0c",
        "\x1c",
        "\x85",
        "\u2028",
        "é",
        "日",
        "🙂",
        "\ufeff",
        "\ufffd",
        "١",
    ]
)
# LF most often, so that the decoder's fast path ("\n\ndata: ") is taken often.
LINE_ENDS = st.sampled_from(["\n", "\n", "\n", "\r", "\r\n"])


@st.composite
def sse_lines(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["field", "field", "field", "bare", "comment", "blank", "blank", "retry"])
    )
    if kind == "blank":
        return ""
    value = draw(st.text(VALUE_CHARS, max_size=8))
    if kind == "comment":
        return ":" + value
    if kind == "retry":
        return (
            "retry:"
            + draw(st.sampled_from(["", " "]))
            + draw(st.from_regex(r"[0-9]{0,5}", fullmatch=True))
        )
    name = draw(st.sampled_from(FIELD_NAMES))
    if kind == "bare":
        return name
    return name + ":" + draw(st.sampled_from(["", " ", "  "])) + value


@st.composite
def simple_events(draw: st.DrawFn) -> str:
    """A run of one-line "data: " events, as most LLM providers send (no final line end)."""
    values = draw(st.lists(st.text(VALUE_CHARS, max_size=6), min_size=1, max_size=4))
    parts = []
    for value in values:
        # Mostly one line end throughout, now and then another one mixed in.
        end = draw(st.sampled_from(["\n", "\r\n", "\r\n", "\r"]))
        parts.append(f"data: {value}{end}{end}")
    return "".join(parts)[: -len(end)]  # the caller adds the last line end


@st.composite
def typed_events(draw: st.DrawFn, ends: tuple[str, ...] = ("\n", "\n", "\n", "\r\n")) -> str:
    """A run of ``event: T`` + ``data: X`` events (Anthropic's shape), near misses mixed in."""
    shapes = st.sampled_from(
        [
            "event: {t}\ndata: {v}",
            "event: {t}\ndata: {v}",
            "event: {t}\ndata: {v}",
            "event: \ndata: {v}",
            "event: {t}\ndata: {v}\ndata: {v}",
            "event: {t}\nid: {v}\ndata: {v}",
            "event: {t}\nevent: {v}\ndata: {v}",
            "event: {t}",
            "event: {t}\ndata:{v}",
            "event: {t}\n\ndata: {v}",
            "event: {t}\r\ndata: {v}",
            "event:{t}\ndata: {v}",
            "data: {v}",
        ]
    )
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        shape = draw(shapes)
        t = draw(st.text(VALUE_CHARS, max_size=4))
        v = draw(st.text(VALUE_CHARS, max_size=6))
        end = draw(st.sampled_from(ends))
        parts.append(shape.format(t=t, v=v) + end + end)
    return "".join(parts)[:-1]  # the caller adds the last line end


@st.composite
def sse_streams(draw: st.DrawFn) -> bytes:
    parts: list[str] = []
    runs = st.one_of(sse_lines(), simple_events(), typed_events())
    for line in draw(st.lists(runs, max_size=25)):
        parts.append(line + draw(LINE_ENDS))
    if draw(st.booleans()):
        parts.append(draw(sse_lines()))  # maybe an unterminated last line
    raw = "".join(parts).encode("utf-8")
    if draw(st.booleans()):
        raw = (
            draw(st.sampled_from([b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xef\xbb"])) + raw
        )
    # Now and then some bytes that are not UTF-8, anywhere.
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.integers(0, len(raw)))
        junk = draw(st.sampled_from([b"\xff", b"\x80", b"\xe6\x97", b"\xf0\x9f\x99", b"\xc3"]))
        raw = raw[:where] + junk + raw[where:]
    return raw


split_points = st.lists(st.integers(min_value=0, max_value=10_000), max_size=12)


@given(sse_streams(), split_points)
def test_matches_the_reference_decoder(stream: bytes, points: list[int]) -> None:
    expected = reference_decode(stream)
    for chunks in ([stream], cut(stream, points)):
        got = fast_decode(chunks)
        assert not got.error
        assert got.events == expected.events
        assert got.truncated == expected.truncated
        assert got.last_event_id == expected.last_event_id
        assert got.retry == expected.retry


@given(sse_streams(), split_points)
def test_byte_by_byte_matches_the_reference_decoder(stream: bytes, points: list[int]) -> None:
    expected = reference_decode(stream)
    got = fast_decode([stream[i : i + 1] for i in range(len(stream))])
    assert (got.events, got.truncated) == (expected.events, expected.truncated)


@given(st.binary(max_size=300), split_points)
def test_any_chunking_gives_the_same_result(stream: bytes, points: list[int]) -> None:
    assert fast_decode(cut(stream, points)) == fast_decode([stream])


@given(
    st.lists(st.binary(max_size=40), max_size=20),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=40),
)
def test_arbitrary_bytes_give_events_or_a_protocol_error(
    chunks: list[bytes], max_line_size: int, max_event_size: int
) -> None:
    decoder = SSEDecoder(max_line_size=max_line_size, max_event_size=max_event_size)
    try:
        for chunk in [*(chunk for chunk in chunks if chunk), b""]:
            for event in decoder.feed(chunk):
                assert type(event) is ServerSentEvent
                assert len(event.data) <= max_event_size
    except SSEProtocolError:
        pass


@given(sse_streams(), split_points, st.integers(1, 30), st.integers(1, 30))
def test_caps_fire_exactly_when_the_reference_passes_them(
    stream: bytes, points: list[int], max_line_size: int, max_event_size: int
) -> None:
    expected = reference_decode(stream)
    over = expected.longest_line > max_line_size or expected.largest_event > max_event_size
    bytewise = [stream[i : i + 1] for i in range(len(stream))]
    for chunks in ([stream], cut(stream, points), bytewise):
        got = fast_decode(chunks, max_line_size=max_line_size, max_event_size=max_event_size)
        assert got.error == over
        # Whatever came out before an error is what the standard gives, in order.
        assert got.events == expected.events[: len(got.events)]
        if not over:
            assert got.events == expected.events


@given(
    st.lists(st.text(VALUE_CHARS, max_size=4), min_size=1, max_size=30),
    LINE_ENDS,
    split_points,
    st.integers(1, 80),
)
def test_event_cap_counts_the_joined_data(
    values: list[str], line_end: str, points: list[int], max_event_size: int
) -> None:
    stream = "".join(f"data: {value}{line_end}" for value in values).encode() + line_end.encode()
    joined = "\n".join(values)
    expected = reference_decode(stream)
    assert expected.events == (ServerSentEvent(data=joined),)
    bytewise = [stream[i : i + 1] for i in range(len(stream))]
    for chunks in ([stream], cut(stream, points), bytewise):
        got = fast_decode(chunks, max_event_size=max_event_size)
        assert got.error == (len(joined) > max_event_size)
        if not got.error:
            assert got.events == expected.events


# --- one event per chunk: what a client feeds, where feed's one-event fast path fires ---

EVENT_PIECES = st.one_of(
    st.builds("data: {}\n\n".format, st.text(VALUE_CHARS, max_size=6)),
    st.builds(
        "event: {}\ndata: {}\n\n".format,
        st.text(VALUE_CHARS, max_size=4),
        st.text(VALUE_CHARS, max_size=6),
    ),
    # Pieces that leave something pending, so that the next one must not take the
    # fast path (or must take it with the right id), and near misses of its shape.
    st.sampled_from(
        [
            "event: t\n",
            "data: pending\n",
            "id: 7\n",
            "id: \n",
            "retry: 5\n",
            "retry: 5\n\n",
            ":comment\n\n",
            "\n",
            "data: a\ndata: b\n\n",
            "event: t\nevent: u\ndata: x\n\n",
            "data:x\n\n",
            "event:t\ndata: x\n\n",
            "event: t\ndata: x\n\n\n",
            "data: x\r\n\r\n",
            "data: x\n\r",
            "data: cut",
            "event: \ndata: empty type\n\n",
            "id: 9\ndata: with id\n\n",
            # Near misses of the bytes-level shape check.
            "event: t\ndata: x\ndata: y\n\n",
            "event: t\nid: 3\ndata: x\n\n",
            "event: a\nb\ndata: x\n\n",
            "event: t\ndata: \n\n",
            "event: t\ndata: x\r\n\n",
            "data: x\rdata: y\n\n",
            "data: \n\n",
            "\n\n",
            "data: x\r",
            "\ufeffdata: bom\n\n",
        ]
    ),
)

# Bytes that are not strict UTF-8 inside a one-event piece (the fast path must
# give way to the replacing decoder), and a character cut at the piece's end.
RAW_EVENT_PIECES = st.sampled_from(
    [
        b"data: \xff\n\n",
        b"data: a\xe6\x97\n\n",
        b"event: \xc3\ndata: x\n\n",
        b"event: t\ndata: \xf0\x9f\x99\n\n",
        b"data: \xe6\x97",
        b"data: held\n\n\xe6\x97",
        b"\n\xf0\x9f",
        b"\xa5\n\n",
        b"\xef\xbb\xbfdata: bom\n\n",
    ]
)


@given(st.lists(EVENT_PIECES, max_size=30), st.integers(1, 30))
def test_one_event_per_chunk_matches_the_reference_decoder(
    pieces: list[str], max_size: int
) -> None:
    chunks = [piece.encode() for piece in pieces]
    stream = b"".join(chunks)
    expected = reference_decode(stream)
    got = fast_decode(chunks)
    assert not got.error
    assert got.events == expected.events
    assert (got.truncated, got.last_event_id, got.retry) == (
        expected.truncated,
        expected.last_event_id,
        expected.retry,
    )
    # With caps small enough to fire, the fast path must not step over them.
    over = expected.longest_line > max_size or expected.largest_event > max_size
    capped = fast_decode(chunks, max_line_size=max_size, max_event_size=max_size)
    assert capped.error == over
    assert capped.events == expected.events[: len(capped.events)]


@given(
    st.lists(
        st.one_of(EVENT_PIECES.map(str.encode), RAW_EVENT_PIECES), max_size=30
    ),
    st.lists(st.sampled_from([bytes, bytearray, memoryview]), min_size=30, max_size=30),
)
def test_one_event_pieces_of_any_bytes_type_match_the_reference_decoder(
    chunks: list[bytes], kinds: list[type]
) -> None:
    # The one-event fast path reads bytes only; bytearray and memoryview pieces,
    # invalid UTF-8 and a BOM take the general path, with the same result.
    expected = reference_decode(b"".join(chunks))
    got = fast_decode([kind(chunk) for kind, chunk in zip(kinds, chunks, strict=False)])
    assert not got.error
    assert got.events == expected.events
    assert (got.truncated, got.last_event_id, got.retry) == (
        expected.truncated,
        expected.last_event_id,
        expected.retry,
    )


@given(
    st.lists(typed_events(ends=("\n",)), min_size=1, max_size=8),
    st.sampled_from(["", "\n", "data: open\n", "event: t", ": comment\n"]),
    split_points,
)
def test_typed_event_runs_match_the_reference_decoder(
    runs: list[str], after: str, points: list[int]
) -> None:
    # LF only and no "data: " after a blank line: feed splits such text at
    # "\n\nevent: " (what an Anthropic or OpenAI Responses stream looks like).
    stream = ("\n".join(runs) + "\n" + after).encode()
    expected = reference_decode(stream)
    for chunks in ([stream], cut(stream, points)):
        got = fast_decode(chunks)
        assert not got.error
        assert got.events == expected.events
        assert (got.truncated, got.last_event_id, got.retry) == (
            expected.truncated,
            expected.last_event_id,
            expected.retry,
        )
