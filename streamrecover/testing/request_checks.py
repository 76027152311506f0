"""Inspect a request a fake provider received: what it is, and what is wrong with it.

:func:`inspect_request` reads an incoming request against the caller's
original body and says whether it is the original request (or a retry or
restart of it), a continuation of a partial answer (as an assistant prefill,
or as an assistant turn followed by a "continue" user turn) or an OpenAI
Responses native resume, and checks it against the providers' documented
rules (see :class:`Inspection` and :class:`Expectations`). Stdlib only, and
written from the provider documentation, not from streamrecover's providers.
Re-exported by :mod:`streamrecover.testing.fakeprovider`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "Expectations",
    "IncomingRequest",
    "Inspection",
    "RequestKind",
    "inspect_request",
    "prefill_allowed",
]


class IncomingRequest(Protocol):
    """What the inspector reads of a request (the test server's record has these)."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...

    @property
    def body(self) -> bytes: ...


RequestKind = Literal["original", "continuation", "native_resume", "unknown"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspection:
    """What a request is, and what is wrong with it.

    ``kind`` is ``original`` (the original request, also when sent again: a
    retry or a restart), ``continuation`` (the partial answer is in the
    conversation), ``native_resume`` (Responses ``GET ...?starting_after=N``)
    or ``unknown``. For a continuation, ``partial`` is the partial answer text
    found in the request and ``prefill`` says whether it is the final turn (no
    "continue" user turn after it). ``problems`` lists what the request got
    wrong; empty means it passed every check.
    """

    kind: RequestKind
    partial: str = ""
    prefill: bool = False
    starting_after: int | None = None
    response_id: str = ""
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.problems

    def error_response(self) -> bytes:
        """The JSON body of the HTTP 400 the fake server answers a failed check with."""
        return json.dumps(
            {
                "error": {
                    "type": "conformance_check_failed",
                    "kind": self.kind,
                    "problems": list(self.problems),
                }
            }
        ).encode()


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectations:
    """What a correct request looks like, beyond the original body.

    ``reference`` is the full answer text the fake model gives; a continuation's
    partial text must be a prefix of it. ``strategy`` is the client's resume
    strategy (``exact``, ``paragraph``, ``restart``...). ``prefill`` overrides
    the provider-and-model rule of :func:`prefill_allowed`. ``floor`` is the
    lowest output-token limit a continuation may ask for. ``api_key`` is
    checked in the provider's auth header when given. ``native_point``, when
    given, is the ``(response_id, sequence_number)`` a Responses native resume
    must ask for, and a POST continuation is then wrong.
    """

    reference: str
    strategy: str = "exact"
    prefill: bool | None = None
    floor: int = 128
    api_key: str | None = None
    native_point: tuple[str, int] | None = None


_CONVERSATION_KEY = {
    "openai": "messages",
    "openai-responses": "input",
    "anthropic": "messages",
    "gemini": "contents",
}
_LIMIT_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
_CLAUDE_VERSION = re.compile(r"claude-(?:[a-z]+-)?(\d{1,2})(?:[-.](\d{1,2})(?!\d))?")


def prefill_allowed(provider: str, body: Mapping[str, Any]) -> bool:
    """Whether ``provider`` accepts the partial answer as a final assistant turn for ``body``.

    Only Anthropic does, for Claude models before 4.6 and without thinking
    (Claude 4.6 and later, and any thinking request, answer a prefill with a
    400). OpenAI's API, Responses and Gemini have no prefill.
    """
    if provider != "anthropic":
        return False
    thinking = body.get("thinking")
    if isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive"):
        return False
    match = _CLAUDE_VERSION.search(str(body.get("model", "")).lower())
    if match is None:
        return False
    version = (int(match.group(1)), int(match.group(2) or 0))
    return version < (4, 6)


def _message_text(provider: str, turn: Any) -> str | None:
    """The text of one conversation turn (None when it has no readable text)."""
    if not isinstance(turn, Mapping):
        return None
    if provider == "gemini":
        parts = turn.get("parts")
        if not isinstance(parts, list):
            return None
        return "".join(str(p.get("text", "")) for p in parts if isinstance(p, Mapping))
    content = turn.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text", ""))
            for block in content
            if isinstance(block, Mapping) and isinstance(block.get("text"), str)
        )
    return None


def _role(turn: Any) -> str:
    return str(turn.get("role", "")) if isinstance(turn, Mapping) else ""


def _conversation(provider: str, body: Mapping[str, Any]) -> list[Any] | None:
    value = body.get(_CONVERSATION_KEY[provider])
    if provider == "openai-responses" and isinstance(value, str):
        return [{"role": "user", "content": value}]
    return list(value) if isinstance(value, list) else None


def _limit(provider: str, body: Mapping[str, Any]) -> tuple[str, int] | None:
    if provider == "gemini":
        config = body.get("generationConfig")
        value = config.get("maxOutputTokens") if isinstance(config, Mapping) else None
        return ("generationConfig.maxOutputTokens", value) if type(value) is int else None
    for key in _LIMIT_KEYS:
        value = body.get(key)
        if type(value) is int:
            return key, value
    return None


def _structured(provider: str, body: Mapping[str, Any]) -> bool:
    if provider == "openai":
        fmt = body.get("response_format")
        return isinstance(fmt, Mapping) and fmt.get("type") in ("json_object", "json_schema")
    if provider == "openai-responses":
        text = body.get("text")
        fmt = text.get("format") if isinstance(text, Mapping) else None
        return isinstance(fmt, Mapping) and fmt.get("type") in ("json_object", "json_schema")
    if provider == "anthropic":
        return isinstance(body.get("output_format"), Mapping)
    config = body.get("generationConfig")
    return isinstance(config, Mapping) and config.get("responseMimeType") == "application/json"


def _without(body: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """The body without what a continuation may change (conversation, limits, stream flags)."""
    dropped = {_CONVERSATION_KEY[provider], "stream", "stream_options", *_LIMIT_KEYS}
    if provider == "openai":
        # vLLM's prefill flags, sent only with a prefill (checked separately).
        dropped |= {"continue_final_message", "add_generation_prompt"}
    rest = {key: value for key, value in body.items() if key not in dropped}
    if provider == "gemini":
        rest.pop("model", None)
        config = rest.get("generationConfig")
        if isinstance(config, Mapping):
            rest["generationConfig"] = {k: v for k, v in config.items() if k != "maxOutputTokens"}
    return rest


def _expected_path(provider: str, body: Mapping[str, Any]) -> str:
    if provider == "openai":
        return "/chat/completions"
    if provider == "openai-responses":
        return "/responses"
    if provider == "anthropic":
        return "/v1/messages"
    model = str(body.get("model", ""))
    path = model if "/" in model else f"models/{model}"
    return f"/{path}:streamGenerateContent"


def _auth_problems(provider: str, headers: Mapping[str, str], api_key: str) -> list[str]:
    if provider == "anthropic":
        name, wanted = "x-api-key", api_key
    elif provider == "gemini":
        name, wanted = "x-goog-api-key", api_key
    else:
        name, wanted = "authorization", f"Bearer {api_key}"
    problems = []
    # Anthropic also takes the key as a bearer token (the official SDK's
    # auth_token, OAuth); either header carrying it is the request's key.
    bearer_ok = provider == "anthropic" and headers.get("authorization") == f"Bearer {api_key}"
    if headers.get(name) != wanted and not bearer_ok:
        problems.append(f"auth header {name!r} is missing or wrong")
    if provider == "anthropic" and not headers.get("anthropic-version"):
        problems.append("anthropic-version header is missing")
    return problems


def inspect_request(
    provider: str,
    original: Mapping[str, Any],
    request: IncomingRequest,
    expect: Expectations,
) -> Inspection:
    """Say what ``request`` is with respect to the ``original`` body, and check it.

    Args:
        provider: one of :data:`PROVIDERS`.
        original: the JSON body the caller passed to the client (``stream`` not
            needed; for Gemini the model is in it, as the caller gave it).
        request: the request the fake server received.
        expect: what a correct request looks like (see :class:`Expectations`).

    Returns:
        An :class:`Inspection`; its ``problems`` name every check that failed:
        wrong method or path, a body that is not the original one plus exactly
        one assistant turn (and one "continue" user turn without prefill), a
        partial answer that is not a prefix of the reference, a prefill where
        the model refuses one or the lack of one where it is expected, trailing
        whitespace in an Anthropic prefill, a continuation of structured output
        or under the ``restart`` strategy, a ``paragraph`` continuation that
        does not end at a paragraph break, an output-token limit not reduced
        or reduced below the floor, a wrong ``starting_after``.

    Raises:
        ValueError: an unknown provider.
    """
    if provider not in _CONVERSATION_KEY:
        known = tuple(_CONVERSATION_KEY)
        raise ValueError(f"unknown provider {provider!r}; expected one of {known}")
    headers = {name.lower(): value for name, value in request.headers}
    problems: list[str] = []
    if expect.api_key is not None:
        problems.extend(_auth_problems(provider, headers, expect.api_key))
    split = urlsplit(request.path)
    if request.method == "GET":
        return _inspect_native(
            provider,
            original,
            path=split.path,
            query=split.query,
            expect=expect,
            problems=problems,
        )
    if request.method != "POST":
        problems.append(f"unexpected method {request.method}")
        return Inspection(kind="unknown", problems=tuple(problems))
    expected_path = _expected_path(provider, original)
    if not unquote(split.path).endswith(expected_path):
        problems.append(f"path {split.path!r} does not end with {expected_path!r}")
    if provider == "gemini" and parse_qs(split.query).get("alt") != ["sse"]:
        problems.append("gemini streaming request without ?alt=sse")
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        problems.append(f"request body is not JSON: {exc}")
        return Inspection(kind="unknown", problems=tuple(problems))
    if not isinstance(body, dict):
        problems.append("request body is not a JSON object")
        return Inspection(kind="unknown", problems=tuple(problems))
    if provider != "gemini" and body.get("stream") is not True:
        problems.append("'stream' is not true")
    if _without(body, provider) != _without(original, provider):
        problems.append("the request changed fields other than the conversation and limits")
    base = _conversation(provider, original) or []
    conversation = _conversation(provider, body)
    if conversation is None:
        problems.append(f"no {_CONVERSATION_KEY[provider]!r} list in the request")
        return Inspection(kind="unknown", problems=tuple(problems))
    if conversation[: len(base)] != base:
        problems.append("the original conversation was changed or reordered")
        return Inspection(kind="unknown", problems=tuple(problems))
    extra = conversation[len(base) :]
    limits = (_limit(provider, original), _limit(provider, body))
    if not extra:
        if limits[0] != limits[1]:
            problems.append(f"the output-token limit changed on a plain retry: {limits}")
        if expect.native_point is not None:
            problems.append("a native resume was possible but the request started over")
        return Inspection(kind="original", problems=tuple(problems))
    return _inspect_continuation(
        provider, original, body, extra=extra, limits=limits, expect=expect, problems=problems
    )


def _inspect_continuation(
    provider: str,
    original: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    extra: list[Any],
    limits: tuple[tuple[str, int] | None, tuple[str, int] | None],
    expect: Expectations,
    problems: list[str],
) -> Inspection:
    assistant = "model" if provider == "gemini" else "assistant"
    roles = [_role(turn) for turn in extra]
    if roles.count(assistant) != 1 or roles[0] != assistant:
        problems.append(f"expected one new {assistant} turn, got roles {roles}")
    if len(extra) > 2 or (len(extra) == 2 and roles[1] != "user"):
        problems.append(f"unexpected turns after the partial answer: roles {roles}")
    partial = _message_text(provider, extra[0]) or ""
    prefill = len(extra) == 1
    if len(extra) == 2 and not (_message_text(provider, extra[1]) or "").strip():
        problems.append("the 'continue' user turn is empty")
    if not partial:
        problems.append("the partial answer turn is empty")
    elif not expect.reference.startswith(partial):
        problems.append("the partial answer is not a prefix of the answer already streamed")
    allowed = expect.prefill if expect.prefill is not None else prefill_allowed(provider, original)
    if prefill and not allowed:
        problems.append(f"prefill sent, but {provider} model {original.get('model')!r} refuses it")
    if not prefill and allowed:
        problems.append("the model accepts a prefill, but a 'continue' turn was sent")
    if prefill and provider == "anthropic" and partial != partial.rstrip():
        problems.append("an Anthropic prefill must not end with whitespace")
    if provider == "openai" and prefill != bool(body.get("continue_final_message")):
        problems.append("continue_final_message must be set exactly when prefilling")
    if _structured(provider, original):
        problems.append("structured (JSON) output was continued instead of restarted")
    if expect.strategy == "restart":
        problems.append("strategy 'restart' must resend the original request")
    if expect.strategy == "paragraph" and not _ends_paragraph(partial, expect.reference):
        problems.append("strategy 'paragraph' must cut at a paragraph break")
    if expect.native_point is not None:
        problems.append("a native resume was possible but a continuation was sent")
    problems.extend(_limit_problems(provider, original, limits, partial, expect.floor))
    return Inspection(
        kind="continuation", partial=partial, prefill=prefill, problems=tuple(problems)
    )


def _ends_paragraph(partial: str, reference: str) -> bool:
    # A prefill lost the partial's trailing whitespace: put back what follows it
    # in the reference before looking for the blank line.
    rest = reference[len(partial) :]
    seam = rest[: len(rest) - len(rest.lstrip())]
    return (partial + seam).rstrip(" \t").endswith("\n\n") or partial.endswith("\n\n")


def _limit_problems(
    provider: str,
    original: Mapping[str, Any],
    limits: tuple[tuple[str, int] | None, tuple[str, int] | None],
    partial: str,
    floor: int,
) -> list[str]:
    before, after = limits
    if before is None:
        return [] if after is None else [f"an output-token limit {after} appeared"]
    if after is None or after[0] != before[0]:
        return [f"the output-token limit {before[0]} was dropped or renamed"]
    original_limit, limit = before[1], after[1]
    problems = []
    if limit > original_limit:
        problems.append(f"the output-token limit grew from {original_limit} to {limit}")
    if limit < min(original_limit, floor):
        problems.append(f"the output-token limit {limit} is below the floor {floor}")
    # Four characters a token is the usual estimate; 64 characters are surely
    # more than one token, so the limit must have come down.
    if len(partial) >= 64 and original_limit > floor and limit >= original_limit:
        problems.append(f"the output-token limit {limit} was not reduced for the partial answer")
    thinking = original.get("thinking")
    budget = thinking.get("budget_tokens") if isinstance(thinking, Mapping) else None
    if provider == "anthropic" and type(budget) is int and limit <= budget:
        problems.append(f"max_tokens {limit} must stay above thinking.budget_tokens {budget}")
    return problems


def _inspect_native(
    provider: str,
    original: Mapping[str, Any],
    *,
    path: str,
    query: str,
    expect: Expectations,
    problems: list[str],
) -> Inspection:
    # GET /responses/{id}?stream=true&starting_after=N (OpenAI background responses).
    match = re.search(r"/responses/([^/]+)$", path)
    params = parse_qs(query)
    if provider != "openai-responses" or match is None:
        problems.append(f"unexpected GET {path!r} for {provider}")
        return Inspection(kind="unknown", problems=tuple(problems))
    response_id = unquote(match.group(1))
    if original.get("background") is not True:
        problems.append("native resume of a response that was not created with background: true")
    if params.get("stream") != ["true"]:
        problems.append("native resume without stream=true")
    raw = params.get("starting_after", [""])[0]
    starting_after = int(raw) if raw.isdigit() else None
    if starting_after is None:
        problems.append(f"starting_after {raw!r} is not a sequence number")
    if expect.native_point is None:
        problems.append("native resume before any event was delivered")
    else:
        wanted_id, wanted_sequence = expect.native_point
        if response_id != wanted_id:
            problems.append(f"native resume of {response_id!r}, expected {wanted_id!r}")
        if starting_after != wanted_sequence:
            problems.append(
                f"starting_after={starting_after}, but the last event delivered was "
                f"{wanted_sequence}"
            )
    return Inspection(
        kind="native_resume",
        starting_after=starting_after,
        response_id=response_id,
        problems=tuple(problems),
    )
