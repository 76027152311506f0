"""How RecoveringTransport cuts its body into chunks: one per body read, never held past it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

httpx2 = pytest.importorskip("httpx2")

from streamrecover.integrations.httpx2 import RecoveringTransport  # noqa: E402

URL = "https://api.anthropic.test/v1/messages"
BODY = {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [], "stream": True}


def _frame(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


def _reads(words: int) -> list[bytes]:
    """An Anthropic stream in three body reads: the head, the words, the end."""
    message = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }  # fmt: skip
    head = _frame("message_start", {"message": message}) + _frame(
        "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
    )
    delta = {"type": "text_delta", "text": "word "}
    middle = b"".join(
        _frame("content_block_delta", {"index": 0, "delta": delta}) for _ in range(words)
    )
    end = (
        _frame("content_block_stop", {"index": 0})
        + _frame("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {}})
        + _frame("message_stop", {})
    )
    return [head, middle, end]


class _Reads(httpx2.SyncByteStream):
    def __init__(self, reads: list[bytes], log: list[str]) -> None:
        self._reads = reads
        self._log = log

    def __iter__(self) -> Iterator[bytes]:
        for number, data in enumerate(self._reads):
            self._log.append(f"read {number}")
            yield data


def _chunks(reads: list[bytes]) -> tuple[list[bytes], list[str]]:
    log: list[str] = []

    def handler(request: Any) -> Any:
        headers = {"content-type": "text/event-stream"}
        return httpx2.Response(200, headers=headers, stream=_Reads(reads, log))

    transport = RecoveringTransport("anthropic", inner=httpx2.MockTransport(handler))
    chunks: list[bytes] = []
    with (
        httpx2.Client(transport=transport) as client,
        client.stream("POST", URL, json=BODY) as response,
    ):
        for chunk in response.iter_raw():
            log.append(f"chunk {len(chunks)}")
            chunks.append(chunk)
    return chunks, log


def test_the_events_of_one_read_go_out_as_one_chunk() -> None:
    chunks, _ = _chunks(_reads(200))
    body = b"".join(chunks)
    assert _text(body) == "word " * 200
    # Head, words, end: one chunk per upstream read, not one per event.
    assert len(chunks) <= 4


def _text(body: bytes) -> str:
    frames = [json.loads(line[6:]) for line in body.split(b"\n") if line.startswith(b"data: ")]
    return "".join(f["delta"]["text"] for f in frames if f["type"] == "content_block_delta")


def _same_id(body: bytes) -> bytes:
    return re.sub(rb'"id":"msg_[^"]*"', b'"id":"msg"', body)


def test_a_chunk_goes_out_before_the_next_read() -> None:
    chunks, log = _chunks(_reads(5))
    # The words of read 1 reach the reader before read 2 is asked for (read 0,
    # the head alone, waits with them: the response starts with the first content).
    before = [chunks[int(e.split()[1])] for e in log[: log.index("read 2")] if "chunk" in e]
    assert _text(b"".join(before)) == "word " * 4 + "word"


def test_the_body_is_the_same_as_one_chunk_per_event() -> None:
    # One read holding everything, against three reads: the same bytes.
    reads = _reads(50)
    split, _ = _chunks(reads)
    whole, _ = _chunks([b"".join(reads)])
    assert _same_id(b"".join(split)) == _same_id(b"".join(whole))
    assert len(whole) < len(split)
