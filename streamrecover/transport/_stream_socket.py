"""Blocking byte stream over a stdlib socket (and ssl): the sync transport's I/O.

The method names and arguments match :mod:`streamrecover.transport._stream_anyio`,
so that the generated sync transport reads like the async one. Every wait is
bounded by a :class:`~streamrecover.transport._faults.Phase` and the stream's
deadline; every failure leaves as a :class:`~streamrecover.core.errors.TransportError`.
"""

from __future__ import annotations

import contextlib
import math
import socket
import ssl
from collections.abc import Callable
from typing import TypeVar

from streamrecover.transport._faults import (
    Phase,
    connect_failure_kind,
    fail,
    kind_for_os_error,
    time_left,
)
from streamrecover.transport.base import READ_SIZE

__all__ = ["SocketStream"]

_T = TypeVar("_T")


def _timeout(seconds: float) -> float | None:
    # settimeout(None) blocks without limit; settimeout(inf) would overflow.
    return None if math.isinf(seconds) else seconds


class SocketStream:
    """A connected TCP socket, possibly carrying TLS. ``what`` names the peer in errors.

    TLS runs in an :class:`ssl.SSLObject` over memory buffers, as anyio's
    ``TLSStream`` does, rather than in an ``ssl.SSLSocket``: the socket's own
    errors then stay visible (an SSLSocket reports a TCP reset in the middle of
    a record as an ``SSLEOFError``), so one failure gets the same kind from
    both transports. ``ragged_eof`` becomes True when a TLS peer closed
    without close_notify.
    """

    def __init__(self, sock: socket.socket, what: str) -> None:
        self._socket = sock
        self._tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.what = what
        self.ragged_eof = False

    @classmethod
    def connect(
        cls, host: str, port: int, *, phase: Phase, deadline: float | None, what: str
    ) -> SocketStream:
        """Open a TCP connection to ``host``:``port`` (IPv4 or IPv6, every address tried)."""
        seconds, kind = time_left(phase, deadline, what)
        try:
            sock = socket.create_connection((host, port), timeout=_timeout(seconds))
        except OSError as exc:
            fail(connect_failure_kind(exc, timeout_kind=kind), what, exc)
        # Events are small and latency matters more than packet count.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, what)

    def start_tls(
        self,
        context: ssl.SSLContext,
        server_hostname: str,
        *,
        phase: Phase,
        deadline: float | None,
    ) -> None:
        """Run the TLS handshake (SNI and certificate check against ``server_hostname``)."""
        try:
            self._tls = context.wrap_bio(
                self._incoming, self._outgoing, server_hostname=server_hostname
            )
            self._tls_call(self._tls.do_handshake, phase, deadline)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
            fail("closed", self.what, exc)
        except OSError as exc:  # ssl.SSLError is an OSError
            fail(kind_for_os_error(exc, timeout_kind=phase.kind), self.what, exc)

    def send_all(self, data: bytes, *, phase: Phase, deadline: float | None) -> None:
        """Send every byte of ``data``."""
        if self._tls is None:
            self._send_raw(data, phase, deadline)
            return
        tls = self._tls
        try:
            self._tls_call(lambda: tls.write(data), phase, deadline)
        except ssl.SSLError as exc:
            fail(kind_for_os_error(exc, timeout_kind=phase.kind), self.what, exc)

    def receive(self, *, phase: Phase, deadline: float | None) -> bytes:
        """Return the next bytes (at most :data:`READ_SIZE`); ``b""`` means the stream ended."""
        if self._tls is None:
            return self._receive_raw(phase, deadline)
        tls = self._tls
        try:
            return self._tls_call(lambda: tls.read(READ_SIZE), phase, deadline)
        except ssl.SSLZeroReturnError:
            return b""
        except ssl.SSLEOFError:
            self.ragged_eof = True
            return b""
        except ssl.SSLError as exc:
            fail(kind_for_os_error(exc, timeout_kind=phase.kind), self.what, exc)

    def close(self) -> None:
        """Close the socket at once; never raises, safe to call twice.

        No TLS close_notify is sent: the peer may be the reason for closing.
        The shutdown wakes a read blocked in another thread, which close()
        alone does not do on Linux.
        """
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._socket.close()

    def _tls_call(self, call: Callable[[], _T], phase: Phase, deadline: float | None) -> _T:
        # Drive the TLS state machine: move its output to the socket and the
        # socket's input to it until ``call`` completes.
        while True:
            try:
                result = call()
            except ssl.SSLWantReadError:
                self._flush(phase, deadline)
                data = self._receive_raw(phase, deadline)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
            else:
                self._flush(phase, deadline)
                return result

    def _flush(self, phase: Phase, deadline: float | None) -> None:
        data = self._outgoing.read()
        if data:
            self._send_raw(data, phase, deadline)

    def _send_raw(self, data: bytes, phase: Phase, deadline: float | None) -> None:
        seconds, kind = time_left(phase, deadline, self.what)
        try:
            self._socket.settimeout(_timeout(seconds))
            self._socket.sendall(data)
        except OSError as exc:
            fail(kind_for_os_error(exc, timeout_kind=kind), self.what, exc)

    def _receive_raw(self, phase: Phase, deadline: float | None) -> bytes:
        seconds, kind = time_left(phase, deadline, self.what)
        try:
            self._socket.settimeout(_timeout(seconds))
            return self._socket.recv(READ_SIZE)
        except OSError as exc:
            fail(kind_for_os_error(exc, timeout_kind=kind), self.what, exc)
