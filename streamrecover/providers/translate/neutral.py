"""The wire-neutral request that every format is read into and written from.

A request is translated in two steps, ``read`` (one format to this shape) and
``write`` (this shape to another format). Anything a format carries that this
shape cannot hold is refused while reading, and anything this shape holds that
the target cannot carry is refused while writing: a translation never drops a
field silently (a fallback model answering without the caller's tools, stop
sequences or JSON mode would be a wrong answer that looks right).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from streamrecover.core.errors import UsageError

__all__ = [
    "Conversation",
    "JsonMode",
    "Part",
    "Text",
    "Tool",
    "ToolCall",
    "ToolChoice",
    "ToolResult",
    "Turn",
    "UntranslatableError",
    "arguments_object",
    "expect",
]


class UntranslatableError(UsageError):
    """A request field has no faithful equivalent in the other wire format.

    ``field`` names it as the caller wrote it (``"messages[2].content[0].type"``,
    ``"system[0].cache_control"``), ``source`` and ``target`` the formats.
    """

    def __init__(self, field_path: str, source: str, target: str, why: str) -> None:
        super().__init__(f"cannot translate {field_path!r} from {source} to {target}: {why}")
        self.field = field_path
        self.source = source
        self.target = target


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    id: str
    name: str
    #: The arguments as a JSON object (every format agrees on that much).
    arguments: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult:
    call_id: str
    #: The called tool's name (Gemini's ``functionResponse`` needs it).
    name: str
    content: str
    is_error: bool = False


Part = Text | ToolCall | ToolResult


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    role: Literal["user", "assistant"]
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool:
    name: str
    description: str | None
    #: JSON Schema of the arguments.
    parameters: Mapping[str, Any]
    #: OpenAI's strict schema adherence (carried only between the OpenAI formats).
    strict: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolChoice:
    mode: Literal["auto", "none", "required", "tool"]
    #: Set when ``mode == "tool"``.
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonMode:
    """Answer in JSON; with ``schema``, JSON that matches it."""

    schema: Mapping[str, Any] | None = None
    name: str | None = None
    strict: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    model: str
    system: str | None = None
    turns: tuple[Turn, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    json_mode: JsonMode | None = None
    #: At most one tool call per answer (Chat/Responses ``parallel_tool_calls:
    #: false``, Anthropic ``tool_choice.disable_parallel_tool_use``).
    one_tool_call: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


def expect(value: object, kind: type | tuple[type, ...], path: str, source: str) -> Any:
    """Return ``value`` if it is a ``kind``; else raise a UsageError naming ``path``."""
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise UsageError(f"{source}: {path!r} has the wrong type (bool)")
    if not isinstance(value, kind):
        raise UsageError(f"{source}: {path!r} has the wrong type ({type(value).__name__})")
    return value


def arguments_object(raw: object, path: str, source: str) -> Mapping[str, Any]:
    """Tool-call arguments as an object, from a JSON string or an object."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise UsageError(f"{source}: {path!r} is not valid JSON") from None
    if not isinstance(raw, Mapping):
        raise UsageError(f"{source}: {path!r} must be a JSON object")
    return raw


def sequence(value: object, path: str, source: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise UsageError(f"{source}: {path!r} must be a list")
    return value


#: The formats that carry a function tool's ``strict`` flag.
STRICT_TARGETS = frozenset({"openai", "openai-responses"})


def tool_strict(value: object, path: str, source: str, target: str) -> bool | None:
    """A tool's ``strict`` flag; refused (``path``) where ``target`` cannot enforce it."""
    if value is None:
        return None
    strict: bool = expect(value, bool, path, source)
    if strict and target not in STRICT_TARGETS:
        raise UntranslatableError(path, source, target, "no strict schema adherence there")
    return strict


#: The formats that can limit an answer to one tool call.
ONE_CALL_TARGETS = frozenset({"openai", "openai-responses", "anthropic"})


def one_tool_call(flag: bool, path: str, source: str, target: str) -> bool:
    """``flag`` (one tool call per answer) if ``target`` can say so; else refused."""
    if flag and target not in ONE_CALL_TARGETS:
        raise UntranslatableError(path, source, target, "no way to forbid parallel tool calls")
    return flag


def refuse_unknown(
    body: Mapping[str, Any], known: frozenset[str], path: str, source: str, target: str
) -> None:
    """Refuse every key of ``body`` this translation does not understand."""
    for key in body:
        if key not in known:
            where = f"{path}.{key}" if path else key
            raise UntranslatableError(where, source, target, "no equivalent is known")
