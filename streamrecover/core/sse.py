"""Incremental Server-Sent Events decoder.

Follows the WHATWG HTML Living Standard, section 9.2.6 "Interpreting an event
stream" (https://html.spec.whatwg.org/multipage/server-sent-events.html
#event-stream-interpretation), with the decoding rules of 9.2.5 "Parsing an
event stream": UTF-8 decode with U+FFFD for invalid bytes, one leading BOM
ignored, and CRLF, lone LF and lone CR all ending a line.

The decoder is sans-IO: :meth:`SSEDecoder.feed` takes bytes and returns the
events they complete; ``feed(b"")`` is the end of the stream. Chunk boundaries
never change the result: a CRLF split across two chunks is one line end, a
multi-byte character split across two chunks decodes whole, and a BOM split
across chunks is still dropped.

What this module adds to the standard, for LLM streams:

* **Truncation signal.** The standard discards an unterminated event at the end
  of the stream, silently. The decoder discards it too, and sets
  :attr:`SSEDecoder.truncated` when the stream ended in the middle of something:
  an unterminated line (including an incomplete UTF-8 sequence), or ``data``
  lines not yet followed by the blank line that dispatches them. A stream that
  ends right after a blank line, or after field lines that would not dispatch an
  event anyway (``event:``, ``id:``, ``retry:``, comments), is not truncated.
* **Bounded memory.** A line longer than ``max_line_size`` characters, or an
  event whose data is longer than ``max_event_size`` characters, raises
  :class:`~streamrecover.core.errors.SSEProtocolError` instead of growing
  without end. Sizes count decoded characters (code points), so the memory held
  is at most four bytes per counted character plus Python's overhead.
* **Strict call order.** After ``feed(b"")`` any further call raises
  :class:`~streamrecover.core.errors.UsageError` (a wrong call order). After a
  :class:`~streamrecover.core.errors.SSEProtocolError` the decoder is failed and
  every further call raises ``SSEProtocolError`` again; events completed earlier
  in the failing call are not returned (the attempt is a fault as a whole).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamrecover.core.errors import SSEProtocolError, UsageError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "DEFAULT_MAX_LINE_SIZE", "SSEDecoder", "ServerSentEvent"]

#: Default cap on one line, in characters (16 MiB of ASCII).
DEFAULT_MAX_LINE_SIZE = 16 * 1024 * 1024
#: Default cap on one event's data, in characters (16 MiB of ASCII).
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024

# Python refuses to turn more than 4300 decimal digits into an int by default
# (sys.get_int_max_str_digits); a reconnection time that long is nonsense anyway.
_MAX_RETRY_DIGITS = 4300


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSentEvent:
    """One dispatched event.

    ``event`` is the event type (``"message"`` when the stream gave none or an
    empty one), ``data`` the data lines joined with LF, ``id`` the last event ID
    at the time of dispatch (it persists from event to event until the stream
    sets another or an empty one), and ``retry`` the reconnection time in
    milliseconds from a valid ``retry`` field received since the previous blank
    line, or None if there was none (the decoder keeps the last valid value in
    :attr:`SSEDecoder.retry`).
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None


class _EventDraft:
    """A mutable twin of :class:`ServerSentEvent`: same slots, in the same order.

    Building an event through the frozen dataclass ``__init__`` costs four
    ``object.__setattr__`` calls, about half a microsecond: more than the rest of
    the work for a typical one-line event. The decoder fills a draft with plain
    slot stores instead and then turns it into a ``ServerSentEvent`` by
    assigning ``__class__``, which Python allows between classes of identical
    layout. The result is an ordinary, frozen ``ServerSentEvent``; the tests
    check that it equals and hashes like one built by the constructor.
    """

    # The order of ServerSentEvent's slots (its field order), not sorted.
    __slots__ = ("event", "data", "id", "retry")  # noqa: RUF023

    event: str
    data: str
    id: str
    retry: int | None


# Typed as returning Any because a draft becomes a ServerSentEvent in place,
# which no static type can follow; the tests check the result instead.
_new_draft: Callable[[type[_EventDraft]], Any] = object.__new__

# A line end, a blank line, and the start of a "data: " line: see SSEDecoder.feed.
_LF_DATA_AFTER_BLANK_LINE = "\n\ndata: "
_CRLF_DATA_AFTER_BLANK_LINE = "\r\n\r\ndata: "
# The same with an "event: " line first (Anthropic, OpenAI Responses), LF only.
_LF_EVENT_AFTER_BLANK_LINE = "\n\nevent: "


