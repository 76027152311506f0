"""Anthropic Messages (``POST /v1/messages``).

Wire format (https://docs.anthropic.com/en/docs/build-with-claude/streaming):
``message_start`` (the message, with input-token usage), then per content block
``content_block_start`` / ``content_block_delta`` / ``content_block_stop`` (delta
types ``text_delta``, ``thinking_delta``, ``signature_delta``,
``input_json_delta``; a tool block with no ``input_json_delta`` has its whole
input in ``content_block_start``, delivered at ``content_block_stop``, ``"{}"``
when empty), ``message_delta`` (``stop_reason`` and cumulative
usage), and the terminal ``message_stop``. ``ping`` events may appear anywhere;
``error`` events (``overloaded_error``...) may arrive mid-stream. The docs
promise new event and delta types may be added: they are ignored.

Usage: ``input_tokens`` reported here is the whole prompt (Anthropic's
``input_tokens`` plus cache reads and cache writes, as OpenAI counts it), and
``cached_tokens`` the cache reads. A ``Usage`` is emitted at ``message_start``
(so that a stream that breaks still reports its prompt) and again, cumulative,
at ``message_delta``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from streamrecover.core.errors import ProviderStreamError, UsageError
from streamrecover.core.events import (
    Event,
    Finished,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from streamrecover.core.http import HTTPRequest
from streamrecover.core.sse import ServerSentEvent
from streamrecover.providers._body import (
    append_turns,
    extend_content,
    reduced_limit,
    strip_trailing_whitespace,
    turns,
)
from streamrecover.providers._errors import ANTHROPIC_ERROR_STATUS
from streamrecover.providers._json import JSONStreamParser, excerpt, new_event, set_text
from streamrecover.providers._template import TextTemplate
from streamrecover.providers.base import JSONBody, Provider, StreamParser

__all__ = ["ANTHROPIC_VERSION", "AnthropicParser", "AnthropicProvider", "claude_version"]

#: The ``anthropic-version`` header sent with every request.
ANTHROPIC_VERSION = "2023-06-01"

#: The first Claude version that refuses a final assistant turn (prefill).
_NO_PREFILL_FROM = (4, 6)
_NAME_SEPARATORS = re.compile(r"[-.@:_]")


def claude_version(model: str) -> tuple[int, int] | None:
    """Return ``(major, minor)`` of a Claude model name, or None if it has none.

    Reads every naming scheme in use: ``claude-3-5-sonnet-20241022`` (3, 5),
    ``claude-3-haiku-20240307`` (3, 0), ``claude-sonnet-4-20250514`` (4, 0),
    ``claude-opus-4-1``, ``claude-sonnet-4-6-20260101`` (4, 6), ``claude-5-...``,
    OpenRouter's ``anthropic/claude-3.5-sonnet``, Bedrock's
    ``anthropic.claude-sonnet-4-5-20250929-v1:0`` and Vertex's
    ``claude-opus-4-1@20250805``. A date (eight digits) is never a version.
    """
    name = model.lower()
    start = name.find("claude")
    if start < 0:
        return None
    tokens = _NAME_SEPARATORS.split(name[start + len("claude") :])
    for position, token in enumerate(tokens):
        if token.isdigit() and len(token) <= 2:
            following = tokens[position + 1] if position + 1 < len(tokens) else ""
            minor = int(following) if following.isdigit() and len(following) <= 2 else 0
            return int(token), minor
    return None


def _delta_text(frame: dict[str, Any]) -> str | None:
    """The text of a ``text_delta`` frame whose text is a string, else None."""
    if frame.get("type") == "content_block_delta":
        delta = frame.get("delta")
        if type(delta) is dict and delta.get("type") == "text_delta":
            text = delta.get("text")
            if type(text) is str:
                return text
    return None


def _delta_text_of(data: str) -> str | None:
    # The same test from the raw data: TextTemplate's check of a learnt shape.
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return _delta_text(frame) if type(frame) is dict else None


class AnthropicParser(JSONStreamParser):
    """Reads one Messages stream. Complete: ``message_stop``."""

    provider = "anthropic"
    lane_prefix = b"event: content_block_delta\ndata: "
    lane_event = "content_block_delta"

    def __init__(self) -> None:
        super().__init__()
        self._stopped = False
        # Content block index -> block type, and -> tool call ordinal for tool_use blocks.
        self._block_types: dict[int, str] = {}
        self._tools: dict[int, int] = {}
        # Tool blocks whose arguments have not come as input_json_delta yet ->
        # the input given in content_block_start (delivered at content_block_stop).
        self._pending_inputs: dict[int, str] = {}
        self._input_tokens = 0
        self._cached_tokens = 0
        self._template = TextTemplate(
            '"text":"', _delta_text_of, framing=self.lane_prefix.decode()
        )
        self.lane_match = self._template.match_read

    @property
    def complete(self) -> bool:
        return self._stopped

    def _carry_over(self, successor: StreamParser) -> None:
        super()._carry_over(successor)
        assert isinstance(successor, AnthropicParser)
        successor._block_types = dict(self._block_types)
        successor._tools = dict(self._tools)
        successor._pending_inputs = dict(self._pending_inputs)
        successor._input_tokens = self._input_tokens
        successor._cached_tokens = self._cached_tokens

    def _feed(self, event: ServerSentEvent) -> list[Event]:
        data = event.data
        if not data or event.event == "ping" or self._stopped:
            return []
        # The fast path: a text delta shaped like the last one (see _template).
        text = self._template.match(data)
        if text is None:
            frame = self._decode(data)
            text = _delta_text(frame)
            if text is None:
                return self._frame(frame)
            self._template.learn(data, text)
        if not text:
            return []
        text_event = new_event(TextDelta)
        set_text(text_event, text)
        return [text_event]

    def lane_feed(self, event: ServerSentEvent) -> str | None:
        # feed of an event of the lane's type, when the template reads its data.
        if self._stopped:
            return None
        text = self._template.match(event.data)
        if text is not None:
            self._event = event
        return text

    def lane_ready(self) -> bool:
        # _feed of a content_block_delta event is then the template's match.
        return not (self._failed or self._stopped or self._event.id)

    def _frame(self, frame: dict[str, Any]) -> list[Event]:
        # Every frame but a well-formed text delta.
        kind = frame.get("type")
        if kind == "content_block_delta":
            delta = self._dict(frame, "delta")
            delta_type = delta.get("type")
            if delta_type == "text_delta":
                raise self._wrong(delta, "text", "a string")
            return self._other_delta(frame, delta, delta_type)
        if type(kind) is not str:
            raise self._wrong(frame, "type", "a string")
        if kind == "content_block_start":
            return self._block_start(frame)
        if kind == "message_start":
            message = self._dict(frame, "message")
            usage = self._opt_dict(message, "usage")
            if usage is None:
                return []
            return [self._usage(usage)]
        if kind == "message_delta":
            return self._message_delta(frame)
        if kind == "message_stop":
            self._stopped = True
            return []
        if kind == "error":
            raise self._stream_error(frame)
        if kind == "content_block_stop":
            return self._block_stop(frame)
        return []  # ping, and event types added later

    def _block_stop(self, frame: dict[str, Any]) -> list[Event]:
        # A tool block that got no input_json_delta carries its whole input in
        # content_block_start (programmatic tool calling), or has none: "{}",
        # as the official SDK accumulates it, so that json.loads always works.
        block = frame.get("index")
        if type(block) is not int:
            return []
        arguments = self._pending_inputs.pop(block, None)
        if arguments is None:
            return []
        return [ToolCallDelta(index=self._tools[block], arguments=arguments)]

    def _other_delta(
        self, frame: dict[str, Any], delta: dict[str, Any], delta_type: Any
    ) -> list[Event]:
        if delta_type == "thinking_delta":
            text = self._str(delta, "thinking")
            return [ReasoningDelta(text=text)] if text else []
        if delta_type == "signature_delta":
            return [ReasoningDelta(signature=self._str(delta, "signature"))]
        if delta_type == "input_json_delta":
            block = self._int(frame, "index")
            fragment = self._str(delta, "partial_json")
            tool = self._tools.get(block)
            if tool is None:
                if block in self._block_types:
                    return []  # input of a server tool (web search...): not the caller's call
                raise self._bad(f"input_json_delta for content block {block}, which never started")
            if not fragment:
                return []
            self._pending_inputs.pop(block, None)
            return [ToolCallDelta(index=tool, arguments=fragment)]
        if type(delta_type) is not str:
            raise self._wrong(delta, "type", "a string")
        return []  # citations_delta and delta types added later

    def _block_start(self, frame: dict[str, Any]) -> list[Event]:
        index = self._int(frame, "index")
        block = self._dict(frame, "content_block")
        block_type = self._str(block, "type")
        self._block_types[index] = block_type
        if block_type == "tool_use":
            tool = len(self._tools)
            self._tools[index] = tool
            given = self._opt_dict(block, "input")
            self._pending_inputs[index] = json.dumps(given, ensure_ascii=False) if given else "{}"
            return [
                ToolCallDelta(index=tool, id=self._str(block, "id"), name=self._str(block, "name"))
            ]
        # Text and thinking blocks start empty; should one not, its text is kept.
        if block_type == "text":
            text = self._opt_str(block, "text")
            return [TextDelta(text=text)] if text else []
        if block_type == "thinking":
            thinking = self._opt_str(block, "thinking")
            signature = self._opt_str(block, "signature")
            if thinking or signature:
                return [ReasoningDelta(text=thinking, signature=signature)]
            return []
        if block_type == "redacted_thinking":
            # Encrypted thinking: no text, but its data must go back with the turn.
            data = self._opt_str(block, "data")
            return [ReasoningDelta(redacted_data=data)] if data else []
        return []  # server tool blocks, and block types added later

    def _message_delta(self, frame: dict[str, Any]) -> list[Event]:
        delta = self._dict(frame, "delta")
        events: list[Event] = []
        usage = self._opt_dict(frame, "usage")
        if usage is not None:
            events.append(self._usage(usage))
        reason = self._opt_str(delta, "stop_reason")
        if reason:
            self.finish_reason = reason
            events.append(Finished(reason=reason))
        return events

    def _usage(self, usage: dict[str, Any]) -> Usage:
        # message_delta usage is cumulative and may omit the input figures:
        # those of message_start then stand.
        if "input_tokens" in usage or "cache_read_input_tokens" in usage:
            cached = self._count(usage, "cache_read_input_tokens")
            self._input_tokens = (
                self._count(usage, "input_tokens")
                + cached
                + self._count(usage, "cache_creation_input_tokens")
            )
            self._cached_tokens = cached
        return Usage(
            input_tokens=self._input_tokens,
            output_tokens=self._count(usage, "output_tokens"),
            cached_tokens=self._cached_tokens,
        )

    def _stream_error(self, frame: dict[str, Any]) -> ProviderStreamError:
        error = self._dict(frame, "error")
        error_type = self._opt_str(error, "type")
        return ProviderStreamError(
            self._opt_str(error, "message") or excerpt(self._event.data),
            provider=self.provider,
            error_type=error_type,
            status=ANTHROPIC_ERROR_STATUS.get(error_type),
        )


class AnthropicProvider(Provider):
    """Anthropic Messages API (and servers that speak it).

    Args:
        anthropic_version: the ``anthropic-version`` header.

    The other arguments are those of :class:`~streamrecover.providers.base.Provider`;
    beta features go in ``headers={"anthropic-beta": ...}``.
    """

    name: ClassVar[str] = "anthropic"
    default_base_url: ClassVar[str] = "https://api.anthropic.com"
    api_key_env: ClassVar[tuple[str, ...]] = ("ANTHROPIC_API_KEY",)

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        prefill: bool | None = None,
        headers: Mapping[str, str] | None = None,
        last_event_id_resume: bool = False,
        anthropic_version: str = ANTHROPIC_VERSION,
    ) -> None:
        self.anthropic_version = anthropic_version
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            prefill=prefill,
            headers=headers,
            last_event_id_resume=last_event_id_resume,
        )

    def _auth_headers(self) -> list[tuple[str, str]]:
        return [("x-api-key", self.api_key)] if self.api_key else []

    def _default_headers(self) -> list[tuple[str, str]]:
        return [*super()._default_headers(), ("anthropic-version", self.anthropic_version)]

    def build_request(self, body: JSONBody) -> HTTPRequest:
        """Build ``POST {base_url}/v1/messages`` with ``stream: true``.

        Raises:
            UsageError: ``messages`` is not a list, or the body is not JSON.
        """
        if not isinstance(body.get("messages"), list):
            raise UsageError("anthropic: the body needs 'messages', a list")
        return self._post(self._url("/v1/messages"), {**body, "stream": True})

    def new_parser(self, resume_from: StreamParser | None = None) -> StreamParser:
        return AnthropicParser() if resume_from is None else resume_from.resumed()

    def model(self, body: JSONBody) -> str:
        model = body.get("model")
        return model if isinstance(model, str) else ""

    def prefill_strips_whitespace(self) -> bool:
        """True: the API rejects a final assistant turn that ends in whitespace."""
        return True

    def supports_prefill(self, body: JSONBody) -> bool:
        """True for Claude models before 4.6 without thinking.

        Claude 4.6 and later reject a final assistant turn, and so does any
        request with thinking enabled. A model name with no readable Claude
        version gives False: a continuation without prefill works everywhere,
        a refused prefill is a 400. The constructor's ``prefill`` wins.
        """
        if self.prefill_override is not None:
            return self.prefill_override
        if self.thinking_enabled(body):
            return False
        version = claude_version(self.model(body))
        return version is not None and version < _NO_PREFILL_FROM

    def thinking_enabled(self, body: JSONBody) -> bool:
        """True with ``thinking: {"type": "enabled" | "adaptive"}``."""
        thinking = body.get("thinking")
        return isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive")

    def structured_output(self, body: JSONBody) -> bool:
        """True with ``output_format`` (or ``output_config.format``) or a forced tool
        (``tool_choice`` of type ``any`` or ``tool``)."""
        if isinstance(body.get("output_format"), Mapping):
            return True
        output_config = body.get("output_config")
        if isinstance(output_config, Mapping) and isinstance(output_config.get("format"), Mapping):
            return True
        tool_choice = body.get("tool_choice")
        return isinstance(tool_choice, Mapping) and tool_choice.get("type") in ("any", "tool")

    def continuation_body(
        self, body: JSONBody, partial_text: str, *, prefill: bool, instruction: str
    ) -> dict[str, Any]:
        """Continue with ``partial_text`` as an assistant message (see the base class).

        With ``prefill`` the final assistant turn has its trailing whitespace
        stripped: the API rejects a final assistant turn that ends in
        whitespace. Text that is only whitespace gives a plain copy of ``body``
        (the API rejects whitespace-only text blocks).

        Raises:
            UsageError: ``messages`` is not a list.
        """
        result = dict(body)
        if not partial_text.strip():
            return result
        messages = turns(body, "messages", self.name)

        def merge(last: Any) -> dict[str, Any]:
            return {**last, "content": extend_content(last.get("content"), partial_text)}

        append_turns(
            messages,
            assistant_role="assistant",
            partial_turn={"role": "assistant", "content": partial_text},
            merge=merge,
        )
        if prefill:
            final = messages[-1]
            messages[-1] = {**final, "content": strip_trailing_whitespace(final["content"])}
        else:
            messages.append({"role": "user", "content": instruction})
        result["messages"] = messages
        return result

    def limit_output_tokens(
        self, body: JSONBody, already_generated: int, *, floor: int
    ) -> dict[str, Any]:
        """Reduce ``max_tokens``, keeping it above a thinking ``budget_tokens``.

        The API requires ``max_tokens`` greater than ``thinking.budget_tokens``;
        the reduced limit stays at least ``budget_tokens + floor`` (never above
        the original).
        """
        result = dict(body)
        limit = result.get("max_tokens")
        if type(limit) is not int:
            return result
        reduced = reduced_limit(limit, already_generated, floor)
        thinking = body.get("thinking")
        if isinstance(thinking, Mapping) and type(thinking.get("budget_tokens")) is int:
            reduced = min(limit, max(reduced, thinking["budget_tokens"] + floor))
        result["max_tokens"] = reduced
        return result
