"""Behind a proxy: refusals are final and name the proxy, dead proxies are named, HTML is reduced.

Every test runs a real Client against loopback servers: a fake proxy that
answers CONNECT with an error, a port nothing listens on, a reverse proxy's
HTML error page. The proxy's password is grepped for in every message and log.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from reference_frames import REFERENCE, ReferenceServer, answer, base_url, request_body

import streamrecover as sr
from streamrecover.core.errors import HTTPStatusError, TransportError, UnexpectedContentError
from streamrecover.testing.server import FaultServer, http_response, unused_port
from streamrecover.transport import SyncTransport

PASSWORD = "proxy-PASSWORD-55"
RETRY = sr.RetryPolicy(max_retries=2, backoff_base=0.001, backoff_cap=0.002)

BAD_GATEWAY_PAGE = """<!DOCTYPE html>
<html>
<head><title>502 Bad Gateway</title>
<style>body { font-family: sans-serif; }</style></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.25.3</center>
</body>
</html>
"""
PORTAL_PAGE = "<html><head><title>Sign in to CorpNet Wi-Fi</title></head><body>...</body></html>"


def stream_through(transport: SyncTransport, url: str, **options: Any) -> sr.StreamInterrupted:
    client = sr.Client(
        "openai", api_key="test-key", base_url=url, storage=None, transport=transport, **options
    )
    with (
        client,
        client.stream(**request_body("openai")) as stream,
        pytest.raises(sr.StreamInterrupted) as caught,
    ):
        stream.until_done()
    return caught.value


@pytest.mark.parametrize("status", [407, 403])
def test_a_refused_connect_is_final_and_names_the_proxy(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="streamrecover")
    reason = {407: "Proxy Authentication Required", 403: "Forbidden"}[status]
    page = http_response(status, BAD_GATEWAY_PAGE.replace("502 Bad Gateway", reason))
    with FaultServer([page] * 3) as fake_proxy:
        proxy = f"127.0.0.1:{fake_proxy.port}"
        transport = SyncTransport(proxy=f"http://me:{PASSWORD}@{proxy}")
        error = stream_through(transport, "https://api.example.com/v1", retry=RETRY)
        connects = fake_proxy.requests
    assert len(connects) == 1  # never retried: the same credentials would be refused again
    assert not error.recoverable
    assert isinstance(error.cause, TransportError)
    assert error.cause.kind == "proxy_refused"
    assert error.cause.proxy == proxy
    assert f"proxy {proxy} refused the tunnel to api.example.com:443: {status}" in str(error)
    for text in (str(error), str(error.cause), caplog.text):
        assert PASSWORD not in text


def test_a_proxy_that_cannot_reach_the_api_is_retried() -> None:
    with FaultServer([http_response(502, "upstream down")] * 3) as fake_proxy:
        transport = SyncTransport(proxy=f"http://127.0.0.1:{fake_proxy.port}")
        error = stream_through(transport, "https://api.example.com/v1", retry=RETRY)
        assert len(fake_proxy.requests) == 3  # the first try and max_retries=2
    assert isinstance(error.cause, TransportError) and error.cause.kind == "proxy"
    assert error.recoverable
    assert "could not open the tunnel to api.example.com:443: 502" in str(error)


def test_a_dead_proxy_from_the_environment_is_named_as_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = unused_port()
    monkeypatch.setenv("https_proxy", f"http://me:{PASSWORD}@127.0.0.1:{port}")
    error = stream_through(SyncTransport(), "https://api.example.com/v1", retry=RETRY)
    assert isinstance(error.cause, TransportError)
    assert error.cause.kind == "connect_refused"  # retried: a proxy restarting comes back
    assert error.cause.proxy == f"127.0.0.1:{port}"
    assert f"proxy 127.0.0.1:{port}: connection refused" in str(error)
    assert "api.example.com" not in str(error.cause)
    assert PASSWORD not in str(error)


def test_a_forwarding_proxy_407_for_plain_http_is_the_proxys() -> None:
    with FaultServer([http_response(407, "auth")] * 3) as fake_proxy:
        transport = SyncTransport(proxy=f"http://127.0.0.1:{fake_proxy.port}")
        error = stream_through(transport, "http://models.internal:8000/v1", retry=RETRY)
        assert len(fake_proxy.requests) == 1
    assert isinstance(error.cause, TransportError) and error.cause.kind == "proxy_refused"
    assert "refused the tunnel to models.internal:8000: 407" in str(error)


def test_a_reverse_proxy_html_page_is_reduced_to_its_title() -> None:
    page = http_response(502, BAD_GATEWAY_PAGE, content_type="text/html")
    with ReferenceServer([page, page]) as server:
        transport = SyncTransport(proxy=None)
        error = stream_through(
            transport, base_url(server, "openai"), retry=sr.RetryPolicy(max_retries=1)
        )
    assert isinstance(error.cause, HTTPStatusError)
    assert str(error.cause) == "HTTP 502: 502 Bad Gateway"
    assert "<" not in str(error) and "\n" not in str(error)
    assert "nginx" in error.cause.body  # the whole body is still there for whoever needs it


def test_a_captive_portal_page_says_who_answered() -> None:
    page = http_response(200, PORTAL_PAGE, content_type="text/html")
    with ReferenceServer([page, page]) as server:
        error = stream_through(SyncTransport(proxy=None), base_url(server, "openai"), retry=RETRY)
    assert isinstance(error.cause, UnexpectedContentError)
    assert str(error.cause) == "expected text/event-stream, got text/html: Sign in to CorpNet Wi-Fi"


def test_a_reverse_proxy_502_then_an_answer_recovers() -> None:
    page = http_response(502, BAD_GATEWAY_PAGE, content_type="text/html")
    with ReferenceServer([page, [answer("openai")]]) as server:
        client = sr.Client(
            "openai",
            api_key="test-key",
            base_url=base_url(server, "openai"),
            storage=None,
            retry=RETRY,
            transport=SyncTransport(proxy=None),
        )
        with client, client.stream(**request_body("openai")) as stream:
            assert stream.until_done() == REFERENCE
