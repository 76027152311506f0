"""Turn one step of a scenario ("reset after the 4th text frame") into a server script.

A scenario's per-attempt step is a JSON object (see ``conformance/README.md``).
:func:`cut_offset` finds where in the body a fault happens, as a byte offset
into the concatenated SSE frames; :func:`build_script` returns the
:mod:`streamrecover.testing.server` steps that play the answer up to there and
then fail the way the step says. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streamrecover.testing.fakeprovider import Frame, error_body, error_frames, keepalive_frame
from streamrecover.testing.server import (
    Close,
    Drip,
    HalfClose,
    LastChunk,
    Reset,
    Send,
    SendChunk,
    SendHead,
    Sleep,
    Stall,
    Step,
    http_response,
)

__all__ = ["FAULTS", "ScriptError", "build_script", "cut_offset", "frames_sent"]

#: Every ``fault`` a step may name.
FAULTS = (
    "none",
    "refused",
    "http",
    "reset",
    "close",
    "half_close",
    "stall",
    "truncated_chunk",
    "error_event",
    "eof",
    "malformed",
    "oversized",
    "drip",
    "pause",
)

#: Longest time a stalled server waits for the client to give up.
STALL_SECONDS = 10.0
#: The decoder's default cap on one line (streamrecover's SSEDecoder, 16 MiB).
DEFAULT_LINE_CAP = 16 * 1024 * 1024


class ScriptError(ValueError):
    """A scenario step that cannot be played (unknown fault, impossible cut)."""


def _frame_index(frames: Sequence[Frame], kind: str, nth: int) -> int:
    seen = 0
    for index, frame in enumerate(frames):
        if frame.kind == kind:
            seen += 1
            if seen == nth:
                return index
    raise ScriptError(f"the answer has fewer than {nth} {kind} frame(s)")


def cut_offset(frames: Sequence[Frame], step: Mapping[str, Any]) -> int:
    """Return the byte offset, in the concatenated ``frames``, where ``step`` cuts the body.

    Keys (first one present wins): ``after_frames`` k (raw frames; negative
    counts from the end), ``mid_frame`` k (half of frame k, 0-based),
    ``after_bytes`` n, ``after_text`` k (after the k-th text frame, 1-based),
    ``inside_text`` k (in the middle of the k-th text frame),
    ``in`` ``"tool_call"`` / ``"reasoning"`` (after the second frame of the
    tool call or the reasoning; inside the frame when it is a single one),
    ``after_paragraph`` (after the first text frame ending a paragraph).
    With none of them, the whole body. ``utf8: true`` then moves the cut to
    just after the first byte of the next multi-byte UTF-8 character.

    Raises:
        ScriptError: the answer has no such frame.
    """
    sizes = [len(frame.data) for frame in frames]
    total = sum(sizes)

    def after(count: int) -> int:
        return sum(sizes[:count])

    if "after_frames" in step:
        count = int(step["after_frames"])
        offset = after(count if count >= 0 else len(frames) + count)
    elif "mid_frame" in step:
        index = int(step["mid_frame"])
        offset = after(index) + sizes[index] // 2
    elif "after_bytes" in step:
        offset = min(total, int(step["after_bytes"]))
    elif "after_text" in step:
        offset = after(_frame_index(frames, "text", int(step["after_text"])) + 1)
    elif "inside_text" in step:
        index = _frame_index(frames, "text", int(step["inside_text"]))
        offset = after(index) + sizes[index] // 2
    elif "in" in step:
        kind = {"tool_call": "tool", "reasoning": "reasoning"}.get(step["in"])
        if kind is None:
            raise ScriptError(f"unknown 'in': {step['in']!r}")
        first = _frame_index(frames, kind, 1)
        if first + 1 < len(frames) and frames[first + 1].kind == kind:
            offset = after(first + 2)
        else:
            # A single frame (Gemini sends a function call whole): cut inside it.
            offset = after(first) + sizes[first] // 2
    elif step.get("after_paragraph"):
        for index, frame in enumerate(frames):
            if frame.kind == "text" and frame.text.endswith("\n\n"):
                offset = after(index + 1)
                break
        else:
            raise ScriptError("the answer has no paragraph break")
    else:
        offset = total
    if step.get("utf8"):
        body = b"".join(frame.data for frame in frames)
        for position in range(offset, len(body)):
            if body[position] >= 0xC0:  # the lead byte of a multi-byte sequence
                return position + 1
        raise ScriptError("no multi-byte character after the cut")
    return offset


def frames_sent(frames: Sequence[Frame], offset: int) -> list[Frame]:
    """Return the frames wholly inside the first ``offset`` bytes."""
    sent, position = [], 0
    for frame in frames:
        position += len(frame.data)
        if position > offset:
            break
        sent.append(frame)
    return sent


def _pieces(frames: Sequence[Frame], offset: int) -> tuple[list[bytes], list[bytes]]:
    """Split the frames' bytes at ``offset``: (pieces before, pieces after), frame-aligned."""
    before, rest, position = [], [], 0
    for frame in frames:
        data = frame.data
        end = position + len(data)
        if end <= offset:
            before.append(data)
        elif position >= offset:
            rest.append(data)
        else:
            before.append(data[: offset - position])
            rest.append(data[offset - position :])
        position = end
    return before, rest


