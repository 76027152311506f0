"""The fallback runtime: when a stream's provider gives up, carry the answer on to the next.

A :class:`FallbackChain` belongs to one stream. It is built when the stream
starts, and translates the request for every fallback then, so that a request a
fallback could not carry fails at once (``UntranslatableError``, a
``UsageError`` naming the field), not in the middle of an outage. When the
session of the provider in use gives up, the stream asks :meth:`take_over`:

* a final error the next provider would hit too (invalid request,
  authentication, context length, cancelled, the deadline...; see
  :func:`~streamrecover.core.fallback.fallback_verdict`) does not fall back:
  the stream raises it as it is;
* otherwise the next fallback gets a new :class:`RecoverySession` on its own
  provider, with its own retry policy. If no text was delivered, its first
  request is the original request, translated; if some was, the session starts
  from the committed text, so its first request is a resume built with the
  fallback's own prefill rules and strategy, and stitched like any resume
  (structured output restarts, with a ``Rewind`` to 0). A half-streamed tool
  call was never delivered (tool calls are held until the answer completes)
  and is regenerated whole; reasoning delivered with no text after it is
  rewound (``Rewind(reasoning_to=0)``) and regenerated;
* when no fallback is left, :class:`FallbacksExhausted` names every
  provider's cause.

Each take-over yields a :class:`~streamrecover.core.events.FellBack` event, and
adds a :class:`~streamrecover.storage.contribution.Contribution` to
:attr:`FallbackChain.providers` (stored in the record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streamrecover.core.errors import StreamInterrupted, UsageError
from streamrecover.core.events import Event, FellBack, Rewind, Usage
from streamrecover.core.fallback import FallbacksExhausted, fallback_verdict
from streamrecover.core.redact import redact
from streamrecover.fallback import Fallback
from streamrecover.storage.contribution import Contribution

if TYPE_CHECKING:
    from streamrecover.core.policy import RetryBudget, RetryPolicy
    from streamrecover.core.session import RecoverySession
    from streamrecover.providers.base import Provider

__all__ = ["FallbackChain", "PreparedFallback", "SessionFactory", "Takeover"]

#: Builds the session of one provider: ``(provider, body, policy, committed_text, budget)``.
SessionFactory = Callable[
    ["Provider", "dict[str, Any]", "RetryPolicy | None", str, "RetryBudget | None"],
    "RecoverySession",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedFallback:
    """A fallback with the request it sends, translated when the stream started."""

    fallback: Fallback
    body: dict[str, Any]
    budget: RetryBudget | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Takeover:
    """What :meth:`FallbackChain.take_over` hands the stream: the new session and events.

    ``events`` go to the consumer before the new session's first request
    (the ``FellBack`` event, and a ``Rewind`` of delivered reasoning if any).
    """

    session: RecoverySession
    events: list[Event]
    fallback: Fallback
    timeouts: Any = None


def check_fallbacks(fallbacks: object) -> tuple[Fallback, ...]:
    """Validate a ``fallbacks=`` argument: a sequence of :class:`Fallback`.

    Raises UsageError for anything else.
    """
    if fallbacks is None:
        return ()
    if isinstance(fallbacks, Fallback) or not isinstance(fallbacks, Sequence) or isinstance(
        fallbacks, str | bytes
    ):
        raise UsageError("fallbacks must be a list of Fallback(...)")
    for item in fallbacks:
        if not isinstance(item, Fallback):
            raise UsageError(f"fallbacks must hold Fallback objects, got {type(item).__name__}")
    return tuple(fallbacks)


def prepare_fallbacks(
    fallbacks: Sequence[Fallback],
    body: dict[str, Any],
    source: str,
    *,
    budget_for: Callable[[Fallback], RetryBudget | None],
) -> list[PreparedFallback]:
    """Translate ``body`` (in ``source``'s format) for every fallback, and check it can be sent.

    Raises:
        UntranslatableError: a field has no faithful equivalent in a fallback's
            format (the message names the field and the fallback).
        UsageError: a fallback's provider refuses the translated body.
    """
    prepared = []
    for fallback in fallbacks:
        translated = fallback.request_body(body, source)
        try:
            fallback.provider.build_request(translated)
        except UsageError as exc:
            raise UsageError(f"{fallback!r} cannot send this request: {exc}") from exc
        prepared.append(
            PreparedFallback(fallback=fallback, body=translated, budget=budget_for(fallback))
        )
    return prepared


class FallbackChain:
    """The fallbacks of one stream not tried yet, and every provider that served it.

    Args:
        prepared: the fallbacks, in order, with their translated requests.
        provider: the provider the stream starts on.
        model: its model.
        make_session: builds a session on a fallback (the client's settings).
        timeouts_for: ``(body, provider) -> Timeouts`` of a fallback's stream.
        providers: who served the stream before (a stream resumed from storage).
    """

    def __init__(
        self,
        prepared: Sequence[PreparedFallback],
        *,
        provider: str,
        model: str,
        base_url: str = "",
        make_session: SessionFactory,
        timeouts_for: Callable[[Any, Any], Any] | None = None,
        providers: Sequence[Contribution] = (),
    ) -> None:
        self._remaining = list(prepared)
        self._make_session = make_session
        self._timeouts_for = timeouts_for
        #: Every provider that served the stream, the current one last.
        self.providers: list[Contribution] = list(providers) or [
            Contribution(provider=provider, model=model, base_url=base_url)
        ]
        #: ``(provider, model, error)`` of every provider that gave up.
        self.failures: list[tuple[str, str, StreamInterrupted]] = []
        # Counters of the sessions left behind (a fallback's policy starts afresh).
        self.resumes = 0
        self.overlap_removed = 0
        self.usage = Usage()
        self.surrogates_replaced = 0

    @property
    def fell_back(self) -> bool:
        """Whether a fallback took the stream over."""
        return len(self.providers) > 1

    def take_over(self, session: RecoverySession, error: StreamInterrupted) -> Takeover | None:
        """The provider in use gave up with ``error``: hand the stream to the next fallback.

        Returns None when the error is final for any provider (the stream
        raises ``error``), a :class:`Takeover` otherwise.

        Raises:
            FallbacksExhausted: no fallback is left; names every provider's cause.
        """
        verdict = fallback_verdict(error)
        current = self.providers[-1]
        if not verdict.fall_back:
            if not self.failures or error.reason == "cancelled":
                return None  # final on the first provider: no other is tried
            # A fallback hit a final error: the chain stops, and says what came before.
            self.failures.append((current.provider, current.model, error))
            raise self._exhausted(session, error)
        self.failures.append((current.provider, current.model, error))
        if not self._remaining and len(self.failures) == 1:
            return None  # no fallback configured: the error as it is
        text = session.text
        while True:
            if not self._remaining:
                raise self._exhausted(session, self.failures[-1][2])
            chosen = self._remaining.pop(0)
            try:
                successor = self._make_session(
                    chosen.fallback.provider, chosen.body, chosen.fallback.retry, text,
                    chosen.budget,
                )
                break
            except UsageError as exc:
                # Its resume request cannot be built for this partial answer (the
                # session plans it at once): the next fallback may do better.
                self.failures.append((chosen.fallback.provider.name, chosen.fallback.model,
                                      StreamInterrupted(
                                          f"cannot build the resume request: {exc}",
                                          cause=exc, committed_text=text,
                                          recoverable=error.recoverable,
                                          attempts=session.attempts,
                                          reason="resume_unbuildable")))
        fallback = chosen.fallback
        events: list[Event] = [
            FellBack(
                from_provider=current.provider,
                to_provider=fallback.provider.name,
                model=fallback.model,
                cause=error.cause,
                offset=len(text),
            )
        ]
        if session.reasoning_delivered and not text:
            # Thinking cut before any answer text: regenerated whole by the fallback.
            events.append(Rewind(to=0, reasoning_to=0))
        # Numbering goes on across providers; the policy's counters start afresh.
        successor.attempts = session.attempts
        successor.keep_delivered = session.keep_delivered
        self.resumes += session.resumes + (1 if text else 0)
        self.overlap_removed += session.overlap_removed
        self.usage = self.usage + session.usage
        self.surrogates_replaced += session.surrogates_replaced
        self.providers.append(
            Contribution(
                provider=fallback.provider.name,
                model=fallback.model,
                base_url=fallback.provider.base_url,
                offset=len(text),
                cause=_describe(verdict.reason, error, session),
            )
        )
        timeouts = (
            None if self._timeouts_for is None
            else self._timeouts_for(chosen.body, fallback.provider)
        )
        return Takeover(session=successor, events=events, fallback=fallback, timeouts=timeouts)

    def _exhausted(self, session: RecoverySession, last: StreamInterrupted) -> FallbacksExhausted:
        return FallbacksExhausted(
            [(provider, model, _describe_error(error, session))
             for provider, model, error in self.failures],
            cause=last.cause,
            committed_text=session.text,
            recoverable=last.recoverable,
            attempts=session.attempts,
        )


def _describe_error(error: StreamInterrupted, session: RecoverySession) -> str:
    return redact(str(error), secrets=getattr(session.provider, "secrets", ()))


def _describe(reason: str, error: StreamInterrupted, session: RecoverySession) -> str:
    cause = error.cause
    name = type(cause).__name__ if cause is not None else "none"
    text = redact(str(cause), secrets=getattr(session.provider, "secrets", ()))
    return f"{reason}: {name}: {text}"
