"""A fake HTTP server that decides each answer after reading the request.

:class:`~streamrecover.testing.server.FaultServer` plays scripts fixed in
advance, one per connection. A fake *provider* must look at the request first:
a continuation is answered with the rest of the answer from where the request
says the text stopped. :class:`HandlerServer` reads each request whole, hands
it to a handler that returns a script (a list of the same steps
:mod:`streamrecover.testing.server` defines: ``SendHead``, ``SendChunk``,
``Reset``, ``Stall``...), and plays it.

It can also start without listening (:meth:`HandlerServer.listen` later): its
port is bound but refuses connections until then, which is how a test gets
"refused, then up" without racing a timer. Plain TCP on 127.0.0.1 only;
stdlib only; threads are daemons; leaving the ``with`` block stops everything.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType

from streamrecover.testing.server import (
    Close,
    Drip,
    HalfClose,
    LastChunk,
    RecordedRequest,
    Reset,
    Script,
    Send,
    SendChunk,
    SendHead,
    Sleep,
    Stall,
    Step,
)

__all__ = ["Handler", "HandlerServer"]

#: Builds the answer to one request: (request, connection index) -> script.
Handler = Callable[[RecordedRequest, int], Script]

_POLL = 0.05
_SEND_TIMEOUT = 10.0
_MAX_REQUEST = 16 * 1024 * 1024


class _Gone(Exception):
    """The client went away, or the server is stopping."""


class HandlerServer:
    """Answer every connection on 127.0.0.1 with ``handler(request, index)``'s script.

    Args:
        handler: returns the script for one request. An exception it raises is
            recorded in :attr:`errors` and the connection is reset.
        listening: False binds the port but refuses connections until
            :meth:`listen` is called.
    """

    def __init__(self, handler: Handler, *, listening: bool = True) -> None:
        self._handler = handler
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._live: set[socket.socket] = set()
        self._requests: list[RecordedRequest] = []
        self._accepted = 0
        #: Exceptions raised by the handler, as text (a test asserts this is empty).
        self.errors: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._acceptor: threading.Thread | None = None
        if listening:
            self.listen()

    def url(self, path: str = "") -> str:
        """The absolute URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def listening(self) -> bool:
        """Whether connections are accepted."""
        return self._acceptor is not None

    def listen(self) -> None:
        """Start accepting connections (idempotent)."""
        with self._lock:
            if self._acceptor is not None or self._stop.is_set():
                return
            self._socket.listen(64)
            self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
            self._acceptor.start()

    def __enter__(self) -> HandlerServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop accepting, end every connection, join the threads, close the sockets."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        with self._lock:
            live = list(self._live)
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)
        for sock in (self._socket, self._wake_reader, self._wake_writer):
            sock.close()

    # -- accepting ---------------------------------------------------------------

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_reader or self._stop.is_set():
                        return
                    try:
                        sock, _address = self._socket.accept()
                    except OSError:
                        continue
                    with self._lock:
                        index = self._accepted
                        self._accepted += 1
                        self._live.add(sock)
                    thread = threading.Thread(target=self._serve, args=(sock, index), daemon=True)
                    self._threads.append(thread)
                    thread.start()

    def _serve(self, sock: socket.socket, index: int) -> None:
        # No Nagle: a drip of single bytes must leave as single segments.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(_POLL)
        try:
            request = self._read_request(sock)
            with self._lock:
                self._requests.append(request)
            try:
                script = list(self._handler(request, index))
            except Exception as exc:  # a bug in the handler must fail the test, not hang it
                self.errors.append(f"{type(exc).__name__}: {exc}")
                script = [Reset()]
            for step in script:
                if self._play(sock, step):
                    return
        except (_Gone, OSError):
            pass
        finally:
            with self._lock:
                self._live.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()

    # -- reading -----------------------------------------------------------------

    def _receive(self, sock: socket.socket) -> bytes:
        while True:
            if self._stop.is_set():
                raise _Gone
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise _Gone
            return data

    def _read_request(self, sock: socket.socket) -> RecordedRequest:
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += self._receive(sock)
            if len(buffer) > _MAX_REQUEST:
                raise _Gone
        head, _, body = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = [*lines[0].split(" ", 2), "", ""][:3]
        headers = tuple(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:])
        )
        request = RecordedRequest(method=method, path=path, headers=headers)
        if (request.header("transfer-encoding") or "").lower() == "chunked":
            body = self._read_chunked(sock, body)
        else:
            length = int(request.header("content-length") or 0)
            while len(body) < length:
                body += self._receive(sock)
        return RecordedRequest(method=method, path=path, headers=headers, body=body)

    def _read_chunked(self, sock: socket.socket, buffer: bytes) -> bytes:
        # RFC 9112 §7.1, without chunk extensions' meaning or trailers.
        body = b""
        while True:
            while b"\r\n" not in buffer:
                buffer += self._receive(sock)
            size_line, _, buffer = buffer.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(buffer) < size + 2:
                buffer += self._receive(sock)
            if size == 0:
                return body
            body += buffer[:size]
            buffer = buffer[size + 2 :]

    # -- playing -----------------------------------------------------------------

    def _send(self, sock: socket.socket, data: bytes) -> None:
        sock.settimeout(_SEND_TIMEOUT)
        try:
            sock.sendall(data)
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(_POLL)

    def _play(self, sock: socket.socket, step: Step) -> bool:
        """Play one step; True when it ended the connection."""
        if isinstance(step, Send):
            self._send(sock, step.data)
        elif isinstance(step, (SendHead, SendChunk)):
            self._send(sock, step.encode())
        elif isinstance(step, LastChunk):
            self._send(sock, b"0\r\n\r\n")
        elif isinstance(step, Sleep):
            if self._stop.wait(step.seconds):
                raise _Gone
        elif isinstance(step, Drip):
            for byte in step.data:
                self._send(sock, bytes([byte]))
                if self._stop.wait(step.interval):
                    raise _Gone
        elif isinstance(step, Reset):
            # SO_LINGER with a zero timeout: close() sends RST at once.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return True
        elif isinstance(step, Close):
            sock.close()
            return True
        elif isinstance(step, HalfClose):
            sock.shutdown(socket.SHUT_WR)
        elif isinstance(step, Stall):
            self._stall(sock, step.max_seconds)
        return False

    def _stall(self, sock: socket.socket, max_seconds: float) -> None:
        # Wait for the client to leave (EOF or an error) or for max_seconds.
        give_up = time.monotonic() + max_seconds
        while time.monotonic() < give_up:
            if self._stop.is_set():
                raise _Gone
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data:
                raise _Gone
