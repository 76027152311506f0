"""Gemini ``generateContent`` bodies to and from the neutral conversation.

Gemini's history may carry no tool-call ids; reading makes them up
(``call_<n>``) and pairs each ``functionResponse`` with the earliest open call
of the same name, so an id-keyed format can be written from it.
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
    expect,
    refuse_unknown,
    sequence,
)

__all__ = ["read_gemini", "write_gemini"]

NAME = "gemini"
_KNOWN = frozenset(
    {"model", "contents", "systemInstruction", "generationConfig", "tools", "toolConfig"}
)
_CONFIG = frozenset(
    {
        "maxOutputTokens",
        "temperature",
        "topP",
        "stopSequences",
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "candidateCount",
    }
)
_MODES = {"AUTO": "auto", "ANY": "required", "NONE": "none"}


def _texts(parts: object, path: str, target: str) -> str:
    pieces = []
    for index, raw in enumerate(sequence(parts, path, NAME)):
        part = expect(raw, Mapping, f"{path}[{index}]", NAME)
        if set(part) != {"text"}:
            raise UntranslatableError(f"{path}[{index}]", NAME, target, "not a text part")
        pieces.append(expect(part["text"], str, f"{path}[{index}].text", NAME))
    return "".join(pieces)


def read_gemini(body: Mapping[str, Any], target: str) -> Conversation:
    """Read a Gemini body; raise UntranslatableError for what ``target`` loses."""
    refuse_unknown(body, _KNOWN, "", NAME, target)
    system = None
    if "systemInstruction" in body:
        instruction = expect(body["systemInstruction"], Mapping, "systemInstruction", NAME)
        system = _texts(instruction.get("parts", []), "systemInstruction.parts", target)
    open_calls: list[tuple[str, str]] = []
    turns: list[Turn] = []
    for index, raw in enumerate(sequence(body.get("contents", []), "contents", NAME)):
        path = f"contents[{index}]"
        content = expect(raw, Mapping, path, NAME)
        role = {"user": "user", "function": "user", "model": "assistant"}.get(
            str(content.get("role", "user"))
        )
        if role is None:
            raise UsageError(f"{NAME}: {path}.role {content.get('role')!r} is unknown")
        parts: list[Part] = []
        for number, raw_part in enumerate(
            sequence(content.get("parts", []), f"{path}.parts", NAME)
        ):
            where = f"{path}.parts[{number}]"
            part = expect(raw_part, Mapping, where, NAME)
            if set(part) == {"text"}:
                parts.append(Text(text=expect(part["text"], str, f"{where}.text", NAME)))
            elif set(part) == {"functionCall"}:
                call = expect(part["functionCall"], Mapping, f"{where}.functionCall", NAME)
                name = expect(call.get("name"), str, f"{where}.functionCall.name", NAME)
                call_id = str(call.get("id") or f"call_{len(open_calls) + 1}")
                open_calls.append((call_id, name))
                arguments = expect(
                    call.get("args", {}), Mapping, f"{where}.functionCall.args", NAME
                )
                parts.append(ToolCall(id=call_id, name=name, arguments=arguments))
            elif set(part) == {"functionResponse"}:
                answer = expect(
                    part["functionResponse"], Mapping, f"{where}.functionResponse", NAME
                )
                name = expect(answer.get("name"), str, f"{where}.functionResponse.name", NAME)
                call_id = answer.get("id")
                if call_id is None:
                    call_id = next((i for i, n in open_calls if n == name), f"call_{name}")
                open_calls[:] = [(i, n) for i, n in open_calls if i != call_id]
                response = answer.get("response", {})
                is_error = False
                if (
                    isinstance(response, Mapping)
                    and set(response) == {"result"}
                    and isinstance(response["result"], str)
                ):
                    text = response["result"]
                elif (
                    isinstance(response, Mapping)
                    and set(response) == {"error"}
                    and isinstance(response["error"], str)
                ):
                    if target not in ("anthropic", NAME):
                        raise UntranslatableError(
                            f"{where}.functionResponse.response.error",
                            NAME,
                            target,
                            "no error flag on a tool result there",
                        )
                    text, is_error = response["error"], True
                else:
                    text = json.dumps(response)
                parts.append(
                    ToolResult(call_id=str(call_id), name=name, content=text, is_error=is_error)
                )
            else:
                raise UntranslatableError(where, NAME, target, f"part {sorted(part)!r}")
        turns.append(Turn(role=role, parts=tuple(parts)))  # type: ignore[arg-type]
    config = expect(body.get("generationConfig", {}), Mapping, "generationConfig", NAME)
    refuse_unknown(config, _CONFIG, "generationConfig", NAME, target)
    if config.get("candidateCount", 1) != 1:
        raise UntranslatableError(
            "generationConfig.candidateCount", NAME, target, "one answer per request only"
        )
    json_mode = None
    schema = config.get("responseJsonSchema", config.get("responseSchema"))
    if config.get("responseMimeType") == "application/json":
        json_mode = JsonMode(schema=schema)
    elif schema is not None or config.get("responseMimeType") not in (None, "text/plain"):
        raise UntranslatableError("generationConfig.responseMimeType", NAME, target, "not JSON")
    tools = []
    for index, raw_tool in enumerate(body.get("tools") or ()):
        group = expect(raw_tool, Mapping, f"tools[{index}]", NAME)
        if set(group) != {"functionDeclarations"}:
            raise UntranslatableError(
                f"tools[{index}]", NAME, target, f"server tool {sorted(group)!r}"
            )
        for number, raw_decl in enumerate(group["functionDeclarations"]):
            where = f"tools[{index}].functionDeclarations[{number}]"
            decl = expect(raw_decl, Mapping, where, NAME)
            refuse_unknown(
                decl, frozenset({"name", "description", "parameters"}), where, NAME, target
            )
            tools.append(
                Tool(
                    name=expect(decl.get("name"), str, f"{where}.name", NAME),
                    description=decl.get("description"),
                    parameters=decl.get("parameters") or {"type": "object", "properties": {}},
                )
            )
    tool_choice = None
    if "toolConfig" in body:
        calling = expect(
            expect(body["toolConfig"], Mapping, "toolConfig", NAME).get("functionCallingConfig"),
            Mapping,
            "toolConfig.functionCallingConfig",
            NAME,
        )
        mode = _MODES.get(str(calling.get("mode", "AUTO")))
        allowed = calling.get("allowedFunctionNames") or []
        if mode is None or len(allowed) > 1 or (allowed and mode != "required"):
            raise UntranslatableError(
                "toolConfig.functionCallingConfig", NAME, target, "no equivalent is known"
            )
        tool_choice = (
            ToolChoice(mode="tool", name=allowed[0]) if allowed else ToolChoice(mode=mode)  # type: ignore[arg-type]
        )
    return Conversation(
        model=str(body.get("model", "")),
        system=system,
        turns=tuple(turns),
        max_tokens=config.get("maxOutputTokens"),
        temperature=config.get("temperature"),
        top_p=config.get("topP"),
        stop=tuple(config.get("stopSequences") or ()),
        tools=tuple(tools),
        tool_choice=tool_choice,
        json_mode=json_mode,
    )


def write_gemini(conversation: Conversation, model: str, source: str) -> dict[str, Any]:
    """Write a Gemini streaming body (the provider moves ``model`` into the path)."""
    contents: list[dict[str, Any]] = []
    for turn in conversation.turns:
        parts: list[dict[str, Any]] = []
        for part in turn.parts:
            if isinstance(part, Text):
                if part.text:
                    parts.append({"text": part.text})
            elif isinstance(part, ToolCall):
                parts.append(
                    {
                        "functionCall": {
                            "id": part.id,
                            "name": part.name,
                            "args": dict(part.arguments),
                        }
                    }
                )
            else:
                if not part.name:
                    raise UntranslatableError(
                        "tool result", source, NAME, f"no tool call {part.call_id!r} precedes it"
                    )
                parts.append(
                    {
                        "functionResponse": {
                            "id": part.call_id,
                            "name": part.name,
                            "response": {("error" if part.is_error else "result"): part.content},
                        }
                    }
                )
        role = "model" if turn.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    body: dict[str, Any] = {"model": model, "contents": contents}
    if conversation.system is not None:
        body["systemInstruction"] = {"parts": [{"text": conversation.system}]}
    config: dict[str, Any] = {}
    if conversation.max_tokens is not None:
        config["maxOutputTokens"] = conversation.max_tokens
    if conversation.temperature is not None:
        config["temperature"] = conversation.temperature
    if conversation.top_p is not None:
        config["topP"] = conversation.top_p
    if conversation.stop:
        config["stopSequences"] = list(conversation.stop)
    if conversation.json_mode is not None:
        config["responseMimeType"] = "application/json"
        if conversation.json_mode.schema is not None:
            config["responseJsonSchema"] = dict(conversation.json_mode.schema)
    if config:
        body["generationConfig"] = config
    if conversation.tools:
        body["tools"] = [
            {
                "functionDeclarations": [
                    {
                        "name": tool.name,
                        **({"description": tool.description} if tool.description else {}),
                        "parameters": dict(tool.parameters),
                    }
                    for tool in conversation.tools
                ]
            }
        ]
    if conversation.one_tool_call:
        raise UntranslatableError(
            "parallel tool calls off", source, NAME, "no way to forbid parallel tool calls"
        )
    choice = conversation.tool_choice
    if choice is not None:
        calling: dict[str, Any] = {
            "mode": {"auto": "AUTO", "required": "ANY", "none": "NONE", "tool": "ANY"}[choice.mode]
        }
        if choice.mode == "tool":
            calling["allowedFunctionNames"] = [choice.name]
        body["toolConfig"] = {"functionCallingConfig": calling}
    return body
