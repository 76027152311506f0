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

    The session runs the per-read check inline, on the public fields, because
    it runs on every read of the body (a method call there costs more than the
    check): ``now - last > timeout`` means stalled, and a read with content sets
    ``last = now`` and calls :meth:`deposit` once ``now >= next_deposit``.
    :meth:`check` is the same rule as a method, for everything else.

    Args:
        timeout: seconds an attempt may go without a content event (``math.inf``
            for no limit), counted from the response head.
        budget: the shared retry budget to deposit answered traffic into, if any.
        provider: named in the fault's message.
    """

    __slots__ = ("_budget", "_provider", "active", "last", "next_deposit", "timeout")

    def __init__(self, timeout: float, *, budget: RetryBudget | None, provider: str = "") -> None:
        self.timeout = timeout
        self._budget = budget
        self._provider = provider
        #: Whether there is anything to check (a finite timeout or a budget).
        self.active = budget is not None or not math.isinf(timeout)
        #: When content last reached the consumer (or the attempt's head arrived).
        self.last = 0.0
        #: When a read with content next deposits into the budget (inf: never).
        self.next_deposit = math.inf

    def start(self, now: float) -> None:
        """A new attempt's event stream began (its response head arrived) at ``now``."""
        self.last = now
        # The attempt's first content makes it answered traffic.
        self.next_deposit = -math.inf if self._budget is not None else math.inf

    def check(self, now: float, *, progressed: bool) -> ProgressTimeoutError | None:
        """Account for one read of the body at ``now``; return a fault once the stream stalled.

        ``progressed`` says whether content reached the consumer since the last call.
        """
        if progressed:
            self.last = now
            if now >= self.next_deposit:
                self.deposit(now)
            return None
        if now - self.last > self.timeout:
            return self.fault()
        return None

    def deposit(self, now: float) -> None:
        """Count this attempt as answered traffic at ``now``; the next deposit is a window later."""
        budget = self._budget
        if budget is None:
            return
        budget.deposit(now)
        self.next_deposit = now + budget.ttl

    def fault(self) -> ProgressTimeoutError:
        """The fault that ends a stalled attempt."""
        return ProgressTimeoutError(self.timeout, provider=self._provider)

    def completed(self, now: float) -> None:
        """The attempt completed: it was answered traffic, even if it came in one read."""
        if self.next_deposit == -math.inf:
            self.deposit(now)
