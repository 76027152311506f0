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

The steps and response builders are in :mod:`streamrecover.testing.steps` and
the proxy in :mod:`streamrecover.testing.connect_proxy`; everything public is
re-exported here, the module to import.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# The pieces live in modules of their own; this module is the one to import.
from streamrecover.testing._connection import (
    MAX_REQUEST_SIZE,  # noqa: F401 - the server's documented limits, importable here as before
    POLL_INTERVAL,
    SEND_TIMEOUT,  # noqa: F401
    RecordedRequest,
    _Channel,
    _ClientGone,
    _read_request,
    _Stopped,
    _TLSChannel,
)
from streamrecover.testing._listener import _Listener
from streamrecover.testing.connect_proxy import ConnectProxy
from streamrecover.testing.steps import (
    Close,
    Drip,
    HalfClose,
    LastChunk,
    Reset,
    Script,
    Send,
    SendChunk,
    SendHead,
    Sleep,
    Stall,
    Step,
    http_response,
    sse_body,
    sse_frame,
    sse_head,
    sse_response,
)

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


def unused_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` where nothing listens right now (connecting is refused)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


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


