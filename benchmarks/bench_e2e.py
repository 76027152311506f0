"""End to end: one long OpenAI chat stream over loopback, streamrecover side by side with peers.

Run:  python benchmarks/bench_e2e.py             (40,000 events, 3 rounds)
      python benchmarks/bench_e2e.py --quick     (small stream, a smoke test)
      python benchmarks/bench_e2e.py --only sr-sync-off,sr-sync-memory --rounds 5

The fake server (``_server.py``) runs in its own process and answers with bytes
rendered once, so the client's CPU time is the client's alone. Every contender
runs in a fresh Python process per round (rounds interleave the contenders, so
a burst of load from elsewhere hits them alike); in that process the client is
built and warmed up with a short stream, then the long stream is read
``--inner`` times. Each contender reads every event and keeps the answer text,
so the work is the same:

* ``raw-socket``: ``recv`` until EOF, no parsing: the ceiling the server allows.
* ``sr-sync-*``: ``streamrecover.Client("openai", base_url=...)`` reading
  ``stream.text_stream``. ``off`` is recovery turned off: ``storage=None`` and
  ``RetryPolicy(max_retries=0, max_resumes=0)``; ``memory`` is the default
  client (``memory://`` storage, default policy); ``sqlite`` and ``disk`` use
  those backends in a temporary directory; all use the default checkpoint
  interval (0.25 s).
* ``sr-asyncio-*`` / ``sr-trio-*``: ``streamrecover.AsyncClient`` under asyncio
  and trio, with the same variants (``nostore`` is ``storage=None`` with the
  default policy: storage off, retries on).
* ``openai-sync`` / ``openai-async``: the official SDK,
  ``client.chat.completions.create(stream=True)``, reading
  ``chunk.choices[0].delta.content``.
* ``openai-sdk-sr-*``: the official SDK with ``RecoveringTransport`` underneath
  (``storage=None``), the one-line change.
* ``anthropic-sdk`` / ``anthropic-sdk-sr`` (and ``-async``): the official
  Anthropic SDK, ``messages.create(stream=True)``, reading the same answer
  rendered as an Anthropic stream and served from memory by an httpx2
  ``MockTransport`` (the bench server speaks OpenAI chat only); ``-sr`` puts
  ``RecoveringTransport`` in front of that same transport, so the difference is
  the transport's own cost (no socket work on either side: a stricter ratio
  than over loopback).
* ``httpx-sse-sync`` / ``httpx-sse-async``: ``httpx`` with ``httpx_sse.connect_sse``,
  ``json.loads`` of every event's data, reading the same content field.

Figures: events/s is the number of SSE events in the stream over the wall
time of reading it (best run, and the range of all runs); CPU µs/event is
``time.process_time`` (user + system of the client process) per event;
memory is measured in a separate run per contender, because tracing slows a
client down: "traced peak" is the ``tracemalloc`` peak of Python allocations
made while reading the stream (the answer text and the list of its pieces,
held by every contender, included); "RSS MB" is the whole process's peak
resident size (``VmHWM``: interpreter, imports, client and stream), the
smallest over the rounds. Every contender's text is checked
against the reference; a mismatch fails the run. Import times are measured in
fresh processes (see ``import_times``).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from _server import WARMUP_EVENTS, WARMUP_MODEL, BenchServer, chat_answer
from bench_import import import_times

HERE = Path(__file__).resolve().parent
MODEL = "gpt-4o"
MESSAGES: Any = [{"role": "user", "content": "Write a long answer, please."}]
API_KEY = "sk-bench-dummy"

SyncRun = Callable[[str], str]
AsyncRun = Callable[[str], Awaitable[str]]

# --- contenders: each builds its client and returns a function model -> text -----


def make_raw(url: str) -> SyncRun:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    address = (host, int(port))

    def run(model: str) -> str:
        body = json.dumps({"model": model, "stream": True}).encode()
        request = (
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (host.encode(), len(body), body)
        )
        with socket.create_connection(address) as sock:
            sock.sendall(request)
            while sock.recv(65536):
                pass
        return ""

    return run


def make_floor(url: str) -> SyncRun:
    """The minimum work per event, written by hand: the floor the client is held to.

    Socket ``recv``, de-chunking of the HTTP/1.1 body, splitting SSE events at
    blank lines, ``json.loads`` of each ``data:`` payload and picking the
    content: nothing for retries, storage, CRLF, comments or multi-line data.
    """
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    address = (host, int(port))
    loads = json.loads

    def run(model: str) -> str:
        body = json.dumps({"model": model, "stream": True}).encode()
        request = (
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (host.encode(), len(body), body)
        )
        parts: list[str] = []
        with socket.create_connection(address) as sock:
            sock.sendall(request)
            raw = b""
            while b"\r\n\r\n" not in raw:
                raw += sock.recv(65536)
            head, _, raw = raw.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("floor: not a 200")
            sse = b""
            done = False
            while not done:
                # De-chunk every complete chunk in the buffer.
                position = 0
                found = []
                while True:
                    end = raw.find(b"\r\n", position)
                    if end < 0:
                        break
                    size = int(raw[position:end], 16)
                    if size == 0:
                        done = True
                        break
                    stop = end + 2 + size
                    if stop + 2 > len(raw):
                        break
                    found.append(raw[end + 2 : stop])
                    position = stop + 2
                raw = raw[position:]
                if found:
                    events = (sse + b"".join(found)).split(b"\n\n")
                    sse = events.pop()
                    for event in events:
                        if event[:6] != b"data: " or event == b"data: [DONE]":
                            continue
                        choices = loads(event[6:])["choices"]
                        if choices:
                            content = choices[0]["delta"].get("content")
                            if content:
                                parts.append(content)
                if done:
                    break
                piece = sock.recv(65536)
                if not piece:
                    raise RuntimeError("floor: the body ended early")
                raw += piece
        return "".join(parts)

    return run


def _scratch() -> str:
    # A directory for sqlite / disk storage, removed when the process exits.
    directory = tempfile.mkdtemp(prefix="sr-bench-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def _sr_options(variant: str, tmp: str) -> dict[str, Any]:
    from streamrecover import RetryPolicy

    if variant == "off":
        return {"storage": None, "retry": RetryPolicy(max_retries=0, max_resumes=0)}
    if variant == "nostore":
        return {"storage": None}
    if variant == "memory":
        return {"storage": "memory://"}
    if variant == "sqlite":
        return {"storage": f"sqlite:///{tmp}/streams.db"}
    if variant == "disk":
        return {"storage": f"disk:///{tmp}/streams"}
    if variant == "redis":  # a server bench_storage.py started (benchmarks/_redis.py)
        url = os.environ.get("STREAMRECOVER_BENCH_REDIS")
        if not url:
            raise ValueError("the redis variant needs STREAMRECOVER_BENCH_REDIS (a redis:// URL)")
        return {"storage": f"{url}?prefix=bench{os.getpid()}:"}
    raise ValueError(variant)


def make_sr_sync(url: str, variant: str) -> SyncRun:
    from streamrecover import Client

    tmp = _scratch()
    client = Client("openai", base_url=url, api_key=API_KEY, **_sr_options(variant, tmp))

    def run(model: str) -> str:
        with client.stream(model=model, messages=MESSAGES) as stream:
            parts = list(stream.text_stream)
        if not stream.completed:
            raise RuntimeError("streamrecover: the stream did not complete")
        return "".join(parts)

    return run


def make_sr_async(url: str, variant: str) -> AsyncRun:
    from streamrecover import AsyncClient

    tmp = _scratch()
    client = AsyncClient("openai", base_url=url, api_key=API_KEY, **_sr_options(variant, tmp))

    async def run(model: str) -> str:
        async with client.stream(model=model, messages=MESSAGES) as stream:
            parts = [text async for text in stream.text_stream]
        if not stream.completed:
            raise RuntimeError("streamrecover: the stream did not complete")
        return "".join(parts)

    return run


def make_openai_sync(url: str, recovering: bool = False) -> SyncRun:
    import openai

    if recovering:
        # The official SDK with one line changed: streamrecover's transport underneath.
        import httpx2

        from streamrecover.integrations.httpx2 import RecoveringTransport

        transport = RecoveringTransport("openai", storage=None)
        client = openai.OpenAI(
            base_url=url, api_key=API_KEY, max_retries=0,
            http_client=httpx2.Client(transport=transport),
        )
    else:
        client = openai.OpenAI(base_url=url, api_key=API_KEY)

    def run(model: str) -> str:
        parts = []
        stream = client.chat.completions.create(
            model=model,
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        with stream:
            for chunk in stream:
                if chunk.choices:
                    content = chunk.choices[0].delta.content
                    if content:
                        parts.append(content)
        return "".join(parts)

    return run


def make_openai_async(url: str, recovering: bool = False) -> AsyncRun:
    import openai

    if recovering:
        import httpx2

        from streamrecover.integrations.httpx2 import AsyncRecoveringTransport

        transport = AsyncRecoveringTransport("openai", storage=None)
        client = openai.AsyncOpenAI(
            base_url=url, api_key=API_KEY, max_retries=0,
            http_client=httpx2.AsyncClient(transport=transport),
        )
    else:
        client = openai.AsyncOpenAI(base_url=url, api_key=API_KEY)

    async def run(model: str) -> str:
        parts = []
        stream = await client.chat.completions.create(
            model=model,
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices:
                    content = chunk.choices[0].delta.content
                    if content:
                        parts.append(content)
        return "".join(parts)

    return run


def _anthropic_bytes(url: str, model: str) -> bytes:
    """The server's answer for ``model``, rendered as the Anthropic Messages stream.

    Fetched once, before timing, from the bench server (which speaks OpenAI chat),
    so that the text is the reference's; then served from memory.
    """
    import urllib.request

    body = json.dumps({"model": model, "messages": MESSAGES, "stream": True}).encode()
    request = urllib.request.Request(
        f"{url}/chat/completions", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        raw = response.read().decode()
    pieces: list[str] = []
    for line in raw.split("\n"):
        if line.startswith("data: {"):
            _content(line[6:], pieces)

    def frame(kind: str, data: dict[str, Any]) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    message = {
        "id": "msg_bench", "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 1},
    }
    out = [frame("message_start", {"message": message})]
    block = {"index": 0, "content_block": {"type": "text", "text": ""}}
    out.append(frame("content_block_start", block))
    for piece in pieces:
        delta = {"index": 0, "delta": {"type": "text_delta", "text": piece}}
        out.append(frame("content_block_delta", delta))
    out.append(frame("content_block_stop", {"index": 0}))
    usage = {"output_tokens": len(pieces)}
    out.append(frame("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": usage}))
    out.append(frame("message_stop", {}))
    return "".join(out).encode()


def _anthropic_upstream(url: str) -> Callable[[Any], Any]:
    """An httpx2 MockTransport handler serving the Anthropic rendering of each answer."""
    import httpx2

    answers = {m: _anthropic_bytes(url, m) for m in (MODEL, WARMUP_MODEL)}

    def handler(request: Any) -> Any:
        model = json.loads(request.content).get("model")
        headers = {"content-type": "text/event-stream"}
        return httpx2.Response(200, headers=headers, content=answers[model])

    return handler


def make_anthropic_sync(url: str, recovering: bool = False) -> SyncRun:
    # The official Anthropic SDK reading an Anthropic stream held in memory (an
    # httpx2 MockTransport: the bench server speaks OpenAI chat only). With
    # ``recovering``, RecoveringTransport sits between the SDK and that same
    # transport: the difference is the transport's cost alone, without the
    # socket work both would share over loopback.
    import anthropic
    import httpx2

    upstream: Any = httpx2.MockTransport(_anthropic_upstream(url))
    if recovering:
        from streamrecover.integrations.httpx2 import RecoveringTransport

        upstream = RecoveringTransport("anthropic", inner=upstream, storage=None)
    client = anthropic.Anthropic(
        base_url=url.removesuffix("/v1"), api_key=API_KEY, max_retries=0,
        http_client=httpx2.Client(transport=upstream),
    )

    def run(model: str) -> str:
        parts = []
        stream = client.messages.create(
            model=model, max_tokens=100_000, messages=MESSAGES, stream=True
        )
        with stream:
            for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    parts.append(event.delta.text)
        return "".join(parts)

    return run


def make_anthropic_async(url: str, recovering: bool = False) -> AsyncRun:
    import anthropic
    import httpx2

    handler = _anthropic_upstream(url)

    async def serve(request: Any) -> Any:
        return handler(request)

    upstream: Any = httpx2.MockTransport(serve)
    if recovering:
        from streamrecover.integrations.httpx2 import AsyncRecoveringTransport

        upstream = AsyncRecoveringTransport("anthropic", inner=upstream, storage=None)
    client = anthropic.AsyncAnthropic(
        base_url=url.removesuffix("/v1"), api_key=API_KEY, max_retries=0,
        http_client=httpx2.AsyncClient(transport=upstream),
    )

    async def run(model: str) -> str:
        parts = []
        stream = await client.messages.create(
            model=model, max_tokens=100_000, messages=MESSAGES, stream=True
        )
        async with stream:
            async for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    parts.append(event.delta.text)
        return "".join(parts)

    return run


def _content(data: str, parts: list[str]) -> None:
    # What an httpx-sse user writes to read an OpenAI chunk.
    choices = json.loads(data).get("choices")
    if choices:
        content = choices[0]["delta"].get("content")
        if content:
            parts.append(content)


def make_httpx_sse_sync(url: str) -> SyncRun:
    import httpx
    from httpx_sse import connect_sse

    client = httpx.Client(timeout=60)
    headers = {"authorization": f"Bearer {API_KEY}"}

    def run(model: str) -> str:
        parts: list[str] = []
        body = {
            "model": model,
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        with connect_sse(
            client, "POST", f"{url}/chat/completions", json=body, headers=headers
        ) as source:
            for sse in source.iter_sse():
                if sse.data == "[DONE]":
                    break
                _content(sse.data, parts)
        return "".join(parts)

    return run


def make_httpx_sse_async(url: str) -> AsyncRun:
    import httpx
    from httpx_sse import aconnect_sse

    client = httpx.AsyncClient(timeout=60)
    headers = {"authorization": f"Bearer {API_KEY}"}

    async def run(model: str) -> str:
        parts: list[str] = []
        body = {
            "model": model,
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        async with aconnect_sse(
            client, "POST", f"{url}/chat/completions", json=body, headers=headers
        ) as source:
            async for sse in source.aiter_sse():
                if sse.data == "[DONE]":
                    break
                _content(sse.data, parts)
        return "".join(parts)

    return run


@dataclass(frozen=True)
class Contender:
    name: str
    kind: str  # "sync", "asyncio" or "trio"
    make: Callable[[str], Any]
    checks_text: bool = True


def _sr_contenders() -> list[Contender]:
    found = []
    for variant in SR_VARIANTS:
        found.append(
            Contender(f"sr-sync-{variant}", "sync", partial(make_sr_sync, variant=variant))
        )
        for kind in ("asyncio", "trio"):
            make = partial(make_sr_async, variant=variant)
            found.append(Contender(f"sr-{kind}-{variant}", kind, make))
    return found


SR_VARIANTS = ("off", "nostore", "memory", "sqlite", "disk", "redis")
CONTENDERS: dict[str, Contender] = {
    c.name: c
    for c in (
        Contender("raw-socket", "sync", make_raw, checks_text=False),
        Contender("floor", "sync", make_floor),
        *_sr_contenders(),
        Contender("openai-sync", "sync", make_openai_sync),
        Contender("openai-async", "asyncio", make_openai_async),
        Contender("openai-sdk-sr-sync", "sync", partial(make_openai_sync, recovering=True)),
        Contender("openai-sdk-sr-async", "asyncio", partial(make_openai_async, recovering=True)),
        Contender("anthropic-sdk", "sync", make_anthropic_sync),
        Contender("anthropic-sdk-sr", "sync", partial(make_anthropic_sync, recovering=True)),
        Contender("anthropic-sdk-async", "asyncio", make_anthropic_async),
        Contender(
            "anthropic-sdk-sr-async", "asyncio", partial(make_anthropic_async, recovering=True)
        ),
        Contender("httpx-sse-sync", "sync", make_httpx_sse_sync),
        Contender("httpx-sse-async", "asyncio", make_httpx_sse_async),
    )
}
DEFAULT_E2E = (
    "raw-socket",
    "floor",
    "sr-sync-off",
    "sr-sync-memory",
    "sr-sync-sqlite",
    "sr-sync-disk",
    "sr-asyncio-off",
    "sr-asyncio-memory",
    "sr-trio-memory",
    "openai-sync",
    "openai-async",
    "httpx-sse-sync",
    "httpx-sse-async",
)

#: Compared with each other inside one process, in turn (see measure_alternating).
ALTERNATING = ("sr-sync-off", "sr-sync-memory", "sr-sync-sqlite", "sr-sync-disk")
#: Compared with the hand-written floor, in turn inside one process (see print_floor).
FLOOR_GROUP = ("floor", "sr-sync-off", "sr-sync-memory", "httpx-sse-sync")
#: (base, other) pairs whose overhead is reported.
OVERHEADS = (
    ("sr-sync-off", "sr-sync-memory"),
    ("sr-sync-off", "sr-sync-sqlite"),
    ("sr-sync-off", "sr-sync-disk"),
    ("sr-asyncio-off", "sr-asyncio-memory"),
    ("openai-sync", "openai-sdk-sr-sync"),
    ("openai-async", "openai-sdk-sr-async"),
    ("anthropic-sdk", "anthropic-sdk-sr"),
    ("anthropic-sdk-async", "anthropic-sdk-sr-async"),
)

# --- the child process: build, warm up, time ----------------------------------------


def _max_rss_kib() -> int:
    # VmHWM is this process image's peak; ru_maxrss would also count the parent's
    # memory at fork time, which Linux carries across exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _child_sync(contender: Contender, url: str, inner: int, trace: bool) -> dict[str, Any]:
    run: SyncRun = contender.make(url)
    warm = run(WARMUP_MODEL)
    result: dict[str, Any] = {"warm": _digest(warm), "runs": []}
    if trace:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        text = run(MODEL)
        result["traced_peak"] = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        result["text"] = _digest(text)
        return result
    for _ in range(inner):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        text = run(MODEL)
        result["runs"].append((time.perf_counter() - wall, time.process_time() - cpu))
        result["text"] = _digest(text)
    result["max_rss"] = _max_rss_kib() * 1024
    return result


async def _child_async(contender: Contender, url: str, inner: int, trace: bool) -> dict[str, Any]:
    run: AsyncRun = contender.make(url)
    warm = await run(WARMUP_MODEL)
    result: dict[str, Any] = {"warm": _digest(warm), "runs": []}
    if trace:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        text = await run(MODEL)
        result["traced_peak"] = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        result["text"] = _digest(text)
        return result
    for _ in range(inner):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        text = await run(MODEL)
        result["runs"].append((time.perf_counter() - wall, time.process_time() - cpu))
        result["text"] = _digest(text)
    result["max_rss"] = _max_rss_kib() * 1024
    return result


def _child_alternating(names: list[str], url: str, inner: int) -> dict[str, Any]:
    # Sync contenders in one process, in turn: off, memory, sqlite, off, memory...
    # The same interpreter, heap and moment for all, so small differences show.
    runs: dict[str, SyncRun] = {name: CONTENDERS[name].make(url) for name in names}
    result: dict[str, Any] = {name: {"runs": [], "text": ""} for name in names}
    for name, run in runs.items():
        result[name]["warm"] = _digest(run(WARMUP_MODEL))
    for _ in range(inner):
        for name, run in runs.items():
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            text = run(MODEL)
            result[name]["runs"].append((time.perf_counter() - wall, time.process_time() - cpu))
            result[name]["text"] = _digest(text)
    return result


def child_main(name: str, url: str, inner: int, trace: bool) -> None:
    if "," in name:
        print(json.dumps(_child_alternating(name.split(","), url, inner)))
        return
    contender = CONTENDERS[name]
    if contender.kind == "sync":
        result = _child_sync(contender, url, inner, trace)
    elif contender.kind == "asyncio":
        result = asyncio.run(_child_async(contender, url, inner, trace))
    else:
        import trio

        result = trio.run(_child_async, contender, url, inner, trace)
    print(json.dumps(result))


# --- the parent: rounds of fresh processes, then the table -------------------------


def measure_alternating(
    names: Sequence[str],
    *,
    url: str,
    rounds: int,
    inner: int,
    expected: str,
    warm_expected: str,
) -> dict[str, Measured]:
    """Run sync contenders in turn inside one process per round (for small differences)."""
    if any(CONTENDERS[name].kind != "sync" for name in names):
        raise ValueError("only sync contenders alternate in one process")
    results = {name: Measured(name) for name in names}
    for round_number in range(rounds):
        data = run_child(",".join(names), url, inner)
        for name in names:
            measured = results[name]
            measured.runs.extend((wall, cpu) for wall, cpu in data[name]["runs"])
            ok = data[name]["text"] == expected and data[name]["warm"] == warm_expected
            measured.text_ok = ok if measured.text_ok is None else measured.text_ok and ok
        print(f"  alternating round {round_number + 1}/{rounds} done", file=sys.stderr, flush=True)
    return results


@dataclass
class Measured:
    name: str
    runs: list[tuple[float, float]] = field(default_factory=list)
    max_rss: list[int] = field(default_factory=list)
    traced_peak: int | None = None
    text_ok: bool | None = None


def run_child(
    name: str, url: str, inner: int, *, trace: bool = False, script: Path = HERE / "bench_e2e.py"
) -> dict[str, Any]:
    command = [sys.executable, str(script), "--child", name, "--url", url, "--inner", str(inner)]
    if trace:
        command.append("--trace-memory")
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(
    names: Sequence[str],
    *,
    url: str,
    rounds: int,
    inner: int,
    expected: str,
    warm_expected: str,
    memory: bool = True,
) -> dict[str, Measured]:
    """Run every contender ``rounds`` times (interleaved), then once traced for memory."""
    results = {name: Measured(name) for name in names}
    for round_number in range(rounds):
        for name in names:
            data = run_child(name, url, inner)
            measured = results[name]
            measured.runs.extend((wall, cpu) for wall, cpu in data["runs"])
            measured.max_rss.append(data["max_rss"])
            if CONTENDERS[name].checks_text:
                ok = data["text"] == expected and data["warm"] == warm_expected
                measured.text_ok = ok if measured.text_ok is None else measured.text_ok and ok
            best = min(wall for wall, _ in data["runs"])
            print(
                f"  round {round_number + 1}/{rounds} {name:<20} best {best:.3f} s",
                file=sys.stderr,
                flush=True,
            )
    if memory:
        for name in names:
            data = run_child(name, url, 1, trace=True)
            results[name].traced_peak = data["traced_peak"]
    return results


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}x"


def events_per_second(measured: Measured, events: int) -> tuple[float, float, float]:
    """(best, worst, median) events/s over every timed run."""
    walls = [wall for wall, _ in measured.runs]
    return events / min(walls), events / max(walls), events / statistics.median(walls)


def cpu_per_event(measured: Measured, events: int) -> float:
    """Best CPU µs per event."""
    return min(cpu for _, cpu in measured.runs) / events * 1e6


def print_table(results: dict[str, Measured], events: int) -> None:
    def best(name: str) -> float | None:
        return events_per_second(results[name], events)[0] if name in results else None

    openai_rate, httpx_rate = best("openai-sync"), best("httpx-sse-sync")
    print(
        f"\n{'contender':<21} {'events/s best':>13} {'(range of runs)':>19} {'CPU µs/ev':>9} "
        f"{'vs openai':>9} {'vs httpx-sse':>12} {'traced MB':>9} {'RSS MB':>7}  text"
    )
    for name, measured in results.items():
        top, low, _ = events_per_second(measured, events)
        cpu = cpu_per_event(measured, events)
        sync_or_async_openai = openai_rate
        sync_or_async_httpx = httpx_rate
        if CONTENDERS[name].kind != "sync":
            sync_or_async_openai = best("openai-async") or openai_rate
            sync_or_async_httpx = best("httpx-sse-async") or httpx_rate
        traced = "-" if measured.traced_peak is None else f"{measured.traced_peak / 1e6:.1f}"
        rss = f"{min(measured.max_rss) / 1e6:.1f}" if measured.max_rss else "-"
        text = "n/a" if measured.text_ok is None else "ok" if measured.text_ok else "MISMATCH"
        print(
            f"{name:<21} {top:>13,.0f} {f'{low:,.0f}-{top:,.0f}':>19} {cpu:>9.2f} "
            f"{_ratio(top, sync_or_async_openai):>9} {_ratio(top, sync_or_async_httpx):>12} "
            f"{traced:>9} {rss:>7}  {text}"
        )
    print("(async contenders are compared with the async peer of the same library)")


def _cpu_us(measured: Measured, events: int) -> tuple[float, float, float]:
    """(median, lowest, highest) CPU µs per event over every timed run."""
    cpus = [cpu / events * 1e6 for _, cpu in measured.runs]
    return statistics.median(cpus), min(cpus), max(cpus)


def print_floor(results: dict[str, Measured], events: int, title: str) -> None:
    """CPU µs/event of every contender beside the floor's, and the ratio of medians."""
    if "floor" not in results or not results["floor"].runs:
        return
    floor, _, _ = _cpu_us(results["floor"], events)
    print(f"\nCPU per event vs the hand-written floor ({title}; medians, range of runs):")
    print(f"  {'contender':<22} {'CPU µs/ev':>9} {'(range)':>15} {'vs floor':>8}")
    for name, measured in results.items():
        if not measured.runs or name.startswith("raw-socket"):
            continue
        median, low, high = _cpu_us(measured, events)
        print(f"  {name:<22} {median:>9.2f} {f'{low:.2f}-{high:.2f}':>15} {median / floor:>7.2f}x")


