"""The per-event path of a recovery session: body bytes in, committed events out.

:class:`BodyIntake` is the half of :class:`~streamrecover.core.session.RecoverySession`
that runs on every read of a response body: it decodes the SSE events a read
completes, hands them out one at a time (:meth:`~BodyIntake.next_events`), maps
each to what the consumer sees (joined surrogates, stitched continuations,
tool calls held until the end) and commits its text; at the end of the body it
completes the answer or turns an error body into its fault. What to do when an
attempt fails, and the driver calls around an attempt, stay in ``session.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from streamrecover.core.errors import (
    ContinuationDivergedError,
    Fault,
    HTTPStatusError,
    UnexpectedContentError,
    UsageError,
)
from streamrecover.core.events import (
    Completed,
    Event,
    ReasoningDelta,
    Rewind,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from streamrecover.core.progress import ProgressTracker
from streamrecover.core.session_state import Decision, Done, SessionState
from streamrecover.core.sse import ServerSentEvent, SSEDecoder
from streamrecover.core.stitch import Stitcher
from streamrecover.core.surrogates import SurrogateJoiner

if TYPE_CHECKING:  # providers depend on core, never the other way at run time
    from streamrecover.core.resume import Strategy
    from streamrecover.providers.base import Provider, StreamParser

__all__ = ["MAX_ERROR_BODY", "BodyIntake"]

#: How much of a non-2xx response body is kept for the error message.
MAX_ERROR_BODY = 8 * 1024

# A TextDelta made from its parts (a bare instance, its one slot set): the
# lane makes one per read, and the frozen dataclass __init__ costs a keyword
# call and an object.__setattr__ more (as providers/_json.py does).
_new_text: Callable[[type[TextDelta]], TextDelta] = object.__new__
_set_text: Callable[[TextDelta, str], None] = TextDelta.__dict__["text"].__set__

# An empty queue (never appended to; a queue is replaced, not emptied).
NOTHING_QUEUED: list[ServerSentEvent] = []


class BodyIntake:
    """Body bytes to events for :class:`~streamrecover.core.session.RecoverySession`.

    Not used alone: the session sets every attribute below in its constructor
    and provides the methods declared at the end of the class body.
    """

    state: SessionState
    provider: Provider
    strategy_used: Strategy | None
    finish_reason: str | None
    keep_delivered: bool
    overlap_removed: int
    _clock: Callable[[], float]
    _progress: ProgressTracker
    _surrogates: SurrogateJoiner
    _decoder: SSEDecoder | None
    _parser: StreamParser | None
    _stitcher: Stitcher | None
    _queue: list[ServerSentEvent]
    _queue_position: int
    _queue_open: bool
    _queue_eof: bool
    _at_boundary: bool
    #: The event type whose events may take the lane ("": none; no event has that type).
    _lane_event: str
    _text_lane: bool
    _queue_blank: bool
    _max_line_size: int
    _content_before: int
    _content_events: int
    _text_parts: list[str]
    _text_length: int
    _reasoning_length: int
    _delivered: bool
    _usage_total: Usage
    _attempt_usage: Usage | None
    _pending_tools: list[ToolCallDelta]
    _outbox: list[Event]
    _decision: Decision | None
    _error_status: int
    _error_headers: tuple[tuple[str, str], ...]
    _error_body: list[bytes]
    _error_size: int
    _unexpected_type: str | None

    if TYPE_CHECKING:
        # Provided by RecoverySession.

        @property
        def text(self) -> str: ...
        @property
        def usage(self) -> Usage: ...
        def take_events(self) -> list[Event]: ...
        def _enter(self, call: str) -> None: ...
        def _leave(self, call: str, target: SessionState) -> None: ...
        def _fail(self, fault: BaseException) -> None: ...

    @property
    def has_queued_events(self) -> bool:
        """Whether SSE events of the last :meth:`queue_data` are still to be taken.

        They are ready without reading the network again: a consumer that joins
        the bytes of one read (the SDK transports) asks this before it sends.
        """
        return self._queue_position < len(self._queue)

    def receive_text_frame(self, data: bytes) -> list[Event] | None:
        """The text lane: commit ``data`` at once when it is one plain text frame.

        ``data`` (one read of the body) qualifies when it is exactly one SSE
        event, ``StreamParser.lane_prefix`` + data + a blank line, read while the
        decoder stands between events, whose data the parser reads as plain text
        without its general path (``StreamParser.lane_match``: the learnt text
        frame of ``providers/_template.py`` with another string in it). Then
        what :meth:`queue_data` followed by :meth:`next_events` until None would
        give is known without the SSE decoder: it is committed and returned
        (one TextDelta), with the same session state as that general path
        leaves. Any other read changes nothing and gives None: hand it to
        :meth:`queue_data`.

        Why the decoder may be skipped: after a blank line (the last read ended
        with LF LF) a WHATWG decoder holds nothing but the last event id and the
        reconnection time; ``T`` + ``data: X`` + a blank line, X without CR or LF,
        then dispatches exactly one event (type T, data X) and leaves it as it
        was. The event id must be empty on both sides (the parser's last event
        and the decoder), so that the parser's resume point is the same.
        """
        if (
            self.state is not SessionState.STREAMING
            or not self._at_boundary
            or self._queue_open
            or self._stitcher is not None
            or self._surrogates.held
            or self._outbox
            or data.__class__ is not bytes
        ):
            return None
        if len(data) > self._max_line_size:
            return None
        try:
            read = data.decode()
        except UnicodeDecodeError:
            return None
        assert self._parser is not None
        text = self._parser.lane_match(read)
        if not text:
            return None
        # Only a JSON escape makes a surrogate (strict UTF-8 has none): the
        # joiner's check of _accept is needed only then.
        if "\\" in read and not text.isascii() and _has_surrogate(text):
            return None
        # _accept, for a TextDelta with no stitcher and no half surrogate.
        self._content_events += 1
        self._text_parts.append(text)
        self._text_length += len(text)
        self._delivered = True
        progress = self._progress
        if progress.active:
            # The end of next_events: a content event came with this read.
            now = self._clock()
            progress.last = now
            if now >= progress.next_deposit:
                progress.deposit(now)
        event = _new_text(TextDelta)
        _set_text(event, text)
        return [event]

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed body bytes; ``b""`` means the body ended. Returns the events to deliver.

        After the stream completes (the provider's terminal marker), the state is
        ``DONE`` and the caller should stop reading and close the connection.
        The same as :meth:`queue_data` followed by :meth:`next_events` until it
        returns None, with the events joined.
        """
        self.queue_data(data)
        events: list[Event] = []
        next_events = self.next_events
        while (step := next_events()) is not None:
            events += step
        return events

    def queue_data(self, data: bytes) -> None:
        """Feed body bytes (``b""``: the body ended); take the events with :meth:`next_events`.

        Nothing is delivered yet: the SSE events ``data`` completes are decoded
        and held, and each call of :meth:`next_events` maps one of them to what
        the consumer sees, commits its text, and returns it. A consumer that
        stops half-way through one read therefore leaves the session's text
        exactly at what it was handed. Call :meth:`next_events` until it returns
        None before the next ``queue_data``; calling it earlier is a
        :class:`UsageError` (and leaves the session in ``ERROR``).
        """
        # The hot path (a streaming body) skips the table lookup; every other
        # state goes through it, so an illegal call still fails the session.
        if self.state is not SessionState.STREAMING:
            self._enter("receive_data")
        if data.__class__ is not bytes and not isinstance(data, (bytearray, memoryview)):
            self.state = SessionState.ERROR
            raise UsageError(f"receive_data() takes bytes, got {type(data).__name__}")
        if self._queue_open:
            self.state = SessionState.ERROR
            raise UsageError("queue_data() called before next_events() returned None")
        self._queue_open = True
        if self.state is SessionState.ERROR_BODY:
            if data:
                room = MAX_ERROR_BODY - self._error_size
                if room > 0:
                    self._error_body.append(data[:room])
                    self._error_size += min(room, len(data))
                self._leave("receive_data", SessionState.ERROR_BODY)
            else:
                self._fail(self._error_fault())
            return
        assert self._decoder is not None and self._parser is not None
        self._queue_eof = not data
        self._content_before = self._content_events
        self._at_boundary = False
        try:
            self._queue = self._decoder.feed(data)
        except Fault as fault:
            self._fail(fault)
            return
        self._queue_position = 0
        if self._text_lane:
            self._queue_blank = data[-2:] == b"\n\n"

    def next_events(self) -> list[Event] | None:
        """Return the events of the next SSE event queued by :meth:`queue_data` (often one
        TextDelta, sometimes none), then what the end of the data brings; None once
        everything queued has been taken.
        """
        position = self._queue_position
        queue = self._queue
        if position < len(queue):
            self._queue_position = position + 1
            parser = self._parser
            assert parser is not None
            sse = queue[position]
            if (
                sse.event == self._lane_event
                and self._stitcher is None
                and not self._surrogates.held
            ):
                # The text lane for one event of a run (see StreamParser.lane_feed):
                # feed and _accept of a plain text delta, without their calls.
                text = parser.lane_feed(sse)
                if text and (
                    "\\" not in sse.data or text.isascii() or not _has_surrogate(text)
                ):
                    self._content_events += 1
                    self._text_parts.append(text)
                    self._text_length += len(text)
                    self._delivered = True
                    delta = _new_text(TextDelta)
                    _set_text(delta, text)
                    self._outbox.append(delta)
                    events, self._outbox = self._outbox, []
                    return events
            try:
                for event in parser.feed(sse):
                    self._accept(event)
            except Fault as fault:
                self._fail(fault)
                return self.take_events()
            if parser.complete:
                self._complete()
                return self.take_events()
            # Still STREAMING: no transition to record.
            events, self._outbox = self._outbox, []
            return events
        if not self._queue_open:
            return None
        self._queue_open = False
        self._queue = NOTHING_QUEUED
        self._queue_position = 0
        if self.state is not SessionState.STREAMING:
            return self.take_events()
        assert self._parser is not None
        if self._queue_eof:
            try:
                # Completeness first: what the stitcher holds from a truncated
                # continuation may be overlap, and is never released.
                self._parser.finish()
                # A parser that is satisfied at EOF without its marker is complete.
                self._complete()
            except Fault as fault:
                self._fail(fault)
            return self.take_events()
        if self._text_lane and self._queue_blank:
            parser = self._parser
            assert self._decoder is not None
            # A blank line ended the read: the decoder stands between events. The
            # lane is open if neither it nor the parser carries an event id (see
            # receive_text_frame).
            self._at_boundary = not self._decoder.last_event_id and parser.lane_ready()
        progress = self._progress
        if progress.active:
            # ProgressTracker.check, inline: this runs on every read of the body.
            now = self._clock()
            if self._content_events != self._content_before:
                progress.last = now
                if now >= progress.next_deposit:
                    progress.deposit(now)
            elif now - progress.last > progress.timeout:
                self._fail(progress.fault())
        return self.take_events()

    def _drop_queue(self) -> None:
        # The attempt ended (complete, failed, cancelled): what it still held is not read.
        self._queue = NOTHING_QUEUED
        self._queue_position = 0

    def _accept(self, event: Event) -> None:
        # The hot path: one call per content event.
        if type(event) is TextDelta:
            if (not event.text.isascii() and _has_surrogate(event.text)) or (
                self._surrogates.holding
            ):
                text = self._surrogates.feed(event.text)
                if text is not event.text:
                    if not text:
                        return
                    event = TextDelta(text=text)
            if self._stitcher is None:
                self._content_events += 1
                self._text_parts.append(event.text)
                self._text_length += len(event.text)
                self._delivered = True
                self._outbox.append(event)
            else:
                self._release(self._stitcher.feed(event.text))
        elif type(event) is ToolCallDelta:
            # Held until the stream completes: a tool call is delivered whole or not at all.
            self._content_events += 1
            self._pending_tools.append(event)
        elif type(event) is ReasoningDelta:
            # Thinking is progress even when a continuation's is not delivered.
            self._content_events += 1
            if self.strategy_used is not None and self._text_length:
                # A continuation thinks again; its reasoning belongs to no delivered text.
                return
            self._reasoning_length += len(event.text)
            self._delivered = True
            self._outbox.append(event)
        elif type(event) is Usage:
            self._attempt_usage = event
            self._outbox.append(event)
        else:
            self._outbox.append(event)

    def _release(self, released: str) -> None:
        stitcher = self._stitcher
        assert stitcher is not None
        if stitcher.rewind_to is not None and stitcher.rewind_to < self._text_length:
            if self.keep_delivered and stitcher.rewind_to < len(self.text.rstrip()):
                raise ContinuationDivergedError(
                    self._text_length, stitcher.rewind_to, provider=self.provider.name
                )
            self._rewind(stitcher.rewind_to)
            # Only once: a later release continues after the rewound text.
            stitcher.rewind_to = None
        if released:
            self._content_events += 1
            self._text_parts.append(released)
            self._text_length += len(released)
            self._delivered = True
            self._outbox.append(TextDelta(text=released))

    def _rewind(self, to: int, *, reasoning: bool = False) -> None:
        text = self.text[:to]
        self._text_parts = [text] if text else []
        self._text_length = to
        reasoning_to = 0 if reasoning else None
        if reasoning:
            self._reasoning_length = 0
        self._outbox.append(Rewind(to=to, reasoning_to=reasoning_to))

    def _complete(self) -> None:
        assert self._parser is not None
        self._drop_queue()
        if self._surrogates.holding:
            self._accept(TextDelta(text=self._surrogates.finish()))
        if self._stitcher is not None:
            self._release(self._stitcher.finish())
            self.overlap_removed += self._stitcher.overlap
            self._stitcher = None
        self._outbox.extend(self._pending_tools)
        self._pending_tools = []
        self.finish_reason = self._parser.finish_reason or "stop"
        self._usage_total = self.usage
        self._attempt_usage = None
        if self._progress.active:
            self._progress.completed(self._clock())
        self._outbox.append(Completed(finish_reason=self.finish_reason, usage=self._usage_total))
        self._decision = Done()
        self.state = SessionState.DONE

    def _error_fault(self) -> Fault:
        body = b"".join(self._error_body).decode("utf-8", "replace")
        if self._unexpected_type is not None:
            return UnexpectedContentError(self._unexpected_type, body=body)
        error_type = ""
        info = getattr(self.provider, "error_info", None)
        if callable(info):
            error_type, _ = info(body)
        return HTTPStatusError(
            self._error_status,
            headers=self._error_headers,
            body=body,
            provider=self.provider.name,
            error_type=error_type,
        )


def _has_surrogate(text: str) -> bool:
    # UTF-8 encoding fails exactly on a surrogate code point (lone, or half of
    # a pair split across JSON escapes), and costs less than a regular
    # expression search.
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False
