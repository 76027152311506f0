"""No credential in any repr, log line or error message; a base_url's query stays after the path.

A key, a userinfo password and a key-like query value are put everywhere a real
deployment puts them (the key argument, ``base_url``, a proxy URL, an extra
header), a server breaks the stream and then echoes the key back in a 401, and
every text the library produced is grepped for them.
"""

from __future__ import annotations

import json
import logging

import pytest
from reference_frames import REFERENCE, ReferenceServer, answer, request_body

import streamrecover as sr
from streamrecover.core.errors import StreamInterrupted, UsageError
from streamrecover.testing.server import Reset, http_response
from streamrecover.transport import SyncTransport

KEY = "sk-test-KEYVALUE-0123456789abcdef"
PASSWORD = "userinfo-PASSWORD-42"
QUERY_KEY = "query-KEYVALUE-77"
HEADER_SECRET = "header-SECRET-99"
PROXY_PASSWORD = "proxy-PASSWORD-13"
SECRETS = (KEY, PASSWORD, QUERY_KEY, HEADER_SECRET, PROXY_PASSWORD)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into: {text[:300]!r}"


def secret_base_url(server: ReferenceServer) -> str:
    return f"http://user:{PASSWORD}@127.0.0.1:{server.port}/v1?api_key={QUERY_KEY}"


def test_reprs_logs_and_errors_hold_no_credential(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="streamrecover")
    echo = json.dumps(
        {
            "error": {
                "message": f"Incorrect API key provided: {KEY} "
                f"(url http://user:{PASSWORD}@127.0.0.1/v1?api_key={QUERY_KEY})"
            }
        }
    )
    scripts = [[answer("openai", cut_after=3, fault=Reset())], http_response(401, echo)]
    with ReferenceServer(scripts) as server:
        client = sr.Client(
            "openai",
            api_key=KEY,
            base_url=secret_base_url(server),
            headers={"x-api-key": HEADER_SECRET},
            retry=sr.RetryPolicy(max_retries=0, max_resumes=1, backoff_base=0.001),
            transport=SyncTransport(proxy=None),
        )
        with client, client.stream(**request_body("openai")) as stream:
            texts = [repr(client), repr(client.provider), repr(stream), repr(client.transport)]
            with pytest.raises(StreamInterrupted) as caught:
                for _ in stream:
                    pass
            assert client.storage is not None and stream.recovery_id is not None
            record = client.storage.get(stream.recovery_id)
        requests = server.requests
    error = caught.value
    texts += [repr(stream), repr(record), str(error), repr(error), str(error.cause)]
    texts += [getattr(error.cause, "body", "")]
    texts += [caplog.text]
    for text in texts:
        assert_clean(text)
    # The server did see the key and the query (the redaction is of what is shown).
    assert requests[0].header("authorization") == f"Bearer {KEY}"
    assert "Incorrect API key provided" in str(error)
    assert "giving up" in caplog.text and "resuming" in caplog.text


def test_a_base_url_query_stays_after_the_path() -> None:
    with ReferenceServer([[answer("openai")]]) as server:
        client = sr.Client(
            "openai",
            api_key=KEY,
            base_url=secret_base_url(server),
            storage=None,
            transport=SyncTransport(proxy=None),
        )
        with client, client.stream(**request_body("openai")) as stream:
            assert stream.until_done() == REFERENCE
        (request,) = server.requests
    assert request.path == f"/v1/chat/completions?api_key={QUERY_KEY}"


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini", "openai-responses"])
@pytest.mark.parametrize("bad", ["\r\n", "\n", "\r", "\0"])
def test_a_key_with_a_line_break_or_nul_is_refused_without_being_quoted(
    provider: str, bad: str
) -> None:
    key = f"{KEY}{bad}X-Injected: 1"
    with pytest.raises(UsageError) as caught:
        sr.Client(provider, api_key=key, storage=None)
    assert KEY not in str(caught.value)
    assert "line break or a NUL" in str(caught.value)


def test_a_key_changed_later_is_checked_too() -> None:
    client = sr.Client("anthropic", api_key=KEY, storage=None)
    with pytest.raises(UsageError) as caught:
        client.provider.api_key = KEY + "\n"
    assert KEY not in str(caught.value)


def test_an_extra_header_with_a_line_break_is_refused_without_its_value() -> None:
    with pytest.raises(UsageError) as caught:
        sr.Client("openai", api_key=KEY, headers={"x-api-key": HEADER_SECRET + "\r\n"})
    assert HEADER_SECRET not in str(caught.value)
    assert "x-api-key" in str(caught.value)


def test_a_proxy_password_is_not_in_the_transport_repr() -> None:
    transport = SyncTransport(proxy=f"http://me:{PROXY_PASSWORD}@proxy.local:3128")
    assert_clean(repr(transport))
    assert "proxy.local:3128" in repr(transport)
