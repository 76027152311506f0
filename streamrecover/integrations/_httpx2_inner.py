"""An httpx2 transport seen as a streamrecover transport (the ``inner=`` of the SDK adapter).

The recovery loop (:mod:`streamrecover.stream`) sends its attempts through the
user's own httpx2 transport, so proxies, TLS settings and connection limits the
user configured apply. httpx2's exceptions are mapped to
:class:`~streamrecover.core.errors.TransportError` here, at the one boundary
where they enter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from types import TracebackType
from typing import Any

import httpx2

from streamrecover.core.errors import TransportError
from streamrecover.core.http import HTTPRequest
from streamrecover.transport.base import DEFAULT_TIMEOUTS, Timeouts

__all__ = ["AsyncInner", "SyncInner", "SyncResponse", "fault", "to_httpx2"]


def _kind(exc: httpx2.TransportError) -> Any:
    if isinstance(exc, httpx2.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx2.ReadTimeout):
        return "idle_timeout"
    if isinstance(exc, httpx2.TimeoutException):
        return "read_timeout"
    if isinstance(exc, httpx2.ConnectError):
        return "connect_refused"
    if isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError):
        return "reset"
    return "other"


def _fault(exc: httpx2.TransportError) -> TransportError:
    return TransportError(f"{type(exc).__name__}: {exc}", kind=_kind(exc))


#: httpx2's exception as the session's fault (for a reader of :attr:`SyncResponse.reads`).
fault = _fault


def to_httpx2(request: HTTPRequest, timeouts: Timeouts) -> httpx2.Request:
    """Return ``request`` as an httpx2 request with the attempt's timeouts."""
    timeout = {
        "connect": timeouts.connect,
        "read": timeouts.idle,
        "write": timeouts.write,
        "pool": timeouts.connect,
    }
    return httpx2.Request(
        request.method,
        request.url,
        headers=list(request.headers),
        content=request.body or b"",
        extensions={"timeout": timeout},
    )


class _Response:
    def __init__(self, response: httpx2.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers = tuple((k.lower(), v) for k, v in response.headers.multi_items())


class SyncResponse(_Response):
    """One attempt's response, read as it comes."""

    @property
    def reads(self) -> Iterable[bytes]:
        """The body's reads as httpx2 gives them: its exceptions are not mapped
        (see :func:`fault`); :meth:`iter_bytes` without its generator."""
        return self._response.stream  # type: ignore[return-value]

    def iter_bytes(self) -> Iterator[bytes]:
        stream = self._response.stream
        try:
            yield from stream  # type: ignore[misc]
        except httpx2.TransportError as exc:
            raise _fault(exc) from exc

    def read(self, limit: int) -> bytes:
        data = b""
        for chunk in self.iter_bytes():
            data += chunk
            if len(data) >= limit:
                break
        return data[:limit]

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> SyncResponse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncResponse(_Response):
    """The asynchronous counterpart of :class:`SyncResponse`."""

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        chunks = aiter(self._response.stream)  # type: ignore[arg-type]
        try:
            async for chunk in chunks:
                yield chunk
        except httpx2.TransportError as exc:
            raise _fault(exc) from exc
        finally:
            # Closed here, not by the garbage collector (trio warns about that).
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                await closer()

    async def read(self, limit: int) -> bytes:
        data = b""
        async for chunk in self.aiter_bytes():
            data += chunk
            if len(data) >= limit:
                break
        return data[:limit]

    async def aclose(self) -> None:
        await self._response.aclose()

    async def __aenter__(self) -> AsyncResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class SyncInner:
    """Open each attempt through an httpx2 ``BaseTransport``."""

    def __init__(self, transport: httpx2.BaseTransport) -> None:
        self.transport = transport

    def open(
        self,
        request: HTTPRequest,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        *,
        deadline: float | None = None,
    ) -> SyncResponse:
        try:
            return SyncResponse(self.transport.handle_request(to_httpx2(request, timeouts)))
        except httpx2.TransportError as exc:
            raise _fault(exc) from exc


class AsyncInner:
    """Open each attempt through an httpx2 ``AsyncBaseTransport``."""

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self.transport = transport

    async def open(
        self,
        request: HTTPRequest,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        *,
        deadline: float | None = None,
    ) -> AsyncResponse:
        try:
            response = await self.transport.handle_async_request(to_httpx2(request, timeouts))
        except httpx2.TransportError as exc:
            raise _fault(exc) from exc
        return AsyncResponse(response)
