"""The state of one event stream and the standard's line-by-line interpretation.

The machinery under :class:`~streamrecover.core.sse.SSEDecoder` (see that
module for the contract): the event type :class:`ServerSentEvent`, the caps,
and WHATWG HTML 9.2.6 "Interpreting an event stream" applied to complete lines
(field by field, a blank line dispatching), with the held unterminated line,
the checked path for a chunk that might pass a cap, the end of the stream and
the failed state. How a chunk of bytes becomes lines, and the shortcuts that
skip the line-by-line work for the commonest shapes, are in
:mod:`streamrecover.core.sse_fastpaths`.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamrecover.core.errors import SSEProtocolError, UsageError

__all__ = (
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_LINE_SIZE",
    "SSELineInterpreter",
    "ServerSentEvent",
)

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


class SSELineInterpreter:
    """One stream's decoding state and the line-by-line interpretation of 9.2.6.

    The base of :class:`~streamrecover.core.sse.SSEDecoder`, which documents the
    constructor's arguments and the public attributes; not used on its own.
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
        "_raw",
        "_raw_size",
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
        # A piece this long or shorter passes neither cap (see feed, core/sse_fastpaths.py).
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
        # Or that line still as bytes, while its pieces come with no line end
        # (see SSEChunkFeed._feed_long_line); never both at once.
        self._raw: list[bytes] = []
        self._raw_size = 0
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
        # Held bytes are at most max_line_size of them, so never more characters.
        self._truncated = bool(self._partial or tail or self._data or self._raw)
        self._state = _CLOSED
        self._clean = False
        self._partial = []
        self._raw = []
        self._data = []

    def _fail(self, message: str) -> None:
        self._state = _FAILED
        self._clean = False
        self._failure = SSEProtocolError(message)
        self._partial = []
        self._raw = []
        self._data = []
        raise self._failure

    def _raise_stopped(self) -> None:
        if self._state == _CLOSED:
            raise UsageError("SSEDecoder.feed() called after the end of the stream (feed(b''))")
        raise SSEProtocolError(
            f"the SSE decoder failed earlier: {self._failure}"
        ) from self._failure
