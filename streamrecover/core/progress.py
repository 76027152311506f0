"""What an attempt's content says about time: the progress timeout and answered traffic.

Bytes are not progress. A proxy's keep-alive comments, a provider's ``ping``
events, a chunk with an empty delta, text that the stitcher drops because it
repeats what the consumer already has: a stream may send those forever while
the answer does not move. The transport's idle timeout (no byte at all) cannot
see that; :class:`ProgressTracker` can, because the session tells it when a
*content* event reached the consumer (text, reasoning, a piece of a tool call).

It also decides when an attempt counts as answered traffic for the shared
:class:`~streamrecover.core.budget.RetryBudget`: when it first delivers
content, and again every ``budget.ttl`` seconds while it keeps delivering.

The check runs as bytes arrive, so a stream that sends nothing at all is left to
the idle timeout; one that trickles keep-alives is caught within one of them
after ``timeout`` seconds. Time comes in as arguments: the core reads no clock.
"""

from __future__ import annotations

import math

from streamrecover.core.budget import RetryBudget
from streamrecover.core.errors import ProgressTimeoutError

__all__ = ["ProgressTracker"]


class ProgressTracker:
    """Time since the last content event of the current attempt.

    Args:
        timeout: seconds an attempt may go without a content event (``math.inf``
            for no limit), counted from the response head.
        budget: the shared retry budget to deposit answered traffic into, if any.
        provider: named in the fault's message.
    """

    __slots__ = ("_budget", "_deposited_at", "_last", "_provider", "timeout")

    def __init__(self, timeout: float, *, budget: RetryBudget | None, provider: str = "") -> None:
        self.timeout = timeout
        self._budget = budget
        self._provider = provider
        self._last = 0.0
        self._deposited_at: float | None = None

    @property
    def active(self) -> bool:
        """Whether :meth:`check` has anything to do (a finite timeout or a budget)."""
        return self._budget is not None or not math.isinf(self.timeout)

    def start(self, now: float) -> None:
        """A new attempt's event stream began (its response head arrived) at ``now``."""
        self._last = now
        self._deposited_at = None

    def check(self, now: float, *, progressed: bool) -> ProgressTimeoutError | None:
        """Account for one read of the body at ``now``; return a fault once the stream stalled.

        ``progressed`` says whether content reached the consumer since the last call.
        """
        if progressed:
            self._last = now
            self._deposit_if_due(now)
            return None
        if now - self._last > self.timeout:
            return ProgressTimeoutError(self.timeout, provider=self._provider)
        return None

    def completed(self, now: float) -> None:
        """The attempt completed: it was answered traffic, even if it came in one read."""
        if self._deposited_at is None:
            self._deposit_if_due(now)

    def _deposit_if_due(self, now: float) -> None:
        budget = self._budget
        if budget is None:
            return
        if self._deposited_at is None or now - self._deposited_at >= budget.ttl:
            budget.deposit(now)
            self._deposited_at = now
