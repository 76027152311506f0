"""A scripted fake HTTP server for the faults a real server library cannot produce.

Each connection plays a *script*: a list of steps such as "send these bytes",
"send one chunk", "sleep", "reset the connection", "stall until the client
gives up". Successive connections play successive scripts, so a test can say
"the first attempt is reset halfway, the second one succeeds"::

    from streamrecover.testing.server import FaultServer, Reset, sse_frame, sse_response

    frames = [sse_frame('{"text": "Hel"}'), sse_frame('{"text": "lo"}'), sse_frame("[DONE]")]
    broken = sse_response(frames)[:2] + [Reset()]
    with FaultServer([broken, sse_response(frames)]) as server:
        ...  # send requests to server.url("/v1/chat/completions")
        assert server.requests[1].method == "POST"

The server reads each request in full before playing the script (so that a
close is a FIN, not an RST caused by unread request bytes) and records it.
A fake *provider* passes ``responder=`` instead of scripts: a function that
builds each connection's script from the request it received. A server created
with ``listening=False`` holds its port but refuses connections until
:meth:`FaultServer.listen`, which is how a test gets "refused, then up"
without racing a timer.
Only the standard library is used: ``socket``, ``ssl``, ``threading``,
``selectors``. Threads are daemons; leaving the ``with`` block stops them and
closes every socket. :class:`ConnectProxy` is a minimal CONNECT proxy for
tunnel tests, and :func:`unused_port` gives a port where nothing listens (a
refused connection).
"""

from __future__ import annotations

import contextlib
import http
import selectors
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

__all__ = [
    "Close",
    "ConnectProxy",
    "ConnectionRecord",
    "Drip",
    "FaultServer",
    "HalfClose",
    "LastChunk",
    "RecordedRequest",
    "Reset",
    "Responder",
    "Script",
    "Send",
    "SendChunk",
    "SendHead",
    "Sleep",
    "Stall",
    "Step",
    "http_response",
    "sse_body",
    "sse_frame",
    "sse_head",
    "sse_response",
    "unused_port",
]

#: How often blocked server threads look at the stop flag, in seconds.
POLL_INTERVAL = 0.05
#: Longest time one send may block (a client that stopped reading).
SEND_TIMEOUT = 10.0
#: Largest request head or body the server accepts.
MAX_REQUEST_SIZE = 16 * 1024 * 1024

# ---------------------------------------------------------------------------
# Script steps


@dataclass(frozen=True, slots=True)
class Send:
    """Send these bytes as they are."""

    data: bytes


@dataclass(frozen=True, slots=True)
class SendHead:
    """Send a status line and headers (and the blank line that ends them)."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    reason: str = ""

    def encode(self) -> bytes:
        """The bytes of this response head."""
        reason = self.reason
        if not reason:
            with contextlib.suppress(ValueError):
                reason = http.HTTPStatus(self.status).phrase
        lines = [f"HTTP/1.1 {self.status} {reason}".rstrip()]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True, slots=True)
class SendChunk:
    """Send one chunk of a chunked body (RFC 9112 §7.1); ``data`` must not be empty."""

    data: bytes

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("an empty chunk would end the body: use LastChunk()")

    def encode(self) -> bytes:
        """The bytes of this chunk: size line, data, CRLF."""
        return b"%x\r\n%s\r\n" % (len(self.data), self.data)


@dataclass(frozen=True, slots=True)
class LastChunk:
    """End a chunked body: the zero-size chunk and the empty trailer section."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Do nothing for ``seconds`` (cut short when the server stops)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Reset:
    """Abort the connection with a TCP RST (SO_LINGER 0, then close). Ends the script."""


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection cleanly. Ends the script.

    On TLS, ``tls_close_notify=False`` closes the TCP connection without the
    TLS close_notify alert: a "ragged" EOF, which a client cannot tell apart
    from a truncation attack.
    """

    tls_close_notify: bool = True


@dataclass(frozen=True, slots=True)
class HalfClose:
    """Shut down the sending side (FIN; close_notify first on TLS); the script goes on."""


@dataclass(frozen=True, slots=True)
class Stall:
    """Send nothing until the client disconnects, or ``max_seconds`` pass."""

    max_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Drip:
    """Send ``data`` one byte at a time, ``interval`` seconds apart."""

    data: bytes
    interval: float = 0.01


Step = Send | SendHead | SendChunk | LastChunk | Sleep | Reset | Close | HalfClose | Stall | Drip
Script = Sequence[Step]

# ---------------------------------------------------------------------------
# Response builders


def sse_frame(
    data: str, *, event: str | None = None, id: str | None = None, retry: int | None = None
) -> bytes:
    """One Server-Sent Events frame: optional ``event:``/``id:``/``retry:``, one
    ``data:`` line per line of ``data``, and the blank line that dispatches it."""
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def sse_head(
    *, chunked: bool = True, status: int = 200, headers: Sequence[tuple[str, str]] = ()
) -> SendHead:
    """The head of an event-stream response; without ``chunked`` the body ends at close."""
    base = [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
    if chunked:
        base.append(("transfer-encoding", "chunked"))
    return SendHead(status, (*base, *headers))


def sse_body(frames: Sequence[bytes | str], *, chunked: bool = True) -> list[Step]:
    """One step per frame: a chunk each when ``chunked``, raw bytes otherwise."""
    encoded = [frame.encode("utf-8") if isinstance(frame, str) else frame for frame in frames]
    if chunked:
        return [SendChunk(frame) for frame in encoded if frame]
    return [Send(frame) for frame in encoded]


def sse_response(
    frames: Sequence[bytes | str],
    *,
    chunked: bool = True,
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
) -> list[Step]:
    """A complete event-stream response: head, one step per frame, end of body, close."""
    steps: list[Step] = [sse_head(chunked=chunked, status=status, headers=headers)]
    steps.extend(sse_body(frames, chunked=chunked))
    if chunked:
        steps.append(LastChunk())
    steps.append(Close())
    return steps


def http_response(
    status: int,
    body: bytes | str = b"",
    *,
    content_type: str = "application/json",
    headers: Sequence[tuple[str, str]] = (),
) -> list[Step]:
    """A complete response with a Content-Length body (an error answer, say), then close."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    head = SendHead(
        status,
        (("content-type", content_type), ("content-length", str(len(data))), *headers),
    )
    return [head, Send(data), Close()] if data else [head, Close()]


