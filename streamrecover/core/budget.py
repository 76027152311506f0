"""RetryBudget: retries in proportion to the traffic a client recently had answered.

The idea is Finagle's ``RetryBudget``: over a sliding window of ``ttl``
seconds, retries may add up to ``percent_can_retry`` of the recent traffic,
plus a small floor of ``min_retries_per_second`` so that a client with little
traffic can still retry. One thing is ours: what counts as traffic.

Finagle deposits for every request sent. For a crowd of streams started
together that cannot tell a storm from a hiccup: when every request of 100
streams fails with 429, the 100 requests would themselves fund 20 retries
plus the floor. Here a request counts as traffic once it is *answered*: once
its stream delivered content (text, reasoning, a tool call). A request the
server refuses, and a stream that dies before saying anything, fund nothing;
so in a storm where every request fails only the floor is left, and retries
stop after a handful. An answered stream also keeps counting while it
delivers: it deposits again once every ``ttl`` seconds, because an LLM stream
lasts far longer than the window and is, all that time, live traffic. When a
proxy restart cuts 20% of 500 live streams at once, the 500 of them have funded
100 retries, the floor adds ``min_retries_per_second * ttl``, and every cut
stream resumes.

Accounting is in thousandths (a deposit is worth ``percent_can_retry * 1000``,
a retry costs 1000), over ``slots`` buckets of ``ttl / slots`` seconds each, so
any number of updates from any number of threads sum exactly. Time comes in as
an argument (``now``, monotonic seconds): the core reads no clock.
"""

from __future__ import annotations

import math
import threading

from streamrecover.core.errors import UsageError

__all__ = ["RetryBudget"]

_MILLI = 1000


def _check_number(name: str, value: object, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number, not {value!r}")
    if value < 0 or (positive and value == 0):
        raise UsageError(f"{name} must be {'> 0' if positive else '>= 0'}, not {value!r}")
    return float(value)


class RetryBudget:
    """A retry allowance shared by every stream of one client, proportional to its traffic.

    Over the last ``ttl`` seconds, retries (and resumes) may number at most
    ``min_retries_per_second * ttl + percent_can_retry * answered``, where
    ``answered`` counts deposits (see the module docstring: a stream deposits
    when it first delivers content, and again every ``ttl`` while it goes on).

    Args:
        ttl: the window, in seconds (Finagle's default: 10).
        percent_can_retry: retries allowed per answered request (0.2: one in five).
            Precision is 0.001; up to 10.
        min_retries_per_second: the floor, for clients with little traffic (a
            lone stream still gets ``ttl`` times this many retries per window).
        slots: how finely the window slides (it moves by ``ttl / slots``).

    Raises:
        UsageError: an argument is not a finite number in its range.

    Thread-safe; the methods never block on anything but a short internal lock.
    """

    __slots__ = (
        "_deposits",
        "_lock",
        "_percent_milli",
        "_reserve_milli",
        "_slot_epochs",
        "_slot_width",
        "_slots",
        "_ttl",
        "_withdrawals",
        "min_retries_per_second",
    )

    def __init__(
        self,
        *,
        ttl: float = 10.0,
        percent_can_retry: float = 0.2,
        min_retries_per_second: float = 1.0,
        slots: int = 10,
    ) -> None:
        self._ttl = _check_number("ttl", ttl, positive=True)
        percent = _check_number("percent_can_retry", percent_can_retry, positive=False)
        if percent > 10:
            raise UsageError(f"percent_can_retry must be at most 10, not {percent_can_retry!r}")
        self.min_retries_per_second = _check_number(
            "min_retries_per_second", min_retries_per_second, positive=False
        )
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise UsageError(f"slots must be an int >= 1, not {slots!r}")
        self._percent_milli = round(percent * _MILLI)
        self._reserve_milli = round(self.min_retries_per_second * self._ttl * _MILLI)
        self._slots = slots
        self._slot_width = self._ttl / slots
        self._deposits = [0] * slots
        self._withdrawals = [0] * slots
        self._slot_epochs = [-math.inf] * slots
        self._lock = threading.Lock()

    @property
    def ttl(self) -> float:
        """The window, in seconds: also how often a live stream deposits again."""
        return self._ttl

    @property
    def percent_can_retry(self) -> float:
        """Retries allowed per answered request."""
        return self._percent_milli / _MILLI

    def _slot(self, now: float) -> int:
        # Clears the buckets that fell out of the window; returns the current one.
        epoch = math.floor(now / self._slot_width)
        index = epoch % self._slots
        epochs = self._slot_epochs
        for i in range(self._slots):
            if epochs[i] <= epoch - self._slots or epochs[i] > epoch:
                # Out of the window (or from a clock that went backwards).
                epochs[i] = -math.inf
                self._deposits[i] = 0
                self._withdrawals[i] = 0
        if epochs[index] != epoch:
            epochs[index] = epoch
            self._deposits[index] = 0
            self._withdrawals[index] = 0
        return index

    def _balance_milli(self) -> int:
        return self._reserve_milli + sum(self._deposits) - sum(self._withdrawals)

    def deposit(self, now: float) -> None:
        """Count one answered request (or one more window of a live stream) at time ``now``."""
        with self._lock:
            self._deposits[self._slot(now)] += self._percent_milli

    def try_withdraw(self, now: float) -> bool:
        """Spend one retry at time ``now`` if the budget allows it; return whether it did.

        The check and the spending happen under one lock, so of many streams
        failing at once exactly as many as the budget allows are let through.
        """
        with self._lock:
            index = self._slot(now)
            if self._balance_milli() < _MILLI:
                return False
            self._withdrawals[index] += _MILLI
            return True

    def retries_left(self, now: float) -> float:
        """How many retries the budget would allow at time ``now`` (a snapshot)."""
        with self._lock:
            self._slot(now)
            return max(0, self._balance_milli()) / _MILLI

    def __repr__(self) -> str:
        return (
            f"RetryBudget(ttl={self._ttl}, percent_can_retry={self.percent_can_retry}, "
            f"min_retries_per_second={self.min_retries_per_second})"
        )
