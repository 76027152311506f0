"""TLS: verification on by default, a custom CA by file or context, EOFs told apart."""

from __future__ import annotations

import ssl

import pytest
import trustme

from streamrecover import HTTPRequest, TransportError, UsageError
from streamrecover.testing.server import (
    Close,
    FaultServer,
    Reset,
    Send,
    SendChunk,
    Sleep,
    sse_frame,
    sse_head,
    sse_response,
)
from streamrecover.transport import AsyncTransport, SyncTransport, Timeouts

TIMEOUTS = Timeouts(connect=10, read=10, idle=10, write=10)
FRAMES = [sse_frame("one"), sse_frame("two"), sse_frame("[DONE]")]
STREAM = b"".join(FRAMES)


def get(url: str) -> HTTPRequest:
    return HTTPRequest(method="GET", url=url)


def fetch_sync(transport: SyncTransport, url: str) -> bytes:
    with transport.open(get(url), TIMEOUTS) as response:
        return b"".join(response.iter_bytes())


async def fetch_async(transport: AsyncTransport, url: str) -> bytes:
    async with await transport.open(get(url), TIMEOUTS) as response:
        return b"".join([piece async for piece in response.aiter_bytes()])


def test_sync_trusts_a_ca_file(server_ssl_context: ssl.SSLContext, ca_file: str) -> None:
    with FaultServer([sse_response(FRAMES)], ssl_context=server_ssl_context) as server:
        assert fetch_sync(SyncTransport(ca_file=ca_file, proxy=None), server.url("/s")) == STREAM
        assert server.requests[0].path == "/s"


