"""Instructions per event on the end-to-end hot path, counted by valgrind (callgrind).

Run:  python benchmarks/bench_instructions.py                  (floor, sr-sync-off, sr-sync-memory)
      python benchmarks/bench_instructions.py --only floor,sr-asyncio-memory --events 3000

CPU time on a shared machine swings by tens of percent between runs; the number
of instructions a process executes does not (it moves by well under 1% from run
to run). Each contender of ``bench_e2e.py`` runs in a fresh process under
``valgrind --tool=callgrind`` (the fake server runs natively, in its own
process), is built and warmed up with a short stream, and then reads the long
stream once, and in a second process three times. The difference between the
two counts, divided by two streams of ``--events`` events, is the cost of one
event with start-up, imports, client construction and warm-up cancelled out.

Instruction counts are not time (a cache miss or a mispredicted branch costs
more than an add), but for a change to pure-Python code on the per-event path
they track CPU time closely, and they are repeatable: use them for the
before/after of a hot-path change, and ``bench_e2e.py`` for the time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _server import BenchServer

HERE = Path(__file__).resolve().parent
_COLLECTED = re.compile(r"Collected : (\d+)")
DEFAULT = ("floor", "sr-sync-off", "sr-sync-memory")


def child_main(name: str, url: str, streams: int) -> None:
    # Build and warm up the contender, then read the long stream ``streams`` times.
    import asyncio

    from bench_e2e import CONTENDERS, MODEL, WARMUP_MODEL, _digest

    contender = CONTENDERS[name]
    digests: list[str] = []
    if contender.kind == "sync":
        run = contender.make(url)
        run(WARMUP_MODEL)
        for _ in range(streams):
            digests.append(_digest(run(MODEL)))
    else:

        async def go() -> None:
            run = contender.make(url)
            await run(WARMUP_MODEL)
            for _ in range(streams):
                digests.append(_digest(await run(MODEL)))

        if contender.kind == "asyncio":
            asyncio.run(go())
        else:
            import trio

            trio.run(go)
    print(json.dumps(digests))


def count(name: str, url: str, streams: int, expected: str) -> int:
    """Instructions of one child process reading the long stream ``streams`` times."""
    with tempfile.TemporaryDirectory(prefix="sr-callgrind-") as scratch:
        out = os.path.join(scratch, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(HERE / "bench_instructions.py"),
            "--child",
            name,
            "--url",
            url,
            "--streams",
            str(streams),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name}: the child failed:\n{done.stderr[-3000:]}")
    digests = json.loads(done.stdout.strip().splitlines()[-1])
    if any(digest != expected for digest in digests):
        raise RuntimeError(f"{name}: wrong text")
    match = _COLLECTED.search(done.stderr)
    if match is None:
        raise RuntimeError(f"{name}: no instruction count in valgrind's output")
    return int(match.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000, help="SSE events in the long stream")
    parser.add_argument("--only", default="", help="comma-separated bench_e2e contenders")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of processes per contender")
    parser.add_argument(
        "--framing", choices=("event", "bulk"), default="event", help="as in bench_e2e.py"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--streams", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child, args.url, args.streams)
        return 0
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed")
    from _server import chat_answer
    from bench_e2e import CONTENDERS, _digest

    names = tuple(args.only.split(",")) if args.only else DEFAULT
    unknown = [name for name in names if name not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders {unknown}; known: {', '.join(CONTENDERS)}")
    expected = _digest(chat_answer(args.events).text)
    print(
        f"Python {sys.version.split()[0]}; {args.events:,} events, framing={args.framing}; "
        "instructions per event = (3 streams - 1 stream) / 2 / events"
    )
    per_event: dict[str, list[float]] = {}
    with BenchServer(args.events, framing=args.framing) as server:
        for _ in range(args.repeat):
            for name in names:
                one = count(name, server.url, 1, expected)
                three = count(name, server.url, 3, expected)
                per_event.setdefault(name, []).append((three - one) / 2 / args.events)
    floor = statistics.median(per_event["floor"]) if "floor" in per_event else None
    print(f"{'contender':<24}{'instructions/event':>20}{'range':>22}{'vs floor':>10}")
    for name, values in per_event.items():
        middle = statistics.median(values)
        ratio = f"{middle / floor:.2f}x" if floor else "-"
        spread = f"{min(values):,.0f}-{max(values):,.0f}"
        print(f"{name:<24}{middle:>20,.0f}{spread:>22}{ratio:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
