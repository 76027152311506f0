"""Is a request body valid for its own wire format? The fake fallback server's check.

A fallback receives a request that streamrecover translated from another
provider's format. :func:`format_problems` reads it as that provider would,
from the providers' documentation (not from :mod:`streamrecover.providers`),
and lists what it would refuse or misread: roles the format does not have (a
``system`` turn in Anthropic ``messages``, an ``assistant`` in Gemini
``contents``), turns out of order, content blocks of another format
(``input_text`` in Chat, ``parts`` in Anthropic), tools in another format's
shape, and top-level fields of another format (``max_tokens`` in a Gemini
body, ``contents`` in a Chat body). Prefill rules and continuations are
checked separately (:func:`streamrecover.testing.request_checks.inspect_request`).

Documents followed: OpenAI Chat Completions
(https://platform.openai.com/docs/api-reference/chat/create), OpenAI Responses
(https://platform.openai.com/docs/api-reference/responses/create), Anthropic
Messages (https://docs.anthropic.com/en/api/messages), Gemini
generateContent (https://ai.google.dev/api/generate-content).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["format_problems"]

# Top-level fields that belong to another format, per target format.
_FOREIGN = {
    "openai": {"contents", "input", "system", "max_output_tokens", "generationConfig",
               "max_tokens_to_sample", "instructions"},
    "openai-responses": {"messages", "contents", "system", "max_tokens",
                         "max_completion_tokens", "generationConfig", "response_format"},
    "anthropic": {"contents", "input", "max_completion_tokens", "max_output_tokens",
                  "generationConfig", "response_format", "instructions"},
    "gemini": {"messages", "input", "system", "max_tokens", "max_completion_tokens",
               "max_output_tokens", "response_format", "instructions", "stream"},
}
_CHAT_ROLES = {"system", "developer", "user", "assistant", "tool"}
_CHAT_PARTS = {"text", "image_url", "input_audio", "file", "refusal"}
_ANTHROPIC_BLOCKS = {"text", "image", "document", "tool_use", "tool_result", "thinking",
                     "redacted_thinking"}
_RESPONSES_ROLES = {"system", "developer", "user", "assistant"}
_RESPONSES_PARTS = {"input_text", "output_text", "input_image", "input_file", "refusal"}


def format_problems(provider: str, body: Mapping[str, Any]) -> list[str]:
    """What ``provider`` would refuse in ``body``; empty when it is a valid request.

    Raises ValueError for an unknown provider.
    """
    checks = {
        "openai": _chat,
        "openai-responses": _responses,
        "anthropic": _anthropic,
        "gemini": _gemini,
    }
    check = checks.get(provider)
    if check is None:
        raise ValueError(f"unknown provider {provider!r}; expected one of {sorted(checks)}")
    problems = [f"field {name!r} belongs to another format"
                for name in sorted(_FOREIGN[provider] & set(body))]
    problems.extend(check(body))
    return problems


def _chat(body: Mapping[str, Any]) -> list[str]:
    problems = []
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return ["'messages' is not a non-empty list"]
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping) or message.get("role") not in _CHAT_ROLES:
            problems.append(f"{where} has no Chat role")
            continue
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if not isinstance(part, Mapping) or part.get("type") not in _CHAT_PARTS:
                    problems.append(f"{where} has a content part Chat does not know: {part!r}")
        elif content is not None and not isinstance(content, str):
            problems.append(f"{where}.content is neither a string nor a list of parts")
    for index, tool in enumerate(_list(body.get("tools"))):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if (not isinstance(tool, Mapping) or tool.get("type") != "function"
                or not isinstance(function, Mapping) or not function.get("name")
                or not isinstance(function.get("parameters", {}), Mapping)):
            problems.append(f"tools[{index}] is not a Chat function tool: {tool!r}")
    return problems


def _responses(body: Mapping[str, Any]) -> list[str]:
    problems = []
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list) or not items:
        return ["'input' is neither a string nor a non-empty list"]
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where} is not an object")
            continue
        kind = item.get("type", "message")
        if kind != "message":
            if kind not in ("function_call", "function_call_output", "reasoning"):
                problems.append(f"{where} has an item type Responses does not know: {kind!r}")
            continue
        if item.get("role") not in _RESPONSES_ROLES:
            problems.append(f"{where} has no Responses role")
        content = item.get("content")
        if isinstance(content, list):
            for part in content:
                if not isinstance(part, Mapping) or part.get("type") not in _RESPONSES_PARTS:
                    problems.append(f"{where} has a content part Responses does not know: "
                                    f"{part!r}")
                elif item.get("role") == "assistant" and part.get("type") == "input_text":
                    problems.append(f"{where}: an assistant message carries input_text")
        elif not isinstance(content, str):
            problems.append(f"{where}.content is neither a string nor a list of parts")
    for index, tool in enumerate(_list(body.get("tools"))):
        if (not isinstance(tool, Mapping) or tool.get("type") != "function"
                or not tool.get("name") or "function" in tool):
            problems.append(f"tools[{index}] is not a Responses function tool: {tool!r}")
    return problems


def _anthropic(body: Mapping[str, Any]) -> list[str]:
    problems = []
    if type(body.get("max_tokens")) is not int:
        problems.append("'max_tokens' (required) is missing")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*problems, "'messages' is not a non-empty list"]
    previous = ""
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role") if isinstance(message, Mapping) else None
        if role not in ("user", "assistant"):
            problems.append(f"{where} has role {role!r}; Anthropic messages are user or "
                            "assistant (the system prompt is a top-level field)")
            continue
        if index == 0 and role != "user":
            problems.append("the first message is not a user turn")
        if role == previous:
            problems.append(f"{where} repeats the role {role!r}; turns must alternate")
        previous = str(role)
        content = message.get("content")
        if isinstance(content, list):
            for block in content:
                if not isinstance(block, Mapping) or block.get("type") not in _ANTHROPIC_BLOCKS:
                    problems.append(f"{where} has a block Anthropic does not know: {block!r}")
        elif not isinstance(content, str):
            problems.append(f"{where}.content is neither a string nor a list of blocks")
    for index, tool in enumerate(_list(body.get("tools"))):
        if (not isinstance(tool, Mapping) or not tool.get("name")
                or not isinstance(tool.get("input_schema"), Mapping) or "function" in tool):
            problems.append(f"tools[{index}] is not an Anthropic tool: {tool!r}")
    return problems


def _gemini(body: Mapping[str, Any]) -> list[str]:
    problems = []
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return ["'contents' is not a non-empty list"]
    for index, content in enumerate(contents):
        where = f"contents[{index}]"
        role = content.get("role") if isinstance(content, Mapping) else None
        if role not in ("user", "model"):
            problems.append(f"{where} has role {role!r}; Gemini contents are user or model")
        parts = content.get("parts") if isinstance(content, Mapping) else None
        if not isinstance(parts, list) or not parts:
            problems.append(f"{where} has no parts")
            continue
        for part in parts:
            if not isinstance(part, Mapping) or not set(part) & {
                "text", "inlineData", "fileData", "functionCall", "functionResponse"
            }:
                problems.append(f"{where} has a part Gemini does not know: {part!r}")
    for index, tool in enumerate(_list(body.get("tools"))):
        declarations = tool.get("functionDeclarations") if isinstance(tool, Mapping) else None
        if not isinstance(declarations, list) or not all(
            isinstance(d, Mapping) and d.get("name") for d in declarations
        ):
            problems.append(f"tools[{index}] is not a Gemini functionDeclarations tool: {tool!r}")
    return problems


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
