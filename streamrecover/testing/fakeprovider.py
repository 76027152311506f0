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
* :func:`inspect_request` (from :mod:`streamrecover.testing.request_checks`,
  re-exported here) reads an incoming request against the original body: the
  original request (or a restart), a continuation (partial answer as a prefill
  or as an assistant turn plus a "continue" user turn) or a native resume; and
  checks it. :func:`continuation_answer` then gives the rest of the reference
  from the cut, with an overlap or restarted as a scenario asks.

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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

from streamrecover.testing.request_checks import (
    Expectations,
    IncomingRequest,
    Inspection,
    inspect_request,
    prefill_allowed,
)

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
    #: The text deltas, when given: they must concatenate to ``text`` (token-shaped
    #: deltas for the seam corpus); otherwise ``words_per_delta`` words each.
    text_deltas: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.text_deltas is not None and "".join(self.text_deltas) != self.text:
            raise ValueError("text_deltas must concatenate to text")

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


def _text_deltas(answer: Answer) -> list[str]:
    if answer.text_deltas is not None:
        return [piece for piece in answer.text_deltas if piece]
    return split_deltas(answer.text, answer.words_per_delta)


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
    for piece in _text_deltas(answer):
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
        for piece in _text_deltas(answer):
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
        for piece in _text_deltas(answer):
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
    for piece in _text_deltas(answer):
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
    return replace(answer, text=answer.text[start:], text_deltas=None, response_id=response_id)
