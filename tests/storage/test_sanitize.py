"""Credentials never reach a record: the sanitizer, applied whenever a record is built."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from streamrecover.storage.record import new_record
from streamrecover.storage.sanitize import redact_text, sanitize_mapping, sanitize_url

SECRET = "s3cr3t-value"


def test_top_level_credential_keys_are_dropped() -> None:
    body = {"model": "m", "api_key": SECRET, "Api-Key": SECRET, "x-api-key": SECRET,
            "Authorization": SECRET, "key": SECRET, "access_token": SECRET, "password": SECRET}
    assert sanitize_mapping(body) == {"model": "m"}


def test_the_conversation_is_kept_verbatim() -> None:
    body = {"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "name": "set", "input": {"key": "k", "api_key": "fake"}}]}]}
    assert sanitize_mapping(body) == body


def test_header_and_query_containers_lose_only_their_secrets() -> None:
    options = {
        "headers": {"Authorization": f"Bearer {SECRET}", "X-Goog-Api-Key": SECRET,
                    "anthropic-beta": "x"},
        "extra_headers": [["x-api-key", SECRET], ["cookie", SECRET],
                          ["accept", "text/event-stream"]],
        "extra_query": {"key": SECRET, "alt": "sse"},
        "base_url": f"https://u:{SECRET}@h.test/v1?key={SECRET}&alt=sse",
    }
    clean = sanitize_mapping(options)
    assert clean["headers"] == {"anthropic-beta": "x"}
    assert clean["extra_headers"] == [["accept", "text/event-stream"]]
    assert clean["extra_query"] == {"alt": "sse"}
    assert SECRET not in repr(clean)
    assert "alt=sse" in clean["base_url"]
    assert "h.test" in clean["base_url"]


def test_sanitize_url_is_idempotent_and_never_raises() -> None:
    for url in [f"https://user:{SECRET}@h.test/p?key={SECRET}", "https://h.test/", "",
                "http://[::1", "not a url", f"https://h.test/p?api_key={SECRET}#frag"]:
        once = sanitize_url(url)
        assert sanitize_url(once) == once
        assert SECRET not in once


@given(st.text())
def test_sanitize_url_never_raises_on_any_text(url: str) -> None:
    assert isinstance(sanitize_url(url), str)


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8) | st.integers()))
def test_sanitize_mapping_is_idempotent(data: dict[str, Any]) -> None:
    once = sanitize_mapping(data)
    assert sanitize_mapping(once) == once


def test_redact_text_masks_keys_tokens_and_url_credentials() -> None:
    text = (f"401 at https://u:{SECRET}@h.test/v1?key={SECRET} with Bearer {SECRET} "
            "and key sk-proj-abcdefghijklmnop1234")
    redacted = redact_text(text)
    assert SECRET not in redacted
    assert "sk-proj" not in redacted
    assert redact_text(redacted) == redacted


def test_records_are_sanitized_however_they_are_built() -> None:
    record = new_record(provider="p", model="m", request={"api_key": SECRET, "n": 1},
                        base_url=f"https://h.test/?key={SECRET}",
                        options={"headers": {"authorization": SECRET}})
    assert SECRET not in record.to_json()
    assert record.request == {"n": 1}
