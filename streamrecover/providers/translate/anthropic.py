"""Anthropic Messages bodies to and from the neutral conversation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from streamrecover.core.errors import UsageError
from streamrecover.providers.translate.neutral import (
    Conversation,
    Part,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
    Turn,
    UntranslatableError,
    expect,
    one_tool_call,
    refuse_unknown,
    sequence,
)

__all__ = ["DEFAULT_MAX_TOKENS", "read_anthropic", "write_anthropic"]

NAME = "anthropic"
#: Anthropic requires ``max_tokens``; used when the source request had none.
DEFAULT_MAX_TOKENS = 4096
_KNOWN = frozenset(
    {
        "model",
        "system",
        "messages",
        "stream",
        "max_tokens",
        "temperature",
        "top_p",
        "stop_sequences",
        "tools",
        "tool_choice",
    }
)
_TOOL_CHOICE = {"auto": "auto", "any": "required", "none": "none", "tool": "tool"}


def _blocks(content: object, path: str, target: str) -> list[Mapping[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks = []
    for index, raw_block in enumerate(sequence(content, path, NAME)):
        block = expect(raw_block, Mapping, f"{path}[{index}]", NAME)
        if "cache_control" in block:
            raise UntranslatableError(
                f"{path}[{index}].cache_control", NAME, target, "prompt caching is Anthropic's own"
            )
        blocks.append(block)
    return blocks


def _result_text(content: object, path: str, target: str) -> str:
    if content is None:
        return ""
    pieces = []
    for index, block in enumerate(_blocks(content, path, target)):
        if block.get("type") != "text":
            raise UntranslatableError(
                f"{path}[{index}].type", NAME, target, f"block {block.get('type')!r}"
            )
        pieces.append(expect(block.get("text"), str, f"{path}[{index}].text", NAME))
    return "".join(pieces)


#: Formats that can mark a tool result as failed (Gemini: ``response.error``).
_ERROR_FLAG_TARGETS = frozenset({"anthropic", "gemini"})


def read_anthropic(body: Mapping[str, Any], target: str) -> Conversation:
    """Read a Messages body; raise UntranslatableError for what ``target`` loses."""
    refuse_unknown(body, _KNOWN, "", NAME, target)
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        system = _result_text(system, "system", target)
    names: dict[str, str] = {}
    turns = []
    for index, raw_message in enumerate(sequence(body.get("messages", []), "messages", NAME)):
        path = f"messages[{index}]"
        message = expect(raw_message, Mapping, path, NAME)
        refuse_unknown(message, frozenset({"role", "content"}), path, NAME, target)
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise UsageError(f"{NAME}: {path}.role {role!r} is not a Messages role")
        parts: list[Part] = []
        content = _blocks(message.get("content"), f"{path}.content", target)
        for number, block in enumerate(content):
            where = f"{path}.content[{number}]"
            kind = block.get("type")
            if kind == "text":
                parts.append(Text(text=expect(block.get("text"), str, f"{where}.text", NAME)))
            elif kind == "tool_use":
                call_id = expect(block.get("id"), str, f"{where}.id", NAME)
                name = expect(block.get("name"), str, f"{where}.name", NAME)
                names[call_id] = name
                arguments = expect(block.get("input", {}), Mapping, f"{where}.input", NAME)
                parts.append(ToolCall(id=call_id, name=name, arguments=arguments))
            elif kind == "tool_result":
                call_id = expect(block.get("tool_use_id"), str, f"{where}.tool_use_id", NAME)
                is_error = expect(block.get("is_error", False), bool, f"{where}.is_error", NAME)
                if is_error and target not in _ERROR_FLAG_TARGETS:
                    raise UntranslatableError(
                        f"{where}.is_error", NAME, target, "no error flag on a tool result there"
                    )
                parts.append(
                    ToolResult(
                        call_id=call_id,
                        name=names.get(call_id, ""),
                        content=_result_text(block.get("content"), f"{where}.content", target),
                        is_error=is_error,
                    )
                )
            else:
                raise UntranslatableError(f"{where}.type", NAME, target, f"block {kind!r}")
        turns.append(Turn(role=role, parts=tuple(parts)))
    tools = []
    for index, raw_tool in enumerate(body.get("tools") or ()):
        tool = expect(raw_tool, Mapping, f"tools[{index}]", NAME)
        if "type" in tool and tool["type"] != "custom":
            raise UntranslatableError(
                f"tools[{index}].type", NAME, target, f"server tool {tool['type']!r}"
            )
        if "cache_control" in tool:
            raise UntranslatableError(
                f"tools[{index}].cache_control", NAME, target, "prompt caching is Anthropic's own"
            )
        refuse_unknown(
            tool,
            frozenset({"type", "name", "description", "input_schema"}),
            f"tools[{index}]",
            NAME,
            target,
        )
        tools.append(
            Tool(
                name=expect(tool.get("name"), str, f"tools[{index}].name", NAME),
                description=tool.get("description"),
                parameters=expect(
                    tool.get("input_schema"), Mapping, f"tools[{index}].input_schema", NAME
                ),
            )
        )
    choice = body.get("tool_choice")
    tool_choice = None
    single = False
    if choice is not None:
        choice = expect(choice, Mapping, "tool_choice", NAME)
        refuse_unknown(
            choice,
            frozenset({"type", "name", "disable_parallel_tool_use"}),
            "tool_choice",
            NAME,
            target,
        )
        single = one_tool_call(
            choice.get("disable_parallel_tool_use") is True,
            "tool_choice.disable_parallel_tool_use",
            NAME,
            target,
        )
        mode = _TOOL_CHOICE.get(str(choice.get("type")))
        if mode is None:
            raise UsageError(f"{NAME}: tool_choice.type {choice.get('type')!r} is unknown")
        tool_choice = ToolChoice(mode=mode, name=choice.get("name"))  # type: ignore[arg-type]
    return Conversation(
        model=str(body.get("model", "")),
        system=system,
        turns=tuple(turns),
        max_tokens=body.get("max_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stop=tuple(body.get("stop_sequences") or ()),
        tools=tuple(tools),
        tool_choice=tool_choice,
        one_tool_call=single,
    )


def write_anthropic(conversation: Conversation, model: str, source: str) -> dict[str, Any]:
    """Write a Messages streaming body; JSON mode has no equivalent and is refused."""
    if conversation.json_mode is not None:
        raise UntranslatableError(
            "response_format", source, NAME, "Anthropic Messages has no JSON mode"
        )
    messages: list[dict[str, Any]] = []
    for turn in conversation.turns:
        blocks: list[dict[str, Any]] = []
        # tool_result blocks must come first in a user turn.
        for part in sorted(turn.parts, key=lambda p: not isinstance(p, ToolResult)):
            if isinstance(part, Text):
                if part.text:
                    blocks.append({"type": "text", "text": part.text})
            elif isinstance(part, ToolCall):
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": part.id,
                        "name": part.name,
                        "input": dict(part.arguments),
                    }
                )
            else:
                result: dict[str, Any] = {
                    "type": "tool_result",
                    "tool_use_id": part.call_id,
                    "content": part.content,
                }
                if part.is_error:
                    result["is_error"] = True
                blocks.append(result)
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": turn.role, "content": blocks})
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": conversation.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": messages,
        "stream": True,
    }
    if conversation.system is not None:
        body["system"] = conversation.system
    if conversation.temperature is not None:
        body["temperature"] = conversation.temperature
    if conversation.top_p is not None:
        body["top_p"] = conversation.top_p
    if conversation.stop:
        body["stop_sequences"] = list(conversation.stop)
    if conversation.tools:
        body["tools"] = [
            {
                "name": tool.name,
                **({"description": tool.description} if tool.description else {}),
                "input_schema": dict(tool.parameters),
            }
            for tool in conversation.tools
        ]
    choice = conversation.tool_choice
    if choice is not None:
        kind = {"auto": "auto", "required": "any", "none": "none", "tool": "tool"}[choice.mode]
        body["tool_choice"] = {"type": kind, **({"name": choice.name} if choice.name else {})}
    if conversation.one_tool_call:
        body.setdefault("tool_choice", {"type": "auto"})["disable_parallel_tool_use"] = True
    json.dumps(body)  # the body must be JSON; fail here, not on the wire
    return body
