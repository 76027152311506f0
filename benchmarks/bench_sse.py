"""Side-by-side throughput of streamrecover's SSE decoder and its peers.

Run:  python benchmarks/bench_sse.py                  (full inputs, 7 interleaved rounds)
      python benchmarks/bench_sse.py --quick          (small inputs, a smoke test)
      python benchmarks/bench_sse.py --instructions   (callgrind instruction counts)

Every decoder gets the same byte chunks, from bytes to event objects, and the
number of events each one produces is checked against streamrecover's (and
against the number the generator built). Peers:

* httpx-sse: what ``EventSource.iter_sse`` does, without the HTTP response:
  an incremental UTF-8 decoder (as ``httpx.Response.iter_text``), its
  ``SSELineDecoder`` and its ``SSEDecoder``.
* sseclient-py: ``sseclient.SSEClient`` over an iterator of the byte chunks.
* openai: ``openai._streaming.SSEDecoder().iter_bytes`` over the byte chunks
  (what ``openai.Stream`` uses).
* launchdarkly-eventsource: ``ld_eventsource.reader._SSEReader`` over
  ``_BufferedLineReader.lines_from`` of the byte chunks (what its ``SSEClient``
  runs), counting ``Event`` objects.
* anthropic: ``anthropic._streaming.SSEDecoder().iter_bytes`` over the byte
  chunks (what ``anthropic.Stream`` uses).

Workloads come in two feeds: 64 KiB chunks (fewer, larger pieces, where a
decoder's split shortcuts fire) and one event per chunk, which is what a
client reading a server that flushes every event actually feeds (one HTTP
chunk per call). The last line is the minimum, over all workloads, of
streamrecover's events/s over the fastest peer's.

Each workload runs in rounds, every decoder once per round (interleaved): on
a shared machine a busy spell then hits all decoders alike instead of one of
them. Each decoder's median round is shown with the range of its rounds, and
ratios are of medians.

Times are wall times from ``time.perf_counter`` with the garbage collector off
during a run (as ``timeit`` does); MB is 10**6 bytes of input.

``--instructions`` counts instructions instead, which a shared machine does not
disturb: every decoder runs on every workload in a fresh process under
``valgrind --tool=callgrind``, warmed up on the first 50 chunks and then
decoding the whole workload once, and in a second process three times; half
the difference is the cost of one pass, with start-up, imports and building the
input cancelled out. The inputs are smaller than the timed ones (callgrind runs
Python about 50 times slower) and the peers are the three fastest by time
(``--decoders`` picks others). Instructions are not time: a long ``memcpy`` or
``memchr`` runs many instructions per cycle, Python's interpreter loop few.
"""

from __future__ import annotations

import argparse
import codecs
import ctypes
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sse_workloads import (
    anthropic_stream,
    big_stream,
    chat_stream,
    crlf_split_chunks,
    event_chunks,
    fixed_chunks,
)

from streamrecover.core.sse import SSEDecoder

Chunks = Sequence[bytes]
Runner = Callable[[Chunks], int]

# --- the decoders, each from byte chunks to a count of event objects -----------


def run_streamrecover(chunks: Chunks) -> int:
    decoder = SSEDecoder()
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    count += len(decoder.feed(b""))
    return count


def run_httpx_sse(chunks: Chunks) -> int:
    from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
    from httpx_sse._decoders import SSELineDecoder

    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line_decoder = SSELineDecoder()
    decoder = HttpxSSEDecoder()
    count = 0
    for chunk in chunks:
        text = text_decoder.decode(chunk)
        if not text:
            continue
        for line in line_decoder.decode(text):
            if decoder.decode(line) is not None:
                count += 1
    for line in line_decoder.flush():
        if decoder.decode(line) is not None:
            count += 1
    return count


def run_sseclient(chunks: Chunks) -> int:
    import sseclient

    count = 0
    for _event in sseclient.SSEClient(iter(chunks)).events():
        count += 1
    return count


def run_openai(chunks: Chunks) -> int:
    from openai._streaming import SSEDecoder as OpenAISSEDecoder

    count = 0
    source: Iterator[bytes] = iter(chunks)
    for _event in OpenAISSEDecoder().iter_bytes(source):
        count += 1
    return count


def run_launchdarkly(chunks: Chunks) -> int:
    from ld_eventsource.actions import Event
    from ld_eventsource.reader import _BufferedLineReader, _SSEReader

    count = 0
    reader = _SSEReader(_BufferedLineReader.lines_from(iter(chunks)))
    for item in reader.events_and_comments():
        if isinstance(item, Event):
            count += 1
    return count


def run_anthropic(chunks: Chunks) -> int:
    from anthropic._streaming import SSEDecoder as AnthropicSSEDecoder

    count = 0
    source: Iterator[bytes] = iter(chunks)
    for _event in AnthropicSSEDecoder().iter_bytes(source):
        count += 1
    return count


DECODERS: dict[str, Runner] = {
    "streamrecover": run_streamrecover,
    "httpx-sse": run_httpx_sse,
    "sseclient-py": run_sseclient,
    "openai": run_openai,
    "launchdarkly": run_launchdarkly,
    "anthropic": run_anthropic,
}


