"""``streamrecover demo``: the library's main job, on an embedded fake provider.

A fake provider on loopback answers a multi-paragraph question that ends with a
tool call, and breaks the stream on purpose, one fault per attempt, in the
order asked for. The answer goes through the real :class:`~streamrecover.Client`
into durable storage; the terminal shows it arriving live with every recovery
marked, then a summary, and the final text is checked against the reference.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TextIO

from streamrecover.core.errors import UsageError
from streamrecover.core.events import (
    Completed,
    Event,
    Resumed,
    Retrying,
    Rewind,
    TextDelta,
    ToolCallDelta,
)
from streamrecover.core.policy import RetryPolicy
from streamrecover.core.resume import Strategy
from streamrecover.observe import SafeText
from streamrecover.testing.fakeprovider import (
    DEFAULT_ANSWER,
    TOOL_CALL,
    Expectations,
    continuation_answer,
    error_body,
    inspect_request,
    render_frames,
)
from streamrecover.testing.handler_server import HandlerServer
from streamrecover.testing.scripts import build_script
from streamrecover.testing.server import RecordedRequest, Step, http_response

__all__ = ["DEMO_FAULTS", "run_demo"]

#: Each fault, as the scenario step the fake provider plays for one attempt.
_STEPS: Mapping[str, Mapping[str, Any]] = {
    "http_529": {"fault": "http", "status": 529, "headers": {"retry-after": "1"}},
    "reset": {"fault": "reset", "inside_text": 6, "utf8": True},
    "overloaded": {"fault": "error_event", "error": "overloaded", "after_text": 4},
    "stall": {"fault": "stall", "after_text": 5},
    "tool_call": {"fault": "reset", "in": "tool_call"},
}
DEMO_FAULTS: tuple[str, ...] = tuple(_STEPS)
_DESCRIPTIONS = {
    "http_529": "the provider answers 529 Overloaded with Retry-After: 1",
    "reset": "the connection is reset in the middle of a UTF-8 character",
    "overloaded": "an overloaded_error event arrives mid-answer",
    "stall": "the server goes silent (idle timeout 0.6 s)",
    "tool_call": "the connection drops inside a half-streamed tool call",
}
_BASE_PATHS = {"openai": "", "openai-responses": "", "anthropic": "", "gemini": ""}
_MODELS = {
    "openai": "gpt-4o",
    "openai-responses": "gpt-4o",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.0-flash",
}


def _body(provider: str) -> dict[str, Any]:
    question = "Tell me about streaming, then check the weather in Zürich."
    tool = {
        "name": TOOL_CALL.name,
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    if provider == "gemini":
        return {
            "model": _MODELS[provider],
            "contents": [{"role": "user", "parts": [{"text": question}]}],
            "tools": [{"functionDeclarations": [tool]}],
        }
    if provider == "openai-responses":
        return {
            "model": _MODELS[provider],
            "input": question,
            "tools": [{"type": "function", **tool}],
        }
    if provider == "anthropic":
        return {
            "model": _MODELS[provider],
            "max_tokens": 2048,
            "messages": [{"role": "user", "content": question}],
            "tools": [
                {
                    "name": tool["name"],
                    "description": tool["description"],
                    "input_schema": tool["parameters"],
                }
            ],
        }
    return {
        "model": _MODELS[provider],
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": question}],
        "tools": [{"type": "function", "function": tool}],
    }


class _Painter:
    """Writes the live answer and the recovery markers (colour optional)."""

    def __init__(self, out: TextIO, *, color: bool) -> None:
        self.out = out
        self.color = color

    def paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def marker(self, text: str, code: str = "33") -> None:
        self.write("\n" + self.paint(f"  ⟲ {text}", code) + "\n")


def run_demo(
    *,
    provider: str = "anthropic",
    strategy: Strategy = "exact",
    faults: list[str] | None = None,
    seed: int = 7,
    storage: str = "memory://",
    color: bool = False,
    as_json: bool = False,
    out: TextIO,
) -> bool:
    """Run the demo; returns True when the final answer equals the reference exactly.

    Raises:
        UsageError: an unknown fault or provider.
    """
    from streamrecover.client import Client
    from streamrecover.transport.base import Timeouts

    chosen = list(DEMO_FAULTS) if faults is None else faults
    unknown = [name for name in chosen if name not in _STEPS]
    if unknown:
        raise UsageError(
            f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(DEMO_FAULTS)}"
        )
    if provider not in _MODELS:
        raise UsageError(f"unknown provider {provider!r}; choose from {', '.join(_MODELS)}")
    answer = replace(DEFAULT_ANSWER, tool_call=TOOL_CALL, words_per_delta=2)
    body = _body(provider)
    steps = [_STEPS[name] for name in chosen]
    rng = random.Random(seed)
    expectations = Expectations(reference=answer.text, strategy=strategy)

    def handler(request: RecordedRequest, index: int) -> list[Step]:
        inspection = inspect_request(provider, body, request, expectations)
        if not inspection.ok:
            problem = "; ".join(inspection.problems)
            return list(http_response(400, error_body(provider, 400, problem)))
        attempt_answer = answer
        if inspection.kind == "continuation":
            # A real model often repeats the end of the cut: the stitcher removes it.
            # (It leaves alone repeats too short to tell from a genuine repetition,
            # such as a lone "and a", so the demo repeats at least 12 characters.)
            attempt_answer = continuation_answer(
                answer, inspection, overlap=rng.choice((0, 12, 24, 40)), overlap_unit="chars"
            )
        step = steps[index] if index < len(steps) else {"fault": "none"}
        return build_script(provider, render_frames(provider, attempt_answer), step)

    painter = _Painter(out, color=color)
    with HandlerServer(handler) as server:
        client = Client(
            provider,
            base_url=server.url(_BASE_PATHS[provider]),
            api_key="demo-key-not-secret",
            storage=storage,
            retry=RetryPolicy(
                max_retries=len(chosen) + 1,
                max_resumes=len(chosen) + 1,
                backoff_base=0.05,
                backoff_cap=0.4,
            ),
            timeouts=Timeouts(connect=2.0, read=5.0, idle=0.6),
            rng=random.Random(seed),
            strategy=strategy,
            budget=None,
        )
        with client:
            # After the client: a bad storage URL fails before anything is printed.
            if not as_json:
                painter.write(
                    painter.paint(
                        f"streamrecover demo — provider {provider}, strategy {strategy}, "
                        f"seed {seed}\n"
                        f"storage: {storage}\n"
                        f"faults, one per attempt: {', '.join(chosen) or 'none'}\n\n",
                        "1",
                    )
                )
            started = time.monotonic()
            result = _stream(
                client, body, strategy=strategy, painter=painter, as_json=as_json, faults=chosen
            )
            elapsed = time.monotonic() - started
    text, stream, tools, recovering, failure = result
    exact = failure is None and text == answer.text and stream.text == answer.text
    tool_ok = tools == [(TOOL_CALL.name, TOOL_CALL.arguments)]
    ok = exact and tool_ok
    summary = {
        "recovery_id": stream.recovery_id,
        "attempts": stream.attempts,
        "resumes": stream.resumes,
        "overlap_removed": stream.overlap_removed,
        "recovering_seconds": round(recovering, 3),
        "total_seconds": round(elapsed, 3),
        "finish_reason": stream.finish_reason,
        "tool_call_whole": tool_ok,
        "text_exact": exact,
        "error": None if failure is None else str(failure),
    }
    if as_json:
        out.write(json.dumps({"event": "Summary", **summary}, ensure_ascii=False) + "\n")
        return ok
    rows = [
        ("attempts", str(stream.attempts)),
        ("resumes", str(stream.resumes)),
        ("overlap removed", f"{stream.overlap_removed} characters"),
        ("time recovering", f"{recovering:.2f} s of {elapsed:.2f} s"),
        ("tool call", "delivered whole" if tool_ok else "WRONG"),
        ("stored as", f"{stream.recovery_id} in {storage}"),
        ("final text", "exact: equals the reference" if exact else "DIFFERS from the reference"),
    ]
    painter.write("\n\n" + painter.paint("summary", "1") + "\n")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        good = name != "final text" or exact
        painter.write(f"  {name.ljust(width)}  {painter.paint(value, '32' if good else '31')}\n")
    if failure is not None:
        painter.write(painter.paint(f"  gave up: {failure}\n", "31"))
    return ok


def _stream(
    client: Any,
    body: dict[str, Any],
    *,
    strategy: Strategy,
    painter: _Painter,
    as_json: bool,
    faults: list[str],
) -> tuple[str, Any, list[tuple[str, str]], float, BaseException | None]:
    from streamrecover.core.errors import StreamInterrupted

    text = ""
    tools: dict[int, list[str]] = {}
    recovering = 0.0
    fault_at: float | None = None
    failure: BaseException | None = None
    safe = SafeText(strategy)
    stream = client.stream(**body)
    try:
        with stream:
            for event in stream:
                if fault_at is not None and not isinstance(event, (Retrying, Resumed, Rewind)):
                    recovering += time.monotonic() - fault_at
                    fault_at = None
                text = _apply(event, text, tools)
                if isinstance(event, Retrying) and fault_at is None:
                    # Before the JSON branch: --json reports the time recovering too.
                    fault_at = time.monotonic()
                if as_json:
                    painter.write(json.dumps(_event_json(event), ensure_ascii=False) + "\n")
                    continue
                shown = safe.feed(event)
                if shown:
                    painter.write(shown)
                if isinstance(event, Retrying):
                    index = event.attempt - 2
                    what = _DESCRIPTIONS.get(faults[index], "") if index < len(faults) else ""
                    decided = "resume" if event.resume else "retry (nothing shown yet)"
                    painter.marker(
                        f"attempt {event.attempt - 1} failed: {what or type(event.cause).__name__}"
                        f"\n    cause: {type(event.cause).__name__}: {event.cause}"
                        f"\n    decision: {decided} after {event.delay:.2f} s"
                    )
                elif isinstance(event, Resumed):
                    painter.marker(
                        f"attempt {event.attempt}: resumed with strategy {event.strategy}", "36"
                    )
                elif isinstance(event, Rewind):
                    painter.marker(f"rolled back to {event.to} characters", "35")
                elif isinstance(event, Completed):
                    for name, arguments in _tool_calls(tools):
                        call = f"  → tool call {name}({arguments})"
                        painter.write("\n" + painter.paint(call, "32"))
    except StreamInterrupted as exc:
        failure = exc
    return text, stream, _tool_calls(tools), recovering, failure


def _apply(event: Event, text: str, tools: dict[int, list[str]]) -> str:
    if isinstance(event, TextDelta):
        return text + event.text
    if isinstance(event, Rewind):
        return event.apply(text)
    if isinstance(event, ToolCallDelta):
        parts = tools.setdefault(event.index, ["", ""])
        parts[0] += event.name
        parts[1] += event.arguments
    return text


def _tool_calls(tools: dict[int, list[str]]) -> list[tuple[str, str]]:
    return [(name, arguments) for _, (name, arguments) in sorted(tools.items())]


def _event_json(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {"event": type(event).__name__}
    for name in getattr(type(event), "__slots__", ()):
        value = getattr(event, name)
        if isinstance(value, BaseException):
            value = f"{type(value).__name__}: {value}"
        elif hasattr(value, "__slots__"):
            value = _event_json(value)
        data[name] = value
    return data
