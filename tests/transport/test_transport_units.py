"""The transports' pure parts: routing, request heads, error kinds, time budgets, framing."""

from __future__ import annotations

import errno
import itertools
import math
import socket
import ssl
import time
from pathlib import Path

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover import HTTPRequest, TransportError, UsageError
from streamrecover.transport import Timeouts
from streamrecover.transport._exchange import Exchange
from streamrecover.transport._faults import (
    Phase,
    connect_failure_kind,
    kind_for_os_error,
    time_left,
)
from streamrecover.transport._routing import (
    Origin,
    bypasses_proxy,
    parse_proxy,
    parse_url,
    request_headers,
    route,
    select_proxy,
)

# -- URLs


@pytest.mark.parametrize(
    ("url", "origin", "target", "host_header"),
    [
        (
            "https://api.openai.com/v1/chat?x=1#f",
            ("https", "api.openai.com", 443),
            "/v1/chat?x=1",
            "api.openai.com",
        ),
        ("http://LOCALHOST:8000", ("http", "localhost", 8000), "/", "localhost:8000"),
        ("http://[::1]:9/a", ("http", "::1", 9), "/a", "[::1]:9"),
        ("https://[2001:db8::1]/", ("https", "2001:db8::1", 443), "/", "[2001:db8::1]"),
        (
            "https://bücher.example/x",
            ("https", "xn--bcher-kva.example", 443),
            "/x",
            "xn--bcher-kva.example",
        ),
        ("http://user:secret@h:81/p", ("http", "h", 81), "/p", "h:81"),
    ],
)
def test_parse_url(url: str, origin: tuple[str, str, int], target: str, host_header: str) -> None:
    parsed, parsed_target = parse_url(url)
    assert (parsed.scheme, parsed.host, parsed.port) == origin
    assert parsed_target == target
    assert parsed.host_header == host_header


def test_authority_brackets_ipv6() -> None:
    assert Origin(scheme="https", host="::1", port=443).authority == "[::1]:443"


# -- proxies


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypass"),
    [
        ("*", "anything.example", 443, True),
        ("example.com", "example.com", 443, True),
        ("example.com", "api.example.com", 443, True),
        (".example.com", "api.example.com", 443, True),
        ("example.com", "badexample.com", 443, False),
        ("localhost, 127.0.0.1", "127.0.0.1", 80, True),
        ("10.0.0.0/8", "10.2.3.4", 80, True),
        ("10.0.0.0/8", "11.2.3.4", 80, False),
        ("10.0.0.0/8", "ten.example", 80, False),
        ("::1", "::1", 80, True),
        ("[::1]:8080", "::1", 8080, True),
        ("[::1]:8080", "::1", 8081, False),
        ("example.com:8443", "example.com", 8443, True),
        ("example.com:8443", "example.com", 443, False),
        ("", "example.com", 443, False),
    ],
)
def test_no_proxy_matching(no_proxy: str, host: str, port: int, bypass: bool) -> None:
    assert bypasses_proxy(Origin(scheme="https", host=host, port=port), no_proxy) is bypass


def test_select_proxy_from_a_given_environment() -> None:
    origin = Origin(scheme="https", host="api.example.com", port=443)
    environment = {"https": "http://proxy.local:3128", "http": "http://other:1", "no": "internal"}
    proxy = select_proxy("env", origin, environment=lambda: environment)
    assert proxy is not None
    assert proxy.origin.authority == "proxy.local:3128"
    internal = Origin(scheme="https", host="svc.internal", port=443)
    assert select_proxy("env", internal, environment=lambda: environment) is None
    assert select_proxy("env", origin, environment=dict) is None
    assert select_proxy(None, origin, environment=lambda: environment) is None


def test_select_proxy_reads_the_real_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    origin = Origin(scheme="http", host="example.org", port=80)
    monkeypatch.setenv("http_proxy", "proxy.corp:8080")
    proxy = select_proxy("env", origin)
    assert proxy is not None
    assert proxy.origin.authority == "proxy.corp:8080"


def test_parse_proxy_credentials_are_percent_decoded() -> None:
    proxy = parse_proxy("http://us%3Aer:p%40ss@proxy:3128")
    assert proxy.authorization == "Basic dXM6ZXI6cEBzcw=="  # base64 of "us:er:p@ss"


def test_route_tunnels_https_and_forwards_http() -> None:
    https = route(HTTPRequest(method="GET", url="https://a.example/x"), "http://p:1")
    assert https.tunnel and https.request_target == "/x"
    http = route(HTTPRequest(method="GET", url="http://a.example:81/x"), "http://p:1")
    assert not http.tunnel and http.request_target == "http://a.example:81/x"
    direct = route(HTTPRequest(method="GET", url="http://a.example/x"), None)
    assert direct.proxy is None and direct.request_target == "/x"


# -- request heads