@dataclass
class Result:
    decoder: str
    seconds: list[float]
    events: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _release_free_memory() -> None:
    """Hand the C heap's free pages back (glibc ``malloc_trim``), where there is one.

    A multi-MiB event costs mostly fresh pages; whether a decoder gets recycled
    ones or fresh ones then depends on what the decoder before it in the round
    left in the heap, not on the decoder (seen: ``big`` at 0.78x in one full run
    and 1.85x in the next). Trimming before every timed run starts each decoder
    from the same allocator state.
    """
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


def time_once(runner: Runner, chunks: Chunks) -> tuple[float, int]:
    gc.collect()
    _release_free_memory()
    gc.disable()
    try:
        start = time.perf_counter()
        events = runner(chunks)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, events


def bench(
    name: str, chunks: Chunks, expected: int, repeat: int, decoders: Sequence[str]
) -> float | None:
    """Time every decoder on chunks; print a table; return ours over the fastest peer.

    None when streamrecover counted wrong (or a peer did).
    """
    size = sum(map(len, chunks))
    print(
        f"\n{name}: {size / 1e6:.1f} MB in {len(chunks)} chunks, {expected} events, "
        f"median of {repeat} interleaved rounds"
    )
    chosen = {label: DECODERS[label] for label in decoders}
    results = {label: Result(label, [], -1) for label in chosen}
    for runner in chosen.values():  # imports and first-call caches, untimed
        runner(chunks[:50])
    # Rounds interleave the decoders, so that a busy spell of a shared machine
    # does not fall on one decoder's runs only.
    for _ in range(repeat):
        for label, runner in chosen.items():
            elapsed, events = time_once(runner, chunks)
            result = results[label]
            result.seconds.append(elapsed)
            result.events = events
    ours = results["streamrecover"]
    print(
        f"  {'decoder':<14} {'events/s':>11} {'(range)':>23} {'MB/s':>7} {'seconds':>8} "
        f"{'sr speed-up':>11}  events"
    )
    for result in results.values():
        check = "ok" if result.events == expected else f"MISMATCH ({result.events})"
        low, high = expected / max(result.seconds), expected / min(result.seconds)
        print(
            f"  {result.decoder:<14} {expected / result.median:>11,.0f} "
            f"{f'{low:,.0f}-{high:,.0f}':>23} "
            f"{size / result.median / 1e6:>7.1f} {result.median:>8.4f} "
            f"{result.median / ours.median:>10.2f}x  {check}"
        )
    fastest = min(
        (r for label, r in results.items() if label != "streamrecover"), key=lambda r: r.median
    )
    ratio = fastest.median / ours.median
    print(f"  streamrecover / fastest peer ({fastest.decoder}): {ratio:.2f}x")
    if any(r.events != expected for r in results.values()):
        return None
    return ratio


Workload = Callable[[], tuple[Chunks, int]]


def workloads(*, quick: bool, instructions: bool) -> dict[str, tuple[str, Workload]]:
    """Every workload: key -> (title, a function building (its chunks, expected events))."""
    if quick:
        chat_bytes, event_bytes, big_bytes = 500_000, 300_000, 256 * 1024
    elif instructions:
        chat_bytes, event_bytes, big_bytes = 2_000_000, 1_000_000, 4 * 1024 * 1024
    else:
        chat_bytes, event_bytes, big_bytes = 20_000_000, 5_000_000, 4 * 1024 * 1024

    def chat() -> tuple[Chunks, int]:
        body, events = chat_stream(chat_bytes)
        return fixed_chunks(body, 64 * 1024), events

    def chat_event() -> tuple[Chunks, int]:
        body, events = chat_stream(event_bytes)
        return event_chunks(body), events

    def anthropic() -> tuple[Chunks, int]:
        body, events = anthropic_stream(chat_bytes)
        return fixed_chunks(body, 64 * 1024), events

    def anthropic_event() -> tuple[Chunks, int]:
        body, events = anthropic_stream(event_bytes)
        return event_chunks(body), events

    def big() -> tuple[Chunks, int]:
        body, events = big_stream(big_bytes)
        return fixed_chunks(body, 4096), events

    def crlf() -> tuple[Chunks, int]:
        body, events = chat_stream(chat_bytes)
        return crlf_split_chunks(body.replace(b"\n", b"\r\n"), 64 * 1024), events

    return {
        "chat": ("chat (64 KiB chunks)", chat),
        "chat-event": ("chat-event (OpenAI, one event per chunk)", chat_event),
        "anthropic": ("anthropic (event: + data:, 64 KiB chunks)", anthropic),
        "anthropic-event": (
            "anthropic-event (event: + data:, one event per chunk)",
            anthropic_event,
        ),
        "big": ("big (4 KiB chunks)", big),
        "crlf": ("crlf (~64 KiB chunks, every cut inside a CRLF)", crlf),
    }


# --- callgrind mode --------------------------------------------------------------

_COLLECTED = re.compile(r"Collected : (\d+)")
INSTRUCTION_PEERS = ("httpx-sse", "launchdarkly", "anthropic")


