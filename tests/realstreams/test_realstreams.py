"""Every recorded real provider stream, played through the public Client.

Each recording of ``../shared/realstreams`` (see its README) is played as a
fake server's response over loopback, whole (one chunk) and in small pieces
(a close-delimited body sent 61 bytes at a time), through an in-memory
response that hands the client one byte at a time, and truncated at several
points. What the consumer receives is compared with ``expected.json``: text
(a refusal is delivered as text), reasoning, signatures, tool calls (arguments
compared as parsed JSON), finish reason and usage. A truncated stream must
never come out complete: the client tries again (the fake server then answers
400) and raises.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pytest
from realstreams_location import ENVIRONMENT_VARIABLE, realstreams_folder

import streamrecover as sr
from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.events import (
    Completed,
    Event,
    ReasoningDelta,
    Rewind,
    TextDelta,
    ToolCallDelta,
)
from streamrecover.core.http import HTTPRequest
from streamrecover.testing.server import (
    Close,
    FaultServer,
    LastChunk,
    Send,
    SendChunk,
    SendHead,
    Step,
    http_response,
)

FOLDER = realstreams_folder()
EXPECTED_FILE = FOLDER / "expected.json"
if not EXPECTED_FILE.is_file():
    pytest.skip(
        f"no recorded streams at {FOLDER} (set {ENVIRONMENT_VARIABLE}, or place "
        "shared/realstreams next to the repository)",
        allow_module_level=True,
    )
EXPECTED: dict[str, dict[str, Any]] = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED)

#: One retry or resume, quickly; the fake server answers it with a final 400.
POLICY = sr.RetryPolicy(max_retries=1, max_resumes=1, backoff_base=0.001, backoff_cap=0.005)
SMALL_PIECE = 61
_BASE_PATHS = {"openai": "/v1", "openai-responses": "/v1", "anthropic": "", "gemini": ""}
_REFUSED = http_response(
    400, json.dumps({"error": {"type": "invalid_request_error", "message": "no second try"}})
)


def request_body(provider: str) -> dict[str, Any]:
    """A minimal request body (the fake server ignores it)."""
    if provider == "openai":
        return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    if provider == "openai-responses":
        return {"model": "gpt-4.1", "input": "Hi"}
    if provider == "anthropic":
        return {
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": "Hi"}],
        }
    return {"model": "gemini-2.0-flash", "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


@dataclass
class Played:
    """What a consumer of the stream holds at the end."""

    text: str = ""
    reasoning: str = ""
    signatures: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    completed: Completed | None = None
    error: StreamInterrupted | None = None
    finish_reason: str | None = None
    attempts: int = 0

    def feed(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, ReasoningDelta):
            self.reasoning += event.text
            if event.signature:
                self.signatures.append(event.signature)
        elif isinstance(event, ToolCallDelta):
            call = self.tool_calls.setdefault(
                event.index, {"id": "", "name": "", "arguments": "", "kind": ""}
            )
            call["id"] = event.id or call["id"]
            call["name"] = event.name or call["name"]
            call["arguments"] += event.arguments
            call["kind"] = getattr(event, "kind", "") or call["kind"]
        elif isinstance(event, Rewind):
            self.text = event.apply(self.text)
            if event.reasoning_to is not None:
                self.reasoning = self.reasoning[: event.reasoning_to]
        elif isinstance(event, Completed):
            self.completed = event


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return ("not JSON", text)


def differences(played: Played, expected: dict[str, Any]) -> list[str]:
    """What the consumer got wrong, one line each (empty: exact)."""
    found: list[str] = []

    def compare(what: str, got: Any, want: Any) -> None:
        if got != want:
            found.append(f"{what}: got {got!r}, expected {want!r}")

    compare("text", played.text, expected["text"] + expected["refusal"])
    compare("reasoning", played.reasoning, expected["reasoning"])
    compare("signatures", played.signatures, expected["signatures"])
    calls = [played.tool_calls[index] for index in sorted(played.tool_calls)]
    compare("tool call count", len(calls), len(expected["tool_calls"]))
    for number, (got, want) in enumerate(zip(calls, expected["tool_calls"], strict=False)):
        compare(f"tool call {number} id", got["id"], want["id"])
        compare(f"tool call {number} name", got["name"], want["name"])
        compare(f"tool call {number} arguments", _json(got["arguments"]), _json(want["arguments"]))
        if "kind" in want:
            compare(f"tool call {number} kind", got["kind"], want["kind"])
    if expected["complete"]:
        compare("error", played.error, None)
        compare("completed", played.completed is not None, True)
        compare("finish reason", played.finish_reason, expected["finish_reason"])
        compare("attempts", played.attempts, 1)
        if expected["usage"] is not None and played.completed is not None:
            usage = played.completed.usage
            got_usage = (
                None
                if usage is None
                else {
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                }
            )
            compare("usage", got_usage, expected["usage"])
    else:
        compare("completed", played.completed is not None, False)
        compare("raised", played.error is not None, True)
    return found


def play(client: sr.Client, provider: str) -> Played:
    played = Played()
    with client, client.stream(**request_body(provider)) as stream:
        try:
            for event in stream:
                played.feed(event)
        except StreamInterrupted as exc:
            played.error = exc
        played.finish_reason = stream.finish_reason
        played.attempts = stream.attempts
    return played


def serve(name: str, scripts: list[list[Step]]) -> tuple[Played, int]:
    """Play ``scripts`` (then 400s) to a Client; return what it got and how many requests."""
    provider = EXPECTED[name]["provider"]
    with FaultServer(scripts, default=_REFUSED) as server:
        client = sr.Client(
            provider,
            base_url=server.url(_BASE_PATHS[provider]),
            api_key="test-key",
            retry=POLICY,
            budget=None,
            storage=None,
        )
        played = play(client, provider)
        return played, len(server.requests)


def recording(name: str) -> bytes:
    return (FOLDER / name).read_bytes()


def content_type(name: str) -> str:
    """The recorded content type; ``text/event-stream`` for a recording re-framed as SSE
    (a JSON-array stream's ``application/json``: the bytes served are SSE)."""
    recorded: str = EXPECTED[name]["recorded_content_type"]
    return recorded if "event-stream" in recorded else "text/event-stream"


def _head(name: str, *, chunked: bool) -> SendHead:
    headers = [("content-type", content_type(name))]
    if chunked:
        headers.append(("transfer-encoding", "chunked"))
    return SendHead(200, tuple(headers))


def whole(name: str) -> list[Step]:
    return [_head(name, chunked=True), SendChunk(recording(name)), LastChunk(), Close()]


def in_pieces(name: str, body: bytes, size: int) -> list[Step]:
    """A close-delimited body sent ``size`` bytes at a time."""
    sends: list[Step] = [Send(body[start : start + size]) for start in range(0, len(body), size)]
    return [_head(name, chunked=False), *sends, Close()]


def test_every_recording_has_its_expectation() -> None:
    recorded = {path.name for path in FOLDER.glob("*.sse")}
    assert recorded == set(EXPECTED)
    assert len(recorded) == 73


@pytest.mark.parametrize("name", NAMES)
def test_whole(name: str) -> None:
    played, _ = serve(name, [whole(name)])
    assert differences(played, EXPECTED[name]) == []


@pytest.mark.parametrize("name", NAMES)
def test_small_pieces(name: str) -> None:
    played, _ = serve(name, [in_pieces(name, recording(name), SMALL_PIECE)])
    assert differences(played, EXPECTED[name]) == []


class _ByteResponse:
    """A 200 response whose body comes one byte per read (no socket)."""

    def __init__(self, content_type: str, body: bytes) -> None:
        self.status = 200
        self.headers = (("content-type", content_type),)
        self._body = body

    def iter_bytes(self) -> Iterator[bytes]:
        for index in range(len(self._body)):
            yield self._body[index : index + 1]

    def read(self, limit: int) -> bytes:
        return self._body[:limit]

    def close(self) -> None:
        pass

    def __enter__(self) -> _ByteResponse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _ByteTransport:
    """Answers the first request with the recording, byte by byte; no second one."""

    def __init__(self, content_type: str, body: bytes) -> None:
        self.responses = [_ByteResponse(content_type, body)]

    def open(self, request: HTTPRequest, timeouts: Any = None, *, deadline: Any = None) -> Any:
        if not self.responses:
            raise AssertionError("a complete recording was requested twice")
        return self.responses.pop()


@pytest.mark.parametrize("name", NAMES)
def test_byte_by_byte(name: str) -> None:
    expected = EXPECTED[name]
    provider = expected["provider"]
    transport = _ByteTransport(content_type(name), recording(name))
    client = sr.Client(
        provider,
        base_url="http://127.0.0.1:9" + _BASE_PATHS[provider],
        api_key="test-key",
        retry=sr.RetryPolicy(max_retries=0, max_resumes=0),
        budget=None,
        storage=None,
        transport=transport,
    )
    assert differences(play(client, provider), expected) == []


def cut_points(name: str) -> list[int]:
    """Where the truncated variants end: a third, a half, before the terminal event,
    and before the blank line that would dispatch it."""
    expected = EXPECTED[name]
    size = len(recording(name))
    points = {size // 3, size // 2}
    for key in ("terminal_offset", "terminal_dispatch_offset"):
        if expected[key] is not None:
            points.add(expected[key])
    return sorted(point for point in points if 0 < point < size)


TRUNCATED = [(name, point) for name in NAMES for point in cut_points(name)]


@pytest.mark.parametrize(("name", "point"), TRUNCATED, ids=[f"{n}@{p}" for n, p in TRUNCATED])
def test_truncated_is_never_complete(name: str, point: int) -> None:
    body = recording(name)[:point]
    played, requests = serve(name, [in_pieces(name, body, 4096)])
    assert played.completed is None
    assert played.error is not None
    if EXPECTED[name]["complete"]:
        # The cut was noticed and recovery tried (the fake server refused it).
        assert requests == 2
