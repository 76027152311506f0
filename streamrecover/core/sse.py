"""Incremental Server-Sent Events decoder (WHATWG HTML, "event stream interpretation").

Placeholder interface: the full decoder is being written (issue 2).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSentEvent:
    """One dispatched event: its type, data, the last event ID and the retry hint."""

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Feed bytes in, get events out; ``feed(b"")`` is the end of the stream."""

    def __init__(self, *, max_line_size: int = 16 * 1024 * 1024, max_event_size: int = 16 * 1024 * 1024) -> None:
        self.truncated = False
        self.last_event_id = ""
        self.retry: int | None = None

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        raise NotImplementedError
