"""The interface every wire format implements.

A :class:`Provider` is stateless configuration (base URL, credentials, options)
that builds requests and knows the format's capabilities. A
:class:`StreamParser` is the per-attempt state: it maps each
:class:`~streamrecover.core.sse.ServerSentEvent` to content events and knows
whether the stream it saw is complete.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from streamrecover.core.events import Event
from streamrecover.core.http import HTTPRequest
from streamrecover.core.sse import ServerSentEvent

__all__ = ["Provider", "ResumePoint", "StreamParser"]

JSONBody = Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumePoint:
    """Where a stream stood when it broke, for provider-level (native) resume.

    ``last_event_id`` is the SSE last event ID; ``response_id`` and
    ``sequence_number`` come from OpenAI Responses events.
    """

    last_event_id: str = ""
    response_id: str = ""
    sequence_number: int | None = None


class StreamParser(ABC):
    """Per-attempt state of one stream: SSE events in, content events out."""

    #: The finish reason the provider gave, once it gave one.
    finish_reason: str | None = None

    @abstractmethod
    def feed(self, event: ServerSentEvent) -> list[Event]:
        """Map one SSE event to zero or more content events.

        Raises:
            ProviderStreamError: the event is an error payload from the provider.
            ProviderProtocolError: the event is malformed (bad JSON, wrong shape).
        """

    @property
    @abstractmethod
    def complete(self) -> bool:
        """True once the provider's terminal marker has been seen."""

    @property
    def resume_point(self) -> ResumePoint:
        """Where the stream stands now, for native resume (empty by default)."""
        return ResumePoint()

    def finish(self) -> None:
        """Check the stream at end of body.

        Raises:
            IncompleteStreamError: the terminal marker never came.
        """
        from streamrecover.core.errors import IncompleteStreamError

        if not self.complete:
            raise IncompleteStreamError("stream ended before its terminal marker")


class Provider(ABC):
    """One wire format, configured with a base URL and credentials."""

    #: Registry name ("openai", "anthropic", ...).
    name: ClassVar[str]
    #: Base URL used when none is given.
    default_base_url: ClassVar[str]
    #: Environment variables searched, in order, for the API key.
    api_key_env: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        prefill: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.api_key = api_key
        #: None: decide from the model; True/False: the caller's override.
        self.prefill_override = prefill
        self.extra_headers = dict(headers or {})

    def __repr__(self) -> str:
        # The API key is never shown.
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # -- requests ---------------------------------------------------------------

    @abstractmethod
    def build_request(self, body: JSONBody) -> HTTPRequest:
        """Build the streaming HTTP request for the caller's JSON ``body``.

        ``stream`` is forced on (or the streaming endpoint chosen).

        Raises:
            UsageError: the body lacks what the format requires (e.g. ``model``).
        """

    @abstractmethod
    def new_parser(self) -> StreamParser:
        """Return a fresh parser for one attempt's stream."""

    @abstractmethod
    def model(self, body: JSONBody) -> str:
        """Return the model named in ``body`` (empty string when absent)."""

    # -- capabilities the resume strategies need --------------------------------

    @abstractmethod
    def supports_prefill(self, body: JSONBody) -> bool:
        """Whether this model and request accept the partial answer as a final assistant turn."""

    def native_resume_request(self, body: JSONBody, point: ResumePoint) -> HTTPRequest | None:
        """Return a request that continues the same response with no regeneration, or None."""
        return None

    @abstractmethod
    def thinking_enabled(self, body: JSONBody) -> bool:
        """Whether the request enables thinking / reasoning (longer pauses, no prefill)."""

    @abstractmethod
    def structured_output(self, body: JSONBody) -> bool:
        """Whether the answer must be one JSON document (JSON mode, a response schema)."""

    @abstractmethod
    def continuation_body(
        self, body: JSONBody, partial_text: str, *, prefill: bool, instruction: str
    ) -> dict[str, Any]:
        """Return a new body that asks the model to continue ``partial_text``.

        With ``prefill``: ``partial_text`` becomes the final assistant turn (with
        trailing whitespace stripped where the format requires it), so the model
        writes the rest of it. Without: ``partial_text`` is an assistant turn
        followed by a user turn holding ``instruction``. ``body`` is not changed.
        """

    @abstractmethod
    def limit_output_tokens(self, body: JSONBody, already_generated: int, *, floor: int) -> dict[str, Any]:
        """Return a copy of ``body`` whose output-token limit is reduced by ``already_generated``.

        Never below ``floor``; a body with no limit is returned unchanged (as a copy).
        """
