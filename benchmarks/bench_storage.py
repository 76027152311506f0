"""What recording a stream into storage costs: per chunk, per flush, and end to end.

Run:  python benchmarks/bench_storage.py            (40,000-event stream, 3 rounds)
      python benchmarks/bench_storage.py --quick    (small stream, a smoke test)

Five parts, every backend side by side with no storage, default settings
(``Checkpointer`` interval 0.25 s, ``max_bytes`` 16 Ki characters):

1. Recording cost per chunk, in this process: the content deltas of the
   benchmark stream go through ``Checkpointer.append`` one by one (flushing
   when the interval passes or the buffer fills, as in a real stream), then
   one final ``flush``. "net" subtracts the cost of the bare loop. The stored
   text is read back and checked.
2. One flush: ``Storage.append`` of one 16 Ki-character batch (what a full
   buffer writes), mean over many calls on one record.
3. One lease renewal: ``Storage.renew`` with the writer's epoch, mean over
   many calls (a stream renews every ``renew_interval``, 2 s by default,
   while it writes nothing else).
4. Watch latency: a writer thread appends timestamped chunks 5 ms apart; a
   ``Watcher`` (what ``Client.watch`` returns) follows the record; the time
   from the ``append`` call to the watcher's ``TextDelta``, median and p99.
   SQLite and disk poll (``Storage.poll_interval``, 50 ms); memory is woken by
   a condition; Redis blocks in ``XREAD``.
5. End to end: ``streamrecover.Client`` / ``AsyncClient`` (asyncio) reading
   the long stream of ``bench_e2e.py`` from the out-of-process fake server,
   with ``storage=None`` (default retry policy) and with each backend; fresh
   processes, rounds interleaved, best run and range reported. The overhead
   is each backend's best time over the no-storage best time, by wall clock
   and by CPU time (``time.process_time``). The sync clients take turns in one
   process (no storage, memory, sqlite, disk, no storage, ...), so that they
   share the interpreter, the heap and the moment's load; the async ones run
   in fresh processes.

``redis://`` joins every part when a ``redis-server`` binary is on PATH: a
throwaway server on a free loopback port, no persistence (``_redis.py``);
its end-to-end row is also compared with memory storage's.

sqlite and disk write under a fresh ``tempfile.mkdtemp()`` directory; where
that is matters (tmpfs or disk), so the table says.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence

from _redis import BenchRedis
from _server import WARMUP_EVENTS, BenchServer, chat_answer
from bench_e2e import (
    Measured,
    _digest,
    cpu_per_event,
    events_per_second,
    measure,
    measure_alternating,
)

from streamrecover.core.events import Completed, TextDelta
from streamrecover.storage import Checkpointer, Storage, new_record, open_storage
from streamrecover.watch import Watcher

#: The backends measured; "redis" joins when a redis-server binary is found.
BACKENDS: tuple[str, ...] = ("memory", "sqlite", "disk")
REDIS_URL = ""
REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Write a long answer."}]}


def _url(backend: str, directory: str) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{directory}/streams.db"
    if backend == "redis":
        return f"{REDIS_URL}?prefix=bench{os.getpid()}-{os.path.basename(directory)}:"
    return f"disk:///{directory}/streams"


def _fresh_record(storage: Storage) -> str:
    record = new_record(provider="openai", model="gpt-4o", request=REQUEST)
    storage.create(record)
    record_id: str = record.id
    return record_id


def _bare_loop(pieces: Sequence[str]) -> float:
    # What the observer does per delta without storage: a loop and a type test.
    sink: list[str] | None = None
    start = time.perf_counter()
    for piece in pieces:
        if sink is not None:
            sink.append(piece)
    return time.perf_counter() - start


def record_cost(
    pieces: Sequence[str], text: str, repeat: int
) -> tuple[float, dict[str, tuple[float, int]]]:
    """Best seconds of the bare loop, and per backend (best seconds, flushes) of recording."""
    bare = min(_bare_loop(pieces) for _ in range(repeat))
    results: dict[str, tuple[float, int]] = {}
    for backend in BACKENDS:
        directory = tempfile.mkdtemp(prefix="sr-bench-storage-")
        try:
            with open_storage(_url(backend, directory)) as storage:
                flushes = 0
                real_append = storage.append

                def counting_append(
                    record_id: str,
                    chunks: Sequence[str],
                    *,
                    epoch: int | None = None,
                    real: Callable[..., None] = real_append,
                ) -> None:
                    nonlocal flushes
                    flushes += 1
                    real(record_id, chunks, epoch=epoch)

                storage.append = counting_append  # type: ignore[method-assign]
                best = float("inf")
                for _ in range(repeat):
                    record_id = _fresh_record(storage)
                    checkpointer = Checkpointer(storage, record_id, committed_length=0)
                    flushes = 0
                    gc.collect()
                    start = time.perf_counter()
                    for piece in pieces:
                        checkpointer.append(piece)
                    checkpointer.flush()
                    best = min(best, time.perf_counter() - start)
                    if storage.get(record_id).text != text:
                        raise RuntimeError(f"{backend}: the stored text differs")
                results[backend] = (best, flushes)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return bare, results


def flush_cost(text: str, calls: int) -> dict[str, tuple[float, float]]:
    """Per backend, mean seconds of one ``Storage.append`` of a 16 Ki-character batch,
    and of the fixed cost of one stream (``create`` a record, then ``mark`` it completed).
    """
    batch = (text * (16384 // max(len(text), 1) + 1))[:16384]
    # Several small chunks, as the checkpointer hands them over.
    chunks = [batch[i : i + 9] for i in range(0, len(batch), 9)]
    results = {}
    for backend in BACKENDS:
        directory = tempfile.mkdtemp(prefix="sr-bench-storage-")
        try:
            with open_storage(_url(backend, directory)) as storage:
                record_id = _fresh_record(storage)
                storage.append(record_id, chunks)  # first write creates files and pages
                start = time.perf_counter()
                for _ in range(calls):
                    storage.append(record_id, chunks)
                per_flush = (time.perf_counter() - start) / calls
                start = time.perf_counter()
                for _ in range(calls // 4):
                    storage.mark(_fresh_record(storage), "completed")
                per_stream = (time.perf_counter() - start) / (calls // 4)
                results[backend] = (per_flush, per_stream)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return results


def renew_cost(calls: int) -> dict[str, float]:
    """Per backend, mean seconds of one lease renewal (``Storage.renew`` with the epoch).

    A stream renews every ``renew_interval`` (10 s by default) while it writes
    nothing else, from a background thread: this is what each one costs.
    """
    results = {}
    for backend in BACKENDS:
        directory = tempfile.mkdtemp(prefix="sr-bench-storage-")
        try:
            with open_storage(_url(backend, directory)) as storage:
                record_id = _fresh_record(storage)
                epoch = storage.get(record_id).epoch
                storage.renew(record_id, epoch=epoch)
                start = time.perf_counter()
                for _ in range(calls):
                    storage.renew(record_id, epoch=epoch)
                results[backend] = (time.perf_counter() - start) / calls
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return results


def watch_latency(appends: int, gap: float) -> dict[str, list[float]]:
    """Per backend, seconds from a writer's ``Storage.append`` call to a watcher's TextDelta.

    A writer thread appends ``appends`` chunks, ``gap`` seconds apart, each
    holding the ``perf_counter`` reading taken just before its append; a
    :class:`Watcher` (what ``Client.watch`` returns) follows the record in
    this thread.
    """
    results: dict[str, list[float]] = {}
    for backend in BACKENDS:
        directory = tempfile.mkdtemp(prefix="sr-bench-storage-")
        try:
            with open_storage(_url(backend, directory)) as storage:
                record_id = _fresh_record(storage)
                def write(storage: Storage = storage, record_id: str = record_id) -> None:
                    for _ in range(appends):
                        time.sleep(gap)
                        storage.append(record_id, [f"<{time.perf_counter()!r}>"])
                    storage.mark(record_id, "completed")

                writer = threading.Thread(target=write)
                latencies: list[float] = []
                writer.start()
                try:
                    for event in Watcher(storage, record_id):
                        now = time.perf_counter()
                        if isinstance(event, TextDelta):
                            for piece in event.text.strip("<>").split("><"):
                                latencies.append(now - float(piece))
                        elif isinstance(event, Completed):
                            break
                finally:
                    writer.join()
                if len(latencies) != appends:
                    raise RuntimeError(f"{backend}: the watcher saw {len(latencies)} appends")
                results[backend] = sorted(latencies)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return results


def _quantile(values: Sequence[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def _filesystem() -> str:
    directory = tempfile.gettempdir()
    try:
        done = subprocess.run(["df", "-T", directory], capture_output=True, text=True, check=True)
        kind = done.stdout.splitlines()[1].split()[1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        kind = "unknown"
    return f"{directory} on {kind}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small stream, 1 round (smoke test)")
    parser.add_argument("--events", type=int, default=None, help="SSE events in the long stream")
    parser.add_argument("--rounds", type=int, default=None, help="fresh processes per contender")
    parser.add_argument("--inner", type=int, default=4, help="timed streams per process")
    parser.add_argument("--no-async", action="store_true", help="skip the AsyncClient rows")
    parser.add_argument("--no-redis", action="store_true", help="skip redis:// even if found")
    args = parser.parse_args(argv)
    with BenchRedis() as redis_url:
        global BACKENDS, REDIS_URL
        if redis_url is not None and not args.no_redis:
            BACKENDS, REDIS_URL = (*BACKENDS, "redis"), redis_url
            print(f"redis: a throwaway redis-server at {redis_url} (no persistence)")
        else:
            print("redis: no redis-server binary found (or --no-redis): not measured")
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    events = args.events or (2_000 if args.quick else 40_000)
    rounds = args.rounds or (1 if args.quick else 3)
    inner = 1 if args.quick else args.inner
    repeat = 2 if args.quick else 5

    answer = chat_answer(events)
    pieces, text = answer.pieces, answer.text
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; storage in {_filesystem()}")
    print(
        f"stream: {events:,} events, {len(pieces):,} text deltas, {len(text):,} characters; "
        "Checkpointer defaults (interval 0.25 s, max_bytes 16384)"
    )

    bare, recorded = record_cost(pieces, text, repeat)
    print(f"\n1. recording cost per delta (Checkpointer.append + flushes), best of {repeat}")
    print(f"  {'backend':<8} {'ns/delta':>9} {'net ns':>8} {'flushes':>8} {'ms total':>9}")
    print(f"  {'none':<8} {bare / len(pieces) * 1e9:>9.0f} {0:>8.0f} {0:>8} {bare * 1e3:>9.2f}")
    net: dict[str, float] = {}
    for backend, (seconds, flushes) in recorded.items():
        net[backend] = (seconds - bare) / len(pieces)
        print(
            f"  {backend:<8} {seconds / len(pieces) * 1e9:>9.0f} {net[backend] * 1e9:>8.0f} "
            f"{flushes:>8} {seconds * 1e3:>9.2f}"
        )

    flushed = flush_cost(text, 20 if args.quick else 200)
    print(
        "\n2. one flush (Storage.append of a 16 Ki-character batch) and the fixed cost of one"
        " stream (create + mark completed), means"
    )
    for backend, (per_flush, per_stream) in flushed.items():
        print(
            f"  {backend:<8} flush {per_flush * 1e6:>8.1f} µs   "
            f"create+mark {per_stream * 1e6:>8.1f} µs"
        )

    renewed = renew_cost(20 if args.quick else 500)
    print(
        "\n3. one lease renewal (Storage.renew with the epoch; every renew_interval, 2 s,"
        " while a stream writes nothing else)"
    )
    for backend, seconds in renewed.items():
        print(f"  {backend:<8} {seconds * 1e6:>8.1f} µs")

    appends = 20 if args.quick else 200
    watched = watch_latency(appends, 0.005)
    print(
        f"\n4. watch latency: Storage.append called -> the Watcher's TextDelta, "
        f"{appends} appends 5 ms apart"
    )
    for backend, latencies in watched.items():
        print(
            f"  {backend:<8} median {statistics.median(latencies) * 1e3:>7.2f} ms   "
            f"p99 {_quantile(latencies, 0.99) * 1e3:>7.2f} ms   "
            f"max {latencies[-1] * 1e3:>7.2f} ms"
        )

    names = [f"sr-sync-{v}" for v in ("nostore", *BACKENDS)]
    if not args.no_async:
        names += [f"sr-asyncio-{v}" for v in ("nostore", *BACKENDS)]
    sync_names = [name for name in names if name.startswith("sr-sync-")]
    async_names = [name for name in names if not name.startswith("sr-sync-")]
    print(
        f"\n5. end to end: sync rows alternate in one process per round ({rounds} rounds x "
        f"{inner} turns); async rows are fresh processes ({rounds} rounds x {inner} streams)"
    )
    warm = _digest(chat_answer(WARMUP_EVENTS, seed=12).text)
    with BenchServer(events) as server:
        results = measure_alternating(
            sync_names,
            url=server.url,
            rounds=rounds,
            inner=inner,
            expected=_digest(text),
            warm_expected=warm,
        )
        if async_names:
            results.update(
                measure(
                    async_names,
                    url=server.url,
                    rounds=rounds,
                    inner=inner,
                    expected=_digest(text),
                    warm_expected=warm,
                    memory=False,
                )
            )
    print(
        f"  {'contender':<20} {'events/s best':>13} {'(range of runs)':>19} {'CPU µs/ev':>9} "
        f"{'wall vs none':>12} {'CPU vs none':>11} {'predicted':>9}  text"
    )
    ok = True
    for name in names:
        measured: Measured = results[name]
        kind, variant = name.rsplit("-", 1)
        base = results[f"{kind}-nostore"]
        top, low, _ = events_per_second(measured, events)
        cpu = cpu_per_event(measured, events)
        wall_over = min(w for w, _ in measured.runs) / min(w for w, _ in base.runs) - 1
        cpu_over = min(c for _, c in measured.runs) / min(c for _, c in base.runs) - 1
        # Part 1's net cost per delta over the no-storage CPU time per event.
        base_cpu = cpu_per_event(base, events) * 1e-6 * events
        predicted = (
            f"{100 * net[variant] * len(pieces) / base_cpu:+.1f} %" if variant in net else "-"
        )
        text_ok = "ok" if measured.text_ok else "MISMATCH"
        ok &= bool(measured.text_ok)
        print(
            f"  {name:<20} {top:>13,.0f} {f'{low:,.0f}-{top:,.0f}':>19} {cpu:>9.2f} "
            f"{100 * wall_over:>+10.1f} % {100 * cpu_over:>+9.1f} % {predicted:>9}  {text_ok}"
        )
    print("  'predicted': part 1's net recording cost over the no-storage CPU time of the stream")
    if "redis" in BACKENDS:
        for kind in ("sr-sync", "sr-asyncio"):
            if f"{kind}-redis" in results:
                over = (
                    min(c for _, c in results[f"{kind}-redis"].runs)
                    / min(c for _, c in results[f"{kind}-memory"].runs)
                    - 1
                )
                print(f"  {kind}-redis CPU vs {kind}-memory: {100 * over:+.1f} %")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
