"""Upstream frames the library does not interpret, kept for the re-encoded stream.

A parser maps each SSE event to content events and drops the rest: pings,
server-tool blocks and their results, citations, annotations, hosted-tool
progress, logprobs, moderation trailers, event types added after this was
written. An official SDK reading a re-encoded stream would lose them. A
:class:`Tap` (one per attempt, one class per wire format) looks at every SSE
event next to what the parser made of it and returns a :class:`Passthrough`
for a frame the encoder would not rebuild; the encoder then writes it back in
its place, renumbered to fit the re-encoded stream (Anthropic block indexes,
Responses ``output_index`` and ``sequence_number``, Chat ``id``/``model``).

What the tap cannot keep: unknown fields inside frames the encoder rebuilds
(a text delta's ``obfuscation``, Chat ``system_fingerprint`` and
``service_tier``, Responses ``logprobs`` of a text delta, extra fields of
``message_start`` / ``message_delta``), except Chat ``logprobs``, which go out
in a chunk of their own right after their text.

Decoding a frame a second time costs little: only frames the parser gave no
content for are looked at (a few per answer), plus, for Chat with logprobs
asked, the chunks that carry them.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from streamrecover.core.events import Event
from streamrecover.core.sse import ServerSentEvent

__all__ = [
    "NOTHING",
    "AnthropicTap",
    "ChatTap",
    "Kept",
    "Passthrough",
    "ResponsesTap",
    "Tap",
    "tap_for",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Passthrough(Event):
    """An upstream frame the encoder writes back as it came (renumbered).

    Never produced by a parser or the session itself: the SDK adapter's tap
    adds it to a parser's output (see :class:`Tap`).
    """

    #: The SSE event type of the frame (``message`` when it had none).
    event: str
    #: The frame's JSON object.
    data: dict[str, Any]
    #: Not a frame but what the stream's own frames should say (the upstream's
    #: model, extra response or usage fields): it goes to the encoder at once,
    #: before the content of the same SSE event.
    header: bool = False


def _extra(data: Any, known: frozenset[str]) -> dict[str, Any]:
    """The fields of ``data`` (a JSON object) outside ``known``."""
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k not in known}


#: What a tap keeps of one SSE event: nothing (most of the time), or frames.
Kept = tuple[Passthrough, ...]
NOTHING: Kept = ()


def _peek_type(data: str) -> str:
    """The ``type`` of a JSON frame that starts with it (a cheap look, no decoding)."""
    start = data.find('"type":"', 0, 40)
    if start < 0:
        return "message"
    start += 8
    return data[start : data.find('"', start)]


def _decode(data: str) -> dict[str, Any] | None:
    try:
        frame = json.loads(data)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


class Tap(ABC):
    """Per attempt: which of the upstream's frames pass through (see the module)."""

    #: True when the tap keeps nothing of, and learns nothing from, an event
    #: of the parser's ``lane_prefix`` type that the parser read as one
    #: TextDelta: such events may then skip it (the session's text lane).
    passes_text_frames: bool = False

    @abstractmethod
    def __call__(self, sse: ServerSentEvent, produced: list[Event], parser: Any) -> Kept:
        """Return the frames to pass through for ``sse`` (usually :data:`NOTHING`).

        ``produced`` is what ``parser`` made of ``sse``.
        """


#: Anthropic blocks and deltas the encoder rebuilds from content events.
_ANTHROPIC_BLOCKS = frozenset({"text", "thinking", "redacted_thinking", "tool_use"})
_ANTHROPIC_DELTAS = frozenset(
    {"text_delta", "thinking_delta", "signature_delta", "input_json_delta"}
)
_ANTHROPIC_REBUILT = frozenset({"message_start", "message_delta", "message_stop", "error"})
_ANTHROPIC_MESSAGE = frozenset(
    {"id", "type", "role", "content", "stop_reason", "stop_sequence", "usage"}
)
_ANTHROPIC_DELTA = frozenset({"stop_reason", "stop_sequence"})
_ANTHROPIC_USAGE: frozenset[str] = frozenset()


