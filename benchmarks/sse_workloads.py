"""Workloads of ``bench_sse.py``: synthetic OpenAI and Anthropic streams and ways to cut them.

Every generator is seeded, so a workload is the same bytes in every process (the
callgrind mode of ``bench_sse.py`` relies on it: a child rebuilds the workload).
"""

from __future__ import annotations

import json
import random

# Text of the kind a chat model streams, with non-ASCII on purpose: accented
# Latin, CJK, emoji (4-byte UTF-8) and a ZWJ sequence.
_WORDS = (
    "the",
    "stream",
    "model",
    "token",
    "answer",
    "because",
    "résumé",
    "café",
    "naïve",
    "日本語",
    "の",
    "テキスト",
    "中文",
    "🙂",
    "🚀",
    "👩\u200d💻",
    "Ünïcödé",
    "—",
    "«ok»",
    "\n",
    "\n\n",
    "Σ",
    "∀x",
    "data",
    "value",
    ":",
    '"quoted"',
    "back\\slash",
)


def chat_stream(target_bytes: int, *, seed: int = 7) -> tuple[bytes, int]:
    """Return (body, event count): OpenAI ``chat.completion.chunk`` events of about target_bytes."""
    rng = random.Random(seed)
    created = 1_735_000_000
    parts: list[bytes] = []
    size = 0
    events = 0
    while size < target_bytes:
        completion = f"chatcmpl-{rng.getrandbits(96):024x}"
        head = {
            "id": completion,
            "object": "chat.completion.chunk",
            "created": created,
            "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_f33667828e",
        }
        first = dict(
            head,
            choices=[
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": ""},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        )
        chunk_events = [first]
        for _ in range(rng.randint(50, 400)):
            content = "".join(
                (" " if rng.random() < 0.7 else "") + rng.choice(_WORDS)
                for _ in range(rng.randint(1, 3))
            )
            chunk_events.append(
                dict(
                    head,
                    choices=[
                        {
                            "index": 0,
                            "delta": {"content": content},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    ],
                )
            )
        chunk_events.append(
            dict(
                head, choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]
            )
        )
        for payload in chunk_events:
            line = (
                b"data: "
                + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
                + b"\n\n"
            )
            parts.append(line)
            size += len(line)
        parts.append(b"data: [DONE]\n\n")
        size += 14
        events += len(chunk_events) + 1
        created += 1
    return b"".join(parts), events


def anthropic_stream(target_bytes: int, *, seed: int = 9) -> tuple[bytes, int]:
    """Return (body, event count): Anthropic Messages events (``event:`` + ``data:``)."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    size = 0
    events = 0

    def add(kind: str, payload: dict[str, object]) -> None:
        nonlocal size, events
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        line = f"event: {kind}\ndata: {data}\n\n".encode()
        parts.append(line)
        size += len(line)
        events += 1

    while size < target_bytes:
        message_id = f"msg_{rng.getrandbits(96):024x}"
        add(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 25, "output_tokens": 1},
                },
            },
        )
        add(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        add("ping", {"type": "ping"})
        deltas = rng.randint(50, 400)
        for _ in range(deltas):
            text = "".join(
                (" " if rng.random() < 0.7 else "") + rng.choice(_WORDS)
                for _ in range(rng.randint(1, 3))
            )
            add(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": text},
                },
            )
        add("content_block_stop", {"type": "content_block_stop", "index": 0})
        add(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": deltas},
            },
        )
        add("message_stop", {"type": "message_stop"})
    return b"".join(parts), events


def event_chunks(body: bytes) -> list[bytes]:
    """Cut body after every blank line: one event per chunk (LF streams only)."""
    pieces = body.split(b"\n\n")
    last = pieces.pop()
    chunks = [piece + b"\n\n" for piece in pieces]
    if last:
        chunks.append(last)
    return chunks


def big_stream(line_bytes: int) -> tuple[bytes, int]:
    """Return (body, 2): one single-line event of line_bytes, then one small event."""
    unit = '{"k":"vålue 日本 🙂"},'.encode()
    payload = (unit * (line_bytes // len(unit) + 1))[:line_bytes]
    payload = payload.decode("utf-8", "ignore").encode()  # no character cut at the end
    return b"data: " + payload + b"\n\n" + b"data: small\n\n", 2


def fixed_chunks(body: bytes, size: int) -> list[bytes]:
    """Cut body into pieces of size bytes (the last one shorter)."""
    return [body[i : i + size] for i in range(0, len(body), size)]


def crlf_split_chunks(body: bytes, approx: int) -> list[bytes]:
    """Cut body about every approx bytes, each cut moved to fall inside a CRLF pair."""
    chunks = []
    start = 0
    while start < len(body):
        cut = body.find(b"\r\n", start + approx)
        if cut < 0:
            chunks.append(body[start:])
            break
        chunks.append(body[start : cut + 1])  # ends with the CR; the LF starts the next
        start = cut + 1
    return chunks
