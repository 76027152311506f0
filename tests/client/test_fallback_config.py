"""The Fallback configuration: provider, secrets kept out of repr, request body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from streamrecover.core.errors import UsageError
from streamrecover.fallback import Fallback
from streamrecover.providers.translate import UntranslatableError

BODY: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Hello"}],
    "stream": True,
}


def test_builds_the_translated_body_for_its_own_model() -> None:
    fallback = Fallback("openai", "gpt-4o", api_key="sk-secret-123")
    body = fallback.request_body(BODY, "anthropic")
    assert body["model"] == "gpt-4o"
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["max_completion_tokens"] == 100
    assert "sk-secret-123" not in repr(fallback)


def test_refuses_what_it_cannot_carry_naming_the_field() -> None:
    cached = {
        **BODY,
        "system": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}],
    }
    with pytest.raises(UntranslatableError, match="cache_control"):
        Fallback("gemini", "gemini-2.5-pro").request_body(cached, "anthropic")


def test_own_translate_callable_is_used_and_gets_the_model() -> None:
    seen: list[str] = []

    def mine(body: Mapping[str, Any], source: str) -> Mapping[str, Any]:
        seen.append(source)
        return {"messages": [{"role": "user", "content": "custom"}], "stream": True}

    body = Fallback("openai", "gpt-4o", translate=mine).request_body(BODY, "anthropic")
    assert seen == ["anthropic"]
    assert body == {
        "messages": [{"role": "user", "content": "custom"}],
        "stream": True,
        "model": "gpt-4o",
    }


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        Fallback("openai", "")
    with pytest.raises(UsageError):
        Fallback("nope", "m")
    with pytest.raises(UsageError, match="mapping"):
        Fallback("openai", "m", translate=lambda b, s: [1]).request_body(BODY, "anthropic")  # type: ignore[arg-type,return-value]