def _split_lines(text: str) -> list[str]:
    """Split text at CRLF, LF and CR; the last item is what follows the last line end."""
    # Not str.splitlines: it also splits at \x0b, \x0c, \x1c-\x1e, \x85,
    # \u2028 and \u2029, which are ordinary characters in SSE.
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            text = text.replace("\r", "\n")
    return text.split("\n")


_OPEN = 0
_CLOSED = 1  # feed(b"") was called
_FAILED = 2  # an SSEProtocolError was raised


class SSEDecoder:
    """Feed bytes in, get events out; ``feed(b"")`` is the end of the stream.

    Attributes for reconnecting (read-only):

    ``last_event_id``
        The event source's last event ID string: set from the ``id`` buffer at
        every blank line, as the standard says, so it is the value to send as
        ``Last-Event-ID`` when reconnecting. An ``id`` of an event that was never
        dispatched is not counted.
    ``retry``
        The last valid reconnection time in milliseconds, or None. A value of
        more than 4300 significant digits (Python's limit for ``int()``) is
        ignored like an invalid one.
    ``truncated``
        True once ``feed(b"")`` found the stream cut in the middle of a line or of
        an event's data (see the module docstring for the exact rule).
    """

    __slots__ = (
        "_clean",
        "_data",
        "_data_size",
        "_decode",
        "_event_retry",
        "_event_type",
        "_failure",
        "_fast_limit",
        "_id_buffer",
        "_last_event_id",
        "_max_event_size",
        "_max_line_size",
        "_partial",
        "_partial_size",
        "_retry",
        "_skip_lf",
        "_start",
        "_state",
        "_truncated",
        "_utf8",
    )

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        """Create a decoder for one stream.

        ``max_line_size`` caps one line and ``max_event_size`` one event's data,
        both in characters; both must be positive integers, else
        :class:`~streamrecover.core.errors.UsageError` is raised.
        """
        for name, value in (("max_line_size", max_line_size), ("max_event_size", max_event_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be a positive integer, got {value!r}")
        self._max_line_size = max_line_size
        self._max_event_size = max_event_size
        # A piece this long or shorter passes neither cap (see the fast path in feed).
        self._fast_limit = min(max_line_size, max_event_size)
        # Incremental, so a character split between chunks decodes whole;
        # "replace" gives U+FFFD per maximal invalid subpart, as WHATWG's UTF-8
        # decode does.
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._decode = self._utf8.decode
        self._state = _OPEN
        self._failure: SSEProtocolError | None = None
        self._start = True  # nothing decoded yet: a BOM may still come
        self._skip_lf = False  # the last chunk ended with CR: an LF next is its pair
        self._partial: list[str] = []  # pieces of the unterminated last line
        self._partial_size = 0
        self._data: list[str] = []  # the data buffer, one item per data line
        self._data_size = 0  # characters in the data buffer between feeds
        self._event_type = ""
        self._id_buffer = ""
        self._event_retry: int | None = None
        self._last_event_id = ""
        self._retry: int | None = None
        self._truncated = False
        # True only while nothing at all is pending (see _settle): the state in
        # which feed may decode a one-event piece without looking further.
        self._clean = False

    @property
    def last_event_id(self) -> str:
        """The last event ID string (send it as ``Last-Event-ID`` on reconnect)."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid reconnection time from a ``retry`` field, in milliseconds."""
        return self._retry

    @property
    def truncated(self) -> bool:
        """Whether the stream ended in the middle of a line or of an event."""
        return self._truncated

    @property
    def max_line_size(self) -> int:
        """The cap on one line, in characters."""
        return self._max_line_size

    @property
    def max_event_size(self) -> int:
        """The cap on one event's data, in characters."""
        return self._max_event_size

    def feed(self, data: bytes | bytearray | memoryview) -> list[ServerSentEvent]:
        """Decode the next chunk of the stream and return the events it completes.

        ``data`` is any number of bytes, cut anywhere; ``b""`` ends the stream:
        a pending unterminated event is discarded (and :attr:`truncated` set, see
        the module docstring), and ``[]`` is returned.

        Raises :class:`~streamrecover.core.errors.SSEProtocolError` when a line or
        an event passes its cap (the decoder is then failed, and every later call
        raises it again), and :class:`~streamrecover.core.errors.UsageError` when
        called after the end of the stream or with something that is not bytes.
        Any other exception is a bug.
        """
        if self._clean and type(data) is bytes:
            # Fast path for what a client feeds most: one HTTP chunk holding
            # exactly one event, ``data: X`` or ``event: T`` + ``data: X``,
            # each line ended by LF, then the blank line, fed while nothing is
            # pending (see _settle). Checked on the bytes, which is exact: in
            # UTF-8 no byte of a multi-byte character is an LF or a CR. The
            # event comes from the state as it is and leaves it as it was; a
            # piece of any other shape, or not strictly UTF-8, goes on below.
            end = len(data) - 2
            if data[end:] == b"\n\n" and end <= self._fast_limit and 13 not in data:
                if data[:6] == b"data: ":
                    if data.find(b"\n", 6) == end:
                        try:
                            value = str(data[6:end], "utf-8")
                        except UnicodeDecodeError:
                            pass
                        else:
                            event = _new_draft(_EventDraft)
                            event.event = "message"
                            event.data = value
                            event.id = self._last_event_id
                            event.retry = None
                            event.__class__ = ServerSentEvent
                            return [event]
                elif data[:7] == b"event: ":
                    head, separator, rest = data.partition(b"\ndata: ")
                    if separator and 10 not in head and rest.find(b"\n") == len(rest) - 2:
                        try:
                            event_type = str(head[7:], "utf-8") or "message"
                            value = str(rest[:-2], "utf-8")
                        except UnicodeDecodeError:
                            pass
                        else:
                            event = _new_draft(_EventDraft)
                            event.event = event_type
                            event.data = value
                            event.id = self._last_event_id
                            event.retry = None
                            event.__class__ = ServerSentEvent
                            return [event]
        self._clean = False
        if self._state != _OPEN:
            self._raise_stopped()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise UsageError(f"SSEDecoder.feed() takes bytes, not {type(data).__name__}")
        if not data:
            self._finish()
            return []
        if self._utf8.buffer or data[-1] >= 0x80:
            # A character split across chunks, or maybe split at the end.
            text = self._decode(data)
        else:
            # The usual piece: whole, valid UTF-8, nothing held from before. A
            # strict one-shot decode gives what the incremental decoder would,
            # without its Python-level buffering; anything else goes to it.
            try:
                text = str(data, "utf-8")
            except UnicodeDecodeError:
                text = self._decode(data)
        if not text:
            return []  # only part of a multi-byte character so far
        if self._start:
            self._start = False
            # 9.2.5: one U+FEFF at the start of the stream is ignored; the
            # incremental decoder hands it over whole even if its bytes were split.
            if text[0] == "\ufeff":
                text = text[1:]
                if not text:
                    return []
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                # The CR that ended the previous chunk was already taken as a
                # line end; this LF completes that same CRLF.
                text = text[1:]
                if not text:
                    return []
        if (
            text[-2:] == "\n\n"
            and not self._partial
            and not self._data
            and not self._event_type
            and self._event_retry is None
            and len(text) <= self._fast_limit
            and "\r" not in text
        ):
            # The same one-event shape as the fast path at the top, for a piece
            # that could not take it (the first one, a bytearray or memoryview,
            # an id pending, invalid UTF-8): no partial line, no data, type or
            # retry buffered. The general path would dispatch the very same event.
            end = len(text) - 2
            if text[:6] == "data: ":
                if text.find("\n", 6) == end:
                    event_type = "message"
                    value = text[6:end]
                else:
                    event_type = ""
            elif text[:7] == "event: ":
                line_end = text.find("\n", 7)
                if text.startswith("data: ", line_end + 1) and text.find("\n", line_end + 7) == end:
                    event_type = text[7:line_end] or "message"
                    value = text[line_end + 7 : end]
                else:
                    event_type = ""
            else:
                event_type = ""
            if event_type:
                self._last_event_id = id_buffer = self._id_buffer
                event = _new_draft(_EventDraft)
                event.event = event_type
                event.data = value
                event.id = id_buffer
                event.retry = None
                event.__class__ = ServerSentEvent
                # Nothing is pending now, unless the piece ended with the first
                # bytes of a character (held by the UTF-8 decoder).
                self._clean = not self._utf8.buffer
                return [event]
        if "\r" in text:
            # A CR at the end may be the first half of a CRLF. It ends the line
            # now (so the event is not held back waiting for the next chunk),
            # and an LF at the start of the next chunk is then skipped.
            self._skip_lf = text[-1] == "\r"
            crlf = True
        elif "\n" in text:
            crlf = False
        else:
            # No line end: the unterminated line grows. Its pieces are joined
            # once, when it ends, so a long line fed in small chunks stays linear.
            self._partial.append(text)
            self._partial_size += len(text)
            if self._partial_size > self._max_line_size:
                self._fail(f"line longer than max_line_size ({self._max_line_size} characters)")
            return []
        # Every line and every data buffer this chunk can complete is bounded
        # by these characters; below both caps (the usual case) nothing needs
        # checking line by line.
        budget = self._partial_size + len(text)
        if budget > self._max_line_size or budget + self._data_size > self._max_event_size:
            return self._feed_checked(_split_lines(text))

        events: list[ServerSentEvent] = []
        # Fast path for the commonest shape of all (OpenAI, most providers):
        # events of one "data: " line each. Each separator ends a line, holds a
        # blank line, and starts a "data: " line, so every piece between two
        # separators that holds no CR or LF is exactly one event's data,
        # dispatched from a clean state (the blank line before it reset the
        # event type and data buffers). Any other piece goes through the
        # general line-by-line interpreter. A CRLF in the text is always one
        # line end, so splitting on CRLF pairs is as exact as on LFs.
        pieces = text.split(_CRLF_DATA_AFTER_BLANK_LINE if crlf else _LF_DATA_AFTER_BLANK_LINE)
        last = pieces.pop()
        if pieces:
            remaining = iter(pieces)
            # The chunk's own lines are split before a held partial line is
            # joined to the first of them, so a line longer than the chunk is
            # not scanned again.
            lines = _split_lines(next(remaining))
            if self._partial:
                lines[0] = self._take_partial(lines[0])
            lines.append("")  # the blank line inside the separator
            self._interpret(lines, events, 0)
            id_buffer = self._id_buffer
            append = events.append
            for value in remaining:
                if "\n" in value or (crlf and "\r" in value):
                    lines = _split_lines("data: " + value)
                    lines.append("")
                    self._interpret(lines, events, 0)
                    id_buffer = self._id_buffer
                else:
                    event = _new_draft(_EventDraft)
                    event.event = "message"
                    event.data = value
                    event.id = id_buffer
                    event.retry = None
                    event.__class__ = ServerSentEvent
                    append(event)
            last = "data: " + last
        else:
            if not crlf:
                # No "data: " line follows a blank line: maybe every event has
                # a type first (Anthropic, OpenAI Responses).
                pieces = text.split(_LF_EVENT_AFTER_BLANK_LINE)
                last = pieces.pop()
            if pieces:
                self._dispatch_typed(pieces, events)
                last = "event: " + last
        lines = _split_lines(last)
        if self._partial:
            # Not after a separator: last is this chunk's text, which ends a line.
            lines[0] = self._take_partial(lines[0])
        tail = lines.pop()  # what follows the last line end: an unterminated line
        if tail:
            self._partial.append(tail)
        self._partial_size = len(tail)
        self._interpret(lines, events, 0)
        data_buffer = self._data
        self._data_size = sum(map(len, data_buffer)) + len(data_buffer) if data_buffer else 0
        self._settle()
        return events

    def _dispatch_typed(self, pieces: list[str], events: list[ServerSentEvent]) -> None:
        # The pieces of LF-only text (no CR at all) split at "\n\nevent: ",
        # the last one left out. As in feed's "\n\ndata: " path, each separator
        # ends a line, holds a blank line and starts an "event: " line, so a
        # piece after the first that is "T\ndata: X" with no other LF is
        # exactly one event of type T (or "message" when T is empty) and data
        # X, dispatched from a clean state. The first piece (it completes what
        # came before) and any piece of another shape go through the general
        # interpreter.
        remaining = iter(pieces)
        lines = next(remaining).split("\n")
        if self._partial:
            lines[0] = self._take_partial(lines[0])
        lines.append("")  # the blank line inside the separator
        self._interpret(lines, events, 0)
        id_buffer = self._id_buffer
        append = events.append
        for piece in remaining:
            event_type, separator, value = piece.partition("\ndata: ")
            if separator and "\n" not in value and "\n" not in event_type:
                event = _new_draft(_EventDraft)
                event.event = event_type or "message"
                event.data = value
                event.id = id_buffer
                event.retry = None
                event.__class__ = ServerSentEvent
                append(event)
            else:
                lines = ("event: " + piece).split("\n")
                lines.append("")
                self._interpret(lines, events, 0)
                id_buffer = self._id_buffer

    def _settle(self) -> None:
        # Whether nothing at all is pending: no partial line, no byte of a
        # character held by the UTF-8 decoder, no CR waiting for its LF, no data,
        # event type or retry buffered, no id not yet dispatched, the BOM check
        # done. Only then may the one-event fast path at the top of feed run.
        # Every other exit of feed leaves _clean False (feed clears it before
        # the general path), which is always safe: it only costs the fast path.
        self._clean = (
            not self._start
            and not self._skip_lf
            and not self._partial
            and not self._data
            and not self._event_type
            and self._event_retry is None
            and self._id_buffer == self._last_event_id
            and not self._utf8.buffer
        )

    def _take_partial(self, rest: str) -> str:
        # The unterminated line of earlier chunks, completed by the start of this one.
        partial = self._partial
        partial.append(rest)
        line = "".join(partial)
        partial.clear()
        self._partial_size = 0
        return line

    def _feed_checked(self, lines: list[str]) -> list[ServerSentEvent]:
        # The slow, careful path for a chunk that might pass a cap.
        tail = lines.pop()
        if self._partial:
            lines[0] = self._take_partial(lines[0])
        if tail:
            self._partial.append(tail)
        self._partial_size = len(tail)
        if len(tail) > self._max_line_size or max(map(len, lines)) > self._max_line_size:
            self._fail(f"line longer than max_line_size ({self._max_line_size} characters)")
        events: list[ServerSentEvent] = []
        self._interpret(lines, events, self._max_event_size)
        return events

    def _interpret(
        self, lines: list[str], events: list[ServerSentEvent], max_event_size: int
    ) -> None:
        # WHATWG 9.2.6, one complete line at a time; dispatched events are
        # appended to events. A max_event_size of 0 means that the caller has
        # proved that no event can reach the cap within these lines.
        data = self._data
        event_type = self._event_type
        id_buffer = self._id_buffer
        event_retry = self._event_retry
        last_event_id = self._last_event_id
        data_size = self._data_size
        for line in lines:
            if not line:
                # A blank line dispatches. The last event ID string is updated
                # even when there is no data and so no event.
                last_event_id = id_buffer
                if data:
                    event = _new_draft(_EventDraft)
                    event.event = event_type or "message"
                    # Joining with LF leaves out the spec's trailing LF.
                    event.data = "\n".join(data)
                    event.id = id_buffer
                    event.retry = event_retry
                    event.__class__ = ServerSentEvent
                    events.append(event)
                    data = []
                    data_size = 0
                event_type = ""
                event_retry = None
                continue
            if line[:6] == "data: ":
                name = "data"
                value = line[6:]
            else:
                # A comment (leading colon) partitions into the field name "",
                # which matches no field below and so is ignored, as required.
                # A line without a colon is a field name with an empty value.
                name, _, value = line.partition(":")
                if value[:1] == " ":
                    value = value[1:]
            if name == "data":
                data.append(value)
                if max_event_size:
                    # The event's data is the values joined with LF.
                    data_size += len(value) + 1
                    if data_size - 1 > max_event_size:
                        self._fail(
                            f"event data longer than max_event_size ({max_event_size} characters)"
                        )
            elif name == "event":
                event_type = value
            elif name == "id":
                if "\x00" not in value:
                    id_buffer = value
            elif name == "retry" and value.isascii() and value.isdigit():
                digits = value.lstrip("0") or "0"
                if len(digits) <= _MAX_RETRY_DIGITS:
                    event_retry = self._retry = int(digits)
            # Any other field name is ignored.
        self._data = data
        self._event_type = event_type
        self._id_buffer = id_buffer
        self._event_retry = event_retry
        self._last_event_id = last_event_id
        self._data_size = data_size

    def _finish(self) -> None:
        # "Once the end of the file is reached, any pending data must be
        # discarded" (9.2.6). Bytes of an incomplete character become U+FFFD.
        tail = self._decode(b"", True)
        if self._partial_size + len(tail) > self._max_line_size:
            self._fail(f"line longer than max_line_size ({self._max_line_size} characters)")
        self._truncated = bool(self._partial or tail or self._data)
        self._state = _CLOSED
        self._clean = False
        self._partial = []
        self._data = []

    def _fail(self, message: str) -> None:
        self._state = _FAILED
        self._clean = False
        self._failure = SSEProtocolError(message)
        self._partial = []
        self._data = []
        raise self._failure

    def _raise_stopped(self) -> None:
        if self._state == _CLOSED:
            raise UsageError("SSEDecoder.feed() called after the end of the stream (feed(b''))")
        raise SSEProtocolError(
            f"the SSE decoder failed earlier: {self._failure}"
        ) from self._failure
