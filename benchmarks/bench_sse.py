"""Side-by-side throughput of streamrecover's SSE decoder and its peers.

Run:  python benchmarks/bench_sse.py            (full inputs, best of 5)
      python benchmarks/bench_sse.py --quick    (small inputs, a smoke test)

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
"""

from __future__ import annotations

import argparse
import codecs
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from streamrecover.core.sse import SSEDecoder

Chunks = Sequence[bytes]
Runner = Callable[[Chunks], int]

# Text of the kind a chat model streams, with non-ASCII on purpose: accented
# Latin, CJK, emoji (4-byte UTF-8) and a ZWJ sequence.
_WORDS = (
    "the",
    "stream",
    "model",
    "token",
    "answer",
    "because",
    "résumé",
    "café",
    "naïve",
    "日本語",
    "の",
    "テキスト",
    "中文",
    "🙂",
    "🚀",
    "👩\u200d💻",
    "Ünïcödé",
    "—",
    "«ok»",
    "\n",
    "\n\n",
    "Σ",
    "∀x",
    "data",
    "value",
    ":",
    '"quoted"',
    "back\\slash",
)


def chat_stream(target_bytes: int, *, seed: int = 7) -> tuple[bytes, int]:
    """Return (body, event count): OpenAI ``chat.completion.chunk`` events of about target_bytes."""
    rng = random.Random(seed)
    created = 1_735_000_000
    parts: list[bytes] = []
    size = 0
    events = 0
    while size < target_bytes:
        completion = f"chatcmpl-{rng.getrandbits(96):024x}"
        head = {
            "id": completion,
            "object": "chat.completion.chunk",
            "created": created,
            "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_f33667828e",
        }
        first = dict(
            head,
            choices=[
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": ""},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        )
        chunk_events = [first]
        for _ in range(rng.randint(50, 400)):
            content = "".join(
                (" " if rng.random() < 0.7 else "") + rng.choice(_WORDS)
                for _ in range(rng.randint(1, 3))
            )
            chunk_events.append(
                dict(
                    head,
                    choices=[
                        {
                            "index": 0,
                            "delta": {"content": content},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    ],
                )
            )
        chunk_events.append(
            dict(
                head, choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]
            )
        )
        for payload in chunk_events:
            line = (
                b"data: "
                + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
                + b"\n\n"
            )
            parts.append(line)
            size += len(line)
        parts.append(b"data: [DONE]\n\n")
        size += 14
        events += len(chunk_events) + 1
        created += 1
    return b"".join(parts), events


def anthropic_stream(target_bytes: int, *, seed: int = 9) -> tuple[bytes, int]:
    """Return (body, event count): Anthropic Messages events (``event:`` + ``data:``)."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    size = 0
    events = 0

    def add(kind: str, payload: dict[str, object]) -> None:
        nonlocal size, events
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        line = f"event: {kind}\ndata: {data}\n\n".encode()
        parts.append(line)
        size += len(line)
        events += 1

    while size < target_bytes:
        message_id = f"msg_{rng.getrandbits(96):024x}"
        add(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 25, "output_tokens": 1},
                },
            },
        )
        add(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        add("ping", {"type": "ping"})
        deltas = rng.randint(50, 400)
        for _ in range(deltas):
            text = "".join(
                (" " if rng.random() < 0.7 else "") + rng.choice(_WORDS)
                for _ in range(rng.randint(1, 3))
            )
            add(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": text},
                },
            )
        add("content_block_stop", {"type": "content_block_stop", "index": 0})
        add(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": deltas},
            },
        )
        add("message_stop", {"type": "message_stop"})
    return b"".join(parts), events


def event_chunks(body: bytes) -> list[bytes]:
    """Cut body after every blank line: one event per chunk (LF streams only)."""
    pieces = body.split(b"\n\n")
    last = pieces.pop()
    chunks = [piece + b"\n\n" for piece in pieces]
    if last:
        chunks.append(last)
    return chunks


def big_stream(line_bytes: int) -> tuple[bytes, int]:
    """Return (body, 2): one single-line event of line_bytes, then one small event."""
    unit = '{"k":"vålue 日本 🙂"},'.encode()
    payload = (unit * (line_bytes // len(unit) + 1))[:line_bytes]
    payload = payload.decode("utf-8", "ignore").encode()  # no character cut at the end
    return b"data: " + payload + b"\n\n" + b"data: small\n\n", 2


def fixed_chunks(body: bytes, size: int) -> list[bytes]:
    """Cut body into pieces of size bytes (the last one shorter)."""
    return [body[i : i + size] for i in range(0, len(body), size)]


def crlf_split_chunks(body: bytes, approx: int) -> list[bytes]:
    """Cut body about every approx bytes, each cut moved to fall inside a CRLF pair."""
    chunks = []
    start = 0
    while start < len(body):
        cut = body.find(b"\r\n", start + approx)
        if cut < 0:
            chunks.append(body[start:])
            break
        chunks.append(body[start : cut + 1])  # ends with the CR; the LF starts the next
        start = cut + 1
    return chunks


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


def time_once(runner: Runner, chunks: Chunks) -> tuple[float, int]:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        events = runner(chunks)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, events


def bench(name: str, chunks: Chunks, expected: int, repeat: int) -> float | None:
    """Time every decoder on chunks; print a table; return ours over the fastest peer.

    None when streamrecover counted wrong (or a peer did).
    """
    size = sum(map(len, chunks))
    print(
        f"\n{name}: {size / 1e6:.1f} MB in {len(chunks)} chunks, {expected} events, "
        f"median of {repeat} interleaved rounds"
    )
    results = {label: Result(label, [], -1) for label in DECODERS}
    for runner in DECODERS.values():  # imports and first-call caches, untimed
        runner(chunks[:50])
    # Rounds interleave the decoders, so that a busy spell of a shared machine
    # does not fall on one decoder's runs only.
    for _ in range(repeat):
        for label, runner in DECODERS.items():
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke test")
    parser.add_argument("--repeat", type=int, default=None, help="interleaved rounds per workload")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    args = parser.parse_args(argv)
    repeat = args.repeat or (2 if args.quick else 7)
    chat_bytes = 500_000 if args.quick else 20_000_000
    event_bytes = 300_000 if args.quick else 5_000_000
    big_bytes = 256 * 1024 if args.quick else 4 * 1024 * 1024

    print(f"Python {sys.version.split()[0]}; 'sr speed-up' = peer seconds / streamrecover seconds")
    chat, chat_events = chat_stream(chat_bytes)
    chat_small, chat_small_events = chat_stream(event_bytes)
    anth, anth_events = anthropic_stream(chat_bytes)
    anth_small, anth_small_events = anthropic_stream(event_bytes)
    big, big_events = big_stream(big_bytes)
    crlf = chat.replace(b"\n", b"\r\n")
    workloads: dict[str, tuple[str, Callable[[], Chunks], int]] = {
        "chat": ("chat (64 KiB chunks)", lambda: fixed_chunks(chat, 64 * 1024), chat_events),
        "chat-event": (
            "chat-event (OpenAI, one event per chunk)",
            lambda: event_chunks(chat_small),
            chat_small_events,
        ),
        "anthropic": (
            "anthropic (event: + data:, 64 KiB chunks)",
            lambda: fixed_chunks(anth, 64 * 1024),
            anth_events,
        ),
        "anthropic-event": (
            "anthropic-event (event: + data:, one event per chunk)",
            lambda: event_chunks(anth_small),
            anth_small_events,
        ),
        "big": ("big (4 KiB chunks)", lambda: fixed_chunks(big, 4096), big_events),
        "crlf": (
            "crlf (~64 KiB chunks, every cut inside a CRLF)",
            lambda: crlf_split_chunks(crlf, 64 * 1024),
            chat_events,
        ),
    }
    chosen = args.only.split(",") if args.only else list(workloads)
    ok = True
    ratios: dict[str, float] = {}
    for key in chosen:
        title, make, expected = workloads[key]
        ratio = bench(title, make(), expected, repeat)
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
