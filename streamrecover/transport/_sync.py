"""The sync HTTP/1.1 transport: h11 framing over stdlib sockets and ssl.

GENERATED from ``_async.py`` by ``scripts/unasync.py``: do not edit this
file. Edit ``_async.py``, then run the script; a test checks that this
file is current.

Each :meth:`SyncTransport.open` opens a fresh connection for one request and
closes it when the response is closed or its body has been read: an LLM stream
holds its connection for seconds to minutes, so pooling would save one
handshake per stream and would cost a layer of state. The response owns the
connection; close it (or use it as a context manager) when done.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from streamrecover.core.errors import MissingExtraError, TransportError, UsageError
from streamrecover.core.http import HTTPRequest
from streamrecover.core.redact import redact
from streamrecover.transport._faults import Phase, fail
from streamrecover.transport._proxy import proxy_answer_failure, proxy_hop_failure
from streamrecover.transport._routing import (
    ProxySetting,
    Route,
    connect_headers,
    default_user_agent,
    parse_proxy,
    request_headers,
    route,
)
from streamrecover.transport._tls import client_context
from streamrecover.transport.base import DEFAULT_TIMEOUTS, Timeouts

if TYPE_CHECKING:
    import ssl

    from streamrecover.transport._exchange import Exchange, ResponseHead
    from streamrecover.transport._stream_socket import SocketStream

__all__ = ["SyncResponse", "SyncTransport"]


def _io_classes() -> tuple[type[SocketStream], type[Exchange]]:
    # The optional dependencies are imported here, at first use, so that
    # importing streamrecover needs nothing outside the standard library.
    try:
        from streamrecover.transport._exchange import Exchange
        from streamrecover.transport._stream_socket import SocketStream
    except ImportError as exc:
        raise MissingExtraError("SyncTransport", "sync", exc.name or "h11") from exc
    return SocketStream, Exchange


def _receive_head(
    stream: SocketStream, exchange: Exchange, phase: Phase, deadline: float | None
) -> ResponseHead:
    while True:
        head = exchange.next_head()
        if head is not None:
            return head
        data = stream.receive(phase=phase, deadline=deadline)
        exchange.receive_data(data, ragged_eof=stream.ragged_eof)


class SyncTransport:
    """Sends requests over HTTP/1.1, one connection per request.

    ``ssl_context`` replaces the default verifying context; ``ca_file`` keeps
    the default one but trusts the CA certificates in that PEM file instead of
    the system's (give at most one of the two). ``proxy`` is ``"env"`` (the
    default: ``https_proxy``/``http_proxy``/``no_proxy`` from the environment,
    read at each request), ``None`` (never a proxy) or an ``http://`` proxy URL,
    with optional ``user:password@``. https goes through the proxy in a CONNECT
    tunnel; plain http is forwarded in absolute form. ``user_agent`` replaces
    ``streamrecover/<version>``.

    Raises :class:`~streamrecover.core.errors.MissingExtraError` when the
    sync extra is not installed and :class:`~streamrecover.core.errors.UsageError`
    for contradictory or malformed arguments.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        ca_file: str | None = None,
        proxy: ProxySetting = "env",
        user_agent: str | None = None,
    ) -> None:
        if ssl_context is not None and ca_file is not None:
            raise UsageError("give ssl_context or ca_file, not both")
        if proxy is not None and proxy != "env":
            parse_proxy(proxy)  # a malformed proxy URL fails here, not at the first request
        _io_classes()
        # A CA file the caller named is loaded now, so that a wrong path fails
        # here; the system CA store is loaded at the first https request (it
        # takes milliseconds a plain-http client never needs to spend).
        if ca_file is not None:
            ssl_context = client_context(ca_file=ca_file)
        self._ssl_context = ssl_context
        self._proxy = proxy
        self._user_agent = user_agent or default_user_agent()

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = client_context()
        return self._ssl_context

    def open(
        self,
        request: HTTPRequest,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        *,
        deadline: float | None = None,
    ) -> SyncResponse:
        """Send ``request`` and return the response once its head has arrived.

        ``deadline`` is an absolute :func:`time.monotonic` value after which any
        wait fails. The returned response owns the connection: close it.

        Raises :class:`~streamrecover.core.errors.TransportError` (``kind`` says
        how the exchange failed, see :data:`~streamrecover.core.errors.TransportFaultKind`),
        :class:`~streamrecover.core.errors.UsageError` for a request that
        cannot be sent (bad URL, unsupported proxy, illegal header).
        """
        stream_class, exchange_class = _io_classes()
        where = route(request, self._proxy)
        exchange = exchange_class(where.origin.authority)
        data = exchange.request(
            request.method,
            where.request_target,
            request_headers(request, where, user_agent=self._user_agent),
            request.body,
        )
        stream = self._connect(stream_class, exchange_class, where, timeouts, deadline)
        try:
            stream.send_all(
                data, phase=Phase(timeouts.write, "read_timeout"), deadline=deadline
            )
            head = _receive_head(
                stream, exchange, Phase(timeouts.read, "read_timeout"), deadline
            )
        except BaseException:
            stream.close()
            raise
        if head.status == 407 and where.proxy is not None and not where.tunnel:
            # A forwarding proxy's own refusal (RFC 9110 §15.5.8), not the origin's answer.
            stream.close()
            proxy_answer_failure(
                head.status,
                head.reason,
                proxy=where.proxy.origin.authority,
                target=where.origin.authority,
            )
        return SyncResponse(
            stream=stream, exchange=exchange, head=head, idle=timeouts.idle, deadline=deadline
        )

    def _connect(
        self,
        stream_class: type[SocketStream],
        exchange_class: type[Exchange],
        where: Route,
        timeouts: Timeouts,
        deadline: float | None,
    ) -> SocketStream:
        # One connect budget covers TCP, the proxy's answer and the TLS handshake.
        phase = Phase(timeouts.connect, "connect_timeout")
        hop = where.origin if where.proxy is None else where.proxy.origin
        try:
            stream = stream_class.connect(
                hop.host, hop.port, phase=phase, deadline=deadline, what=hop.authority
            )
        except TransportError as exc:
            if where.proxy is None:
                raise
            # A dead proxy is the proxy's failure, not the API's.
            raise proxy_hop_failure(exc, hop.authority) from exc.__cause__
        try:
            if where.tunnel:
                tunnel = exchange_class(hop.authority)
                try:
                    self._open_tunnel(stream, tunnel, where, phase, deadline)
                except TransportError as exc:
                    raise proxy_hop_failure(exc, hop.authority) from exc.__cause__
            # From here on, errors name the origin rather than the proxy.
            stream.what = where.origin.authority
            if where.origin.scheme == "https":
                stream.start_tls(
                    self._tls_context(), where.origin.host, phase=phase, deadline=deadline
                )
        except BaseException:
            stream.close()
            raise
        return stream

    def _open_tunnel(
        self,
        stream: SocketStream,
        tunnel: Exchange,
        where: Route,
        phase: Phase,
        deadline: float | None,
    ) -> None:
        # RFC 9110 §9.3.6: any 2xx answer to CONNECT turns the connection into
        # a tunnel to the origin; anything else is the proxy's refusal.
        data = tunnel.connect_request(
            where.origin.authority, connect_headers(where, user_agent=self._user_agent)
        )
        stream.send_all(data, phase=phase, deadline=deadline)
        head = _receive_head(stream, tunnel, phase, deadline)
        if not 200 <= head.status < 300:
            proxy_answer_failure(
                head.status, head.reason, proxy=stream.what, target=where.origin.authority
            )
        if tunnel.leftover():
            fail("other", stream.what, RuntimeError("proxy sent data before the TLS handshake"))

    def __repr__(self) -> str:
        # A proxy URL may carry user:password@; never shown.
        return redact(f"SyncTransport(proxy={self._proxy!r})")


