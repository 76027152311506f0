"""The telemetry of one logical stream: its span, one child span per attempt, its metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.events import (
    Completed,
    Event,
    FellBack,
    ReasoningDelta,
    Resumed,
    Retrying,
    Rewind,
    TextDelta,
    ToolCallDelta,
)
from streamrecover.core.http import HTTPRequest, redact_url

if TYPE_CHECKING:
    from streamrecover.core.session import Decision, RecoverySession

from streamrecover.integrations._otel_instruments import Instruments

__all__ = ["StreamTelemetry"]

_CHUNKS = (TextDelta, ReasoningDelta, ToolCallDelta)


class StreamTelemetry:
    """The span, attempt spans and measurements of one logical stream.

    Driven by the stream's observer: :meth:`attempt_started`,
    :meth:`response_started`, :meth:`attempt_ended` around each attempt,
    :meth:`observe` with every batch of events, :meth:`finish` once.
    """

    def __init__(
        self,
        *,
        tracer: Any,
        span: Any,
        instruments: Instruments,
        common: dict[str, Any],
        strategy: str,
        capture_content: bool,
    ) -> None:
        self._tracer = tracer
        self.span = span
        self._instruments = instruments
        self._common = common
        self._strategy = strategy
        self._capture = capture_content
        self._attempt: Any = None
        self._started = time.monotonic()
        self._first_issued: float | None = None
        #: True while a first chunk, or the first chunk after a fault, is awaited:
        #: the observer skips :meth:`observe` for plain text while it is False.
        self.watching = True
        self._first_seen = False
        self._fault_at: float | None = None
        self._recovery_strategy = ""
        self._last_cause: BaseException | None = None
        self._finished = False

    @property
    def span_context(self) -> dict[str, str]:
        """The stream span's context, as stored with the record for later links."""
        context = self.span.get_span_context()
        return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}

    # -- attempts ---------------------------------------------------------------

    def attempt_started(self, request: HTTPRequest, attempt: int) -> None:
        """An attempt is about to send ``request`` (attempt 1 is the first)."""
        from opentelemetry import trace

        if self._first_issued is None:
            self._first_issued = time.monotonic()
        url = redact_url(request.url)
        attributes: dict[str, Any] = {"http.request.method": request.method, "url.full": url}
        for name in ("server.address", "server.port"):
            if name in self._common:
                attributes[name] = self._common[name]
        if attempt > 1:
            attributes["http.request.resend_count"] = attempt - 1
        self._attempt = self._tracer.start_span(
            request.method,
            context=trace.set_span_in_context(self.span),
            kind=trace.SpanKind.CLIENT,
            attributes=attributes,
        )

    def response_started(self, status: int) -> None:
        """The attempt's response head arrived with ``status``."""
        if self._attempt is not None:
            self._attempt.set_attribute("http.response.status_code", status)
            if status >= 400:
                self._attempt.set_attribute("error.type", str(status))

    def attempt_ended(self, decision: Decision) -> None:
        """The attempt is over and the session decided what comes next."""
        from streamrecover.core.session import Done, GiveUp

        span, self._attempt = self._attempt, None
        if span is None:
            return
        if not isinstance(decision, Done):
            cause = decision.error.cause if isinstance(decision, GiveUp) else None
            _fail_span(span, cause if cause is not None else self._last_cause)
        span.end()

    # -- events -----------------------------------------------------------------

    def observe(self, events: Sequence[Event]) -> None:
        """See a batch of events before the consumer does."""
        for event in events:
            kind = type(event)
            if kind in _CHUNKS:
                if self.watching:
                    self._chunk()
            elif kind is Retrying:
                self._retrying(event)  # type: ignore[arg-type]
            elif kind is Resumed:
                self._recovery_strategy = event.strategy  # type: ignore[attr-defined]
                self._event("streamrecover.resumed", {"streamrecover.strategy": event.strategy})  # type: ignore[attr-defined]
            elif kind is Rewind:
                self._event("streamrecover.rewind", {"streamrecover.rewind.to": event.to})  # type: ignore[attr-defined]
            elif kind is Completed:
                self.watching = False
            elif kind is FellBack:
                self._fell_back(event)  # type: ignore[arg-type]

    def _fell_back(self, event: FellBack) -> None:
        # On the stream span: the attempt that failed is over, the next one not started.
        attributes: dict[str, Any] = {
            "streamrecover.fallback.from": event.from_provider,
            "streamrecover.fallback.to": event.to_provider,
            "streamrecover.fallback.model": event.model,
            "streamrecover.fallback.offset": event.offset,
        }
        if event.cause is not None:
            attributes["streamrecover.cause"] = _cause_name(event.cause)
        self.span.add_event("streamrecover.fell_back", attributes)
        self.span.set_attribute("streamrecover.fallback.provider", event.to_provider)
        self.span.set_attribute("streamrecover.fallback.model", event.model)
        self.watching = True

    def _chunk(self) -> None:
        now = time.monotonic()
        if not self._first_seen:
            self._first_seen = True
            issued = self._first_issued if self._first_issued is not None else self._started
            self._instruments.first_chunk.record(now - issued, self._common)
        if self._fault_at is not None:
            self._instruments.recovery.record(
                now - self._fault_at,
                {**self._common, "streamrecover.strategy": self._recovery_strategy or "exact"},
            )
            self._fault_at = None
        self.watching = False

    def _retrying(self, event: Retrying) -> None:
        self._last_cause = event.cause
        cause = _cause_name(event.cause)
        self._event(
            "streamrecover.retrying",
            {
                "streamrecover.cause": cause,
                "streamrecover.delay": event.delay,
                "streamrecover.resume": event.resume,
            },
        )
        if event.resume:
            self._instruments.resumes.add(1, {**self._common, "streamrecover.cause": cause})
            self._fault_at = time.monotonic()
            self.watching = True
        else:
            self._instruments.retries.add(1, {**self._common, "streamrecover.cause": cause})

    def _event(self, name: str, attributes: dict[str, Any]) -> None:
        target = self._attempt if self._attempt is not None else self.span
        target.add_event(name, attributes)

    # -- the end ----------------------------------------------------------------

    def finish(self, session: RecoverySession, error: StreamInterrupted | None) -> None:
        """The stream completed (``error`` None), gave up, or was cancelled. Idempotent."""
        if self._finished:
            return
        self._finished = True
        span = self.span
        common = self._common
        attributes: dict[str, Any] = {
            "streamrecover.attempts": session.attempts,
            "streamrecover.resumes": session.resumes,
            "streamrecover.overlap_removed_chars": session.overlap_removed,
        }
        usage = session.usage
        if usage.input_tokens or usage.output_tokens:
            attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
            attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
        if session.finish_reason is not None:
            attributes["gen_ai.response.finish_reasons"] = (session.finish_reason,)
        for name, value in _response_identity(session).items():
            attributes[name] = value
        error_type = None
        outcome = "completed"
        if error is not None:
            if error.cause is None:
                outcome = "cancelled"
            else:
                outcome = "given_up"
                error_type = _cause_name(error.cause)
        attributes["streamrecover.outcome"] = outcome
        if self._capture and session.text:
            attributes["gen_ai.output.messages"] = json.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [{"type": "text", "content": session.text}],
                        "finish_reason": session.finish_reason or "",
                    }
                ]
            )
        span.set_attributes(attributes)
        attempt, self._attempt = self._attempt, None
        if attempt is not None:
            # Cancelled or given up in the middle of an attempt.
            if error is not None and error.cause is not None:
                _fail_span(attempt, error.cause)
            attempt.end()
        metric_attributes = dict(common)
        if "gen_ai.response.model" in attributes:
            metric_attributes["gen_ai.response.model"] = attributes["gen_ai.response.model"]
        if error_type is not None:
            _fail_span(span, error.cause if error is not None else None)
            metric_attributes["error.type"] = error_type
            reason = error.reason if error is not None and error.reason else "unknown"
            self._instruments.given_up.add(
                1, {**common, "streamrecover.give_up_reason": reason, "error.type": error_type}
            )
            if reason == "budget_exhausted":
                self._instruments.budget_refusals.add(1, common)
        elif outcome == "cancelled":
            self._instruments.given_up.add(
                1, {**common, "streamrecover.give_up_reason": "cancelled"}
            )
        instruments = self._instruments
        instruments.duration.record(time.monotonic() - self._started, metric_attributes)
        instruments.attempts.record(session.attempts, common)
        if session.overlap_removed:
            instruments.overlap.add(session.overlap_removed, common)
        if usage.input_tokens or usage.output_tokens:
            instruments.tokens.record(
                usage.input_tokens, {**metric_attributes, "gen_ai.token.type": "input"}
            )
            instruments.tokens.record(
                usage.output_tokens, {**metric_attributes, "gen_ai.token.type": "output"}
            )
        span.end()