def unused_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` where nothing listens right now (connecting is refused)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


# ---------------------------------------------------------------------------
# Records


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


@dataclass(slots=True, kw_only=True)
class ConnectionRecord:
    """What happened on one accepted connection (filled in by the server thread).

    ``client_gone`` is set when the server saw the client disconnect (during a
    :class:`Stall`, or as a failed send); ``finished`` when the thread is done.
    ``error`` describes a failure such as a rejected TLS handshake.
    """

    index: int
    request: RecordedRequest | None = None
    error: str | None = None
    client_gone: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


# ---------------------------------------------------------------------------
# Connections (plain or TLS over a memory BIO, so that every TLS byte and
# every close is under the script's control)


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


# ---------------------------------------------------------------------------
# Listening


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


#: Builds the answer to one request: ``(request, connection index) -> script``.
Responder = Callable[[RecordedRequest, int], Script]


class FaultServer(_Listener):
    """A fake HTTP(S) server on 127.0.0.1 (and ``::1`` with ``ipv6=True``), same port.

    ``scripts[i]`` is played on the i-th connection; later connections play
    ``default``, or (when it is None) have their request read and are closed
    without an answer. A ``responder`` replaces both: each connection plays
    ``responder(request, index)``; an exception it raises is recorded in
    :attr:`errors` (and the connection's record) and the connection is reset.
    With ``ssl_context`` (a server-side context) every connection starts with
    a TLS handshake. ``read_request=False`` plays the script without reading
    the request first. ``listening=False`` binds the port when started but
    refuses connections until :meth:`listen`.
    Use as a context manager; :attr:`requests` and :attr:`connections` record
    what happened.

    Raises:
        ValueError: ``responder`` together with ``scripts``, ``default`` or
            ``read_request=False``.
    """

    def __init__(
        self,
        scripts: Sequence[Script] = (),
        *,
        default: Script | None = None,
        responder: Responder | None = None,
        ssl_context: ssl.SSLContext | None = None,
        ipv6: bool = False,
        read_request: bool = True,
        listening: bool = True,
    ) -> None:
        if responder is not None and (scripts or default is not None):
            raise ValueError("a responder replaces scripts and default: pass one or the other")
        if responder is not None and not read_request:
            raise ValueError("a responder answers the request: it needs read_request=True")
        super().__init__(ipv6=ipv6, listening=listening)
        self._scripts = [list(script) for script in scripts]
        self._default = None if default is None else list(default)
        self._responder = responder
        self._ssl_context = ssl_context
        self._read_request = read_request
        self._records: list[ConnectionRecord] = []
        #: Exceptions raised by the responder, as text (a test asserts this is empty).
        self.errors: list[str] = []

    @property
    def scheme(self) -> str:
        return "https" if self._ssl_context is not None else "http"

    def url(self, path: str = "/", *, host: str = "127.0.0.1") -> str:
        """An absolute URL on this server (``host="::1"`` for the IPv6 listener)."""
        shown = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{shown}:{self.port}{path}"

    @property
    def connections(self) -> list[ConnectionRecord]:
        """One record per accepted connection, in accept order."""
        with self._lock:
            return list(self._records)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, in connection order."""
        return [record.request for record in self.connections if record.request is not None]

    def wait_for_disconnect(self, index: int = 0, timeout: float = 5.0) -> bool:
        """Wait until the server saw the client of connection ``index`` go away.

        Returns False when that did not happen within ``timeout`` (an upper
        bound to keep a failing test from hanging, not a measurement).
        """
        record = self._wait_for_record(index, timeout)
        return record is not None and record.client_gone.wait(timeout)

    def _wait_for_record(self, index: int, timeout: float) -> ConnectionRecord | None:
        waited = 0.0
        while waited < timeout:
            with self._lock:
                if index < len(self._records):
                    return self._records[index]
            self._stop.wait(POLL_INTERVAL)
            waited += POLL_INTERVAL
        return None

    def _handle(self, sock: socket.socket, index: int) -> None:
        record = ConnectionRecord(index=index)
        with self._lock:
            self._records.append(record)
        channel = (
            _Channel(sock, self._stop)
            if self._ssl_context is None
            else _TLSChannel(sock, self._stop, self._ssl_context)
        )
        try:
            # No Nagle: a Drip of single bytes must leave as single segments.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            channel.handshake()
            if self._read_request:
                record.request = _read_request(channel)
            for step in self._script_for(record):
                if self._play(step, channel, record):
                    return
            channel.close_notify()
        except _ClientGone:
            record.client_gone.set()
        except _Stopped:
            pass
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            record.error = f"{type(exc).__name__}: {exc}"
        finally:
            record.finished.set()

    def _script_for(self, record: ConnectionRecord) -> Script:
        if self._responder is None:
            if record.index < len(self._scripts):
                return self._scripts[record.index]
            return [] if self._default is None else self._default
        assert record.request is not None  # __init__ refuses a responder without it
        try:
            return list(self._responder(record.request, record.index))
        except Exception as exc:  # a bug in the responder must fail the test, not hang it
            record.error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.errors.append(record.error)
            return [Reset()]

    def _play(self, step: Step, channel: _Channel, record: ConnectionRecord) -> bool:
        """Play one step on ``channel``; True when the step ended the connection.

        The hook for a subclass that adds steps of its own: handle them and
        pass every other step to ``super()._play``. ``channel`` has
        ``send(data)``, ``receive()`` and ``sock``; ``record.request`` is the
        request read (None with ``read_request=False``).
        """
        if isinstance(step, Send):
            channel.send(step.data)
        elif isinstance(step, (SendHead, SendChunk)):
            channel.send(step.encode())
        elif isinstance(step, LastChunk):
            channel.send(b"0\r\n\r\n")
        elif isinstance(step, Sleep):
            if self._stop.wait(step.seconds):
                raise _Stopped
        elif isinstance(step, Drip):
            for byte in step.data:
                channel.send(bytes([byte]))
                if self._stop.wait(step.interval):
                    raise _Stopped
        elif isinstance(step, Reset):
            # SO_LINGER with a zero timeout makes close() send RST at once.
            channel.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            channel.close()
            return True
        elif isinstance(step, Close):
            if step.tls_close_notify:
                channel.close_notify()
            channel.close()
            return True
        elif isinstance(step, HalfClose):
            channel.close_notify()
            channel.sock.shutdown(socket.SHUT_WR)
        elif isinstance(step, Stall):
            self._stall(channel, step.max_seconds, record)
        return False

    def _stall(self, channel: _Channel, max_seconds: float, record: ConnectionRecord) -> None:
        # Reads the raw socket (under TLS too): any byte means the client is
        # still there, EOF or an error means it left.
        give_up = time.monotonic() + max_seconds
        while time.monotonic() < give_up:
            try:
                data = channel.sock.recv(65536)
            except TimeoutError:
                if self._stop.is_set():
                    raise _Stopped from None
                continue
            except OSError:
                data = b""
            if not data:
                record.client_gone.set()
                raise _ClientGone


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