def test_sync_trusts_an_ssl_context(
    server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    transport = SyncTransport(ssl_context=client_ssl_context, proxy=None)
    with FaultServer([sse_response(FRAMES)], ssl_context=server_ssl_context) as server:
        assert fetch_sync(transport, server.url(host="127.0.0.1")) == STREAM


@pytest.mark.anyio
async def test_async_trusts_a_ca_file(server_ssl_context: ssl.SSLContext, ca_file: str) -> None:
    with FaultServer([sse_response(FRAMES)], ssl_context=server_ssl_context) as server:
        transport = AsyncTransport(ca_file=ca_file, proxy=None)
        assert await fetch_async(transport, server.url()) == STREAM


@pytest.mark.anyio
async def test_async_trusts_an_ssl_context(
    server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    with FaultServer([sse_response(FRAMES)], ssl_context=server_ssl_context) as server:
        transport = AsyncTransport(ssl_context=client_ssl_context, proxy=None)
        assert await fetch_async(transport, server.url()) == STREAM


def test_sync_refuses_an_unknown_ca(server_ssl_context: ssl.SSLContext) -> None:
    with FaultServer([sse_response(FRAMES)], ssl_context=server_ssl_context) as server:
        with pytest.raises(TransportError) as caught:
            fetch_sync(SyncTransport(proxy=None), server.url())
        assert caught.value.kind == "tls_certificate"
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        assert server.requests == []


@pytest.mark.anyio
async def test_async_refuses_an_unknown_ca(server_ssl_context: ssl.SSLContext) -> None:
    with FaultServer([sse_response(FRAMES)], ssl_context=server_ssl_context) as server:
        with pytest.raises(TransportError) as caught:
            await fetch_async(AsyncTransport(proxy=None), server.url())
        assert caught.value.kind == "tls_certificate"
        assert server.requests == []


@pytest.fixture(scope="module")
def wrong_name_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("api.example.com").configure_cert(context)
    return context


def test_sync_checks_the_host_name(wrong_name_context: ssl.SSLContext, ca_file: str) -> None:
    with FaultServer([sse_response(FRAMES)], ssl_context=wrong_name_context) as server:
        with pytest.raises(TransportError) as caught:
            fetch_sync(SyncTransport(ca_file=ca_file, proxy=None), server.url())
        assert caught.value.kind == "tls_certificate"


@pytest.mark.anyio
async def test_async_checks_the_host_name(wrong_name_context: ssl.SSLContext, ca_file: str) -> None:
    with FaultServer([sse_response(FRAMES)], ssl_context=wrong_name_context) as server:
        with pytest.raises(TransportError) as caught:
            await fetch_async(AsyncTransport(ca_file=ca_file, proxy=None), server.url())
        assert caught.value.kind == "tls_certificate"


EOF_CASES = {
    # Closing without close_notify halfway through a chunked body: tls_eof.
    "ragged-mid-body": (
        [sse_head(), SendChunk(FRAMES[0]), Close(tls_close_notify=False)],
        "tls_eof",
    ),
    # close_notify, then close: a clean close that still truncates the body.
    "notify-mid-body": ([sse_head(), SendChunk(FRAMES[0]), Close()], "incomplete_body"),
    # The same inside a chunk and inside the chunk-size line.
    "ragged-inside-chunk": (
        [sse_head(), Send(b"40\r\n" + FRAMES[0]), Close(tls_close_notify=False)],
        "tls_eof",
    ),
    "ragged-inside-size-line": (
        [sse_head(), SendChunk(FRAMES[0]), Send(b"4"), Close(tls_close_notify=False)],
        "tls_eof",
    ),
    "notify-inside-chunk": ([sse_head(), Send(b"40\r\n" + FRAMES[0]), Close()], "incomplete_body"),
    "reset-mid-body": ([sse_head(), SendChunk(FRAMES[0]), Sleep(0.05), Reset()], "reset"),
    "ragged-before-head": ([Close(tls_close_notify=False)], "closed"),
}


@pytest.mark.parametrize("name", EOF_CASES)
def test_sync_tls_endings(name: str, server_ssl_context: ssl.SSLContext, ca_file: str) -> None:
    script, kind = EOF_CASES[name]
    with (
        FaultServer([script], ssl_context=server_ssl_context) as server,
        pytest.raises(TransportError) as caught,
    ):
        fetch_sync(SyncTransport(ca_file=ca_file, proxy=None), server.url())
    assert caught.value.kind == kind


@pytest.mark.anyio
@pytest.mark.parametrize("name", EOF_CASES)
async def test_async_tls_endings(
    name: str, server_ssl_context: ssl.SSLContext, ca_file: str
) -> None:
    script, kind = EOF_CASES[name]
    with (
        FaultServer([script], ssl_context=server_ssl_context) as server,
        pytest.raises(TransportError) as caught,
    ):
        await fetch_async(AsyncTransport(ca_file=ca_file, proxy=None), server.url())
    assert caught.value.kind == kind


@pytest.mark.parametrize("notify", [True, False])
def test_sync_close_delimited_tls_body_ends_at_close(
    notify: bool, server_ssl_context: ssl.SSLContext, ca_file: str
) -> None:
    # Framing by close has no length to check: the end of the connection, with
    # or without close_notify, is the end of the body (truncation is then the
    # provider parser's to detect, from the missing terminal event).
    script = [*sse_response(FRAMES, chunked=False)[:-1], Close(tls_close_notify=notify)]
    with FaultServer([script], ssl_context=server_ssl_context) as server:
        assert fetch_sync(SyncTransport(ca_file=ca_file, proxy=None), server.url()) == STREAM


@pytest.mark.anyio
@pytest.mark.parametrize("notify", [True, False])
async def test_async_close_delimited_tls_body_ends_at_close(
    notify: bool, server_ssl_context: ssl.SSLContext, ca_file: str
) -> None:
    script = [*sse_response(FRAMES, chunked=False)[:-1], Close(tls_close_notify=notify)]
    with FaultServer([script], ssl_context=server_ssl_context) as server:
        transport = AsyncTransport(ca_file=ca_file, proxy=None)
        assert await fetch_async(transport, server.url()) == STREAM


def test_plain_http_server_behind_an_https_url_is_other() -> None:
    with FaultServer([sse_response(FRAMES)], read_request=False) as server:
        url = server.url().replace("http://", "https://")
        with pytest.raises(TransportError) as caught:
            fetch_sync(SyncTransport(proxy=None), url)
    assert caught.value.kind in {"other", "closed"}


def test_ssl_context_and_ca_file_together_are_refused(
    client_ssl_context: ssl.SSLContext, ca_file: str
) -> None:
    with pytest.raises(UsageError):
        SyncTransport(ssl_context=client_ssl_context, ca_file=ca_file)


@pytest.mark.parametrize("transport_class", [SyncTransport, AsyncTransport])
def test_an_unreadable_ca_file_is_a_usage_error(
    transport_class: type[SyncTransport] | type[AsyncTransport],
) -> None:
    with pytest.raises(UsageError, match="CA certificates"):
        transport_class(ca_file="/nonexistent/ca.pem", proxy=None)
