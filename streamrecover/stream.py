"""Stream and AsyncStream: a recovering stream as the consumer holds it.

Each drives one :class:`~streamrecover.core.session.RecoverySession` over a
transport: the loop of DESIGN.md "The session". Everything else a stream does
(storage, hooks, logging, safe text) lives in :mod:`streamrecover.observe` and is
shared by the two; the two loops below differ only in ``await``.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

from streamrecover.core.errors import Fault, StorageError, StreamInterrupted
from streamrecover.core.events import Event, FellBack, TextDelta, Usage
from streamrecover.core.redact import redact
from streamrecover.core.session import Done, GiveUp, RecoverySession, Retry, SessionState
from streamrecover.observe import SafeText, StreamObserver

if TYPE_CHECKING:
    from streamrecover.fallback_chain import FallbackChain
    from streamrecover.storage.contribution import Contribution
    from streamrecover.transport.base import (
        AsyncHTTPTransport,
        SyncHTTPTransport,
        Timeouts,
    )

__all__ = ["AsyncStream", "Stream"]

_READING = (SessionState.STREAMING, SessionState.ERROR_BODY)
_FINISHED = (SessionState.DONE, SessionState.GAVE_UP, SessionState.ERROR)


class _StreamBase:
    """What the sync and async streams share: state, results and cancellation."""

    def __init__(
        self,
        session: RecoverySession,
        observer: StreamObserver,
        *,
        timeouts: Timeouts,
        safe_mode: str,
        replay: str = "",
        fallbacks: FallbackChain | None = None,
    ) -> None:
        self.session = session
        self._observer = observer
        self._fallbacks = fallbacks
        self._timeouts = timeouts
        self._safe_mode = safe_mode
        self._replay = replay
        # Without a replay the consumer starts after the stored text.
        self._already_shown = 0 if replay else len(session.text)
        deadline = session.policy.deadline
        self._deadline = None if deadline is None else time.monotonic() + deadline
        # Dropped without close (no ``with``): marked cancelled when collected.
        # Not at interpreter exit: a stream cut by the process ending stays
        # active, for a resume to pick up.
        weakref.finalize(self, observer.abandoned).atexit = False

    @property
    def recovery_id(self) -> str | None:
        """The id of the stored record (None when the client has no storage)."""
        return self._observer.recovery_id

    @property
    def text(self) -> str:
        """The answer text so far (all of it once the stream completed)."""
        return self.session.text

    @property
    def attempts(self) -> int:
        """Requests sent, the first included (to every provider, when it fell back)."""
        return self.session.attempts

    @property
    def resumes(self) -> int:
        """Continuations of a half-delivered answer (a fallback's first one included)."""
        chain = self._fallbacks
        return self.session.resumes + (chain.resumes if chain is not None else 0)

    @property
    def usage(self) -> Usage:
        """Token usage summed across every attempt (of every provider that served it)."""
        chain = self._fallbacks
        return self.session.usage if chain is None else chain.usage + self.session.usage

    @property
    def provider(self) -> str:
        """The provider serving the stream: the one that finished the answer, once done."""
        return self.session.provider.name

    @property
    def model(self) -> str:
        """The model serving the stream (a fallback's, once one took over)."""
        return self.session.provider.model(self.session.body)

    @property
    def providers(self) -> tuple[Contribution, ...]:
        """Every provider that served the stream, in order, when it fell back; else empty."""
        chain = self._fallbacks
        return tuple(chain.providers) if chain is not None and chain.fell_back else ()

    @property
    def finish_reason(self) -> str | None:
        """Why the answer ended (``stop``, ``end_turn``, ``tool_calls``...), once it did."""
        return self.session.finish_reason

    @property
    def overlap_removed(self) -> int:
        """Characters of continuation text dropped because they repeated delivered text."""
        chain = self._fallbacks
        return self.session.overlap_removed + (chain.overlap_removed if chain else 0)

    @property
    def storage_error(self) -> StorageError | None:
        """The last storage failure met while streaming (the stream went on), or None."""
        return self._observer.storage_error

    @property
    def surrogates_replaced(self) -> int:
        """Lone UTF-16 surrogates in the provider's text, delivered as U+FFFD."""
        chain = self._fallbacks
        return self.session.surrogates_replaced + (chain.surrogates_replaced if chain else 0)

    @property
    def completed(self) -> bool:
        """True once the answer is complete."""
        return self.session.state is SessionState.DONE

    def __repr__(self) -> str:
        session = self.session
        return redact(
            f"<{type(self).__name__} {session.provider.name} recovery_id={self.recovery_id!r} "
            f"state={session.state.value} attempts={session.attempts}>",
            secrets=getattr(session.provider, "secrets", ()),
        )

    def _replayed(self) -> list[Event]:
        text, self._replay = self._replay, ""
        return [TextDelta(text=text)] if text else []

    def _deliver(self, events: list[Event]) -> list[Event]:
        self._observer.observe(events)
        return events

    def _give_up(self, error: StreamInterrupted) -> StreamInterrupted:
        self._observer.gave_up(error)
        return error

    def _fall_back(self, error: StreamInterrupted) -> list[Event] | None:
        """The session gave up: the events of a fallback taking over, or None (raise ``error``).

        Raises the chain's StreamInterrupted (every provider's cause) when none is left.
        """
        chain = self._fallbacks
        if chain is None:
            return None
        try:
            takeover = chain.take_over(self.session, error)
        except StreamInterrupted as exhausted:
            raise self._give_up(exhausted) from None
        if takeover is None:
            return None
        self.session = takeover.session
        if takeover.timeouts is not None:
            self._timeouts = takeover.timeouts
        fell_back = takeover.events[0]
        assert isinstance(fell_back, FellBack)
        self._observer.fell_back(fell_back, takeover.session, chain.providers)
        return takeover.events

    def _cancel(self) -> None:
        """Mark an unfinished stream cancelled (the consumer left early)."""
        if self.session.state not in _FINISHED:
            self.session.cancel()
            decision = self.session.decision()
            assert isinstance(decision, GiveUp)
            self._observer.gave_up(decision.error)
        self._observer.closed()


class Stream(_StreamBase):
    """A recovering stream (sync). Iterate it for events, or use :attr:`text_stream`.

    Iteration raises :class:`~streamrecover.core.errors.StreamInterrupted` when
    recovery is exhausted or the fault is final. Use it as a context manager:
    leaving the block early closes the connection and marks the stream cancelled.
    """

    def __init__(
        self,
        session: RecoverySession,
        observer: StreamObserver,
        *,
        transport: SyncHTTPTransport,
        timeouts: Timeouts,
        safe_mode: str,
        replay: str = "",
        fallbacks: FallbackChain | None = None,
    ) -> None:
        super().__init__(session, observer, timeouts=timeouts, safe_mode=safe_mode, replay=replay,
                         fallbacks=fallbacks)
        self._transport = transport
        self._events = self._run()

    def __iter__(self) -> Iterator[Event]:
        return self._events

    @property
    def text_stream(self) -> Iterator[str]:
        """The answer text, only as it becomes safe from any rollback (see SafeText)."""
        safe = SafeText(self._safe_mode, already_shown=self._already_shown)  # type: ignore[arg-type]
        return safe.texts(self._events)

    def until_done(self) -> str:
        """Consume the stream and return the final text."""
        for _ in self._events:
            pass
        return self.text

    def close(self) -> None:
        """Close the connection; an unfinished stream is marked cancelled."""
        self._events.close()
        self._cancel()

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> Generator[Event, None, None]:
        session = self.session
        yield from self._replayed()
        while True:
            request = session.next_request()
            self._observer.attempt_started(request)
            yield from self._deliver(session.take_events())
            try:
                response = self._transport.open(request, self._timeouts, deadline=self._deadline)
                try:
                    session.response_started(response.status, response.headers)
                    self._observer.response_started(response.status)
                    # One SSE event's worth at a time (see RecoverySession.queue_data):
                    # a consumer that stops holds exactly the text stored and committed.
                    queue_data = session.queue_data
                    next_events = session.next_events
                    text_frame = session.receive_text_frame
                    observer = self._observer
                    observe = observer.observe
                    # Nothing to store or report: a text delta needs no observer call.
                    quiet = observer.checkpointer is None and observer.telemetry is None
                    lane = session.text_lane
                    for data in response.iter_bytes():
                        # A read that is one plain text frame takes the lane.
                        if lane and (events := text_frame(data)) is not None:
                            if quiet:
                                # The lane keeps the session STREAMING; heartbeat
                                # does nothing without a checkpointer.
                                yield events[0]
                                continue
                            observe(events)
                            yield events[0]
                        else:
                            queue_data(data)
                            while (events := next_events()) is not None:
                                if events:
                                    observe(events)
                                    yield from events
                        self._observer.heartbeat()
                        if session.state not in _READING:
                            break
                    else:
                        queue_data(b"")
                        while (events := next_events()) is not None:
                            yield from self._deliver(events)
                finally:
                    response.close()
            except Fault as fault:
                session.connection_failed(fault)
            yield from self._deliver(session.take_events())
            decision = session.decision()
            self._observer.attempt_ended(decision)
            if isinstance(decision, Done):
                return
            if isinstance(decision, GiveUp):
                takeover = self._fall_back(decision.error)
                if takeover is None:
                    raise self._give_up(decision.error)
                session = self.session
                yield from self._deliver(takeover)
                continue
            assert isinstance(decision, Retry)
            if decision.delay > 0:
                time.sleep(decision.delay)


class AsyncStream(_StreamBase):
    """A recovering stream (asyncio or trio, through anyio). See :class:`Stream`."""

    def __init__(
        self,
        session: RecoverySession,
        observer: StreamObserver,
        *,
        transport: AsyncHTTPTransport,
        timeouts: Timeouts,
        safe_mode: str,
        replay: str = "",
        fallbacks: FallbackChain | None = None,
    ) -> None:
        super().__init__(session, observer, timeouts=timeouts, safe_mode=safe_mode, replay=replay,
                         fallbacks=fallbacks)
        self._transport = transport
        self._events = self._run()
        self._text_generators: list[AsyncGenerator[str, None]] = []

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The answer text, only as it becomes safe from any rollback (see SafeText).

        ``aclose()`` (leaving the ``async with`` block) closes it too, so breaking
        out of it leaves nothing for the garbage collector.
        """
        generator = self._safe_text()
        self._text_generators.append(generator)
        return generator

    def _safe_text(self) -> AsyncGenerator[str, None]:
        safe = SafeText(self._safe_mode, already_shown=self._already_shown)  # type: ignore[arg-type]
        return safe.atexts(self._events)

    async def until_done(self) -> str:
        """Consume the stream and return the final text."""
        async for _ in self._events:
            pass
        return self.text

    async def aclose(self) -> None:
        """Close the connection; an unfinished stream is marked cancelled."""
        for generator in self._text_generators:
            await generator.aclose()
        await self._events.aclose()
        self._cancel()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[Event, None]:
        import anyio

        session = self.session
        for event in self._replayed():
            yield event
        while True:
            request = session.next_request()
            self._observer.attempt_started(request)
            for event in self._deliver(session.take_events()):
                yield event
            try:
                response = await self._transport.open(
                    request, self._timeouts, deadline=self._deadline
                )
                try:
                    session.response_started(response.status, response.headers)
                    self._observer.response_started(response.status)
                    ended = False
                    body = response.aiter_bytes()
                    queue_data = session.queue_data
                    next_events = session.next_events
                    text_frame = session.receive_text_frame
                    observer = self._observer
                    observe = observer.observe
                    # Nothing to store or report: a text delta needs no observer call.
                    quiet = observer.checkpointer is None and observer.telemetry is None
                    lane = session.text_lane
                    try:
                        async for data in body:
                            # A read that is one plain text frame takes the lane.
                            if lane and (events := text_frame(data)) is not None:
                                del data
                                if quiet:
                                    # The lane keeps the session STREAMING; heartbeat
                                    # does nothing without a checkpointer.
                                    yield events[0]
                                    continue
                                observe(events)
                                yield events[0]
                            else:
                                queue_data(data)
                                # The read is decoded: not held while the next one waits.
                                del data
                                while (events := next_events()) is not None:
                                    if events:
                                        observe(events)
                                        for event in events:
                                            yield event
                            self._observer.heartbeat()
                            if session.state not in _READING:
                                ended = True
                                break
                    finally:
                        # An async generator left mid-way is closed here, not by the GC.
                        closer = getattr(body, "aclose", None)
                        if closer is not None:
                            with anyio.CancelScope(shield=True):
                                await closer()
                    if not ended:
                        queue_data(b"")
                        while (events := next_events()) is not None:
                            for event in self._deliver(events):
                                yield event
                finally:
                    # Closing must finish even when the task is being cancelled.
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
            except Fault as fault:
                session.connection_failed(fault)
            for event in self._deliver(session.take_events()):
                yield event
            decision = session.decision()
            self._observer.attempt_ended(decision)
            if isinstance(decision, Done):
                return
            if isinstance(decision, GiveUp):
                takeover = self._fall_back(decision.error)
                if takeover is None:
                    raise self._give_up(decision.error)
                session = self.session
                for event in self._deliver(takeover):
                    yield event
                continue
            assert isinstance(decision, Retry)
            if decision.delay > 0:
                await anyio.sleep(decision.delay)
