"""Retry policy: given a classified fault and what was spent, retry now, later, or never.

:class:`RetryPolicy` is immutable configuration with one decision method,
:meth:`RetryPolicy.decide`, which the session calls once per fault. The
decision is a pure function of its arguments — the verdict, the counts, the
injected ``rng`` and ``now`` — except for the optional shared
:class:`RetryBudget`, whose whole point is to be shared state.

Two kinds of second attempt are counted separately:

* a **retry** happens while nothing has reached the consumer: it is invisible,
  the original request is simply sent again (``max_retries``, as ReqLLM's
  streaming retry);
* a **resume** happens after text was delivered: the next attempt continues a
  half-delivered answer (``max_resumes``).

Delays use exponential backoff with "full jitter" (AWS Architecture Blog,
"Exponential Backoff And Jitter", 2015): the n-th retry waits a uniform random
time in ``[0, min(cap, base * 2**n)]``, which spreads a crowd of clients that
failed together instead of having them return in lockstep.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from streamrecover.core.budget import RetryBudget
from streamrecover.core.classify import Verdict
from streamrecover.core.errors import UsageError

__all__ = ["Decision", "GiveUpReason", "RetryBudget", "RetryPolicy"]

#: Why the policy gave up:
#:
#: ``not_retryable``          the verdict says another attempt cannot succeed
#: ``retries_exhausted``      ``max_retries`` (or ``Verdict.retry_limit``) spent before delivery
#: ``resumes_exhausted``      ``max_resumes`` (or ``Verdict.retry_limit``) spent after delivery
#: ``server_delay_too_long``  the server asked for a wait longer than ``max_server_delay``
#: ``deadline``               the wait would reach the stream's total deadline
#: ``budget_exhausted``       the shared :class:`RetryBudget` has no retry left in its window
GiveUpReason = Literal[
    "not_retryable",
    "retries_exhausted",
    "resumes_exhausted",
    "server_delay_too_long",
    "deadline",
    "budget_exhausted",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What to do after one fault.

    ``retry``
        True: start another attempt after ``delay`` seconds. False: give up,
        for ``give_up_reason``.
    ``delay``
        seconds to wait before the next attempt (0.0 when giving up).
    ``resume``
        the next attempt continues a half-delivered answer (text had reached the
        consumer) rather than re-sending the original request.
    ``give_up_reason``
        None when retrying, otherwise one of :data:`GiveUpReason`.
    ``verdict``
        the classification the decision was made on (for logs and events).

    Raises:
        UsageError: on construction, if the fields contradict each other.
    """

    retry: bool
    verdict: Verdict
    delay: float = 0.0
    resume: bool = False
    give_up_reason: GiveUpReason | None = None

    def __post_init__(self) -> None:
        if self.retry == (self.give_up_reason is not None):
            raise UsageError("a Decision retries or has a give_up_reason, exactly one of the two")
        if not (self.delay >= 0.0 and math.isfinite(self.delay)):
            raise UsageError(f"delay must be a finite number >= 0, not {self.delay!r}")
        if not self.retry and self.delay != 0.0:
            raise UsageError("a Decision that gives up has no delay")

    @property
    def reason(self) -> str:
        """One word for logs: the give-up reason, or the verdict's reason when retrying."""
        return self.give_up_reason if self.give_up_reason is not None else self.verdict.reason


def _check_count(name: str, value: object) -> None:
    # bool is an int subclass; max_retries=True is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{name} must be an int >= 0, not {value!r}")


