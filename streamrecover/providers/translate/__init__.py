"""Request translation between the wire formats (OpenAI Chat, OpenAI
Responses, Anthropic Messages, Gemini), through a neutral conversation.

:func:`translate_body` is what a fallback uses to send the caller's request to
another provider. What cannot be carried faithfully is refused with
:class:`UntranslatableError` (a ``UsageError``) naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from streamrecover.core.errors import UsageError
from streamrecover.providers.translate.anthropic import read_anthropic, write_anthropic
from streamrecover.providers.translate.gemini import read_gemini, write_gemini
from streamrecover.providers.translate.neutral import Conversation, UntranslatableError
from streamrecover.providers.translate.openai_chat import read_chat, write_chat
from streamrecover.providers.translate.openai_responses import read_responses, write_responses

__all__ = [
    "Conversation",
    "UntranslatableError",
    "read_body",
    "translate_body",
    "translate_request",
    "write_body",
]

_READERS: dict[str, Callable[[Mapping[str, Any], str], Conversation]] = {
    "openai": read_chat,
    "anthropic": read_anthropic,
    "gemini": read_gemini,
    "openai-responses": read_responses,
}


def _writers() -> dict[str, Callable[[Conversation, str, str], dict[str, Any]]]:
    return {
        "openai": lambda c, model, source: write_chat(c, model),
        "anthropic": write_anthropic,
        "gemini": write_gemini,
        "openai-responses": write_responses,
    }


def read_body(body: Mapping[str, Any], source: str, target: str) -> Conversation:
    """Read a ``source``-format body into a :class:`Conversation`.

    Raises:
        UntranslatableError: a field ``target`` could not carry.
        UsageError: ``source`` is not a known format or the body is malformed.
    """
    reader = _READERS.get(source)
    if reader is None:
        raise UsageError(f"no request translation from {source!r}; known: {sorted(_READERS)}")
    return reader(body, target)


def write_body(conversation: Conversation, target: str, model: str, source: str) -> dict[str, Any]:
    """Write ``conversation`` as a ``target``-format streaming body for ``model``.

    Raises:
        UntranslatableError: the conversation holds something ``target`` cannot carry.
    """
    writer = _writers().get(target)
    if writer is None:
        raise UsageError(f"no request translation to {target!r}; known: {sorted(_writers())}")
    return writer(conversation, model, source)


def translate_body(
    body: Mapping[str, Any], source: str, target: str, model: str | None = None
) -> dict[str, Any]:
    """Translate a streaming request body from one wire format to another.

    ``model`` replaces the body's model (a fallback's own); by default it is kept.

    Raises:
        UntranslatableError: a field has no faithful equivalent (named in the message).
        UsageError: an unknown format or a malformed body.
    """
    conversation = read_body(body, source, target)
    return write_body(conversation, target, model or conversation.model, source)


def translate_request(
    body: Mapping[str, Any], *, source: str, target: str, model: str | None = None
) -> dict[str, Any]:
    """Keyword form of :func:`translate_body`:
    ``translate_request(body, source="anthropic", target="openai", model="gpt-4o")``.

    Formats: ``"openai"`` (Chat Completions), ``"openai-responses"``,
    ``"anthropic"`` (Messages), ``"gemini"`` (generateContent).

    Raises:
        UntranslatableError: a field has no faithful equivalent (named in the message).
        UsageError: an unknown format or a malformed body.
    """
    return translate_body(body, source, target, model)
