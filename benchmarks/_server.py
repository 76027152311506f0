"""A fast fake OpenAI Chat Completions server for the end-to-end benchmarks.

The server runs in its own process (``multiprocessing``, spawn), so that its
work never shows up in the CPU time of the client being measured. Every
response is rendered to bytes once, when the server starts, and each request is
answered with one ``sendall`` of those bytes: the kernel, not Python, moves the
data, so the server is never the bottleneck (the "raw socket" contender of
``bench_e2e.py`` shows the ceiling it allows).

The answer is one long ``chat.completion.chunk`` stream as the OpenAI API sends
it with ``stream_options.include_usage``: a role chunk, content chunks of one to
three words (accented Latin, CJK, emoji, a ZWJ sequence, escapes), a chunk with
``finish_reason``, a usage chunk with ``choices: []`` and ``data: [DONE]``.
The request's ``model`` picks the response: ``"warmup"`` gets a short answer
(to warm a client up before it is timed), anything else the long one.

Framing (``framing=``): ``"event"`` sends each SSE event as its own HTTP chunk,
as a real server that flushes every event does; ``"bulk"`` packs the body in
64 KiB chunks (fewer, larger reads).
"""

from __future__ import annotations

import json
import multiprocessing
import random
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType

__all__ = ["BenchServer", "ChatAnswer", "chat_answer", "render_response"]

WARMUP_MODEL = "warmup"
WARMUP_EVENTS = 300

# What a chat model streams, with non-ASCII on purpose: 2-, 3- and 4-byte
# UTF-8, a ZWJ sequence, quotes and backslashes that JSON escapes, newlines.
_WORDS = (
    "the",
    "stream",
    "model",
    "token",
    "answer",
    "because",
    "recovery",
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
    "is",
    "a",
    "of",
    "and",
    "to",
    "in",
    "that",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatAnswer:
    """A rendered stream: its SSE events (each ``data: ...\\n\\n``) and the answer text.

    ``pieces`` are the content deltas in order; ``text`` is their concatenation.
    """

    events: tuple[bytes, ...]
    pieces: tuple[str, ...]

    @property
    def text(self) -> str:
        """The whole answer."""
        return "".join(self.pieces)

    @property
    def body_size(self) -> int:
        """Bytes of SSE text (before HTTP chunk framing)."""
        return sum(map(len, self.events))


def chat_answer(events: int, *, seed: int = 11) -> ChatAnswer:
    """Build one OpenAI chat answer of ``events`` SSE events (``[DONE]`` included).

    Deterministic for a given ``seed``, so the parent process computes the
    reference text that the server process streams. ``events`` must be >= 5.
    """
    if events < 5:
        raise ValueError("an answer needs at least 5 events")
    rng = random.Random(seed)
    head = {
        "id": f"chatcmpl-{rng.getrandbits(120):030x}",
        "object": "chat.completion.chunk",
        "created": 1_735_000_000,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_f33667828e",
    }

    def chunk(choices: list[object], **extra: object) -> bytes:
        payload = dict(head, choices=choices, **extra)
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return b"data: " + data.encode() + b"\n\n"

    def choice(delta: dict[str, object], finish: str | None = None) -> list[object]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

    frames = [chunk(choice({"role": "assistant", "content": "", "refusal": None}))]
    pieces: list[str] = []
    for _ in range(events - 4):
        piece = "".join(
            (" " if rng.random() < 0.7 else "") + rng.choice(_WORDS)
            for _ in range(rng.randint(1, 3))
        )
        pieces.append(piece)
        frames.append(chunk(choice({"content": piece})))
    frames.append(chunk(choice({}, "stop")))
    usage = {"prompt_tokens": 25, "completion_tokens": events - 4, "total_tokens": events + 21}
    frames.append(chunk([], usage=usage))
    frames.append(b"data: [DONE]\n\n")
    return ChatAnswer(events=tuple(frames), pieces=tuple(pieces))


def render_response(answer: ChatAnswer, framing: str = "event") -> bytes:
    """Return the whole HTTP/1.1 response (head and chunked body) for ``answer``."""
    if framing == "event":
        parts: Sequence[bytes] = answer.events
    elif framing == "bulk":
        body = b"".join(answer.events)
        parts = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    else:
        raise ValueError(f"framing is 'event' or 'bulk', not {framing!r}")
    head = (
        b"HTTP/1.1 200 OK\r\n"
        b"content-type: text/event-stream; charset=utf-8\r\n"
        b"transfer-encoding: chunked\r\n"
        b"cache-control: no-cache\r\n"
        b"x-request-id: req_bench\r\n"
        b"openai-processing-ms: 12\r\n"
        b"connection: close\r\n\r\n"
    )
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in parts]
    return head + b"".join(chunks) + b"0\r\n\r\n"


def _read_request(conn: socket.socket) -> bytes:
    # Read the head and a Content-Length body; return the body.
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return b""
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        piece = conn.recv(65536)
        if not piece:
            break
        body += piece
    return body


def _handle(conn: socket.socket, long_response: bytes, warm_response: bytes) -> None:
    with conn:
        try:
            body = _read_request(conn)
            try:
                model = json.loads(body).get("model") if body else None
            except ValueError:
                model = None
            conn.sendall(warm_response if model == WARMUP_MODEL else long_response)
            conn.shutdown(socket.SHUT_WR)
            # Wait for the client to close, so our close is never an RST.
            while conn.recv(65536):
                pass
        except OSError:
            pass  # the client left early: nothing to do


def _serve(events: int, seed: int, framing: str, ready: Connection) -> None:
    long_response = render_response(chat_answer(events, seed=seed), framing)
    warm_response = render_response(chat_answer(WARMUP_EVENTS, seed=seed + 1), framing)
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    ready.send(listener.getsockname()[1])
    ready.close()
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(
            target=_handle, args=(conn, long_response, warm_response), daemon=True
        ).start()


class BenchServer:
    """Run the fake server in a child process; use as a context manager.

    ``url`` is the OpenAI-style base URL (``http://127.0.0.1:PORT/v1``).
    """

    def __init__(self, events: int, *, seed: int = 11, framing: str = "event") -> None:
        self.events = events
        self.seed = seed
        self.framing = framing
        self.port = 0
        self._process: multiprocessing.process.BaseProcess | None = None

    @property
    def url(self) -> str:
        """The base URL of the running server."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> BenchServer:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve,
            args=(self.events, self.seed, self.framing, sender),
            daemon=True,
        )
        self._process.start()
        sender.close()
        if not receiver.poll(60):
            self._process.terminate()
            raise RuntimeError("the benchmark server did not start")
        self.port = receiver.recv()
        receiver.close()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(10)
            self._process = None