def _check_seconds(name: str, value: object, *, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number of seconds, not {value!r}")
    if value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise UsageError(f"{name} must be {bound}, not {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How many times, and how patiently, to try again.

    ``max_retries``
        attempts that may fail before any byte reached the consumer (invisible
        retries). 0 disables them.
    ``max_resumes``
        continuations after text was delivered. 0 disables them.
    ``backoff_base``, ``backoff_cap``
        full-jitter exponential backoff: the n-th retry (n from 0) waits a
        uniform time in ``[0, min(backoff_cap, backoff_base * 2**n)]`` seconds.
        The very first retry after a transport failure before any delivery,
        and the first resume after one mid-answer, are immediate instead (the
        usual causes, a pooled connection the peer had closed or a proxy that
        cut the stream, are fixed by reconnecting; ReqLLM does the same for
        retries). The retry budget still limits them.
    ``deadline``
        total seconds for the whole stream, attempts and waits included, or None
        for no limit. A wait that would reach it means give up.
    ``max_server_delay``
        the longest ``Retry-After`` worth honouring. A server asking for more
        is told no: giving up with a clear error beats sleeping for an hour.
        A server delay within it is always honoured — the policy never waits
        less than the server asked, even when the jittered backoff is shorter.

    Raises:
        UsageError: on construction, for a negative count, a non-finite or
            negative duration, or a deadline that is not > 0.
    """

    max_retries: int = 3
    max_resumes: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    deadline: float | None = None
    max_server_delay: float = 60.0

    def __post_init__(self) -> None:
        _check_count("max_retries", self.max_retries)
        _check_count("max_resumes", self.max_resumes)
        _check_seconds("backoff_base", self.backoff_base)
        _check_seconds("backoff_cap", self.backoff_cap)
        _check_seconds("max_server_delay", self.max_server_delay)
        if self.deadline is not None:
            _check_seconds("deadline", self.deadline, positive=True)

    def backoff(self, n: int, rng: random.Random) -> float:
        """Return the jittered wait before retry number ``n`` (0 for the first).

        Args:
            n: how many retries (or resumes) were already spent.
            rng: the source of randomness (injected, so that tests and replays
                are deterministic).

        Returns:
            A delay uniformly drawn from ``[0, min(backoff_cap, backoff_base * 2**n)]``.

        Raises:
            UsageError: ``n`` is negative.
        """
        _check_count("n", n)
        try:
            ceiling = min(self.backoff_cap, math.ldexp(self.backoff_base, n))
        except OverflowError:
            # base * 2**n does not fit in a float: far past any cap.
            ceiling = self.backoff_cap
        return rng.uniform(0.0, ceiling)

    def time_left(self, *, now: float, started_at: float) -> float | None:
        """Return the seconds left before the deadline (never negative), or None without one."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - (now - started_at))

    def decide(
        self,
        *,
        verdict: Verdict,
        retries_used: int,
        resumes_used: int,
        delivered: bool,
        rng: random.Random,
        now: float,
        started_at: float,
        budget: RetryBudget | None = None,
    ) -> Decision:
        """Decide what follows one fault.

        Args:
            verdict: the fault's classification (:func:`~streamrecover.core.classify.classify`).
            retries_used: retries already started before this fault (not counting
                the first attempt).
            resumes_used: resumes already started before this fault.
            delivered: whether any text has reached the consumer; if so the next
                attempt is a resume and counts against ``max_resumes``.
            rng: randomness for the jitter.
            now: the current time, in the same clock as ``started_at`` (monotonic
                is best); only differences are used.
            started_at: when the stream's first attempt started.
            budget: the client's shared :class:`RetryBudget`, if any. A retry
                is taken from it only when every other check allows the retry,
                so a fault that gives up for another reason spends nothing.

        Returns:
            A :class:`Decision`. Checks run in this order, first failing one
            wins: retryable, attempt counts, server delay, deadline, budget.

        Raises:
            UsageError: a count is negative.
        """
        _check_count("retries_used", retries_used)
        _check_count("resumes_used", resumes_used)

        def give_up(reason: GiveUpReason) -> Decision:
            return Decision(retry=False, verdict=verdict, resume=delivered, give_up_reason=reason)

        if not verdict.retryable:
            return give_up("not_retryable")
        exhausted: GiveUpReason
        if delivered:
            used, limit, exhausted = resumes_used, self.max_resumes, "resumes_exhausted"
        else:
            used, limit, exhausted = retries_used, self.max_retries, "retries_exhausted"
        if verdict.retry_limit is not None:
            limit = min(limit, verdict.retry_limit)
        if used >= limit:
            return give_up(exhausted)

        server_delay = verdict.server_delay
        if server_delay is not None and not server_delay <= self.max_server_delay:
            return give_up("server_delay_too_long")

        # The first retry, and the first resume, after a connection fault
        # reconnect at once: a pooled connection the peer had closed, a proxy
        # or load balancer that cut an idle or long stream, is fixed by
        # reconnecting, and the reader is waiting mid-answer. A server that
        # signalled trouble (a status, an error event, Retry-After) is not a
        # transport fault and backs off; so does every later attempt.
        backoff = 0.0 if verdict.transport and used == 0 else self.backoff(used, rng)
        delay = backoff if server_delay is None else max(backoff, server_delay)

        left = self.time_left(now=now, started_at=started_at)
        # Equal counts as past: the next attempt would start with no time at all.
        if left is not None and delay >= left:
            return give_up("deadline")
        # Last, and only here: a retry the budget grants is spent by this call.
        if budget is not None and not budget.try_withdraw(now):
            return give_up("budget_exhausted")
        return Decision(retry=True, verdict=verdict, delay=delay, resume=delivered)
