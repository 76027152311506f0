"""Provider wire formats: sans-IO, standard library only.

One module per format (OpenAI Chat Completions and compatible servers, OpenAI
Responses, Anthropic Messages, Gemini) behind the :class:`Provider` /
:class:`StreamParser` interface of :mod:`streamrecover.providers.base`; pick one
by name with :func:`get_provider`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamrecover.providers.registry import (
    UnknownProviderError,
    get_provider,
    provider_class,
    provider_names,
)

if TYPE_CHECKING:
    from streamrecover.providers.anthropic import AnthropicProvider
    from streamrecover.providers.base import JSONBody, Provider, ResumePoint, StreamParser
    from streamrecover.providers.gemini import GeminiProvider
    from streamrecover.providers.openai_chat import OpenAIChatProvider
    from streamrecover.providers.openai_responses import OpenAIResponsesProvider

# The formats load on first use (PEP 562): importing one provider's module, or
# the base, loads neither the others nor their parsers.
_LAZY = {
    "AnthropicProvider": "streamrecover.providers.anthropic",
    "GeminiProvider": "streamrecover.providers.gemini",
    "JSONBody": "streamrecover.providers.base",
    "OpenAIChatProvider": "streamrecover.providers.openai_chat",
    "OpenAIResponsesProvider": "streamrecover.providers.openai_responses",
    "Provider": "streamrecover.providers.base",
    "ResumePoint": "streamrecover.providers.base",
    "StreamParser": "streamrecover.providers.base",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'streamrecover.providers' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = (
    "AnthropicProvider",
    "GeminiProvider",
    "JSONBody",
    "OpenAIChatProvider",
    "OpenAIResponsesProvider",
    "Provider",
    "ResumePoint",
    "StreamParser",
    "UnknownProviderError",
    "get_provider",
    "provider_class",
    "provider_names",
)
