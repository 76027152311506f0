"""The shortcuts of :meth:`SSEDecoder.feed <streamrecover.core.sse.SSEDecoder.feed>`.

``feed`` takes a chunk of bytes to text (UTF-8, BOM, a CRLF split between
chunks) and the text to complete lines for the interpreter of
:mod:`streamrecover.core.sse_interpret`. Most of what an LLM stream sends has
one of two shapes, ``data: X`` or ``event: T`` + ``data: X``, each line ended
by LF, then a blank line, and for those the line-by-line work can be skipped
without changing a single event:

* **One event per chunk** (what a client feeds: one HTTP chunk per call): a
  piece that holds exactly one event of either shape, fed while nothing is
  pending, becomes its event straight from the bytes (or, when the bytes could
  not be used, from the decoded text).
* **Many events per chunk**: text split at ``\n\ndata: `` (or its CRLF form),
  or at ``\n\nevent: ``, gives pieces each of which, when it holds no other
  line end, is exactly one event's data (or type and data), dispatched from a
  clean state. Any other piece goes through the interpreter.

``feed`` lives here rather than calling into this module, so that the path a
client takes costs no extra call.
"""

from __future__ import annotations

from streamrecover.core.errors import UsageError
from streamrecover.core.sse_interpret import (
    _OPEN,
    ServerSentEvent,
    SSELineInterpreter,
    _EventDraft,
    _new_draft,
    _split_lines,
)

__all__ = ("SSEChunkFeed",)

# A line end, a blank line, and the start of a "data: " line: see SSEDecoder.feed.
_LF_DATA_AFTER_BLANK_LINE = "\n\ndata: "
_CRLF_DATA_AFTER_BLANK_LINE = "\r\n\r\ndata: "
# The same with an "event: " line first (Anthropic, OpenAI Responses), LF only.
_LF_EVENT_AFTER_BLANK_LINE = "\n\nevent: "


class SSEChunkFeed(SSELineInterpreter):
    """:meth:`feed` with its shortcuts; the base of :class:`~streamrecover.core.sse.SSEDecoder`."""

    __slots__ = ()

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
