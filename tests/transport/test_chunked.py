"""The chunked-body decoder: fed whole, byte by byte and split at every point; bounded; strict."""

from __future__ import annotations

import itertools

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover import TransportError, UsageError
from streamrecover.transport._chunked import MAX_SIZE_LINE, MAX_TRAILER_SECTION, ChunkedDecoder


def decode(pieces: list[bytes], *, eof: bool = True) -> tuple[bytes, list[bytes]]:
    """Feed ``pieces`` (then EOF); return the body and the pieces next_body gave."""
    decoder = ChunkedDecoder("test")
    out: list[bytes] = []
    for piece in [*pieces, b""] if eof else pieces:
        decoder.receive_data(piece)
        while True:
            body = decoder.next_body()
            if body is None:
                break
            if body == b"":
                assert decoder.finished
                return b"".join(out), out
            out.append(body)
    raise AssertionError("the body did not end")


def splits(data: bytes) -> list[list[bytes]]:
    """``data`` whole, byte by byte, and cut in two at every point."""
    return [
        [data],
        [data[i : i + 1] for i in range(len(data))],
        *([data[:i], data[i:]] for i in range(1, len(data))),
    ]


VALID = {
    "two-chunks": (b"3\r\nabc\r\n5\r\nde\r\nf\r\n0\r\n\r\n", b"abcde\r\nf"),
    "empty-body": (b"0\r\n\r\n", b""),
    "upper-and-lower-hex": (
        b"A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n",
        b"0123456789abcdefghij",
    ),
    "leading-zeros": (b"0003\r\nabc\r\n000\r\n\r\n", b"abc"),
    "extensions": (b'3;name=value;q="a b"\r\nabc\r\n0;last\r\n\r\n', b"abc"),
    "whitespace-before-crlf": (b"3 \t\r\nabc\r\n0  \r\n\r\n", b"abc"),
    "trailers": (b"3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other:\r\n\r\n", b"abc"),
    "folded-trailer": (b"1\r\nz\r\n0\r\nX-A: 1\r\n  continued\r\n\r\n", b"z"),
    "bare-lf-trailers": (b"1\r\nz\r\n0\r\nX-A: 1\n\n", b"z"),
    "bare-lf-empty-trailers": (b"1\r\nz\r\n0\r\n\n", b"z"),
    "binary-data": (b"4\r\n\r\n\x00\xff\r\n0\r\n\r\n", b"\r\n\x00\xff"),
    "bytes-after-the-end": (b"1\r\nz\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n", b"z"),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_bodies_whole_byte_by_byte_and_split_everywhere(name: str) -> None:
    wire, body = VALID[name]
    for pieces in splits(wire):
        assert decode(pieces)[0] == body, pieces


def test_one_piece_per_chunk_as_h11_gave() -> None:
    wire = b"".join(b"5\r\nhello\r\n" for _ in range(100)) + b"0\r\n\r\n"
    assert decode([wire])[1] == [b"hello"] * 100
    assert decode([wire[:9], wire[9:]])[1] == [b"hello"] * 100
    assert decode([wire[:6], wire[6:]])[1] == [b"hel", b"lo", *[b"hello"] * 99]


def test_part_of_a_chunk_is_handed_over_at_once() -> None:
    # Nothing waits for the rest of a chunk that has begun to arrive.
    decoder = ChunkedDecoder("test")
    decoder.receive_data(b"10\r\n0123")
    assert decoder.next_body() == b"0123"
    assert decoder.next_body() is None
    decoder.receive_data(b"456789abcdef\r")
    assert decoder.next_body() == b"456789abcdef"
    decoder.receive_data(b"\n0\r\n\r\n")
    assert decoder.next_body() == b""
    assert decoder.finished


def test_the_end_is_reported_once_the_last_piece_was_taken() -> None:
    decoder = ChunkedDecoder("test")
    decoder.receive_data(b"1\r\na\r\n0\r\n\r\n")
    assert decoder.next_body() == b"a"
    assert not decoder.finished
    assert decoder.next_body() == b""
    assert decoder.finished
    assert decoder.next_body() == b""
    decoder.receive_data(b"")  # the close after a complete body is no fault
    assert decoder.next_body() == b""


@st.composite
def chunked_bodies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    chunks = draw(st.lists(st.binary(min_size=1, max_size=40), max_size=8))
    wire = bytearray()
    for chunk in chunks:
        digits = format(len(chunk), draw(st.sampled_from(["x", "X", "04x"])))
        extension = draw(st.sampled_from([b"", b";a", b';a=b;c="d e"', b"  "]))
        wire += digits.encode() + extension + b"\r\n" + chunk + b"\r\n"
    wire += b"0\r\n" + draw(st.sampled_from([b"", b"Trailer: x\r\n", b"A: 1\r\nB:2\r\n"])) + b"\r\n"
    return bytes(wire), b"".join(chunks)


@given(chunked_bodies(), st.sets(st.integers(min_value=1, max_value=400)))
def test_any_split_decodes_to_the_same_bytes(case: tuple[bytes, bytes], cuts: set[int]) -> None:
    wire, body = case
    points = [0, *sorted(cut for cut in cuts if cut < len(wire)), len(wire)]
    pieces = [wire[a:b] for a, b in itertools.pairwise(points)]
    assert decode(pieces)[0] == body


MALFORMED = {
    "not-hex": b"zz\r\nabc\r\n0\r\n\r\n",
    "0x-prefix": b"0x3\r\nabc\r\n0\r\n\r\n",
    "sign": b"+3\r\nabc\r\n0\r\n\r\n",
    "underscore": b"1_0\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n",
    "leading-space": b" 3\r\nabc\r\n0\r\n\r\n",
    "space-before-extension": b"3 ;x\r\nabc\r\n0\r\n\r\n",
    "empty-size": b"\r\nabc\r\n0\r\n\r\n",
    "only-extension": b";x\r\nabc\r\n0\r\n\r\n",
    "bare-lf-size-line": b"3\nabc\r\n0\r\n\r\n",
    "bare-lf-in-extension": b"3;a\nb\r\nabc\r\n0\r\n\r\n",
    "too-many-digits": b"0" * 21 + b"3\r\nabc\r\n0\r\n\r\n",
    "data-too-long": b"3\r\nabcd\r\n0\r\n\r\n",
    "data-too-short": b"3\r\nab\r\n0\r\n\r\n",
    "lf-after-data": b"3\r\nabc\n0\r\n\r\n",
    "size-line-too-long": b"3;" + b"x" * MAX_SIZE_LINE + b"\r\nabc\r\n0\r\n\r\n",
    "endless-size-line": b"3;" + b"x" * (MAX_SIZE_LINE + 10),
    "illegal-trailer": b"0\r\nno colon here\r\n\r\n",
    "trailer-starting-with-fold": b"0\r\n continued\r\n\r\n",
    "nul-in-trailer": b"0\r\nX-A: a\x00b\r\n\r\n",
    "trailers-too-long": b"0\r\n" + b"X-A: 1\r\n" * (MAX_TRAILER_SECTION // 8 + 1) + b"\r\n",
    "endless-trailers": b"0\r\n" + b"X-A: 1\r\n" * (MAX_TRAILER_SECTION // 8 + 10),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_framing_is_a_transport_error(name: str) -> None:
    wire = MALFORMED[name]
    ways = [[wire], [wire[i : i + 1] for i in range(len(wire))]] if len(wire) < 500 else [[wire]]
    for pieces in ways:
        with pytest.raises(TransportError) as caught:
            decode(pieces, eof=False)
        assert caught.value.kind == "other"
        assert "malformed chunked body" in str(caught.value)
        assert isinstance(caught.value.__cause__, ValueError)


def test_a_size_line_of_the_maximum_length_is_accepted() -> None:
    line = b"3;" + b"x" * (MAX_SIZE_LINE - 4) + b"\r\n"
    assert len(line) == MAX_SIZE_LINE
    assert decode([line + b"abc\r\n0\r\n\r\n"])[0] == b"abc"


def test_body_before_a_fault_comes_first_and_the_fault_stays() -> None:
    decoder = ChunkedDecoder("peer:1")
    decoder.receive_data(b"3\r\nabc\r\n2\r\nde\r\nzz\r\n")
    assert decoder.next_body() == b"abc"
    assert decoder.next_body() == b"de"
    with pytest.raises(TransportError) as first:
        decoder.next_body()
    assert first.value.kind == "other" and "peer:1" in str(first.value)
    with pytest.raises(TransportError) as again:
        decoder.next_body()
    assert again.value is first.value


@pytest.mark.parametrize(
    "wire",
    [
        b"",
        b"3",
        b"3\r",
        b"3;ext",
        b"3\r\n",
        b"3\r\nab",
        b"3\r\nabc",
        b"3\r\nabc\r",
        b"3\r\nabc\r\n",
        b"3\r\nabc\r\n0\r\n",
        b"3\r\nabc\r\n0\r\nX-A: 1\r\n",
        b"3\r\nabc\r\n0\r\nX-A: 1\r\n\r",
    ],
)
@pytest.mark.parametrize(("ragged", "kind"), [(False, "incomplete_body"), (True, "tls_eof")])
def test_an_early_end_is_incomplete_body_or_tls_eof(wire: bytes, ragged: bool, kind: str) -> None:
    decoder = ChunkedDecoder("test")
    received = b""
    if wire:
        decoder.receive_data(wire)
        received = decoder.next_body() or b""
    decoder.receive_data(b"", ragged_eof=ragged)
    with pytest.raises(TransportError) as caught:
        while piece := decoder.next_body():
            received += piece
    assert caught.value.kind == kind
    assert b"abc".startswith(received)
    assert not decoder.finished


def test_data_after_the_end_of_the_connection_is_a_usage_error() -> None:
    decoder = ChunkedDecoder("test")
    decoder.receive_data(b"")
    with pytest.raises(UsageError):
        decoder.receive_data(b"1\r\n")


@given(st.lists(st.binary(max_size=30), max_size=6))
def test_arbitrary_bytes_give_body_or_transport_error_only(pieces: list[bytes]) -> None:
    decoder = ChunkedDecoder("test")
    try:
        for piece in [*pieces, b""]:
            decoder.receive_data(piece)
            while decoder.next_body():
                pass
            if decoder.finished:
                break
    except TransportError as exc:
        assert exc.kind in {"other", "incomplete_body"}


# -- the same verdicts as h11, which decoded these bodies before


def h11_accepts(wire: bytes) -> bool:
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method="GET", target="/", headers=[("host", "h")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + wire)
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA or isinstance(event, h11.EndOfMessage):
                return True
    except h11.RemoteProtocolError:
        return False


def we_accept(wire: bytes) -> bool:
    decoder = ChunkedDecoder("test")
    decoder.receive_data(wire)
    try:
        while decoder.next_body():
            pass
    except TransportError:
        return False
    return True


LINE_BYTES = st.sampled_from(
    [b"0", b"3", b"a", b"F", b";", b" ", b"\t", b"\n", b"\r", b"x", b"+", b"=", b"\x00"]
)


@given(st.lists(LINE_BYTES, max_size=8))
def test_size_lines_are_judged_as_h11_judged_them(parts: list[bytes]) -> None:
    wire = b"".join(parts) + b"\r\n"
    assert we_accept(wire) == h11_accepts(wire)


TRAILER_BYTES = st.sampled_from(
    [
        b"X-A",
        b":",
        b" ",
        b"\t",
        b"v",
        b"\r\n",
        b"\n",
        b"\x00",
        b"\x7f",
        b"\xe9",
        b"(",
        b"\r",
        b"\x0b",
    ]
)


@given(st.lists(TRAILER_BYTES, max_size=10))
def test_trailer_sections_are_judged_as_h11_judged_them(parts: list[bytes]) -> None:
    wire = b"1\r\nz\r\n0\r\n" + b"".join(parts) + b"\r\n\r\n"
    assert we_accept(wire) == h11_accepts(wire)


# -- body_at_hand: the same bytes as next_body, one piece per read


def outcome(pieces: list[bytes], take: str) -> tuple[list[bytes], str]:
    """Per feed, the body ``take`` (next_body or body_at_hand) gave, joined; how it ended."""
    decoder = ChunkedDecoder("test")
    per_feed: list[bytes] = []
    try:
        for piece in [*pieces, b""]:
            decoder.receive_data(piece)
            got = b""
            while True:
                body = getattr(decoder, take)()
                if not body:
                    break
                got += body
            per_feed.append(got)
            if body == b"":
                return per_feed, "done"
    except TransportError as exc:
        per_feed.append(got)
        return per_feed, exc.kind
    return per_feed, "open"


@pytest.mark.parametrize("name", VALID)
def test_body_at_hand_gives_what_next_body_gives_split_everywhere(name: str) -> None:
    wire, _body = VALID[name]
    for pieces in splits(wire):
        assert outcome(pieces, "body_at_hand") == outcome(pieces, "next_body"), pieces


def test_body_at_hand_joins_the_chunks_of_one_read() -> None:
    wire = b"".join(b"5\r\nhello\r\n" for _ in range(100)) + b"0\r\n\r\n"
    decoder = ChunkedDecoder("test")
    decoder.receive_data(wire[:-5])
    assert decoder.body_at_hand() == b"hello" * 100
    assert decoder.body_at_hand() is None
    decoder.receive_data(wire[-5:])
    assert decoder.body_at_hand() == b""
    assert decoder.finished


def test_body_at_hand_gives_the_body_before_a_fault_then_the_fault() -> None:
    decoder = ChunkedDecoder("peer:1")
    decoder.receive_data(b"3\r\nabc\r\n2\r\nde\r\nzz\r\n")
    assert decoder.body_at_hand() == b"abcde"
    with pytest.raises(TransportError) as first:
        decoder.body_at_hand()
    assert first.value.kind == "other"
    with pytest.raises(TransportError) as again:
        decoder.body_at_hand()
    assert again.value is first.value


@given(
    st.lists(
        st.sampled_from(
            [
                b"3\r\nabc\r\n",
                b"1\r\n\xff\r\n",
                b"A\r\n0123456789\r\n",
                b"2;x\r\nde\r\n",
                b"0\r\n\r\n",
            ]
        ),
        max_size=8,
    ),
    st.sets(st.integers(min_value=1, max_value=80)),
    st.booleans(),
)
def test_body_at_hand_does_not_depend_on_splits(
    chunks: list[bytes], cuts: set[int], garbage: bool
) -> None:
    wire = b"".join(chunks) + (b"zz\r\n" if garbage else b"")
    points = [0, *sorted(c for c in cuts if c < len(wire)), len(wire)]
    pieces = [wire[a:b] for a, b in itertools.pairwise(points)]
    assert outcome(pieces, "body_at_hand") == outcome(pieces, "next_body")
