"""What Client and AsyncClient share: their configuration and how a stream is set up.

:class:`_ClientBase` holds the options a client was built with and turns a
``stream()`` call, or a ``resume()`` of a stored record, into the session,
observer, timeouts and fallback chain a :class:`~streamrecover.stream.Stream`
runs (:class:`_Setup`). The public classes, and the loops that wait, are in
:mod:`streamrecover.client` and :mod:`streamrecover.stream`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from streamrecover.core.errors import StreamInterrupted, UsageError
from streamrecover.fallback_setup import DEFAULT as _OWN_FALLBACKS
from streamrecover.fallback_setup import ClientFallbacks
from streamrecover.providers.registry import get_provider, provider_class
from streamrecover.storage._defaults import DEFAULT_RENEW_INTERVAL

# The session, the observer, the transports' timeouts and the retry policy load
# when the first client is built, not with ``from streamrecover import Client``
# (issue 14); what only some streams use (fallbacks, storage, telemetry) loads
# with the first stream that uses it.
if TYPE_CHECKING:
    import random

    from streamrecover.core.events import FellBack, Resumed, Retrying
    from streamrecover.core.policy import RetryBudget, RetryPolicy
    from streamrecover.core.resume import Strategy
    from streamrecover.core.session import RecoverySession
    from streamrecover.fallback import Fallback
    from streamrecover.fallback_chain import FallbackChain, SessionFactory
    from streamrecover.integrations.otel import StreamTelemetry, Telemetry
    from streamrecover.observe import StreamObserver
    from streamrecover.providers.base import Provider, ResumePoint
    from streamrecover.storage.base import Storage
    from streamrecover.storage.record import StreamRecord
    from streamrecover.transport.base import Timeouts

__all__ = ["_ClientBase", "_Setup", "_key_from_environment"]


_DEFAULT = object()


class _Setup(NamedTuple):
    """Everything a Stream or AsyncStream is built from, but the transport."""

    session: RecoverySession
    observer: StreamObserver
    timeouts: Timeouts
    safe_mode: str
    replay: str = ""
    fallbacks: FallbackChain | None = None


class _ClientBase:
    """Configuration and stream setup shared by :class:`Client` and :class:`AsyncClient`."""

    def __init__(
        self,
        provider: str | Provider = "openai",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        strategy: Strategy = "exact",
        storage: str | Storage | None = "memory://",
        timeouts: Timeouts | None = None,
        budget: RetryBudget | object | None = _DEFAULT,
        prefill: bool | None = None,
        headers: Mapping[str, str] | None = None,
        on_retry: Callable[[Retrying, str | None], object] | None = None,
        on_resume: Callable[[Resumed, str | None], object] | None = None,
        on_give_up: Callable[[StreamInterrupted, str | None], object] | None = None,
        checkpoint_interval: float = 0.25,
        rng: random.Random | None = None,
        summarizer: Callable[[str], str] | None = None,
        max_line_size: int = 16 * 1024 * 1024,
        telemetry: Telemetry | bool | None = None,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        progress_timeout: float | None = None,
        renew_interval: float = DEFAULT_RENEW_INTERVAL,
        fallbacks: Sequence[Fallback] | None = None,
        on_fallback: Callable[[FellBack, str | None], object] | None = None,
    ) -> None:
        import random

        from streamrecover.core.policy import RetryBudget, RetryPolicy
        from streamrecover.core.resume import STRATEGIES
        from streamrecover.observe import Hooks
        from streamrecover.providers.base import Provider

        if not isinstance(renew_interval, int | float) or not 0 < renew_interval < 1e9:
            raise UsageError(f"renew_interval must be a positive number, got {renew_interval!r}")
        if strategy not in STRATEGIES:
            raise UsageError(
                f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}"
            )
        if isinstance(provider, Provider):
            if api_key is not None or base_url is not None or prefill is not None:
                raise UsageError("give api_key, base_url and prefill to the Provider itself")
            self.provider = provider
        else:
            key = api_key if api_key is not None else _key_from_environment(provider)
            self.provider = get_provider(
                provider, api_key=key, base_url=base_url, prefill=prefill, headers=headers
            )
        self.retry = retry if retry is not None else RetryPolicy()
        self.strategy: Strategy = strategy
        self.timeouts = timeouts
        #: Shared by every stream of this client (None: no budget).
        self.budget: RetryBudget | None = (
            RetryBudget() if budget is _DEFAULT else budget  # type: ignore[assignment]
        )
        self.hooks = Hooks(on_retry=on_retry, on_resume=on_resume, on_give_up=on_give_up,
                           on_fallback=on_fallback)
        self._fallbacks = ClientFallbacks(fallbacks, budgets=self.budget is not None)
        #: Where a stream goes on when this client's provider gives up, in order.
        self.fallbacks: tuple[Fallback, ...] = self._fallbacks.fallbacks
        self.checkpoint_interval = checkpoint_interval
        self._rng = rng if rng is not None else random.Random()
        self._summarizer = summarizer
        self.max_line_size = max_line_size
        #: OpenTelemetry spans and metrics (None: not installed, or ``telemetry=False``).
        self.telemetry: Telemetry | None = None
        if telemetry is not False:
            from streamrecover.integrations.otel import Telemetry

            self.telemetry = Telemetry.for_client(
                telemetry=telemetry,
                tracer_provider=tracer_provider,
                meter_provider=meter_provider,
            )
        #: None: the provider's default for each request (see Provider.default_progress_timeout).
        self.progress_timeout = progress_timeout
        self.renew_interval = float(renew_interval)
        self._owns_storage = isinstance(storage, str)
        if isinstance(storage, str):
            # The storage machinery loads here, on first use, not on import.
            from streamrecover.storage.registry import open_storage
        self.storage: Storage | None = (
            open_storage(storage) if isinstance(storage, str) else storage
        )

    def __repr__(self) -> str:
        from streamrecover.core.redact import redact

        text = f"{type(self).__name__}({self.provider!r}, strategy={self.strategy!r})"
        return redact(text, secrets=self.provider.secrets)

    def _timeouts_for(self, body: Mapping[str, Any], provider: Provider | None = None) -> Timeouts:
        if self.timeouts is not None:
            return self.timeouts
        from streamrecover.transport.base import Timeouts

        # The idle timeout follows the request: a thinking model pauses for longer.
        return Timeouts(idle=(provider or self.provider).default_idle_timeout(body))

    def _session_factory(self, strategy: Strategy) -> SessionFactory:
        """Builds a fallback's session with this client's settings."""

        def make_session(
            provider: Provider, body: dict[str, Any], policy: RetryPolicy | None,
            committed: str, budget: RetryBudget | None,
        ) -> RecoverySession:
            return self._session(body, retry=policy, strategy=strategy,
                                 committed=committed, provider=provider, budget=budget)

        return make_session

    def _prepare(
        self,
        body: dict[str, Any],
        *,
        retry: RetryPolicy | None,
        strategy: Strategy | None,
        fallbacks: object = _OWN_FALLBACKS,
    ) -> _Setup:
        from streamrecover.observe import StreamObserver

        chosen: Strategy = strategy if strategy is not None else self.strategy
        self.provider.build_request(body)  # a body the provider cannot send fails here
        chain = self._fallbacks.chain(
            body, fallbacks, source=self.provider.name, serving=self.provider,
            model=self.provider.model(body), make_session=self._session_factory(chosen),
            timeouts_for=self._timeouts_for,
        )
        session = self._session(body, retry=retry, strategy=chosen)
        checkpointer = None
        recovery_id = None
        telemetry = self._start_telemetry(body, chosen, recovery_id=None)
        if self.storage is not None:
            options: dict[str, Any] = {"strategy": chosen}
            if telemetry is not None:
                # Stored so that a resume in another process links to this span.
                options["trace"] = telemetry.span_context
            from streamrecover.storage.base import lease_for
            from streamrecover.storage.lease import start_writing
            from streamrecover.storage.owner import current_owner
            from streamrecover.storage.record import new_record

            record = new_record(
                provider=self.provider.name,
                model=self.provider.model(body),
                request=body,
                base_url=self.provider.base_url,
                options=options,
                clock=self.storage.clock,
                owner=current_owner(),
                lease=lease_for(self.renew_interval),
            )
            recovery_id = record.id
            if telemetry is not None:
                telemetry.span.set_attribute("streamrecover.recovery_id", record.id)
            checkpointer = start_writing(
                self.storage, record, created=False, interval=self.checkpoint_interval,
                renew_interval=self.renew_interval,
            )
        observer = StreamObserver(
            session,
            checkpointer=checkpointer,
            recovery_id=recovery_id,
            hooks=self.hooks,
            telemetry=telemetry,
        )
        return _Setup(
            session=session,
            observer=observer,
            timeouts=self._timeouts_for(body),
            safe_mode=self._safe_mode(body, chosen),
            fallbacks=chain,
        )

    def _prepare_resume(
        self,
        recovery_id: str,
        *,
        retry: RetryPolicy | None,
        strategy: Strategy | None,
        replay: bool,
        force: bool,
    ) -> _Setup:
        if self.storage is None:
            raise UsageError("resume needs a client with storage")
        from streamrecover.storage.base import lease_for
        from streamrecover.storage.lease import give_back

        record = self.storage.get(recovery_id)
        if record.status == "completed":
            raise UsageError(f"stream {recovery_id} is already complete; nothing to resume")
        serving = self._fallbacks.last_server(record)
        if serving is None and record.provider != self.provider.name:
            raise UsageError(
                f"stream {recovery_id} was recorded for {record.provider!r}, "
                f"this client speaks {self.provider.name!r}"
            )
        policy = retry if retry is not None else self.retry
        # Claim the record: one atomic check-and-set in storage, so that of two
        # resumers exactly one wins, and a stream that is still live elsewhere
        # is left alone. Everything below uses the record as claimed; if it
        # fails, the claim is given back.
        before = record
        record = self.storage.claim(
            recovery_id, force=force, lease=lease_for(self.renew_interval)
        )
        try:
            return self._resume_setup(record, policy, strategy, replay, serving)
        except BaseException:
            give_back(self.storage, record, before)
            raise

    def _resume_setup(
        self,
        record: StreamRecord,
        policy: RetryPolicy,
        strategy: Strategy | None,
        replay: bool,
        serving: Fallback | None = None,
    ) -> _Setup:
        from streamrecover.core.resume import STRATEGIES
        from streamrecover.observe import StreamObserver
        from streamrecover.providers.base import ResumePoint
        from streamrecover.storage.lease import start_writing

        assert self.storage is not None
        recovery_id = record.id
        stored = record.options.get("strategy")
        chosen: Strategy = (
            strategy if strategy is not None else stored if stored in STRATEGIES else self.strategy
        )
        body = dict(record.request)
        provider = self.provider
        if serving is not None:
            # The stream fell back: it goes on where it was last served, with the
            # credentials of this client's Fallback (never from storage), and may
            # fall back further to the fallbacks configured after that one.
            provider = serving.provider
            if policy is self.retry and serving.retry is not None:
                policy = serving.retry
        chain = self._fallbacks.chain(
            body,
            _OWN_FALLBACKS if serving is None else self._fallbacks.after(serving),
            source=record.provider,
            serving=provider,
            model=provider.model(body) if serving is None else serving.model,
            make_session=self._session_factory(chosen),
            timeouts_for=self._timeouts_for,
            providers=record.providers,
        )
        if serving is not None:
            body = serving.request_body(record.request, record.provider)
        point = ResumePoint(
            last_event_id=record.last_event_id or "",
            response_id=record.response_id or "",
            sequence_number=record.sequence_number,
        )
        session = self._session(
            body, retry=policy, strategy=chosen, committed=record.text, point=point,
            provider=provider,
            budget=self._fallbacks.budget_for(serving) if serving is not None else _DEFAULT,
        )
        # The record's counters go on: the earlier attempts happened, and picking
        # the stream up again is itself a resume.
        session.attempts = record.attempts
        session.resumes = record.resumes + 1
        checkpointer = start_writing(
            self.storage, record, created=True, interval=self.checkpoint_interval,
            renew_interval=self.renew_interval,
        )
        link = record.options.get("trace")
        telemetry = self._start_telemetry(
            body, chosen, recovery_id=recovery_id, link=link if isinstance(link, dict) else None
        )
        observer = StreamObserver(
            session,
            checkpointer=checkpointer,
            recovery_id=recovery_id,
            hooks=self.hooks,
            telemetry=telemetry,
        )
        if chain is not None and chain.fell_back:
            observer.providers = tuple(chain.providers)
        return _Setup(
            session=session,
            observer=observer,
            timeouts=self._timeouts_for(body, provider),
            safe_mode=self._safe_mode(body, chosen, provider),
            replay=record.text if replay else "",
            fallbacks=chain,
        )

    def _start_telemetry(
        self,
        body: Mapping[str, Any],
        strategy: Strategy,
        *,
        recovery_id: str | None,
        link: Mapping[str, Any] | None = None,
    ) -> StreamTelemetry | None:
        if self.telemetry is None:
            return None
        return self.telemetry.start_stream(
            provider=self.provider.name,
            model=self.provider.model(body),
            base_url=self.provider.base_url,
            strategy=strategy,
            body=body,
            recovery_id=recovery_id,
            link=link,
        )

    def _session(
        self,
        body: Mapping[str, Any],
        *,
        retry: RetryPolicy | None,
        strategy: Strategy,
        committed: str = "",
        point: ResumePoint | None = None,
        provider: Provider | None = None,
        budget: RetryBudget | object | None = _DEFAULT,
    ) -> RecoverySession:
        from streamrecover.core.session import RecoverySession

        return RecoverySession(
            provider if provider is not None else self.provider,
            body,
            policy=retry if retry is not None else self.retry,
            strategy=strategy,
            rng=self._rng,
            clock=time.monotonic,
            wall_clock=time.time,
            budget=self.budget if budget is _DEFAULT else budget,  # type: ignore[arg-type]
            committed_text=committed,
            resume_point=point,
            summarizer=self._summarizer,
            max_line_size=self.max_line_size,
            progress_timeout=self.progress_timeout,
        )

    def _safe_mode(
        self, body: Mapping[str, Any], strategy: Strategy, provider: Provider | None = None
    ) -> str:
        # A structured answer always restarts, whatever the strategy says.
        return "restart" if (provider or self.provider).structured_output(body) else strategy

    def _watched_storage(self) -> Storage:
        if self.storage is None:
            raise UsageError("watch needs a client with storage")
        return self.storage

    def _close_storage(self) -> None:
        if self._owns_storage and self.storage is not None:
            self.storage.close()


def _key_from_environment(provider: str) -> str | None:
    for name in provider_class(provider).api_key_env:
        value = os.environ.get(name)
        if value:
            return value
    return None
