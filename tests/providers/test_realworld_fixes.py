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


# ---------------------------------------------------------------------------
# OpenAI Responses


def responses_stream(items: list[dict[str, Any]]) -> bytes:
    parts = [
        frame(
            {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1"}},
            "response.created",
        )
    ]
    sequence = 1
    for output_index, item in enumerate(items):
        announced = ("id", "type", "call_id", "name")
        added = {key: value for key, value in item.items() if key in announced}
        for kind, shown in (("added", added), ("done", item)):
            name = f"response.output_item.{kind}"
            payload = {
                "type": name,
                "sequence_number": sequence,
                "output_index": output_index,
                "item": shown,
            }
            parts.append(frame(payload, name))
            sequence += 1
    parts.append(
        frame(
            {"type": "response.completed", "sequence_number": sequence, "response": {}},
            "response.completed",
        )
    )
    return "".join(parts).encode()


def test_responses_client_executed_items_are_tool_calls_with_their_kind() -> None:
    items = [
        {"id": "ws_1", "type": "web_search_call", "status": "completed"},  # hosted: not ours
        {
            "id": "lsh_1",
            "type": "local_shell_call",
            "call_id": "call_1",
            "action": {"type": "exec", "command": ["ls", "-a"], "env": {}},
        },
        {
            "id": "ctc_1",
            "type": "custom_tool_call",
            "call_id": "call_2",
            "name": "grammar",
            "input": "free text",
        },
        {
            "id": "apc_1",
            "type": "apply_patch_call",
            "call_id": "call_3",
            "operation": {"type": "create_file", "path": "a.txt", "diff": "+x"},
        },
        {
            "id": "mcp_1",
            "type": "mcp_call",
            "name": "lookup",
            "server_label": "docs",
            "arguments": '{"q": "sse"}',
        },
    ]
    events, complete = every_chunking("openai-responses", responses_stream(items))
    assert complete
    kinds = {
        event.index: event.kind
        for event in events
        if isinstance(event, ToolCallDelta) and event.kind
    }
    assert kinds == {
        0: "local_shell_call",
        1: "custom_tool_call",
        2: "apply_patch_call",
        3: "mcp_call",
    }
    calls = tool_calls(events)
    assert [(calls[i]["id"], calls[i]["name"]) for i in range(4)] == [
        ("call_1", "local_shell"),
        ("call_2", "grammar"),
        ("call_3", "apply_patch"),
        ("mcp_1", "lookup"),
    ]
    assert json.loads(calls[0]["arguments"]) == {"type": "exec", "command": ["ls", "-a"], "env": {}}
    assert calls[1]["arguments"] == "free text"
    assert json.loads(calls[2]["arguments"])["path"] == "a.txt"
    assert json.loads(calls[3]["arguments"]) == {"q": "sse"}


def test_responses_function_calls_keep_an_empty_kind() -> None:
    items = [
        {
            "id": "fc_1",
            "type": "function_call",
            "call_id": "call_1",
            "name": "f",
            "arguments": "{}",
        },
    ]
    events, _ = every_chunking("openai-responses", responses_stream(items))
    deltas = [event for event in events if isinstance(event, ToolCallDelta)]
    assert deltas and all(delta.kind == "" for delta in deltas)


# ---------------------------------------------------------------------------
# Gemini (Vertex AI streamFunctionCallArguments)


def gemini_frame(part: dict[str, Any] | None, finish: str = "") -> str:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part] if part else []}}
    if finish:
        candidate["finishReason"] = finish
    payload: dict[str, Any] = {"candidates": [candidate]}
    if finish:
        payload["usageMetadata"] = {"promptTokenCount": 4, "candidatesTokenCount": 6}
    return frame(payload)


def streamed_call(name: str, pieces: list[dict[str, Any]]) -> list[str]:
    frames = [gemini_frame({"functionCall": {"name": name, "willContinue": True}})]
    for piece in pieces:
        call = {"partialArgs": [piece], "willContinue": True}
        frames.append(gemini_frame({"functionCall": call}))
    frames.append(gemini_frame({"functionCall": {}}))
    return frames


def test_gemini_partial_args_are_assembled_into_whole_calls() -> None:
    frames = [
        *streamed_call(
            "getWeather",
            [
                {"jsonPath": "$.location", "stringValue": "San ", "willContinue": True},
                {"jsonPath": "$.location", "stringValue": "Francisco"},
                {"jsonPath": "$.days", "numberValue": 3},
                {"jsonPath": "$.units.metric", "boolValue": True},
                {"jsonPath": "$.tags[1]", "stringValue": "b"},
            ],
        ),
        *streamed_call("getTime", [{"jsonPath": "$.zone", "stringValue": "UTC"}]),
        gemini_frame(None, finish="STOP"),
    ]
    events, complete = every_chunking("gemini", "".join(frames).encode())
    assert complete
    deltas = [event for event in events if isinstance(event, ToolCallDelta)]
    assert len(deltas) == 2  # each call whole, in one piece
    assert [delta.name for delta in deltas] == ["getWeather", "getTime"]
    assert json.loads(deltas[0].arguments) == {
        "location": "San Francisco",
        "days": 3,
        "units": {"metric": True},
        "tags": [None, "b"],
    }
    assert json.loads(deltas[1].arguments) == {"zone": "UTC"}


def test_gemini_streamed_call_cut_before_it_closes_is_not_delivered() -> None:
    frames = streamed_call("getWeather", [{"jsonPath": "$.location", "stringValue": "Bos"}])[:-1]
    events, complete = every_chunking("gemini", "".join(frames).encode())
    assert not complete
    assert not [event for event in events if isinstance(event, ToolCallDelta)]


def test_gemini_streamed_call_open_at_the_finish_is_delivered_then() -> None:
    frames = streamed_call("f", [{"jsonPath": "$.a", "stringValue": "x"}])[:-1]
    frames.append(gemini_frame(None, finish="STOP"))
    events, complete = every_chunking("gemini", "".join(frames).encode())
    assert complete
    deltas = [event for event in events if isinstance(event, ToolCallDelta)]
    assert [(delta.name, json.loads(delta.arguments)) for delta in deltas] == [("f", {"a": "x"})]


def test_anthropic_redacted_thinking_is_a_reasoning_event_with_its_data() -> None:
    from streamrecover.core.events import ReasoningDelta, TextDelta

    raw = anthropic_stream(
        [
            ({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}, []),
            ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Hello."}]),
        ]
    )
    events, complete = every_chunking("anthropic", raw)
    assert complete
    reasoning = [event for event in events if isinstance(event, ReasoningDelta)]
    assert reasoning == [ReasoningDelta(redacted_data="EmwKAhgBEgy3va3pzix/LafPsn4a")]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello."
