"""What every re-encoder shares: the incremental interface and SSE framing.

An :class:`Encoder` turns the events of a recovered stream back into the bytes
of one uninterrupted provider-native stream, so that an official SDK reading
them sees a single answer. Events go in one at a time (:meth:`Encoder.feed`);
the terminal frames come out of :meth:`Encoder.finish`. The stop reason and
usage are held until then: a recovering session releases whole tool calls only
when the answer completes, after the provider already sent its stop reason.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from streamrecover.core.errors import UsageError
from streamrecover.core.events import (
    Completed,
    Event,
    Finished,
    ReasoningDelta,
    Rewind,
    TextDelta,
    ToolCallDelta,
    Usage,
)

__all__ = ["Encoder", "sse_frame"]


def sse_frame(data: Any, event: str = "") -> bytes:
    """Return one SSE event (WHATWG HTML 9.2.6) carrying ``data`` as compact JSON."""
    text = (
        data
        if isinstance(data, str)
        else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


class Encoder(ABC):
    """Incremental re-encoder of one answer.

    Args:
        response_id: the id the stream carries throughout (message, completion
            or response id); a neutral one when empty.
        model: the model named in the stream.
        created: the creation time (Unix seconds) where the format has one.
    """

    def __init__(self, *, response_id: str = "", model: str = "", created: int = 0) -> None:
        self.response_id = response_id
        self.model = model
        self.created = created
        self._usage: Usage | None = None
        self._reason: str | None = None
        #: True when a Usage came before the stop reason (one frame carried both).
        self._usage_first = False
        self._finished = False

    def feed(self, event: Event) -> bytes:
        """Return the bytes for ``event`` (often empty: usage and stop reason wait).

        Recovery events (Retrying, Resumed) give nothing; Completed ends the
        stream (see :meth:`finish`).

        Raises:
            UsageError: a Rewind (delivered bytes cannot be taken back), or an
                event after the stream ended.
        """
        if self._finished:
            raise UsageError("the stream was already finished")
        kind = type(event)
        if kind is TextDelta:
            return self._text(event.text)  # type: ignore[attr-defined]
        if kind is ReasoningDelta:
            return self._reasoning(event)  # type: ignore[arg-type]
        if kind is ToolCallDelta:
            return self._tool(event)  # type: ignore[arg-type]
        if kind is Usage:
            return self._usage_event(event)  # type: ignore[arg-type]
        if kind is Finished:
            self._reason = event.reason  # type: ignore[attr-defined]
            self._usage_first = self._usage is not None
            return b""
        if kind is Completed:
            assert isinstance(event, Completed)
            return self.finish(event.finish_reason, event.usage)
        if kind is Rewind:
            raise UsageError("a re-encoded stream cannot take back delivered content")
        return b""

    def _usage_event(self, usage: Usage) -> bytes:
        self._usage = usage
        return b""

    def finish(self, finish_reason: str | None = None, usage: Usage | None = None) -> bytes:
        """Return the terminal frames; ``finish_reason`` and ``usage`` override those fed."""
        if self._finished:
            raise UsageError("the stream was already finished")
        self._finished = True
        if usage is not None and (usage != Usage() or self._usage is not None):
            self._usage = usage
        return self._terminal(finish_reason or self._reason)

    def encode(self, events: list[Event]) -> bytes:
        """Return the whole stream for ``events``, terminal frames included."""
        parts = [self.feed(event) for event in events]
        if not self._finished:
            parts.append(self.finish())
        return b"".join(parts)

    @abstractmethod
    def _text(self, text: str) -> bytes: ...

    @abstractmethod
    def _reasoning(self, event: ReasoningDelta) -> bytes: ...

    @abstractmethod
    def _tool(self, event: ToolCallDelta) -> bytes: ...

    @abstractmethod
    def _terminal(self, reason: str | None) -> bytes: ...

    @abstractmethod
    def error(self, message: str, error_type: str) -> bytes:
        """Return the provider's own error event, which ends the stream for its SDK."""