class AnthropicTap(Tap):
    """Pings, blocks of other types (server tools and their results), their deltas,
    deltas of other types (``citations_delta``), and event types added later."""

    # A content_block_delta that gave content is NOTHING, whatever the state.
    passes_text_frames = True

    def __init__(self) -> None:
        self._foreign: set[Any] = set()
        self._texts: set[Any] = set()
        self._text_blocks = 0

    def __call__(self, sse: ServerSentEvent, produced: list[Event], parser: Any) -> Kept:
        name = sse.event
        if name in {"message_start", "message_delta"}:
            return self._header(name, _decode(sse.data))
        if produced or name in _ANTHROPIC_REBUILT:
            return NOTHING
        frame = _decode(sse.data)
        if frame is None:
            return NOTHING
        kind = frame.get("type")
        if kind in _ANTHROPIC_REBUILT:
            return NOTHING
        index = frame.get("index")
        if kind == "content_block_start":
            block = frame.get("content_block")
            block_type = block.get("type") if isinstance(block, dict) else None
            if block_type == "text":
                # The second text block of an attempt starts where the upstream
                # started it (each with its citations); the first continues the
                # text that came before (a resumed answer stays one block).
                self._text_blocks += 1
                if self._text_blocks == 1:
                    return NOTHING
                self._texts.add(index)
                return (Passthrough(event="text_block_start", data=frame),)
            if block_type in _ANTHROPIC_BLOCKS:
                return NOTHING
            self._foreign.add(index)
        elif kind == "content_block_delta":
            delta = frame.get("delta")
            own = isinstance(delta, dict) and delta.get("type") in _ANTHROPIC_DELTAS
            if own and index not in self._foreign:
                return NOTHING
        elif kind == "content_block_stop" and index not in self._foreign:
            return NOTHING
        return (Passthrough(event=str(kind), data=frame),)

    @staticmethod
    def _header(name: str, frame: dict[str, Any] | None) -> Kept:
        if frame is None:
            return NOTHING
        if name == "message_start":
            message = frame.get("message")
            fields = _extra(message, _ANTHROPIC_MESSAGE)
            usage = _extra((message or {}).get("usage"), _ANTHROPIC_USAGE)
        else:
            fields = _extra(frame.get("delta"), _ANTHROPIC_DELTA)
            usage = _extra(frame.get("usage"), _ANTHROPIC_USAGE)
        if not fields and not usage:
            return NOTHING
        return (Passthrough(event=name, data={"fields": fields, "usage": usage}, header=True),)


#: Responses events the encoder writes itself.
_RESPONSES_REBUILT = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.completed",
        "response.incomplete",
        "response.failed",
        "error",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.refusal.delta",
        "response.refusal.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
    }
)
#: Output items the parser turns into content (client-executed calls included).
_RESPONSES_ITEMS = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "local_shell_call",
        "shell_call",
        "apply_patch_call",
        "custom_tool_call",
        "computer_call",
        "mcp_call",
    }
)


_RESPONSES_HEADERS = frozenset({"response.created", "response.completed", "response.incomplete"})
_RESPONSES_OWN = frozenset(
    {"id", "object", "created_at", "status", "output", "usage", "error", "incomplete_details"}
)
_RESPONSES_USAGE: frozenset[str] = frozenset()


class ResponsesTap(Tap):
    """Output items of other types (hosted tools: web search, code interpreter...),
    every event about them, annotations, and event types added later."""

    def __init__(self) -> None:
        self._foreign: set[Any] = set()

    def __call__(self, sse: ServerSentEvent, produced: list[Event], parser: Any) -> Kept:
        name = sse.event
        if name == "message":
            name = _peek_type(sse.data)  # a server that sends no event names
        if name in _RESPONSES_HEADERS:
            frame = _decode(sse.data)
            response = frame.get("response") if frame is not None else None
            fields = _extra(response, _RESPONSES_OWN)
            usage = _extra((response or {}).get("usage"), _RESPONSES_USAGE)
            if not fields and not usage:
                return NOTHING
            return (Passthrough(event=name, data={"fields": fields, "usage": usage}, header=True),)
        if produced:
            return NOTHING
        frame = _decode(sse.data)
        if frame is None:
            return NOTHING
        sequence = frame.get("sequence_number")
        if sequence is not None and sequence != getattr(parser, "sequence_number", sequence):
            return NOTHING  # a natively resumed stream repeating what was delivered
        kind = frame.get("type")
        output_index = frame.get("output_index")
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = frame.get("item")
            item_type = item.get("type") if isinstance(item, dict) else None
            if item_type in _RESPONSES_ITEMS:
                if kind.endswith("done") and item_type in ("message", "reasoning", "function_call"):
                    # Its extra fields (encrypted_content...) join the rebuilt item.
                    return (Passthrough(event="item_done", data={"item": item}),)
                return NOTHING
            self._foreign.add(output_index)
        elif kind in _RESPONSES_REBUILT and output_index not in self._foreign:
            return NOTHING
        return (Passthrough(event=str(kind), data=frame),)


