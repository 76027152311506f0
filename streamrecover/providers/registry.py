"""The built-in wire formats, by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamrecover.core.errors import UsageError

if TYPE_CHECKING:
    from streamrecover.providers.base import Provider

__all__ = ["UnknownProviderError", "get_provider", "provider_class", "provider_names"]

#: Each name's module and class: a provider's module loads when it is first
#: asked for by name, so that a client of one provider never loads the others.
_PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("streamrecover.providers.openai_chat", "OpenAIChatProvider"),
    "openai-responses": ("streamrecover.providers.openai_responses", "OpenAIResponsesProvider"),
    "anthropic": ("streamrecover.providers.anthropic", "AnthropicProvider"),
    "gemini": ("streamrecover.providers.gemini", "GeminiProvider"),
}


class UnknownProviderError(UsageError, ValueError):
    """No wire format has that name.

    Also a ``ValueError``, the exception Python code expects for a bad name
    (as keyring and fsspec raise), while staying under ``StreamRecoverError``.
    """

    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown provider {name!r}; available: {', '.join(provider_names())}"
        )
        self.name = name


def provider_names() -> tuple[str, ...]:
    """Return the names :func:`get_provider` accepts, sorted."""
    return tuple(sorted(_PROVIDERS))


def provider_class(name: str) -> type[Provider]:
    """Return the provider class registered as ``name``.

    Raises:
        UnknownProviderError: no provider has that name (the message lists them).
    """
    try:
        module, attribute = _PROVIDERS[name]
    except (KeyError, TypeError):
        raise UnknownProviderError(name) from None
    cls: type[Provider] = getattr(__import__(module, fromlist=[attribute]), attribute)
    return cls


def get_provider(name: str, **options: Any) -> Provider:
    """Return a configured provider for the wire format ``name``.

    ``"openai"`` also serves any OpenAI-compatible server (vLLM, Ollama ``/v1``,
    OpenRouter, Groq) given its ``base_url``. ``options`` are the constructor's
    keyword arguments (``base_url``, ``api_key``, ``prefill``, ``headers``...).

    Raises:
        UnknownProviderError: no provider has that name (the message lists them).
        UsageError: an option the provider does not take, or a bad option value.
    """
    cls = provider_class(name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise UsageError(f"{name}: {exc}") from exc
