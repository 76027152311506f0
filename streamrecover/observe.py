"""What a stream does with its events besides handing them over.

:class:`StreamObserver` sees every event a session produces, in order, and
records the answer into storage (batched through a checkpointer), calls the
caller's hooks and logs recoveries. :class:`SafeText` turns the events into the
text a plain ``print(chunk, end="")`` consumer can show without ever showing a
character twice. Both are shared by the sync and the async stream.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from streamrecover._logging import logger
from streamrecover.core.classify import is_recoverable
from streamrecover.core.errors import StorageError, StreamInterrupted
from streamrecover.core.events import (
    Completed,
    Event,
    FellBack,
    Resumed,
    Retrying,
    Rewind,
    TextDelta,
    Usage,
)
from streamrecover.core.redact import redact
from streamrecover.core.resume import Strategy, last_paragraph_end
from streamrecover.core.session import GiveUp, SessionState
from streamrecover.storage.errors import StaleWriterError

if TYPE_CHECKING:
    from streamrecover.core.http import HTTPRequest
    from streamrecover.core.session import Decision, RecoverySession
    from streamrecover.integrations.otel import StreamTelemetry
    from streamrecover.storage.checkpoint import Checkpointer
    from streamrecover.storage.contribution import Contribution
    from streamrecover.storage.record import ProgressChanges, Status

__all__ = ["IMMEDIATE", "Hooks", "SafeText", "StreamObserver"]

#: Strategies that never roll delivered text back: SafeText passes their text on at once.
IMMEDIATE = ("exact", "native", "summarize")



@dataclass(frozen=True, slots=True, kw_only=True)
class Hooks:
    """Callbacks a client calls as recovery happens. Each gets the event and the recovery id."""

    on_retry: Callable[[Retrying, str | None], object] | None = None
    on_resume: Callable[[Resumed, str | None], object] | None = None
    on_give_up: Callable[[StreamInterrupted, str | None], object] | None = None
    on_fallback: Callable[[FellBack, str | None], object] | None = None


class SafeText:
    """Yield only text that will never be rolled back.

    With ``exact``, ``native`` and ``summarize`` every delta is safe at once. With
    ``paragraph`` the text after the last paragraph break may still be rolled back,
    so it is held until the paragraph ends or the answer completes; with
    ``restart`` everything is held until the answer completes.
    """

    def __init__(self, strategy: Strategy, *, already_shown: int = 0) -> None:
        self._mode = strategy
        self._pending = ""
        #: Characters of the answer the consumer holds; a resumed stream that does
        #: not replay its stored text starts after it.
        self.shown = already_shown

    def feed(self, event: Event) -> str:
        """Return the text that became safe with ``event`` (often empty)."""
        if type(event) is TextDelta:
            if self._mode in IMMEDIATE:
                self.shown += len(event.text)
                return event.text
            self._pending += event.text
            if self._mode == "paragraph":
                cut = last_paragraph_end(self._pending)
                if cut:
                    return self._show(cut)
            return ""
        if type(event) is Rewind:
            keep = event.to - self.shown
            if keep < 0:
                # Only a continuation that restarted and diverged can rewind shown text.
                logger.warning(
                    "a continuation restarted the answer; %d characters already shown "
                    "were rolled back (stream.text holds the corrected answer)",
                    -keep,
                )
                self.shown = event.to
                keep = 0
            self._pending = self._pending[:keep]
            return ""
        if type(event) is Completed:
            return self._show(len(self._pending))
        return ""

    def texts(self, events: Iterator[Event]) -> Iterator[str]:
        """Yield the non-empty results of :meth:`feed` for each of ``events``."""
        feed = self.feed
        if self._mode in IMMEDIATE:
            # Every delta is safe at once: the common event needs no call.
            for event in events:
                if type(event) is TextDelta:
                    text = event.text
                    self.shown += len(text)
                    if text:
                        yield text
                else:
                    chunk = feed(event)
                    if chunk:
                        yield chunk
        else:
            for event in events:
                chunk = feed(event)
                if chunk:
                    yield chunk

    async def atexts(self, events: AsyncIterator[Event]) -> AsyncGenerator[str, None]:
        """The asynchronous counterpart of :meth:`texts`."""
        feed = self.feed
        immediate = self._mode in IMMEDIATE
        async for event in events:
            if immediate and type(event) is TextDelta:
                text = event.text
                self.shown += len(text)
                if text:
                    yield text
            else:
                chunk = feed(event)
                if chunk:
                    yield chunk

    def _show(self, length: int) -> str:
        shown, self._pending = self._pending[:length], self._pending[length:]
        self.shown += len(shown)
        return shown


class StreamObserver:
    """Record the session's events into storage, call hooks and log recoveries."""

    def __init__(
        self,
        session: RecoverySession,
        *,
        checkpointer: Checkpointer | None,
        recovery_id: str | None,
        hooks: Hooks,
        telemetry: StreamTelemetry | None = None,
    ) -> None:
        self.session = session
        self.checkpointer = checkpointer
        self.recovery_id = recovery_id
        self.hooks = hooks
        #: Spans and metrics of this stream (None: OpenTelemetry is not set up).
        self.telemetry = telemetry
        self.usage: Usage | None = None
        #: Every provider that served the stream, once it fell back (stored with each mark).
        self.providers: tuple[Contribution, ...] = ()

    def attempt_started(self, request: HTTPRequest) -> None:
        """The session built the request of a new attempt; it is about to be sent."""
        if self.telemetry is not None:
            self.telemetry.attempt_started(request, self.session.attempts)

    def response_started(self, status: int) -> None:
        """The attempt's response head arrived."""
        if self.telemetry is not None:
            self.telemetry.response_started(status)

    def attempt_ended(self, decision: Decision) -> None:
        """The attempt is over; ``decision`` says what comes next."""
        if self.telemetry is not None:
            self.telemetry.attempt_ended(decision)

    def observe(self, events: list[Event]) -> None:
        """Act on a batch of events before they are handed to the consumer.

        Raises StreamInterrupted if another process took the record over.
        """
        telemetry = self.telemetry
        if telemetry is not None and (
            # Skip the call for the common batch: one more piece of text.
            telemetry.watching or len(events) != 1 or type(events[0]) is not TextDelta
        ):
            telemetry.observe(events)
        checkpointer = self.checkpointer
        try:
            for event in events:
                if type(event) is TextDelta:
                    # The common event, handled here rather than in a call.
                    if checkpointer is not None:
                        checkpointer.append(event.text)
                else:
                    self._observe_other(event, checkpointer)
        except StaleWriterError as exc:
            raise self._taken_over(exc) from exc

    def _observe_other(self, event: Event, checkpointer: Checkpointer | None) -> None:
        kind = type(event)
        if kind is Rewind:
            if checkpointer is not None:
                checkpointer.truncate(event.to)  # type: ignore[attr-defined]
        elif kind is Retrying:
            self._on_retry(event)  # type: ignore[arg-type]
        elif kind is Resumed:
            logger.info(
                "stream %s: resuming with strategy %s (attempt %d)",
                self.recovery_id,
                event.strategy,  # type: ignore[attr-defined]
                event.attempt,  # type: ignore[attr-defined]
                extra=self._log_fields(event.attempt, None),  # type: ignore[attr-defined]
            )
            if self.hooks.on_resume is not None:
                self.hooks.on_resume(event, self.recovery_id)  # type: ignore[arg-type]
        elif kind is Completed:
            self.usage = event.usage  # type: ignore[attr-defined]
            if checkpointer is not None:
                checkpointer.flush()
                self._mark("completed")
                checkpointer.end()
            if self.telemetry is not None:
                self.telemetry.finish(self.session, None)

    def fell_back(
        self, event: FellBack, session: RecoverySession, providers: Sequence[Contribution]
    ) -> None:
        """A fallback took the stream over with ``session``: log, record, call the hook.

        ``providers`` is everyone who served the stream, the new one last.
        Raises StreamInterrupted if another process took the record over.
        """
        previous, self.session = self.session, session
        self.providers = tuple(providers)
        taken = self.providers[-1]
        logger.warning(
            "stream %s: %s gave up (%s); the answer goes on with %s (%s) from character %d",
            self.recovery_id,
            event.from_provider,
            taken.cause,
            event.to_provider,
            event.model,
            event.offset,
            extra={**self._log_fields(previous.attempts, event.cause),
                   "fallback_from": event.from_provider, "fallback_to": event.to_provider},
        )
        if self.checkpointer is not None:
            try:
                self.checkpointer.flush()
                self._mark("active", error=event.cause)
            except StaleWriterError as exc:
                raise self._taken_over(exc) from exc
        if self.hooks.on_fallback is not None:
            self.hooks.on_fallback(event, self.recovery_id)

    def heartbeat(self) -> None:
        """Called after every read of the body: flush due text, or touch the record.

        A stream that only thinks, or only sends pings, still updates its record
        every checkpoint interval (and its lease is renewed in the background
        besides, see :mod:`streamrecover.storage.lease`). Raises
        StreamInterrupted if another process took the record over.
        """
        if self.checkpointer is not None:
            try:
                self.checkpointer.flush_if_due()
            except StaleWriterError as exc:
                raise self._taken_over(exc) from exc

    @property
    def storage_error(self) -> StorageError | None:
        """The last storage failure the stream met (it went on regardless), or None."""
        checkpointer = self.checkpointer
        if checkpointer is None:
            return None
        lease = checkpointer.lease
        return checkpointer.storage_error or (lease.error if lease is not None else None)

    def _taken_over(self, error: StaleWriterError) -> StreamInterrupted:
        """The stream stops: its record belongs to another process now."""
        if self.checkpointer is not None:
            self.checkpointer.end()
        session = self.session
        interrupted = StreamInterrupted(
            f"stream {self.recovery_id} stopped: another process took its record over "
            f"(claim epoch {error.current}, this stream held epoch {error.epoch}) and "
            "owns it now; this process writes nothing more to it",
            cause=error,
            committed_text=session.text,
            recovery_id=self.recovery_id,
            recoverable=False,
            attempts=session.attempts,
        )
        logger.error("%s", interrupted)
        return interrupted

    def closed(self) -> None:
        """The stream was closed: stop renewing its lease (whatever state it ended in)."""
        if self.checkpointer is not None:
            self.checkpointer.end()

    def abandoned(self) -> None:
        """The consumer dropped the stream without closing it: mark it cancelled.

        Called by the stream's finalizer when it is garbage-collected; never
        raises (an exception in a finalizer is only printed, and would say
        nothing useful).
        """
        try:
            session = self.session
            if session.state not in (SessionState.DONE, SessionState.GAVE_UP,
                                     SessionState.ERROR):
                session.cancel()
                decision = session.decision()
                if isinstance(decision, GiveUp):
                    self.gave_up(decision.error)
            self.closed()
        except BaseException:
            logger.debug("stream %s: marking it cancelled failed", self.recovery_id,
                         exc_info=True)

    def _safe(self, error: BaseException) -> str:
        """The error's text for a log line: no credential, even one a server echoed."""
        return redact(str(error), secrets=getattr(self.session.provider, "secrets", ()))

    def _on_retry(self, event: Retrying) -> None:
        logger.warning(
            "stream %s: attempt %d failed (%s: %s); %s in %.3f s",
            self.recovery_id,
            event.attempt - 1,
            type(event.cause).__name__,
            self._safe(event.cause),
            "resuming" if event.resume else "retrying",
            event.delay,
            extra=self._log_fields(event.attempt - 1, event.cause),
        )
        if self.checkpointer is not None:
            # Still "active": the stream goes on in this process. A crash during
            # the wait leaves it active, which list_recoverable counts too.
            try:
                self.checkpointer.flush()
                self._mark("active", error=event.cause)
            except StaleWriterError as exc:
                raise self._taken_over(exc) from exc
        if self.hooks.on_retry is not None:
            self.hooks.on_retry(event, self.recovery_id)

    def gave_up(self, error: StreamInterrupted) -> None:
        """The session gave up: record why, call the hook, log."""
        error.recovery_id = self.recovery_id
        cancelled = error.cause is None
        if not cancelled:
            logger.error(
                "stream %s: giving up: %s",
                self.recovery_id,
                self._safe(error),
                extra=self._log_fields(self.session.attempts, error.cause),
            )
        checkpointer = self.checkpointer
        if checkpointer is not None and checkpointer.lost is None:
            try:
                checkpointer.flush()
                if cancelled:
                    self._mark("cancelled")
                else:
                    self._mark(
                        "interrupted" if error.recoverable else "failed",
                        error=error.cause,
                    )
            except StaleWriterError:
                # Taken over while it gave up: the record is the other writer's.
                logger.warning("stream %s: gave up after another process took its record "
                               "over; its status is left to that process", self.recovery_id)
            checkpointer.end()
        if self.telemetry is not None:
            self.telemetry.finish(self.session, error)
        if not cancelled and self.hooks.on_give_up is not None:
            self.hooks.on_give_up(error, self.recovery_id)

    def _log_fields(self, attempt: int, cause: BaseException | None) -> dict[str, object]:
        """Structured fields of a log record (``extra=``): ids and names, never a message."""
        return {
            "recovery_id": self.recovery_id,
            "attempt": attempt,
            "cause": None if cause is None else type(cause).__name__,
        }

    def _mark(self, status: Status, *, error: BaseException | None = None) -> None:
        from streamrecover.storage.record import RecordedError

        assert self.checkpointer is not None
        session = self.session
        point = session.resume_point
        changes: ProgressChanges = {
            "attempts": session.attempts,
            "resumes": session.resumes,
            "usage": _usage_dict(session.usage),
            "last_event_id": point.last_event_id if point else "",
            "sequence_number": point.sequence_number if point else None,
            "response_id": point.response_id if point else "",
        }
        if self.providers:
            changes["providers"] = self.providers
        self.checkpointer.mark(
            status,
            error=None
            if error is None
            else RecordedError.from_exception(error, recoverable=is_recoverable(error)),
            **changes,
        )


def _usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cached_tokens": usage.cached_tokens,
    }
