"""A reference answer, rendered as each provider streams it, and a server that continues it.

The client tests compare every stitched answer with one reference text. This
module renders that text (or any part of it) as the SSE frames of each wire
format (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages, Gemini),
reads a request body back to find the partial answer a resume request carries,
and extends :class:`~streamrecover.testing.server.FaultServer` with two steps:

* :class:`Respond` builds the rest of the script from the request the server
  received, so a continuation answers with the reference text after exactly the
  partial answer the client sent (wherever the client was cut off);
* :class:`WaitUntil` holds the script until the test says so (the test saw the
  text it needs before the server breaks the connection), which makes a fault
  "after partial output" deterministic without timing.

Only what the parsers of ``streamrecover.providers`` require is rendered; the
frame shapes follow the providers' documented stream events (see the golden
transcripts in ``tests/providers/transcripts``).
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.events import Event, Rewind, TextDelta
from streamrecover.core.policy import RetryPolicy
from streamrecover.storage import StreamRecord
from streamrecover.testing.server import (
    Close,
    FaultServer,
    LastChunk,
    RecordedRequest,
    SendChunk,
    Sleep,
    Step,
    http_response,
    sse_frame,
    sse_head,
)

__all__ = [
    "FAST_RETRY",
    "FINISH_REASONS",
    "INPUT_TOKENS",
    "OUTPUT_TOKENS",
    "PROVIDERS",
    "REFERENCE",
    "Outcome",
    "Received",
    "ReferenceServer",
    "Respond",
    "WaitUntil",
    "answer",
    "base_url",
    "frames",
    "partial_of",
    "pieces",
    "prefix",
    "request_body",
    "text_frame",
]

EventT = TypeVar("EventT", bound=Event)

#: The answer every fake server gives: three paragraphs, accents, an emoji, a dash.
REFERENCE = (
    "Streams break; recovery should never show.\n\n"
    "A résumé of the answer keeps every word once — never twice, naïvely or not 🙂.\n\n"
    "That is all, and it is exact."
)

PROVIDERS = ("openai", "openai-responses", "anthropic", "gemini")

#: What each provider's terminal frames report.
FINISH_REASONS = {
    "openai": "stop",
    "openai-responses": "completed",
    "anthropic": "end_turn",
    "gemini": "STOP",
}
INPUT_TOKENS = 11
OUTPUT_TOKENS = 22

_MODELS = {
    "openai": "gpt-4o-mini",
    "openai-responses": "gpt-4.1",
    # Before Claude 4.6: the partial answer goes back as an assistant prefill.
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.0-flash",
}
# Where each provider's API root sits on the fake server.
_BASE_PATHS = {"openai": "/v1", "openai-responses": "/v1", "anthropic": "", "gemini": ""}


def pieces(text: str) -> list[str]:
    """Split ``text`` into word pieces, each with the whitespace before it (no text lost)."""
    found = re.findall(r"\s*\S+", text)
    tail = text[len("".join(found)) :]
    return [*found, tail] if tail else found


def request_body(provider: str, prompt: str = "Say it.") -> dict[str, Any]:
    """A minimal streaming request body for ``provider``."""
    model = _MODELS[provider]
    if provider == "openai":
        return {"model": model, "messages": [{"role": "user", "content": prompt}]}
    if provider == "openai-responses":
        return {"model": model, "input": prompt}
    if provider == "anthropic":
        return {
            "model": model,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": prompt}],
        }
    return {"model": model, "contents": [{"role": "user", "parts": [{"text": prompt}]}]}


def base_url(server: FaultServer, provider: str) -> str:
    """The ``base_url`` a client of ``provider`` uses to reach ``server``."""
    return server.url(_BASE_PATHS[provider])


# ---------------------------------------------------------------------------
# Frames


def _data(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def preamble_frames(provider: str) -> list[bytes]:
    """The frames a provider sends before the first text."""
    if provider == "openai":
        return [_openai({"role": "assistant", "content": ""})]
    if provider == "openai-responses":
        response = {"id": "resp_ref", "object": "response", "status": "in_progress", "output": []}
        return [
            sse_frame(
                _data({"type": "response.created", "sequence_number": 0, "response": response}),
                event="response.created",
            )
        ]
    if provider == "anthropic":
        message = {
            "id": "msg_ref",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": _MODELS["anthropic"],
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 1},
        }
        block = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        return [
            sse_frame(_data({"type": "message_start", "message": message}), event="message_start"),
            sse_frame(_data(block), event="content_block_start"),
        ]
    return []


def _openai(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return sse_frame(
        _data({"id": "chatcmpl-ref", "object": "chat.completion.chunk", "choices": [choice]})
    )


def text_frame(provider: str, text: str, sequence: int = 1) -> bytes:
    """One frame carrying ``text``."""
    if provider == "openai":
        return _openai({"content": text})
    if provider == "openai-responses":
        payload = {
            "type": "response.output_text.delta",
            "sequence_number": sequence,
            "item_id": "msg_ref",
            "output_index": 0,
            "content_index": 0,
            "delta": text,
        }
        return sse_frame(_data(payload), event="response.output_text.delta")
    if provider == "anthropic":
        payload = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
        return sse_frame(_data(payload), event="content_block_delta")
    candidate = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    return sse_frame(_data({"candidates": [candidate]}))


def terminal_frames(provider: str, sequence: int = 2) -> list[bytes]:
    """The frames that end a complete answer (finish reason, usage, terminal marker)."""
    if provider == "openai":
        usage = {"prompt_tokens": INPUT_TOKENS, "completion_tokens": OUTPUT_TOKENS}
        return [
            _openai({}, finish_reason="stop"),
            sse_frame(_data({"id": "chatcmpl-ref", "choices": [], "usage": usage})),
            sse_frame("[DONE]"),
        ]
    if provider == "openai-responses":
        response = {
            "id": "resp_ref",
            "object": "response",
            "status": "completed",
            "output": [],
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS},
        }
        payload = {"type": "response.completed", "sequence_number": sequence, "response": response}
        return [sse_frame(_data(payload), event="response.completed")]
    if provider == "anthropic":
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": OUTPUT_TOKENS},
        }
        return [
            sse_frame(
                _data({"type": "content_block_stop", "index": 0}), event="content_block_stop"
            ),
            sse_frame(_data(delta), event="message_delta"),
            sse_frame(_data({"type": "message_stop"}), event="message_stop"),
        ]
    candidate = {"content": {"parts": [{"text": ""}], "role": "model"}, "finishReason": "STOP"}
    usage = {
        "promptTokenCount": INPUT_TOKENS,
        "candidatesTokenCount": OUTPUT_TOKENS,
        "totalTokenCount": INPUT_TOKENS + OUTPUT_TOKENS,
    }
    return [sse_frame(_data({"candidates": [candidate], "usageMetadata": usage}))]


def frames(provider: str, text: str = REFERENCE) -> list[bytes]:
    """Every frame of a complete answer ``text``: preamble, one frame per word, terminal."""
    words = pieces(text)
    body = [text_frame(provider, word, sequence) for sequence, word in enumerate(words, 1)]
    return [*preamble_frames(provider), *body, *terminal_frames(provider, len(words) + 1)]


# ---------------------------------------------------------------------------
# Reading the partial answer back from a request


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                texts.append(block["text"])
        return "".join(texts)
    return ""


def partial_of(provider: str, request: RecordedRequest) -> str:
    """The partial answer a request carries as its assistant turn ("" for a first request).

    Exact and paragraph continuations put the kept text in the last assistant
    (Gemini: ``model``) turn, before the optional "continue" user turn.
    """
    body = json.loads(request.body or b"{}")
    if provider == "gemini":
        turns, role = body.get("contents", []), "model"
        for turn in reversed(turns):
            if turn.get("role") == role:
                return "".join(part.get("text", "") for part in turn.get("parts", []))
        return ""
    turns = body.get("input") if provider == "openai-responses" else body.get("messages")
    if not isinstance(turns, list):
        return ""
    for turn in reversed(turns):
        if isinstance(turn, dict) and turn.get("role") == "assistant":
            return _text_of(turn.get("content"))
    return ""


def _overlap_start(partial: str, words: int) -> int:
    # Where the last ``words`` whole words of the partial answer begin. An
    # overlap made only of symbols ("—", "🙂.") is extended back to a word
    # with a letter: the stitcher deliberately keeps a repeated symbol, since
    # "the model repeated it" and "the model wrote another" look the same.
    starts = [match.start() for match in re.finditer(r"(?<!\S)\S", partial)]
    if words <= 0 or not starts:
        return len(partial)
    index = len(starts) - min(words, len(starts))
    while index > 0 and not any(char.isalpha() for char in partial[starts[index] :]):
        index -= 1
    return starts[index]


# ---------------------------------------------------------------------------
# The server


@dataclass(frozen=True, slots=True)
class Respond:
    """A script step: build the rest of the script from the request received."""

    build: Callable[[RecordedRequest], Sequence[Any]]


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """A script step: wait until ``event`` is set (at most ``timeout`` seconds)."""

    event: threading.Event
    timeout: float = 5.0


class ReferenceServer(FaultServer):
    """A FaultServer that also plays :class:`Respond` and :class:`WaitUntil` steps."""

    def __init__(
        self,
        scripts: Sequence[Sequence[Any]] = (),
        *,
        default: Sequence[Any] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        # The base class types its scripts with its own steps only.
        super().__init__(scripts, default=default, ssl_context=ssl_context)

    def _play(self, step: Any, channel: Any, record: Any) -> bool:
        if isinstance(step, Respond):
            assert record.request is not None, "Respond needs read_request=True"
            # any() stops at the first step that ends the connection.
            steps = step.build(record.request)
            return any(self._play(inner, channel, record) for inner in steps)
        if isinstance(step, WaitUntil):
            step.event.wait(step.timeout)
            return False
        return super()._play(step, channel, record)


def answer(
    provider: str,
    *,
    overlap_words: int = 0,
    cut_after: int | None = None,
    fault: Step | None = None,
    gate: threading.Event | None = None,
    pause: float = 0.0,
    text: str = REFERENCE,
) -> Respond:
    """A step that answers with ``text`` after the partial answer the request carries.

    ``overlap_words`` repeats that many whole words of the partial answer first
    (a model that restates the end of what it saw). With ``cut_after``, only that
    many words are sent, then the script waits for ``gate`` (when given) and
    plays ``fault`` (a Reset, Close, Stall...). ``pause`` sleeps between frames.
    A request whose partial answer is not a prefix of ``text`` gets a 400 whose
    body says so, so that a wrong resume request fails the test loudly.
    """

    def build(request: RecordedRequest) -> list[Any]:
        partial = partial_of(provider, request)
        if not text.startswith(partial):
            message = f"partial answer is not a prefix of the reference: {partial!r}"
            return http_response(400, json.dumps({"error": {"message": message}}))
        start = _overlap_start(partial, overlap_words)
        words = pieces(text[start:])
        steps: list[Any] = [sse_head(), *(SendChunk(f) for f in preamble_frames(provider))]
        for sequence, word in enumerate(words, 1):
            if cut_after is not None and sequence > cut_after:
                if gate is not None:
                    steps.append(WaitUntil(gate))
                steps.append(fault if fault is not None else Close())
                return steps
            steps.append(SendChunk(text_frame(provider, word, sequence)))
            if pause:
                steps.append(Sleep(pause))
        steps.extend(SendChunk(f) for f in terminal_frames(provider, len(words) + 1))
        steps.extend([LastChunk(), Close()])
        return steps

    return Respond(build)


# ---------------------------------------------------------------------------
# The consumer's side


#: Retries and resumes with backoff short enough for tests (the first retry of a
#: connection failure is immediate anyway).
FAST_RETRY = RetryPolicy(max_retries=3, max_resumes=3, backoff_base=0.001, backoff_cap=0.005)


class Received:
    """What a consumer holds: text deltas applied in order, rewinds honoured.

    ``gate`` is set as soon as the text holds ``gate_at`` characters, so that a
    server waiting on it (:class:`WaitUntil`) breaks the connection only after
    the consumer has seen that text.
    """

    def __init__(self, gate: threading.Event | None = None, gate_at: int = 1) -> None:
        self.text = ""
        self.events: list[Event] = []
        self._gate = gate
        self._gate_at = gate_at

    def feed(self, event: Event) -> None:
        """Apply one event."""
        self.events.append(event)
        if isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, Rewind):
            self.text = self.text[: event.to]
        if self._gate is not None and len(self.text) >= self._gate_at:
            self._gate.set()

    def of_type(self, kind: type[EventT]) -> list[EventT]:
        """The events of one type, in order."""
        return [event for event in self.events if isinstance(event, kind)]


def prefix(words: int, text: str = REFERENCE) -> str:
    """The first ``words`` word pieces of ``text``."""
    return "".join(pieces(text)[:words])


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What one stream through a client left behind."""

    provider: str
    stream: Any  # a Stream or an AsyncStream
    received: Received
    error: StreamInterrupted | None
    record: StreamRecord | None
    requests: list[RecordedRequest]

    @property
    def partials(self) -> list[str]:
        """The partial answer each request carried."""
        return [partial_of(self.provider, request) for request in self.requests]
