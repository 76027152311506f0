"""Re-encode a recovered answer as one Anthropic Messages stream.

Exactly one ``message_start`` (carrying the usage known before any content),
content blocks with contiguous indexes, each started, delta'd and stopped in
order, one ``message_delta`` with the final stop reason and cumulative usage,
and ``message_stop`` (https://docs.anthropic.com/en/docs/build-with-claude/streaming).
"""

from __future__ import annotations

from json.encoder import encode_basestring as _encode_string
from typing import Any

from streamrecover.core.events import ReasoningDelta, ToolCallDelta, Usage
from streamrecover.providers.encode.base import (
    PLACEHOLDER,
    Encoder,
    TextFrames,
    merge_usage,
    sse_frame,
)
from streamrecover.providers.encode.passthrough import Passthrough

__all__ = ["AnthropicEncoder"]


def _usage_fields(usage: Usage) -> dict[str, int]:
    # The parser counts input as the whole prompt (cache reads included).
    return {
        "input_tokens": max(usage.input_tokens - usage.cached_tokens, 0),
        "cache_read_input_tokens": usage.cached_tokens,
        "output_tokens": usage.output_tokens,
    }


class AnthropicEncoder(Encoder):
    """See the module docstring."""

    def __init__(self, **meta: Any) -> None:
        super().__init__(**meta)
        self._started = False
        self._index = -1
        self._block = ""  # type of the open block ("" when none)
        self._signed = False  # the open thinking block already has its signature
        self._tool_index = -1
        self._text_frames = TextFrames()
        #: Upstream index of a passed-through block -> its index in this stream.
        self._foreign: dict[Any, int] = {}

    def _frame(self, kind: str, data: dict[str, Any]) -> bytes:
        return sse_frame({"type": kind, **data}, kind)

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        usage = (
            _usage_fields(self._usage)
            if self._usage is not None
            else {
                "input_tokens": 0,
                "output_tokens": 0,
            }
        )
        message: dict[str, Any] = {
            "id": self.response_id or "msg_streamrecover",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            **self._fields.get("message_start", {}),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": merge_usage(self._usage_extra.get("message_start", {}), usage),
        }
        return self._frame("message_start", {"message": message})

    def _usage_event(self, usage: Usage) -> bytes:
        self._usage = usage
        # Usage known before any content goes into message_start, as the API sends it.
        return self._start() if not self._started else b""

    def _close(self) -> bytes:
        if not self._block:
            return b""
        self._block = ""
        return self._frame("content_block_stop", {"index": self._index})

    def _open(self, block: dict[str, Any]) -> bytes:
        out = self._start() + self._close()
        self._index += 1
        self._block = block["type"]
        self._signed = False
        return out + self._frame(
            "content_block_start", {"index": self._index, "content_block": block}
        )

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return self._frame("content_block_delta", {"index": self._index, "delta": delta})

    def text(self, text: str) -> bytes:
        # Encoder.text, with the frame of the open text block inline: once per delta.
        frames = self._text_frames
        if self._block == "text" and frames.key == self._index and not self._finished:
            return frames.head + _encode_string(text).encode() + frames.tail
        return super().text(text)

    def _text(self, text: str) -> bytes:
        if self._block == "text":
            again = self._text_frames.again(self._index, text)
            if again is not None:
                return again
        out = b"" if self._block == "text" else self._open({"type": "text", "text": ""})
        frame = {
            "type": "content_block_delta",
            "index": self._index,
            "delta": {"type": "text_delta", "text": PLACEHOLDER},
        }
        return out + self._text_frames.render(self._index, frame, "content_block_delta", text)

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        if event.redacted_data:
            # A redacted_thinking block arrives whole in its content_block_start.
            out = self._open({"type": "redacted_thinking", "data": event.redacted_data})
            self._signed = True
            return out
        if event.text and event.signature:
            out = self._open(
                {"type": "thinking", "thinking": event.text, "signature": event.signature}
            )
            self._signed = True
            return out
        out = b""
        if self._block != "thinking" or self._signed:
            out = self._open({"type": "thinking", "thinking": "", "signature": ""})
        if event.signature:
            self._signed = True
            return out + self._delta({"type": "signature_delta", "signature": event.signature})
        if not event.text:
            return out
        return out + self._delta({"type": "thinking_delta", "thinking": event.text})

    def _tool(self, event: ToolCallDelta) -> bytes:
        out = b""
        if self._block != "tool_use" or event.index != self._tool_index or event.id or event.name:
            out = self._open({"type": "tool_use", "id": event.id, "name": event.name, "input": {}})
            self._tool_index = event.index
        if event.arguments:
            out += self._delta({"type": "input_json_delta", "partial_json": event.arguments})
        return out

    def _terminal(self, reason: str | None) -> bytes:
        out = self._start() + self._close()
        delta = {"stop_reason": reason or "end_turn", "stop_sequence": None}
        message_delta: dict[str, Any] = {
            "delta": {**self._fields.get("message_delta", {}), **delta},
            "usage": merge_usage(
                self._usage_extra.get("message_delta", {}), _usage_fields(self._usage or Usage())
            ),
        }
        out += self._frame("message_delta", message_delta)
        return out + self._frame("message_stop", {})

    def _passthrough(self, event: Passthrough) -> bytes:
        frame = event.data
        kind = frame.get("type")
        if event.event == "text_block_start":
            # A text block of its own upstream (with its citations).
            out = self._start() + self._close()
            self._index += 1
            self._block = "text"
            return out + self._frame("content_block_start", {**frame, "index": self._index})
        if kind == "content_block_start":
            out = self._start() + self._close()
            self._index += 1
            self._block = "foreign"
            self._foreign[frame.get("index")] = self._index
            return out + self._frame(kind, {**frame, "index": self._index})
        if kind == "content_block_delta":
            index = self._foreign.get(frame.get("index"))
            out = self._start()
            if index is None:
                # A delta of another type for a block this stream rebuilds
                # (citations_delta in a text block): it goes to that block.
                if self._block != "text":
                    out += self._open({"type": "text", "text": ""})
                index = self._index
            return out + self._frame(kind, {**frame, "index": index})
        if kind == "content_block_stop":
            index = self._foreign.pop(frame.get("index"), None)
            if index is None:
                return b""
            if index == self._index and self._block == "foreign":
                self._block = ""
            return self._start() + self._frame(kind, {**frame, "index": index})
        # A ping or an event type added later: as it came, in its place.
        return self._start() + sse_frame(frame, event.event)

    def error(self, message: str, error_type: str) -> bytes:
        error = {"type": error_type or "api_error", "message": message}
        return self._frame("error", {"error": error})
