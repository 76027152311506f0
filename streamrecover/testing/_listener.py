"""The listening half of the fake servers: bind, accept, one thread per connection, stop.

Subclasses (:class:`~streamrecover.testing.server.FaultServer`,
:class:`~streamrecover.testing.connect_proxy.ConnectProxy`) implement ``_handle``.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from types import TracebackType
from typing import TypeVar

__all__: list[str] = []


_ListenerT = TypeVar("_ListenerT", bound="_Listener")


class _Listener:
    """Accepts connections on one or two loopback addresses and serves each in a thread.

    :meth:`start` binds; it also listens unless ``listening`` is False, in
    which case the port refuses connections until :meth:`listen`.
    """

    def __init__(self, *, ipv6: bool, listening: bool = True) -> None:
        self._ipv6 = ipv6
        self._listen_on_start = listening
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listeners: list[socket.socket] = []
        self._live: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._acceptor: threading.Thread | None = None
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._accepted = 0
        self.port = 0

    # -- lifecycle

    def __enter__(self: _ListenerT) -> _ListenerT:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Bind the port, then listen unless created with ``listening=False``.

        Does nothing when already started (a subclass may start in its
        constructor and still be used as a context manager).
        """
        if self._listeners or self._stop.is_set():
            return
        self._bind()
        if self._listen_on_start:
            self.listen()

    @property
    def listening(self) -> bool:
        """Whether connections are accepted (False until started, and until :meth:`listen`)."""
        return self._acceptor is not None

    def listen(self) -> None:
        """Start accepting connections on the bound port, in a background thread.

        Idempotent, and safe from any thread. Before :meth:`start` it only
        makes ``start`` listen; after :meth:`stop` it does nothing.
        """
        with self._lock:
            self._listen_on_start = True
            if self._acceptor is not None or self._stop.is_set() or not self._listeners:
                return
            for sock in self._listeners:
                sock.listen(64)
            self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
            self._acceptor.start()

    def _bind(self) -> None:
        # A bound socket that does not listen yet refuses connections (RST).
        v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        v4.bind(("127.0.0.1", 0))
        self._listeners.append(v4)
        self.port = v4.getsockname()[1]
        if self._ipv6:
            v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            try:
                v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                v6.bind(("::1", self.port))
            except OSError:
                v6.close()
                self.stop()
                raise
            self._listeners.append(v6)

    def stop(self) -> None:
        """Stop accepting, end every connection, join the threads, close every socket."""
        with self._lock:
            # Under the lock, so that a concurrent listen() either has started
            # its acceptor (joined below) or sees the stop and starts none.
            self._stop.set()
            acceptor = self._acceptor
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")
        if acceptor is not None:
            acceptor.join(timeout=5)
        with self._lock:
            live = list(self._live)
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)
        for sock in self._listeners:
            sock.close()
        self._listeners.clear()
        self._wake_reader.close()
        self._wake_writer.close()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            for sock in self._listeners:
                selector.register(sock, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_reader or self._stop.is_set():
                        return
                    listener = key.fileobj
                    assert isinstance(listener, socket.socket)
                    try:
                        sock, _address = listener.accept()
                    except OSError:
                        continue
                    self._spawn(sock)

    def _spawn(self, sock: socket.socket) -> None:
        with self._lock:
            index = self._accepted
            self._accepted += 1
            self._live.add(sock)
        thread = threading.Thread(target=self._run, args=(sock, index), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, sock: socket.socket, index: int) -> None:
        try:
            self._handle(sock, index)
        finally:
            with self._lock:
                self._live.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()

    def _handle(self, sock: socket.socket, index: int) -> None:
        raise NotImplementedError
