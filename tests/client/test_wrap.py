"""recover_stream: recovery for streams whose requests another HTTP stack sends.

Here the other stack is the standard library (``http.client`` and ``urllib``),
talking to the same fake servers as the client tests.
"""

from __future__ import annotations

import http.client
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from reference_frames import (
    FAST_RETRY,
    REFERENCE,
    Received,
    ReferenceServer,
    answer,
    base_url,
    partial_of,
    prefix,
    request_body,
)

from streamrecover.core.errors import HTTPStatusError, StreamInterrupted, TransportError
from streamrecover.core.events import Resumed, Retrying
from streamrecover.core.http import HTTPRequest
from streamrecover.testing.server import Close, Reset, http_response
from streamrecover.wrap import recover_stream


def _body(connection: http.client.HTTPConnection, response: Any) -> Iterator[bytes]:
    # http.client reports a chunked body cut short as IncompleteRead, which is
    # not an OSError: name it as the transport fault it is.
    try:
        while True:
            try:
                data = response.read1(65536)
            except http.client.IncompleteRead as exc:
                raise TransportError("body ended early", kind="incomplete_body") from exc
            if not data:
                return
            yield data
    finally:
        connection.close()


def open_with_http_client(request: HTTPRequest) -> Iterator[bytes]:
    """Send ``request`` with http.client; return the body's bytes (a ``send`` callable)."""
    parts = urlsplit(request.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(request.method, target, body=request.body, headers=dict(request.headers))
        response = connection.getresponse()
        if response.status != 200:
            body = response.read().decode("utf-8", "replace")
            raise HTTPStatusError(response.status, headers=response.getheaders(), body=body)
    except BaseException:
        connection.close()
        raise
    return _body(connection, response)


def open_with_urllib(request: HTTPRequest) -> Iterator[bytes]:
    """The same with urllib: its HTTPError becomes an HTTPStatusError."""
    prepared = urllib.request.Request(
        request.url, data=request.body, headers=dict(request.headers), method=request.method
    )
    try:
        response = urllib.request.urlopen(prepared, timeout=5)
    except urllib.error.HTTPError as exc:
        with exc:
            raise HTTPStatusError(
                exc.code, headers=list(exc.headers.items()), body=exc.read().decode()
            ) from None

    def body() -> Iterator[bytes]:
        with response:
            while True:
                try:
                    data = response.read1(65536)
                except http.client.IncompleteRead as exc:
                    raise TransportError("body ended early", kind="incomplete_body") from exc
                if not data:
                    return
                yield data

    return body()


def run(provider: str, server: ReferenceServer, **options: Any) -> Received:
    options.setdefault("send", open_with_http_client)
    options.setdefault("retry", FAST_RETRY)
    received = options.pop("received", None) or Received()
    events = recover_stream(
        provider, request_body(provider), base_url=base_url(server, provider), **options
    )
    for event in events:
        received.feed(event)
    return received


@pytest.mark.parametrize("send", [open_with_http_client, open_with_urllib])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_stream_cut_midway_is_resumed_through_send(provider: str, send: Any) -> None:
    gate = threading.Event()
    first = answer(provider, cut_after=6, fault=Reset(), gate=gate)
    with ReferenceServer([[first], [answer(provider, overlap_words=2)]]) as server:
        received = run(
            provider,
            server,
            send=send,
            api_key="k",
            received=Received(gate, gate_at=len(prefix(6))),
        )
        requests = server.requests
    assert received.text == REFERENCE
    assert [event.strategy for event in received.of_type(Resumed)] == ["exact"]
    assert partial_of(provider, requests[1]) == prefix(6)
    # send carried the provider's headers, the key included.
    assert requests[0].header("content-type") == "application/json"


def test_first_is_an_already_open_stream_that_breaks() -> None:
    # The caller opened the stream itself; recover_stream takes over when it breaks.
    first = answer("gemini", cut_after=5, fault=Close())
    with ReferenceServer([[first], [answer("gemini", overlap_words=1)]]) as server:
        provider_url = base_url(server, "gemini")
        opened = open_with_http_client(
            HTTPRequest(
                method="POST",
                url=f"{provider_url}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
                headers=(("content-type", "application/json"),),
                body=b'{"contents": []}',
            )
        )
        received = run("gemini", server, first=opened)
        requests = server.requests
    assert received.text == REFERENCE
    assert len(requests) == 2
    # Only the recovery went through send: it continues the first stream's text.
    assert partial_of("gemini", requests[1]) == prefix(5)


def test_send_raising_oserror_is_a_transport_fault() -> None:
    calls: list[HTTPRequest] = []

    def flaky(request: HTTPRequest) -> Iterator[bytes]:
        calls.append(request)
        if len(calls) == 1:
            raise ConnectionRefusedError("nothing listens")
        return open_with_http_client(request)

    with ReferenceServer([[answer("openai")]]) as server:
        received = run("openai", server, send=flaky)
    assert received.text == REFERENCE
    (retrying,) = received.of_type(Retrying)
    assert isinstance(retrying.cause, TransportError)
    assert isinstance(retrying.cause.__cause__, ConnectionRefusedError)
    assert len(calls) == 2


def test_send_raising_timeout_is_retried() -> None:
    attempts = 0

    def slow(request: HTTPRequest) -> Iterator[bytes]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise TimeoutError("no answer")
        return open_with_http_client(request)

    with ReferenceServer([[answer("openai")]]) as server:
        received = run("openai", server, send=slow)
    assert received.text == REFERENCE
    assert attempts == 2


def test_send_raising_anything_else_propagates_unchanged() -> None:
    def broken(request: HTTPRequest) -> Iterator[bytes]:
        raise ValueError("a bug in the caller's stack")

    with pytest.raises(ValueError, match="a bug in the caller's stack"):
        list(recover_stream("openai", request_body("openai"), send=broken))


def test_an_http_status_error_from_send_is_classified() -> None:
    refusing = ReferenceServer([http_response(401, '{"error": {"message": "no"}}')])
    with refusing as server, pytest.raises(StreamInterrupted) as caught:
        run("openai", server, send=open_with_urllib)
    error = caught.value
    assert error.recoverable is False
    assert isinstance(error.cause, HTTPStatusError) and error.cause.status == 401
    assert error.attempts == 1
    # recover_stream stores nothing by default.
    assert error.recovery_id is None
