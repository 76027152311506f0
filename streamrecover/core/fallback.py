"""When a stream that gave up on one provider may continue on another.

A fallback helps when the fault belongs to the provider or the model (it stays
overloaded or down, the retry budget refuses more attempts, the model is
gone), never when it belongs to the request (invalid, too long for the
context, unauthenticated): the next provider would refuse that as well, and
the caller must see the real error at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streamrecover.core.classify import classify
from streamrecover.core.errors import (
    HTTPStatusError,
    ProviderStreamError,
    StreamInterrupted,
)

__all__ = ["FALLBACK_REASONS", "FallbackVerdict", "FallbacksExhausted", "fallback_verdict"]

#: Policy give-up reasons after which another provider may succeed.
FALLBACK_REASONS = frozenset(
    {"retries_exhausted", "resumes_exhausted", "server_delay_too_long", "budget_exhausted"}
)

#: Error types and codes (lower case) that name a missing model.
_MODEL_MISSING = frozenset({"not_found_error", "model_not_found", "not_found"})


@dataclass(frozen=True, slots=True, kw_only=True)
class FallbackVerdict:
    """``fall_back``: try the next provider; ``reason``: the rule, short and stable."""

    fall_back: bool
    reason: str


def _model_missing(cause: BaseException | None) -> bool:
    if isinstance(cause, HTTPStatusError):
        return cause.status == 404 or (cause.error_type or "").lower() in _MODEL_MISSING
    if isinstance(cause, ProviderStreamError):
        names = {(cause.error_type or "").lower(), str(cause.code or "").lower()}
        return cause.status == 404 or bool(names & _MODEL_MISSING)
    return False


def fallback_verdict(interrupted: StreamInterrupted) -> FallbackVerdict:
    """Decide whether the stream that raised ``interrupted`` goes on to a fallback.

    Falls back after recovery ran out on faults that were worth retrying
    (:data:`FALLBACK_REASONS`), and on a missing model (HTTP 404,
    ``not_found_error``, ``model_not_found``). Never on a cancelled stream,
    a total deadline reached, a resume that could not be built, or a final
    verdict about the request itself (400, 401, 403, 413, 422, context length).
    """
    reason = interrupted.reason
    if reason in FALLBACK_REASONS:
        return FallbackVerdict(fall_back=True, reason=reason)
    if reason == "not_retryable" and _model_missing(interrupted.cause):
        return FallbackVerdict(fall_back=True, reason="model_not_found")
    if reason == "not_retryable" and interrupted.cause is not None:
        verdict = classify(interrupted.cause)
        return FallbackVerdict(fall_back=False, reason=verdict.reason)
    return FallbackVerdict(fall_back=False, reason=reason or "final")


class FallbacksExhausted(StreamInterrupted):
    """Every provider of a stream gave up: the primary and each fallback tried.

    ``failures`` holds ``(provider, model, why)`` for each, in order (``why``
    is that provider's own ``StreamInterrupted`` message, redacted); the
    message names them all. ``cause`` is the last provider's last fault,
    ``recoverable`` whether a later ``Client.resume`` may succeed, ``reason``
    is ``"fallbacks_exhausted"``.
    """

    def __init__(
        self,
        failures: Sequence[tuple[str, str, str]],
        *,
        cause: BaseException | None,
        committed_text: str = "",
        recovery_id: str | None = None,
        recoverable: bool = False,
        attempts: int = 0,
    ) -> None:
        named = "; ".join(f"{provider} ({model}): {why}" for provider, model, why in failures)
        super().__init__(
            f"every provider gave up after {attempts} attempt(s): {named}",
            cause=cause,
            committed_text=committed_text,
            recovery_id=recovery_id,
            recoverable=recoverable,
            attempts=attempts,
            reason="fallbacks_exhausted",
        )
        self.failures = tuple(failures)
