"""Recovery for streams opened by another HTTP stack.

People who already have an HTTP client (httpx, aiohttp, requests, a company
gateway) can still get classification, retry and stitching: give
:func:`recover_stream` a callable that sends one request and returns the body's
bytes, and it drives a :class:`~streamrecover.core.session.RecoverySession`
through it::

    def send(request: HTTPRequest) -> Iterable[bytes]:
        response = httpx_client.send(httpx_client.build_request(
            request.method, request.url, headers=request.headers, content=request.body,
        ), stream=True)
        if response.status_code != 200:
            raise HTTPStatusError(response.status_code, headers=response.headers.items(),
                                  body=response.read().decode())
        return response.iter_bytes()

    for event in recover_stream("openai", body, send=send, api_key=...):
        ...

``send`` reports failures by raising: a streamrecover fault
(:class:`~streamrecover.core.errors.HTTPStatusError`,
:class:`~streamrecover.core.errors.TransportError`) as it is, an ``OSError`` or a
``TimeoutError`` as a transport fault. Any other exception is not recovered and
propagates unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from streamrecover.core.errors import Fault, TransportError
from streamrecover.core.events import Event
from streamrecover.core.http import HTTPRequest
from streamrecover.core.policy import RetryPolicy
from streamrecover.core.resume import Strategy
from streamrecover.providers.base import Provider
from streamrecover.transport.base import DEFAULT_TIMEOUTS, Timeouts

__all__ = ["recover_stream"]

_SSE_HEADERS = (("content-type", "text/event-stream"),)


class _CallbackResponse:
    """A response whose head is assumed good and whose body comes from ``send``."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body

    @property
    def status(self) -> int:
        return 200

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return _SSE_HEADERS

    def read(self, limit: int) -> bytes:
        return b"".join(self.iter_bytes())[:limit]

    def __enter__(self) -> _CallbackResponse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def iter_bytes(self) -> Iterator[bytes]:
        try:
            for data in self._body:
                if data:
                    yield data
        except Fault:
            raise
        except TimeoutError as exc:
            raise TransportError(f"read timed out: {exc}", kind="idle_timeout") from exc
        except OSError as exc:
            raise TransportError(f"connection failed: {exc}", kind="other") from exc

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()


class _CallbackTransport:
    def __init__(
        self, send: Callable[[HTTPRequest], Iterable[bytes]], first: Iterable[bytes] | None
    ) -> None:
        self._send = send
        self._first = first

    def open(
        self,
        request: HTTPRequest,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        *,
        deadline: float | None = None,
    ) -> _CallbackResponse:
        if self._first is not None:
            # The caller's already-open stream is the first attempt.
            first, self._first = self._first, None
            return _CallbackResponse(first)
        try:
            return _CallbackResponse(self._send(request))
        except Fault:
            raise
        except TimeoutError as exc:
            raise TransportError(f"request timed out: {exc}", kind="read_timeout") from exc
        except OSError as exc:
            raise TransportError(f"connection failed: {exc}", kind="other") from exc


def recover_stream(
    provider: str | Provider,
    body: dict[str, Any],
    *,
    send: Callable[[HTTPRequest], Iterable[bytes]],
    first: Iterable[bytes] | None = None,
    retry: RetryPolicy | None = None,
    strategy: Strategy = "exact",
    **client_options: Any,
) -> Iterator[Event]:
    """Yield the events of a recovering stream whose requests are sent by ``send``.

    Args:
        provider: a provider name or instance (see :class:`streamrecover.Client`).
        body: the provider's JSON request body.
        send: sends one :class:`HTTPRequest` (the first, a retry or a resume) and
            returns the response body as an iterable of bytes; raises on failure.
        first: the body of a stream the caller already opened for ``body``; it is
            the first attempt, and ``send`` is called only to recover.
        retry: the retry policy.
        strategy: the resume strategy.
        client_options: any other :class:`streamrecover.Client` option (storage,
            hooks, api_key, base_url...); storage defaults to none here.

    Raises:
        StreamInterrupted: recovery was exhausted or the fault is final.
    """
    from streamrecover.client import Client

    client_options.setdefault("storage", None)
    client = Client(
        provider,
        transport=_CallbackTransport(send, first),
        retry=retry,
        strategy=strategy,
        **client_options,
    )
    with client, client.stream(**body) as stream:
        yield from stream
