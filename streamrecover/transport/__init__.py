"""The network transports: the only code in streamrecover that touches sockets.

:class:`SyncTransport` (h11 over stdlib ``socket`` and ``ssl``, extra ``sync``)
and :class:`AsyncTransport` (h11 over anyio, on asyncio or trio, extra
``async``) open one HTTP/1.1 connection per request and return a response whose
body streams in. Every failure is a
:class:`~streamrecover.core.errors.TransportError` with a ``kind``. The optional
dependencies are imported when a transport is created, not by this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamrecover.transport.base import (
    DEFAULT_TIMEOUTS,
    AsyncHTTPTransport,
    AsyncStreamingResponse,
    SyncHTTPTransport,
    SyncStreamingResponse,
    Timeouts,
)

if TYPE_CHECKING:
    from streamrecover.transport._async import AsyncResponse, AsyncTransport
    from streamrecover.transport._sync import SyncResponse, SyncTransport

# Each transport loads when it is first asked for (PEP 562): a sync client
# never loads the async one, and ``Timeouts`` loads neither.
_LAZY = {
    "AsyncResponse": "streamrecover.transport._async",
    "AsyncTransport": "streamrecover.transport._async",
    "SyncResponse": "streamrecover.transport._sync",
    "SyncTransport": "streamrecover.transport._sync",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'streamrecover.transport' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
