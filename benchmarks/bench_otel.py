"""What telemetry costs per event: off, API without an SDK, SDK with an in-memory exporter.

One fake OpenAI server (its own process, one HTTP chunk per event, as a real
server flushes them) streams a long answer; the sync client reads it in three
configurations, interleaved round by round so that machine noise falls on all
of them alike:

* ``off``      ``Client(telemetry=False)``: no instrumentation at all;
* ``no-sdk``   the default: ``opentelemetry-api`` installed, no SDK set up
               (the global providers are the API's proxies), as in most
               processes that merely have the package;
* ``sdk``      an SDK ``TracerProvider`` (simple processor, in-memory exporter)
               and ``MeterProvider`` (in-memory reader) passed to the client.

It prints the client's CPU microseconds per event (median and range over the
rounds) and each configuration's ratio to ``off``, by median and by minimum
(on a shared machine other work only ever adds time, so the minimum is the
steadier figure). Target (issue 18): ``sdk``
at most 3% over ``off``; ``no-sdk`` no measurable change.

    python benchmarks/bench_otel.py [--events 40000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import WARMUP_MODEL, BenchServer

API_KEY = "sk-bench"
MESSAGES = [{"role": "user", "content": "Write a long answer."}]


def _sdk() -> dict[str, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return {"tracer_provider": tracer_provider, "meter_provider": meter_provider}


def make_run(url: str, variant: str) -> Callable[[str], str]:
    from streamrecover import Client

    options: dict[str, Any] = {"storage": "memory://"}
    if variant == "off":
        options["telemetry"] = False
    elif variant == "sdk":
        options.update(_sdk())
    client = Client("openai", base_url=url, api_key=API_KEY, **options)

    def run(model: str) -> str:
        with client.stream(model=model, messages=MESSAGES) as stream:
            text = "".join(stream.text_stream)
        if not stream.completed:
            raise RuntimeError(f"{variant}: the stream did not complete")
        observer = stream._observer
        if (observer.telemetry is not None) != (variant == "sdk"):
            raise RuntimeError(f"{variant}: telemetry is not what this row measures")
        return text

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    variants = ("off", "no-sdk", "sdk")
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    with BenchServer(args.events) as server:
        runs = {v: make_run(server.url, v) for v in variants}
        texts = set()
        for run in runs.values():
            run(WARMUP_MODEL)
        for round_number in range(args.rounds):
            # Rotate the order so no configuration always runs first.
            order = variants[round_number % 3 :] + variants[: round_number % 3]
            for variant in order:
                started = time.process_time()
                texts.add(runs[variant]("gpt-4o"))
                cpu[variant].append((time.process_time() - started) / args.events * 1e6)
    if len(texts) != 1:
        raise RuntimeError("the configurations received different answers")
    base = statistics.median(cpu["off"])
    print(f"{args.events} events, {args.rounds} interleaved rounds, sync client, CPU us/event")
    floor = min(cpu["off"])
    print(
        f"{'configuration':<14}{'median':>9}{'min':>9}{'max':>9}"
        f"{'median vs off':>15}{'min vs off':>12}"
    )
    for variant in variants:
        values = cpu[variant]
        median = statistics.median(values)
        print(
            f"{variant:<14}{median:>9.3f}{min(values):>9.3f}{max(values):>9.3f}"
            f"{(median / base - 1) * 100:>+14.1f}%{(min(values) / floor - 1) * 100:>+11.1f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
