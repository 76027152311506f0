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

from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from streamrecover._client_setup import _ClientBase
from streamrecover.fallback_setup import DEFAULT as _OWN_FALLBACKS

# Only what the classes are made of loads with them; the streams, the
# transports and the rest of the machinery load when a client is built or a
# stream opened (see streamrecover._client_setup).
if TYPE_CHECKING:
    from streamrecover.core.policy import RetryPolicy
    from streamrecover.core.resume import Strategy
    from streamrecover.fallback import Fallback
    from streamrecover.providers.base import Provider
    from streamrecover.stream import AsyncStream, Stream
    from streamrecover.transport.base import (
        AsyncHTTPTransport,
        SyncHTTPTransport,
    )
    from streamrecover.watch import AsyncWatcher, Watcher

__all__ = ["AsyncClient", "Client"]


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
        from streamrecover.stream import Stream

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
        from streamrecover.stream import Stream

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
        from streamrecover.stream import AsyncStream

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
        from streamrecover.stream import AsyncStream

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
