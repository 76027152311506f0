"""What every transport offers: timeouts and the shape of a streamed response.

A transport opens one HTTP exchange for one :class:`~streamrecover.core.http.HTTPRequest`
and hands back a response whose body is read incrementally. The built-in
transports (:class:`~streamrecover.transport.SyncTransport` and
:class:`~streamrecover.transport.AsyncTransport`) satisfy these protocols; a
test double or a third-party transport only has to have the same methods.

Every failure a transport reports is a :class:`~streamrecover.core.errors.TransportError`
whose ``kind`` says how the connection failed; nothing from the socket, TLS or
HTTP library underneath reaches the caller.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from streamrecover.core.errors import UsageError
from streamrecover.core.http import HTTPRequest

__all__ = [
    "DEFAULT_TIMEOUTS",
    "READ_SIZE",
    "AsyncHTTPTransport",
    "AsyncStreamingResponse",
    "SyncHTTPTransport",
    "SyncStreamingResponse",
    "Timeouts",
]

#: Bytes asked of the socket per read: large enough that a fast stream costs few
#: system calls, small enough that a slow one is handed on as soon as it arrives.
READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """How long each wait of one exchange may last, in seconds (``math.inf``: no limit).

    ``connect`` bounds opening the connection: TCP connect, the proxy's CONNECT
    answer and the TLS handshake together (kind ``connect_timeout``). ``write``
    bounds sending the request and ``read`` the wait for the complete response
    head after it was sent; both report ``read_timeout``, since either way the
    answer did not start in time. ``idle`` bounds every gap between two reads of the body: it is the
    timeout that ends a stream whose server went silent while a model thinks,
    so providers that think for minutes need a larger one.

    Raises :class:`~streamrecover.core.errors.UsageError` for a value that is
    not a positive number.
    """

    connect: float = 10.0
    read: float = 60.0
    idle: float = 60.0
    write: float = 30.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "idle", "write"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"Timeouts.{name} must be a number of seconds, got {value!r}")
            if math.isnan(value) or value <= 0:
                raise UsageError(f"Timeouts.{name} must be positive, got {value!r}")


DEFAULT_TIMEOUTS = Timeouts()


class SyncStreamingResponse(Protocol):
    """A response whose head has arrived and whose body is read as it comes.

    ``headers`` are (lower-case name, value) pairs in the order received.
    Closing is idempotent and prompt; a response whose body was read to its end
    has already released its connection.
    """

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...

    def iter_bytes(self) -> Iterator[bytes]: ...

    def read(self, limit: int) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> SyncStreamingResponse: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class AsyncStreamingResponse(Protocol):
    """The asynchronous counterpart of :class:`SyncStreamingResponse`."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...

    async def read(self, limit: int) -> bytes: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> AsyncStreamingResponse: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class SyncHTTPTransport(Protocol):
    """Opens one exchange: sends ``request`` and returns once the response head arrived.

    ``deadline`` is an absolute :func:`time.monotonic` value; any wait that would
    pass it fails with ``TransportError(kind="deadline")``.
    """

    def open(
        self,
        request: HTTPRequest,
        timeouts: Timeouts = ...,
        *,
        deadline: float | None = None,
    ) -> SyncStreamingResponse: ...


class AsyncHTTPTransport(Protocol):
    """The asynchronous counterpart of :class:`SyncHTTPTransport`."""

    async def open(
        self,
        request: HTTPRequest,
        timeouts: Timeouts = ...,
        *,
        deadline: float | None = None,
    ) -> AsyncStreamingResponse: ...
