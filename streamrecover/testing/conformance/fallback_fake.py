"""One fake provider of a fallback chain: check the request for its own format, answer, fail.

Each provider of a fallback scenario (the primary and every fallback) runs on
its own server with a :class:`ChainServer` handler. Every request is held to
two independent checks, both written from the providers' documentation:

* :func:`~streamrecover.testing.format_checks.format_problems`: the body is a
  valid request of the server's own format (roles, content blocks, tools,
  no field of another format);
* :func:`~streamrecover.testing.request_checks.inspect_request` against the
  body the scenario would send natively in that format
  (:func:`~streamrecover.testing.conformance.scenario.request_body`, with the
  fallback's model): the same conversation and tools, the auth header of this
  provider's key, and for a continuation the partial answer in the right place,
  a prefill only where this provider and model accept one, the output limit
  reduced, structured output restarted.

Before the comparison the body is put in a canonical form that does not change
its meaning (a content list of text parts is its joined text, a Responses
message item its role and text, ``store: false`` dropped), since a translated
request may spell the same conversation either way.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamrecover.testing.fakeprovider import (
    Answer,
    Expectations,
    Inspection,
    continuation_answer,
    inspect_request,
    render_frames,
)
from streamrecover.testing.format_checks import format_problems
from streamrecover.testing.scripts import build_script
from streamrecover.testing.server import RecordedRequest, Step, http_response

__all__ = ["ChainServer", "SeenByServer", "canonical_body"]

_CONVERSATION = {
    "openai": "messages",
    "openai-responses": "input",
    "anthropic": "messages",
    "gemini": "contents",
}
_TEXT_PARTS = {"text", "input_text", "output_text"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SeenByServer:
    """One request a chain server answered: its attempt (0-based) and what it was."""

    attempt: int
    inspection: Inspection
    body: Mapping[str, Any]


def _joined_text(content: object) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content and all(
        isinstance(part, Mapping) and part.get("type") in _TEXT_PARTS
        and isinstance(part.get("text"), str) and set(part) == {"type", "text"}
        for part in content
    ):
        return "".join(part["text"] for part in content)
    return None


def canonical_body(provider: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with text-only content lists joined and Responses messages simplified."""
    result = dict(body)
    if provider == "openai-responses" and result.get("store") is False:
        result.pop("store")
    key = _CONVERSATION[provider]
    turns = result.get(key)
    if provider == "gemini" or not isinstance(turns, list):
        return result
    canonical = []
    for turn in turns:
        if not isinstance(turn, Mapping):
            canonical.append(turn)
            continue
        text = _joined_text(turn.get("content"))
        if provider == "openai-responses" and turn.get("type", "message") == "message":
            if text is not None and set(turn) <= {"type", "role", "content"}:
                canonical.append({"role": turn.get("role"), "content": text})
                continue
        elif text is not None and set(turn) == {"role", "content"}:
            canonical.append({"role": turn["role"], "content": text})
            continue
        canonical.append(dict(turn))
    result[key] = canonical
    return result


@dataclass(frozen=True, slots=True)
class _Canonical:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class ChainServer:
    """The handler of one provider in a fallback chain.

    Args:
        provider: its wire format.
        expected: the body the scenario would send natively in this format
            (with this provider's model).
        answer: what its model answers.
        attempts: the fault of each attempt on this server, in order.
        then: the fault of every later attempt (default: none, the whole answer).
        api_key: the key it must receive.
        continuation: overlap options for continuations (see
            :func:`~streamrecover.testing.fakeprovider.continuation_answer`).
        strategy: the client's resume strategy.
    """

    def __init__(
        self,
        provider: str,
        expected: Mapping[str, Any],
        answer: Answer,
        attempts: Sequence[Mapping[str, Any]] = (),
        *,
        then: Mapping[str, Any] | None = None,
        api_key: str,
        continuation: Mapping[str, Any] | None = None,
        strategy: str = "exact",
    ) -> None:
        self.provider = provider
        self.expected = dict(expected)
        self.answer = answer
        self.attempts = list(attempts)
        self.then = dict(then or {"fault": "none"})
        self.api_key = api_key
        self.continuation = dict(continuation or {})
        self.strategy = strategy
        self.seen: list[SeenByServer] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def handle(self, request: RecordedRequest, index: int) -> list[Step]:
        """Check the request, then answer with the attempt's script."""
        with self._lock:
            try:
                body = json.loads(request.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = None
            problems = (
                format_problems(self.provider, body) if isinstance(body, dict)
                else ["the request body is not a JSON object"]
            )
            canonical = _Canonical(
                method=request.method,
                path=request.path,
                headers=request.headers,
                body=json.dumps(canonical_body(self.provider, body)).encode()
                if isinstance(body, dict) else request.body,
            )
            expect = Expectations(
                reference=self.answer.text, strategy=self.strategy, api_key=self.api_key
            )
            inspection = inspect_request(self.provider, self.expected, canonical, expect)
            problems.extend(inspection.problems)
            self.seen.append(SeenByServer(
                attempt=index, inspection=inspection, body=body if isinstance(body, dict) else {}
            ))
            if problems:
                self.problems.extend(f"{self.provider} request {index + 1}: {p}" for p in problems)
                return http_response(400, json.dumps({"error": {
                    "type": "invalid_request_error", "message": "; ".join(problems)}}).encode())
            step = self.attempts[index] if index < len(self.attempts) else self.then
            return build_script(self.provider, self._frames(inspection), step)

    def _frames(self, inspection: Inspection) -> list[Any]:
        if inspection.kind == "continuation":
            rest = continuation_answer(
                self.answer,
                inspection,
                overlap=int(self.continuation.get("overlap", 0)),
                overlap_unit=self.continuation.get("overlap_unit", "chars"),
            )
            return render_frames(self.provider, rest)
        return render_frames(self.provider, self.answer)
