"""Proxies: CONNECT tunnels for https, absolute-form forwarding for http, no_proxy."""

from __future__ import annotations

import base64
import ssl

import pytest

from streamrecover import HTTPRequest, TransportError, UsageError
from streamrecover.testing.server import (
    ConnectProxy,
    FaultServer,
    http_response,
    sse_frame,
    sse_response,
)
from streamrecover.transport import AsyncTransport, SyncTransport, Timeouts

TIMEOUTS = Timeouts(connect=10, read=10, idle=10, write=10)
FRAMES = [sse_frame("through"), sse_frame("[DONE]")]
STREAM = b"".join(FRAMES)


def post(url: str) -> HTTPRequest:
    return HTTPRequest(
        method="POST", url=url, headers=(("authorization", "Bearer sk-x"),), body=b"{}"
    )


def fetch_sync(transport: SyncTransport, url: str) -> bytes:
    with transport.open(post(url), TIMEOUTS) as response:
        return b"".join(response.iter_bytes())


async def fetch_async(transport: AsyncTransport, url: str) -> bytes:
    async with await transport.open(post(url), TIMEOUTS) as response:
        return b"".join([piece async for piece in response.aiter_bytes()])


def test_sync_https_goes_through_a_connect_tunnel(
    server_ssl_context: ssl.SSLContext, ca_file: str
) -> None:
    with (
        FaultServer([sse_response(FRAMES)], ssl_context=server_ssl_context) as server,
        ConnectProxy() as proxy,
    ):
        transport = SyncTransport(ca_file=ca_file, proxy=proxy.url)
        assert fetch_sync(transport, server.url("/v1/chat")) == STREAM
        (connect,) = proxy.requests
        (request,) = server.requests
    assert (connect.method, connect.path) == ("CONNECT", f"127.0.0.1:{server.port}")
    assert connect.header("host") == f"127.0.0.1:{server.port}"
    # The credentials travel inside the tunnel only.
    assert connect.header("authorization") is None
    assert (request.method, request.path) == ("POST", "/v1/chat")
    assert request.header("authorization") == "Bearer sk-x"


@pytest.mark.anyio
async def test_async_https_goes_through_a_connect_tunnel(
    server_ssl_context: ssl.SSLContext, ca_file: str
) -> None:
    with (
        FaultServer([sse_response(FRAMES)], ssl_context=server_ssl_context) as server,
        ConnectProxy() as proxy,
    ):
        transport = AsyncTransport(ca_file=ca_file, proxy=proxy.url)
        assert await fetch_async(transport, server.url("/v1/chat")) == STREAM
        assert [r.method for r in proxy.requests] == ["CONNECT"]
        assert server.requests[0].path == "/v1/chat"


def test_https_proxy_from_the_environment(
    server_ssl_context: ssl.SSLContext, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        FaultServer([sse_response(FRAMES)] * 2, ssl_context=server_ssl_context) as server,
        ConnectProxy() as proxy,
    ):
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        transport = SyncTransport(ca_file=ca_file)
        assert fetch_sync(transport, server.url()) == STREAM
        assert len(proxy.requests) == 1
        # no_proxy is read at each request: this one goes direct.
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.0/8")
        assert fetch_sync(transport, server.url()) == STREAM
        assert len(proxy.requests) == 1
        assert len(server.requests) == 2


@pytest.mark.parametrize("status", [407, 403, 502])
def test_sync_a_refused_tunnel_is_a_proxy_fault(status: int) -> None:
    # The fault server plays the proxy here: it answers CONNECT with an error.
    with FaultServer([http_response(status, "no")]) as fake_proxy:
        transport = SyncTransport(proxy=f"http://user:p%40ss@127.0.0.1:{fake_proxy.port}")
        with pytest.raises(TransportError) as caught:
            fetch_sync(transport, "https://api.example.com/v1")
        (connect,) = fake_proxy.requests
    assert caught.value.kind == ("proxy" if status >= 500 else "proxy_refused")
    assert str(status) in str(caught.value)
    assert f"proxy 127.0.0.1:{fake_proxy.port}" in str(caught.value)
    assert caught.value.proxy == f"127.0.0.1:{fake_proxy.port}"
    assert "p%40ss" not in str(caught.value) and "p@ss" not in str(caught.value)
    assert (connect.method, connect.path) == ("CONNECT", "api.example.com:443")
    token = base64.b64encode(b"user:p@ss").decode()
    assert connect.header("proxy-authorization") == f"Basic {token}"


@pytest.mark.anyio
async def test_async_a_refused_tunnel_is_a_proxy_fault() -> None:
    with FaultServer([http_response(407, "auth")]) as fake_proxy:
        transport = AsyncTransport(proxy=f"http://127.0.0.1:{fake_proxy.port}")
        with pytest.raises(TransportError) as caught:
            await fetch_async(transport, "https://api.example.com:8443/v1")
        assert fake_proxy.requests[0].path == "api.example.com:8443"
    assert caught.value.kind == "proxy_refused"
    assert "api.example.com:8443" in str(caught.value)


def test_sync_plain_http_is_forwarded_in_absolute_form() -> None:
    with FaultServer([sse_response(FRAMES)]) as fake_proxy:
        transport = SyncTransport(proxy=f"http://u:pw@127.0.0.1:{fake_proxy.port}")
        assert fetch_sync(transport, "http://models.internal:8000/v1/chat?x=1") == STREAM
        (request,) = fake_proxy.requests
    assert request.path == "http://models.internal:8000/v1/chat?x=1"
    assert request.header("host") == "models.internal:8000"
    assert request.header("proxy-authorization") == "Basic " + base64.b64encode(b"u:pw").decode()


@pytest.mark.anyio
async def test_async_plain_http_is_forwarded_in_absolute_form() -> None:
    with FaultServer([sse_response(FRAMES)]) as fake_proxy:
        transport = AsyncTransport(proxy=f"http://127.0.0.1:{fake_proxy.port}")
        assert await fetch_async(transport, "http://models.internal/v1") == STREAM
        assert fake_proxy.requests[0].path == "http://models.internal/v1"
        assert fake_proxy.requests[0].header("host") == "models.internal"


def test_a_refused_proxy_connection_is_connect_refused() -> None:
    from streamrecover.testing.server import unused_port

    transport = SyncTransport(proxy=f"http://127.0.0.1:{unused_port()}")
    with pytest.raises(TransportError) as caught:
        fetch_sync(transport, "https://api.example.com/")
    assert caught.value.kind == "connect_refused"
    # Named as the proxy, so that it does not read as if the API were down.
    assert str(caught.value).startswith(f"proxy {caught.value.proxy}: connection refused")
    assert caught.value.proxy.startswith("127.0.0.1:")


@pytest.mark.parametrize("proxy", ["https://proxy.example:443", "socks5://127.0.0.1:1080"])
def test_unsupported_proxy_schemes_are_usage_errors(proxy: str) -> None:
    with pytest.raises(UsageError):
        SyncTransport(proxy=proxy)
