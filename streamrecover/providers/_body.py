"""Copy-on-write edits of request bodies shared by the providers.

Every function returns new containers along the path it changes and shares the
rest with the caller's body, so the caller's body is never mutated and nothing
is deep-copied needlessly (bodies can hold megabytes of images).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamrecover.core.errors import UsageError

__all__ = ["append_turns", "extend_content", "reduced_limit", "strip_trailing_whitespace", "turns"]


def turns(body: Mapping[str, Any], key: str, provider: str) -> list[Any]:
    """Return a new list holding the conversation ``body[key]`` (absent: empty).

    Raises:
        UsageError: ``body[key]`` is present but not a list.
    """
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"{provider}: {key!r} must be a list to continue the answer")
    return list(value)


def extend_content(content: Any, text: str) -> Any:
    """Return message ``content`` (a string or a list of typed blocks) with ``text`` appended."""
    if content is None:
        return text
    if isinstance(content, str):
        return content + text
    if isinstance(content, list):
        blocks = list(content)
        last = blocks[-1] if blocks else None
        if isinstance(last, Mapping) and last.get("type") == "text" and isinstance(
            last.get("text"), str
        ):
            blocks[-1] = {**last, "text": last["text"] + text}
        else:
            blocks.append({"type": "text", "text": text})
        return blocks
    raise UsageError(f"cannot append text to message content of type {type(content).__name__}")


def strip_trailing_whitespace(content: Any) -> Any:
    """Return message ``content`` with trailing whitespace removed from its final text."""
    if isinstance(content, str):
        return content.rstrip()
    if isinstance(content, list) and content:
        last = content[-1]
        if isinstance(last, Mapping) and isinstance(last.get("text"), str):
            return [*content[:-1], {**last, "text": last["text"].rstrip()}]
    return content


def append_turns(
    conversation: list[Any],
    *,
    assistant_role: str,
    partial_turn: dict[str, Any],
    merge: Any,
) -> None:
    """Add ``partial_turn`` to ``conversation`` (in place: a list the caller owns).

    When the conversation already ends with an ``assistant_role`` turn (the
    caller's own prefill), ``merge(last_turn)`` returns that turn extended with
    the partial text, and it replaces the last turn instead.
    """
    last = conversation[-1] if conversation else None
    if isinstance(last, Mapping) and last.get("role") == assistant_role:
        conversation[-1] = merge(last)
    else:
        conversation.append(partial_turn)


def reduced_limit(limit: Any, already_generated: int, floor: int) -> Any:
    """Return an output-token ``limit`` reduced by ``already_generated``, kept within
    ``[min(floor, limit), limit]``; anything that is not an integer limit unchanged."""
    if type(limit) is not int:
        return limit
    return min(limit, max(limit - max(already_generated, 0), floor))
