"""The SSE events of the fake providers: :class:`Frame`, and the keep-alive each one sends.

Re-exported by :mod:`streamrecover.testing.fakeprovider`, the usual import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["PROVIDERS", "Frame", "FrameKind", "keepalive_frame"]

#: The wire formats this module speaks (the names of the library's providers).
PROVIDERS: tuple[str, ...] = ("openai", "openai-responses", "anthropic", "gemini")

FrameKind = Literal["meta", "ping", "reasoning", "text", "tool", "usage", "terminal", "error"]


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
