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
* **A line longer than its chunks** (one multi-MiB event in 4 KiB reads): the
  pieces that hold no line end are kept as bytes and the line decoded once,
  when it ends; a ``data: `` line straight into its value.

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
        if self._raw or (
            type(data) is bytes and 10 not in data and 13 not in data and not self._start
        ):
            # A piece of a line that began earlier and does not end here, or
            # the end of such a line held as bytes: see _feed_long_line.
            data = self._feed_long_line(data)
            if not data:
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

    def _feed_long_line(self, data: bytes | bytearray | memoryview) -> bytes:
        # A line that goes on over many chunks (one multi-MiB event in 4 KiB
        # reads) is held as the bytes it came in and decoded once, when it ends,
        # straight into the value of its field: "data: " is ASCII, so the
        # value's bytes start right after it. Decoding every piece to text,
        # joining the pieces and cutting "data: " off would write the whole
        # line three times, at four bytes a character once it holds one emoji;
        # fresh memory that size costs more than the decoding itself. A
        # character is at least one byte, so while the held bytes stay within
        # max_line_size the line cannot pass that cap; a piece that would take
        # them past it turns them back into text, and the text path counts
        # characters exactly from there. Returns what is left of data for the
        # text path: b"" when the piece was held or ended just the line, data
        # itself when it goes there whole, else what follows the line end.
        if type(data) is not bytes:
            data = bytes(data)  # a bytearray may change after feed returns
        raw = self._raw
        if 10 not in data and 13 not in data:
            if not raw:
                # The line starts or goes on without ending. Text held from an
                # earlier chunk (at most this piece's length, so that encoding
                # it back costs no more than the piece: no back and forth can
                # grow quadratic) is encoded back, which gives its bytes
                # exactly: decoded text has no lone surrogate. So are the bytes
                # of a character split before this piece.
                if self._partial_size > len(data) or (
                    self._partial_size + len(data) > self._max_line_size
                ):
                    return data
                self._skip_lf = False  # this piece is not an LF
                if self._partial:
                    raw.append("".join(self._partial).encode())
                    self._partial.clear()
                    self._partial_size = 0
                held = self._utf8.buffer
                if held:
                    raw.append(held)
                    self._utf8.reset()
                self._raw_size = sum(map(len, raw))
            if self._raw_size + len(data) <= self._max_line_size:
                raw.append(data)
                self._raw_size += len(data)
                return b""
            # Past the cap in bytes, maybe not in characters: back to text (a
            # character cut at the end stays in the UTF-8 decoder).
            text = self._decode(b"".join(raw))
            raw.clear()
            self._raw_size = 0
            if text:
                self._partial.append(text)
            self._partial_size = len(text)
            return data
        end = data.find(b"\n")
        cr = data.find(b"\r", 0, end if end >= 0 else len(data))
        if cr >= 0:
            end = cr
        raw.append(data[:end])
        line = b"".join(raw)
        raw.clear()
        self._raw_size = 0
        if end == cr:
            if end + 1 == len(data):
                self._skip_lf = True  # the LF of this CR may start the next chunk
            elif data[end + 1] == 10:
                end += 1
        if line[:6] == b"data: ":
            value = str(memoryview(line)[6:], "utf-8", "replace")
            if len(value) + 6 > self._max_line_size:
                self._fail(f"line longer than max_line_size ({self._max_line_size} characters)")
            # As _interpret counts a data line: the event's data is the values
            # joined with LF.
            data_size = self._data_size + len(value) + 1
            if data_size - 1 > self._max_event_size:
                self._fail(
                    f"event data longer than max_event_size ({self._max_event_size} characters)"
                )
            self._data.append(value)
            self._data_size = data_size
        else:
            text = str(line, "utf-8", "replace")
            if len(text) > self._max_line_size:
                self._fail(f"line longer than max_line_size ({self._max_line_size} characters)")
            # A line that is not blank dispatches nothing.
            self._interpret([text], [], self._max_event_size)
        return data[end + 1 :]

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
        # done (bytes of a long line are never held here: _feed_long_line hands
        # the text path nothing until they are decoded). Only then may the
        # one-event fast path at the top of feed run.
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
