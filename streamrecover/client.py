"""Client and AsyncClient: what people use to open recovering streams.

::

    client = Client("anthropic", storage="sqlite:///streams.db")
    with client.stream(model="claude-sonnet-4-5", max_tokens=1024,
                       messages=[{"role": "user", "content": "Hi"}]) as stream:
        for text in stream.text_stream:
            print(text, end="", flush=True)

Keyword arguments of ``stream()`` are the provider's own JSON body, as in the
official SDKs. Both clients share everything but the loop that waits (see
:mod:`streamrecover.stream`).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from streamrecover.core.errors import StreamInterrupted, UsageError
from streamrecover.core.events import FellBack, Resumed, Retrying
from streamrecover.core.policy import RetryBudget, RetryPolicy
from streamrecover.core.redact import redact
from streamrecover.core.resume import STRATEGIES, Strategy
from streamrecover.core.session import RecoverySession
from streamrecover.fallback import Fallback
from streamrecover.fallback_chain import FallbackChain, SessionFactory
from streamrecover.fallback_setup import DEFAULT as _OWN_FALLBACKS
from streamrecover.fallback_setup import ClientFallbacks
from streamrecover.observe import Hooks, StreamObserver
from streamrecover.providers.base import Provider, ResumePoint
from streamrecover.providers.registry import get_provider, provider_class
from streamrecover.storage._defaults import DEFAULT_RENEW_INTERVAL
from streamrecover.stream import AsyncStream, Stream
from streamrecover.transport.base import (
    AsyncHTTPTransport,
    SyncHTTPTransport,
    Timeouts,
)

if TYPE_CHECKING:
    from streamrecover.integrations.otel import StreamTelemetry, Telemetry
    from streamrecover.storage.base import Storage
    from streamrecover.storage.record import StreamRecord
    from streamrecover.watch import AsyncWatcher, Watcher

__all__ = ["AsyncClient", "Client"]


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
        text = f"{type(self).__name__}({self.provider!r}, strategy={self.strategy!r})"
        return redact(text, secrets=self.provider.secrets)

    def _timeouts_for(self, body: Mapping[str, Any], provider: Provider | None = None) -> Timeouts:
        if self.timeouts is not None:
            return self.timeouts
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


class Client(_ClientBase):
    """A recovering streaming client (sync, h11 over stdlib sockets).

    Args:
        provider: ``"openai"`` (and any OpenAI-compatible server with ``base_url``),
            ``"openai-responses"``, ``"anthropic"``, ``"gemini"``, or a Provider.
        api_key: the provider's key; by default read from its usual environment
            variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``
            or ``GOOGLE_API_KEY``). Never logged, never stored.
        base_url: the server, for OpenAI-compatible servers and proxies.
        retry: the retry policy (default ``RetryPolicy()``).
        strategy: how to resume a half-delivered answer: ``exact`` (default),
            ``paragraph``, ``summarize``, ``restart``; ``native`` is used by itself
            wherever the provider allows it.
        storage: a storage URL (``memory://``, ``sqlite:///path``, ``disk:///path``),
            a Storage, or None to record nothing.
        timeouts: connect/read/idle/write timeouts; by default the idle timeout
            follows the provider and request (longer when thinking is on).
        budget: a RetryBudget shared by this client's streams; None disables it.
        prefill: override whether the model accepts an assistant prefill.
        transport: a SyncTransport (for a CA bundle, a proxy, or a test double).
        on_retry, on_resume, on_give_up: hooks called with the event and recovery id.
        checkpoint_interval: seconds between storage flushes while streaming.
        rng: randomness for backoff jitter.
        summarizer: condenses a long partial answer for the ``summarize`` strategy.
        max_line_size: the cap on one SSE line and one event (16 MiB); a larger one
            is an SSEProtocolError, never unbounded memory.
        telemetry: OpenTelemetry spans and metrics (see
            :mod:`streamrecover.integrations.otel`): None (default) instruments
            whenever ``opentelemetry-api`` is installed and an SDK is set up;
            False never; a ``Telemetry`` to choose providers and content capture.
        tracer_provider, meter_provider: use these instead of the global providers.
        progress_timeout: seconds an attempt may go without a content event (text,
            reasoning, a tool call; keep-alive comments and pings do not count)
            before it is retried or resumed. Default: the provider's (300 s,
            900 s with thinking); ``math.inf`` turns it off.
        renew_interval: how often a stream renews its lease on its record while
            it writes nothing (seconds); the lease lasts five intervals.
        fallbacks: ``[Fallback(provider, model, api_key=..., ...), ...]``: where
            a stream goes on, in order, when this provider gives up for a
            reason another could fix (see :mod:`streamrecover.fallback_chain`);
            ``stream(fallbacks=...)`` overrides it per call.
        on_fallback: hook called with the ``FellBack`` event and the recovery id.

    Raises:
        UsageError: unknown provider or strategy, contradictory arguments.
        MissingExtraError: the ``sync`` extra (h11) is not installed.
    """

    def __init__(
        self,
        provider: str | Provider = "openai",
        *,
        transport: SyncHTTPTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(provider, **options)
        if transport is None:
            from streamrecover.transport import SyncTransport

            transport = SyncTransport()
        self.transport = transport

    def stream(
        self,
        *,
        retry: RetryPolicy | None = None,
        strategy: Strategy | None = None,
        fallbacks: Sequence[Fallback] | object | None = _OWN_FALLBACKS,
        **body: Any,
    ) -> Stream:
        """Open a recovering stream for the provider's JSON ``body``.

        ``retry``, ``strategy`` and ``fallbacks`` override the client's for this
        call (``fallbacks=[]`` or None: none). Returns a :class:`Stream`;
        nothing is sent until it is iterated.

        Raises:
            UntranslatableError: a field of ``body`` cannot be carried to a
                fallback's format (named, with the fallback); nothing was sent.
            UsageError: the provider cannot send ``body``.
        """
        setup = self._prepare(body, retry=retry, strategy=strategy, fallbacks=fallbacks)
        return Stream(transport=self.transport, **setup._asdict())

    def resume(
        self,
        recovery_id: str,
        *,
        retry: RetryPolicy | None = None,
        strategy: Strategy | None = None,
        replay: bool = False,
        force: bool = False,
    ) -> Stream:
        """Continue a stored, interrupted stream (in this process or after a crash).

        Yields only the new text unless ``replay`` is set, in which case the stored
        text comes first as one TextDelta. The continuation is recorded under the
        same id. Credentials come from this client, never from storage.

        The stream is claimed before this returns (``Storage.claim``): of several
        callers resuming one stream at once, in any processes, exactly one
        succeeds. An ``interrupted`` or ``failed`` stream is claimed at once. An
        ``active`` one is claimed at once when its writer ran on this machine
        and its process is gone (killed, crashed), and otherwise once its lease
        expired: a live writer renews it every ``renew_interval`` seconds (2 s),
        also while it waits to retry or the model thinks, and loses it after
        five intervals without a renewal (10 s). ``force=True`` claims an
        active stream whatever its lease. Every claim fences the previous
        writer out: if it is in fact alive (or only paused), its next write is
        refused and it stops with a StreamInterrupted saying another process
        owns the record, so two writers never interleave. If building the
        resume fails after the claim, the claim is given back (the record
        returns to its previous status).

        Raises:
            RecordNotFoundError: no stream with that id.
            StatusConflictError: the stream is cancelled, or active and owned by a
                live writer (another caller is resuming or streaming it).
            UsageError: the stream is complete, or belongs to another provider.
        """
        setup = self._prepare_resume(
            recovery_id, retry=retry, strategy=strategy, replay=replay, force=force
        )
        return Stream(transport=self.transport, **setup._asdict())

    def watch(self, recovery_id: str, *, after: int | None = None) -> Watcher:
        """Follow a stored stream that any process sharing this client's storage produces.

        Yields its events from offset ``after`` on (the start when None): the
        stored text first, then live, ending with Completed; ``event_offset`` on
        the watcher is each event's offset (an SSE ``id:``). See
        :mod:`streamrecover.watch`. Raises UsageError without storage.
        """
        from streamrecover.watch import Watcher

        return Watcher(self._watched_storage(), recovery_id, after=after)

    def close(self) -> None:
        """Close the storage the client opened from a URL."""
        self._close_storage()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_ClientBase):
    """A recovering streaming client for asyncio and trio (h11 over anyio).

    Takes the same arguments as :class:`Client`; ``transport`` is an AsyncTransport.
    Storage is called directly from the event loop: a flush costs tens of
    microseconds with SQLite (see benchmarks/README.md).

    Raises:
        MissingExtraError: the ``async`` extra (h11, anyio) is not installed.
    """

    def __init__(
        self,
        provider: str | Provider = "openai",
        *,
        transport: AsyncHTTPTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(provider, **options)
        if transport is None:
            from streamrecover.transport import AsyncTransport

            transport = AsyncTransport()
        self.transport = transport

    def stream(
        self,
        *,
        retry: RetryPolicy | None = None,
        strategy: Strategy | None = None,
        fallbacks: Sequence[Fallback] | object | None = _OWN_FALLBACKS,
        **body: Any,
    ) -> AsyncStream:
        """Open a recovering stream; see :meth:`Client.stream`."""
        setup = self._prepare(body, retry=retry, strategy=strategy, fallbacks=fallbacks)
        return AsyncStream(transport=self.transport, **setup._asdict())

    def resume(
        self,
        recovery_id: str,
        *,
        retry: RetryPolicy | None = None,
        strategy: Strategy | None = None,
        replay: bool = False,
        force: bool = False,
    ) -> AsyncStream:
        """Continue a stored, interrupted stream; see :meth:`Client.resume` (and ``force``)."""
        setup = self._prepare_resume(
            recovery_id, retry=retry, strategy=strategy, replay=replay, force=force
        )
        return AsyncStream(transport=self.transport, **setup._asdict())

    def watch(self, recovery_id: str, *, after: int | None = None) -> AsyncWatcher:
        """Follow a stored stream without blocking the event loop; see :meth:`Client.watch`."""
        from streamrecover.watch import AsyncWatcher

        return AsyncWatcher(self._watched_storage(), recovery_id, after=after)

    async def aclose(self) -> None:
        """Close the storage the client opened from a URL."""
        self._close_storage()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _key_from_environment(provider: str) -> str | None:
    for name in provider_class(provider).api_key_env:
        value = os.environ.get(name)
        if value:
            return value
    return None