def _fail_span(span: Any, cause: BaseException | None) -> None:
    from opentelemetry.trace import Status, StatusCode

    name = _cause_name(cause) if cause is not None else "unknown"
    span.set_attribute("error.type", name)
    # The description is the error's class, not its message: a message may quote
    # what a server echoed back, and span data leaves the process.
    span.set_status(Status(StatusCode.ERROR, name))


def _cause_name(cause: BaseException) -> str:
    """``error.type`` for a fault: the provider's error type when it has one, else the class."""
    provider_type = getattr(cause, "error_type", None)
    if isinstance(provider_type, str) and provider_type:
        return provider_type
    status = getattr(cause, "status", None)
    if isinstance(status, int) and status >= 400:
        return str(status)
    kind = getattr(cause, "kind", None)  # a TransportError says how the connection failed
    if isinstance(kind, str) and kind:
        return f"{type(cause).__qualname__}.{kind}"
    return type(cause).__qualname__


def _response_identity(session: RecoverySession) -> dict[str, str]:
    """``gen_ai.response.id`` and ``.model`` when the provider's stream said them."""
    found: dict[str, str] = {}
    parser = getattr(session, "_parser", None)
    response_id = getattr(parser, "response_id", "") or ""
    point = session.resume_point
    if not response_id and point is not None:
        response_id = point.response_id
    if response_id:
        found["gen_ai.response.id"] = response_id
    model = getattr(parser, "response_model", "") or ""
    if model:
        found["gen_ai.response.model"] = model
    return found
