"""Which give-ups continue on a fallback provider, and which stay final."""

from __future__ import annotations

import pytest

from streamrecover.core.errors import HTTPStatusError, ProviderStreamError, StreamInterrupted
from streamrecover.core.fallback import fallback_verdict


def _interrupted(reason: str, cause: BaseException | None) -> StreamInterrupted:
    return StreamInterrupted("gave up", cause=cause, reason=reason)


@pytest.mark.parametrize(
    "reason",
    ["retries_exhausted", "resumes_exhausted", "server_delay_too_long", "budget_exhausted"],
)
def test_exhausted_recovery_falls_back(reason: str) -> None:
    verdict = fallback_verdict(_interrupted(reason, HTTPStatusError(529, provider="anthropic")))
    assert verdict.fall_back
    assert verdict.reason == reason


def test_missing_model_falls_back() -> None:
    cause = HTTPStatusError(404, provider="openai", error_type="model_not_found")
    assert fallback_verdict(_interrupted("not_retryable", cause)).reason == "model_not_found"
    event = ProviderStreamError("gone", provider="anthropic", error_type="not_found_error")
    assert fallback_verdict(_interrupted("not_retryable", event)).fall_back


@pytest.mark.parametrize("status", [400, 401, 403, 413, 422])
def test_final_errors_about_the_request_do_not_fall_back(status: int) -> None:
    verdict = fallback_verdict(_interrupted("not_retryable", HTTPStatusError(status)))
    assert not verdict.fall_back


def test_context_length_does_not_fall_back() -> None:
    cause = HTTPStatusError(
        400,
        provider="openai",
        error_type="invalid_request_error",
        body='{"error": {"code": "context_length_exceeded"}}',
    )
    verdict = fallback_verdict(_interrupted("not_retryable", cause))
    assert verdict == type(verdict)(fall_back=False, reason="context_length_exceeded")


@pytest.mark.parametrize("reason", ["cancelled", "deadline", "resume_unbuildable", ""])
def test_cancel_deadline_and_unbuildable_resume_do_not_fall_back(reason: str) -> None:
    assert not fallback_verdict(_interrupted(reason, None)).fall_back
