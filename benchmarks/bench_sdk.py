"""Cost of RecoveringTransport over the plain official SDK, per event, in pairs.

Run:  python benchmarks/bench_sdk.py                      (CPU time: 6 processes x 8 turns)
      python benchmarks/bench_sdk.py --instructions       (callgrind: repeatable to ~0.1 %)
      python benchmarks/bench_sdk.py --only anthropic-event --events 5000 --rounds 10
      python benchmarks/bench_sdk.py --loopback           (the session-5 pairs, over loopback)

A pair is one official SDK (``openai`` chat completions, ``anthropic``
messages, both sync, ``stream=True``) reading the same answer twice: straight
from an httpx2 ``MockTransport`` (the plain SDK), and through
``RecoveringTransport(provider, inner=<that MockTransport>, storage=None)`` (the
one-line change). Both read from memory, so no socket work on either side
dilutes the transport's share: the ratio is the strict one. The upstream sends
the answer in one of two framings: ``event``, one upstream chunk per SSE
event (a server that flushes every event, as the APIs do), or ``bulk``, 64 KiB
chunks (a reader that fell behind, or a proxy that buffers).

CPU mode: each round is a fresh process that builds every contender, warms
each up and then reads the long answer with each pair in turn, ``--turns``
times, the plain SDK and its ``-sr`` twin back to back (their order swapped on
every turn), so that load from elsewhere hits both alike. Reported: CPU time
(``time.process_time``) per event, median and range; the overhead is the
median (and range) of the per-turn ratios sr / plain.

Instructions mode (``--instructions``, needs valgrind): each contender runs
under ``valgrind --tool=callgrind`` in a fresh process that is built, warmed up
and reads the answer once, and in a second process three times; (three - one)
/ 2 / events is the cost of one event with start-up, imports and warm-up
cancelled out. Instruction counts are not time (a cache miss costs more than an
add), but they repeat to a fraction of a percent on a loaded machine, where
CPU time swings by tens of percent.

``--loopback`` runs the pairs of session 5 instead (``bench_e2e.py``'s
``openai-sync`` / ``openai-sdk-sr-sync`` over loopback to the bench server, and
``anthropic-sdk`` / ``anthropic-sdk-sr`` from memory, bulk), for comparison
with the figures recorded then.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROVIDERS = ("openai", "anthropic")
FRAMINGS = ("event", "bulk")
#: Pair name -> (plain contender, transport contender).
PAIRS = {
    f"{provider}-{framing}": (f"{provider}-{framing}", f"{provider}-{framing}-sr")
    for provider in PROVIDERS
    for framing in FRAMINGS
}
LOOPBACK_PAIRS = {
    "openai-loopback": ("openai-sync", "openai-sdk-sr-sync"),
    "anthropic-memory": ("anthropic-sdk", "anthropic-sdk-sr"),
}
MESSAGES: Any = [{"role": "user", "content": "Write a long answer, please."}]
WARMUP_EVENTS = 300
_COLLECTED = re.compile(r"Collected : (\d+)")

Run = Callable[[], str]


def _anthropic_frames(pieces: Sequence[str]) -> list[bytes]:
    """The answer as the Messages API streams it: one text block, one delta per piece."""

    def frame(kind: str, data: dict[str, Any]) -> bytes:
        payload = json.dumps({"type": kind, **data}, ensure_ascii=False, separators=(",", ":"))
        return f"event: {kind}\ndata: {payload}\n\n".encode()

    message = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 1},
    }
    out = [
        frame("message_start", {"message": message}),
        frame("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        frame("ping", {}),
    ]
    for piece in pieces:
        delta = {"index": 0, "delta": {"type": "text_delta", "text": piece}}
        out.append(frame("content_block_delta", delta))
    out.append(frame("content_block_stop", {"index": 0}))
    usage = {"output_tokens": len(pieces)}
    out.append(frame("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": usage}))
    out.append(frame("message_stop", {}))
    return out


def answers(provider: str, events: int) -> tuple[list[bytes], str]:
    """The SSE events of a long answer (``events`` of them, about) and its text."""
    from _server import chat_answer

    answer = chat_answer(events)
    if provider == "openai":
        return list(answer.events), answer.text
    return _anthropic_frames(answer.pieces), answer.text


def _upstream(provider: str, framing: str, events: int) -> Any:
    """An httpx2 MockTransport serving the long answer (and a short one for ``warmup``)."""
    import httpx2

    bodies: dict[str, list[bytes]] = {}
    for model, count in (("warmup", WARMUP_EVENTS), ("long", events)):
        frames, _ = answers(provider, count)
        if framing == "bulk":
            body = b"".join(frames)
            frames = [body[i : i + 65_536] for i in range(0, len(body), 65_536)]
        bodies[model] = frames

    def handler(request: Any) -> Any:
        model = json.loads(request.content)["model"]
        headers = {"content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_1"}
        return httpx2.Response(200, headers=headers, content=iter(bodies[model]))

    return httpx2.MockTransport(handler)


def make(name: str, events: int) -> Callable[[str], str]:
    """Build contender ``name`` (``<provider>-<framing>[-sr]``): model -> text it read."""
    import httpx2

    provider, framing, *sr = name.split("-")
    transport = _upstream(provider, framing, events)
    if sr:
        from streamrecover.integrations.httpx2 import RecoveringTransport

        transport = RecoveringTransport(provider, inner=transport, storage=None)
    http_client = httpx2.Client(transport=transport)
    if provider == "openai":
        import openai

        openai_client = openai.OpenAI(
            base_url="http://bench.invalid/v1",
            api_key="sk-bench",
            max_retries=0,
            http_client=http_client,
        )

        def run_openai(model: str) -> str:
            parts = []
            stream = openai_client.chat.completions.create(
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

        return run_openai
    import anthropic

    anthropic_client = anthropic.Anthropic(
        base_url="http://bench.invalid",
        api_key="sk-bench",
        max_retries=0,
        http_client=http_client,
    )

    def run_anthropic(model: str) -> str:
        parts = []
        stream = anthropic_client.messages.create(
            model=model, max_tokens=100_000, messages=MESSAGES, stream=True
        )
        with stream:
            for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    parts.append(event.delta.text)
        return "".join(parts)

    return run_anthropic


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def cpu_child(pairs: dict[str, tuple[str, str]], events: int, turns: int, url: str) -> None:
    # One round: every contender built and warmed up, then the pairs in turn.
    if url:
        from bench_e2e import CONTENDERS, MODEL, WARMUP_MODEL

        runs = {n: CONTENDERS[n].make(url) for pair in pairs.values() for n in pair}
        long_model, warm_model = MODEL, WARMUP_MODEL
    else:
        runs = {n: make(n, events) for pair in pairs.values() for n in pair}
        long_model, warm_model = "long", "warmup"
    digests: set[str] = set()
    for run in runs.values():
        run(warm_model)
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for turn in range(turns):
        for plain, recovering in pairs.values():
            order = (plain, recovering) if turn % 2 == 0 else (recovering, plain)
            for name in order:
                gc.collect()
                started = time.process_time()
                text = runs[name](long_model)
                cpu[name].append(time.process_time() - started)
                digests.add(_digest(text))
    print(json.dumps({"cpu": cpu, "same_text": len(digests) == 1}))


def instructions_child(name: str, events: int, streams: int) -> None:
    run = make(name, events)
    run("warmup")
    print(json.dumps([_digest(run("long")) for _ in range(streams)]))


def _count(name: str, events: int, streams: int) -> tuple[int, set[str]]:
    with tempfile.TemporaryDirectory(prefix="sr-sdk-callgrind-") as scratch:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={os.path.join(scratch, 'callgrind.out')}",
            sys.executable,
            str(HERE / "bench_sdk.py"),
            "--child-instructions",
            name,
            "--events",
            str(events),
            "--streams",
            str(streams),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE)
    match = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"{name}: the child failed:\n{done.stderr[-3000:]}")
    return int(match.group(1)), set(json.loads(done.stdout.strip().splitlines()[-1]))


def run_instructions(
    pairs: dict[str, tuple[str, str]], events: int, repeat: int, only_sr: bool = False
) -> None:
    print(
        f"{events:,} events; instructions per event = (3 streams - 1 stream) / 2 / events, "
        f"{repeat} pair(s) of processes per contender"
    )
    _, text = answers("openai", events)
    expected = _digest(text)
    per: dict[str, list[float]] = {}
    for pair in pairs.values():
        for name in pair:
            if only_sr and not name.endswith("-sr"):
                continue
            for _ in range(repeat):
                one, digests_one = _count(name, events, 1)
                three, digests_three = _count(name, events, 3)
                if digests_one | digests_three != {expected}:
                    raise SystemExit(f"{name}: wrong text")
                per.setdefault(name, []).append((three - one) / 2 / events)
            print(f"  {name} done", file=sys.stderr, flush=True)
    print(f"  {'contender':<22} {'instructions/event':>18} {'(range)':>19}")
    for name, values in per.items():
        low, high = min(values), max(values)
        print(f"  {name:<22} {statistics.median(values):>18,.0f} {low:>9,.0f}-{high:<9,.0f}")
    for pair, (plain, recovering) in pairs.items():
        if plain not in per:
            continue
        base = statistics.median(per[plain])
        extra = statistics.median(per[recovering]) - base
        print(f"  {pair}: transport {extra:+,.0f} instructions/event = {100 * extra / base:+.1f} %")


def run_cpu(
    pairs: dict[str, tuple[str, str]], events: int, rounds: int, turns: int, loopback: bool
) -> None:
    cpu: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {pair: [] for pair in pairs}

    def one_round(url: str) -> None:
        command = [
            sys.executable,
            str(HERE / "bench_sdk.py"),
            "--child-cpu",
            url or "-",
            "--events",
            str(events),
            "--turns",
            str(turns),
            "--only",
            ",".join(pairs),
        ]
        if loopback:
            command.append("--loopback")
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE)
        data = json.loads(done.stdout.strip().splitlines()[-1])
        if not data["same_text"]:
            raise SystemExit("the contenders did not read the same text")
        for name, values in data["cpu"].items():
            cpu.setdefault(name, []).extend(values)
        for pair, (plain, recovering) in pairs.items():
            ratios[pair].extend(
                r / p - 1 for p, r in zip(data["cpu"][plain], data["cpu"][recovering], strict=True)
            )

    load = os.getloadavg()
    if loopback:
        from _server import BenchServer

        with BenchServer(events) as server:
            for number in range(rounds):
                one_round(server.url)
                print(f"  round {number + 1}/{rounds} done", file=sys.stderr, flush=True)
    else:
        for number in range(rounds):
            one_round("")
            print(f"  round {number + 1}/{rounds} done", file=sys.stderr, flush=True)
    end_load = os.getloadavg()
    print(
        f"{events:,} events; {rounds} processes x {turns} turns, pairs back to back; "
        f"load average (1 min) {load[0]:.1f} at the start, {end_load[0]:.1f} at the end"
    )
    print(f"  {'contender':<22} {'CPU µs/event':>12} {'(range)':>17}")
    for name, values in cpu.items():
        per = [v / events * 1e6 for v in values]
        print(f"  {name:<22} {statistics.median(per):>12.1f} {min(per):>8.1f}-{max(per):<8.1f}")
    for pair, values in ratios.items():
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
        print(
            f"  {pair}: transport CPU {100 * statistics.median(values):+.1f} % median "
            f"(quartiles {100 * quartiles[0]:+.1f} / {100 * quartiles[2]:+.1f} %, "
            f"range {100 * min(values):+.1f} to {100 * max(values):+.1f} %)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000, help="SSE events in the long answer")
    parser.add_argument("--rounds", type=int, default=6, help="fresh processes (CPU mode)")
    parser.add_argument("--turns", type=int, default=8, help="streams per contender per process")
    parser.add_argument("--only", default="", help=f"comma-separated pairs: {', '.join(PAIRS)}")
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument("--repeat", type=int, default=1, help="process pairs per contender")
    parser.add_argument(
        "--sr-only",
        action="store_true",
        help="count only the -sr contenders (the plain ones run no streamrecover code)",
    )
    parser.add_argument("--loopback", action="store_true", help="session 5's pairs (CPU mode)")
    parser.add_argument("--child-cpu", help=argparse.SUPPRESS)
    parser.add_argument("--child-instructions", help=argparse.SUPPRESS)
    parser.add_argument("--streams", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    known = LOOPBACK_PAIRS if args.loopback else PAIRS
    names = args.only.split(",") if args.only else list(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown pairs {unknown}; known: {', '.join(known)}")
    pairs = {name: known[name] for name in names}
    if args.child_instructions:
        instructions_child(args.child_instructions, args.events, args.streams)
    elif args.child_cpu:
        url = "" if args.child_cpu == "-" else args.child_cpu
        cpu_child(pairs, args.events, args.turns, url)
    elif args.instructions:
        if args.loopback:
            parser.error("--instructions counts the in-memory pairs only")
        if shutil.which("valgrind") is None:
            parser.error("valgrind is not installed")
        run_instructions(pairs, args.events, args.repeat, args.sr_only)
    else:
        run_cpu(pairs, args.events, args.rounds, args.turns, args.loopback)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
