"""Shapes real providers send that the documentation does not show (issue 13).

Each stream is fed whole, byte by byte and split at every point through the
real SSE decoder; the content events must not depend on the chunking.
"""

from __future__ import annotations

import json
from typing import Any

from streamrecover.core.events import Event, ToolCallDelta
from streamrecover.core.sse import SSEDecoder
from streamrecover.providers import get_provider


def frame(payload: dict[str, Any], event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(payload)}\n\n"


def parse(provider: str, raw: bytes, splits: list[int]) -> tuple[list[Event], bool]:
    parser = get_provider(provider).new_parser()
    decoder = SSEDecoder()
    events: list[Event] = []
    start = 0
    for cut in [*splits, len(raw)]:
        for sse in decoder.feed(raw[start:cut]):
            events.extend(parser.feed(sse))
        start = cut
    for sse in decoder.feed(b""):
        events.extend(parser.feed(sse))
    return events, parser.complete


def every_chunking(provider: str, raw: bytes) -> tuple[list[Event], bool]:
    """The events of ``raw`` fed whole; asserts byte by byte and every split agree."""
    whole = parse(provider, raw, [])
    assert parse(provider, raw, list(range(1, len(raw)))) == whole
    for cut in range(1, len(raw)):
        assert parse(provider, raw, [cut]) == whole
    return whole


def tool_calls(events: list[Event]) -> dict[int, dict[str, str]]:
    calls: dict[int, dict[str, str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            call = calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = event.id or call["id"]
            call["name"] = event.name or call["name"]
            call["arguments"] += event.arguments
    return calls


# ---------------------------------------------------------------------------
# Anthropic


def anthropic_stream(blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> bytes:
    parts = [
        frame(
            {"type": "message_start", "message": {"usage": {"input_tokens": 3}}},
            "message_start",
        )
    ]
    for index, (block, deltas) in enumerate(blocks):
        parts.append(
            frame(
                {"type": "content_block_start", "index": index, "content_block": block},
                "content_block_start",
            )
        )
        for delta in deltas:
            parts.append(
                frame(
                    {"type": "content_block_delta", "index": index, "delta": delta},
                    "content_block_delta",
                )
            )
        parts.append(frame({"type": "content_block_stop", "index": index}, "content_block_stop"))
    parts.append(
        frame(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 5},
            },
            "message_delta",
        )
    )
    parts.append(frame({"type": "message_stop"}, "message_stop"))
    return "".join(parts).encode()


def tool_use(id: str, name: str, given: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": given}


def test_anthropic_tool_input_given_in_block_start() -> None:
    raw = anthropic_stream([(tool_use("toolu_1", "rollDie", {"player": "player1"}), [])])
    events, complete = every_chunking("anthropic", raw)
    assert complete
    calls = tool_calls(events)
    assert calls == {0: {"id": "toolu_1", "name": "rollDie", "arguments": calls[0]["arguments"]}}
    assert json.loads(calls[0]["arguments"]) == {"player": "player1"}


def test_anthropic_tool_calls_without_arguments_give_an_empty_object() -> None:
    raw = anthropic_stream(
        [
            ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Let me look."}]),
            (tool_use("toolu_1", "now", {}), []),
            (tool_use("toolu_2", "today", {}), [{"type": "input_json_delta", "partial_json": ""}]),
        ]
    )
    events, complete = every_chunking("anthropic", raw)
    assert complete
    calls = tool_calls(events)
    assert [calls[index]["arguments"] for index in (0, 1)] == ["{}", "{}"]
    assert [calls[index]["name"] for index in (0, 1)] == ["now", "today"]


def test_anthropic_fragments_win_over_the_empty_start_input() -> None:
    deltas = [
        {"type": "input_json_delta", "partial_json": '{"city": '},
        {"type": "input_json_delta", "partial_json": '"Paris"}'},
    ]
    raw = anthropic_stream([(tool_use("toolu_1", "weather", {}), deltas)])
    events, _ = every_chunking("anthropic", raw)
    assert tool_calls(events)[0]["arguments"] == '{"city": "Paris"}'
