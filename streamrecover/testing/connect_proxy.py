"""A minimal CONNECT proxy for tunnel tests.

Re-exported by :mod:`streamrecover.testing.server`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket

from streamrecover.testing._connection import (
    POLL_INTERVAL,
    SEND_TIMEOUT,
    RecordedRequest,
    _Channel,
    _ClientGone,
    _Stopped,
)
from streamrecover.testing._listener import _Listener

__all__ = ["ConnectProxy"]


class ConnectProxy(_Listener):
    """A minimal HTTP proxy that only tunnels: ``CONNECT host:port``, answer 200, relay bytes.

    Every CONNECT request is recorded in :attr:`requests`. A target that
    cannot be reached gets a 502.
    """

    def __init__(self) -> None:
        super().__init__(ipv6=False)
        self._requests: list[RecordedRequest] = []

    @property
    def url(self) -> str:
        """The proxy URL, as http_proxy / https_proxy take it."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def _handle(self, sock: socket.socket, index: int) -> None:
        channel = _Channel(sock, self._stop)
        try:
            buffer = b""
            while b"\r\n\r\n" not in buffer:
                data = channel.receive()
                if not data:
                    return
                buffer += data
            head, _, rest = buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
            headers = tuple(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.partition(":") for line in lines[1:])
            )
            with self._lock:
                self._requests.append(
                    RecordedRequest(method=method, path=target, headers=headers)
                )
            if method != "CONNECT":
                channel.send(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                return
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            except (OSError, ValueError):
                channel.send(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                return
            with upstream:
                channel.send(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
                self._relay(sock, upstream)
        except (_Stopped, _ClientGone, OSError):
            pass

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        with self._lock:
            self._live.add(upstream)
        peer = {client: upstream, upstream: client}
        open_sides = 2
        try:
            with selectors.DefaultSelector() as selector:
                for sock in peer:
                    sock.setblocking(False)
                    selector.register(sock, selectors.EVENT_READ)
                while open_sides and not self._stop.is_set():
                    for key, _ in selector.select(POLL_INTERVAL):
                        source = key.fileobj
                        assert isinstance(source, socket.socket)
                        try:
                            data = source.recv(65536)
                        except BlockingIOError:
                            continue
                        except OSError:
                            data = b""
                        if data:
                            peer[source].setblocking(True)
                            peer[source].settimeout(SEND_TIMEOUT)
                            peer[source].sendall(data)
                            peer[source].setblocking(False)
                        else:
                            # Pass the half-close on; stop when both sides are done.
                            selector.unregister(source)
                            with contextlib.suppress(OSError):
                                peer[source].shutdown(socket.SHUT_WR)
                            open_sides -= 1
        finally:
            with self._lock:
                self._live.discard(upstream)