#: Chat chunk fields the encoder writes itself.
_CHAT_FIELDS = frozenset(
    {
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "system_fingerprint",
        "service_tier",
        "obfuscation",
    }
)


class ChatTap(Tap):
    """Chunks for other choices (``n`` > 1), chunks with fields of their own
    (moderation trailers, ``prompt_filter_results``), ``logprobs``; headers:
    the first chunk's model, fingerprint and tier, the usage chunk's fields,
    whether the text is a refusal, what reasoning is called."""

    def __init__(self) -> None:
        self._first = True
        self._refusal = False
        self._reasoning_named = False

    def __call__(self, sse: ServerSentEvent, produced: list[Event], parser: Any) -> Kept:
        data = sse.data
        if self._first or (produced and '"usage":{' in data):
            self._first = False
            frame = _decode(data)
            if frame is None:
                return NOTHING
            return (*self._header(frame), *self._frame(frame, produced))
        if produced:
            return self._content(data, produced)
        if data == "[DONE]":
            return NOTHING
        frame = _decode(data)
        if frame is None:
            return NOTHING
        return self._frame(frame, produced)

    def _content(self, data: str, produced: list[Event]) -> Kept:
        # The fast path: a chunk of text says nothing more (one substring test).
        kept: Kept = NOTHING
        if not self._refusal and '"refusal":"' in data and '"refusal":""' not in data:
            # The text is a refusal: the SDK gives it as message.refusal.
            self._refusal = True
            kept = (Passthrough(event="refusal", data={"fields": {"refusal": True}}, header=True),)
        if not self._reasoning_named and '"reasoning":"' in data:
            # A compatible server names reasoning "reasoning", not "reasoning_content".
            self._reasoning_named = True
            name = {"fields": {"name": "reasoning"}}
            kept = (*kept, Passthrough(event="reasoning_field", data=name, header=True))
        if '"logprobs":{' in data:
            frame = _decode(data)
            if frame is not None:
                kept = (*kept, *self._frame(frame, produced))
        return kept

    @staticmethod
    def _header(frame: dict[str, Any] | None) -> Kept:
        if frame is None:
            return NOTHING
        fields = {
            k: frame[k] for k in ("model", "system_fingerprint", "service_tier") if k in frame
        }
        usage = frame.get("usage")
        data: dict[str, Any] = {"fields": fields, "usage": usage if isinstance(usage, dict) else {}}
        return (Passthrough(event="chunk", data=data, header=True),)

    def _frame(self, frame: dict[str, Any], produced: list[Event]) -> Kept:
        choices = frame.get("choices")
        choices = choices if isinstance(choices, list) else []
        if produced:
            # Content and logprobs came together: the text goes out rebuilt, the
            # logprobs right after it, in a chunk of their own.
            logprobs = [
                {"index": c.get("index", 0), "delta": {}, "logprobs": c["logprobs"]}
                for c in choices
                if isinstance(c, dict) and c.get("logprobs") and c.get("index", 0) == 0
            ]
            if not logprobs:
                return NOTHING
            return (Passthrough(event="logprobs", data={"choices": logprobs}),)
        extra = set(frame) - _CHAT_FIELDS
        foreign = [
            c
            for c in choices
            if isinstance(c, dict) and (c.get("index", 0) != 0 or c.get("logprobs"))
        ]
        if not extra and not foreign:
            return NOTHING
        kept = {k: v for k, v in frame.items() if k in extra}
        return (Passthrough(event="chunk", data={**kept, "choices": foreign}),)


def tap_for(provider: str, body: dict[str, Any]) -> Tap | None:
    """A fresh tap for one attempt of ``provider``'s stream (None: nothing passes)."""
    if provider == "anthropic":
        return AnthropicTap()
    if provider == "openai-responses":
        return ResponsesTap()
    if provider == "openai":
        return ChatTap()
    return None
