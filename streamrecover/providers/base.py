"""The interface every wire format implements.

A :class:`Provider` is stateless configuration (base URL, credentials, options)
that builds requests and knows the format's capabilities. A
:class:`StreamParser` is the per-attempt state: it maps each
:class:`~streamrecover.core.sse.ServerSentEvent` to content events and knows
whether the stream it saw is complete.

Conventions shared by every parser:

* Events of one SSE event come out in this order: content deltas (text,
  reasoning, tool calls) in the order the provider sent them, then
  :class:`~streamrecover.core.events.Usage`, then
  :class:`~streamrecover.core.events.Finished`.
* ``Usage`` figures are cumulative for the response: a later ``Usage`` of the
  same attempt replaces an earlier one, it does not add to it. ``output_tokens``
  includes reasoning tokens for every provider (Gemini reports them apart; the
  parser adds them up).
* ``ToolCallDelta.index`` is the ordinal of the call within the answer (0 for the
  first tool call, 1 for the second...), whatever the provider's own numbering
  (content block index, output index).
* Keep-alives (``ping``, comments, events with empty data) and event types the
  provider may add later are ignored; a known event with the wrong shape is a
  :class:`~streamrecover.core.errors.ProviderProtocolError`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from streamrecover.core.errors import Fault, IncompleteStreamError, UsageError
from streamrecover.core.events import Event
from streamrecover.core.http import HTTPRequest, join_url
from streamrecover.core.redact import is_secret_header, redact
from streamrecover.core.sse import ServerSentEvent
from streamrecover.providers._errors import error_info

__all__ = ["JSONBody", "Provider", "ResumePoint", "StreamParser"]

JSONBody = Mapping[str, Any]

#: Idle timeouts (seconds without a byte of body), see Provider.default_idle_timeout.
IDLE_TIMEOUT = 60.0
THINKING_IDLE_TIMEOUT = 300.0
#: Progress timeouts (seconds without a content event), see Provider.default_progress_timeout.
PROGRESS_TIMEOUT = 300.0
THINKING_PROGRESS_TIMEOUT = 900.0


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
    """Per-attempt state of one stream: SSE events in, content events out.

    Subclasses implement :meth:`_feed`; :meth:`feed` wraps it so that a parser
    that raised a fault stays failed: every later call raises
    :class:`~streamrecover.core.errors.UsageError` instead of, say, turning a
    ``[DONE]`` that follows an error frame into a completed stream.
    """

    #: Registry name of the provider whose stream this parser reads.
    provider: ClassVar[str] = ""
    #: What opens a read that holds one plain text frame, up to its data
    #: (``b"data: "``, or an ``event:`` line first), for the session's text lane
    #: (``RecoverySession.receive_text_frame``); empty: no lane.
    lane_prefix: bytes = b""
    #: The type of the events :meth:`lane_feed` may read ("": none).
    lane_event: str = ""

    def __init__(self) -> None:
        #: The finish reason the provider gave, once it gave one.
        self.finish_reason: str | None = None
        #: The SSE event being mapped (for error messages) or the last one mapped.
        self._event = ServerSentEvent()
        self._failed = False
        #: The text lane (see :attr:`lane_prefix`): while :meth:`lane_ready`,
        #: ``lane_match(data)`` is ``text`` when :meth:`feed` of an event of the
        #: lane's type with ``data`` would return ``[TextDelta(text=text)]``
        #: (``[]`` for an empty ``text``) and change nothing but the event it
        #: remembers; None when unsure (the event then goes through feed).
        #: Never raises.
        self.lane_match: Callable[[str], str | None] = _no_lane

    def feed(self, event: ServerSentEvent) -> list[Event]:
        """Map one SSE event to zero or more content events.

        Raises:
            ProviderStreamError: the event is an error payload from the provider.
            ProviderProtocolError: the event is malformed (bad JSON, wrong shape).
            UsageError: an earlier call raised; the parser is failed.
        """
        if self._failed:
            raise UsageError(f"{self.provider}: the parser failed earlier; start a new one")
        self._event = event
        try:
            return self._feed(event)
        except Fault:
            self._failed = True
            raise

    @abstractmethod
    def _feed(self, event: ServerSentEvent) -> list[Event]:
        """Map one SSE event to content events (see :meth:`feed`)."""

    def lane_feed(self, event: ServerSentEvent) -> str | None:
        """The text lane for one event of :attr:`lane_event`'s type, of a parser not failed.

        Returns ``text`` when :meth:`feed` of ``event`` would return
        ``[TextDelta(text=text)]`` (``""``: ``[]``), having done what feed does
        to the parser; None when unsure, having changed nothing that matters
        (``event`` then goes through feed). Never raises. This parser: None.
        """
        return None

    def lane_ready(self) -> bool:
        """Whether :attr:`lane_match` may read the next event (the session's text lane).

        Asked after each read the general path took; True only when the parser
        is neither failed nor complete and its last event carried no id.
        """
        return False

    @property
    @abstractmethod
    def complete(self) -> bool:
        """True once the provider's terminal marker has been seen."""

    @property
    def failed(self) -> bool:
        """True once :meth:`feed` raised a fault."""
        return self._failed

    @property
    def resume_point(self) -> ResumePoint:
        """Where the stream stands now, for native resume."""
        # WHATWG HTML 9.2.6: every dispatched event carries the stream's last event ID.
        return ResumePoint(last_event_id=self._event.id)

    def resumed(self) -> StreamParser:
        """Return a parser for a stream that natively continues this one.

        The new parser keeps what this one learnt that later events refer to
        (the response id, open tool calls, the last sequence number) but none of
        its failure or completion. Subclasses add their own state in
        :meth:`_carry_over`.
        """
        successor = type(self)()
        successor._event = self._event
        self._carry_over(successor)
        return successor

    def _carry_over(self, successor: StreamParser) -> None:
        """Copy into ``successor`` the state that later events of a resumed stream need."""
        # A stop reason seen before the cut still holds: the terminal marker may
        # be all that the resumed stream has left to send.
        successor.finish_reason = self.finish_reason

    def finish(self) -> None:
        """Check the stream at end of body.

        Raises:
            IncompleteStreamError: the terminal marker never came.
        """
        if not self.complete:
            raise IncompleteStreamError(
                "stream ended before its terminal marker", provider=self.provider
            )


class Provider(ABC):
    """One wire format, configured with a base URL and credentials.

    Args:
        base_url: the API root (default: :attr:`default_base_url`); a trailing
            slash is ignored.
        api_key: sent in the provider's auth header; None sends no auth header
            (local servers). The environment is not read here (see
            :attr:`api_key_env`).
        prefill: None decides assistant-prefill support from the model; True or
            False overrides that decision.
        headers: extra request headers; they replace the default header of the
            same name (case-insensitive).
        last_event_id_resume: offer an SSE ``Last-Event-ID`` re-request as native
            resume when the stream carried event ids (for servers that support
            it; the official APIs do not).
    """

    #: Registry name ("openai", "anthropic", ...).
    name: ClassVar[str]
    #: Base URL used when none is given.
    default_base_url: ClassVar[str]
    #: Environment variables searched, in order, for the API key (by the client).
    api_key_env: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        prefill: bool | None = None,
        headers: Mapping[str, str] | None = None,
        last_event_id_resume: bool = False,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.api_key = api_key
        #: None: decide from the model; True/False: the caller's override.
        self.prefill_override = prefill
        self.extra_headers = dict(headers or {})
        for name, value in self.extra_headers.items():
            if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
                # The value is never quoted: it may be a credential.
                raise UsageError(f"header {name!r} needs a string value without CR, LF or NUL")
        self.last_event_id_resume = last_event_id_resume

    @property
    def api_key(self) -> str | None:
        """The key sent in the auth header (None: no auth header)."""
        return self._api_key

    @api_key.setter
    def api_key(self, value: str | None) -> None:
        check_credential(value)
        self._api_key = value

    @property
    def secrets(self) -> tuple[str, ...]:
        """The literal credentials this provider sends: removed from every text shown."""
        values = [self._api_key or ""]
        values.extend(v for k, v in self.extra_headers.items() if is_secret_header(k))
        return tuple(value for value in values if value)

    def __repr__(self) -> str:
        # The API key is never shown, nor a credential inside the base URL.
        return redact(f"{type(self).__name__}(base_url={self.base_url!r})", secrets=self.secrets)

    def _url(self, path: str, query: str = "") -> str:
        # The base URL's own query (a gateway's ?api-version=) stays after the path.
        return join_url(self.base_url, path, query)

    # -- requests ---------------------------------------------------------------

    @abstractmethod
    def build_request(self, body: JSONBody) -> HTTPRequest:
        """Build the streaming HTTP request for the caller's JSON ``body``.

        ``stream`` is forced on (or the streaming endpoint chosen). ``body`` is
        not changed.

        Raises:
            UsageError: the body lacks what the format requires, or is not JSON.
        """

    @abstractmethod
    def new_parser(self, resume_from: StreamParser | None = None) -> StreamParser:
        """Return a fresh parser for one attempt's stream.

        With ``resume_from`` (the parser of the broken attempt), the new parser
        continues its state, for a natively resumed stream (see
        :meth:`StreamParser.resumed`).
        """

    @abstractmethod
    def model(self, body: JSONBody) -> str:
        """Return the model named in ``body`` (empty string when absent)."""

    def _auth_headers(self) -> list[tuple[str, str]]:
        """Return the headers that carry the API key (none without a key)."""
        return []

    def _default_headers(self) -> list[tuple[str, str]]:
        return [
            ("content-type", "application/json"),
            ("accept", "text/event-stream"),
            *self._auth_headers(),
        ]

    @property
    def _headers(self) -> tuple[tuple[str, str], ...]:
        # Built per request (not per event), so a changed api_key takes effect.
        overridden = {name.lower() for name in self.extra_headers}
        kept = [(name, value) for name, value in self._default_headers() if name not in overridden]
        return (*kept, *self.extra_headers.items())

    def _post(self, url: str, body: JSONBody) -> HTTPRequest:
        return HTTPRequest(method="POST", url=url, headers=self._headers, body=encode_body(body))

    # -- capabilities the resume strategies need --------------------------------

    @abstractmethod
    def supports_prefill(self, body: JSONBody) -> bool:
        """Whether this model and request accept the partial answer as a final assistant turn.

        The constructor's ``prefill`` override, when given, wins.
        """

    def prefill_strips_whitespace(self) -> bool:
        """Whether a prefill reaches the model with its trailing whitespace stripped.

        False by default: the model sees the partial answer whole, trailing
        whitespace included, and the stitcher must keep what it re-emits there
        (indentation, table padding). Anthropic strips it (its API rejects a
        final assistant turn ending in whitespace).
        """
        return False

    def native_resume_request(self, body: JSONBody, point: ResumePoint) -> HTTPRequest | None:
        """Return a request that continues the same response with no regeneration, or None.

        The default: with ``last_event_id_resume`` and a non-empty SSE last event
        ID, the original request with a ``Last-Event-ID`` header (WHATWG HTML
        9.2.4, "reestablishing the connection"); otherwise None.
        """
        if self.last_event_id_resume and point.last_event_id:
            return self.build_request(body).with_header("last-event-id", point.last_event_id)
        return None

    @abstractmethod
    def thinking_enabled(self, body: JSONBody) -> bool:
        """Whether the request enables thinking / reasoning (longer pauses, no prefill)."""

    @abstractmethod
    def structured_output(self, body: JSONBody) -> bool:
        """Whether the answer must be one JSON document (JSON mode, a response schema).

        A forced tool choice counts too: the answer is then a tool call whose
        arguments are one JSON document, which only a restart can recover.
        """

    @abstractmethod
    def continuation_body(
        self, body: JSONBody, partial_text: str, *, prefill: bool, instruction: str
    ) -> dict[str, Any]:
        """Return a new body that asks the model to continue ``partial_text``.

        ``body`` is the original request body and ``partial_text`` the whole
        answer text delivered so far. With ``prefill``: ``partial_text`` becomes
        the final assistant turn (with trailing whitespace stripped where the
        format requires it), so the model writes the rest of it, and
        ``instruction`` is not used. Without: ``partial_text`` is an assistant
        turn followed by a user turn holding ``instruction``. When ``body``
        already ends with an assistant turn (the caller's own prefill), the
        partial text extends that turn. An empty ``partial_text`` gives a plain
        copy of ``body``. ``body`` is not changed.

        Raises:
            UsageError: ``body`` has no conversation this format can extend.
        """

    @abstractmethod
    def limit_output_tokens(
        self, body: JSONBody, already_generated: int, *, floor: int
    ) -> dict[str, Any]:
        """Return a copy of ``body`` whose output-token limit is reduced by ``already_generated``.

        Never below ``floor`` and never above the original limit; a body with no
        limit is returned unchanged (as a copy). ``body`` is not changed.
        """

    def default_idle_timeout(self, body: JSONBody) -> float:
        """Return how long (seconds) a stream of ``body`` may go without a byte.

        60 s normally: once text flows, tokens are milliseconds apart, and 60 s
        covers the time to first token of a very long prompt. 300 s with thinking
        enabled: a reasoning model may send nothing while it thinks (OpenAI sends
        no reasoning text unless a summary is requested; Gemini sends no thought
        text unless asked), and long thinking at high effort takes minutes.
        """
        return THINKING_IDLE_TIMEOUT if self.thinking_enabled(body) else IDLE_TIMEOUT

    def default_progress_timeout(self, body: JSONBody) -> float:
        """Return how long (seconds) a stream of ``body`` may go without a content event.

        Keep-alives (SSE comments, ``ping`` events, empty deltas) keep the idle
        timeout happy but are not content. 300 s normally: five times the idle
        timeout, far beyond the time to first token of a very long prompt.
        900 s with thinking enabled: a model thinking at high effort, with no
        reasoning text requested, sends nothing but keep-alives for minutes.
        """
        return THINKING_PROGRESS_TIMEOUT if self.thinking_enabled(body) else PROGRESS_TIMEOUT

    @staticmethod
    def error_info(body_text: str) -> tuple[str, str]:
        """Return ``(error_type, message)`` from a non-2xx response body.

        Understands the error bodies of every built-in format (see
        :func:`streamrecover.providers._errors.error_info`). Never raises: a body
        that is not JSON gives ``("", excerpt)``.
        """
        return error_info(body_text)


def _no_lane(data: str) -> str | None:
    return None


def check_credential(value: str | None) -> None:
    """Refuse an API key that cannot travel in a header, without ever quoting it.

    A line break or NUL would let the key inject headers (RFC 9110 §5.5 forbids
    them in field values); a trailing newline read from a key file is the usual
    cause, so the message says so.

    Raises:
        UsageError: ``value`` is not a string, or holds CR, LF or NUL.
    """
    if value is None:
        return
    if not isinstance(value, str):
        raise UsageError(f"the API key must be a string, not {type(value).__name__}")
    if "\r" in value or "\n" in value or "\0" in value:
        raise UsageError(
            "the API key contains a line break or a NUL character and cannot be sent "
            "in a header (was it read from a file with its trailing newline?)"
        )


def encode_body(body: JSONBody) -> bytes:
    """Return ``body`` as compact UTF-8 JSON.

    Raises:
        UsageError: ``body`` holds something JSON cannot express (an object, NaN).
    """
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"the request body is not JSON: {exc}") from exc
    return text.encode("utf-8")