_State = Literal["open", "done", "closed", "failed"]


class SyncResponse:
    """A response whose head has arrived; the body is read as it comes.

    ``status`` and ``reason`` come from the status line, ``headers`` are
    (lower-case name, value) pairs. Read the body once, with :meth:`iter_bytes`
    or :meth:`read` (they share one position). The connection is released when
    the body ends, when a read fails, or on :meth:`close`.
    """

    def __init__(
        self,
        *,
        stream: SocketStream,
        exchange: Exchange,
        head: ResponseHead,
        idle: float,
        deadline: float | None,
    ) -> None:
        self.status = head.status
        self.reason = head.reason
        self.headers = head.headers
        self._stream: SocketStream | None = stream
        self._exchange = exchange
        self._idle = idle
        self._deadline = deadline
        self._pending = b""
        self._state: _State = "open"

    def iter_bytes(self) -> Iterator[bytes]:
        """Yield the body as it arrives, in pieces of at most 64 KiB, until it ends.

        Raises :class:`~streamrecover.core.errors.TransportError` when the
        connection fails first (``incomplete_body``, ``idle_timeout``, ``reset``...)
        and :class:`~streamrecover.core.errors.UsageError` after :meth:`close`.
        """
        while True:
            data = self._next_piece()
            if not data:
                return
            yield data
            # Not held while the next read waits (up to 64 KiB per stream).
            del data

    def read(self, limit: int) -> bytes:
        """Return up to ``limit`` bytes of the body (fewer when it ends first).

        Meant for error bodies: read a bounded excerpt, then close. Raises as
        :meth:`iter_bytes` does.
        """
        if limit < 0:
            raise UsageError(f"limit must not be negative, got {limit}")
        parts: list[bytes] = []
        size = 0
        while size < limit:
            data = self._next_piece()
            if not data:
                break
            if size + len(data) > limit:
                data, self._pending = data[: limit - size], data[limit - size :]
            parts.append(data)
            size += len(data)
        return b"".join(parts)

    def _next_piece(self) -> bytes:
        # The next piece of body, or b"" once it has ended.
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        if self._state == "done":
            return b""
        stream = self._stream
        if self._state != "open" or stream is None:
            raise UsageError(f"the response is {self._state}; its body cannot be read")
        try:
            while True:
                piece = self._exchange.body_at_hand()
                if piece == b"":
                    self._state = "done"
                    self._release()
                    return b""
                if piece is not None:
                    return piece
                data = stream.receive(
                    phase=Phase(self._idle, "idle_timeout"), deadline=self._deadline
                )
                self._exchange.receive_data(data, ragged_eof=stream.ragged_eof)
        except TransportError as exc:
            if self._closed_meanwhile():
                # close() ran while this read waited (from another task or
                # thread): the caller's own doing, not a fault of the server.
                raise UsageError("the response was closed while its body was read") from exc
            self._state = "failed"
            self._release()
            raise
        except BaseException:
            # Cancellation, KeyboardInterrupt...: release the connection and let
            # the exception go on unchanged.
            self._state = "closed"
            self._release()
            raise

    def _closed_meanwhile(self) -> bool:
        # A method, not an inline test: the state may change while a read
        # waits, which a type checker narrowing self._state cannot know.
        return self._state == "closed"

    def _release(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def close(self) -> None:
        """Close the connection at once (an unread body is abandoned). Idempotent."""
        if self._state == "open":
            self._state = "closed"
        self._release()

    def __enter__(self) -> SyncResponse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SyncResponse {self.status} {self._state}>"