def test_request_headers_are_owned_by_the_transport() -> None:
    request = HTTPRequest(
        method="POST",
        url="https://api.example.com/v1",
        headers=(
            ("Host", "evil.example"),
            ("Content-Length", "999"),
            ("Transfer-Encoding", "chunked"),
            ("Accept-Encoding", "gzip"),
            ("Connection", "keep-alive"),
            ("X-Api-Key", "sk-1"),
            ("Accept", "text/event-stream"),
        ),
        body=b"abc",
    )
    headers = request_headers(request, route(request, None), user_agent="ua/1")
    assert headers == [
        (b"host", b"api.example.com"),
        (b"user-agent", b"ua/1"),
        (b"accept-encoding", b"identity"),
        (b"connection", b"close"),
        (b"content-length", b"3"),
        (b"x-api-key", b"sk-1"),
        (b"accept", b"text/event-stream"),
    ]


def test_post_without_body_says_content_length_zero() -> None:
    request = HTTPRequest(method="POST", url="http://h/")
    assert (b"content-length", b"0") in request_headers(
        request, route(request, None), user_agent="u"
    )


def test_non_latin1_header_is_a_usage_error() -> None:
    request = HTTPRequest(method="GET", url="http://h/", headers=(("x-title", "日本"),))
    with pytest.raises(UsageError):
        request_headers(request, route(request, None), user_agent="u")


# -- error kinds and time budgets


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "connect_refused"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "reset"),
        (BrokenPipeError(errno.EPIPE, "pipe"), "reset"),
        (OSError(errno.ECONNRESET, "reset as plain OSError"), "reset"),
        (socket.gaierror(socket.EAI_NONAME, "unknown"), "dns"),
        (TimeoutError("timed out"), "idle_timeout"),
        (ssl.SSLCertVerificationError("bad cert"), "tls_certificate"),
        (ssl.SSLEOFError("eof"), "tls_eof"),
        (ssl.SSLError("wrong version"), "other"),
        (OSError(errno.ENETUNREACH, "unreachable"), "other"),
        (ValueError("not even an OSError"), "other"),
    ],
)
def test_kind_for_os_error(error: BaseException, kind: str) -> None:
    assert kind_for_os_error(error, timeout_kind="idle_timeout") == kind


class FakeGroup(Exception):
    def __init__(self, *errors: BaseException) -> None:
        super().__init__("group")
        self.exceptions = errors


def test_connect_failure_kind_over_several_addresses() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    unreachable = OSError(errno.ENETUNREACH, "unreachable")
    timeout = TimeoutError()
    assert (
        connect_failure_kind(FakeGroup(refused, refused), timeout_kind="connect_timeout")
        == "connect_refused"
    )
    assert (
        connect_failure_kind(FakeGroup(unreachable, refused), timeout_kind="connect_timeout")
        == "connect_refused"
    )
    assert (
        connect_failure_kind(FakeGroup(timeout, timeout), timeout_kind="connect_timeout")
        == "connect_timeout"
    )
    assert (
        connect_failure_kind(FakeGroup(unreachable, timeout), timeout_kind="connect_timeout")
        == "other"
    )


def test_time_left_reports_the_limit_that_comes_first() -> None:
    phase = Phase(5.0, "idle_timeout")
    seconds, kind = time_left(phase, None, "h")
    assert kind == "idle_timeout" and 0 < seconds <= 5.0
    seconds, kind = time_left(phase, time.monotonic() + 1.0, "h")
    assert kind == "deadline" and 0 < seconds <= 1.0
    seconds, kind = time_left(Phase(math.inf, "read_timeout"), None, "h")
    assert (seconds, kind) == (math.inf, "read_timeout")
    with pytest.raises(TransportError) as caught:
        time_left(phase, time.monotonic() - 1, "h")
    assert caught.value.kind == "deadline"


@pytest.mark.parametrize("value", [0, -1, math.nan, "1", True])
def test_timeouts_refuse_nonsense(value: object) -> None:
    with pytest.raises(UsageError):
        Timeouts(idle=value)  # type: ignore[arg-type]


def test_timeouts_accept_infinity_and_are_frozen() -> None:
    timeouts = Timeouts(idle=math.inf)
    with pytest.raises(AttributeError):
        timeouts.idle = 1.0  # type: ignore[misc]


# -- framing, split at every point (the sans-IO exchange)

RESPONSE = (
    b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\ndata:\r\nf\r\n hello w\xc3\xb6rld\n\n\r\n0\r\n\r\n"
)
BODY = b"data: hello w\xc3\xb6rld\n\n"


def play(pieces: list[bytes]) -> tuple[int, bytes]:
    exchange = Exchange("test")
    exchange.request("GET", "/", [(b"host", b"h")], None)
    status = 0
    body = bytearray()
    done = False
    for piece in [*pieces, b""]:
        exchange.receive_data(piece)
        if not status:
            head = exchange.next_head()
            if head is None:
                continue
            status = head.status
        while (item := exchange.next_body()) is not None:
            if item == b"":
                done = True
                break
            body += item
        if done:
            break
    assert done
    return status, bytes(body)


