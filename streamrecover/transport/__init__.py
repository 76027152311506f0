"""The network transports: the only code in streamrecover that touches sockets.

:class:`SyncTransport` (h11 over stdlib ``socket`` and ``ssl``, extra ``sync``)
and :class:`AsyncTransport` (h11 over anyio, on asyncio or trio, extra
``async``) open one HTTP/1.1 connection per request and return a response whose
body streams in. Every failure is a
:class:`~streamrecover.core.errors.TransportError` with a ``kind``. The optional
dependencies are imported when a transport is created, not by this package.
"""

from __future__ import annotations

from streamrecover.transport._async import AsyncResponse, AsyncTransport
from streamrecover.transport._sync import SyncResponse, SyncTransport
from streamrecover.transport.base import (
    DEFAULT_TIMEOUTS,
    AsyncHTTPTransport,
    AsyncStreamingResponse,
    SyncHTTPTransport,
    SyncStreamingResponse,
    Timeouts,
)

__all__ = (
    "DEFAULT_TIMEOUTS",
    "AsyncHTTPTransport",
    "AsyncResponse",
    "AsyncStreamingResponse",
    "AsyncTransport",
    "SyncHTTPTransport",
    "SyncResponse",
    "SyncStreamingResponse",
    "SyncTransport",
    "Timeouts",
)
