"""Provider-native re-encoding: a recovered event stream back into a provider's SSE.

One module per wire format; :func:`encoder_for` picks one by provider name.
"""

from __future__ import annotations

from typing import Any

from streamrecover.core.errors import UsageError
from streamrecover.providers.encode.anthropic import AnthropicEncoder
from streamrecover.providers.encode.base import Encoder, sse_frame
from streamrecover.providers.encode.gemini import GeminiEncoder
from streamrecover.providers.encode.openai_chat import OpenAIChatEncoder
from streamrecover.providers.encode.openai_responses import OpenAIResponsesEncoder

__all__ = [
    "AnthropicEncoder",
    "Encoder",
    "GeminiEncoder",
    "OpenAIChatEncoder",
    "OpenAIResponsesEncoder",
    "encoder_for",
    "sse_frame",
]

_ENCODERS: dict[str, type[Encoder]] = {
    "anthropic": AnthropicEncoder,
    "openai": OpenAIChatEncoder,
    "openai-responses": OpenAIResponsesEncoder,
    "gemini": GeminiEncoder,
}


def encoder_for(provider: str, **meta: Any) -> Encoder:
    """Return a fresh encoder for the wire format of ``provider`` (a registry name).

    Raises:
        UsageError: no encoder for that provider.
    """
    try:
        cls = _ENCODERS[provider]
    except KeyError:
        raise UsageError(
            f"no re-encoder for provider {provider!r}; choose one of {', '.join(_ENCODERS)}"
        ) from None
    return cls(**meta)
