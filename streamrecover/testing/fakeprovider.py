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

The rendering is here; the answers are in :mod:`streamrecover.testing.fake_answers`,
the frames in :mod:`streamrecover.testing.fake_frames` and the error payloads in
:mod:`streamrecover.testing.fake_errors`, all re-exported here, the module to import.

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
from typing import Any

# The answers, frames and error payloads live in modules of their own; this
# module renders answers as each provider's events and re-exports the rest.
from streamrecover.testing.fake_answers import (
    DEFAULT_ANSWER,
    JSON_ANSWER,
    JSON_ANSWER_TEXT,
    REASONING_TEXT,
    REFERENCE_TEXT,
    TOOL_CALL,
    Answer,
    OverlapUnit,
    ToolCall,
    continuation_answer,
    split_deltas,
)
from streamrecover.testing.fake_errors import ErrorKind, error_body, error_frames
from streamrecover.testing.fake_frames import (
    PROVIDERS,
    Frame,
    FrameKind,
    _dumps,
    _sse,
    keepalive_frame,
)
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
    "JSON_ANSWER_TEXT",
    "PROVIDERS",
    "REASONING_TEXT",
    "REFERENCE_TEXT",
    "TOOL_CALL",
    "Answer",
    "ErrorKind",
    "Expectations",
    "Frame",
    "FrameKind",
    "IncomingRequest",
    "Inspection",
    "OverlapUnit",
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


def _text_deltas(answer: Answer) -> list[str]:
    if answer.text_deltas is not None:
        return [piece for piece in answer.text_deltas if piece]
    return split_deltas(answer.text, answer.words_per_delta)


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


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