def child_main(decoder: str, workload: str, passes: int, quick: bool) -> None:
    # One callgrind child: build the input, warm up, decode it ``passes`` times.
    _, make = workloads(quick=quick, instructions=True)[workload]
    chunks, _ = make()
    runner = DECODERS[decoder]
    runner(chunks[:50])
    print(json.dumps([runner(chunks) for _ in range(passes)]))


def count_instructions(decoder: str, workload: str, passes: int, quick: bool, expected: int) -> int:
    """Instructions of one child process decoding the workload ``passes`` times."""
    with tempfile.TemporaryDirectory(prefix="sr-callgrind-") as scratch:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={os.path.join(scratch, 'callgrind.out')}",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            decoder,
            "--only",
            workload,
            "--passes",
            str(passes),
            *(["--quick"] if quick else []),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{decoder} on {workload}: the child failed:\n{done.stderr[-3000:]}")
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    if any(events != expected for events in counts):
        raise RuntimeError(f"{decoder} on {workload}: {counts} events, expected {expected}")
    match = _COLLECTED.search(done.stderr)
    if match is None:
        raise RuntimeError(f"{decoder} on {workload}: no instruction count from valgrind")
    return int(match.group(1))


def instructions_main(chosen: Sequence[str], decoders: Sequence[str], quick: bool) -> int:
    table = workloads(quick=quick, instructions=True)
    print(
        f"Python {sys.version.split()[0]}; instructions per pass = (3 passes - 1 pass) / 2, "
        "counted by callgrind; 'sr ratio' = peer instructions / streamrecover instructions"
    )
    inputs = {key: table[key][1]() for key in chosen}
    jobs = [(key, name, passes) for key in chosen for name in decoders for passes in (1, 3)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # counts do not depend on the load
        totals = list(
            pool.map(
                lambda job: count_instructions(job[1], job[0], job[2], quick, inputs[job[0]][1]),
                jobs,
            )
        )
    counted = dict(zip(jobs, totals, strict=True))
    ratios: dict[str, float] = {}
    for key in chosen:
        title = table[key][0]
        chunks, expected = inputs[key]
        print(
            f"\n{title}: {sum(map(len, chunks)) / 1e6:.1f} MB in {len(chunks)} chunks, "
            f"{expected} events"
        )
        per_pass = {
            name: (counted[(key, name, 3)] - counted[(key, name, 1)]) / 2 for name in decoders
        }
        ours = per_pass["streamrecover"]
        print(f"  {'decoder':<14} {'instructions':>15} {'per event':>11} {'sr ratio':>9}")
        for name, value in per_pass.items():
            print(f"  {name:<14} {value:>15,.0f} {value / expected:>11,.0f} {value / ours:>8.2f}x")
        fastest = min((name for name in decoders if name != "streamrecover"), key=per_pass.get)
        ratios[key] = per_pass[fastest] / ours
        print(f"  streamrecover / fewest-instruction peer ({fastest}): {ratios[key]:.2f}x")
    worst = min(ratios, key=ratios.__getitem__)
    print(
        f"\nminimum over workloads of streamrecover / fewest-instruction peer: "
        f"{ratios[worst]:.2f}x ({worst})"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke test")
    parser.add_argument("--repeat", type=int, default=None, help="interleaved rounds per workload")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with callgrind"
    )
    parser.add_argument(
        "--decoders",
        default="",
        help="comma-separated decoders (default: all by time; "
        f"streamrecover,{','.join(INSTRUCTION_PEERS)} with --instructions)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child, args.only, args.passes, args.quick)
        return 0
    table = workloads(quick=args.quick, instructions=args.instructions)
    chosen = args.only.split(",") if args.only else list(table)
    unknown = [key for key in chosen if key not in table]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {', '.join(table)}")
    if args.decoders:
        decoders = ["streamrecover", *(d for d in args.decoders.split(",") if d != "streamrecover")]
    elif args.instructions:
        decoders = ["streamrecover", *INSTRUCTION_PEERS]
    else:
        decoders = list(DECODERS)
    unknown = [name for name in decoders if name not in DECODERS]
    if unknown:
        parser.error(f"unknown decoders {unknown}; known: {', '.join(DECODERS)}")
    if args.instructions:
        if shutil.which("valgrind") is None:
            parser.error("valgrind is not installed")
        return instructions_main(chosen, decoders, args.quick)
    repeat = args.repeat or (2 if args.quick else 7)
    print(f"Python {sys.version.split()[0]}; 'sr speed-up' = peer seconds / streamrecover seconds")
    ok = True
    ratios: dict[str, float] = {}
    for key in chosen:
        title, make = table[key]
        chunks, expected = make()
        ratio = bench(title, chunks, expected, repeat, decoders)
        if ratio is None:
            ok = False
        else:
            ratios[key] = ratio
    if ratios:
        worst = min(ratios, key=ratios.__getitem__)
        print(
            f"\nminimum over workloads of streamrecover / fastest peer (median events/s): "
            f"{ratios[worst]:.2f}x ({worst})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
