"""The sync transport's one-generator body (SDKStream) hands httpx2 the same chunks as
the async transport's Stream + chunking: every recorded OpenAI Chat / Anthropic
stream, one read per event, in one read, in reads of 61 bytes, with the first
attempt cut half-way (a resume), and with a first attempt that fails before content.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

httpx2 = pytest.importorskip("httpx2")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "realstreams"))
from realstreams_location import realstreams_folder  # noqa: E402

import streamrecover as sr  # noqa: E402
from streamrecover.integrations.httpx2 import (  # noqa: E402
    AsyncRecoveringTransport,
    RecoveringTransport,
)

FOLDER = realstreams_folder()
EXPECTED_FILE = FOLDER / "expected.json"
EXPECTED: dict[str, Any] = (
    json.loads(EXPECTED_FILE.read_text(encoding="utf-8")) if EXPECTED_FILE.is_file() else {}
)
NAMES = sorted(n for n, e in EXPECTED.items() if e["provider"] in ("openai", "anthropic"))
URLS = {"openai": "http://sdk.test/v1/chat/completions", "anthropic": "http://sdk.test/v1/messages"}
BODY = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
RETRY = sr.RetryPolicy(max_retries=2, max_resumes=2, backoff_base=0.0001, backoff_cap=0.0002)
_CREATED = re.compile(rb'"created":\d+')


def per_event(raw: bytes) -> list[bytes]:
    pieces = re.split(rb"(?<=\r\n\r\n)|(?<=\n\n)|(?<=\r\r)(?!\n)", raw)
    return [piece for piece in pieces if piece]


class _Reads(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    def __init__(self, reads: list[bytes]) -> None:
        self._reads = reads

    def __iter__(self) -> Iterator[bytes]:
        yield from self._reads

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for data in self._reads:
            yield data


def _handler(attempts: list[Any]) -> Any:
    served = iter(attempts)

    def handler(request: Any) -> Any:
        reads = next(served, attempts[-1])
        if isinstance(reads, int):
            return httpx2.Response(reads, json={"error": {"type": "overloaded_error"}})
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Reads(reads)
        )

    return handler


def _clean(chunks: list[bytes]) -> list[bytes]:
    return [_CREATED.sub(b'"created":0', chunk) for chunk in chunks]


def sync_chunks(provider: str, attempts: list[Any]) -> tuple[int, list[bytes], str]:
    transport = RecoveringTransport(
        provider, inner=httpx2.MockTransport(_handler(attempts)), retry=RETRY, storage=None
    )
    chunks: list[bytes] = []
    outcome = "complete"
    status = 0
    with httpx2.Client(transport=transport) as client:
        try:
            with client.stream("POST", URLS[provider], json={**BODY, "stream": True}) as response:
                status = response.status_code
                if status != 200:
                    chunks.append(response.read())
                else:
                    chunks.extend(response.iter_raw())
        except httpx2.HTTPError as error:
            outcome = f"{type(error).__name__}: {error}"
    return status, _clean(chunks), outcome


def async_chunks(provider: str, attempts: list[Any]) -> tuple[int, list[bytes], str]:
    async def main() -> tuple[int, list[bytes], str]:
        transport = AsyncRecoveringTransport(
            provider, inner=httpx2.MockTransport(_handler(attempts)), retry=RETRY, storage=None
        )
        chunks: list[bytes] = []
        outcome = "complete"
        status = 0
        async with httpx2.AsyncClient(transport=transport) as client:
            try:
                async with client.stream(
                    "POST", URLS[provider], json={**BODY, "stream": True}
                ) as response:
                    status = response.status_code
                    if status != 200:
                        chunks.append(await response.aread())
                    else:
                        chunks.extend([chunk async for chunk in response.aiter_raw()])
            except httpx2.HTTPError as error:
                outcome = f"{type(error).__name__}: {error}"
        return status, _clean(chunks), outcome

    return asyncio.run(main())


def same_both_ways(provider: str, attempts: list[Any]) -> list[bytes]:
    synced = sync_chunks(provider, attempts)
    assert synced == async_chunks(provider, attempts)
    return synced[1]


@pytest.mark.skipif(not NAMES, reason=f"no recorded streams at {FOLDER}")
@pytest.mark.parametrize("name", NAMES)
def test_the_sync_body_gives_the_chunks_of_the_async_one(name: str) -> None:
    provider = EXPECTED[name]["provider"]
    reads = per_event((FOLDER / name).read_bytes())
    raw = b"".join(reads)
    assert b"".join(same_both_ways(provider, [reads]))
    same_both_ways(provider, [reads[: len(reads) // 2], reads])
    same_both_ways(provider, [[raw]])
    same_both_ways(provider, [[raw[i : i + 61] for i in range(0, len(raw), 61)]])
    # Before any content: a status the policy retries, and a first attempt without content.
    same_both_ways(provider, [529, reads])
    same_both_ways(provider, [reads[:1], [raw]])


@pytest.mark.skipif(not NAMES, reason=f"no recorded streams at {FOLDER}")
def test_a_final_error_before_content_is_the_upstreams_response() -> None:
    name = next(n for n in NAMES if EXPECTED[n]["provider"] == "anthropic")
    reads = per_event((FOLDER / name).read_bytes())
    status, chunks, _ = sync_chunks("anthropic", [400, reads])
    assert status == 400
    assert (status, chunks) == async_chunks("anthropic", [400, reads])[:2]
