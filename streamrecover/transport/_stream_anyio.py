"""Byte stream over anyio (asyncio or trio): the async transport's I/O.

The method names and arguments match :mod:`streamrecover.transport._stream_socket`.
anyio's exceptions (``EndOfStream``, ``BrokenResourceError``,
``ClosedResourceError``, ``TimeoutError`` from ``fail_after``) and the OS and
TLS errors under them become :class:`~streamrecover.core.errors.TransportError`
here. Cancellation is never caught: it propagates, and the transport closes the
stream on its way out.

Under asyncio (Python 3.11+) the wait of a read is bounded by an
:class:`_IdleWatch` rather than by a cancel scope per read: anyio's
``fail_after`` costs about 70,000 instructions on asyncio, twice the whole
client's work for an event, and a server streaming tokens brings about one
event per read. The watch keeps one timer per stream and moves it only when
it fires early; its cancellation is told apart from any other one as
``asyncio.timeout`` does (``Task.uncancel``). Under trio a read is bounded by
trio's own ``move_on_at`` (anyio's wrapper over it costs two thirds more).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import sys

import anyio
import anyio.abc
from anyio.streams.tls import TLSStream

from streamrecover.core.errors import TransportFaultKind
from streamrecover.transport._faults import (
    Phase,
    connect_failure_kind,
    fail,
    kind_for_os_error,
    time_left,
)
from streamrecover.transport.base import READ_SIZE

__all__ = ["AnyIOStream"]


def _timeout(seconds: float) -> float | None:
    return None if math.isinf(seconds) else seconds


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc.__cause__
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__
    return chain


def _is_ragged_tls_eof(exc: BaseException) -> bool:
    # TLSStream (standard_compatible=True) raises BrokenResourceError from the
    # SSLEOFError (or an SSLError saying UNEXPECTED_EOF_WHILE_READING) when the
    # peer closes the TCP connection without a TLS close_notify.
    return any(
        isinstance(cause, ssl.SSLEOFError)
        or (isinstance(cause, ssl.SSLError) and "UNEXPECTED_EOF" in str(cause))
        for cause in _causes(exc)
    )


def _broken_kind(exc: BaseException, timeout_kind: TransportFaultKind) -> TransportFaultKind:
    for cause in _causes(exc):
        if isinstance(cause, OSError):
            return kind_for_os_error(cause, timeout_kind=timeout_kind)
    return "other"


class _IdleWatch:
    """The timer bounding a stream's reads under asyncio: one handle, moved lazily.

    :meth:`arm` before a wait records its end and starts the timer only when
    none runs or the running one is due later; :meth:`disarm` after it is one
    store. When the timer fires while the wait it was armed for has been
    replaced by a later one, it is set again for that end; when it fires with
    no wait under way it stops (the next :meth:`arm` starts it). Only a wait
    that is really over its end cancels the task, and ``fired`` says so.
    """

    __slots__ = ("_end", "_handle", "_handle_at", "_loop", "_task", "fired")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self._handle_at = 0.0
        self._end = 0.0
        self._task: asyncio.Task[object] | None = None
        self.fired = False

    def arm(self, seconds: float, task: asyncio.Task[object]) -> None:
        end = self._loop.time() + seconds
        self._end = end
        self._task = task
        handle = self._handle
        if handle is None or self._handle_at > end:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(end, self._expire)
            self._handle_at = end

    def disarm(self) -> None:
        self._task = None

    def close(self) -> None:
        self._task = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expire(self) -> None:
        self._handle = None
        task = self._task
        if task is None:
            return  # no read waits: the next one starts the timer again
        if self._end > self._handle_at:
            # Reads came since the timer was set: the wait under way ends later.
            self._handle = self._loop.call_at(self._end, self._expire)
            self._handle_at = self._end
            return
        self.fired = True
        task.cancel()


def _idle_watch() -> _IdleWatch | None:
    # Under asyncio with Task.uncancel (3.11+), the cheap watch; else None.
    if sys.version_info < (3, 11):
        return None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return _IdleWatch(loop)


def _running_trio() -> bool:
    # anyio runs on asyncio or trio: no running asyncio loop means trio.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


class AnyIOStream:
    """A connected anyio byte stream, possibly wrapped in TLS. ``what`` names the peer in errors.

    ``ragged_eof`` becomes True when a TLS peer closed without close_notify.
    """

    def __init__(self, stream: anyio.abc.ByteStream, what: str) -> None:
        self._stream = stream
        self.what = what
        self.ragged_eof = False
        self._watch = _idle_watch()
        # Under trio a read is bounded by trio's own cancel scope: anyio's
        # fail_after on trio costs about 100,000 instructions, trio's 60,000.
        self._trio = self._watch is None and _running_trio()

    @classmethod
    async def connect(
        cls, host: str, port: int, *, phase: Phase, deadline: float | None, what: str
    ) -> AnyIOStream:
        """Open a TCP connection to ``host``:``port`` (happy eyeballs over IPv6 and IPv4)."""
        seconds, kind = time_left(phase, deadline, what)
        try:
            with anyio.fail_after(_timeout(seconds)):
                stream = await anyio.connect_tcp(host, port)
        except OSError as exc:
            # anyio reports "all connection attempts failed" with the real
            # errors (one, or a group of them) as the cause.
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            fail(connect_failure_kind(cause, timeout_kind=kind), what, exc)
        return cls(stream, what)

    async def start_tls(
        self,
        context: ssl.SSLContext,
        server_hostname: str,
        *,
        phase: Phase,
        deadline: float | None,
    ) -> None:
        """Run the TLS handshake (SNI and certificate check against ``server_hostname``)."""
        seconds, kind = time_left(phase, deadline, self.what)
        try:
            with anyio.fail_after(_timeout(seconds)):
                self._stream = await TLSStream.wrap(
                    self._stream,
                    hostname=server_hostname,
                    ssl_context=context,
                    # True: an EOF without close_notify raises instead of
                    # passing for a clean end, so a truncated body is seen.
                    standard_compatible=True,
                )
        except anyio.EndOfStream as exc:
            fail("closed", self.what, exc)
        except anyio.BrokenResourceError as exc:
            fail("closed" if _is_ragged_tls_eof(exc) else _broken_kind(exc, kind), self.what, exc)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
            fail("closed", self.what, exc)
        except OSError as exc:
            fail(kind_for_os_error(exc, timeout_kind=kind), self.what, exc)

    async def send_all(self, data: bytes, *, phase: Phase, deadline: float | None) -> None:
        """Send every byte of ``data``."""
        seconds, kind = time_left(phase, deadline, self.what)
        try:
            with anyio.fail_after(_timeout(seconds)):
                await self._stream.send(data)
        except anyio.BrokenResourceError as exc:
            fail(_broken_kind(exc, kind), self.what, exc)
        except anyio.ClosedResourceError as exc:
            fail("other", self.what, exc)
        except OSError as exc:
            fail(kind_for_os_error(exc, timeout_kind=kind), self.what, exc)

    async def receive(self, *, phase: Phase, deadline: float | None) -> bytes:
        """Return the next bytes (at most :data:`READ_SIZE`); ``b""`` means the stream ended."""
        seconds, kind = time_left(phase, deadline, self.what)
        try:
            watch = self._watch
            if watch is not None:
                if math.isinf(seconds):
                    return await self._stream.receive(READ_SIZE)
                return await self._watched_receive(watch, seconds)
            if self._trio:
                return await self._trio_receive(seconds)
            with anyio.fail_after(_timeout(seconds)):
                return await self._stream.receive(READ_SIZE)
        except anyio.EndOfStream:
            return b""
        except anyio.BrokenResourceError as exc:
            if _is_ragged_tls_eof(exc):
                self.ragged_eof = True
                return b""
            fail(_broken_kind(exc, kind), self.what, exc)
        except anyio.ClosedResourceError as exc:
            fail("other", self.what, exc)
        except OSError as exc:
            fail(kind_for_os_error(exc, timeout_kind=kind), self.what, exc)

    async def _watched_receive(self, watch: _IdleWatch, seconds: float) -> bytes:
        # Raises TimeoutError (an OSError, mapped by the caller) when the watch fired.
        if sys.version_info < (3, 11):  # pragma: no cover - _idle_watch() gave None
            raise RuntimeError("the idle watch needs Task.uncancel (Python 3.11+)")
        task = asyncio.current_task()
        assert task is not None  # a read runs in a task
        cancelling = task.cancelling()
        watch.arm(seconds, task)
        try:
            return await self._stream.receive(READ_SIZE)
        except asyncio.CancelledError:
            if watch.fired:
                watch.fired = False
                # Ours alone, unless another cancellation came on top (as asyncio.timeout).
                if task.uncancel() <= cancelling:
                    raise TimeoutError("no data within the time allowed") from None
            raise
        finally:
            watch.disarm()

    async def _trio_receive(self, seconds: float) -> bytes:
        # Raises TimeoutError (an OSError, mapped by the caller) when the time ran out.
        import trio

        if math.isinf(seconds):
            return await self._stream.receive(READ_SIZE)
        with trio.move_on_at(trio.current_time() + seconds):
            return await self._stream.receive(READ_SIZE)
        raise TimeoutError("no data within the time allowed")

    async def aclose(self) -> None:
        """Close at once, even inside a cancelled scope; never raises, safe to call twice.

        No TLS close_notify is exchanged: waiting for a peer that may be the
        very reason the stream is being closed would make closing slow.
        """
        if self._watch is not None:
            self._watch.close()
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await anyio.aclose_forcefully(self._stream)
