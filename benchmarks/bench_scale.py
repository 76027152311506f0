"""Many concurrent async streams: streamrecover's AsyncClient against httpx + httpx-sse.

Run:  python benchmarks/bench_scale.py                 (500 streams of 300 events, 3 rounds)
      python benchmarks/bench_scale.py --streams 100 --rounds 1   (a smoke test)

Each contender runs in a fresh process per round (rounds interleave the
contenders): it opens ``--streams`` streams at once under asyncio against the
fake server of ``_server.py`` (a separate process, one thread per connection),
reads every event and keeps the text. Figures: wall time from the first
request to the last stream's end, the process's peak RSS (``VmHWM``) minus its
RSS before the streams started, divided by the number of streams, and whether
every stream completed with the right text. Medians over rounds, with ranges.
The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from _server import WARMUP_MODEL, BenchServer, chat_answer

HERE = Path(__file__).resolve().parent
MESSAGES: Any = [{"role": "user", "content": "hi"}]
API_KEY = "sk-bench-dummy"


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def make_sr(url: str, streams: int) -> Callable[[str], Awaitable[str]]:
    from streamrecover import AsyncClient

    client = AsyncClient("openai", base_url=url, api_key=API_KEY, storage="memory://")

    async def run(model: str) -> str:
        async with client.stream(model=model, messages=MESSAGES) as stream:
            parts = [text async for text in stream.text_stream]
        return "".join(parts) if stream.completed else ""

    return run


def make_httpx_sse(url: str, streams: int) -> Callable[[str], Awaitable[str]]:
    import httpx
    from httpx_sse import aconnect_sse

    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=streams + 10)
    client = httpx.AsyncClient(timeout=120, limits=limits)
    headers = {"authorization": f"Bearer {API_KEY}"}

    async def run(model: str) -> str:
        parts: list[str] = []
        body = {"model": model, "messages": MESSAGES, "stream": True}
        async with aconnect_sse(
            client, "POST", f"{url}/chat/completions", json=body, headers=headers
        ) as source:
            async for sse in source.aiter_sse():
                if sse.data == "[DONE]":
                    break
                choices = json.loads(sse.data).get("choices")
                if choices:
                    content = choices[0]["delta"].get("content")
                    if content:
                        parts.append(content)
        return "".join(parts)

    return run


CONTENDERS = {"streamrecover": make_sr, "httpx-sse": make_httpx_sse}


async def _child(name: str, url: str, streams: int) -> dict[str, Any]:
    run = CONTENDERS[name](url, streams)
    await run(WARMUP_MODEL)
    before = _rss_kib("VmRSS:")
    start = time.perf_counter()
    texts = await asyncio.gather(*(run("gpt-4o") for _ in range(streams)))
    wall = time.perf_counter() - start
    peak = _rss_kib("VmHWM:")
    digests = {hashlib.sha256(text.encode()).hexdigest() for text in texts}
    return {
        "wall": wall,
        "per_stream": (peak - before) * 1024 / streams,
        "digests": sorted(digests),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child, args.url, args.streams))))
        return 0
    expected = hashlib.sha256(chat_answer(args.events).text.encode()).hexdigest()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
    with BenchServer(args.events) as server:
        for _ in range(args.rounds):
            for name in CONTENDERS:
                command = [
                    sys.executable,
                    str(HERE / "bench_scale.py"),
                    "--child",
                    name,
                    "--url",
                    server.url,
                    "--streams",
                    str(args.streams),
                ]
                done = subprocess.run(
                    command, capture_output=True, text=True, check=False, cwd=HERE
                )
                if done.returncode != 0:
                    raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
                results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"Python {sys.version.split()[0]}; {args.streams} concurrent async streams (asyncio) of "
        f"{args.events} events; {args.rounds} rounds, medians (range); shared machine, noisy"
    )
    print(
        f"  {'contender':<14} {'wall s':>7} {'(range)':>13} {'RSS/stream KB':>14} "
        f"{'(range)':>15}  all complete"
    )
    medians = {}
    for name, runs in results.items():
        walls = [r["wall"] for r in runs]
        mems = [r["per_stream"] / 1e3 for r in runs]
        ok = all(r["digests"] == [expected] for r in runs)
        medians[name] = (statistics.median(walls), statistics.median(mems))
        print(
            f"  {name:<14} {medians[name][0]:>7.2f} {f'{min(walls):.2f}-{max(walls):.2f}':>13} "
            f"{medians[name][1]:>14.0f} {f'{min(mems):.0f}-{max(mems):.0f}':>15}  "
            f"{'yes' if ok else 'NO'}"
        )
    ours, theirs = medians["streamrecover"], medians["httpx-sse"]
    print(
        f"  streamrecover / httpx-sse: wall {ours[0] / theirs[0]:.2f}x, "
        f"RSS per stream {ours[1] / theirs[1]:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
