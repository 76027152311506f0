"""Re-encode a recovered answer as one OpenAI Chat Completions stream.

One ``id`` / ``created`` / ``model`` on every chunk, the role on the first,
``finish_reason`` exactly once, the usage chunk (``choices: []``) when the
request asked for it, and ``data: [DONE]``
(https://platform.openai.com/docs/api-reference/chat-streaming).
"""

from __future__ import annotations

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

__all__ = ["OpenAIChatEncoder"]


class OpenAIChatEncoder(Encoder):
    """See the module docstring. ``include_usage=False`` leaves the usage chunk out."""

    def __init__(self, *, include_usage: bool = True, **meta: Any) -> None:
        super().__init__(**meta)
        self.include_usage = include_usage
        self._role_sent = False
        self._text_frames = TextFrames()

    def _frame_of(
        self, choices: list[dict[str, Any]], extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return {
            **(extra or {}),
            "id": self.response_id or "chatcmpl-streamrecover",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            **self._fields.get("chunk", {}),
            "choices": choices,
        }

    def _chunk(
        self,
        choices: list[dict[str, Any]],
        usage: Usage | None = None,
        extra: dict[str, Any] | None = None,
    ) -> bytes:
        chunk = self._frame_of(choices, extra)
        if usage is not None:
            own = {
                "prompt_tokens": usage.input_tokens,
                "completion_tokens": usage.output_tokens,
                "total_tokens": usage.input_tokens + usage.output_tokens,
                "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
                "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            }
            upstream = self._usage_extra.get("chunk")
            chunk["usage"] = own if upstream is None else merge_usage(upstream, own)
        return sse_frame(chunk)

    def _delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        if not self._role_sent:
            self._role_sent = True
            delta = {"role": "assistant", **delta}
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return self._chunk([choice])

    def _text(self, text: str) -> bytes:
        field = "refusal" if "refusal" in self._fields else "content"
        if not self._role_sent:
            return self._delta({field: text})
        extra = self._fields.get("chunk")
        key = (field, id(extra))
        again = self._text_frames.again(key, text)
        if again is not None:
            return again
        choice = {"index": 0, "delta": {field: PLACEHOLDER}, "finish_reason": None}
        frame = self._frame_of([choice])
        return self._text_frames.render(key, frame, "", text)

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        # Chat Completions has no signatures; compatible servers name reasoning
        # reasoning_content (DeepSeek) or reasoning (OpenRouter, Groq).
        name = self._fields.get("reasoning_field", {}).get("name", "reasoning_content")
        return self._delta({name: event.text}) if event.text else b""

    def _tool(self, event: ToolCallDelta) -> bytes:
        call: dict[str, Any] = {"index": event.index}
        function: dict[str, str] = {"arguments": event.arguments}
        if event.id:
            call["id"] = event.id
            call["type"] = "function"
        if event.name:
            function = {"name": event.name, **function}
        call["function"] = function
        return self._delta({"tool_calls": [call]})

    def _terminal(self, reason: str | None) -> bytes:
        usage = self._usage if self.include_usage else None
        # Chunks after the finish reason (other choices finishing, a moderation
        # trailer) go where they came: before or after the usage chunk.
        trailers, self._trailers = self._trailers, []
        early = b"".join(self._passthrough(t) for t, after_usage in trailers if not after_usage)
        late = b"".join(self._passthrough(t) for t, after_usage in trailers if after_usage)
        if usage is not None and self._usage_first:
            # The usage came in the frame of the finish reason: so it goes back.
            choice = {"index": 0, "delta": {}, "finish_reason": reason or "stop"}
            return self._chunk([choice], usage) + early + late + sse_frame("[DONE]")
        out = self._delta({}, reason or "stop") + early
        if usage is not None:
            out += self._chunk([], usage)
        return out + late + sse_frame("[DONE]")

    def _passthrough(self, event: Passthrough) -> bytes:
        # The upstream's chunk, under this stream's id; a role already sent is not
        # repeated (the SDK concatenates string fields of deltas).
        choices = []
        for choice in event.data.get("choices", []):
            delta = choice.get("delta") or {}
            if choice.get("index", 0) == 0:
                delta = {k: v for k, v in delta.items() if k != "role"}
                if not self._role_sent:
                    self._role_sent = True
                    delta = {"role": "assistant", **delta}
            choices.append({**choice, "delta": delta, "finish_reason": choice.get("finish_reason")})
        extra = {k: v for k, v in event.data.items() if k != "choices"}
        return self._chunk(choices, None, extra)

    def error(self, message: str, error_type: str) -> bytes:
        return sse_frame({"error": {"message": message, "type": error_type, "code": None}})