def test_exchange_reads_a_response_whole_and_byte_by_byte() -> None:
    assert play([RESPONSE]) == (200, BODY)
    assert play([bytes([b]) for b in RESPONSE]) == (200, BODY)


@given(st.sets(st.integers(min_value=1, max_value=len(RESPONSE) - 1)))
def test_exchange_result_does_not_depend_on_splits(cuts: set[int]) -> None:
    points = [0, *sorted(cuts), len(RESPONSE)]
    pieces = [RESPONSE[a:b] for a, b in itertools.pairwise(points)]
    assert play(pieces) == (200, BODY)


def test_exchange_gives_one_piece_per_chunk() -> None:
    exchange = Exchange("test")
    exchange.request("GET", "/", [(b"host", b"h")], None)
    exchange.receive_data(RESPONSE)
    assert exchange.next_head() is not None
    pieces = iter(exchange.next_body, b"")
    assert list(pieces) == [b"data:", b" hello w\xc3\xb6rld\n\n"]
    assert exchange.next_body() == b""


CHUNKED = b"transfer-encoding: chunked\r\n"


@pytest.mark.parametrize(
    ("method", "head", "chunked"),
    [
        ("GET", b"HTTP/1.1 200 OK\r\n" + CHUNKED, True),
        ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\ncontent-length: 5\r\n", True),
        ("GET", b"HTTP/1.0 200 OK\r\n" + CHUNKED, True),
        ("POST", b"HTTP/1.1 500 Internal Server Error\r\n" + CHUNKED, True),
        ("GET", b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n", False),
        ("GET", b"HTTP/1.1 200 OK\r\n", False),
        ("HEAD", b"HTTP/1.1 200 OK\r\n" + CHUNKED, False),
        ("GET", b"HTTP/1.1 204 No Content\r\n" + CHUNKED, False),
        ("GET", b"HTTP/1.1 304 Not Modified\r\n" + CHUNKED, False),
        ("CONNECT", b"HTTP/1.1 200 Connection established\r\n" + CHUNKED, False),
        ("CONNECT", b"HTTP/1.1 407 Proxy Authentication Required\r\n" + CHUNKED, True),
    ],
)
def test_exchange_decodes_chunked_bodies_exactly_where_h11_would(
    method: str, head: bytes, chunked: bool
) -> None:
    target = "h:443" if method == "CONNECT" else "/"
    exchange = Exchange("test")
    exchange.request(method, target, [(b"host", b"h")], None)
    exchange.receive_data(head + b"\r\n")
    assert exchange.next_head() is not None
    # h11 chooses its body reader from the same head. The reader is private to
    # h11; it is read here only to prove that the two choices agree.
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method=method, target=target, headers=[(b"host", b"h")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(head + b"\r\n")
    assert isinstance(connection.next_event(), h11.Response)
    h11_reader = type(connection._reader).__name__
    assert (h11_reader == "ChunkedReader") is chunked
    assert (exchange._chunked is not None) is chunked
    # Once the decoder has taken over, h11 (and the read its buffer holds) is let go.
    assert (exchange._connection is None) is chunked


@pytest.mark.parametrize(("ragged", "kind"), [(False, "incomplete_body"), (True, "tls_eof")])
def test_exchange_end_of_connection_read_with_the_head(ragged: bool, kind: str) -> None:
    # The bytes after the head, and the end of the connection, that h11 holds
    # when the head is parsed go to the chunked decoder.
    exchange = Exchange("test")
    exchange.request("GET", "/", [(b"host", b"h")], None)
    exchange.receive_data(b"HTTP/1.1 200 OK\r\n" + CHUNKED + b"\r\n3\r\nab")
    exchange.receive_data(b"", ragged_eof=ragged)
    assert exchange.next_head() is not None
    assert exchange.next_body() == b"ab"
    with pytest.raises(TransportError) as caught:
        exchange.next_body()
    assert caught.value.kind == kind


def test_exchange_kinds_for_early_ends() -> None:
    exchange = Exchange("test")
    exchange.request("GET", "/", [(b"host", b"h")], None)
    exchange.receive_data(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nabc")
    assert exchange.next_head() is not None
    assert exchange.next_body() == b"abc"
    exchange.receive_data(b"", ragged_eof=True)
    with pytest.raises(TransportError) as caught:
        exchange.next_body()
    assert caught.value.kind == "tls_eof"


def test_generated_sync_transport_is_current() -> None:
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "unasync.py"
    spec = importlib.util.spec_from_file_location("unasync_script", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.unasync(module.SOURCE.read_text(encoding="utf-8"))
    assert generated == module.TARGET.read_text(encoding="utf-8"), (
        "streamrecover/transport/_sync.py is stale: run python scripts/unasync.py"
    )
