"""Streamed bodies arrive byte-exact, whatever their framing; the request goes out as specified."""

from __future__ import annotations

import random

import pytest

from streamrecover import HTTPRequest, UsageError
from streamrecover.testing.server import (
    Close,
    Drip,
    FaultServer,
    LastChunk,
    Send,
    SendChunk,
    SendHead,
    Step,
    http_response,
    sse_frame,
    sse_response,
)
from streamrecover.transport import AsyncTransport, SyncTransport, Timeouts

TIMEOUTS = Timeouts(connect=10, read=10, idle=10, write=10)
FRAMES = [sse_frame('{"text": "Hel"}'), sse_frame('{"text": "lo, wörld"}'), sse_frame("[DONE]")]
STREAM = b"".join(FRAMES)
BIG = random.Random(7).randbytes(300_000)


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


BODIES: dict[str, tuple[list[Step], bytes]] = {
    "chunked": (sse_response(FRAMES), STREAM),
    "close-delimited": (sse_response(FRAMES, chunked=False), STREAM),
    "content-length": (
        [SendHead(200, (("content-length", str(len(STREAM))),)), *map(Send, _pieces(STREAM, 5))],
        STREAM,
    ),
    "dripped-chunked": (
        [
            SendHead(200, (("transfer-encoding", "chunked"),)),
            Drip(SendChunk(b"ab\xc3\xa9").encode()),
            Drip(b"0\r\n\r\n"),
            Close(),
        ],
        b"ab\xc3\xa9",
    ),
    "big-chunked": (
        [
            SendHead(200, (("transfer-encoding", "chunked"),)),
            *map(SendChunk, _pieces(BIG, 70_000)),
            LastChunk(),
            Close(),
        ],
        BIG,
    ),
    "empty": (http_response(204), b""),
}


def post(url: str, body: bytes = b'{"stream": true}') -> HTTPRequest:
    return HTTPRequest(
        method="POST",
        url=url,
        headers=(("Content-Type", "application/json"), ("Authorization", "Bearer sk-test")),
        body=body,
    )


@pytest.mark.parametrize("name", BODIES)
def test_sync_body_is_byte_exact(name: str) -> None:
    script, expected = BODIES[name]
    with (
        FaultServer([script]) as server,
        SyncTransport(proxy=None).open(post(server.url("/v1/stream")), TIMEOUTS) as response,
    ):
        pieces = list(response.iter_bytes())
    assert b"".join(pieces) == expected
    assert all(pieces)
    assert max((len(piece) for piece in pieces), default=0) <= 64 * 1024


@pytest.mark.anyio
@pytest.mark.parametrize("name", BODIES)
async def test_async_body_is_byte_exact(name: str) -> None:
    script, expected = BODIES[name]
    with FaultServer([script]) as server:
        response = await AsyncTransport(proxy=None).open(post(server.url("/v1/stream")), TIMEOUTS)
        async with response:
            pieces = [piece async for piece in response.aiter_bytes()]
    assert b"".join(pieces) == expected
    assert all(pieces)


@pytest.mark.parametrize("limit", [1, 2, 7, 1000])
def test_sync_small_reads_reassemble_the_body(limit: int) -> None:
    with (
        FaultServer([sse_response(FRAMES)]) as server,
        SyncTransport(proxy=None).open(post(server.url()), TIMEOUTS) as response,
    ):
        parts = []
        while piece := response.read(limit):
            assert len(piece) <= limit
            parts.append(piece)
        assert response.read(limit) == b""
    assert b"".join(parts) == STREAM


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [1, 7])
async def test_async_small_reads_reassemble_the_body(limit: int) -> None:
    with FaultServer([sse_response(FRAMES)]) as server:
        async with await AsyncTransport(proxy=None).open(post(server.url()), TIMEOUTS) as response:
            parts = []
            while piece := await response.read(limit):
                assert len(piece) <= limit
                parts.append(piece)
    assert b"".join(parts) == STREAM


def test_read_then_iterate_share_one_position() -> None:
    with (
        FaultServer([sse_response(FRAMES)]) as server,
        SyncTransport(proxy=None).open(post(server.url()), TIMEOUTS) as response,
    ):
        head = response.read(3)
        rest = b"".join(response.iter_bytes())
    assert head + rest == STREAM


def test_status_and_headers_of_an_error_answer() -> None:
    script = http_response(529, '{"error": "overloaded"}', headers=[("Retry-After", "2")])
    with (
        FaultServer([script]) as server,
        SyncTransport(proxy=None).open(post(server.url()), TIMEOUTS) as response,
    ):
        assert response.status == 529
        assert ("retry-after", "2") in response.headers
        assert ("content-type", "application/json") in response.headers
        assert response.read(10) == b'{"error": '


def test_request_head_and_body_as_sent() -> None:
    body = '{"model": "m", "prompt": "ünïcode"}'.encode()
    with FaultServer([sse_response(FRAMES)]) as server:
        with SyncTransport(proxy=None).open(
            post(server.url("/v1/x?y=1#frag"), body), TIMEOUTS
        ) as r:
            assert b"".join(r.iter_bytes()) == STREAM
        (request,) = server.requests
    assert (request.method, request.path, request.body) == ("POST", "/v1/x?y=1", body)
    assert request.header("host") == f"127.0.0.1:{server.port}"
    assert request.header("content-length") == str(len(body))
    assert request.header("accept-encoding") == "identity"
    assert request.header("connection") == "close"
    assert request.header("user-agent") == "streamrecover/0.1.0"
    assert request.header("authorization") == "Bearer sk-test"


@pytest.mark.anyio
async def test_async_get_with_custom_user_agent() -> None:
    request = HTTPRequest(
        method="GET", url="http://placeholder/", headers=(("User-Agent", "mine/1"),)
    )
    with FaultServer([sse_response(FRAMES)]) as server:
        request = HTTPRequest(method="GET", url=server.url("/events"), headers=request.headers)
        async with await AsyncTransport(proxy=None).open(request, TIMEOUTS) as response:
            assert response.status == 200
            assert await response.read(100_000) == STREAM
        (seen,) = server.requests
    assert (seen.method, seen.path, seen.body) == ("GET", "/events", b"")
    assert seen.header("user-agent") == "mine/1"
    assert seen.header("content-length") is None


def test_reading_after_close_is_a_usage_error() -> None:
    with FaultServer([sse_response(FRAMES)]) as server:
        response = SyncTransport(proxy=None).open(post(server.url()), TIMEOUTS)
        response.close()
        response.close()  # idempotent
        with pytest.raises(UsageError):
            response.read(10)


def test_reading_after_the_end_returns_nothing() -> None:
    with FaultServer([sse_response(FRAMES)]) as server:
        response = SyncTransport(proxy=None).open(post(server.url()), TIMEOUTS)
        assert b"".join(response.iter_bytes()) == STREAM
        assert list(response.iter_bytes()) == []
        response.close()
