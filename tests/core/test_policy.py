"""Retry policy: backoff bounds, limits, deadline, server delay, and the shared budget."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.classify import Verdict, classify
from streamrecover.core.errors import (
    HTTPStatusError,
    TransportError,
    UnexpectedContentError,
    UsageError,
)
from streamrecover.core.policy import Decision, RetryBudget, RetryPolicy

T0 = 1000.0  # started_at on an injected monotonic clock

TRANSPORT = classify(TransportError("reset", kind="reset"))
HTTP_503 = classify(HTTPStatusError(503))
HTTP_401 = classify(HTTPStatusError(401))


def with_delay(seconds: float) -> Verdict:
    return dataclasses.replace(HTTP_503, server_delay=seconds)


def decide(policy: RetryPolicy, verdict: Verdict, **overrides: Any) -> Decision:
    arguments: dict[str, Any] = {
        "verdict": verdict,
        "retries_used": 0,
        "resumes_used": 0,
        "delivered": False,
        "rng": random.Random(7),
        "now": T0,
        "started_at": T0,
        "budget": None,
    }
    arguments.update(overrides)
    return policy.decide(**arguments)


# --------------------------------------------------------------------------
# Backoff
# --------------------------------------------------------------------------


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_backoff_stays_within_full_jitter_bounds(seed: int) -> None:
    policy = RetryPolicy()
    rng = random.Random(seed)
    for n in range(11):
        delay = policy.backoff(n, rng)
        assert 0.0 <= delay <= min(8.0, 0.5 * 2**n)


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    base=st.floats(min_value=0.0, max_value=100.0),
    cap=st.floats(min_value=0.0, max_value=100.0),
    n=st.integers(min_value=0, max_value=5000),
)
def test_backoff_bounds_for_any_configuration(seed: int, base: float, cap: float, n: int) -> None:
    policy = RetryPolicy(backoff_base=base, backoff_cap=cap)
    delay = policy.backoff(n, random.Random(seed))
    assert 0.0 <= delay <= cap
    if n < 60:
        assert delay <= base * 2**n


def test_backoff_grows_and_is_jittered() -> None:
    policy = RetryPolicy()
    rng = random.Random(1)
    samples = {n: [policy.backoff(n, rng) for _ in range(200)] for n in (0, 3, 10)}
    # Full jitter spreads the whole range, from near zero to near the ceiling.
    assert min(samples[0]) < 0.05
    assert max(samples[0]) > 0.45
    assert max(samples[3]) > 3.5
    assert max(samples[10]) > 7.5  # the cap, not 512
    assert len(set(samples[10])) == 200


def test_backoff_is_deterministic_for_a_seed() -> None:
    policy = RetryPolicy()
    first = [policy.backoff(n, random.Random(42)) for n in range(5)]
    second = [policy.backoff(n, random.Random(42)) for n in range(5)]
    assert first == second


def test_backoff_of_a_huge_retry_number_is_the_cap_range() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=8.0)
    assert 0.0 <= policy.backoff(10**6, random.Random(3)) <= 8.0


def test_backoff_rejects_a_negative_retry_number() -> None:
    with pytest.raises(UsageError):
        RetryPolicy().backoff(-1, random.Random(0))


# --------------------------------------------------------------------------
# Retry or give up
# --------------------------------------------------------------------------


def test_not_retryable_gives_up_at_once() -> None:
    decision = decide(RetryPolicy(), HTTP_401)
    assert not decision.retry
    assert decision.give_up_reason == "not_retryable"
    assert decision.reason == "not_retryable"
    assert decision.delay == 0.0
    assert decision.verdict is HTTP_401


def test_first_transport_retry_before_delivery_is_immediate() -> None:
    decision = decide(RetryPolicy(), TRANSPORT)
    assert decision == Decision(retry=True, verdict=TRANSPORT, delay=0.0, resume=False)
    assert decision.reason == "transport_reset"


def test_later_transport_retries_back_off() -> None:
    policy = RetryPolicy()
    decision = decide(policy, TRANSPORT, retries_used=1, rng=random.Random(5))
    assert decision.retry
    assert decision.delay == policy.backoff(1, random.Random(5))
    assert 0.0 < decision.delay <= 1.0


def test_first_retry_of_a_non_transport_fault_is_jittered() -> None:
    policy = RetryPolicy()
    decision = decide(policy, HTTP_503, rng=random.Random(5))
    assert decision.delay == policy.backoff(0, random.Random(5))
    assert 0.0 < decision.delay <= 0.5


def test_first_resume_after_a_transport_fault_is_immediate() -> None:
    # The reader waits mid-answer and reconnecting fixes a cut connection
    # (issue 14: fault -> first resumed text within 1.2x a fresh request's).
    decision = decide(RetryPolicy(), TRANSPORT, delivered=True, rng=random.Random(5))
    assert decision == Decision(retry=True, verdict=TRANSPORT, delay=0.0, resume=True)


def test_later_resumes_after_transport_faults_back_off() -> None:
    policy = RetryPolicy()
    decision = decide(policy, TRANSPORT, delivered=True, resumes_used=1, rng=random.Random(5))
    assert decision.resume
    assert decision.delay == policy.backoff(1, random.Random(5))
    assert decision.delay > 0.0


def test_first_resume_after_a_server_fault_is_jittered() -> None:
    policy = RetryPolicy()
    decision = decide(policy, HTTP_503, delivered=True, rng=random.Random(5))
    assert decision.resume
    assert decision.delay == policy.backoff(0, random.Random(5))
    assert decision.delay > 0.0


@pytest.mark.parametrize("used", [0, 1, 2])
def test_retries_within_the_limit(used: int) -> None:
    decision = decide(RetryPolicy(max_retries=3), HTTP_503, retries_used=used)
    assert decision.retry
    assert not decision.resume


def test_retries_exhausted() -> None:
    decision = decide(RetryPolicy(max_retries=3), HTTP_503, retries_used=3)
    assert decision.give_up_reason == "retries_exhausted"
    assert not decision.resume


def test_resumes_exhausted() -> None:
    decision = decide(RetryPolicy(max_resumes=2), HTTP_503, delivered=True, resumes_used=2)
    assert decision.give_up_reason == "resumes_exhausted"
    assert decision.resume


def test_retries_and_resumes_are_counted_separately() -> None:
    policy = RetryPolicy(max_retries=3, max_resumes=1)
    # Retries all spent before the first byte; a resume is still allowed.
    after_delivery = decide(policy, HTTP_503, delivered=True, retries_used=3, resumes_used=0)
    assert after_delivery.retry
    assert after_delivery.resume
    # Resumes spent do not eat into retries.
    before_delivery = decide(policy, HTTP_503, delivered=False, retries_used=0, resumes_used=5)
    assert before_delivery.retry


def test_zero_limits_disable_retrying_and_resuming() -> None:
    policy = RetryPolicy(max_retries=0, max_resumes=0)
    assert decide(policy, TRANSPORT).give_up_reason == "retries_exhausted"
    assert decide(policy, TRANSPORT, delivered=True).give_up_reason == "resumes_exhausted"


def test_verdict_retry_limit_caps_the_policy() -> None:
    verdict = classify(UnexpectedContentError("text/html"))
    policy = RetryPolicy(max_retries=5)
    assert decide(policy, verdict, retries_used=0).retry
    assert decide(policy, verdict, retries_used=1).give_up_reason == "retries_exhausted"
    # A proxy's 5xx to CONNECT is retried like any 5xx; its 407 never is.
    proxy = classify(TransportError("502", kind="proxy"))
    assert decide(policy, proxy, retries_used=0).delay == 0.0
    assert decide(policy, proxy, retries_used=4).retry
    refused = classify(TransportError("407", kind="proxy_refused"))
    assert decide(policy, refused, retries_used=0).give_up_reason == "not_retryable"


def test_retry_limit_cannot_raise_the_policy_limit() -> None:
    verdict = dataclasses.replace(HTTP_503, retry_limit=10)
    assert decide(RetryPolicy(max_retries=1), verdict, retries_used=1).give_up_reason == (
        "retries_exhausted"
    )


def test_negative_counts_are_a_usage_error() -> None:
    with pytest.raises(UsageError):
        decide(RetryPolicy(), HTTP_503, retries_used=-1)
    with pytest.raises(UsageError):
        decide(RetryPolicy(), HTTP_503, resumes_used=-1)


# --------------------------------------------------------------------------
# Server delay
# --------------------------------------------------------------------------


def test_server_delay_larger_than_backoff_is_honoured() -> None:
    policy = RetryPolicy()
    decision = decide(policy, with_delay(5.0), rng=random.Random(9))
    assert policy.backoff(0, random.Random(9)) < 0.5
    assert decision.retry
    assert decision.delay == 5.0


def test_backoff_larger_than_server_delay_wins() -> None:
    policy = RetryPolicy(backoff_base=8.0)
    expected = policy.backoff(2, random.Random(9))
    assert expected > 0.01
    decision = decide(policy, with_delay(0.01), retries_used=2, rng=random.Random(9))
    assert decision.delay == expected


def test_server_delay_applies_to_an_otherwise_immediate_retry() -> None:
    verdict = dataclasses.replace(TRANSPORT, server_delay=2.0)
    assert decide(RetryPolicy(), verdict).delay == 2.0


def test_server_delay_at_the_cap_is_honoured() -> None:
    decision = decide(RetryPolicy(max_server_delay=60.0), with_delay(60.0))
    assert decision.retry
    assert decision.delay == 60.0


@pytest.mark.parametrize("seconds", [60.001, 3600.0, float("inf")])
def test_server_delay_over_the_cap_gives_up(seconds: float) -> None:
    decision = decide(RetryPolicy(max_server_delay=60.0), with_delay(seconds))
    assert decision.give_up_reason == "server_delay_too_long"


def test_retry_after_header_end_to_end() -> None:
    now_wall = 1_700_000_000.0
    fault = HTTPStatusError(429, headers=[("retry-after", "3600")])
    decision = decide(RetryPolicy(), classify(fault, now=now_wall))
    assert decision.give_up_reason == "server_delay_too_long"
    fault = HTTPStatusError(529, headers=[("retry-after-ms", "2500")])
    assert decide(RetryPolicy(), classify(fault)).delay == 2.5


# --------------------------------------------------------------------------
# Deadline
# --------------------------------------------------------------------------


def test_retry_within_the_deadline() -> None:
    policy = RetryPolicy(deadline=30.0)
    decision = decide(policy, with_delay(5.0), now=T0 + 20.0)
    assert decision.retry
    assert decision.delay == 5.0


def test_wait_that_would_pass_the_deadline_gives_up() -> None:
    policy = RetryPolicy(deadline=30.0)
    assert decide(policy, with_delay(5.0), now=T0 + 26.0).give_up_reason == "deadline"
    # Reaching it exactly is no better: the attempt would have no time.
    assert decide(policy, with_delay(5.0), now=T0 + 25.0).give_up_reason == "deadline"


def test_deadline_already_passed_gives_up_even_for_an_immediate_retry() -> None:
    policy = RetryPolicy(deadline=10.0)
    assert decide(policy, TRANSPORT, now=T0 + 10.0).give_up_reason == "deadline"
    assert decide(policy, TRANSPORT, now=T0 + 9.0).retry


def test_time_left() -> None:
    assert RetryPolicy().time_left(now=T0 + 5, started_at=T0) is None
    policy = RetryPolicy(deadline=10.0)
    assert policy.time_left(now=T0 + 4.0, started_at=T0) == 6.0
    assert policy.time_left(now=T0 + 40.0, started_at=T0) == 0.0


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    retries=st.integers(min_value=0, max_value=20),
    elapsed=st.floats(min_value=0.0, max_value=100.0),
    server_delay=st.one_of(st.none(), st.floats(min_value=0.0, max_value=120.0)),
    transport=st.booleans(),
    delivered=st.booleans(),
)
def test_decisions_respect_every_bound(
    *,
    seed: int,
    retries: int,
    elapsed: float,
    server_delay: float | None,
    transport: bool,
    delivered: bool,
) -> None:
    policy = RetryPolicy(max_retries=10, max_resumes=10, deadline=60.0, max_server_delay=50.0)
    verdict = Verdict(retryable=True, reason="r", server_delay=server_delay, transport=transport)
    decision = decide(
        policy,
        verdict,
        retries_used=retries,
        resumes_used=retries,
        delivered=delivered,
        rng=random.Random(seed),
        now=T0 + elapsed,
    )
    if not decision.retry:
        assert decision.give_up_reason is not None
        return
    assert retries < 10
    assert decision.resume is delivered
    assert elapsed + decision.delay < 60.0
    assert decision.delay <= max(8.0, server_delay or 0.0)
    if server_delay is not None:
        assert server_delay <= decision.delay <= 50.0


# --------------------------------------------------------------------------
# Decision
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"retry": True, "give_up_reason": "deadline"},
        {"retry": False},
        {"retry": True, "delay": -1.0},
        {"retry": True, "delay": float("nan")},
        {"retry": True, "delay": float("inf")},
        {"retry": False, "give_up_reason": "deadline", "delay": 1.0},
    ],
)
def test_inconsistent_decision_is_rejected(fields: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        Decision(verdict=HTTP_503, **fields)


def test_decision_reason_when_retrying_is_the_verdicts() -> None:
    assert Decision(retry=True, verdict=HTTP_503, delay=1.0).reason == "http_503"


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.max_resumes) == (3, 3)
    assert (policy.backoff_base, policy.backoff_cap) == (0.5, 8.0)
    assert policy.deadline is None
    assert policy.max_server_delay == 60.0


def test_policy_is_frozen_and_keyword_only() -> None:
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_retries = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        RetryPolicy(3)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "fields",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"max_retries": True},
        {"max_retries": "3"},
        {"max_resumes": -2},
        {"max_resumes": None},
        {"backoff_base": -0.1},
        {"backoff_base": float("nan")},
        {"backoff_base": float("inf")},
        {"backoff_cap": -1.0},
        {"backoff_cap": float("inf")},
        {"backoff_cap": "8"},
        {"deadline": 0},
        {"deadline": -5.0},
        {"deadline": float("nan")},
        {"deadline": float("inf")},
        {"max_server_delay": -1.0},
        {"max_server_delay": float("nan")},
        {"max_server_delay": False},
    ],
)
def test_policy_validation(fields: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        RetryPolicy(**fields)


def test_zero_backoff_and_integer_seconds_are_accepted() -> None:
    policy = RetryPolicy(backoff_base=0, backoff_cap=0, deadline=5, max_server_delay=0)
    assert policy.backoff(4, random.Random(0)) == 0.0
    assert decide(policy, with_delay(0.0)).retry
    assert decide(policy, with_delay(0.5)).give_up_reason == "server_delay_too_long"


# --------------------------------------------------------------------------
# Retry budget (the budget itself: tests/core/test_budget.py)
# --------------------------------------------------------------------------


def test_policy_gives_up_when_the_budget_is_spent() -> None:
    budget = RetryBudget(min_retries_per_second=0.2, ttl=10)  # a floor of 2 retries
    policy = RetryPolicy(max_retries=10)
    reasons = [decide(policy, HTTP_503, retries_used=i, budget=budget).reason for i in range(4)]
    assert reasons == ["http_503", "http_503", "budget_exhausted", "budget_exhausted"]
    budget.deposit(T0)
    budget.deposit(T0)
    budget.deposit(T0)
    budget.deposit(T0)
    budget.deposit(T0)  # 5 answered requests x 0.2 = one more retry
    assert decide(policy, HTTP_503, budget=budget).retry
    assert decide(policy, HTTP_503, budget=budget).reason == "budget_exhausted"


def test_faults_that_give_up_anyway_do_not_spend_the_budget() -> None:
    budget = RetryBudget(min_retries_per_second=0.1, ttl=10)  # one retry
    assert decide(RetryPolicy(), HTTP_401, budget=budget).reason == "not_retryable"
    decision = decide(RetryPolicy(max_retries=0), HTTP_503, budget=budget)
    assert decision.give_up_reason == "retries_exhausted"
    assert budget.retries_left(T0) == 1.0
    assert decide(RetryPolicy(), HTTP_503, budget=budget).retry
    assert budget.retries_left(T0) == 0.0
