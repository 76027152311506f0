"""Fake LLM providers: reference answers as provider-exact SSE frames, and a request inspector.

Stdlib only, and independent of the library under test: it follows the
providers' documentation, not :mod:`streamrecover.providers`, so that a test
built on it checks the library against the wire formats rather than against
itself. Three things live here:

* :func:`render_frames` turns an :class:`Answer` (text, optional reasoning
  first, optional tool call last, usage) into the SSE events each provider
  sends for it, in the documented order, one :class:`Frame` per event, so that
  a fault can be placed after frame *k*, inside frame *k* or after byte *n*;
* :func:`error_frames` and :func:`error_body` give the error payloads a
  provider sends mid-stream and with a non-2xx status;
* :func:`inspect_request` reads an incoming request against the original body:
  is it the original request (or a restart), a continuation (partial answer
  as a prefill or as an assistant turn plus a "continue" user turn) or a
  native resume; and checks it. :func:`continuation_answer` then gives the
  rest of the reference from the cut, with an overlap or restarted as a
  scenario asks.

Provider documents followed:

* OpenAI Chat Completions streaming,
  https://platform.openai.com/docs/api-reference/chat-streaming
* OpenAI Responses streaming,
  https://platform.openai.com/docs/api-reference/responses-streaming
* Anthropic Messages streaming,
  https://docs.anthropic.com/en/docs/build-with-claude/streaming
* Gemini ``streamGenerateContent``,
  https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "DEFAULT_ANSWER",
    "JSON_ANSWER",
    "PROVIDERS",
    "REASONING_TEXT",
    "REFERENCE_TEXT",
    "TOOL_CALL",
    "Answer",
    "Expectations",
    "Frame",
    "FrameKind",
    "IncomingRequest",
    "Inspection",
    "ToolCall",
    "continuation_answer",
    "error_body",
    "error_frames",
    "inspect_request",
    "keepalive_frame",
    "prefill_allowed",
    "render",
    "render_frames",
    "split_deltas",
]

#: The wire formats this module speaks (the names of the library's providers).
PROVIDERS: tuple[str, ...] = ("openai", "openai-responses", "anthropic", "gemini")

#: The reference answer text: several paragraphs, and multi-byte UTF-8 of every
#: length (2, 3 and 4 bytes), so that cuts land inside characters.
REFERENCE_TEXT = (
    "Streaming keeps a reader company: the answer arrives a few words at a time, "
    "and a café in Zürich feels as close as a naïve résumé. "
    "日本語の文章も途中で切れてはいけません。\n\n"
    "A second paragraph brings emoji 🚀✨ and symbols (em dashes —, “curly quotes”, "
    "and ½ fractions) so that every multi-byte sequence crosses a frame. "
    "Grüße aus Köln!\n\n"
    "The last paragraph ends the answer cleanly, with nothing left out and nothing said twice."
)

#: The reasoning (thinking) that precedes the answer when a scenario enables it.
REASONING_TEXT = (
    "The user wants a short answer about streaming. I will mention Zürich, "
    "keep it to three paragraphs and add an emoji 🚀 for flavour."
)

#: A structured (JSON-mode) reference answer: one JSON document, pretty-printed
#: so that its deltas are words.
JSON_ANSWER_TEXT = json.dumps(
    {
        "city": "Zürich",
        "summary": "A café, a naïve résumé and a rocket 🚀.",
        "tags": ["streaming", "résumé", "日本語"],
        "paragraphs": 3,
    },
    ensure_ascii=False,
    indent=2,
)

FrameKind = Literal["meta", "ping", "reasoning", "text", "tool", "usage", "terminal", "error"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """A function call that ends an answer: ``arguments`` is its JSON text."""

    id: str
    name: str
    arguments: str


#: The tool call used when a scenario asks for one.
TOOL_CALL = ToolCall(
    id="call_fake_1", name="get_weather", arguments='{"city": "Zürich", "unit": "celsius"}'
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What the fake model answers.

    ``text`` is the answer; ``reasoning`` (when not empty) streams first as
    thinking; ``tool_call`` (when given) streams last. ``words_per_delta`` sets
    how many words each text delta carries. ``response_id`` names the response
    (OpenAI Responses ids, message ids). Usage figures are derived from the
    lengths unless given.
    """

    text: str
    reasoning: str = ""
    tool_call: ToolCall | None = None
    model: str = "fake-model"
    response_id: str = "resp_fake_1"
    words_per_delta: int = 3
    input_tokens: int = 25
    output_tokens: int | None = None

    @property
    def usage_output_tokens(self) -> int:
        """Output tokens reported at the end (given, or about four characters a token)."""
        if self.output_tokens is not None:
            return self.output_tokens
        tool = len(self.tool_call.arguments) if self.tool_call is not None else 0
        return max(1, (len(self.text) + len(self.reasoning) + tool) // 4)

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens reported at the end."""
        return len(self.reasoning) // 4


DEFAULT_ANSWER = Answer(text=REFERENCE_TEXT)
JSON_ANSWER = Answer(text=JSON_ANSWER_TEXT)


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One SSE event of a rendered answer.

    ``data`` is the event's bytes, blank line included; ``kind`` says what it
    carries; ``text`` is the text (answer, reasoning, or tool-argument) piece it
    carries, if any; ``sequence_number`` is OpenAI Responses' counter.
    """

    data: bytes
    kind: FrameKind
    text: str = ""
    sequence_number: int | None = None


_WORD = re.compile(r"\S+\s*")


def split_deltas(text: str, words_per_delta: int = 3) -> list[str]:
    """Split ``text`` into deltas of ``words_per_delta`` words (whitespace stays attached).

    The deltas concatenate to ``text`` exactly. Returns ``[]`` for an empty text.
    """
    if not text:
        return []
    words = _WORD.findall(text)
    leading = text[: len(text) - len("".join(words))]
    if leading:
        words.insert(0, leading)
    step = max(1, words_per_delta)
    return ["".join(words[i : i + step]) for i in range(0, len(words), step)]


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _dumps(value: Any) -> str:
    # ensure_ascii=False: multi-byte characters travel as raw UTF-8, as the
    # providers send them, so that a byte-level cut can split one.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _sse(data: str, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {data}\n\n".encode()


def keepalive_frame(provider: str) -> bytes:
    """The keep-alive a provider sends while the model thinks.

    Anthropic sends ``event: ping`` (documented); for the others an SSE comment
    line, which proxies and compatible servers use and every client ignores.
    """
    if provider == "anthropic":
        return _sse('{"type":"ping"}', "ping")
    return b": keep-alive\n\n"


# ---------------------------------------------------------------------------
# Rendering


def render_frames(provider: str, answer: Answer = DEFAULT_ANSWER) -> list[Frame]:
    """Render ``answer`` as the SSE events ``provider`` sends for it, in documented order.

    Args:
        provider: one of :data:`PROVIDERS`.
        answer: the answer to stream.

    Returns:
        One :class:`Frame` per SSE event; the last is the terminal marker.

    Raises:
        ValueError: an unknown provider.
    """
    renderer = _RENDERERS.get(provider)
    if renderer is None:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
    return renderer(answer)


def render(provider: str, answer: Answer = DEFAULT_ANSWER) -> list[bytes]:
    """Return the bytes of :func:`render_frames`, one item per SSE event."""
    return [frame.data for frame in render_frames(provider, answer)]


def _render_openai(answer: Answer) -> list[Frame]:
    base = {
        "id": f"chatcmpl-{answer.response_id}",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": answer.model,
        "system_fingerprint": "fp_fake",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _dumps({**base, "choices": [choice]})

    frames = [Frame(data=_sse(chunk({"role": "assistant", "content": ""})), kind="meta")]
    # Reasoning text as OpenAI-compatible servers stream it (DeepSeek, vLLM).
    for piece in split_deltas(answer.reasoning, answer.words_per_delta):
        frames.append(
            Frame(data=_sse(chunk({"reasoning_content": piece})), kind="reasoning", text=piece)
        )
    for piece in split_deltas(answer.text, answer.words_per_delta):
        frames.append(Frame(data=_sse(chunk({"content": piece})), kind="text", text=piece))
    call = answer.tool_call
    if call is not None:
        start = {"index": 0, "id": call.id, "type": "function"}
        start["function"] = {"name": call.name, "arguments": ""}
        frames.append(Frame(data=_sse(chunk({"tool_calls": [start]})), kind="tool"))
        for piece in _pieces(call.arguments, 8):
            fragment = {"index": 0, "function": {"arguments": piece}}
            frames.append(
                Frame(data=_sse(chunk({"tool_calls": [fragment]})), kind="tool", text=piece)
            )
    finish = "tool_calls" if call is not None else "stop"
    frames.append(Frame(data=_sse(chunk({}, finish)), kind="meta"))
    usage = {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.usage_output_tokens,
        "total_tokens": answer.input_tokens + answer.usage_output_tokens,
        "completion_tokens_details": {"reasoning_tokens": answer.reasoning_tokens},
    }
    frames.append(Frame(data=_sse(_dumps({**base, "choices": [], "usage": usage})), kind="usage"))
    frames.append(Frame(data=_sse("[DONE]"), kind="terminal"))
    return frames


def _render_responses(answer: Answer) -> list[Frame]:
    frames: list[Frame] = []

    def event(kind: FrameKind, type_: str, text: str = "", **fields: Any) -> None:
        sequence = len(frames)
        payload = {"type": type_, "sequence_number": sequence, **fields}
        frames.append(
            Frame(data=_sse(_dumps(payload), type_), kind=kind, text=text, sequence_number=sequence)
        )

    response: dict[str, Any] = {
        "id": answer.response_id,
        "object": "response",
        "created_at": 1_700_000_000,
        "status": "in_progress",
        "model": answer.model,
        "output": [],
        "usage": None,
    }
    event("meta", "response.created", response=response)
    event("meta", "response.in_progress", response=response)
    output: list[dict[str, Any]] = []
    if answer.reasoning:
        item_id, index = "rs_fake_1", len(output)
        where: dict[str, Any] = {"item_id": item_id, "output_index": index, "summary_index": 0}
        event(
            "meta",
            "response.output_item.added",
            output_index=index,
            item={"id": item_id, "type": "reasoning", "summary": []},
        )
        event(
            "meta",
            "response.reasoning_summary_part.added",
            **where,
            part={"type": "summary_text", "text": ""},
        )
        for piece in split_deltas(answer.reasoning, answer.words_per_delta):
            event("reasoning", "response.reasoning_summary_text.delta", piece, **where, delta=piece)
        summary = {"type": "summary_text", "text": answer.reasoning}
        event("meta", "response.reasoning_summary_text.done", **where, text=answer.reasoning)
        event("meta", "response.reasoning_summary_part.done", **where, part=summary)
        item = {"id": item_id, "type": "reasoning", "summary": [summary]}
        event("meta", "response.output_item.done", output_index=index, item=item)
        output.append(item)
    if answer.text:
        item_id, index = "msg_fake_1", len(output)
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        event(
            "meta",
            "response.output_item.added",
            output_index=index,
            item={
                "id": item_id,
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
        )
        event(
            "meta",
            "response.content_part.added",
            **where,
            part={"type": "output_text", "text": "", "annotations": []},
        )
        for piece in split_deltas(answer.text, answer.words_per_delta):
            event("text", "response.output_text.delta", piece, **where, delta=piece, logprobs=[])
        part = {"type": "output_text", "text": answer.text, "annotations": []}
        event("meta", "response.output_text.done", **where, text=answer.text, logprobs=[])
        event("meta", "response.content_part.done", **where, part=part)
        item = {
            "id": item_id,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [part],
        }
        event("meta", "response.output_item.done", output_index=index, item=item)
        output.append(item)
    call = answer.tool_call
    if call is not None:
        item_id, index = "fc_fake_1", len(output)
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": call.id,
            "name": call.name,
        }
        event("tool", "response.output_item.added", output_index=index, item=item)
        for piece in _pieces(call.arguments, 8):
            event(
                "tool",
                "response.function_call_arguments.delta",
                piece,
                item_id=item_id,
                output_index=index,
                delta=piece,
            )
        event(
            "meta",
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=index,
            arguments=call.arguments,
        )
        done = {**item, "status": "completed", "arguments": call.arguments}
        event("meta", "response.output_item.done", output_index=index, item=done)
        output.append(done)
    usage = {
        "input_tokens": answer.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": answer.usage_output_tokens,
        "output_tokens_details": {"reasoning_tokens": answer.reasoning_tokens},
        "total_tokens": answer.input_tokens + answer.usage_output_tokens,
    }
    completed = {**response, "status": "completed", "output": output, "usage": usage}
    event("terminal", "response.completed", response=completed)
    return frames


def _render_anthropic(answer: Answer) -> list[Frame]:
    frames: list[Frame] = []

    def event(kind: FrameKind, type_: str, text: str = "", **fields: Any) -> None:
        frames.append(
            Frame(data=_sse(_dumps({"type": type_, **fields}), type_), kind=kind, text=text)
        )

    message: dict[str, Any] = {
        "id": f"msg_{answer.response_id}",
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": answer.input_tokens, "output_tokens": 1},
    }
    event("meta", "message_start", message=message)
    # The documented example sends a ping right after message_start.
    frames.append(Frame(data=keepalive_frame("anthropic"), kind="ping"))
    index = 0
    if answer.reasoning:
        event(
            "meta",
            "content_block_start",
            index=index,
            content_block={"type": "thinking", "thinking": "", "signature": ""},
        )
        for piece in split_deltas(answer.reasoning, answer.words_per_delta):
            event(
                "reasoning",
                "content_block_delta",
                piece,
                index=index,
                delta={"type": "thinking_delta", "thinking": piece},
            )
        event(
            "meta",
            "content_block_delta",
            index=index,
            delta={"type": "signature_delta", "signature": "RmFrZVNpZ25hdHVyZQ=="},
        )
        event("meta", "content_block_stop", index=index)
        index += 1
    if answer.text:
        event(
            "meta", "content_block_start", index=index, content_block={"type": "text", "text": ""}
        )
        for piece in split_deltas(answer.text, answer.words_per_delta):
            event(
                "text",
                "content_block_delta",
                piece,
                index=index,
                delta={"type": "text_delta", "text": piece},
            )
        event("meta", "content_block_stop", index=index)
        index += 1
    call = answer.tool_call
    if call is not None:
        event(
            "tool",
            "content_block_start",
            index=index,
            content_block={"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
        )
        for piece in _pieces(call.arguments, 8):
            event(
                "tool",
                "content_block_delta",
                piece,
                index=index,
                delta={"type": "input_json_delta", "partial_json": piece},
            )
        event("meta", "content_block_stop", index=index)
    stop = "tool_use" if call is not None else "end_turn"
    event(
        "usage",
        "message_delta",
        delta={"stop_reason": stop, "stop_sequence": None},
        usage={"output_tokens": answer.usage_output_tokens},
    )
    event("terminal", "message_stop")
    return frames


def _render_gemini(answer: Answer) -> list[Frame]:
    contents: list[tuple[FrameKind, str, dict[str, Any]]] = []
    for piece in split_deltas(answer.reasoning, answer.words_per_delta):
        contents.append(("reasoning", piece, {"text": piece, "thought": True}))
    for piece in split_deltas(answer.text, answer.words_per_delta):
        contents.append(("text", piece, {"text": piece}))
    call = answer.tool_call
    if call is not None:
        # Gemini sends a function call whole, in one part, never split.
        args = json.loads(call.arguments)
        contents.append(
            ("tool", call.arguments, {"functionCall": {"name": call.name, "args": args}})
        )
    if not contents:
        contents.append(("text", "", {"text": ""}))
    frames: list[Frame] = []
    for position, (kind, text, part) in enumerate(contents):
        last = position == len(contents) - 1
        candidate: dict[str, Any] = {"content": {"parts": [part], "role": "model"}, "index": 0}
        usage: dict[str, Any] = {"promptTokenCount": answer.input_tokens}
        if last:
            # The finish reason comes with the last piece; it is the terminal marker.
            candidate["finishReason"] = "STOP"
            usage["candidatesTokenCount"] = answer.usage_output_tokens - answer.reasoning_tokens
            usage["thoughtsTokenCount"] = answer.reasoning_tokens
        usage["totalTokenCount"] = answer.input_tokens + (answer.usage_output_tokens if last else 0)
        payload = {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": answer.model,
            "responseId": answer.response_id,
        }
        # The last frame is the terminal one but keeps its content kind, so that
        # a cut "inside the tool call" still finds Gemini's single call frame.
        frames.append(Frame(data=_sse(_dumps(payload)), kind=kind, text=text))
    return frames


_RENDERERS = {
    "openai": _render_openai,
    "openai-responses": _render_responses,
    "anthropic": _render_anthropic,
    "gemini": _render_gemini,
}


# ---------------------------------------------------------------------------
# Errors

ErrorKind = Literal["overloaded", "rate_limit", "server_error"]

_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
_ANTHROPIC_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "api_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_OPENAI_TYPE = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("conflict", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
    504: ("server_error", None),
    529: ("server_error", None),
}


def error_body(provider: str, status: int, message: str = "") -> bytes:
    """Return the JSON error body ``provider`` answers with ``status``.

    Anthropic ``{"type": "error", "error": {"type", "message"}}``, OpenAI
    ``{"error": {"message", "type", "param", "code"}}``, Google
    ``{"error": {"code", "message", "status"}}``.
    """
    text = message or f"fake {provider} error with status {status}"
    if provider == "anthropic":
        payload: dict[str, Any] = {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPE.get(status, "api_error"), "message": text},
        }
    elif provider == "gemini":
        payload = {
            "error": {
                "code": status,
                "message": text,
                "status": _GOOGLE_STATUS.get(status, "UNKNOWN"),
            }
        }
    else:
        error_type, code = _OPENAI_TYPE.get(status, ("server_error", None))
        payload = {"error": {"message": text, "type": error_type, "param": None, "code": code}}
    return _dumps(payload).encode()


def error_frames(
    provider: str, kind: ErrorKind = "overloaded", *, sequence_number: int = 0
) -> list[Frame]:
    """Return the SSE events of an error in the middle of a stream.

    Anthropic ``event: error`` with ``overloaded_error`` (or ``rate_limit_error``,
    ``api_error``); OpenAI Chat ``data: {"error": ...}`` then ``data: [DONE]`` (as
    vLLM and the API send it); Responses an ``error`` event (with
    ``sequence_number``); Gemini ``data: {"error": ...}``.
    """
    if provider == "anthropic":
        error_type = {
            "overloaded": "overloaded_error",
            "rate_limit": "rate_limit_error",
            "server_error": "api_error",
        }[kind]
        payload: dict[str, Any] = {
            "type": "error",
            "error": {"type": error_type, "message": "Overloaded"},
        }
        return [Frame(data=_sse(_dumps(payload), "error"), kind="error")]
    if provider == "openai":
        code = {
            "overloaded": "server_is_overloaded",
            "rate_limit": "rate_limit_exceeded",
            "server_error": "internal_error",
        }[kind]
        payload = {
            "error": {
                "message": "The server had an error while processing your request.",
                "type": "server_error",
                "param": None,
                "code": code,
            }
        }
        return [
            Frame(data=_sse(_dumps(payload)), kind="error"),
            Frame(data=_sse("[DONE]"), kind="terminal"),
        ]
    if provider == "openai-responses":
        code = {
            "overloaded": "server_is_overloaded",
            "rate_limit": "rate_limit_exceeded",
            "server_error": "server_error",
        }[kind]
        payload = {
            "type": "error",
            "code": code,
            "message": "The server is overloaded.",
            "param": None,
            "sequence_number": sequence_number,
        }
        return [
            Frame(
                data=_sse(_dumps(payload), "error"), kind="error", sequence_number=sequence_number
            )
        ]
    if provider == "gemini":
        status, name = {
            "overloaded": (503, "UNAVAILABLE"),
            "rate_limit": (429, "RESOURCE_EXHAUSTED"),
            "server_error": (500, "INTERNAL"),
        }[kind]
        payload = {"error": {"code": status, "message": "The model is overloaded.", "status": name}}
        return [Frame(data=_sse(_dumps(payload)), kind="error")]
    raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")


# ---------------------------------------------------------------------------
# Inspecting requests


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
        return _dumps(
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
    if headers.get(name) != wanted:
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
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
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


# ---------------------------------------------------------------------------
# Answering a continuation

OverlapUnit = Literal["chars", "words"]


def _word_starts(text: str) -> Iterator[int]:
    for match in _WORD.finditer(text):
        yield match.start()


def continuation_answer(
    answer: Answer,
    inspection: Inspection,
    *,
    overlap: int = 0,
    overlap_unit: OverlapUnit = "chars",
    restart: bool = False,
    response_id: str = "resp_fake_2",
) -> Answer:
    """Return what the fake model streams for a continuation request.

    The rest of ``answer.text`` after the partial text the request carried
    (the stripped prefill included: the model re-emits the whitespace it did
    not see), optionally repeating the last ``overlap`` characters or words of
    the partial first, or (``restart``) the whole answer again, as a model that
    ignored the instruction would. Reasoning and the tool call are streamed
    again: a continuation thinks anew, and a tool call ends the answer.
    """
    cut = len(inspection.partial)
    if restart:
        start = 0
    elif overlap_unit == "words" and overlap > 0:
        starts = [s for s in _word_starts(answer.text) if s < cut]
        start = starts[-overlap] if len(starts) >= overlap else 0
    else:
        start = max(0, cut - overlap)
    return replace(answer, text=answer.text[start:], response_id=response_id)
