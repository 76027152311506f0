"""A client's fallbacks: the configured list, a retry budget per endpoint, each stream's chain.

:class:`ClientFallbacks` is what ``Client(fallbacks=[...])`` keeps. For every
stream it builds the :class:`~streamrecover.fallback_chain.FallbackChain`
(translating the request for each fallback at once, so that a field a
fallback cannot carry is refused before anything is sent), and for
``Client.resume`` of a stream that fell back it finds the :class:`Fallback`
that served it last, whose credentials the resume uses (none are stored).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from streamrecover.core.errors import UsageError

if TYPE_CHECKING:
    from streamrecover.core.policy import RetryBudget
    from streamrecover.fallback import Fallback
    from streamrecover.fallback_chain import FallbackChain, SessionFactory
    from streamrecover.providers.base import Provider
    from streamrecover.storage.contribution import Contribution
    from streamrecover.storage.record import StreamRecord

__all__ = ["ClientFallbacks"]


class ClientFallbacks:
    """The fallbacks of one client, and the budgets its streams share on each.

    Args:
        fallbacks: the ``fallbacks=`` argument (a list of :class:`Fallback`, or None).
        budgets: whether each fallback endpoint gets a :class:`RetryBudget`
            (False when the client has no budget).

    Raises:
        UsageError: ``fallbacks`` is not a list of Fallback.
    """

    def __init__(self, fallbacks: object, *, budgets: bool) -> None:
        import threading

        # The fallback machinery (the chain, the translations) loads only for a
        # client or a call that has fallbacks.
        self.fallbacks: tuple[Fallback, ...] = (
            () if fallbacks is None else _check_fallbacks(fallbacks)
        )
        self._budgets_on = budgets
        # One budget per (provider, base URL, model), shared by the client's streams:
        # a crowd of streams falling back together must not storm the fallback either.
        self._budgets: dict[tuple[str, str, str], RetryBudget] = {}
        self._lock = threading.Lock()

    def budget_for(self, fallback: Fallback) -> RetryBudget | None:
        """The retry budget the streams of this client share on ``fallback``."""
        if not self._budgets_on:
            return None
        key = (fallback.provider.name, fallback.provider.base_url, fallback.model)
        with self._lock:
            budget = self._budgets.get(key)
            if budget is None:
                from streamrecover.core.policy import RetryBudget

                budget = self._budgets[key] = RetryBudget()
            return budget

    def chain(
        self,
        body: dict[str, Any],
        chosen: object,
        *,
        source: str,
        serving: Provider,
        model: str,
        make_session: SessionFactory,
        timeouts_for: Callable[[Any, Any], Any],
        providers: Sequence[Contribution] = (),
    ) -> FallbackChain | None:
        """The chain of one stream, or None when it has no fallback and never fell back.

        ``body`` is the original request in ``source``'s format; ``chosen`` the
        call's ``fallbacks=`` (``self.fallbacks`` when it is this object's
        :attr:`DEFAULT`), ``serving`` and ``model`` who serves the stream first,
        ``providers`` who served it before (a stream resumed from storage).

        Raises:
            UntranslatableError: a field cannot be carried to a fallback's format.
            UsageError: ``chosen`` is not a list of Fallback, or a fallback
                cannot send the translated request.
        """
        if chosen is DEFAULT:
            fallbacks = self.fallbacks
        else:
            fallbacks = () if chosen is None else _check_fallbacks(chosen)
        if not fallbacks and not providers:
            return None
        from streamrecover.fallback_chain import FallbackChain, prepare_fallbacks

        prepared = prepare_fallbacks(fallbacks, body, source, budget_for=self.budget_for)
        return FallbackChain(
            prepared,
            provider=serving.name,
            model=model,
            base_url=serving.base_url,
            make_session=make_session,
            timeouts_for=timeouts_for,
            providers=providers,
        )

    def after(self, fallback: Fallback) -> tuple[Fallback, ...]:
        """The fallbacks configured after ``fallback`` (where a resumed stream may go next)."""
        return self.fallbacks[self.fallbacks.index(fallback) + 1:]

    def last_server(self, record: StreamRecord) -> Fallback | None:
        """The Fallback that served ``record`` last, or None if it never fell back.

        Matched by provider name and model. Raises UsageError when a fallback
        served it and this client has none like it (the message says which).
        """
        if len(record.providers) < 2:
            return None
        last = record.providers[-1]
        for fallback in self.fallbacks:
            if fallback.provider.name == last.provider and fallback.model == last.model:
                return fallback
        raise UsageError(
            f"stream {record.id} fell back and was last served by {last.provider!r} "
            f"(model {last.model!r}); resume it with a client whose fallbacks include "
            f"Fallback({last.provider!r}, {last.model!r}, ...) (credentials are never stored)"
        )


def _check_fallbacks(fallbacks: object) -> tuple[Fallback, ...]:
    from streamrecover.fallback_chain import check_fallbacks

    return check_fallbacks(fallbacks)


#: The ``fallbacks=`` of a call that gave none: the client's own.
DEFAULT: Any = object()
