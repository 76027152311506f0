"""Every way a connection fails becomes a TransportError with the right kind (sync and async)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from streamrecover import HTTPRequest, TransportError, UsageError
from streamrecover.core.errors import TransportFaultKind
from streamrecover.testing.server import (
    Close,
    FaultServer,
    HalfClose,
    Reset,
    Send,
    SendChunk,
    SendHead,
    Sleep,
    Stall,
    Step,
    sse_frame,
    sse_head,
    unused_port,
)
from streamrecover.transport import AsyncTransport, SyncTransport, Timeouts

FIRST = sse_frame('{"text": "partial"}')
HEAD = sse_head()
GENEROUS = Timeouts(connect=5, read=5, idle=5, write=5)


@dataclass(frozen=True)
class Fault:
    script: list[Step]
    kind: TransportFaultKind
    timeouts: Timeouts = GENEROUS
    deadline_in: float | None = None  # seconds from the start of the request
    body_before: bytes = b""  # what the body delivered before the failure


FAULTS = {
    "reset-before-head": Fault([Reset()], "reset"),
    "reset-mid-body": Fault(
        [HEAD, SendChunk(FIRST), Sleep(0.05), Reset()], "reset", body_before=FIRST
    ),
    "close-before-head": Fault([Close()], "closed"),
    "close-inside-head": Fault([Send(b"HTTP/1.1 200 OK\r\nContent-"), Close()], "closed"),
    "close-mid-chunked-body": Fault(
        [HEAD, SendChunk(FIRST), Close()], "incomplete_body", body_before=FIRST
    ),
    "close-inside-chunk": Fault(
        [HEAD, Send(b"40\r\n" + FIRST), Close()], "incomplete_body", body_before=FIRST
    ),
    "half-close-mid-body": Fault(
        [HEAD, SendChunk(FIRST), HalfClose(), Stall(5)], "incomplete_body", body_before=FIRST
    ),
    "truncated-content-length": Fault(
        [SendHead(200, (("content-length", "100"),)), Send(b"abc"), Close()],
        "incomplete_body",
        body_before=b"abc",
    ),
    "idle-timeout": Fault(
        [HEAD, SendChunk(FIRST), Stall(10)],
        "idle_timeout",
        timeouts=Timeouts(connect=5, read=5, idle=0.2, write=5),
        body_before=FIRST,
    ),
    "read-timeout": Fault([Stall(10)], "read_timeout", timeouts=Timeouts(read=0.2)),
    "read-timeout-inside-head": Fault(
        [Send(b"HTTP/1.1 200 OK\r\n"), Stall(10)], "read_timeout", timeouts=Timeouts(read=0.2)
    ),
    "deadline-mid-body": Fault(
        [HEAD, SendChunk(FIRST), Stall(10)], "deadline", deadline_in=0.3, body_before=FIRST
    ),
    "deadline-before-head": Fault([Stall(10)], "deadline", deadline_in=0.3),
    "malformed-status-line": Fault([Send(b"garbage\r\n\r\n"), Close()], "other"),
    # The chunked framing itself (decoded by transport._chunked, not h11).
    "malformed-chunk-size": Fault(
        [HEAD, SendChunk(FIRST), Send(b"zz\r\n"), Close()], "other", body_before=FIRST
    ),
    "chunk-data-without-crlf": Fault(
        [HEAD, Send(b"%x\r\n%sXX" % (len(FIRST), FIRST)), Close()], "other", body_before=FIRST
    ),
    "close-inside-chunk-size-line": Fault(
        [HEAD, SendChunk(FIRST), Send(b"4"), Close()], "incomplete_body", body_before=FIRST
    ),
    "close-inside-trailers": Fault(
        [HEAD, SendChunk(FIRST), Send(b"0\r\nX-Trailer: 1\r\n"), Close()],
        "incomplete_body",
        body_before=FIRST,
    ),
    "reset-inside-chunk": Fault(
        [HEAD, Send(b"40\r\n" + FIRST), Sleep(0.05), Reset()], "reset", body_before=FIRST
    ),
    "idle-timeout-inside-chunk": Fault(
        [HEAD, Send(b"40\r\n" + FIRST), Stall(10)],
        "idle_timeout",
        timeouts=Timeouts(connect=5, read=5, idle=0.2, write=5),
        body_before=FIRST,
    ),
}


def request_for(url: str) -> HTTPRequest:
    return HTTPRequest(method="POST", url=url, body=b"{}")


def run_sync(url: str, fault: Fault) -> tuple[TransportError, bytes]:
    deadline = None if fault.deadline_in is None else time.monotonic() + fault.deadline_in
    received = bytearray()
    transport = SyncTransport(proxy=None)
    # The failure may come from open() or from the body: both are inside.
    with (
        pytest.raises(TransportError) as caught,
        transport.open(request_for(url), fault.timeouts, deadline=deadline) as response,
    ):
        for piece in response.iter_bytes():
            received += piece
    return caught.value, bytes(received)


async def run_async(url: str, fault: Fault) -> tuple[TransportError, bytes]:
    deadline = None if fault.deadline_in is None else time.monotonic() + fault.deadline_in
    received = bytearray()
    transport = AsyncTransport(proxy=None)
    with pytest.raises(TransportError) as caught:
        response = await transport.open(request_for(url), fault.timeouts, deadline=deadline)
        async with response:
            async for piece in response.aiter_bytes():
                received += piece
    return caught.value, bytes(received)


def assert_no_leak(error: TransportError) -> None:
    # Only our exception reaches the caller; the low-level one is its cause.
    assert type(error) is TransportError
    assert error.__cause__ is None or not isinstance(error.__cause__, TransportError)


@pytest.mark.parametrize("name", FAULTS)
def test_sync_fault_kind(name: str) -> None:
    fault = FAULTS[name]
    with FaultServer([fault.script]) as server:
        error, received = run_sync(server.url("/v1/stream"), fault)
    assert error.kind == fault.kind, error
    assert received == fault.body_before
    assert_no_leak(error)


@pytest.mark.anyio
@pytest.mark.parametrize("name", FAULTS)
async def test_async_fault_kind(name: str) -> None:
    fault = FAULTS[name]
    with FaultServer([fault.script]) as server:
        error, received = await run_async(server.url("/v1/stream"), fault)
    assert error.kind == fault.kind, error
    assert received == fault.body_before
    assert_no_leak(error)


def test_sync_refused() -> None:
    url = f"http://127.0.0.1:{unused_port()}/"
    error, _ = run_sync(url, Fault([], "connect_refused"))
    assert error.kind == "connect_refused"
    assert isinstance(error.__cause__, ConnectionRefusedError)


@pytest.mark.anyio
async def test_async_refused() -> None:
    url = f"http://127.0.0.1:{unused_port()}/"
    error, _ = await run_async(url, Fault([], "connect_refused"))
    assert error.kind == "connect_refused"


@pytest.fixture
def unresolvable(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # Resolution fails for one name, whatever the machine's resolver does.
    real = socket.getaddrinfo

    def fake(host: object, *args: object, **kwargs: object) -> object:
        if host in ("nowhere.invalid", b"nowhere.invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield "http://nowhere.invalid/v1"


def test_sync_dns_failure(unresolvable: str) -> None:
    error, _ = run_sync(unresolvable, Fault([], "dns"))
    assert error.kind == "dns"


@pytest.mark.anyio
async def test_async_dns_failure(unresolvable: str) -> None:
    error, _ = await run_async(unresolvable, Fault([], "dns"))
    assert error.kind == "dns"


@pytest.fixture
def full_backlog() -> Iterator[str]:
    # A listener that never accepts, with its accept queue filled: the kernel
    # drops further SYNs, so a new connection attempt hangs until it times out.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            fillers.append(filler)
            try:
                filler.connect(listener.getsockname())
            except BlockingIOError:
                break
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.3)
        try:
            probe.connect(listener.getsockname())
        except TimeoutError:
            pass
        else:
            pytest.skip("this kernel accepts connections beyond the backlog")
        finally:
            probe.close()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_sync_connect_timeout(full_backlog: str) -> None:
    error, _ = run_sync(full_backlog, Fault([], "connect_timeout", timeouts=Timeouts(connect=0.2)))
    assert error.kind == "connect_timeout"


@pytest.mark.anyio
async def test_async_connect_timeout(full_backlog: str) -> None:
    error, _ = await run_async(
        full_backlog, Fault([], "connect_timeout", timeouts=Timeouts(connect=0.2))
    )
    assert error.kind == "connect_timeout"


def test_a_deadline_already_past_fails_before_connecting() -> None:
    with FaultServer([[Close()]]) as server:
        with pytest.raises(TransportError) as caught:
            SyncTransport(proxy=None).open(request_for(server.url()), deadline=time.monotonic() - 1)
        assert caught.value.kind == "deadline"
        assert server.connections == []


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "http:///nohost", "http://example.com:99999/", "example.com/x"],
)
def test_unusable_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError):
        SyncTransport(proxy=None).open(request_for(url))


def test_header_injection_is_refused_before_connecting() -> None:
    request = HTTPRequest(method="GET", url="http://127.0.0.1:1/", headers=(("x-a", "b\r\nx: y"),))
    with pytest.raises(UsageError):
        SyncTransport(proxy=None).open(request)


def test_reading_after_a_failure_is_a_usage_error() -> None:
    fault = FAULTS["close-mid-chunked-body"]
    with FaultServer([fault.script]) as server:
        response = SyncTransport(proxy=None).open(request_for(server.url()))
        with pytest.raises(TransportError):
            b"".join(response.iter_bytes())
        with pytest.raises(UsageError, match="failed"):
            response.read(1)
        response.close()
