"""RecoverySession: the sans-IO state machine that keeps one stream alive.

Bytes and facts go in, events and decisions come out; the session never touches
the network, never sleeps and never reads a clock it was not given. A transport
adapter drives it with a short loop::

    session = RecoverySession(provider, body, policy=policy, clock=time.monotonic)
    while True:
        request = session.next_request()
        try:
            response = transport.open(request)
            session.response_started(response.status, response.headers)
            for data in response.iter_bytes():
                for event in session.receive_data(data):
                    deliver(event)
                if session.state is SessionState.DONE:
                    break
            else:
                for event in session.receive_data(b""):
                    deliver(event)
        except TransportError as fault:
            session.connection_failed(fault)
        for event in session.take_events():
            deliver(event)
        decision = session.decision()
        if isinstance(decision, Done):
            break
        if isinstance(decision, GiveUp):
            raise decision.error
        sleep(decision.delay)

Calling a method in a state that does not allow it raises :class:`UsageError`
and leaves the session in the ``ERROR`` state; any other exception that escapes
is a bug in streamrecover.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from streamrecover.core.classify import Verdict, classify
from streamrecover.core.errors import (
    ProtocolError,
    ProviderProtocolError,
    StreamInterrupted,
    UsageError,
)
from streamrecover.core.events import (
    Event,
    Resumed,
    Retrying,
    ToolCallDelta,
    Usage,
)
from streamrecover.core.http import HTTPRequest
from streamrecover.core.intake import NOTHING_QUEUED, BodyIntake
from streamrecover.core.policy import RetryBudget, RetryPolicy
from streamrecover.core.progress import ProgressTracker
from streamrecover.core.redact import redact_exception
from streamrecover.core.resume import STRATEGIES, ResumePlan, Strategy, plan_resume
from streamrecover.core.session_state import (
    TARGETS,
    TRANSITIONS,
    Decision,
    Done,
    GiveUp,
    Retry,
    SessionState,
)
from streamrecover.core.sse import ServerSentEvent, SSEDecoder
from streamrecover.core.stitch import Stitcher
from streamrecover.core.surrogates import SurrogateJoiner

if TYPE_CHECKING:  # providers depend on core, never the other way at run time
    from streamrecover.providers.base import Provider, ResumePoint, StreamParser

__all__ = ["Decision", "Done", "GiveUp", "RecoverySession", "Retry", "SessionState"]


class RecoverySession(BodyIntake):
    """Drive one logical stream across as many attempts as recovery needs.

    Args:
        provider: the wire format of the stream.
        body: the caller's JSON request body (not modified).
        policy: retry limits, backoff and deadline.
        strategy: how a half-delivered answer is resumed (see ``core/resume.py``).
        rng: randomness for backoff jitter (inject a seeded one in tests).
        clock: monotonic seconds, for the deadline; by default time stands still.
        wall_clock: epoch seconds, only to read HTTP-date ``Retry-After`` values.
        budget: a retry budget shared with other sessions of the same client.
        committed_text: text already delivered by an earlier process (resume from storage).
        resume_point: where that earlier stream stood, for native resume.
        summarizer: condenses a long partial answer for the ``summarize`` strategy.
        max_line_size: the SSE decoder's cap on one line and one event.
        progress_timeout: seconds an attempt may go without a content event
            (keep-alives do not count; see ``core/progress.py``), or None for the
            provider's default (``Provider.default_progress_timeout``);
            ``math.inf`` turns it off. Measured with ``clock``.
    """

    def __init__(
        self,
        provider: Provider,
        body: Mapping[str, Any],
        *,
        policy: RetryPolicy | None = None,
        strategy: Strategy = "exact",
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        budget: RetryBudget | None = None,
        committed_text: str = "",
        resume_point: ResumePoint | None = None,
        summarizer: Callable[[str], str] | None = None,
        max_line_size: int = 16 * 1024 * 1024,
        progress_timeout: float | None = None,
    ) -> None:
        if strategy not in STRATEGIES:
            raise UsageError(
                f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}"
            )
        # A body the provider cannot send is refused here, before any state exists.
        provider.build_request(body)
        self.provider = provider
        self.body: Mapping[str, Any] = body
        self.policy = policy if policy is not None else RetryPolicy()
        self.strategy: Strategy = strategy
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock if clock is not None else _still_clock
        self._wall_clock = wall_clock
        self._budget = budget
        if progress_timeout is None:
            default = getattr(provider, "default_progress_timeout", None)
            progress_timeout = default(body) if callable(default) else math.inf
        self._progress = ProgressTracker(progress_timeout, budget=budget, provider=provider.name)
        #: Content events that reached the consumer (or were thinking): progress.
        self._content_events = 0
        self._summarizer = summarizer
        self._max_line_size = max_line_size
        #: Literal credentials of the provider, cut out of every fault and message.
        self._secrets: tuple[str, ...] = tuple(getattr(provider, "secrets", ()))
        self._started_at = self._clock()

        self.state = SessionState.IDLE
        #: Requests sent so far (the first attempt is 1).
        self.attempts = 0
        #: Failed attempts before any text reached the consumer.
        self.retries = 0
        #: Continuations of a half-delivered answer.
        self.resumes = 0
        #: Characters of continuation text dropped because they repeated delivered text.
        self.overlap_removed = 0
        # Surrogate pairs split across deltas are joined; lone halves become U+FFFD.
        self._surrogates = SurrogateJoiner()
        # What the last attempt's protocol error said (None: it ended otherwise).
        self._last_protocol_error: tuple[str, str] | None = None
        #: Total seconds of backoff the session asked for.
        self.delay_total = 0.0
        self.last_fault: BaseException | None = None
        self.last_verdict: Verdict | None = None
        self.finish_reason: str | None = None
        self.strategy_used: Strategy | None = None

        self._text_parts: list[str] = [committed_text] if committed_text else []
        self._text_length = len(committed_text)
        self._reasoning_length = 0
        # Something reached the consumer: a further failure needs a resume, not a retry.
        self._delivered = bool(committed_text)
        self._usage_total = Usage()
        self._attempt_usage: Usage | None = None
        self._pending_tools: list[ToolCallDelta] = []
        self._outbox: list[Event] = []
        self._decision: Decision | None = None
        #: True: a continuation may never rewind the delivered text (trailing
        #: whitespace aside); one that would fails its attempt with
        #: ContinuationDivergedError and the answer is resumed again. For consumers
        #: that cannot take text back (the SDK transports).
        self.keep_delivered = False

        self._decoder: SSEDecoder | None = None
        # SSE events of the last queue_data() not yet taken by next_events().
        self._queue: list[ServerSentEvent] = NOTHING_QUEUED
        self._queue_position = 0
        self._queue_open = False  # next_events() has the end of the data still to report
        self._queue_eof = False
        # The decoder stands between events (see BodyIntake.receive_text_frame).
        self._at_boundary = False
        self._queue_blank = False
        self._lane_event = ""
        self._text_lane = False
        self._content_before = 0
        self._parser: StreamParser | None = None
        self._stitcher: Stitcher | None = None
        self._error_status = 0
        self._error_headers: tuple[tuple[str, str], ...] = ()
        self._error_body: list[bytes] = []
        self._error_size = 0
        self._unexpected_type: str | None = None
        self._point: ResumePoint | None = resume_point
        self._plan: ResumePlan | None = None
        if committed_text:
            # Resuming a stored stream: the first request is already a continuation,
            # and a strategy that rolls back does so before it (Rewind positions
            # always count from the start of the whole answer).
            self._plan = self._plan_resume()
            if self._plan.keep < self._text_length:
                self._rewind(self._plan.keep)
                self._delivered = self._plan.keep > 0

    # -- what the caller reads --------------------------------------------------

    @property
    def text_lane(self) -> bool:
        """Whether reads of this attempt may take :meth:`receive_text_frame` (its parser has
        a text lane); a driver that knows it has none spares the call."""
        return self._text_lane

    @property
    def surrogates_replaced(self) -> int:
        """Lone UTF-16 surrogates in the provider's text, delivered as U+FFFD."""
        return self._surrogates.replaced

    @property
    def text(self) -> str:
        """The committed text: what the consumer holds after applying every Rewind."""
        if len(self._text_parts) > 1:
            self._text_parts = ["".join(self._text_parts)]
        return self._text_parts[0] if self._text_parts else ""

    @property
    def usage(self) -> Usage:
        """Token usage summed across every attempt so far."""
        if self._attempt_usage is None:
            return self._usage_total
        return self._usage_total + self._attempt_usage

    @property
    def reasoning_delivered(self) -> int:
        """Characters of reasoning the consumer holds (after every Rewind)."""
        return self._reasoning_length

    @property
    def resume_point(self) -> ResumePoint | None:
        """Where the current or last stream stood, for native resume."""
        if self._parser is not None:
            return self._parser.resume_point
        return self._point

    def take_events(self) -> list[Event]:
        """Return and forget the events produced since the last call."""
        events, self._outbox = self._outbox, []
        return events

    def decision(self) -> Decision:
        """What to do now that the attempt ended: :class:`Done`, :class:`Retry` or :class:`GiveUp`.

        Raises:
            UsageError: the attempt has not ended yet.
        """
        if self._decision is None:
            raise UsageError(f"no decision while the session is {self.state.value}")
        return self._decision

    # -- driver calls -----------------------------------------------------------

    def next_request(self) -> HTTPRequest:
        """Return the request of the next attempt: the first one, a retry or a resume.

        Raises:
            UsageError: called while an attempt is under way or after the end.
        """
        self._enter("next_request")
        self.attempts += 1
        self._decision = None
        self._decoder = SSEDecoder(
            max_line_size=self._max_line_size, max_event_size=self._max_line_size
        )
        self._error_body = []
        self._error_size = 0
        self._unexpected_type = None
        self._drop_queue()
        self._queue_open = False
        self._at_boundary = False
        plan = self._plan
        self._plan = None
        if plan is None:
            request = self.provider.build_request(self.body)
            self._parser = self.provider.new_parser()
        else:
            request = plan.request
            self.strategy_used = plan.strategy
            # Native resume goes on with the same response: the new parser carries
            # the old one's state (response id, open tool calls) over.
            previous = self._parser if plan.reuse_parser else None
            self._parser = self.provider.new_parser(resume_from=previous)
            if plan.stitch:
                self._stitcher = Stitcher(self.text, seam_whitespace=plan.seam_whitespace)
            self._outbox.append(Resumed(strategy=plan.strategy, attempt=self.attempts))
        self._attempt_usage = None
        # The event type whose events may take the text lane (StreamParser.lane_feed),
        # and whether whole reads may (receive_text_frame).
        self._lane_event = self._parser.lane_event
        self._text_lane = bool(self._parser.lane_prefix)
        self._queue_blank = False
        self._leave("next_request", SessionState.SENT)
        return request

    def response_started(self, status: int, headers: Sequence[tuple[str, str]]) -> None:
        """Report the status line and headers of the response.

        A non-2xx status, or a 2xx that is not an event stream, switches the session
        to reading the error body: feed it with ``receive_data`` as usual.
        """
        self._enter("response_started")
        self._error_status = status
        self._error_headers = tuple((name.lower(), value) for name, value in headers)
        if 200 <= status < 300:
            content_type = ""
            for name, value in self._error_headers:
                if name == "content-type":
                    content_type = value
            media = content_type.split(";", 1)[0].strip().lower()
            if media and media != "text/event-stream":
                self._unexpected_type = content_type
                self._leave("response_started", SessionState.ERROR_BODY)
                return
            self._progress.start(self._clock())
            self._leave("response_started", SessionState.STREAMING)
        else:
            self._leave("response_started", SessionState.ERROR_BODY)

    def connection_failed(self, fault: BaseException) -> None:
        """Report that the attempt failed outside the body (connect, reset, timeout...)."""
        self._enter("connection_failed")
        self._fail(fault)

    def cancel(self) -> None:
        """The consumer gave up on the stream. The session ends; no retry follows."""
        self._enter("cancel")
        self._give_up(
            StreamInterrupted(
                "the stream was cancelled",
                cause=None,
                committed_text=self.text,
                recoverable=bool(self.text),
                attempts=self.attempts,
                reason="cancelled",
            ),
            target="cancel",
        )

    # -- internals ----------------------------------------------------------------

    def _enter(self, call: str) -> None:
        if self.state not in TRANSITIONS[call]:
            previous = self.state
            self.state = SessionState.ERROR
            raise UsageError(f"{call}() is not allowed while the session is {previous.value}")

    def _leave(self, call: str, target: SessionState) -> None:
        assert target in TARGETS[call], (call, target)
        self.state = target

    def _fail(self, fault: BaseException) -> None:
        """An attempt ended with ``fault``: decide, and queue what the consumer must see."""
        redact_exception(fault, secrets=self._secrets)
        self._drop_queue()
        self.last_fault = fault
        self._surrogates.reset()  # half a character from a failed attempt is regenerated
        if self._stitcher is not None:
            # Whatever the stitcher held is still a candidate overlap; the next
            # continuation starts from the committed text, so it is dropped.
            self.overlap_removed += self._stitcher.overlap
            self._stitcher = None
        if self._attempt_usage is not None:
            self._usage_total = self._usage_total + self._attempt_usage
            self._attempt_usage = None
        if self._parser is not None:
            self._point = self._parser.resume_point
        now = self._wall_clock() if self._wall_clock is not None else None
        verdict = classify(fault, now=now)
        self.last_verdict = verdict
        protocol_error = _protocol_error_identity(fault)
        repeated = protocol_error is not None and protocol_error == self._last_protocol_error
        self._last_protocol_error = protocol_error
        if repeated:
            # The same malformed event again on the next attempt: the server sends
            # what this parser cannot read, and every further attempt would too.
            self._give_up(
                StreamInterrupted(
                    f"stream failed after {self.attempts} attempt(s): "
                    f"repeated_protocol_error: {fault}",
                    cause=fault,
                    committed_text=self.text,
                    recoverable=False,
                    attempts=self.attempts,
                    reason="repeated_protocol_error",
                ),
                target="connection_failed",
            )
            return
        outcome = self.policy.decide(
            verdict=verdict,
            retries_used=self.retries,
            resumes_used=self.resumes,
            delivered=self._delivered,
            rng=self._rng,
            now=self._clock(),
            started_at=self._started_at,
            budget=self._budget,
        )
        if not outcome.retry:
            self._give_up(
                StreamInterrupted(
                    f"stream failed after {self.attempts} attempt(s): {outcome.reason}: {fault}",
                    cause=fault,
                    committed_text=self.text,
                    recoverable=verdict.retryable,
                    attempts=self.attempts,
                    reason=outcome.reason,
                ),
                target="connection_failed",
            )
            return
        resume = self._delivered
        if resume:
            try:
                self._plan = self._plan_resume()
            except UsageError as exc:
                # The body streamed once but cannot be continued (say, a string
                # where the format needs a list): nothing more can be done.
                self._give_up(
                    StreamInterrupted(
                        f"cannot build the resume request: {exc}",
                        cause=fault,
                        committed_text=self.text,
                        recoverable=False,
                        attempts=self.attempts,
                        reason="resume_unbuildable",
                    ),
                    target="connection_failed",
                )
                return
            self.resumes += 1
            if not self._plan.reuse_parser:
                # A half-streamed tool call is never delivered; a regenerated answer
                # streams it again whole. (Native resume continues the same one.)
                self._pending_tools = []
            # Native resume goes on with the same response: nothing is rolled back.
            regenerates = not self._plan.reuse_parser
            if regenerates and (
                self._plan.keep < self._text_length
                or (self._plan.keep == 0 and self._reasoning_length)
            ):
                self._rewind(self._plan.keep, reasoning=self._plan.keep == 0)
            if regenerates and self._plan.keep == 0:
                # Nothing is left on the consumer's side: the answer starts over.
                self._delivered = False
        else:
            self.retries += 1
            self._plan = None
            self._pending_tools = []
        self.delay_total += outcome.delay
        self._outbox.append(
            Retrying(attempt=self.attempts + 1, delay=outcome.delay, cause=fault, resume=resume)
        )
        self._decision = Retry(delay=outcome.delay, resume=resume)
        self.state = SessionState.IDLE

    def _plan_resume(self) -> ResumePlan:
        # Providers report output tokens only at the end of a response, so the
        # tokens already spent are estimated from the committed text.
        return plan_resume(
            self.provider,
            self.body,
            strategy=self.strategy,
            committed_text=self.text,
            point=self._point if self._point is not None else _empty_point(),
            summarizer=self._summarizer,
        )

    def _give_up(self, error: StreamInterrupted, *, target: str) -> None:
        self._drop_queue()
        self._pending_tools = []
        self._decision = GiveUp(error=error)
        self._leave(target, SessionState.GAVE_UP)


def _protocol_error_identity(fault: BaseException) -> tuple[str, str] | None:
    """What makes two protocol errors "the same" across attempts, or None for other faults.

    A provider protocol error is identified by its message without the excerpt
    of the event (ids and timestamps in it differ from one attempt to the next)
    but with the event's type.
    """
    if not isinstance(fault, ProtocolError):
        return None
    message = str(fault)
    if isinstance(fault, ProviderProtocolError) and fault.event:
        message = message.removesuffix(f" (event: {fault.event})")
        return type(fault).__name__, f"{message} [{fault.event.partition(':')[0]}]"
    return type(fault).__name__, message


def _still_clock() -> float:
    return 0.0


def _empty_point() -> ResumePoint:
    from streamrecover.providers.base import ResumePoint

    return ResumePoint()
