"""httpx2 transports that give the official SDKs recovery, with one line changed::

    client = openai.OpenAI(http_client=httpx2.Client(
        transport=RecoveringTransport("openai", storage="sqlite:///streams.db"), timeout=None))
    client = anthropic.Anthropic(http_client=httpx2.Client(
        transport=RecoveringTransport("anthropic")), max_retries=0)

A streaming request (``"stream": true`` in its JSON body, to an endpoint the
provider knows) runs under a recovery session, sent through ``inner`` (the
user's own httpx2 transport; a plain ``HTTPTransport()`` by default). The SDK
receives one uninterrupted provider-native stream whose text is exactly
``stream.text`` (see :mod:`streamrecover.integrations._sdk_stream`). Every other
request passes through ``inner`` unchanged.

* A final error before the first byte comes back as the upstream's own
  response (status, headers, body): the SDK raises its usual
  ``AuthenticationError``, ``BadRequestError``...
* Giving up after bytes were delivered ends the stream with the provider's own
  error event: the SDK raises its ``APIError`` with the message.
* The response carries ``x-streamrecover-id`` (the recovery id, when storage
  is on), for ``Client.resume(id)`` later.
* Credentials come from each SDK request (its auth headers are forwarded);
  none is stored in the transport.

Retrying happens here: give the SDK ``max_retries=0`` so that a failure the
transport already retried is not retried again by the SDK.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from streamrecover.core.errors import MissingExtraError

try:
    import httpx2
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtraError("the SDK transports", "sdk", "httpx2") from exc

from streamrecover._client_setup import _ClientBase
from streamrecover.client import AsyncClient, Client
from streamrecover.core.errors import HTTPStatusError, StreamInterrupted, UsageError
from streamrecover.core.events import Event, Finished, ReasoningDelta, TextDelta, ToolCallDelta
from streamrecover.integrations._httpx2_inner import AsyncInner, SyncInner
from streamrecover.integrations._sdk_stream import SDKFeed, StreamDiverged
from streamrecover.providers.encode import encoder_for
from streamrecover.providers.registry import provider_class
from streamrecover.stream import AsyncStream, Stream

__all__ = ["AsyncRecoveringTransport", "RecoveringTransport"]

#: Registry name -> (endpoint path suffix, provider speaking it).
_ROUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "openai": (("/chat/completions", "openai"), ("/responses", "openai-responses")),
    "openai-responses": (("/responses", "openai-responses"),),
    "anthropic": (("/v1/messages", "anthropic"),),
}
#: Request headers the session sets itself (or that describe the SDK's own body).
_DROPPED = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "accept-encoding",
        "connection",
        "content-type",
        "accept",
    }
)
RECOVERY_HEADER = "x-streamrecover-id"
_CONTENT_EVENTS = (TextDelta, ToolCallDelta, ReasoningDelta, Finished)


def _route(name: str, request: httpx2.Request) -> tuple[str, str, dict[str, Any]] | None:
    """Return (provider name, base URL, body) for a streaming request, or None to pass it on."""
    if request.method != "POST":
        return None
    path = request.url.path
    matched = [route for route in _ROUTES.get(name, ()) if path.endswith(route[0])]
    if not matched:
        return None
    suffix, provider = matched[0]
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("stream") is not True:
        return None
    base = str(request.url.copy_with(path=path[: -len(suffix)] or "/", query=None))
    query = request.url.query.decode()
    return provider, base.rstrip("/") + (f"?{query}" if query else ""), body


class _Adapter:
    """What the sync and async transports share: routing, per-request setup, responses."""

    def __init__(self, provider: str, options: dict[str, Any]) -> None:
        if provider not in _ROUTES:
            raise UsageError(
                f"no SDK transport for {provider!r}; choose one of {', '.join(_ROUTES)}"
            )
        self.provider_name = provider
        # The template client holds the options, never a key: each request brings its own.
        self._options = {**options, "api_key": ""}

    def _setup(
        self, client: _ClientBase, request: httpx2.Request
    ) -> tuple[Any, SDKFeed, dict[str, Any]] | None:
        routed = _route(self.provider_name, request)
        if routed is None:
            return None
        name, base_url, body = routed
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        per_request = copy.copy(client)
        per_request.provider = provider_class(name)(base_url=base_url, headers=headers)
        setup = per_request._prepare(body, retry=None, strategy=None)
        # The SDK cannot take text back: a diverging continuation is resumed again.
        setup.session.keep_delivered = True
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        meta: dict[str, Any] = {"model": str(body.get("model", "")), "created": int(time.time())}
        rid = setup.observer.recovery_id or "streamrecover"
        meta["response_id"] = {"openai": f"chatcmpl-{rid}", "anthropic": f"msg_{rid}"}.get(
            name, f"resp_{rid}"
        )
        if name == "openai":
            meta["include_usage"] = include_usage
        return setup, SDKFeed(encoder_for(name, **meta), setup.safe_mode), body

    @staticmethod
    def _head(recovery_id: str | None) -> list[tuple[str, str]]:
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
        ]
        if recovery_id:
            headers.append((RECOVERY_HEADER, recovery_id))
        return headers

    @staticmethod
    def _upstream_response(error: StreamInterrupted, request: httpx2.Request) -> httpx2.Response:
        cause = error.cause
        if isinstance(cause, HTTPStatusError):
            headers = [
                (k, v)
                for k, v in cause.headers
                if k not in ("content-length", "transfer-encoding", "content-encoding")
            ]
            return httpx2.Response(
                cause.status, headers=headers, content=cause.body.encode(), request=request
            )
        raise httpx2.ConnectError(str(error), request=request) from error

    @staticmethod
    def _error_type(error: StreamInterrupted) -> str:
        return str(getattr(error.cause, "error_type", "") or "api_error")


def _is_content(event: Event) -> bool:
    return isinstance(event, _CONTENT_EVENTS)


class _SyncBody(httpx2.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes], stream: Stream) -> None:
        self._chunks = chunks
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    def close(self) -> None:
        self._stream.close()


class _AsyncBody(httpx2.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes], stream: AsyncStream) -> None:
        self._chunks = chunks
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        closer = getattr(self._chunks, "aclose", None)
        if closer is not None:
            await closer()
        await self._stream.aclose()


class RecoveringTransport(httpx2.BaseTransport, _Adapter):
    """An httpx2 transport for ``openai.OpenAI`` / ``anthropic.Anthropic`` (see the module).

    Args:
        provider: ``"openai"`` (Chat Completions and Responses), ``"openai-responses"``
            or ``"anthropic"``.
        inner: the httpx2 transport every attempt and every passed-through
            request goes through (default ``httpx2.HTTPTransport()``).
        options: those of :class:`~streamrecover.Client` (``storage``, ``retry``,
            ``strategy``, ``budget``, ``on_retry``...), except ``api_key``.

    Raises:
        UsageError: an unknown provider or option.
    """

    def __init__(
        self, provider: str = "openai", *, inner: httpx2.BaseTransport | None = None, **options: Any
    ) -> None:
        _Adapter.__init__(self, provider, options)
        self.inner = inner if inner is not None else httpx2.HTTPTransport()
        self.client = Client(
            _ROUTES[provider][0][1], transport=SyncInner(self.inner), **self._options
        )

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        setup = self._setup(self.client, request)
        if setup is None:
            return self.inner.handle_request(request)
        prepared, feed, _ = setup
        stream = Stream(transport=self.client.transport, **prepared._asdict())
        events = iter(stream)
        first: list[Event] = []
        try:
            for event in events:
                first.append(event)
                if _is_content(event):
                    break
        except StreamInterrupted as error:
            stream.close()
            return self._upstream_response(error, request)
        chunks = self._chunks(first, events, feed)
        return httpx2.Response(
            200,
            headers=self._head(stream.recovery_id),
            stream=_SyncBody(chunks, stream),
            request=request,
        )

    def _chunks(
        self, first: list[Event], events: Iterator[Event], feed: SDKFeed
    ) -> Iterator[bytes]:
        try:
            for event in first:
                data = feed.feed(event)
                if data:
                    yield data
            for event in events:
                data = feed.feed(event)
                if data:
                    yield data
        except StreamInterrupted as error:
            yield feed.fail(str(error), self._error_type(error))
        except StreamDiverged as error:
            yield feed.fail(str(error), "api_error")

    def close(self) -> None:
        self.client.close()
        self.inner.close()


class AsyncRecoveringTransport(httpx2.AsyncBaseTransport, _Adapter):
    """The asyncio twin of :class:`RecoveringTransport` (``inner``: an AsyncHTTPTransport)."""

    def __init__(
        self,
        provider: str = "openai",
        *,
        inner: httpx2.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        _Adapter.__init__(self, provider, options)
        self.inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self.client = AsyncClient(
            _ROUTES[provider][0][1], transport=AsyncInner(self.inner), **self._options
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        setup = self._setup(self.client, request)
        if setup is None:
            return await self.inner.handle_async_request(request)
        prepared, feed, _ = setup
        stream = AsyncStream(transport=self.client.transport, **prepared._asdict())
        events = aiter(stream)
        first: list[Event] = []
        try:
            async for event in events:
                first.append(event)
                if _is_content(event):
                    break
        except StreamInterrupted as error:
            await stream.aclose()
            return self._upstream_response(error, request)
        chunks = self._chunks(first, events, feed)
        return httpx2.Response(
            200,
            headers=self._head(stream.recovery_id),
            stream=_AsyncBody(chunks, stream),
            request=request,
        )

    async def _chunks(
        self, first: list[Event], events: AsyncIterator[Event], feed: SDKFeed
    ) -> AsyncIterator[bytes]:
        try:
            for event in first:
                data = feed.feed(event)
                if data:
                    yield data
            async for event in events:
                data = feed.feed(event)
                if data:
                    yield data
        except StreamInterrupted as error:
            yield feed.fail(str(error), self._error_type(error))
        except StreamDiverged as error:
            yield feed.fail(str(error), "api_error")

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.inner.aclose()
