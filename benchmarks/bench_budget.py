"""The retry budget in a world of many streams: a mass disconnect, and a 429 storm.

Run:  python benchmarks/bench_budget.py                  (500 streams, 100 cut; 500 in the storm)
      python benchmarks/bench_budget.py --streams 100 --cut 20 --storm-streams 100

Real ``AsyncClient`` streams (asyncio, h11, default ``RetryPolicy``, no
storage) against a fake OpenAI server on loopback (asyncio, in a thread of
this process). Two scenarios, each played with three budgets side by side:

* **mass disconnect**: every stream is delivering its answer; once all of them
  have delivered their first words, the server aborts ``--cut`` of them at
  once (a proxy restart). A continuation request gets the rest of the answer
  after the partial text it carries. Reported: streams that completed with
  text exactly equal to the reference, and requests the server saw.
* **429 storm**: every request is answered 429 (no ``Retry-After``).
  Reported: requests per stream (the target is at most 1.2).

Budgets: ``RetryBudget()`` (this version's default: 20% of answered traffic
over 10 s plus 1 retry/s), ``budget=None``, and the fixed token bucket of
version 0.1 (gRFC A6: 10 tokens, a failure takes one, a success returns 0.1,
retries stop at half), re-implemented here on the new budget interface so
that the same client runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

import streamrecover as sr
from streamrecover.transport import AsyncTransport

WORDS = [f"word{i:02d} " for i in range(30)]
REFERENCE = "".join(WORDS)
CUT_AFTER_WORDS = 5


@dataclass
class ServerState:
    mode: str
    streams: int
    cut: int
    requests: int = 0
    originals: int = 0
    started: int = 0
    all_started: asyncio.Event | None = None


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _frame(content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    payload = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return _chunk(f"data: {json.dumps(payload)}\n\n".encode())


async def _read_request(reader: asyncio.StreamReader) -> dict[str, Any]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return json.loads(body) if body else {}


def _partial(body: dict[str, Any]) -> str:
    for message in body.get("messages", []):
        if message.get("role") == "assistant":
            return str(message.get("content", ""))
    return ""


async def _answer(
    state: ServerState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        body = await _read_request(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    state.requests += 1
    if state.mode == "storm":
        error = json.dumps({"error": {"message": "Rate limit", "type": "rate_limit_error"}})
        writer.write(
            b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(error), error.encode())
        )
        await writer.drain()
        writer.close()
        return
    partial = _partial(body)
    index = state.originals if not partial else -1
    if not partial:
        state.originals += 1
    rest = REFERENCE[len(partial.rstrip()) :] if REFERENCE.startswith(partial.rstrip()) else ""
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    words = [rest] if partial else WORDS
    try:
        for number, word in enumerate(words, 1):
            writer.write(_frame(word))
            await writer.drain()
            if not partial and number == CUT_AFTER_WORDS:
                state.started += 1
                assert state.all_started is not None
                if state.started == state.streams:
                    state.all_started.set()
                await state.all_started.wait()
                if index % (state.streams // state.cut) == 0:
                    writer.transport.abort()  # the cut: no terminal chunk, no [DONE]
                    return
            await asyncio.sleep(0.002)
        writer.write(_frame(None, "stop") + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()
    except ConnectionError:
        pass
    writer.close()


class FakeOpenAI:
    """An asyncio HTTP/1.1 server in a thread: one request per connection."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.state.all_started = asyncio.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await _answer(self.state, reader, writer)

        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


class TokenBucket0_1(sr.RetryBudget):
    """Version 0.1's budget (gRFC A6 retry throttling) on the new interface."""

    def __init__(self) -> None:
        super().__init__()
        self._tokens = 10.0
        self._guard = threading.Lock()

    def deposit(self, now: float) -> None:
        # 0.1 returned a token share per completed stream; an answered stream is
        # the closest event the new interface reports.
        with self._guard:
            self._tokens = min(10.0, self._tokens + 0.1)

    def try_withdraw(self, now: float) -> bool:
        with self._guard:
            self._tokens = max(0.0, self._tokens - 1)
            return self._tokens > 5.0


@dataclass
class Result:
    exact: int
    failed: int
    requests: int
    seconds: float


async def _run(state: ServerState, budget: sr.RetryBudget | None, streams: int) -> Result:
    exact = failed = 0
    with FakeOpenAI(state) as server:
        client = sr.AsyncClient(
            "openai",
            api_key="bench-key",
            base_url=f"http://127.0.0.1:{server.port}/v1",
            storage=None,
            budget=budget,
            transport=AsyncTransport(proxy=None),
        )

        async def one() -> None:
            nonlocal exact, failed
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say it."}]}
            try:
                async with client.stream(**body) as stream:
                    text = await stream.until_done()
                exact += text == REFERENCE
            except sr.StreamInterrupted:
                failed += 1

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(streams):
                group.start_soon(one)
        seconds = time.perf_counter() - started
        await client.aclose()
    return Result(exact=exact, failed=failed, requests=state.requests, seconds=seconds)


BUDGETS: dict[str, Callable[[], sr.RetryBudget | None]] = {
    "RetryBudget() (default)": sr.RetryBudget,
    "budget=None": lambda: None,
    "0.1 token bucket (gRFC A6)": TokenBucket0_1,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--cut", type=int, default=100)
    parser.add_argument("--storm-streams", type=int, default=500)
    args = parser.parse_args()
    if args.streams % args.cut:
        parser.error("--streams must be a multiple of --cut")

    print(f"mass disconnect: {args.streams} concurrent streams, {args.cut} cut at once")
    print(f"{'budget':30} {'exact':>7} {'gave up':>8} {'requests':>9} {'seconds':>8}")
    for name, factory in BUDGETS.items():
        state = ServerState(mode="cut", streams=args.streams, cut=args.cut)
        result = anyio.run(_run, state, factory(), args.streams)
        print(
            f"{name:30} {result.exact:>4}/{args.streams:<3}{result.failed:>7} "
            f"{result.requests:>9} {result.seconds:>8.2f}"
        )
    print()
    print(f"429 storm: {args.storm_streams} concurrent streams, every request answered 429")
    print(f"{'budget':30} {'requests':>9} {'per stream':>11} {'seconds':>8}")
    for name, factory in BUDGETS.items():
        state = ServerState(mode="storm", streams=args.storm_streams, cut=1)
        result = anyio.run(_run, state, factory(), args.storm_streams)
        ratio = result.requests / args.storm_streams
        print(f"{name:30} {result.requests:>9} {ratio:>11.3f} {result.seconds:>8.2f}")


if __name__ == "__main__":
    main()
