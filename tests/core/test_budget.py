"""RetryBudget: retries in proportion to answered traffic over a sliding window, plus a floor.

Time is always passed in (a deterministic clock); nothing here sleeps.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from streamrecover.core.budget import RetryBudget
from streamrecover.core.errors import UsageError

T0 = 5000.0


def withdraw_all(budget: RetryBudget, now: float, limit: int = 10_000) -> int:
    granted = 0
    while granted < limit and budget.try_withdraw(now):
        granted += 1
    return granted


def test_a_quiet_client_still_has_the_floor() -> None:
    budget = RetryBudget(ttl=10, percent_can_retry=0.2, min_retries_per_second=1)
    assert budget.retries_left(T0) == 10.0
    assert withdraw_all(budget, T0) == 10
    assert not budget.try_withdraw(T0)


def test_retries_grow_with_answered_traffic() -> None:
    budget = RetryBudget(ttl=10, percent_can_retry=0.2, min_retries_per_second=1)
    for _ in range(500):
        budget.deposit(T0)
    # 500 answered streams x 20% + a floor of 1/s over 10 s.
    assert withdraw_all(budget, T0 + 1) == 110


def test_a_mass_disconnect_of_a_fifth_of_the_streams_resumes_them_all() -> None:
    budget = RetryBudget()
    for stream in range(500):
        budget.deposit(T0 + stream * 0.001)
    cut = [budget.try_withdraw(T0 + 2) for _ in range(100)]
    assert all(cut)


def test_a_storm_where_nothing_is_answered_gets_only_the_floor() -> None:
    budget = RetryBudget()
    # 100 streams, every request refused: no deposit at all.
    granted = withdraw_all(budget, T0, limit=300)
    assert granted == 10
    assert (100 + granted) / 100 <= 1.2


def test_traffic_and_retries_leave_the_window_after_ttl() -> None:
    budget = RetryBudget(ttl=10, percent_can_retry=0.5, min_retries_per_second=0, slots=10)
    for _ in range(10):
        budget.deposit(T0)
    assert withdraw_all(budget, T0) == 5
    assert not budget.try_withdraw(T0 + 9.5)  # still inside the window
    # A window later, both the deposits and the retries have expired.
    assert budget.retries_left(T0 + 10.5) == 0.0
    for _ in range(4):
        budget.deposit(T0 + 10.5)
    assert withdraw_all(budget, T0 + 10.5) == 2


def test_the_window_slides_slot_by_slot() -> None:
    budget = RetryBudget(ttl=10, percent_can_retry=1, min_retries_per_second=0, slots=10)
    budget.deposit(T0)  # slot of T0
    budget.deposit(T0 + 5)  # five slots later
    assert budget.retries_left(T0 + 9.9) == 2.0
    assert budget.retries_left(T0 + 10.1) == 1.0  # the first slot fell out
    assert budget.retries_left(T0 + 15.1) == 0.0


def test_a_clock_that_goes_backwards_forgets_rather_than_crashes() -> None:
    budget = RetryBudget(percent_can_retry=1, min_retries_per_second=0)
    budget.deposit(T0)
    assert budget.retries_left(T0 - 100) == 0.0
    assert budget.try_withdraw(T0 - 100) is False


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    # Switch threads every microsecond so that an unlocked read-modify-write
    # would lose updates here, instead of only under production load.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_streams_get_exactly_what_the_budget_allows() -> None:
    budget = RetryBudget(ttl=10, percent_can_retry=0.25, min_retries_per_second=0.5)
    threads = 8
    barrier = threading.Barrier(threads)
    granted: list[bool] = []
    lock = threading.Lock()

    def stream_traffic() -> None:
        barrier.wait()
        for _ in range(100):
            budget.deposit(T0)
        mine = [budget.try_withdraw(T0) for _ in range(100)]
        with lock:
            granted.extend(mine)

    workers = [threading.Thread(target=stream_traffic) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # 800 deposits x 0.25 + a floor of 5; withdrawals interleave with deposits,
    # but no retry is ever granted beyond what was deposited when it was asked.
    assert granted.count(True) <= 205
    assert budget.retries_left(T0) == 205 - granted.count(True)


@pytest.mark.parametrize(
    "fields",
    [
        {"ttl": 0},
        {"ttl": -1},
        {"ttl": float("inf")},
        {"percent_can_retry": -0.1},
        {"percent_can_retry": float("nan")},
        {"percent_can_retry": 11},
        {"min_retries_per_second": -1},
        {"min_retries_per_second": True},
        {"slots": 0},
        {"slots": 2.5},
    ],
)
def test_budget_validation(fields: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        RetryBudget(**fields)


def test_budget_repr_and_properties() -> None:
    budget = RetryBudget(ttl=30, percent_can_retry=0.1, min_retries_per_second=2)
    assert (budget.ttl, budget.percent_can_retry, budget.min_retries_per_second) == (30, 0.1, 2)
    assert budget.retries_left(T0) == 60.0
    assert "percent_can_retry=0.1" in repr(budget)
