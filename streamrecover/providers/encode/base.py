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
from json.encoder import encode_basestring as _encode_string
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
from streamrecover.providers.encode.passthrough import Passthrough

__all__ = ["PLACEHOLDER", "Encoder", "TextFrames", "merge_usage", "sse_frame"]

#: Stands for the text in a frame rendered once as a template (see TextFrames).
PLACEHOLDER = "\x00"
_PLACEHOLDER_JSON = b'"\\u0000"'


class TextFrames:
    """The frame of a text delta, rendered once as ``head + JSON string + tail``.

    A long answer is thousands of text deltas whose frames differ only in the
    text: encoding just the string (``json``'s C string encoder) costs a
    fraction of a ``json.dumps`` of the whole frame, per event.
    """

    __slots__ = ("head", "key", "tail")

    def __init__(self) -> None:
        #: The key of the last render, and the frame's bytes around the JSON string
        #: (read-only: an encoder may join them itself, as :meth:`again` does).
        self.key: object = None
        self.head = b""
        self.tail = b""

    def again(self, key: object, text: str) -> bytes | None:
        """The frame of the last :meth:`render` with ``text`` in it, or None if ``key`` changed.

        Spares building ``frame`` for the thousands of deltas that share one.
        """
        if key != self.key:
            return None
        return self.head + _encode_string(text).encode() + self.tail

    def render(self, key: object, frame: Any, event: str, text: str) -> bytes:
        """Return the frame (``frame`` holds :data:`PLACEHOLDER` where the text goes).

        ``frame`` is rendered again only when ``key`` changed since the last call.
        """
        if key != self.key:
            self.head, _, self.tail = sse_frame(frame, event).partition(_PLACEHOLDER_JSON)
            self.key = key
        return self.head + _encode_string(text).encode() + self.tail


def merge_usage(upstream: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The upstream's usage object with the counts the session computed put in.

    A count of the encoder's own goes in where the upstream had the field or the
    count is not zero (all of them when the upstream's is unknown: empty); every
    other field of the upstream stays as it came.
    """
    merged = dict(upstream)
    for key, value in own.items():
        if isinstance(value, dict):
            nested = dict(merged.get(key) or {})
            nested.update({k: v for k, v in value.items() if v or k in nested})
            if nested:
                merged[key] = nested
        elif value or key in merged or not upstream:
            merged[key] = value
    return merged


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
        #: What the upstream's own frames said beyond what the encoder rebuilds
        #: (its model, extra response fields), by header event (see Passthrough.header).
        self._fields: dict[str, dict[str, Any]] = {}
        #: Extra usage fields of the upstream, by header event.
        self._usage_extra: dict[str, dict[str, Any]] = {}
        #: Frames that came after the stop reason (a moderation trailer), each with
        #: whether the usage had come before it.
        self._trailers: list[tuple[Passthrough, bool]] = []
        self._usage_after_reason = False

    def text(self, text: str) -> bytes:
        """Return the bytes for ``TextDelta(text=text)`` (what :meth:`feed` gives it).

        Raises:
            UsageError: the stream already ended.
        """
        if self._finished:
            raise UsageError("the stream was already finished")
        return self._text(text)

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
            self._usage_after_reason = self._reason is not None
            return self._usage_event(event)  # type: ignore[arg-type]
        if kind is Finished:
            self._reason = event.reason  # type: ignore[attr-defined]
            self._usage_first = self._usage is not None
            return b""
        if kind is Completed:
            assert isinstance(event, Completed)
            return self.finish(event.finish_reason, event.usage)
        if kind is Passthrough:
            assert isinstance(event, Passthrough)
            if event.header:
                # The first attempt's header wins; a later one only adds fields.
                fields = event.data.get("fields") or {}
                usage = event.data.get("usage") or {}
                self._fields[event.event] = {**fields, **self._fields.get(event.event, {})}
                self._usage_extra[event.event] = usage
                return b""
            return self._passthrough(event)
        if kind is Rewind:
            raise UsageError("a re-encoded stream cannot take back delivered content")
        return b""

    def _passthrough(self, event: Passthrough) -> bytes:
        """Return ``event``'s frame renumbered for this stream (this format: dropped)."""
        return b""

    def trailer(self, event: Passthrough) -> None:
        """Hold a frame that came after the stop reason: it goes out before the last frame."""
        self._trailers.append((event, self._usage_after_reason))

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
        terminal = self._terminal(finish_reason or self._reason)
        if not self._trailers:
            return terminal
        trailers = b"".join(self._passthrough(event) for event, _ in self._trailers)
        # They go where they came: after the stop reason and usage, before the
        # stream's last frame ([DONE], message_stop, response.completed).
        cut = terminal.rfind(b"\n\n", 0, len(terminal) - 2) + 2
        return terminal[:cut] + trailers + terminal[cut:]

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
