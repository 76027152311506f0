"""Unit tests of the SSE decoder, rule by rule (WHATWG HTML 9.2.5 and 9.2.6).

Every stream is fed three ways (whole, byte by byte, and split in two at every
point) and all three must give the same events, the same ``truncated`` flag
and the same reconnection state: chunk boundaries never change the result.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from streamrecover.core.errors import SSEProtocolError, UsageError
from streamrecover.core.sse import ServerSentEvent, SSEDecoder
from streamrecover.core.sse_interpret import _EventDraft


@dataclasses.dataclass(frozen=True)
class Outcome:
    """Everything a decoder gives for one stream."""

    events: tuple[ServerSentEvent, ...]
    truncated: bool
    last_event_id: str
    retry: int | None


def feed_chunks(chunks: Sequence[bytes], **caps: int) -> Outcome:
    decoder = SSEDecoder(**caps)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        if chunk:  # b"" would end the stream early
            events.extend(decoder.feed(chunk))
    assert decoder.feed(b"") == []
    return Outcome(tuple(events), decoder.truncated, decoder.last_event_id, decoder.retry)


def chunkings(stream: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """The three ways of feeding a stream: whole, byte by byte, every two-way split."""
    yield "whole", [stream]
    yield "bytewise", [stream[i : i + 1] for i in range(len(stream))]
    for cut in range(1, len(stream)):
        yield f"split at {cut}", [stream[:cut], stream[cut:]]


def decode(stream: bytes, **caps: int) -> Outcome:
    """Decode stream every way, assert that all ways agree, return the outcome."""
    expected = feed_chunks([stream], **caps)
    for how, chunks in chunkings(stream):
        assert feed_chunks(chunks, **caps) == expected, how
    return expected


def events(stream: bytes) -> list[ServerSentEvent]:
    return list(decode(stream).events)


def msg(
    data: str, *, event: str = "message", id: str = "", retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


# --- the event type ---------------------------------------------------------------


def test_server_sent_event_is_a_frozen_slotted_kw_only_dataclass() -> None:
    event = ServerSentEvent(data="x")
    assert (event.event, event.data, event.id, event.retry) == ("message", "x", "", None)
    assert not hasattr(event, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ServerSentEvent("message", "x")  # type: ignore[misc]


def test_decoded_events_are_plain_server_sent_events() -> None:
    # The decoder builds events through a mutable twin (see sse_interpret._EventDraft);
    # the result must be indistinguishable from one the constructor builds.
    names = tuple(field.name for field in dataclasses.fields(ServerSentEvent))
    assert _EventDraft.__slots__ == ServerSentEvent.__slots__ == names
    # "x" takes the fast path for one-line events, "y" the general one.
    stream = b"data: w\n\ndata: x\n\ndata: z\n\nid: 7\nevent: e\ndata: y\n\n"
    [_, decoded, _, slow] = SSEDecoder().feed(stream)
    for event, built in ((decoded, msg("x")), (slow, msg("y", event="e", id="7"))):
        assert type(event) is ServerSentEvent
        assert event == built
        assert hash(event) == hash(built)
        assert repr(event) == repr(built)
        assert dataclasses.asdict(event) == dataclasses.asdict(built)
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.data = "z"  # type: ignore[misc]


# --- the WHATWG examples (9.2.5 and 9.2.6) -----------------------------------------


def test_spec_example_multiline_data() -> None:
    assert events(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [msg("YHOO\n+2\n10")]


def test_spec_example_comment_ids_and_unterminated_last_event() -> None:
    stream = (
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
        b"data:  third event\n"
    )
    outcome = decode(stream)
    assert list(outcome.events) == [msg("first event", id="1"), msg("second event", id="")]
    # The third event has no blank line after it: discarded at the end.
    assert outcome.truncated
    assert outcome.last_event_id == ""


def test_spec_example_empty_data_events() -> None:
    assert events(b"data\n\ndata\ndata\n\ndata:") == [msg(""), msg("\n")]


def test_spec_example_space_after_colon_is_optional() -> None:
    assert events(b"data:test\n\ndata: test\n\n") == [msg("test"), msg("test")]


def test_spec_example_event_types() -> None:
    stream = (
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    )
    assert events(stream) == [
        msg("73857293", event="add"),
        msg("2153", event="remove"),
        msg("113411", event="add"),
    ]


# --- line ends ------------------------------------------------------------------


@pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n"], ids=["LF", "CR", "CRLF"])
def test_every_line_end(end: bytes) -> None:
    stream = b"event: e" + end + b"data: a" + end + b"data: b" + end + end + b"data: c" + end + end
    assert events(stream) == [msg("a\nb", event="e"), msg("c")]


def test_mixed_line_ends() -> None:
    assert events(b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r") == [msg("a\nb\nc"), msg("d")]


def test_crlf_is_one_line_end_and_lfcr_is_two() -> None:
    assert events(b"data: a\r\n\r\n") == [msg("a")]
    assert events(b"data: a\n\r") == [msg("a")]
    assert events(b"data: a\r\ndata: b\r\n\r\n") == [msg("a\nb")]
    # LF CR LF is two line ends (LF, then CRLF): a blank line, so it dispatches.
    assert events(b"data: a\n\r\ndata: b\n\n") == [msg("a"), msg("b")]


def test_cr_ending_a_chunk_dispatches_at_once() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [msg("a")]
    # The LF that follows pairs with the last CR: no extra blank line.
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\n\r\n") == [msg("b")]


@pytest.mark.parametrize(
    "char", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
)
def test_other_unicode_line_breaks_are_data(char: str) -> None:
    stream = f"data: a{char}b\n\n".encode()
    assert events(stream) == [msg(f"a{char}b")]


# --- decoding --------------------------------------------------------------------


def test_leading_bom_is_dropped() -> None:
    assert events(b"\xef\xbb\xbfdata: a\n\n") == [msg("a")]


def test_only_one_leading_bom_is_dropped() -> None:
    # The second BOM is part of the first line's field name, so the field is unknown.
    assert events(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n") == [msg("b")]


def test_bom_after_the_start_is_kept() -> None:
    assert events(b"data: \xef\xbb\xbfa\n\n") == [msg("\ufeffa")]
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n") == [msg("a")]
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\ndata: c\n\n") == [msg("c")]


def test_bom_alone_is_an_empty_stream() -> None:
    outcome = decode(b"\xef\xbb\xbf")
    assert outcome.events == ()
    assert not outcome.truncated


def test_multibyte_characters_survive_any_split() -> None:
    text = "é 日本語 🙂 👩\u200d💻"
    assert events(f"data: {text}\n\n".encode()) == [msg(text)]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"\xff", "\ufffd"),
        (b"a\x80b", "a\ufffdb"),
        (b"\xe6\x97", "\ufffd"),  # a truncated three-byte sequence is one U+FFFD
        (b"\xe6\x97x", "\ufffdx"),
        (b"\xf0\x9f\x99", "\ufffd"),
        (b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),  # an encoded surrogate
        (b"\xc0\xaf", "\ufffd\ufffd"),  # an overlong encoding
    ],
)
def test_invalid_utf8_becomes_replacement_characters(raw: bytes, text: str) -> None:
    assert events(b"data: " + raw + b"\n\n") == [msg(text)]


def test_invalid_utf8_does_not_swallow_a_line_end() -> None:
    assert events(b"data: \xe6\n\ndata: \xf0\x9f\r\n\r\n") == [msg("\ufffd"), msg("\ufffd")]


# --- fields ----------------------------------------------------------------------


def test_comments_are_ignored() -> None:
    assert events(b": hello\n:\n:data: x\ndata: a\n: between\ndata: b\n\n") == [msg("a\nb")]
    assert events(b": ping\n\n: ping\n\n") == []


def test_only_one_leading_space_is_removed() -> None:
    assert events(b"data:  two\n\ndata:\ttab\n\ndata: \n\n") == [msg(" two"), msg("\ttab"), msg("")]


def test_line_without_colon_is_a_field_with_an_empty_value() -> None:
    assert events(b"data\n\n") == [msg("")]
    assert events(b"event\ndata: a\n\n") == [msg("a")]
    assert events(b"id: 5\ndata: a\n\nid\ndata: b\n\n") == [msg("a", id="5"), msg("b", id="")]


def test_value_keeps_later_colons() -> None:
    assert events(b"data: a: b:c\n\nevent:x:y\ndata\n\n") == [msg("a: b:c"), msg("", event="x:y")]


def test_field_names_are_case_sensitive() -> None:
    stream = b"Data: a\nDATA: b\nEvent: e\nID: 1\nRetry: 5\ndata: c\n\n"
    outcome = decode(stream)
    assert list(outcome.events) == [msg("c")]
    assert outcome.retry is None


def test_field_name_with_space_is_unknown() -> None:
    assert events(b"data : a\n data: b\ndata: c\n\n") == [msg("c")]


def test_unknown_fields_are_ignored() -> None:
    assert events(b"foo: bar\ndata: a\nbaz\n: c\n\n") == [msg("a")]


def test_one_trailing_lf_is_removed_from_data() -> None:
    assert events(b"data: a\ndata\n\n") == [msg("a\n")]
    assert events(b"data\ndata\ndata\n\n") == [msg("\n\n")]


def test_event_type_defaults_to_message_and_resets() -> None:
    stream = b"event: add\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\nevent: x\nevent: y\ndata: 4\n\n"
    assert events(stream) == [msg("1", event="add"), msg("2"), msg("3"), msg("4", event="y")]


def test_blank_line_without_data_dispatches_nothing_but_resets_event_type() -> None:
    assert events(b"event: add\n\ndata: 1\n\n") == [msg("1")]
    assert events(b"\n\n\n\n") == []


def test_id_persists_across_events() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"
    outcome = decode(stream)
    assert list(outcome.events) == [msg("a", id="1"), msg("b", id="1"), msg("c", id="2")]
    assert outcome.last_event_id == "2"


def test_empty_id_resets_the_last_event_id() -> None:
    outcome = decode(b"id: 1\ndata: a\n\nid:\ndata: b\n\n")
    assert list(outcome.events) == [msg("a", id="1"), msg("b", id="")]
    assert outcome.last_event_id == ""


def test_id_with_nul_is_ignored() -> None:
    outcome = decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert list(outcome.events) == [msg("a", id="1"), msg("b", id="1")]
    assert outcome.last_event_id == "1"


def test_id_without_data_updates_last_event_id_at_the_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 9\n") == []
    assert decoder.last_event_id == ""  # not yet: only a blank line sets it
    assert decoder.feed(b"\n") == []
    assert decoder.last_event_id == "9"
    assert decoder.feed(b"data: a\n\n") == [msg("a", id="9")]


def test_id_of_an_undispatched_event_does_not_count() -> None:
    outcome = decode(b"id: 1\ndata: a\n\nid: 2\ndata: b\n")
    assert list(outcome.events) == [msg("a", id="1")]
    assert outcome.last_event_id == "1"
    assert outcome.truncated


def test_retry_sets_the_reconnection_time() -> None:
    outcome = decode(b"retry: 1500\ndata: a\n\ndata: b\n\n")
    assert list(outcome.events) == [msg("a", retry=1500), msg("b")]
    assert outcome.retry == 1500


def test_retry_without_an_event_still_counts() -> None:
    outcome = decode(b"retry: 10\n\nretry: 0020\n")
    assert outcome.events == ()
    assert outcome.retry == 20
    assert not outcome.truncated


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b" ",
        b"1.5",
        b"-1",
        b"+1",
        b"1e3",
        b"12a",
        b"0x10",
        b"1_000",
        b" 100",
        "١٢".encode(),
        "１".encode(),
        "²".encode(),
    ],
)
def test_retry_needs_ascii_digits_only(value: bytes) -> None:
    outcome = decode(b"retry: 7\n\nretry: " + value + b"\ndata: a\n\n")
    assert list(outcome.events) == [msg("a")]
    assert outcome.retry == 7


def test_retry_with_absurdly_many_digits_is_ignored() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 1" + b"0" * 5000 + b"\ndata: a\n\n") == [msg("a")]
    assert decoder.retry is None
    assert decoder.feed(b"retry: " + b"0" * 5000 + b"3\n") == []
    assert decoder.retry == 3


# --- end of stream and truncation -------------------------------------------------


@pytest.mark.parametrize(
    "stream",
    [
        b"",
        b"data: a\n\n",
        b"data: a\r\r",
        b"data: a\n\n: ping\n",
        b"data: a\n\nevent: x\n",
        b"data: a\n\nid: 3\nretry: 5\n",
        b"\n\n\n",
        b"data: a\n\n\xef\xbb\xbf\n",
    ],
)
def test_clean_end_is_not_truncated(stream: bytes) -> None:
    assert not decode(stream).truncated


@pytest.mark.parametrize(
    "stream",
    [
        b"data: a",
        b"data: a\n",
        b"data: a\r\n",
        b"data\n",
        b"data: a\n\ndata: b\nevent: x\n",
        b"data: a\n\n: ping",
        b"data: a\n\nid: 1",
        b"data: a\n\n\xe6\x97",
        b"\xef\xbb",
        b"x",
    ],
)
def test_cut_stream_is_truncated(stream: bytes) -> None:
    outcome = decode(stream)
    assert outcome.truncated
    assert all(event.data != "b" for event in outcome.events)


def test_truncated_is_false_until_the_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a") == []
    assert not decoder.truncated
    assert decoder.feed(b"") == []
    assert decoder.truncated


def test_feeding_after_the_end_is_a_usage_error() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n")
    decoder.feed(b"")
    with pytest.raises(UsageError):
        decoder.feed(b"data: b\n\n")
    with pytest.raises(UsageError):
        decoder.feed(b"")


def test_feed_takes_bytes_like_objects_only() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(bytearray(b"data: a\n")) == []
    assert decoder.feed(memoryview(b"\n")) == [msg("a")]
    with pytest.raises(UsageError):
        decoder.feed("data: b\n\n")  # type: ignore[arg-type]


# --- the fast path and the general path together -----------------------------------


def test_fast_path_keeps_state_from_other_shapes() -> None:
    stream = (
        b"data: a\n\nid: 1\nevent: e\ndata: b\n\ndata: c\n\ndata: d\ndata: e\n\n"
        b"retry: 5\ndata: f\n\ndata: g\n\ndata:h\n\ndata: i\n\n\n\ndata: j\n\n"
        b"id: 2\nevent: x\ndata: k\n\ndata: l\n\ndata: \nm\n\ndata: n\n\ndata: o\n\n"
        b"retry: 6\n\ndata: p\n\ndata: q\n\nid\n\ndata: r\n\ndata: s\n\n"
    )
    assert events(stream) == [
        msg("a"),
        msg("b", event="e", id="1"),
        msg("c", id="1"),
        msg("d\ne", id="1"),
        msg("f", id="1", retry=5),
        msg("g", id="1"),
        msg("h", id="1"),
        msg("i", id="1"),
        msg("j", id="1"),
        msg("k", event="x", id="2"),
        msg("l", id="2"),
        msg("", id="2"),
        msg("n", id="2"),
        msg("o", id="2"),
        msg("p", id="2"),
        msg("q", id="2"),
        msg("r", id=""),
        msg("s", id=""),
    ]


def test_empty_data_line_then_more_lines_after_a_blank_line() -> None:
    stream = b"data: a\n\ndata: \nid: 1\n\ndata: \ndata: b\n\ndata: \n\n"
    assert events(stream) == [msg("a"), msg("", id="1"), msg("\nb", id="1"), msg("", id="1")]


def test_fast_path_with_crlf_and_mixed_line_ends() -> None:
    stream = (
        b"data: a\r\n\r\ndata: b\r\n\r\ndata: c\rdata: d\r\n\r\ndata: e\n\r\n"
        b"data: f\r\n\r\ndata: g\r\r\n\r\ndata: h\r\n\r\ndata: \nid: 4\r\n\r\n"
        b"data: i\r\n\r\ndata: j\r\n\r\n"
    )
    assert events(stream) == [
        msg("a"),
        msg("b"),
        msg("c\nd"),
        msg("e"),
        msg("f"),
        msg("g"),
        msg("h"),
        msg("", id="4"),
        msg("i", id="4"),
        msg("j", id="4"),
    ]


def test_event_type_set_before_a_chunk_boundary_is_kept() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: e\n") == []
    assert decoder.feed(b"data: a\n\ndata: b\n\n") == [msg("a", event="e"), msg("b")]


def test_long_line_in_small_chunks() -> None:
    payload = ("0123456789abcdé日🙂" * 40_000).encode()
    stream = b"data: " + payload + b"\n\ndata: small\n\n"
    decoder = SSEDecoder()
    got: list[ServerSentEvent] = []
    for start in range(0, len(stream), 4096):
        got.extend(decoder.feed(stream[start : start + 4096]))
    assert got == [msg(payload.decode()), msg("small")]


# --- size caps ---------------------------------------------------------------------


def test_line_at_the_cap_passes() -> None:
    assert decode(b"data: abcd\n\n", max_line_size=10).events == (msg("abcd"),)


def test_caps_count_characters_not_bytes() -> None:
    assert decode("data: 日本\n\n".encode(), max_line_size=8).events == (msg("日本"),)


def raises_every_way(stream: bytes, **caps: int) -> None:
    for how, chunks in chunkings(stream):
        decoder = SSEDecoder(**caps)
        with pytest.raises(SSEProtocolError):
            for chunk in chunks:
                decoder.feed(chunk)
            decoder.feed(b"")
            pytest.fail(f"no error when fed {how}")


def test_line_over_the_cap_raises() -> None:
    raises_every_way(b"data: abcde\n\n", max_line_size=10)
    raises_every_way(b"data: a\n\n: a long comment\n", max_line_size=10)


def test_unterminated_line_over_the_cap_raises_before_it_ends() -> None:
    decoder = SSEDecoder(max_line_size=100)
    decoder.feed(b"data: " + b"x" * 90)
    with pytest.raises(SSEProtocolError, match="max_line_size"):
        decoder.feed(b"x" * 10)
    raises_every_way(b"data: " + b"x" * 20, max_line_size=10)


def test_event_over_the_cap_raises_with_many_small_lines() -> None:
    stream = b"data: abc\n" * 6 + b"\n"  # data "abc\nabc\n..." is 23 characters
    assert decode(stream, max_event_size=23).events == (msg("\n".join(["abc"] * 6)),)
    raises_every_way(stream, max_event_size=22, max_line_size=10)


def test_event_cap_is_per_event() -> None:
    stream = b"data: abcd\ndata: efgh\n\n" * 5
    assert len(decode(stream, max_event_size=9).events) == 5


def test_large_event_in_many_chunks_raises() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    with pytest.raises(SSEProtocolError, match="max_event_size"):
        for _ in range(200):
            decoder.feed(b"data: 0123456789\n")


def test_failed_decoder_keeps_failing() -> None:
    decoder = SSEDecoder(max_line_size=10)
    with pytest.raises(SSEProtocolError):
        decoder.feed(b"data: 0123456789\n\n")
    with pytest.raises(SSEProtocolError, match="failed earlier"):
        decoder.feed(b"data: a\n\n")
    with pytest.raises(SSEProtocolError, match="failed earlier"):
        decoder.feed(b"")


def test_caps_default_to_16_mib() -> None:
    decoder = SSEDecoder()
    assert decoder.max_line_size == decoder.max_event_size == 16 * 1024 * 1024


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_caps_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(UsageError):
        SSEDecoder(max_line_size=bad)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        SSEDecoder(max_event_size=bad)  # type: ignore[arg-type]


# --- the benchmark's own inputs (nothing timed) --------------------------------------


def load_benchmark() -> ModuleType:
    # bench_sse.py imports its workloads as a script does, from its own folder.
    folder = Path(__file__).resolve().parents[2] / "benchmarks"
    spec = importlib.util.spec_from_file_location("bench_sse", folder / "bench_sse.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_sse"] = module
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
        del sys.modules["bench_sse"]
        sys.modules.pop("sse_workloads", None)
    return module


def test_benchmark_workloads_decode_to_the_expected_counts() -> None:
    bench = load_benchmark()
    chat, chat_events = bench.chat_stream(30_000)
    big, big_events = bench.big_stream(50_000)
    crlf = chat.replace(b"\n", b"\r\n")
    crlf_chunks = bench.crlf_split_chunks(crlf, 1000)
    assert b"".join(crlf_chunks) == crlf
    assert all(chunk.endswith(b"\r") for chunk in crlf_chunks[:-1])
    assert bench.run_streamrecover(bench.fixed_chunks(chat, 4096)) == chat_events
    assert bench.run_streamrecover(bench.fixed_chunks(big, 4096)) == big_events == 2
    assert bench.run_streamrecover(crlf_chunks) == chat_events
