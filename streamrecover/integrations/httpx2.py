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

Retrying happens here: give the SDK ``max_retries=0``. With the SDK's default
(2), what the transport hands back after its own policy gave up still is not
tried again: an error response carries ``x-should-retry: false`` (which both
SDKs obey), and a connection failure is remembered, so that the SDK's retry of
it (numbered by ``x-stainless-retry-count``) is refused without being sent.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from typing import Any

from streamrecover.core.errors import MissingExtraError

try:
    import httpx2
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtraError("the SDK transports", "sdk", "httpx2") from exc

from streamrecover._client_setup import _ClientBase
from streamrecover.client import AsyncClient, Client
from streamrecover.core.errors import (
    HTTPStatusError,
    StreamInterrupted,
    TransportError,
    UsageError,
)
from streamrecover.core.events import Event
from streamrecover.integrations._httpx2_inner import AsyncInner, SyncInner
from streamrecover.integrations._sdk_body import CHUNK as _CHUNK
from streamrecover.integrations._sdk_body import CONTENT_EVENTS as _CONTENT_EVENTS
from streamrecover.integrations._sdk_body import SDKStream
from streamrecover.integrations._sdk_stream import SDKFeed, StreamDiverged, install_tap
from streamrecover.providers.encode import encoder_for
from streamrecover.providers.encode.passthrough import tap_for
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
#: The header the official SDKs number their own retries with (0 on the first try).
RETRY_COUNT_HEADER = "x-stainless-retry-count"
#: Upstream headers that describe the upstream's framing, not the replayed body.
_NOT_REPLAYED = frozenset(
    {"content-length", "transfer-encoding", "content-encoding", "x-should-retry"}
)


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
        self._gave_up = _GaveUp()

    def _setup(
        self, client: _ClientBase, request: httpx2.Request
    ) -> tuple[Any, SDKFeed, dict[str, Any]] | None:
        routed = _route(self.provider_name, request)
        if routed is None:
            return None
        name, base_url, body = routed
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        per_request = copy.copy(client)
        upstream = provider_class(name)(base_url=base_url, headers=headers)
        install_tap(upstream, lambda: tap_for(name, body))
        per_request.provider = upstream
        setup = per_request._prepare(body, retry=None, strategy=None)
        # The SDK cannot take text back: a diverging continuation is resumed again.
        setup.session.keep_delivered = True
        meta: dict[str, Any] = {"model": str(body.get("model", "")), "created": int(time.time())}
        rid = setup.observer.recovery_id or "streamrecover"
        meta["response_id"] = {"openai": f"chatcmpl-{rid}", "anthropic": f"msg_{rid}"}.get(
            name, f"resp_{rid}"
        )
        # The usage chunk goes out whenever the upstream sent one (asked for with
        # stream_options.include_usage, or sent anyway, as Azure does).
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

    def _before_content(
        self, error: StreamInterrupted, request: httpx2.Request, feed: SDKFeed
    ) -> httpx2.Response:
        """What the SDK gets when the session gave up before any content.

        The upstream's own error response (so that the SDK raises its
        ``AuthenticationError``, ``RateLimitError``...), marked
        ``x-should-retry: false``: the transport's policy was applied already.
        A stream-level failure (an error event, a truncated body) is a 200
        stream that ends with the provider's error event (the SDK's
        ``APIError``). A connection failure is raised as httpx2's own exception
        and remembered, so that the SDK's retry of it is not sent again.
        """
        cause = error.cause
        headers = [("x-should-retry", "false")]
        if error.recovery_id:
            headers.append((RECOVERY_HEADER, error.recovery_id))
        if isinstance(cause, HTTPStatusError):
            headers += [(k, v) for k, v in cause.headers if k not in _NOT_REPLAYED]
            return httpx2.Response(
                cause.status, headers=headers, content=cause.body.encode(), request=request
            )
        if isinstance(cause, TransportError) or cause is None:
            self._gave_up.remember(request, error)
            raise _connection_error(error, request) from error
        return httpx2.Response(
            200,
            headers=[*self._head(None), *headers],
            content=feed.fail(str(error), self._error_type(error)),
            request=request,
        )

    def _refuse_sdk_retry(self, request: httpx2.Request) -> None:
        """Raise again, without sending, when the SDK retries what the transport gave up on.

        The SDK marks its retries with ``x-stainless-retry-count``; the
        transport ran its whole retry policy on the first try already, so a
        second round would multiply the attempts (and what they cost).
        """
        count = request.headers.get(RETRY_COUNT_HEADER, "0")
        if count in ("", "0"):
            return
        error = self._gave_up.recall(request)
        if error is not None:
            raise _connection_error(error, request, sdk_retry=True) from error

    @staticmethod
    def _error_type(error: StreamInterrupted) -> str:
        return str(getattr(error.cause, "error_type", "") or "api_error")


