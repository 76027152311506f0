"""The one redaction rule: URLs, query keys, auth headers, token shapes, literal keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import HTTPStatusError, ProviderStreamError
from streamrecover.core.http import HTTPRequest, join_url
from streamrecover.core.redact import REDACTED, redact, redact_exception

SECRET = "s3cr3t-value-0123456789"


@pytest.mark.parametrize(
    "text",
    [
        f"https://user:{SECRET}@proxy.example:3128/v1",
        f"http://{SECRET}@host/v1",
        f"https://host/v1?api_key={SECRET}",
        f"https://host/v1?a=1&key={SECRET}&b=2",
        f"https://host/v1?token={SECRET}",
        f"https://host/v1?access_token={SECRET}#frag",
        f"https://acct.blob.core.windows.net/c?sv=2022&sig={SECRET}",
        f"https://s3.amazonaws.com/b?X-Amz-Signature={SECRET}&X-Amz-Expires=60",
        f"POST /v1/chat/completions?api_key={SECRET} HTTP/1.1",
        f"Authorization: Bearer {SECRET}",
        f"authorization: Basic {SECRET}",
        f"x-api-key: {SECRET}",
        f"X-Goog-Api-Key: {SECRET}",
        f"api-key={SECRET}",
        f"Proxy-Authorization: Basic {SECRET}",
        f"headers=[('authorization', 'Bearer {SECRET}')]",
        f"{{'x-api-key': '{SECRET}'}}",
        f'{{"x-goog-api-key": "{SECRET}"}}',
        f"headers=((b'x-api-key', b'{SECRET}'),)",
    ],
)
def test_every_credential_shape_is_removed(text: str) -> None:
    redacted = redact(text)
    assert SECRET not in redacted
    assert redact(redacted) == redacted  # idempotent


def test_the_rest_of_the_text_is_kept() -> None:
    url = "https://host:8443/v1/chat?api-version=2024-10-21&key=abc#x"
    assert redact(url) == f"https://host:8443/v1/chat?api-version=2024-10-21&key={REDACTED}#x"
    assert redact("HTTP 401: invalid x-api-key") == "HTTP 401: invalid x-api-key"
    assert redact("see https://docs.example/errors?id=7") == "see https://docs.example/errors?id=7"


def test_literal_secrets_are_removed_whatever_their_shape() -> None:
    key = "plain-looking-key-42"
    text = f"Incorrect API key provided: {key}. Did you mean {key[:-1]}?"
    redacted = redact(text, secrets=[key, None, ""])
    assert key not in redacted
    assert "Incorrect API key provided" in redacted


def test_provider_key_shapes_are_removed_without_being_named() -> None:
    text = "keys sk-proj-abcdefghijklmnop and AIzaSyA0123456789abcdefghijklmn"
    assert "abcdefghijklmnop" not in redact(text)
    assert "AIzaSy" not in redact(text)


@given(st.text())
def test_redact_never_raises_and_is_idempotent(text: str) -> None:
    once = redact(text, secrets=["abcd1234"])
    assert redact(once, secrets=["abcd1234"]) == once


def test_exceptions_are_scrubbed_in_place() -> None:
    error = HTTPStatusError(401, body=f'{{"error": {{"message": "bad key {SECRET}"}}}}')
    redact_exception(error, secrets=[SECRET])
    assert SECRET not in str(error)
    assert SECRET not in error.body
    stream_error = ProviderStreamError(f"key {SECRET} refused", provider="openai")
    redact_exception(stream_error, secrets=[SECRET])
    assert SECRET not in str(stream_error) and SECRET not in stream_error.detail


def test_request_repr_and_sanitized_copy_hold_no_credential() -> None:
    request = HTTPRequest(
        method="POST",
        url=f"https://u:{SECRET}@host/v1/x?key={SECRET}",
        headers=(("Authorization", f"Bearer {SECRET}"), ("accept", "text/event-stream")),
    )
    assert SECRET not in repr(request)
    safe = request.sanitized()
    assert SECRET not in safe.url
    assert safe.header("accept") == "text/event-stream"
    assert safe.header("authorization") == REDACTED


@pytest.mark.parametrize(
    ("base", "path", "query", "expected"),
    [
        ("https://h/v1", "/chat/completions", "", "https://h/v1/chat/completions"),
        ("https://h/v1/", "/chat/completions", "", "https://h/v1/chat/completions"),
        (
            "https://h/v1?api_key=K",
            "/chat/completions",
            "",
            "https://h/v1/chat/completions?api_key=K",
        ),
        (
            "https://h/?api-version=2024-10-21",
            "/v1/models/m:streamGenerateContent",
            "alt=sse",
            "https://h/v1/models/m:streamGenerateContent?alt=sse&api-version=2024-10-21",
        ),
        ("https://h#frag", "/v1/messages", "", "https://h/v1/messages"),
    ],
)
def test_join_url_keeps_the_query_after_the_path(
    base: str, path: str, query: str, expected: str
) -> None:
    assert join_url(base, path, query) == expected
