"""The progress timeout and answered traffic, on the session with a deterministic clock.

Keep-alive bytes (SSE comments, empty deltas) move the transport's idle timer
but not the answer; only content events reset the progress timer, and only
answered streams fund the shared retry budget.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

from _frames import BODIES, SSE_HEADERS, answer_stream, frames

from streamrecover.core.budget import RetryBudget
from streamrecover.core.errors import ProgressTimeoutError
from streamrecover.core.events import Retrying
from streamrecover.core.policy import RetryPolicy
from streamrecover.core.session import GiveUp, RecoverySession, Retry, SessionState
from streamrecover.providers import get_provider

COMMENT = b": keep-alive\n\n"
EMPTY_DELTA = (
    b'data: {"id":"c","object":"chat.completion.chunk","choices":'
    b'[{"index":0,"delta":{"content":""}}]}\n\n'
)


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(body: dict[str, Any] | None = None, **options: Any) -> RecoverySession:
    options.setdefault("rng", random.Random(0))
    options.setdefault("policy", RetryPolicy(backoff_base=0.001))
    provider = get_provider("openai")
    return RecoverySession(provider, BODIES["openai"] if body is None else body, **options)


def feed_keepalives(
    session: RecoverySession, clock: FakeClock, data: bytes, seconds: float, step: float
) -> None:
    """Advance the clock by ``step`` before each of ``seconds / step`` keep-alive reads."""
    for _ in range(round(seconds / step)):
        if session.state is not SessionState.STREAMING:
            return
        clock.now += step
        session.receive_data(data)


def test_comments_alone_end_the_attempt_after_the_progress_timeout() -> None:
    clock = FakeClock()
    session = make(clock=clock, progress_timeout=30)
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    feed_keepalives(session, clock, COMMENT, seconds=30, step=1)
    assert session.state is SessionState.STREAMING  # 30 s is not past 30 s
    clock.now += 1
    events = session.receive_data(COMMENT)
    assert session.state is SessionState.IDLE
    assert isinstance(session.decision(), Retry)
    (retrying,) = [e for e in events if isinstance(e, Retrying)]
    assert isinstance(retrying.cause, ProgressTimeoutError)
    assert "no content for 30 s" in str(retrying.cause)


def test_empty_deltas_are_keepalives_too() -> None:
    clock = FakeClock()
    session = make(clock=clock, progress_timeout=30)
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    feed_keepalives(session, clock, EMPTY_DELTA, seconds=40, step=2)
    assert isinstance(session.last_fault, ProgressTimeoutError)


def test_content_resets_the_timer() -> None:
    clock = FakeClock()
    session = make(clock=clock, progress_timeout=30)
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    role, *chunks = frames("openai", ["a", "b", "c", "d"])
    session.receive_data(role)  # no content yet
    for chunk in chunks[:4]:
        feed_keepalives(session, clock, COMMENT, seconds=25, step=5)
        clock.now += 5
        session.receive_data(chunk)  # content at 30 s since the last: in time
    assert session.state is SessionState.STREAMING
    for chunk in chunks[4:]:
        session.receive_data(chunk)
    assert session.state is SessionState.DONE
    assert session.text == "abcd"


def test_a_continuation_that_only_repeats_delivered_text_makes_no_progress() -> None:
    clock = FakeClock()
    session = make(clock=clock, progress_timeout=30, policy=RetryPolicy(max_resumes=1))
    committed = "The quick brown fox jumps over the lazy dog. "
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    for chunk in frames("openai", [committed], complete=False):
        session.receive_data(chunk)
    session.connection_failed(ProgressTimeoutError(1.0))  # any cut
    assert isinstance(session.decision(), Retry)
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    # The continuation restates the tail: the stitcher holds it, nothing is released.
    for chunk in frames("openai", ["lazy ", "dog."], complete=False):
        clock.now += 1
        session.receive_data(chunk)
    assert session.text == committed
    feed_keepalives(session, clock, COMMENT, seconds=40, step=1)
    decision = session.decision()
    assert isinstance(decision, GiveUp)  # the one resume is spent
    assert isinstance(decision.error.cause, ProgressTimeoutError)
    assert decision.error.recoverable


def test_the_default_follows_the_provider_and_thinking() -> None:
    plain_clock, thinking_clock = FakeClock(), FakeClock()
    plain = make(clock=plain_clock)
    thinking_body = {**BODIES["openai"], "model": "o3", "reasoning_effort": "high"}
    thinking = make(thinking_body, clock=thinking_clock)
    for session, clock in ((plain, plain_clock), (thinking, thinking_clock)):
        session.next_request()
        session.response_started(200, SSE_HEADERS)
        feed_keepalives(session, clock, COMMENT, seconds=310, step=10)
    assert isinstance(plain.last_fault, ProgressTimeoutError)
    assert plain.last_fault.seconds == 300
    assert thinking.state is SessionState.STREAMING  # thinking gets 900 s
    feed_keepalives(thinking, thinking_clock, COMMENT, seconds=600, step=10)
    assert isinstance(thinking.last_fault, ProgressTimeoutError)
    assert thinking.last_fault.seconds == 900


def test_infinity_turns_the_timeout_off() -> None:
    clock = FakeClock()
    session = make(clock=clock, progress_timeout=math.inf)
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    feed_keepalives(session, clock, COMMENT, seconds=10_000, step=100)
    assert session.state is SessionState.STREAMING


def test_answered_streams_fund_the_budget_and_refused_ones_do_not() -> None:
    clock = FakeClock()
    budget = RetryBudget(ttl=10, percent_can_retry=0.5, min_retries_per_second=0)
    refused = make(clock=clock, budget=budget)
    refused.next_request()
    refused.response_started(429, [("content-type", "application/json")])
    refused.receive_data(json.dumps({"error": {"message": "slow down"}}).encode())
    refused.receive_data(b"")
    assert isinstance(refused.decision(), GiveUp)  # nothing funded a retry
    assert "budget_exhausted" in str(refused.decision())
    answered = make(clock=clock, budget=budget)
    answered.next_request()
    answered.response_started(200, SSE_HEADERS)
    answered.receive_data(answer_stream("openai", ["Hi"]))
    assert budget.retries_left(clock.now) == 0.5


def test_a_long_stream_counts_again_once_per_window() -> None:
    clock = FakeClock()
    budget = RetryBudget(ttl=10, percent_can_retry=1, min_retries_per_second=0, slots=10)
    session = make(clock=clock, budget=budget, progress_timeout=math.inf)
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    chunks = frames("openai", [f"w{i} " for i in range(40)], complete=False)
    for chunk in chunks:
        clock.now += 1
        session.receive_data(chunk)
    # One deposit per 10 s of delivery; only the window's last ones still count.
    assert 1.0 <= budget.retries_left(clock.now) <= 2.0
    clock.now += 30
    assert budget.retries_left(clock.now) == 0.0