def overhead(results: dict[str, Measured], events: int, base: str, other: str) -> str:
    """Overhead of ``other`` relative to ``base``: by best wall time and by best CPU time."""
    if base not in results or other not in results:
        return ""
    wall_base = min(w for w, _ in results[base].runs)
    wall_other = min(w for w, _ in results[other].runs)
    cpu_base = min(c for _, c in results[base].runs)
    cpu_other = min(c for _, c in results[other].runs)
    return (
        f"  {other:<20} vs {base:<16} wall {100 * (wall_other / wall_base - 1):+6.1f} %"
        f"   CPU {100 * (cpu_other / cpu_base - 1):+6.1f} %"
    )


# --- profile ----------------------------------------------------------------------


def profile(name: str, events: int, framing: str, top: int) -> None:
    """Profile one long stream of ``name`` with cProfile (server out of process)."""
    import cProfile
    import pstats

    contender = CONTENDERS[name]
    profiler = cProfile.Profile()
    with BenchServer(events, framing=framing) as server:
        if contender.kind == "sync":
            run: SyncRun = contender.make(server.url)
            run(WARMUP_MODEL)
            profiler.enable()
            run(MODEL)
            profiler.disable()
        else:

            async def go() -> None:
                arun: AsyncRun = contender.make(server.url)
                await arun(WARMUP_MODEL)
                profiler.enable()
                await arun(MODEL)
                profiler.disable()

            if contender.kind == "asyncio":
                asyncio.run(go())
            else:
                import trio

                trio.run(go)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(
        f"{name}: {events:,} events, {total:.3f} s under cProfile "
        f"({total / events * 1e6:.2f} µs/event with profiling overhead)"
    )
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


