"""Re-encode a recovered answer as one Gemini ``streamGenerateContent?alt=sse`` stream.

Every frame carries the same ``responseId`` and ``modelVersion``; a function
call goes out whole in one part (the API never splits one); the last frame
alone carries ``finishReason`` and the cumulative ``usageMetadata``
(https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent).
"""

from __future__ import annotations

import json
from typing import Any

from streamrecover.core.events import ReasoningDelta, ToolCallDelta, Usage
from streamrecover.providers.encode.base import Encoder, sse_frame

__all__ = ["GeminiEncoder"]


class GeminiEncoder(Encoder):
    """See the module docstring."""

    def __init__(self, **meta: Any) -> None:
        super().__init__(**meta)
        self._call: dict[str, Any] | None = None
        self._call_index = -1

    def _frame(
        self,
        parts: list[dict[str, Any]],
        candidate: dict[str, Any] | None = None,
        usage: Usage | None = None,
    ) -> bytes:
        frame: dict[str, Any] = {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "index": 0, **(candidate or {})}
            ],
        }
        if usage is not None:
            frame["usageMetadata"] = {
                "promptTokenCount": usage.input_tokens,
                "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
                "thoughtsTokenCount": usage.reasoning_tokens,
                "cachedContentTokenCount": usage.cached_tokens,
                "totalTokenCount": usage.input_tokens + usage.output_tokens,
            }
        frame["modelVersion"] = self.model
        frame["responseId"] = self.response_id or "streamrecover"
        return sse_frame(frame)

    def _flush_call(self) -> bytes:
        call, self._call = self._call, None
        if call is None:
            return b""
        raw = call.pop("arguments")
        try:
            args = json.loads(raw) if raw else {}
        except ValueError:
            args = {"arguments": raw}  # not JSON: kept whole rather than lost
        return self._frame([{"functionCall": {**call, "args": args}}])

    def _text(self, text: str) -> bytes:
        return self._flush_call() + self._frame([{"text": text}])

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        out = self._flush_call()
        if event.text:
            part: dict[str, Any] = {"text": event.text, "thought": True}
            if event.signature:
                part["thoughtSignature"] = event.signature
            return out + self._frame([part])
        return out + (
            self._frame([{"thoughtSignature": event.signature}]) if event.signature else b""
        )

    def _tool(self, event: ToolCallDelta) -> bytes:
        out = b""
        if self._call is None or event.index != self._call_index:
            out = self._flush_call()
            self._call_index = event.index
            self._call = {"name": event.name, "arguments": ""}
            if event.id:
                self._call = {"id": event.id, **self._call}
        self._call["arguments"] += event.arguments
        return out

    def _terminal(self, reason: str | None) -> bytes:
        out = self._flush_call()
        return out + self._frame([], {"finishReason": reason or "STOP"}, self._usage)

    def error(self, message: str, error_type: str) -> bytes:
        return sse_frame(
            {"error": {"code": 500, "message": message, "status": error_type or "INTERNAL"}}
        )
