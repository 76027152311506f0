"""Closing and cancelling release the connection at once; IPv6; missing extras; lazy imports."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys

import anyio
import pytest

from streamrecover import HTTPRequest, MissingExtraError, TransportError, UsageError
from streamrecover.testing.server import (
    FaultServer,
    SendChunk,
    Stall,
    sse_frame,
    sse_head,
    sse_response,
)
from streamrecover.transport import AsyncTransport, SyncTransport, Timeouts

TIMEOUTS = Timeouts(connect=10, read=10, idle=10, write=10)
FIRST = sse_frame("first")
STALLED = [sse_head(), SendChunk(FIRST), Stall(20)]


def get(url: str) -> HTTPRequest:
    return HTTPRequest(method="GET", url=url)


def test_sync_early_close_disconnects() -> None:
    with FaultServer([STALLED]) as server:
        response = SyncTransport(proxy=None).open(get(server.url()), TIMEOUTS)
        pieces = response.iter_bytes()
        assert next(pieces) == FIRST
        response.close()
        assert server.wait_for_disconnect(0)
        with pytest.raises(UsageError):
            next(pieces)


def test_sync_context_manager_exit_disconnects() -> None:
    with FaultServer([STALLED]) as server:
        with SyncTransport(proxy=None).open(get(server.url()), TIMEOUTS) as response:
            assert response.read(len(FIRST)) == FIRST
        assert server.wait_for_disconnect(0)


@pytest.mark.anyio
async def test_async_aclose_disconnects() -> None:
    with FaultServer([STALLED]) as server:
        response = await AsyncTransport(proxy=None).open(get(server.url()), TIMEOUTS)
        assert await response.read(len(FIRST)) == FIRST
        await response.aclose()
        await response.aclose()
        assert await anyio.to_thread.run_sync(server.wait_for_disconnect, 0)


@pytest.mark.anyio
async def test_async_cancelled_read_propagates_and_disconnects() -> None:
    with FaultServer([STALLED]) as server:
        response = await AsyncTransport(proxy=None).open(get(server.url()), TIMEOUTS)
        received = []
        with anyio.CancelScope() as scope:
            async for piece in response.aiter_bytes():
                received.append(piece)
                scope.cancel()  # the next read is cancelled, not failed
        assert scope.cancelled_caught
        assert received == [FIRST]
        assert await anyio.to_thread.run_sync(server.wait_for_disconnect, 0)
        with pytest.raises(UsageError):
            await response.read(1)
        await response.aclose()


@pytest.mark.anyio
async def test_async_cancelled_open_propagates_and_disconnects() -> None:
    with FaultServer([[Stall(20)]]) as server:
        transport = AsyncTransport(proxy=None)
        with anyio.move_on_after(0.3) as scope:
            await transport.open(get(server.url()), TIMEOUTS)
        assert scope.cancelled_caught
        assert await anyio.to_thread.run_sync(server.wait_for_disconnect, 0)


@pytest.mark.anyio
async def test_async_cancelled_from_a_task_group() -> None:
    with FaultServer([STALLED]) as server:
        transport = AsyncTransport(proxy=None)
        started = anyio.Event()

        async def consume() -> None:
            async with await transport.open(get(server.url()), TIMEOUTS) as response:
                async for _ in response.aiter_bytes():
                    started.set()

        async with anyio.create_task_group() as group:
            group.start_soon(consume)
            await started.wait()
            group.cancel_scope.cancel()
        assert await anyio.to_thread.run_sync(server.wait_for_disconnect, 0)


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")


@needs_ipv6
def test_sync_ipv6_loopback() -> None:
    with FaultServer([sse_response([FIRST])], ipv6=True) as server:
        url = server.url("/v6", host="::1")
        assert url.startswith("http://[::1]:")
        with SyncTransport(proxy=None).open(get(url), TIMEOUTS) as response:
            assert b"".join(response.iter_bytes()) == FIRST
        assert server.requests[0].header("host") == f"[::1]:{server.port}"


@needs_ipv6
@pytest.mark.anyio
async def test_async_ipv6_loopback() -> None:
    with FaultServer([sse_response([FIRST])], ipv6=True) as server:
        transport = AsyncTransport(proxy=None)
        async with await transport.open(get(server.url(host="::1")), TIMEOUTS) as response:
            assert await response.read(1000) == FIRST


@needs_ipv6
@pytest.mark.anyio
async def test_tls_over_ipv6_checks_the_address(
    server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    # The certificate names ::1 as an IP address: no SNI, the IP is checked.
    with FaultServer(
        [sse_response([FIRST])] * 2, ssl_context=server_ssl_context, ipv6=True
    ) as server:
        url = server.url(host="::1")
        with SyncTransport(ssl_context=client_ssl_context, proxy=None).open(get(url)) as response:
            assert response.read(1000) == FIRST
        transport = AsyncTransport(ssl_context=client_ssl_context, proxy=None)
        async with await transport.open(get(url)) as async_response:
            assert await async_response.read(1000) == FIRST


def test_missing_h11_names_the_sync_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "h11", None)
    monkeypatch.delitem(sys.modules, "streamrecover.transport._exchange", raising=False)
    with pytest.raises(MissingExtraError) as caught:
        SyncTransport()
    assert caught.value.extra == "sync"
    assert caught.value.missing == "h11"
    assert 'pip install "streamrecover[sync]"' in str(caught.value)
    assert isinstance(caught.value, ImportError)


def test_missing_anyio_names_the_async_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "anyio", None)
    monkeypatch.delitem(sys.modules, "streamrecover.transport._stream_anyio", raising=False)
    with pytest.raises(MissingExtraError) as caught:
        AsyncTransport()
    assert caught.value.extra == "async"
    assert caught.value.missing == "anyio"
    assert 'pip install "streamrecover[async]"' in str(caught.value)


def test_importing_the_transports_loads_no_optional_dependency() -> None:
    probe = (
        "import sys, streamrecover.transport\n"
        "print(sorted(m for m in ('h11', 'anyio', 'trio', 'sniffio') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_errors_after_the_head_close_the_connection() -> None:
    # The transport gave up on the idle stream; the server sees the client go.
    with FaultServer([STALLED]) as server:
        response = SyncTransport(proxy=None).open(get(server.url()), Timeouts(idle=0.2))
        with pytest.raises(TransportError) as caught:
            b"".join(response.iter_bytes())
        assert caught.value.kind == "idle_timeout"
        assert server.wait_for_disconnect(0)


def test_sync_close_from_another_thread_wakes_the_reader() -> None:
    import threading

    with FaultServer([STALLED]) as server:
        response = SyncTransport(proxy=None).open(get(server.url()), TIMEOUTS)
        assert response.read(len(FIRST)) == FIRST
        outcome: list[BaseException] = []

        def read_rest() -> None:
            try:
                response.read(1000)
            except BaseException as exc:
                outcome.append(exc)

        reader = threading.Thread(target=read_rest)
        reader.start()
        assert server.wait_for_disconnect(0, timeout=0.3) is False  # the reader is waiting
        response.close()
        reader.join(timeout=5)
        assert not reader.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], UsageError)
        assert server.wait_for_disconnect(0)


@pytest.mark.anyio
async def test_async_aclose_from_another_task_stops_the_reader() -> None:
    with FaultServer([STALLED]) as server:
        response = await AsyncTransport(proxy=None).open(get(server.url()), TIMEOUTS)
        assert await response.read(len(FIRST)) == FIRST
        outcome: list[BaseException] = []

        async def read_rest() -> None:
            try:
                await response.read(1000)
            except UsageError as exc:
                outcome.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(read_rest)
            await anyio.sleep(0.1)
            await response.aclose()
        assert len(outcome) == 1
        assert await anyio.to_thread.run_sync(server.wait_for_disconnect, 0)