# --- breakdown: each layer of streamrecover's hot path alone, no sockets -------------


def _best(function: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


def breakdown(events: int, framing: str, repeat: int) -> None:
    """Time each layer of the sync hot path on the rendered response, in this process.

    The response bytes are cut in 64 KiB reads (what the transport asks of the
    socket). Each layer is fed the previous layer's output, collected beforehand,
    so each row is that layer alone (best of ``repeat`` CPU times). Two rows
    try what a change would save: joining the body pieces h11 returns from one
    read before they go to the session, and a chunked-body decoder written with
    ``bytes.find`` in place of h11 for the body.
    """
    from _server import render_response

    from streamrecover.core.events import TextDelta
    from streamrecover.core.session import RecoverySession
    from streamrecover.core.sse import SSEDecoder
    from streamrecover.observe import Hooks, SafeText, StreamObserver
    from streamrecover.providers.registry import get_provider
    from streamrecover.storage import Checkpointer, new_record, open_storage
    from streamrecover.transport._exchange import Exchange

    answer = chat_answer(events)
    response = render_response(answer, framing)
    reads = [response[i : i + 65536] for i in range(0, len(response), 65536)]
    provider = get_provider("openai", api_key=API_KEY, base_url="http://127.0.0.1:1/v1")
    body = {"model": MODEL, "messages": MESSAGES}

    def h11_pieces(join: bool) -> list[bytes]:
        exchange = Exchange("bench")
        exchange.request(
            "POST", "/v1/chat/completions", [(b"host", b"bench"), (b"content-length", b"2")], b"{}"
        )
        pieces: list[bytes] = []
        head = None
        for data in reads:
            exchange.receive_data(data)
            if head is None:
                head = exchange.next_head()
            batch = []
            while True:
                piece = exchange.next_body()
                if not piece:
                    break
                batch.append(piece)
            if join and batch:
                pieces.append(b"".join(batch))
            else:
                pieces.extend(batch)
        return pieces

    def find_dechunk() -> list[bytes]:
        # A minimal chunked-body reader: one find per chunk and one join per read.
        start = response.index(b"\r\n\r\n") + 4
        out: list[bytes] = []
        buffer = b""
        first = True
        for data in reads:
            buffer = buffer + (data[start:] if first else data)
            first = False
            position = 0
            batch = []
            while True:
                end = buffer.find(b"\r\n", position)
                if end < 0:
                    break
                size = int(buffer[position:end], 16)
                if size == 0 or end + 2 + size + 2 > len(buffer):
                    break
                batch.append(buffer[end + 2 : end + 2 + size])
                position = end + 2 + size + 2
            buffer = buffer[position:]
            if batch:
                out.append(b"".join(batch))
        return out

    pieces = h11_pieces(join=False)
    joined = h11_pieces(join=True)

    def sse(chunks: list[bytes]) -> list[Any]:
        decoder = SSEDecoder()
        found = []
        for piece in chunks:
            found.extend(decoder.feed(piece))
        return found

    sse_events = sse(pieces)

    def parse() -> list[Any]:
        parser = provider.new_parser()
        out = []
        for event in sse_events:
            out.extend(parser.feed(event))
        return out

    def session_run(chunks: list[bytes]) -> list[list[Any]]:
        session = RecoverySession(provider, body)
        session.next_request()
        session.response_started(200, [("content-type", "text/event-stream")])
        batches = []
        for piece in chunks:
            batches.append(session.receive_data(piece))
        text = session.text
        if text != answer.text:
            raise RuntimeError("breakdown: the session's text differs")
        return batches

    batches = session_run(pieces)
    storage = open_storage("memory://")

    def observe(with_storage: bool) -> None:
        session = RecoverySession(provider, body)
        checkpointer = None
        if with_storage:
            record = new_record(provider="openai", model=MODEL, request=body)
            storage.create(record)
            checkpointer = Checkpointer(storage, record.id, committed_length=0)
        observer = StreamObserver(
            session, checkpointer=checkpointer, recovery_id=None, hooks=Hooks()
        )
        for batch in batches:
            # Completed marks the record; the session here is a stand-in, so stop before.
            observer.observe([e for e in batch if type(e) is TextDelta])
        if checkpointer is not None:
            checkpointer.flush()

    def loads_only() -> None:
        loads = json.loads
        for event in sse_events[:-1]:
            loads(event.data)

    def safe_text() -> None:
        safe = SafeText("exact")
        for batch in batches:
            for event in batch:
                safe.feed(event)

    def generator_layers() -> None:
        # The two generators (Stream._run, text_stream) a consumer pulls through.
        def run() -> Any:
            for batch in batches:
                yield from batch

        def text_stream() -> Any:
            for event in run():
                if event:
                    yield event

        for _ in text_stream():
            pass

    rows = [
        ("body framing (Exchange.next_body)", lambda: h11_pieces(join=False)),
        ("SSEDecoder.feed", lambda: sse(pieces)),
        ("provider parser.feed (json.loads incl.)", parse),
        ("  of which json.loads", loads_only),
        ("session.receive_data (SSE+parser+_accept)", lambda: session_run(pieces)),
        ("observer.observe, no storage", lambda: observe(False)),
        ("observer.observe + Checkpointer (memory)", lambda: observe(True)),
        ("SafeText.feed (text_stream)", safe_text),
        ("two generator layers (Stream._run, text_stream)", generator_layers),
        ("-- what-if: session fed pieces joined per read", lambda: session_run(joined)),
        ("-- what-if: bytes.find chunked decoder for the body", find_dechunk),
    ]
    print(
        f"breakdown, {events:,} events, framing={framing}: {len(reads)} reads of 64 KiB, "
        f"{len(pieces):,} body pieces from h11 ({len(joined)} when joined per read); "
        f"best of {repeat} CPU times, this process, no sockets"
    )
    for label, function in rows:
        seconds = _best(function, repeat)
        print(f"  {label:<52} {seconds * 1e3:8.1f} ms {seconds / events * 1e6:7.2f} µs/event")


# --- main -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small stream, 1 round (smoke test)")
    parser.add_argument("--events", type=int, default=None, help="SSE events in the long stream")
    parser.add_argument("--rounds", type=int, default=None, help="fresh processes per contender")
    parser.add_argument("--inner", type=int, default=2, help="timed streams per process")
    parser.add_argument(
        "--framing",
        choices=("event", "bulk"),
        default="event",
        help="one HTTP chunk per SSE event (default) or 64 KiB chunks",
    )
    parser.add_argument("--only", default="", help="comma-separated contenders")
    parser.add_argument("--no-memory", action="store_true", help="skip the traced-memory runs")
    parser.add_argument(
        "--no-alternate", action="store_true", help="skip the in-process alternating runs"
    )
    parser.add_argument("--no-import", action="store_true", help="skip import timing")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the in-process runs against the floor"
    )
    parser.add_argument(
        "--profile",
        metavar="CONTENDER",
        help="profile one stream of CONTENDER with cProfile instead",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="time each layer of the hot path alone instead"
    )
    parser.add_argument("--top", type=int, default=35, help="rows of the profile to print")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--trace-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child, args.url, args.inner, args.trace_memory)
        return 0

    events = args.events or (2_000 if args.quick else 40_000)
    if args.profile:
        profile(args.profile, events, args.framing, args.top)
        return 0
    if args.breakdown:
        breakdown(events, args.framing, 3 if args.quick else 5)
        return 0
    rounds = args.rounds or (1 if args.quick else 3)
    inner = 1 if args.quick else args.inner
    names = tuple(args.only.split(",")) if args.only else DEFAULT_E2E
    unknown = [name for name in names if name not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders {unknown}; known: {', '.join(CONTENDERS)}")
    answer = chat_answer(events)
    expected = _digest(answer.text)
    warm_expected = _digest(chat_answer(WARMUP_EVENTS, seed=12).text)
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {events:,} events, "
        f"{answer.body_size / 1e6:.1f} MB of SSE, {len(answer.text):,} characters of text, "
        f"framing={args.framing}; {rounds} rounds x {inner} streams per contender"
    )
    with BenchServer(events, framing=args.framing) as server:
        results = measure(
            names,
            url=server.url,
            rounds=rounds,
            inner=inner,
            expected=expected,
            warm_expected=warm_expected,
            memory=not args.no_memory,
        )
        alternating = {}
        if not args.no_alternate:
            alternating = measure_alternating(
                ALTERNATING,
                url=server.url,
                rounds=rounds,
                inner=2 if args.quick else 4,
                expected=expected,
                warm_expected=warm_expected,
            )
        floor_group = {}
        if not args.no_floor:
            floor_group = measure_alternating(
                FLOOR_GROUP,
                url=server.url,
                rounds=rounds,
                inner=2 if args.quick else 4,
                expected=expected,
                warm_expected=warm_expected,
            )
    print_table(results, events)
    print_floor(results, events, "separate fresh processes, the table above")
    if floor_group:
        print_floor(floor_group, events, "in turn inside one process per round")
    print("\nrecovery machinery and storage overhead, best run vs best run")
    print(" separate fresh processes (the table above):")
    for base, other in OVERHEADS:
        line = overhead(results, events, base, other)
        if line:
            print(line)
    if alternating:
        runs = len(alternating[ALTERNATING[0]].runs)
        print(f" alternating in one process ({rounds} processes x {runs // rounds} turns):")
        for base, other in OVERHEADS:
            line = overhead(alternating, events, base, other)
            if line:
                print(line)
        results.update({f"{name} (alternating)": m for name, m in alternating.items()})
    if not args.no_import:
        import_times(3 if args.quick else 10)
    results.update({f"{name} (floor group)": m for name, m in floor_group.items()})
    bad = [m.name for m in results.values() if m.text_ok is False]
    if bad:
        print(f"\nTEXT MISMATCH: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
