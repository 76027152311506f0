"""CPU cost of RecoveringTransport over the plain official SDK, interleaved in one process.

Run:  python benchmarks/bench_sdk.py                  (3 processes x 6 turns, 3,000 events)
      python benchmarks/bench_sdk.py --events 10000 --rounds 5 --turns 8

Uses the contenders of ``bench_e2e.py``: ``openai-sync`` / ``openai-sdk-sr-sync``
(the SDK over loopback to the bench server, with and without the transport)
and ``anthropic-sdk`` / ``anthropic-sdk-sr`` (the Anthropic SDK reading an
Anthropic stream from an in-memory httpx2 ``MockTransport``: the difference is
the transport's cost alone). Each round is a fresh process that builds all
four, warms them up, then reads the long stream with each in turn, ``--turns``
times: the same interpreter and moment for a plain run and its ``-sr`` twin,
so that load from elsewhere hits both alike. Reported: CPU time
(``time.process_time``) per event, median and range over every turn, and the
overhead of each ``-sr`` turn over the plain turn right before it (median and
range of those ratios).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAIRS = (("openai-sync", "openai-sdk-sr-sync"), ("anthropic-sdk", "anthropic-sdk-sr"))


def child(url: str, turns: int) -> None:
    import gc

    from bench_e2e import CONTENDERS, MODEL, WARMUP_MODEL

    names = [name for pair in PAIRS for name in pair]
    runs = {name: CONTENDERS[name].make(url) for name in names}
    texts = {}
    for run in runs.values():
        run(WARMUP_MODEL)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(turns):
        for name, run in runs.items():
            gc.collect()
            started = time.process_time()
            texts[name] = run(MODEL)
            cpu[name].append(time.process_time() - started)
    same = len(set(texts.values())) == 1
    print(json.dumps({"cpu": cpu, "same_text": same}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes")
    parser.add_argument("--turns", type=int, default=6, help="streams per contender per process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.turns)
        return
    from _server import BenchServer

    cpu: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {other: [] for _, other in PAIRS}
    with BenchServer(args.events) as server:
        for number in range(args.rounds):
            command = [
                sys.executable,
                str(HERE / "bench_sdk.py"),
                "--child",
                server.url,
                "--turns",
                str(args.turns),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE)
            data = json.loads(done.stdout.strip().splitlines()[-1])
            if not data["same_text"]:
                raise SystemExit("the contenders did not read the same text")
            for name, values in data["cpu"].items():
                cpu.setdefault(name, []).extend(values)
            for base, other in PAIRS:
                ratios[other].extend(
                    o / b - 1 for b, o in zip(data["cpu"][base], data["cpu"][other], strict=True)
                )
            print(f"  round {number + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"{args.events:,} events; {args.rounds} processes x {args.turns} turns, interleaved")
    print(f"  {'contender':<20} {'CPU µs/event':>12} {'(range)':>17}")
    for name, values in cpu.items():
        per = [v / args.events * 1e6 for v in values]
        print(f"  {name:<20} {statistics.median(per):>12.1f} {min(per):>8.1f}-{max(per):<8.1f}")
    for base, other in PAIRS:
        values = ratios[other]
        print(
            f"  {other} over {base}: CPU {100 * statistics.median(values):+.1f} % median "
            f"(range {100 * min(values):+.1f} to {100 * max(values):+.1f} %)"
        )


if __name__ == "__main__":
    main()
