"""Test support for the session tests: answers rendered as provider SSE, and a tiny driver.

:func:`frames` renders an answer (text deltas, optional reasoning and tool calls)
as the SSE events of one of the four wire formats, one ``bytes`` per event, so
that a test can join them, cut them at any byte, or (OpenAI Responses) replay
them from a sequence number. The shapes follow each provider's documented event
order (the same ones the provider modules cite).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from streamrecover.core.events import Event
from streamrecover.core.session import RecoverySession

__all__ = [
    "BODIES",
    "SSE_HEADERS",
    "Tool",
    "answer_stream",
    "attempt",
    "error_frame",
    "frames",
]

SSE_HEADERS = [("content-type", "text/event-stream")]

#: A minimal valid request body per provider.
BODIES: dict[str, dict[str, Any]] = {
    "openai": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    "anthropic": {
        "model": "claude-3-5-sonnet-20241022",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
    },
    "gemini": {
        "model": "gemini-2.0-flash",
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    },
    "openai-responses": {"model": "gpt-4o", "input": "hi"},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool:
    """A tool call: its id, name and argument JSON split into fragments."""

    id: str = "call_1"
    name: str = "get_weather"
    arguments: tuple[str, ...] = ('{"city":', ' "Paris"}')


def _sse(data: Any, event: str = "") -> bytes:
    head = f"event: {event}\n" if event else ""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"{head}data: {payload}\n\n".encode()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Answer:
    deltas: Sequence[str]
    reasoning: Sequence[str]
    tool: Tool | None
    complete: bool
    usage: tuple[int, int]
    response_id: str


def frames(
    provider: str,
    deltas: Sequence[str],
    *,
    reasoning: Sequence[str] = (),
    tool: Tool | None = None,
    complete: bool = True,
    usage: tuple[int, int] = (10, 5),
    response_id: str = "resp_1",
) -> list[bytes]:
    """Return the SSE events (one ``bytes`` each) of one answer in ``provider``'s format.

    Reasoning comes first, then the text deltas, then the tool call; ``complete``
    adds the finish reason, the usage ``(input, output)`` and the terminal marker.
    For ``openai-responses`` item ``i`` of the list has ``sequence_number`` ``i``.
    """
    answer = _Answer(
        deltas=deltas,
        reasoning=reasoning,
        tool=tool,
        complete=complete,
        usage=usage,
        response_id=response_id,
    )
    return _RENDERERS[provider](answer)


def answer_stream(provider: str, deltas: Sequence[str], **options: Any) -> bytes:
    """Return :func:`frames` joined into one body."""
    return b"".join(frames(provider, deltas, **options))


def error_frame(provider: str, error_type: str, message: str = "Overloaded") -> bytes:
    """Return the mid-stream error event of ``provider`` with the given error type."""
    if provider == "anthropic":
        return _sse({"type": "error", "error": {"type": error_type, "message": message}}, "error")
    if provider == "gemini":
        return _sse({"error": {"code": 503, "status": error_type, "message": message}})
    if provider == "openai-responses":
        return _sse({"type": "error", "code": error_type, "message": message}, "error")
    return _sse({"error": {"type": error_type, "message": message}})


def _openai(answer: _Answer) -> list[bytes]:
    # https://platform.openai.com/docs/api-reference/chat-streaming
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _sse({"id": "c1", "object": "chat.completion.chunk", "choices": [choice]})

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"reasoning_content": piece}) for piece in answer.reasoning]
    out += [chunk({"content": piece}) for piece in answer.deltas]
    tool = answer.tool
    if tool is not None:
        function = {"name": tool.name, "arguments": ""}
        out.append(chunk({"tool_calls": [{"index": 0, "id": tool.id, "function": function}]}))
        out += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})
            for fragment in tool.arguments
        ]
    if answer.complete:
        out.append(chunk({}, "tool_calls" if tool is not None else "stop"))
        prompt, completion = answer.usage
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        out += [_sse({"id": "c1", "choices": [], "usage": usage}), _sse("[DONE]")]
    return out


def _anthropic(answer: _Answer) -> list[bytes]:
    # https://docs.anthropic.com/en/docs/build-with-claude/streaming
    def event(kind: str, **fields: Any) -> bytes:
        return _sse({"type": kind, **fields}, kind)

    def delta(index: int, **body: Any) -> bytes:
        return event("content_block_delta", index=index, delta=body)

    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [],
        "usage": {"input_tokens": answer.usage[0], "output_tokens": 1},
    }
    out = [event("message_start", message=message)]
    index = 0
    if answer.reasoning:
        out.append(event("content_block_start", index=0, content_block={"type": "thinking"}))
        out += [delta(0, type="thinking_delta", thinking=piece) for piece in answer.reasoning]
        out += [
            delta(0, type="signature_delta", signature="c2ln"),
            event("content_block_stop", index=0),
        ]
        index = 1
    out.append(
        event("content_block_start", index=index, content_block={"type": "text", "text": ""})
    )
    out.append(event("ping"))
    out += [delta(index, type="text_delta", text=piece) for piece in answer.deltas]
    out.append(event("content_block_stop", index=index))
    tool = answer.tool
    if tool is not None:
        index += 1
        block = {"type": "tool_use", "id": tool.id, "name": tool.name, "input": {}}
        out.append(event("content_block_start", index=index, content_block=block))
        out += [delta(index, type="input_json_delta", partial_json=a) for a in tool.arguments]
        out.append(event("content_block_stop", index=index))
    if answer.complete:
        reason = "tool_use" if tool is not None else "end_turn"
        usage = {"output_tokens": answer.usage[1]}
        out += [event("message_delta", delta={"stop_reason": reason}, usage=usage)]
        out += [event("message_stop")]
    return out


def _gemini(answer: _Answer) -> list[bytes]:
    # https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
    def frame(parts: list[dict[str, Any]], finish: str = "") -> bytes:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        body: dict[str, Any] = {"candidates": [candidate]}
        if finish:
            candidate["finishReason"] = finish
            prompt, completion = answer.usage
            body["usageMetadata"] = {"promptTokenCount": prompt, "candidatesTokenCount": completion}
        return _sse(body)

    out = [frame([{"text": piece, "thought": True}]) for piece in answer.reasoning]
    out += [frame([{"text": piece}]) for piece in answer.deltas]
    if answer.tool is not None:
        call = {"name": answer.tool.name, "args": json.loads("".join(answer.tool.arguments))}
        out.append(frame([{"functionCall": call}]))
    if answer.complete:
        out.append(frame([{"text": ""}], "STOP"))
    return out


def _responses(answer: _Answer) -> list[bytes]:
    # https://platform.openai.com/docs/api-reference/responses-streaming
    response = {"id": answer.response_id, "object": "response", "status": "in_progress"}
    message = {"id": "msg_1", "type": "message", "role": "assistant", "content": []}
    events: list[tuple[str, dict[str, Any]]] = [("response.created", {"response": response})]
    events += [
        ("response.reasoning_summary_text.delta", {"item_id": "rs_1", "delta": piece})
        for piece in answer.reasoning
    ]
    events.append(("response.output_item.added", {"output_index": 0, "item": message}))
    events += [
        ("response.output_text.delta", {"item_id": "msg_1", "output_index": 0, "delta": piece})
        for piece in answer.deltas
    ]
    tool = answer.tool
    if tool is not None:
        item = {"id": "fc_1", "type": "function_call", "call_id": tool.id, "name": tool.name}
        events.append(("response.output_item.added", {"output_index": 1, "item": item}))
        events += [
            ("response.function_call_arguments.delta", {"item_id": "fc_1", "delta": fragment})
            for fragment in tool.arguments
        ]
    if answer.complete:
        usage = {"input_tokens": answer.usage[0], "output_tokens": answer.usage[1]}
        done = {**response, "status": "completed", "usage": usage}
        events.append(("response.completed", {"response": done}))
    return [
        _sse({"type": kind, "sequence_number": number, **fields}, kind)
        for number, (kind, fields) in enumerate(events)
    ]


_RENDERERS: dict[str, Callable[[_Answer], list[bytes]]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "gemini": _gemini,
    "openai-responses": _responses,
}


def attempt(
    session: RecoverySession,
    chunks: Iterable[bytes],
    *,
    status: int = 200,
    headers: Sequence[tuple[str, str]] = SSE_HEADERS,
    fault: BaseException | None = None,
    eof: bool = True,
) -> list[Event]:
    """Play one attempt against ``session`` (``next_request`` already called).

    Sends the status line, feeds ``chunks`` (stopping early if the session is
    done), then either reports ``fault`` through ``connection_failed`` or, with
    ``eof``, ends the body with ``receive_data(b"")``. Returns every event the
    session produced, in order.
    """
    events: list[Event] = []
    session.response_started(status, headers)
    for chunk in chunks:
        events += session.receive_data(chunk)
        if session.state.value in ("done", "idle", "gave_up"):
            return events + session.take_events()
    if fault is not None:
        session.connection_failed(fault)
    elif eof:
        events += session.receive_data(b"")
    return events + session.take_events()
