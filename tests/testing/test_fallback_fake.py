"""The fake fallback server's own checks: they accept valid requests and catch wrong ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamrecover.testing.conformance.fallback_fake import ChainServer, canonical_body
from streamrecover.testing.conformance.fallback_run import (
    load_fallback_scenarios,
    run_fallback_scenario,
)
from streamrecover.testing.conformance.scenario import request_body
from streamrecover.testing.fakeprovider import PROVIDERS, REFERENCE_TEXT, Answer
from streamrecover.testing.format_checks import format_problems
from streamrecover.testing.server import RecordedRequest, SendHead

PROMPT = request_body("openai", {})["messages"][0]["content"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("options", [{}, {"tools": True}, {"json": True}])
def test_native_bodies_are_valid_for_their_own_format(
    provider: str, options: dict[str, Any]
) -> None:
    assert format_problems(provider, request_body(provider, options)) == []


@pytest.mark.parametrize(("provider", "body", "problem"), [
    ("anthropic", {"max_tokens": 9, "messages": [{"role": "system", "content": "x"},
                                                 {"role": "user", "content": "y"}]},
     "role 'system'"),
    ("anthropic", {"max_tokens": 9, "messages": [{"role": "user", "content": "a"},
                                                 {"role": "user", "content": "b"}]},
     "alternate"),
    ("anthropic", {"max_tokens": 9, "messages": [{"role": "user", "content": "a"}],
                   "tools": [{"type": "function", "function": {"name": "f"}}]},
     "not an Anthropic tool"),
    ("anthropic", {"messages": [{"role": "user", "content": "a"}]}, "max_tokens"),
    ("openai", {"messages": [{"role": "user", "content": [{"type": "input_text", "text": "a"}]}]},
     "content part Chat does not know"),
    ("openai", {"messages": [{"role": "user", "content": "a"}],
                "tools": [{"name": "f", "input_schema": {}}]}, "not a Chat function tool"),
    ("openai", {"system": "x", "messages": [{"role": "user", "content": "a"}]},
     "belongs to another format"),
    ("gemini", {"messages": [], "contents": [{"role": "assistant", "parts": [{"text": "a"}]}]},
     "role 'assistant'"),
    ("gemini", {"contents": [{"role": "user", "parts": [{"text": "a"}]}],
                "tools": [{"type": "function", "name": "f"}]}, "functionDeclarations"),
    ("openai-responses", {"input": [{"role": "user", "content": "a"}],
                          "tools": [{"type": "function", "function": {"name": "f"}}]},
     "not a Responses function tool"),
    ("openai-responses", {"input": [{"role": "tool", "content": "a"}]}, "no Responses role"),
])
def test_wrong_requests_are_named(provider: str, body: dict[str, Any], problem: str) -> None:
    problems = format_problems(provider, body)
    assert any(problem in found for found in problems), problems


def test_canonical_form_joins_text_parts_and_simplifies_responses_messages() -> None:
    anthropic = {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"},
                                                          {"type": "text", "text": "b"}]}]}
    assert canonical_body("anthropic", anthropic)["messages"] == [{"role": "user",
                                                                   "content": "ab"}]
    responses = {"store": False, "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]}]}
    assert canonical_body("openai-responses", responses) == {
        "input": [{"role": "user", "content": "q"}]}
    # Anything with more than text keeps its shape (and is compared as it is).
    image = {"messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]}
    assert canonical_body("anthropic", image) == image


def _request(provider: str, body: dict[str, Any], key: str = "sk-k") -> RecordedRequest:
    headers = {"anthropic": [("x-api-key", key), ("anthropic-version", "2023-06-01")],
               "openai": [("authorization", f"Bearer {key}")]}[provider]
    path = "/v1/messages" if provider == "anthropic" else "/v1/chat/completions"
    return RecordedRequest(method="POST", path=path, headers=tuple(headers),
                           body=json.dumps(body).encode())


def test_a_prefill_to_a_claude_model_that_refuses_one_is_answered_400() -> None:
    expected = request_body("anthropic", {"models": {"anthropic": "claude-opus-4-6"}})
    fake = ChainServer("anthropic", expected, Answer(text=REFERENCE_TEXT), api_key="sk-k")
    prefill = {**expected, "stream": True, "max_tokens": 900, "messages": [
        *expected["messages"], {"role": "assistant", "content": REFERENCE_TEXT[:80].rstrip()}]}
    head = fake.handle(_request("anthropic", prefill), 0)[0]
    assert isinstance(head, SendHead) and head.status == 400
    assert any("refuses it" in problem for problem in fake.problems), fake.problems


def test_a_continuation_with_the_right_shape_is_answered_with_the_rest() -> None:
    expected = request_body("openai", {})
    fake = ChainServer("openai", expected, Answer(text=REFERENCE_TEXT), api_key="sk-k")
    partial = REFERENCE_TEXT[:80]
    body = {**expected, "stream": True, "max_completion_tokens": 900, "messages": [
        *expected["messages"], {"role": "assistant", "content": partial},
        {"role": "user", "content": "Continue exactly where you stopped."}]}
    fake.handle(_request("openai", body), 0)
    assert fake.problems == []
    assert fake.seen[0].inspection.kind == "continuation"
    assert fake.seen[0].inspection.partial == partial


def test_a_conformance_run_fails_when_the_fallback_gets_the_primarys_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Break the library on purpose: the fallback is sent the untranslated body.
    from streamrecover.fallback import Fallback

    monkeypatch.setattr(Fallback, "request_body",
                        lambda self, body, source: {**body, "model": self.model})
    (scenario,) = [s for s in load_fallback_scenarios() if s.name == "primary_529_forever"]
    result = run_fallback_scenario(scenario, chain=("anthropic", "gemini"))
    assert not result.passed
    assert any("gemini request 1" in failure for failure in result.failures), result.failures
