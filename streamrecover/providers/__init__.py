"""Provider wire formats: sans-IO, standard library only.

One module per format (OpenAI Chat Completions and compatible servers, OpenAI
Responses, Anthropic Messages, Gemini) behind the :class:`Provider` /
:class:`StreamParser` interface of :mod:`streamrecover.providers.base`; pick one
by name with :func:`get_provider`.
"""

from __future__ import annotations

from streamrecover.providers.anthropic import AnthropicProvider
from streamrecover.providers.base import JSONBody, Provider, ResumePoint, StreamParser
from streamrecover.providers.gemini import GeminiProvider
from streamrecover.providers.openai_chat import OpenAIChatProvider
from streamrecover.providers.openai_responses import OpenAIResponsesProvider
from streamrecover.providers.registry import (
    UnknownProviderError,
    get_provider,
    provider_class,
    provider_names,
)

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
