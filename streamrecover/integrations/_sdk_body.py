"""The sync SDK transport's body: one generator that drives the session and yields bytes.

:class:`SDKStream` is a :class:`~streamrecover.stream.Stream` whose loop hands
each event straight to :class:`~streamrecover.integrations._sdk_stream.SDKFeed`
and yields the bytes for httpx2, instead of yielding the event to a second
generator that encodes it: one generator resume (and one property read) less
per event. What it yields is exactly what ``Stream`` iterated through the
transport's chunking gave: the events before the first content event wait
(a give-up before any content is answered with the upstream's own response),
the bytes of one read's SSE events are joined while the session still holds
events of that read, and past :data:`CHUNK` bytes a chunk goes out anyway.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Iterator
from typing import Any

import httpx2

from streamrecover.core.errors import Fault, StreamInterrupted
from streamrecover.core.events import Event, Finished, ReasoningDelta, TextDelta, ToolCallDelta
from streamrecover.core.session import Done, GiveUp, Retry
from streamrecover.integrations._httpx2_inner import SyncResponse
from streamrecover.integrations._httpx2_inner import fault as to_fault
from streamrecover.integrations._sdk_stream import SDKFeed, StreamDiverged
from streamrecover.stream import _READING, Stream

__all__ = ["CHUNK", "CONTENT_EVENTS", "SDKStream"]

#: Past this many bytes, a chunk goes out even if more events are ready.
CHUNK = 65_536
CONTENT_EVENTS = (TextDelta, ToolCallDelta, ReasoningDelta, Finished)


class SDKStream(Stream):
    """A Stream whose :attr:`body` yields the SDK's bytes (see the module docstring).

    ``next(stream.body)`` first runs the session up to its first content event
    and yields ``b""`` (not for the SDK): the response can start. It raises the
    session's :class:`StreamInterrupted` when it gave up before any content.
    """

    def __init__(self, feed: SDKFeed, **options: Any) -> None:
        super().__init__(**options)
        self._feed = feed
        self._first: list[Event] = []
        self._out = bytearray()
        #: The first content event came: events now go to the feed.
        self._started = False
        self.body: Generator[bytes, None, None] = self._run_bytes()

    def close(self) -> None:
        self.body.close()
        super().close()

    def _error_type(self, error: StreamInterrupted) -> str:
        return str(getattr(error.cause, "error_type", "") or "api_error")

    def _emit(self, events: list[Event]) -> Iterator[bytes]:
        """Hand ``events`` on (the paths that do not run once per event)."""
        feed = self._feed
        out = self._out
        for event in events:
            if not self._started:
                self._first.append(event)
                if not isinstance(event, CONTENT_EVENTS):
                    continue
                self._started = True
                yield b""  # the response starts
                for waited in self._first:
                    out += feed.feed(waited)
                self._first = []
                if out and not self.session.has_queued_events:
                    yield bytes(out)
                    out.clear()
                continue
            chunk = feed.feed(event)
            if out:
                out += chunk
                if len(out) >= CHUNK or not self.session.has_queued_events:
                    yield bytes(out)
                    out.clear()
            elif chunk:
                if len(chunk) < CHUNK and self.session.has_queued_events:
                    out += chunk
                else:
                    yield chunk

    def _run_bytes(self) -> Generator[bytes, None, None]:
        # Stream._run, with each event handed to the feed where it would be yielded.
        session = self.session
        feed = self._feed
        out = self._out
        emit = self._emit
        try:
            yield from emit(self._replayed())
            while True:
                request = session.next_request()
                self._observer.attempt_started(request)
                yield from emit(session.take_events())
                try:
                    response = self._transport.open(
                        request, self._timeouts, deadline=self._deadline
                    )
                    try:
                        session.response_started(response.status, response.headers)
                        self._observer.response_started(response.status)
                        queue_data = session.queue_data
                        next_events = session.next_events
                        text_frame = session.receive_text_frame
                        observer = self._observer
                        observe = observer.observe
                        quiet = observer.checkpointer is None and observer.telemetry is None
                        lane = session.text_lane
                        started = self._started
                        # httpx2's reads, without SyncResponse.iter_bytes's generator around
                        # them (its exception mapping is done here).
                        if type(response) is SyncResponse:
                            reads: Iterable[bytes] = response.reads
                        else:
                            reads = response.iter_bytes()
                        try:
                            for data in reads:
                                if lane and (events := text_frame(data)) is not None:
                                    if not quiet:
                                        observe(events)
                                    if started:
                                        # After the lane the session holds no queued event:
                                        # the chunk goes out (see _emit).
                                        chunk = feed.feed(events[0])
                                        if out:
                                            out += chunk
                                            yield bytes(out)
                                            out.clear()
                                        elif chunk:
                                            yield chunk
                                    else:
                                        yield from emit(events)
                                        started = self._started
                                    if quiet:
                                        continue
                                else:
                                    queue_data(data)
                                    while (events := next_events()) is not None:
                                        if not events:
                                            continue
                                        if (
                                            started
                                            and quiet
                                            and len(events) == 1
                                            and events[0].__class__ is TextDelta
                                        ):
                                            # The common event of a bulk read, inline: a
                                            # text delta needs no observer call (as the
                                            # lane), and its bytes join the read's (_emit).
                                            chunk = feed.feed(events[0])
                                            if out:
                                                out += chunk
                                                if (
                                                    len(out) >= CHUNK
                                                    # has_queued_events, without the
                                                    # property read
                                                    or session._queue_position
                                                    >= len(session._queue)
                                                ):
                                                    yield bytes(out)
                                                    out.clear()
                                            elif chunk:
                                                if (
                                                    len(chunk) < CHUNK
                                                    and session._queue_position
                                                    < len(session._queue)
                                                ):
                                                    out += chunk
                                                else:
                                                    yield chunk
                                            continue
                                        observe(events)
                                        yield from emit(events)
                                        started = self._started
                                observer.heartbeat()
                                if session.state not in _READING:
                                    break
                            else:
                                queue_data(b"")
                                while (events := next_events()) is not None:
                                    yield from emit(self._deliver(events))
                        except httpx2.TransportError as exc:
                            raise to_fault(exc) from exc
                    finally:
                        response.close()
                except Fault as fault:
                    session.connection_failed(fault)
                yield from emit(self._deliver(session.take_events()))
                decision = session.decision()
                self._observer.attempt_ended(decision)
                if isinstance(decision, Done):
                    break
                if isinstance(decision, GiveUp):
                    takeover = self._fall_back(decision.error)
                    if takeover is None:
                        raise self._give_up(decision.error)
                    session = self.session
                    yield from emit(self._deliver(takeover))
                    continue
                assert isinstance(decision, Retry)
                if decision.delay > 0:
                    time.sleep(decision.delay)
        except StreamInterrupted as error:
            if not self._started:
                raise
            out += feed.fail(str(error), self._error_type(error))
        except StreamDiverged as error:
            out += feed.fail(str(error), "api_error")
        if not self._started:
            # The stream ended without content: the response starts now.
            self._started = True
            yield b""
            for waited in self._first:
                out += feed.feed(waited)
            self._first = []
        if out:
            yield bytes(out)
            out.clear()
