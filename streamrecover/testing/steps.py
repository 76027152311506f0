"""What a :class:`~streamrecover.testing.server.FaultServer` connection plays: script steps,
and builders of whole responses made of them.

Re-exported by :mod:`streamrecover.testing.server`, the usual import.
"""

from __future__ import annotations

import contextlib
import http
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Close",
    "Drip",
    "HalfClose",
    "LastChunk",
    "Reset",
    "Script",
    "Send",
    "SendChunk",
    "SendHead",
    "Sleep",
    "Stall",
    "Step",
    "http_response",
    "sse_body",
    "sse_frame",
    "sse_head",
    "sse_response",
]


@dataclass(frozen=True, slots=True)
class Send:
    """Send these bytes as they are."""

    data: bytes


@dataclass(frozen=True, slots=True)
class SendHead:
    """Send a status line and headers (and the blank line that ends them)."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    reason: str = ""

    def encode(self) -> bytes:
        """The bytes of this response head."""
        reason = self.reason
        if not reason:
            with contextlib.suppress(ValueError):
                reason = http.HTTPStatus(self.status).phrase
        lines = [f"HTTP/1.1 {self.status} {reason}".rstrip()]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True, slots=True)
class SendChunk:
    """Send one chunk of a chunked body (RFC 9112 §7.1); ``data`` must not be empty."""

    data: bytes

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("an empty chunk would end the body: use LastChunk()")

    def encode(self) -> bytes:
        """The bytes of this chunk: size line, data, CRLF."""
        return b"%x\r\n%s\r\n" % (len(self.data), self.data)


@dataclass(frozen=True, slots=True)
class LastChunk:
    """End a chunked body: the zero-size chunk and the empty trailer section."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Do nothing for ``seconds`` (cut short when the server stops)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Reset:
    """Abort the connection with a TCP RST (SO_LINGER 0, then close). Ends the script."""


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection cleanly. Ends the script.

    On TLS, ``tls_close_notify=False`` closes the TCP connection without the
    TLS close_notify alert: a "ragged" EOF, which a client cannot tell apart
    from a truncation attack.
    """

    tls_close_notify: bool = True


@dataclass(frozen=True, slots=True)
class HalfClose:
    """Shut down the sending side (FIN; close_notify first on TLS); the script goes on."""


@dataclass(frozen=True, slots=True)
class Stall:
    """Send nothing until the client disconnects, or ``max_seconds`` pass."""

    max_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Drip:
    """Send ``data`` one byte at a time, ``interval`` seconds apart."""

    data: bytes
    interval: float = 0.01


Step = Send | SendHead | SendChunk | LastChunk | Sleep | Reset | Close | HalfClose | Stall | Drip
Script = Sequence[Step]

# ---------------------------------------------------------------------------
# Response builders


def sse_frame(
    data: str, *, event: str | None = None, id: str | None = None, retry: int | None = None
) -> bytes:
    """One Server-Sent Events frame: optional ``event:``/``id:``/``retry:``, one
    ``data:`` line per line of ``data``, and the blank line that dispatches it."""
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


#: A FaultServer connection plays one script and closes: the responses say so,
#: or a pooling client (httpx2 under the official SDKs) reuses the connection and
#: its next request meets the close as a reset (RFC 9112, section 9.6).
_CLOSE = ("connection", "close")


def sse_head(
    *, chunked: bool = True, status: int = 200, headers: Sequence[tuple[str, str]] = ()
) -> SendHead:
    """The head of an event-stream response; without ``chunked`` the body ends at close."""
    base = [("content-type", "text/event-stream"), ("cache-control", "no-cache"), _CLOSE]
    if chunked:
        base.append(("transfer-encoding", "chunked"))
    return SendHead(status, (*base, *headers))


def sse_body(frames: Sequence[bytes | str], *, chunked: bool = True) -> list[Step]:
    """One step per frame: a chunk each when ``chunked``, raw bytes otherwise."""
    encoded = [frame.encode("utf-8") if isinstance(frame, str) else frame for frame in frames]
    if chunked:
        return [SendChunk(frame) for frame in encoded if frame]
    return [Send(frame) for frame in encoded]


def sse_response(
    frames: Sequence[bytes | str],
    *,
    chunked: bool = True,
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
) -> list[Step]:
    """A complete event-stream response: head, one step per frame, end of body, close."""
    steps: list[Step] = [sse_head(chunked=chunked, status=status, headers=headers)]
    steps.extend(sse_body(frames, chunked=chunked))
    if chunked:
        steps.append(LastChunk())
    steps.append(Close())
    return steps


def http_response(
    status: int,
    body: bytes | str = b"",
    *,
    content_type: str = "application/json",
    headers: Sequence[tuple[str, str]] = (),
) -> list[Step]:
    """A complete response with a Content-Length body (an error answer, say), then close."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    head = SendHead(
        status,
        (("content-type", content_type), _CLOSE, ("content-length", str(len(data))), *headers),
    )
    return [head, Send(data), Close()] if data else [head, Close()]
