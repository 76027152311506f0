"""SSL_CERT_FILE, as README "Proxies, TLS and custom CAs" says, replaces the system's CAs."""

from __future__ import annotations

import ssl

import pytest

from streamrecover import HTTPRequest, TransportError
from streamrecover.testing.server import FaultServer, sse_frame, sse_response
from streamrecover.transport import SyncTransport, Timeouts

FRAMES = [sse_frame("hi"), sse_frame("[DONE]")]
TIMEOUTS = Timeouts(connect=10, read=10, idle=10, write=10)


def fetch(transport: SyncTransport, url: str) -> bytes:
    request = HTTPRequest(method="POST", url=url, body=b"{}")
    with transport.open(request, TIMEOUTS) as response:
        return b"".join(response.iter_bytes())


def test_ssl_cert_file_is_honoured_by_the_default_context(
    server_ssl_context: ssl.SSLContext, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaultServer([sse_response(FRAMES)] * 2, ssl_context=server_ssl_context) as server:
        with pytest.raises(TransportError) as caught:
            fetch(SyncTransport(proxy=None), server.url("/v1"))  # the system's CAs
        assert caught.value.kind == "tls_certificate"
        monkeypatch.setenv("SSL_CERT_FILE", ca_file)
        assert fetch(SyncTransport(proxy=None), server.url("/v1")) == b"".join(FRAMES)
