"""Through RecoveringTransport, the text lane changes no byte the SDK receives.

Every recorded OpenAI Chat / Anthropic stream, served one upstream read per SSE
event (as the APIs flush), is read through the transport twice: with the
session's text lane (``RecoverySession.receive_text_frame``) and with it turned
off (every read through the SSE decoder and the parser's general path). The
bytes handed to httpx2, chunk by chunk, and the stream's text are the same; so
they are when the first attempt breaks half-way and the answer is resumed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

httpx2 = pytest.importorskip("httpx2")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "realstreams"))
from realstreams_location import realstreams_folder  # noqa: E402

import streamrecover as sr  # noqa: E402
from streamrecover.core.intake import BodyIntake  # noqa: E402
from streamrecover.integrations.httpx2 import RecoveringTransport  # noqa: E402
from streamrecover.providers.anthropic import AnthropicParser  # noqa: E402
from streamrecover.providers.openai_chat import OpenAIChatParser  # noqa: E402

FOLDER = realstreams_folder()
EXPECTED_FILE = FOLDER / "expected.json"
EXPECTED: dict[str, Any] = (
    json.loads(EXPECTED_FILE.read_text(encoding="utf-8")) if EXPECTED_FILE.is_file() else {}
)
NAMES = sorted(n for n, e in EXPECTED.items() if e["provider"] in ("openai", "anthropic"))
URLS = {"openai": "http://sdk.test/v1/chat/completions", "anthropic": "http://sdk.test/v1/messages"}
BODY = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
RETRY = sr.RetryPolicy(max_retries=2, max_resumes=2, backoff_base=0.0001, backoff_cap=0.0002)


def per_event(raw: bytes) -> list[bytes]:
    pieces = re.split(rb"(?<=\r\n\r\n)|(?<=\n\n)|(?<=\r\r)(?!\n)", raw)
    return [piece for piece in pieces if piece]


class _Reads(httpx2.SyncByteStream):
    def __init__(self, reads: list[bytes]) -> None:
        self._reads = reads

    def __iter__(self) -> Iterator[bytes]:
        yield from self._reads


def received(provider: str, attempts: list[list[bytes]]) -> tuple[list[bytes], str]:
    """The chunks httpx2 gets from the transport, and what reading them raised (if anything)."""
    served = iter(attempts)

    def handler(request: Any) -> Any:
        reads = next(served, attempts[-1])
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Reads(reads)
        )

    # No storage: the response id is the same every time (not a recovery id).
    transport = RecoveringTransport(
        provider, inner=httpx2.MockTransport(handler), retry=RETRY, storage=None
    )
    chunks: list[bytes] = []
    outcome = "complete"
    with httpx2.Client(transport=transport) as client:
        try:
            with client.stream("POST", URLS[provider], json={**BODY, "stream": True}) as response:
                chunks.extend(response.iter_raw())
        except httpx2.HTTPError as error:
            outcome = f"{type(error).__name__}: {error}"
    # The re-encoded Chat chunks carry the second the stream was created.
    return [_CREATED.sub(b'"created":0', chunk) for chunk in chunks], outcome


_CREATED = re.compile(rb'"created":\d+')


def both_ways(provider: str, attempts: list[list[bytes]], monkeypatch: Any) -> tuple[Any, int]:
    taken = 0
    lane = BodyIntake.receive_text_frame

    def counting(self: BodyIntake, data: bytes) -> Any:
        nonlocal taken
        events = lane(self, data)
        taken += events is not None
        return events

    with monkeypatch.context() as patched:
        patched.setattr(BodyIntake, "receive_text_frame", counting)
        fast = received(provider, attempts)
    with monkeypatch.context() as patched:
        patched.setattr(BodyIntake, "receive_text_frame", lambda self, data: None)
        for parser in (AnthropicParser, OpenAIChatParser):
            patched.setattr(parser, "lane_feed", lambda self, event: None)
        full = received(provider, attempts)
    assert fast == full
    return fast, taken


@pytest.mark.skipif(not NAMES, reason=f"no recorded streams at {FOLDER}")
@pytest.mark.parametrize("name", NAMES)
def test_the_sdk_receives_the_same_bytes_with_and_without_the_lane(
    name: str, monkeypatch: Any
) -> None:
    provider = EXPECTED[name]["provider"]
    reads = per_event((FOLDER / name).read_bytes())
    both_ways(provider, [reads], monkeypatch)
    # The first attempt breaks half-way (no terminal event); the resume stitches.
    both_ways(provider, [reads[: len(reads) // 2], reads], monkeypatch)
    # The whole body in one read, and in reads of 61 bytes (runs of events).
    raw = b"".join(reads)
    both_ways(provider, [[raw]], monkeypatch)
    both_ways(provider, [[raw[i : i + 61] for i in range(0, len(raw), 61)]], monkeypatch)


@pytest.mark.skipif(not NAMES, reason=f"no recorded streams at {FOLDER}")
def test_the_lane_is_taken_through_the_transport(monkeypatch: Any) -> None:
    # Anthropic's tap lets text frames skip it; OpenAI Chat's looks at every chunk.
    taken = {}
    for provider in ("anthropic", "openai"):
        taken[provider] = sum(
            both_ways(provider, [per_event((FOLDER / n).read_bytes())], monkeypatch)[1]
            for n in NAMES
            if EXPECTED[n]["provider"] == provider
        )
    assert taken["anthropic"] > 100
    assert taken["openai"] == 0
