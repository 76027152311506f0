"""What the SDK reads: a recovered stream re-encoded as one provider-native stream.

:class:`SDKFeed` sits between a recovering stream's events and the bytes handed
to the SDK. It never hands over what a strategy could still roll back: text
waits in :class:`~streamrecover.observe.SafeText` (as ``text_stream`` does),
reasoning waits until the answer moves past it (only a restart from nothing
drops reasoning), and tool calls arrive whole from the session. A rewind below
what the SDK already holds (a continuation that restarted and diverged) cannot
be honoured: the stream then ends with the provider's own error event rather
than show the SDK a duplicated or altered answer.
"""

from __future__ import annotations

from streamrecover.core.events import (
    Completed,
    Event,
    ReasoningDelta,
    Rewind,
    TextDelta,
    ToolCallDelta,
)
from streamrecover.observe import SafeText
from streamrecover.providers.encode import Encoder

__all__ = ["SDKFeed", "StreamDiverged"]


class StreamDiverged(Exception):
    """A rewind would take back text the SDK already received."""


class SDKFeed:
    """Events in, provider-native bytes out (see the module docstring)."""

    def __init__(self, encoder: Encoder, safe_mode: str) -> None:
        self.encoder = encoder
        self._mode = safe_mode
        self._safe = SafeText(safe_mode)  # type: ignore[arg-type]
        #: Characters of text the SDK holds.
        self._shown = 0
        # Trailing whitespace of the safe text: a continuation's seam may still
        # rewrite it (a prefill is sent with trailing whitespace stripped).
        self._held = ""
        self._reasoning: list[ReasoningDelta] = []
        # The session releases tool calls only as the answer completes: they wait
        # for Completed, so that text SafeText still holds goes out before them.
        self._tools: list[ToolCallDelta] = []

    def feed(self, event: Event) -> bytes:
        """Return the bytes that became safe with ``event`` (often empty).

        Raises:
            StreamDiverged: ``event`` rewinds text the SDK already holds.
        """
        kind = type(event)
        if kind is Rewind:
            assert isinstance(event, Rewind)
            if event.to < self._shown:
                raise StreamDiverged(
                    f"a continuation rewrote {self._shown - event.to} characters already delivered"
                )
            if event.reasoning_to == 0:
                self._reasoning = []
            if event.to < self._shown + len(self._held):
                # Into the held whitespace: what SafeText still holds goes too.
                self._held = self._held[: event.to - self._shown]
                self._safe = SafeText(self._mode, already_shown=event.to)  # type: ignore[arg-type]
            else:
                self._safe.feed(event)
            return b""
        if kind is ReasoningDelta:
            assert isinstance(event, ReasoningDelta)
            self._reasoning.append(event)
            return b""
        if kind is TextDelta:
            pending = self._held + self._safe.feed(event)
            body = pending.rstrip()
            self._held = pending[len(body) :]
            if not body:
                return b""
            self._shown += len(body)
            return self._flush_reasoning() + self.encoder.feed(TextDelta(text=body))
        if kind is ToolCallDelta:
            assert isinstance(event, ToolCallDelta)
            self._tools.append(event)
            return b""
        if kind is Completed:
            chunk = self._held + self._safe.feed(event)
            self._held = ""
            out = self._flush_reasoning()
            if chunk:
                self._shown += len(chunk)
                out += self.encoder.feed(TextDelta(text=chunk))
            tools, self._tools = self._tools, []
            out += b"".join(self.encoder.feed(tool) for tool in tools)
            return out + self.encoder.feed(event)
        return self.encoder.feed(event)

    def _flush_reasoning(self) -> bytes:
        held, self._reasoning = self._reasoning, []
        return b"".join(self.encoder.feed(event) for event in held)

    def fail(self, message: str, error_type: str) -> bytes:
        """Return what ends the stream with the provider's error event."""
        return self.encoder.error(message, error_type)
