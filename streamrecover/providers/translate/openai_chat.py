"""OpenAI Chat Completions bodies to and from the neutral conversation."""

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

_TOOL_KEYS = frozenset({"name", "description", "parameters", "strict"})

__all__ = ["read_chat", "write_chat"]

NAME = "openai"
_KNOWN = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "tools",
        "tool_choice",
        "response_format",
        "parallel_tool_calls",
    }
)


def _text_content(content: object, path: str, target: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces = []
    for index, raw_part in enumerate(sequence(content, path, NAME)):
        part = expect(raw_part, Mapping, f"{path}[{index}]", NAME)
        if part.get("type") != "text":
            raise UntranslatableError(
                f"{path}[{index}].type", NAME, target, f"content of type {part.get('type')!r}"
            )
        pieces.append(expect(part.get("text"), str, f"{path}[{index}].text", NAME))
    return "".join(pieces)


def read_chat(body: Mapping[str, Any], target: str) -> Conversation:
    """Read a Chat Completions body; raise UntranslatableError for what ``target`` loses."""
    refuse_unknown(body, _KNOWN, "", NAME, target)
    system: list[str] = []
    turns: list[Turn] = []
    names: dict[str, str] = {}
    for index, raw_message in enumerate(sequence(body.get("messages", []), "messages", NAME)):
        path = f"messages[{index}]"
        message = expect(raw_message, Mapping, path, NAME)
        refuse_unknown(
            message,
            frozenset({"role", "content", "tool_calls", "tool_call_id"}),
            path,
            NAME,
            target,
        )
        role = message.get("role")
        content = _text_content(message.get("content"), f"{path}.content", target)
        parts: list[Part] = []
        if role in ("system", "developer"):
            if turns:  # the other formats hold one system prompt, before the turns
                raise UntranslatableError(
                    f"{path}.role", NAME, target, "a system message after the conversation began"
                )
            system.append(content)
            continue
        if role == "tool":
            call_id = expect(message.get("tool_call_id"), str, f"{path}.tool_call_id", NAME)
            parts.append(ToolResult(call_id=call_id, name=names.get(call_id, ""), content=content))
            role = "user"
        elif role in ("user", "assistant"):
            if content:
                parts.append(Text(text=content))
            for number, raw_call in enumerate(message.get("tool_calls") or ()):
                where = f"{path}.tool_calls[{number}]"
                call = expect(raw_call, Mapping, where, NAME)
                function = expect(call.get("function"), Mapping, f"{where}.function", NAME)
                call_id = expect(call.get("id"), str, f"{where}.id", NAME)
                name = expect(function.get("name"), str, f"{where}.function.name", NAME)
                names[call_id] = name
                arguments = arguments_object(
                    function.get("arguments", "{}"), f"{where}.function.arguments", NAME
                )
                parts.append(ToolCall(id=call_id, name=name, arguments=arguments))
        else:
            raise UsageError(f"{NAME}: {path}.role {role!r} is not a chat role")
        if (
            turns
            and turns[-1].role == role
            and role == "user"
            and any(isinstance(p, ToolResult) for p in turns[-1].parts)
        ):
            turns[-1] = Turn(role="user", parts=turns[-1].parts + tuple(parts))
        else:
            turns.append(Turn(role=role, parts=tuple(parts)))
    stop = body.get("stop")
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    tools = []
    for index, raw_tool in enumerate(body.get("tools") or ()):
        tool = expect(raw_tool, Mapping, f"tools[{index}]", NAME)
        if tool.get("type") != "function":
            raise UntranslatableError(f"tools[{index}].type", NAME, target, "not a function tool")
        refuse_unknown(tool, frozenset({"type", "function"}), f"tools[{index}]", NAME, target)
        function = expect(tool.get("function"), Mapping, f"tools[{index}].function", NAME)
        refuse_unknown(function, _TOOL_KEYS, f"tools[{index}].function", NAME, target)
        tools.append(
            Tool(
                name=expect(function.get("name"), str, f"tools[{index}].function.name", NAME),
                description=function.get("description"),
                parameters=function.get("parameters") or {"type": "object", "properties": {}},
                strict=tool_strict(
                    function.get("strict"), f"tools[{index}].function.strict", NAME, target
                ),
            )
        )
    choice = body.get("tool_choice")
    tool_choice = None
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise UsageError(f"{NAME}: tool_choice {choice!r} is unknown")
        tool_choice = ToolChoice(mode=choice)  # type: ignore[arg-type]
    elif isinstance(choice, Mapping):
        function = expect(choice.get("function"), Mapping, "tool_choice.function", NAME)
        tool_choice = ToolChoice(mode="tool", name=function.get("name"))
    json_mode = None
    fmt = body.get("response_format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        json_mode = JsonMode()
    elif isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        spec = expect(fmt.get("json_schema"), Mapping, "response_format.json_schema", NAME)
        json_mode = JsonMode(
            schema=spec.get("schema"), name=spec.get("name"), strict=spec.get("strict")
        )
    elif fmt is not None and not (isinstance(fmt, Mapping) and fmt.get("type") == "text"):
        raise UntranslatableError("response_format", NAME, target, f"{fmt!r} is unknown")
    single = one_tool_call(
        body.get("parallel_tool_calls") is False, "parallel_tool_calls", NAME, target
    )
    return Conversation(
        model=str(body.get("model", "")),
        system="\n\n".join(system) if system else None,
        turns=tuple(turns),
        max_tokens=body.get("max_completion_tokens", body.get("max_tokens")),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stop=stops,
        tools=tuple(tools),
        tool_choice=tool_choice,
        json_mode=json_mode,
        one_tool_call=single,
    )


def write_chat(conversation: Conversation, model: str) -> dict[str, Any]:
    """Write a Chat Completions streaming body."""
    messages: list[dict[str, Any]] = []
    if conversation.system is not None:
        messages.append({"role": "system", "content": conversation.system})
    for turn in conversation.turns:
        text = "".join(p.text for p in turn.parts if isinstance(p, Text))
        calls = [p for p in turn.parts if isinstance(p, ToolCall)]
        for result in (p for p in turn.parts if isinstance(p, ToolResult)):
            if result.is_error:
                raise UntranslatableError(
                    f"tool result {result.call_id!r} is_error",
                    "conversation",
                    NAME,
                    "no error flag",
                )
            messages.append(
                {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
            )
        if turn.role == "assistant":
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                message["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                    for call in calls
                ]
            messages.append(message)
        elif text or not turn.parts:
            messages.append({"role": "user", "content": text})
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
    if conversation.max_tokens is not None:
        body["max_completion_tokens"] = conversation.max_tokens
    if conversation.temperature is not None:
        body["temperature"] = conversation.temperature
    if conversation.top_p is not None:
        body["top_p"] = conversation.top_p
    if conversation.stop:
        body["stop"] = list(conversation.stop)
    if conversation.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    **({"description": tool.description} if tool.description else {}),
                    "parameters": dict(tool.parameters),
                    **({"strict": tool.strict} if tool.strict is not None else {}),
                },
            }
            for tool in conversation.tools
        ]
    if conversation.one_tool_call:
        body["parallel_tool_calls"] = False
    choice = conversation.tool_choice
    if choice is not None:
        body["tool_choice"] = (
            {"type": "function", "function": {"name": choice.name}}
            if choice.mode == "tool"
            else choice.mode
        )
    mode = conversation.json_mode
    if mode is not None and mode.schema is None:
        body["response_format"] = {"type": "json_object"}
    elif mode is not None:
        spec: dict[str, Any] = {"name": mode.name or "answer", "schema": dict(mode.schema or {})}
        if mode.strict is not None:
            spec["strict"] = mode.strict
        body["response_format"] = {"type": "json_schema", "json_schema": spec}
    return body
