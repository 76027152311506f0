"""OpenAI Responses bodies to and from the neutral conversation.

Only stateless requests translate: ``previous_response_id``, ``background``
and hosted tools live on OpenAI's side and are refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from streamrecover.core.errors import UsageError
from streamrecover.providers.translate.neutral import (
    Conversation,
    JsonMode,
    Part,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
    Turn,
    UntranslatableError,
    arguments_object,
    expect,
    one_tool_call,
    refuse_unknown,
    sequence,
    tool_strict,
)

_TOOL_KEYS = frozenset({"type", "name", "description", "parameters", "strict"})

__all__ = ["read_responses", "write_responses"]

NAME = "openai-responses"
_KNOWN = frozenset(
    {
        "model",
        "input",
        "instructions",
        "stream",
        "max_output_tokens",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "text",
        "store",
        "parallel_tool_calls",
    }
)
_TEXT_PARTS = frozenset({"input_text", "output_text", "text"})


def _content(content: object, path: str, target: str) -> str:
    if isinstance(content, str):
        return content
    pieces = []
    for index, raw in enumerate(sequence(content, path, NAME)):
        part = expect(raw, Mapping, f"{path}[{index}]", NAME)
        if part.get("type") not in _TEXT_PARTS:
            raise UntranslatableError(
                f"{path}[{index}].type", NAME, target, f"content of type {part.get('type')!r}"
            )
        pieces.append(expect(part.get("text"), str, f"{path}[{index}].text", NAME))
    return "".join(pieces)


def _add(turns: list[Turn], role: str, part: Part) -> None:
    # Consecutive items of one role are one turn (a call and its sibling calls).
    if turns and turns[-1].role == role:
        turns[-1] = Turn(role=turns[-1].role, parts=(*turns[-1].parts, part))
    else:
        turns.append(Turn(role=role, parts=(part,)))  # type: ignore[arg-type]


def read_responses(body: Mapping[str, Any], target: str) -> Conversation:
    """Read a Responses body; raise UntranslatableError for what ``target`` loses."""
    refuse_unknown(body, _KNOWN, "", NAME, target)
    system: list[str] = []
    if body.get("instructions") is not None:
        system.append(expect(body["instructions"], str, "instructions", NAME))
    turns: list[Turn] = []
    names: dict[str, str] = {}
    items = body.get("input", [])
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for index, raw in enumerate(sequence(items, "input", NAME)):
        path = f"input[{index}]"
        item = expect(raw, Mapping, path, NAME)
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            text = _content(item.get("content"), f"{path}.content", target)
            if role in ("system", "developer"):
                if turns:  # the other formats hold one system prompt, before the turns
                    raise UntranslatableError(
                        f"{path}.role", NAME, target, "a system message after the turns began"
                    )
                system.append(text)
            elif role in ("user", "assistant"):
                _add(turns, str(role), Text(text=text))
            else:
                raise UsageError(f"{NAME}: {path}.role {role!r} is unknown")
        elif kind == "function_call":
            call_id = expect(item.get("call_id"), str, f"{path}.call_id", NAME)
            name = expect(item.get("name"), str, f"{path}.name", NAME)
            names[call_id] = name
            arguments = arguments_object(item.get("arguments", "{}"), f"{path}.arguments", NAME)
            _add(turns, "assistant", ToolCall(id=call_id, name=name, arguments=arguments))
        elif kind == "function_call_output":
            call_id = expect(item.get("call_id"), str, f"{path}.call_id", NAME)
            output = expect(item.get("output"), str, f"{path}.output", NAME)
            _add(
                turns,
                "user",
                ToolResult(call_id=call_id, name=names.get(call_id, ""), content=output),
            )
        else:
            raise UntranslatableError(f"{path}.type", NAME, target, f"item {kind!r}")
    tools = []
    for index, raw_tool in enumerate(body.get("tools") or ()):
        tool = expect(raw_tool, Mapping, f"tools[{index}]", NAME)
        if tool.get("type") != "function":
            raise UntranslatableError(
                f"tools[{index}].type", NAME, target, f"hosted tool {tool.get('type')!r}"
            )
        refuse_unknown(tool, _TOOL_KEYS, f"tools[{index}]", NAME, target)
        tools.append(
            Tool(
                name=expect(tool.get("name"), str, f"tools[{index}].name", NAME),
                description=tool.get("description"),
                parameters=tool.get("parameters") or {"type": "object", "properties": {}},
                strict=tool_strict(tool.get("strict"), f"tools[{index}].strict", NAME, target),
            )
        )
    choice = body.get("tool_choice")
    tool_choice = None
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise UsageError(f"{NAME}: tool_choice {choice!r} is unknown")
        tool_choice = ToolChoice(mode=choice)  # type: ignore[arg-type]
    elif isinstance(choice, Mapping):
        if choice.get("type") != "function":
            raise UntranslatableError("tool_choice.type", NAME, target, "not a function")
        tool_choice = ToolChoice(mode="tool", name=choice.get("name"))
    json_mode = None
    text = expect(body.get("text", {}), Mapping, "text", NAME)
    refuse_unknown(text, frozenset({"format"}), "text", NAME, target)
    fmt = text.get("format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        json_mode = JsonMode()
    elif isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        json_mode = JsonMode(
            schema=fmt.get("schema"), name=fmt.get("name"), strict=fmt.get("strict")
        )
    elif fmt is not None and not (isinstance(fmt, Mapping) and fmt.get("type") == "text"):
        raise UntranslatableError("text.format", NAME, target, f"{fmt!r} is unknown")
    return Conversation(
        model=str(body.get("model", "")),
        system="\n\n".join(system) if system else None,
        turns=tuple(turns),
        max_tokens=body.get("max_output_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        tools=tuple(tools),
        tool_choice=tool_choice,
        one_tool_call=one_tool_call(
            body.get("parallel_tool_calls") is False, "parallel_tool_calls", NAME, target
        ),
        json_mode=json_mode,
    )


def write_responses(conversation: Conversation, model: str, source: str) -> dict[str, Any]:
    """Write a stateless Responses streaming body; stop sequences are refused."""
    if conversation.stop:
        raise UntranslatableError("stop", source, NAME, "the Responses API has no stop sequences")
    items: list[dict[str, Any]] = []
    for turn in conversation.turns:
        for part in turn.parts:
            if isinstance(part, Text):
                kind = "output_text" if turn.role == "assistant" else "input_text"
                items.append(
                    {
                        "type": "message",
                        "role": turn.role,
                        "content": [{"type": kind, "text": part.text}],
                    }
                )
            elif isinstance(part, ToolCall):
                items.append(
                    {
                        "type": "function_call",
                        "call_id": part.id,
                        "name": part.name,
                        "arguments": json.dumps(part.arguments),
                    }
                )
            else:
                if part.is_error:
                    raise UntranslatableError(
                        f"tool result {part.call_id!r} is_error", source, NAME, "no error flag"
                    )
                items.append(
                    {
                        "type": "function_call_output",
                        "call_id": part.call_id,
                        "output": part.content,
                    }
                )
    body: dict[str, Any] = {"model": model, "input": items, "stream": True, "store": False}
    if conversation.system is not None:
        body["instructions"] = conversation.system
    if conversation.max_tokens is not None:
        body["max_output_tokens"] = conversation.max_tokens
    if conversation.temperature is not None:
        body["temperature"] = conversation.temperature
    if conversation.top_p is not None:
        body["top_p"] = conversation.top_p
    if conversation.tools:
        body["tools"] = [
            {
                "type": "function",
                "name": tool.name,
                **({"description": tool.description} if tool.description else {}),
                "parameters": dict(tool.parameters),
                **({"strict": tool.strict} if tool.strict is not None else {}),
            }
            for tool in conversation.tools
        ]
    if conversation.one_tool_call:
        body["parallel_tool_calls"] = False
    choice = conversation.tool_choice
    if choice is not None:
        body["tool_choice"] = (
            {"type": "function", "name": choice.name} if choice.mode == "tool" else choice.mode
        )
    mode = conversation.json_mode
    if mode is not None and mode.schema is None:
        body["text"] = {"format": {"type": "json_object"}}
    elif mode is not None:
        fmt: dict[str, Any] = {
            "type": "json_schema",
            "name": mode.name or "answer",
            "schema": dict(mode.schema or {}),
        }
        if mode.strict is not None:
            fmt["strict"] = mode.strict
        body["text"] = {"format": fmt}
    return body
