"""``Fallback``: another provider and model to finish a stream on.

This module holds the configuration and the request it sends; when a stream
falls back is :func:`streamrecover.core.fallback.fallback_verdict`, and the
wire translation lives in :mod:`streamrecover.providers.translate`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from streamrecover.core.errors import UsageError
from streamrecover.providers.registry import get_provider, provider_class

if TYPE_CHECKING:
    from streamrecover.core.policy import RetryPolicy
    from streamrecover.providers.base import Provider

__all__ = ["Fallback", "TranslateBody"]

#: A caller's own translation: ``(original_body, source_provider_name) -> body``.
TranslateBody = Callable[[Mapping[str, Any], str], Mapping[str, Any]]


class Fallback:
    """One alternative for a stream whose provider gave up.

    Args:
        provider: a wire-format name (``"openai"``, ``"anthropic"``,
            ``"gemini"``, ``"openai-responses"``) or a configured ``Provider``.
        model: the model the fallback answers with.
        api_key: its own key (never shown in ``repr``); by default read, when
            the Fallback is built, from the provider's usual environment
            variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``
            or ``GOOGLE_API_KEY``), as the client does; ignored with a
            ``Provider`` instance, which carries its own.
        base_url: its own endpoint; ignored with a ``Provider`` instance.
        prefill: override whether its model accepts an assistant prefill (as
            ``Client(prefill=...)``); ignored with a ``Provider`` instance.
        headers: extra request headers of its own; ignored with a ``Provider``.
        retry: its own retry policy; None keeps the client's.
        translate: build the fallback's body yourself from the original body
            and the original provider's name, instead of the built-in
            translation.

    Raises:
        UsageError: an unknown provider name or an empty model.
    """

    __slots__ = ("model", "provider", "retry", "translate")

    def __init__(
        self,
        provider: str | Provider,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        translate: TranslateBody | None = None,
        prefill: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise UsageError("Fallback needs a model, a non-empty string")
        if isinstance(provider, str):
            if api_key is None:
                api_key = next(
                    (os.environ[name] for name in provider_class(provider).api_key_env
                     if os.environ.get(name)),
                    None,
                )
            provider = get_provider(
                provider, api_key=api_key, base_url=base_url, prefill=prefill, headers=headers
            )
        self.provider: Provider = provider
        self.model = model
        self.retry = retry
        self.translate = translate

    def __repr__(self) -> str:
        return f"Fallback({self.provider.name!r}, {self.model!r})"

    def request_body(self, body: Mapping[str, Any], source: str) -> dict[str, Any]:
        """The original ``source``-format request, for this fallback's format and model.

        Called when the client is built or the stream starts, so that a request
        the fallback could not carry fails before the first byte, not during an
        outage.

        Raises:
            UntranslatableError: a field has no faithful equivalent (named).
            UsageError: ``translate`` returned something that is not a JSON object.
        """
        if self.translate is not None:
            built = self.translate(body, source)
            if not isinstance(built, Mapping):
                raise UsageError("Fallback.translate must return a JSON object (a mapping)")
            return {**built, "model": self.model}
        # The translation machinery loads with the first fallback's request.
        from streamrecover.providers.translate import translate_body

        return translate_body(body, source, self.provider.name, model=self.model)
