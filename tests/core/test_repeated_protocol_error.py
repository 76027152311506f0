"""A protocol error that repeats identically on the next attempt is final (issue 13).

A Gemini stream delivers a signature-only reasoning delta (so the failure comes
after delivery: a resume), then a ``functionCall`` this parser cannot read.
Without the rule, every resume the policy allows is spent on the same failure.
"""

from __future__ import annotations

import json

from streamrecover.core.errors import ProviderProtocolError
from streamrecover.core.policy import RetryPolicy
from streamrecover.core.session import Done, GiveUp, RecoverySession, Retry, SessionState
from streamrecover.providers import get_provider

BODY = {"model": "gemini-2.0-flash", "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
SSE = [("content-type", "text/event-stream")]
POLICY = RetryPolicy(max_retries=5, max_resumes=5, backoff_base=0.001, backoff_cap=0.001)


def frame(payload: object) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def part_frame(part: dict[str, object], attempt: int, finish: str = "") -> bytes:
    candidate: dict[str, object] = {"content": {"role": "model", "parts": [part]}}
    if finish:
        candidate["finishReason"] = finish
    return frame({"candidates": [candidate], "responseId": f"resp-{attempt}"})


def broken(attempt: int, field: str = "args") -> bytes:
    # A signature-only part, then a functionCall with no name.
    return part_frame({"thoughtSignature": f"sig{attempt}"}, attempt) + part_frame(
        {"functionCall": {field: {}}}, attempt
    )


def good(attempt: int) -> bytes:
    return part_frame({"text": "Hello."}, attempt, finish="STOP")


def run(bodies: list[bytes]) -> tuple[RecoverySession, object]:
    session = RecoverySession(get_provider("gemini"), BODY, policy=POLICY)
    decision: object = None
    for body in bodies:
        session.next_request()
        session.response_started(200, SSE)
        session.receive_data(body)
        if session.state is SessionState.STREAMING:
            session.receive_data(b"")
        session.take_events()
        decision = session.decision()
        if not isinstance(decision, Retry):
            break
    return session, decision


def test_the_same_protocol_error_twice_gives_up() -> None:
    session, decision = run([broken(attempt) for attempt in range(1, 7)])
    assert isinstance(decision, GiveUp)
    assert session.attempts == 2
    assert decision.error.reason == "repeated_protocol_error"
    assert not decision.error.recoverable
    assert isinstance(decision.error.cause, ProviderProtocolError)


def test_one_protocol_error_is_still_resumed() -> None:
    session, decision = run([broken(1), good(2)])
    assert isinstance(decision, Done)
    assert session.attempts == 2
    assert session.text == "Hello."


def test_different_protocol_errors_are_not_a_repeat() -> None:
    session, decision = run([broken(1, "args"), broken(2, "id"), good(3)])
    assert isinstance(decision, Done)
    assert session.attempts == 3