def build_script(
    provider: str,
    frames: Sequence[Frame],
    step: Mapping[str, Any],
) -> list[Step]:
    """Return the server script that answers with ``frames`` and fails as ``step`` says.

    ``step["fault"]`` is one of :data:`FAULTS` (default ``none``); ``http``
    answers ``step["status"]`` with the provider's error body (or
    ``step["body"]``), ``step["headers"]`` and ``step["content_type"]``. Other
    keys: ``framing`` (``"chunked"``, the default, or ``"close"``: a body that
    ends when the connection closes), ``before_headers`` (for ``reset``),
    ``error`` (for ``error_event``), ``seconds`` and ``keepalive_every`` (for
    ``pause``), ``drip_bytes`` and ``drip_interval`` (for ``drip``),
    ``line_bytes`` (for ``oversized``), and the cut keys of :func:`cut_offset`.

    Raises:
        ScriptError: an unknown fault, or a cut the answer cannot have.
    """
    fault = step.get("fault", "none")
    if fault not in FAULTS:
        raise ScriptError(f"unknown fault {fault!r}; expected one of {FAULTS}")
    if fault == "refused":
        raise ScriptError("'refused' is played by not listening, not by a script")
    if fault == "http":
        status = int(step.get("status", 500))
        headers = tuple((str(k), str(v)) for k, v in dict(step.get("headers", {})).items())
        body = step.get("body")
        content = error_body(provider, status) if body is None else str(body).encode()
        return http_response(
            status,
            content,
            content_type=str(step.get("content_type", "application/json")),
            headers=headers,
        )
    if fault == "reset" and step.get("before_headers"):
        return [Reset()]
    chunked = step.get("framing", "chunked") == "chunked"

    def encode(data: bytes) -> Step:
        return SendChunk(data) if chunked else Send(data)

    def end() -> list[Step]:
        return [LastChunk(), Close()] if chunked else [Close()]

    head_headers = [
        ("content-type", "text/event-stream"),
        ("cache-control", "no-cache"),
        ("connection", "close"),  # one script per connection (see steps._CLOSE)
    ]
    if chunked:
        head_headers.append(("transfer-encoding", "chunked"))
    script: list[Step] = [SendHead(200, tuple(head_headers))]
    defaults_to_end = fault in ("none", "drip", "pause")
    offset = cut_offset(frames, step) if not defaults_to_end or _has_cut(step) else 0
    before, rest = _pieces(frames, offset)
    if fault == "drip":
        size = int(step.get("drip_bytes", 160))
        raw = b"".join(frame.data for frame in frames)
        dripped = raw[:size]
        wire = b"".join(SendChunk(dripped[i : i + 1]).encode() for i in range(len(dripped)))
        if not chunked:
            wire = dripped
        script.append(Drip(wire, float(step.get("drip_interval", 0.002))))
        remaining = raw[size:]
        if remaining:
            script.append(encode(remaining))
        return [*script, *end()]
    script.extend(encode(piece) for piece in before if piece)
    if fault == "none":
        return [*script, *(encode(piece) for piece in rest if piece), *end()]
    if fault == "pause":
        every = float(step.get("keepalive_every", 0.1))
        for _ in range(max(1, round(float(step.get("seconds", 0.6)) / every))):
            script.extend([Sleep(every), encode(keepalive_frame(provider))])
        return [*script, *(encode(piece) for piece in rest if piece), *end()]
    if fault == "reset":
        return [*script, Reset()]
    if fault == "close":
        return [*script, Close()]
    if fault == "half_close":
        return [*script, HalfClose(), Stall(STALL_SECONDS)]
    if fault == "stall":
        return [*script, Stall(STALL_SECONDS)]
    if fault == "truncated_chunk":
        if not chunked:
            raise ScriptError("a truncated chunk needs chunked framing")
        following = b"".join(rest) or b"data: [DONE]\n\n"
        # The size line promises the whole next frame; half of it comes, then EOF.
        script.append(Send(b"%x\r\n" % len(following) + following[: max(1, len(following) // 2)]))
        return [*script, Close()]
    if fault == "error_event":
        sequence = _next_sequence(frames, offset)
        errors = error_frames(provider, step.get("error", "overloaded"), sequence_number=sequence)
        return [*script, *(encode(frame.data) for frame in errors), *end()]
    if fault == "eof":
        return [*script, *end()]
    if fault == "malformed":
        broken = b'data: {"choices": [{"delta": {"content": "oops"\n\n'
        return [*script, encode(broken), *(encode(piece) for piece in rest if piece), *end()]
    # oversized: one data line longer than the client's cap, sent in 1 MiB pieces.
    size = int(step.get("line_bytes", DEFAULT_LINE_CAP + 1024))
    block = b"x" * (1024 * 1024)
    script.append(encode(b"data: "))
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        script.append(encode(piece))
        sent += len(piece)
    return [*script, *end()]


def _has_cut(step: Mapping[str, Any]) -> bool:
    keys = (
        "after_frames",
        "mid_frame",
        "after_bytes",
        "after_text",
        "inside_text",
        "in",
        "after_paragraph",
    )
    return any(key in step for key in keys)


def _next_sequence(frames: Sequence[Frame], offset: int) -> int:
    numbers = [f.sequence_number for f in frames_sent(frames, offset)]
    known = [n for n in numbers if n is not None]
    return known[-1] + 1 if known else 0
