"""One connection of the fake servers: bytes to and from a client, plain or TLS, and the
request read off it.

TLS runs over a memory BIO, so that every TLS byte and every close is under the
script's control. Used by :mod:`streamrecover.testing.server` and
:mod:`streamrecover.testing.connect_proxy`.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass

__all__ = ["MAX_REQUEST_SIZE", "POLL_INTERVAL", "SEND_TIMEOUT", "RecordedRequest"]

#: How often blocked server threads look at the stop flag, in seconds.
POLL_INTERVAL = 0.05
#: Longest time one send may block (a client that stopped reading).
SEND_TIMEOUT = 10.0
#: Largest request head or body the server accepts.
MAX_REQUEST_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRequest:
    """A request as the server received it. ``path`` is the request-target as sent
    (absolute form through a forwarding proxy, ``host:port`` for CONNECT);
    header names are lower case."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


class _Stopped(Exception):
    """The server is stopping."""


class _ClientGone(Exception):
    """The client closed or reset the connection."""


class _Channel:
    """Bytes to and from one client, plain TCP. Subclassed for TLS."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self._stop = stop
        sock.settimeout(POLL_INTERVAL)

    def handshake(self) -> None:
        """Nothing to do for plain TCP."""

    def _raw_recv(self) -> bytes:
        while True:
            if self._stop.is_set():
                raise _Stopped
            try:
                return self.sock.recv(65536)
            except TimeoutError:
                continue
            except (ConnectionResetError, ConnectionAbortedError) as exc:
                raise _ClientGone from exc

    def _raw_send(self, data: bytes) -> None:
        try:
            self.sock.settimeout(SEND_TIMEOUT)
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            raise _ClientGone from exc
        finally:
            with contextlib.suppress(OSError):
                self.sock.settimeout(POLL_INTERVAL)

    def receive(self) -> bytes:
        """Next bytes from the client; b"" when it closed its side."""
        return self._raw_recv()

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        self._raw_send(data)

    def close_notify(self) -> None:
        """Nothing to do for plain TCP."""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class _TLSChannel(_Channel):
    def __init__(self, sock: socket.socket, stop: threading.Event, context: ssl.SSLContext):
        super().__init__(sock, stop)
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._raw_send(data)

    def _fill(self) -> None:
        data = self._raw_recv()
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    def handshake(self) -> None:
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
            else:
                self._flush()
                return

    def receive(self) -> bytes:
        while True:
            try:
                return self._tls.read(65536)
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def send(self, data: bytes) -> None:
        self._tls.write(data)
        self._flush()

    def close_notify(self) -> None:
        # Send close_notify without waiting for the client's.
        with contextlib.suppress(ssl.SSLError):
            self._tls.unwrap()
        self._flush()


def _read_request(channel: _Channel) -> RecordedRequest:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        data = channel.receive()
        if not data:
            raise _ClientGone("closed before the request head ended")
        buffer += data
        if len(buffer) > MAX_REQUEST_SIZE:
            raise ValueError("request head too large")
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = [*lines[0].split(" ", 2), "", ""][:3]
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    record = RecordedRequest(method=method, path=path, headers=tuple(headers))
    if (record.header("transfer-encoding") or "").lower() == "chunked":
        body = _read_chunked(channel, rest)
    else:
        length = int(record.header("content-length") or 0)
        body = rest
        while len(body) < length:
            data = channel.receive()
            if not data:
                raise _ClientGone("closed before the request body ended")
            body += data
    return RecordedRequest(method=method, path=path, headers=tuple(headers), body=body)


def _read_chunked(channel: _Channel, buffer: bytes) -> bytes:
    body = b""

    def need(predicate_size: int | None = None, marker: bytes | None = None) -> None:
        nonlocal buffer
        while (marker is not None and marker not in buffer) or (
            predicate_size is not None and len(buffer) < predicate_size
        ):
            data = channel.receive()
            if not data:
                raise _ClientGone("closed inside a chunked request body")
            buffer += data

    while True:
        need(marker=b"\r\n")
        size_line, _, buffer = buffer.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            need(marker=b"\r\n")  # no trailers expected: just the final CRLF
            return body
        need(predicate_size=size + 2)
        body += buffer[:size]
        buffer = buffer[size + 2 :]