def _connection_error(
    error: StreamInterrupted, request: httpx2.Request, *, sdk_retry: bool = False
) -> httpx2.TransportError:
    """httpx2's exception for a connection-level give-up (the SDK's APIConnectionError)."""
    message = str(error)
    if sdk_retry:
        message = (
            "not sent: streamrecover already retried this request under its RetryPolicy "
            f"(give the SDK max_retries=0): {message}"
        )
    kind = getattr(error.cause, "kind", "")
    if kind == "connect_timeout":
        return httpx2.ConnectTimeout(message, request=request)
    if kind in ("idle_timeout", "read_timeout"):
        return httpx2.ReadTimeout(message, request=request)
    return httpx2.ConnectError(message, request=request)


class _GaveUp:
    """The requests the transport gave up on at connection level, by fingerprint (bounded)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._errors: OrderedDict[str, StreamInterrupted] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(request: httpx2.Request) -> str:
        digest = hashlib.sha256(request.method.encode())
        digest.update(str(request.url).encode())
        digest.update(request.content or b"")
        return digest.hexdigest()

    def remember(self, request: httpx2.Request, error: StreamInterrupted) -> None:
        key = self._key(request)
        with self._lock:
            self._errors[key] = error
            self._errors.move_to_end(key)
            while len(self._errors) > self._size:
                self._errors.popitem(last=False)

    def recall(self, request: httpx2.Request) -> StreamInterrupted | None:
        with self._lock:
            return self._errors.get(self._key(request))


def _more_queued(stream: Stream | AsyncStream) -> bool:
    """Whether the session still holds SSE events of the body read it decodes now.

    The bytes of those events are joined into one chunk: they are ready without
    reading the network again, and the SDK's decoder costs as much per chunk as
    per event. What the session commits is still exactly what httpx2 was handed
    (the chunk goes out before the session reads the network again).
    """
    return stream.session.has_queued_events


def _is_content(event: Event) -> bool:
    return isinstance(event, _CONTENT_EVENTS)


class _SyncBody(httpx2.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes], stream: Stream) -> None:
        self._chunks = chunks
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        # The chunks themselves, not a generator around them: one frame less per chunk.
        return self._chunks

    def close(self) -> None:
        self._stream.close()


class _AsyncBody(httpx2.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes], stream: AsyncStream) -> None:
        self._chunks = chunks
        self._stream = stream

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks

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
        self._refuse_sdk_retry(request)
        prepared, feed, _ = setup
        stream = SDKStream(feed, transport=self.client.transport, **prepared._asdict())
        try:
            next(stream.body)  # up to the first content event (b"": not for the SDK)
        except StreamInterrupted as error:
            stream.close()
            return self._before_content(error, request, feed)
        return httpx2.Response(
            200,
            headers=self._head(stream.recovery_id),
            stream=_SyncBody(stream.body, stream),
            request=request,
        )

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
        self._refuse_sdk_retry(request)
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
            return self._before_content(error, request, feed)
        chunks = self._chunks(first, events, feed, stream)
        return httpx2.Response(
            200,
            headers=self._head(stream.recovery_id),
            stream=_AsyncBody(chunks, stream),
            request=request,
        )

    async def _chunks(
        self, first: list[Event], events: AsyncIterator[Event], feed: SDKFeed, stream: AsyncStream
    ) -> AsyncIterator[bytes]:
        out = bytearray()
        try:
            for event in first:
                out += feed.feed(event)
            if out and not _more_queued(stream):
                yield bytes(out)
                out.clear()
            async for event in events:
                chunk = feed.feed(event)
                # _more_queued, inline: this runs once per event.
                if out:
                    out += chunk
                    if len(out) >= _CHUNK or not stream.session.has_queued_events:
                        yield bytes(out)
                        out.clear()
                elif chunk:
                    # Often the only bytes of its read (a text frame): sent as they are.
                    if len(chunk) < _CHUNK and stream.session.has_queued_events:
                        out += chunk
                    else:
                        yield chunk
        except StreamInterrupted as error:
            out += feed.fail(str(error), self._error_type(error))
        except StreamDiverged as error:
            out += feed.fail(str(error), "api_error")
        if out:
            yield bytes(out)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.inner.aclose()
