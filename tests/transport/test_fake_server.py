"""The scripted fault server itself, driven by raw sockets."""

from __future__ import annotations

import socket

import pytest

from streamrecover.testing.handler_server import HandlerServer
from streamrecover.testing.server import (
    Close,
    Drip,
    FaultServer,
    HalfClose,
    RecordedRequest,
    Reset,
    Send,
    SendChunk,
    SendHead,
    Stall,
    Step,
    http_response,
    sse_frame,
    sse_response,
    unused_port,
)

REQUEST = b"POST /v1/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-Key: v\r\n\r\nhello"


def exchange(port: int, request: bytes = REQUEST) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(request)
        received = b""
        while data := client.recv(65536):
            received += data
        return received


def test_successive_connections_play_successive_scripts_then_the_default() -> None:
    scripts = [[Send(b"first"), Close()], [Send(b"second"), Close()]]
    with FaultServer(scripts, default=[Send(b"default")]) as server:
        assert [exchange(server.port) for _ in range(4)] == [
            b"first",
            b"second",
            b"default",
            b"default",
        ]
        assert [record.index for record in server.connections] == [0, 1, 2, 3]


def test_without_a_default_extra_connections_are_closed_unanswered() -> None:
    with FaultServer([[Send(b"only")]]) as server:
        assert exchange(server.port) == b"only"
        assert exchange(server.port) == b""
        assert len(server.requests) == 2


def test_requests_are_recorded() -> None:
    chunked = (
        b"PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
    )
    with FaultServer([[Close()], [Close()]]) as server:
        exchange(server.port)
        exchange(server.port, chunked)
        first, second = server.requests
    assert (first.method, first.path, first.body) == ("POST", "/v1/x", b"hello")
    assert first.header("X-KEY") == "v"
    assert (second.method, second.path, second.body) == ("PUT", "/up", b"abcde")


def test_response_builders() -> None:
    frames = [sse_frame("a\nb", event="delta", id="7"), sse_frame("[DONE]")]
    assert frames[0] == b"event: delta\nid: 7\ndata: a\ndata: b\n\n"
    with FaultServer([sse_response(frames), http_response(529, "{}")]) as server:
        chunked = exchange(server.port)
        error = exchange(server.port)
    assert chunked.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-type: text/event-stream\r\n" in chunked
    assert chunked.endswith(
        b"\r\n\r\n" + b"".join(SendChunk(f).encode() for f in frames) + b"0\r\n\r\n"
    )
    assert error.startswith(b"HTTP/1.1 529 \r\n") or error.startswith(b"HTTP/1.1 529\r\n")
    assert error.endswith(b"content-length: 2\r\n\r\n{}")


def test_send_head_uses_the_standard_reason_phrase() -> None:
    assert SendHead(404).encode() == b"HTTP/1.1 404 Not Found\r\n\r\n"
    assert (
        SendHead(299, (("a", "b"),), reason="Odd").encode() == b"HTTP/1.1 299 Odd\r\na: b\r\n\r\n"
    )


def test_an_empty_chunk_is_refused() -> None:
    with pytest.raises(ValueError, match="LastChunk"):
        SendChunk(b"")


def test_reset_is_a_tcp_reset() -> None:
    with FaultServer([[Send(b"x"), Reset()]]) as server, pytest.raises(ConnectionResetError):
        exchange(server.port)


def test_drip_delivers_every_byte() -> None:
    with FaultServer([[Drip(b"slowly", interval=0.001), Close()]]) as server:
        assert exchange(server.port) == b"slowly"


def test_half_close_then_stall_sees_the_client_leave() -> None:
    with FaultServer([[Send(b"bye"), HalfClose(), Stall(10)]]) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
            client.sendall(REQUEST)
            assert client.recv(100) == b"bye"
            assert client.recv(100) == b""  # the server's FIN
            client.sendall(b"still here")  # our side is still open
        assert server.wait_for_disconnect(0)


def test_read_request_false_plays_at_once() -> None:
    with FaultServer([[Send(b"early"), Close()]], read_request=False) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
            assert client.recv(100) == b"early"
        assert server.requests == []


def test_stopping_ends_stalled_connections() -> None:
    server = FaultServer([[Stall(60)]])
    with server, socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(REQUEST)
        assert server.wait_for_disconnect(0, timeout=0.2) is False
    assert server.connections[0].finished.is_set()


def test_unused_port_is_refused() -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", unused_port()), timeout=5).close()


def test_a_responder_builds_each_script_from_the_request() -> None:
    seen: list[tuple[bytes, int]] = []

    def responder(request: RecordedRequest, index: int) -> list[Step]:
        seen.append((request.body, index))
        return [Send(request.body[::-1] + str(index).encode()), Close()]

    with FaultServer(responder=responder) as server:
        assert exchange(server.port) == b"olleh0"
        assert exchange(server.port) == b"olleh1"
    assert seen == [(b"hello", 0), (b"hello", 1)]
    assert server.errors == []


def test_a_failing_responder_resets_and_is_recorded() -> None:
    def responder(request: RecordedRequest, index: int) -> list[Step]:
        raise RuntimeError("boom")

    with FaultServer(responder=responder) as server, pytest.raises(ConnectionResetError):
        exchange(server.port)
    assert server.errors == ["RuntimeError: boom"]
    assert server.connections[0].error == "RuntimeError: boom"


def test_a_responder_replaces_scripts_and_needs_the_request() -> None:
    def responder(request: RecordedRequest, index: int) -> list[Step]:
        return []

    with pytest.raises(ValueError, match="one or the other"):
        FaultServer([[Close()]], responder=responder)
    with pytest.raises(ValueError, match="one or the other"):
        FaultServer(default=[Close()], responder=responder)
    with pytest.raises(ValueError, match="read_request"):
        FaultServer(responder=responder, read_request=False)


def test_not_listening_refuses_until_listen() -> None:
    with FaultServer([[Send(b"up"), Close()]], listening=False) as server:
        assert server.port != 0
        assert server.listening is False
        with pytest.raises(ConnectionRefusedError):
            exchange(server.port)
        server.listen()
        server.listen()  # idempotent
        assert server.listening is True
        assert exchange(server.port) == b"up"  # the refused attempt was no connection
    server.listen()  # after stop: nothing to do
    assert [record.index for record in server.connections] == [0]


def test_listen_before_start_makes_start_listen() -> None:
    server = FaultServer([[Send(b"up"), Close()]], listening=False)
    server.listen()
    with server:
        assert exchange(server.port) == b"up"


def test_handler_server_is_a_started_fault_server_with_a_bare_url() -> None:
    def handler(request: RecordedRequest, index: int) -> list[Step]:
        return [Send(b"ok"), Close()]

    server = HandlerServer(handler)
    try:
        assert isinstance(server, FaultServer)
        assert server.listening  # started by its constructor, no `with` needed
        assert server.url() == f"http://127.0.0.1:{server.port}"
        assert server.url("/v1") == f"http://127.0.0.1:{server.port}/v1"
        with server:  # entering again does not bind a second port
            assert exchange(server.port) == b"ok"
    finally:
        server.stop()
