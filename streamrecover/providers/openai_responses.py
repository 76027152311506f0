"""OpenAI Responses (``POST /responses``).

Wire format (https://platform.openai.com/docs/api-reference/responses-streaming):
each event is ``event: <type>`` plus ``data: {"type": <type>,
"sequence_number": N, ...}``. The ones read here:

* ``response.created`` / ``response.queued`` / ``response.in_progress``: the
  response id, kept for native resume;
* ``response.output_text.delta`` (and ``response.refusal.delta``): answer text;
* ``response.reasoning_summary_text.delta``, ``response.reasoning_text.delta``:
  reasoning;
* ``response.output_item.added`` with a ``function_call`` item (its ``call_id``
  and ``name``), then ``response.function_call_arguments.delta`` by ``item_id``;
* ``response.output_item.added`` / ``.done`` with another item the application
  must execute (``local_shell_call``, ``shell_call``, ``apply_patch_call``,
  ``custom_tool_call``, ``computer_call``, ``mcp_call``): a tool call whose
  ``kind`` is the item type, announced when added and given its arguments
  whole when done (the item's ``action`` or ``operation`` as JSON, its
  ``input``, or its ``arguments``); hosted tools (web search...) are not;
* ``response.completed``: the terminal marker, with ``usage``;
* ``response.incomplete``: also terminal and complete; the answer was cut by the
  model's own limit, not by the network, so a retry would be cut the same way.
  The finish reason is ``incomplete_details.reason`` (``"max_output_tokens"``,
  ``"content_filter"``), as ``finish_reason: "length"`` is a complete stream in
  Chat Completions;
* ``response.failed`` and ``error``: a :class:`ProviderStreamError`.

The finish reason of a completed response is ``"completed"`` (the API has no
stop reason; the response status is what it gives).

Native resume: a response created with ``background: true`` can be streamed
again from any point with ``GET /responses/{id}?stream=true&starting_after=N``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

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
from streamrecover.providers._body import reduced_limit, turns
from streamrecover.providers._errors import OPENAI_ERROR_STATUS, status_of
from streamrecover.providers._json import JSONStreamParser, excerpt
from streamrecover.providers.base import JSONBody, Provider, ResumePoint, StreamParser
from streamrecover.providers.openai_chat import bearer_headers, reasoning_model

__all__ = ["OpenAIResponsesParser", "OpenAIResponsesProvider"]

_REASONING_DELTAS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)
_STARTED = frozenset({"response.created", "response.queued", "response.in_progress"})


#: Items, other than ``function_call``, that the application executes -> the
#: tool name used when the item has none.
_CLIENT_CALLS = {
    "local_shell_call": "local_shell",
    "shell_call": "shell",
    "apply_patch_call": "apply_patch",
    "custom_tool_call": "",
    "computer_call": "computer",
    "mcp_call": "",
}


class OpenAIResponsesParser(JSONStreamParser):
    """Reads one Responses stream. Complete: ``response.completed`` or ``response.incomplete``."""

    provider = "openai-responses"

    def __init__(self) -> None:
        super().__init__()
        self._terminal = False
        #: The response id, from response.created (empty until then).
        self.response_id = ""
        #: The sequence_number of the last event seen (None before any).
        self.sequence_number: int | None = None
        # In a natively resumed stream, events up to here were already mapped.
        self._replayed_up_to: int | None = None
        # Function-call item id -> tool call ordinal, and whether arguments came as deltas.
        self._tools: dict[str, int] = {}
        self._tools_by_output: dict[int, int] = {}
        self._tool_count = 0
        self._streamed_arguments: set[int] = set()

    @property
    def complete(self) -> bool:
        return self._terminal

    @property
    def resume_point(self) -> ResumePoint:
        return ResumePoint(
            last_event_id=self._event.id,
            response_id=self.response_id,
            sequence_number=self.sequence_number,
        )

    def _carry_over(self, successor: StreamParser) -> None:
        super()._carry_over(successor)
        assert isinstance(successor, OpenAIResponsesParser)
        successor.response_id = self.response_id
        successor.sequence_number = self.sequence_number
        successor._replayed_up_to = self.sequence_number
        successor._tools = dict(self._tools)
        successor._tools_by_output = dict(self._tools_by_output)
        successor._tool_count = self._tool_count
        successor._streamed_arguments = set(self._streamed_arguments)

    def _feed(self, event: ServerSentEvent) -> list[Event]:
        data = event.data
        if not data or self._terminal:
            return []
        frame = self._decode(data)
        kind = frame.get("type")
        if type(kind) is not str:
            raise self._wrong(frame, "type", "a string")
        sequence = frame.get("sequence_number")
        if sequence is not None:
            if type(sequence) is not int:
                raise self._wrong(frame, "sequence_number", "an integer")
            if self._replayed_up_to is not None and sequence <= self._replayed_up_to:
                return []  # a resumed stream repeating what the broken one delivered
            self.sequence_number = sequence
        if kind == "response.output_text.delta":
            text = self._str(frame, "delta")
            return [TextDelta(text=text)] if text else []
        if kind in _REASONING_DELTAS:
            text = self._str(frame, "delta")
            return [ReasoningDelta(text=text)] if text else []
        if kind == "response.function_call_arguments.delta":
            return self._arguments_delta(frame)
        if kind == "response.output_item.added":
            return self._item_added(frame)
        if kind == "response.output_item.done":
            return self._item_done(frame)
        if kind == "response.refusal.delta":
            # A refusal is what the model answered: dropping it would lose text.
            text = self._str(frame, "delta")
            return [TextDelta(text=text)] if text else []
        if kind in _STARTED:
            if not self.response_id:
                self.response_id = self._str(self._dict(frame, "response"), "id")
            return []
        if kind == "response.completed":
            return self._terminate(frame, "completed")
        if kind == "response.incomplete":
            response = self._dict(frame, "response")
            details = self._opt_dict(response, "incomplete_details") or {}
            return self._terminate(frame, self._opt_str(details, "reason") or "incomplete")
        if kind == "response.failed":
            raise self._failed_error(frame)
        if kind == "error":
            raise self._error_event(frame)
        return []  # other item kinds, annotations, hosted tools, and types added later

    def _tool_index(self, frame: dict[str, Any]) -> int | None:
        item_id = self._opt_str(frame, "item_id")
        index = self._tools.get(item_id) if item_id else None
        if index is None:
            output_index = self._opt_int(frame, "output_index")
            if output_index is not None:
                index = self._tools_by_output.get(output_index)
        return index

    def _arguments_delta(self, frame: dict[str, Any]) -> list[Event]:
        fragment = self._str(frame, "delta")
        index = self._tool_index(frame)
        if index is None:
            raise self._bad("arguments for a function call item that was never added")
        self._streamed_arguments.add(index)
        return [ToolCallDelta(index=index, arguments=fragment)] if fragment else []

    def _item_added(self, frame: dict[str, Any]) -> list[Event]:
        item = self._dict(frame, "item")
        item_type = item.get("type")
        if item_type != "function_call":
            if item_type in _CLIENT_CALLS:
                return self._client_call_added(frame, item, item_type)
            return []
        index = self._tool_count
        self._tool_count += 1
        item_id = self._opt_str(item, "id")
        if item_id:
            self._tools[item_id] = index
        output_index = self._opt_int(frame, "output_index")
        if output_index is not None:
            self._tools_by_output[output_index] = index
        arguments = self._opt_str(item, "arguments")
        if arguments:
            self._streamed_arguments.add(index)
        return [
            ToolCallDelta(
                index=index,
                id=self._str(item, "call_id"),
                name=self._str(item, "name"),
                arguments=arguments,
            )
        ]

    def _client_call_added(
        self, frame: dict[str, Any], item: dict[str, Any], item_type: str
    ) -> list[Event]:
        index = self._tool_count
        self._tool_count += 1
        item_id = self._opt_str(item, "id")
        if item_id:
            self._tools[item_id] = index
        output_index = self._opt_int(frame, "output_index")
        if output_index is not None:
            self._tools_by_output[output_index] = index
        # The arguments come whole at output_item.done (an added item's action
        # may still be empty): no fragment is taken from here.
        return [
            ToolCallDelta(
                index=index,
                id=self._opt_str(item, "call_id") or item_id,
                name=self._opt_str(item, "name") or _CLIENT_CALLS[item_type],
                kind=item_type,
            )
        ]

    def _client_call_arguments(self, item: dict[str, Any]) -> str:
        for key in ("action", "operation"):
            value = item.get(key)
            if isinstance(value, dict):
                return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        for key in ("arguments", "input"):
            value = item.get(key)
            if isinstance(value, str):
                return value
        return "{}"

    def _item_done(self, frame: dict[str, Any]) -> list[Event]:
        item = self._dict(frame, "item")
        item_type = item.get("type")
        if item_type in _CLIENT_CALLS:
            index = self._tools.get(self._opt_str(item, "id"))
            if index is None:
                index = self._tool_index(frame)
            if index is None or index in self._streamed_arguments:
                return []
            self._streamed_arguments.add(index)
            return [ToolCallDelta(index=index, arguments=self._client_call_arguments(item))]
        if item_type != "function_call":
            return []
        index = self._tools.get(self._opt_str(item, "id"))
        if index is None:
            index = self._tool_index(frame)
        if index is None or index in self._streamed_arguments:
            return []
        # A server that sent the call whole, with no argument deltas: the
        # arguments exist only here, and must not be lost.
        self._streamed_arguments.add(index)
        arguments = self._opt_str(item, "arguments")
        return [ToolCallDelta(index=index, arguments=arguments)] if arguments else []

    def _terminate(self, frame: dict[str, Any], reason: str) -> list[Event]:
        response = self._dict(frame, "response")
        if not self.response_id:
            self.response_id = self._opt_str(response, "id")
        self._terminal = True
        self.finish_reason = reason
        events: list[Event] = []
        usage = self._opt_dict(response, "usage")
        if usage is not None:
            events.append(
                Usage(
                    input_tokens=self._count(usage, "input_tokens"),
                    output_tokens=self._count(usage, "output_tokens"),
                    reasoning_tokens=self._count(
                        self._opt_dict(usage, "output_tokens_details"), "reasoning_tokens"
                    ),
                    cached_tokens=self._count(
                        self._opt_dict(usage, "input_tokens_details"), "cached_tokens"
                    ),
                )
            )
        events.append(Finished(reason=reason))
        return events

    def _failed_error(self, frame: dict[str, Any]) -> ProviderStreamError:
        response = self._dict(frame, "response")
        error = self._opt_dict(response, "error") or {}
        code = self._opt_str(error, "code")
        return ProviderStreamError(
            self._opt_str(error, "message") or "the response failed",
            provider=self.provider,
            error_type=code or "response.failed",
            status=status_of(OPENAI_ERROR_STATUS, code),
            code=code,
        )

    def _error_event(self, frame: dict[str, Any]) -> ProviderStreamError:
        # Documented shape: {"type": "error", "code", "message", "param"}; some
        # deployments nest {"error": {"type", "code", "message"}} instead.
        error = self._opt_dict(frame, "error") or frame
        error_type = "" if error is frame else self._opt_str(error, "type")
        raw_code = error.get("code")
        code = raw_code if type(raw_code) is str else ("" if raw_code is None else str(raw_code))
        return ProviderStreamError(
            self._opt_str(error, "message") or excerpt(self._event.data),
            provider=self.provider,
            error_type=error_type or code,
            status=status_of(OPENAI_ERROR_STATUS, raw_code, error_type, code),
            code=code,
        )


class OpenAIResponsesProvider(Provider):
    """OpenAI Responses API.

    The arguments are those of :class:`~streamrecover.providers.base.Provider`,
    except that ``prefill=True`` is refused: the Responses API treats a final
    assistant message as a finished turn and starts a new message, so there is
    no prefill to turn on.

    Raises:
        UsageError: ``prefill=True``.
    """

    name: ClassVar[str] = "openai-responses"
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"
    api_key_env: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        prefill: bool | None = None,
        headers: Mapping[str, str] | None = None,
        last_event_id_resume: bool = False,
    ) -> None:
        if prefill:
            raise UsageError("openai-responses: the Responses API has no assistant prefill")
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            prefill=prefill,
            headers=headers,
            last_event_id_resume=last_event_id_resume,
        )

    def _auth_headers(self) -> list[tuple[str, str]]:
        return bearer_headers(self.api_key)

    def build_request(self, body: JSONBody) -> HTTPRequest:
        """Build ``POST {base_url}/responses`` with ``stream: true``.

        Raises:
            UsageError: the body is not JSON.
        """
        return self._post(self._url("/responses"), {**body, "stream": True})

    def new_parser(self, resume_from: StreamParser | None = None) -> StreamParser:
        return OpenAIResponsesParser() if resume_from is None else resume_from.resumed()

    def model(self, body: JSONBody) -> str:
        model = body.get("model")
        return model if isinstance(model, str) else ""

    def native_resume_request(self, body: JSONBody, point: ResumePoint) -> HTTPRequest | None:
        """``GET {base_url}/responses/{id}?stream=true&starting_after=N``, when possible.

        Possible only for a ``background: true`` request (only background
        responses are kept to be streamed again) once the response id and a
        sequence number are known; otherwise None (or the base class's
        ``Last-Event-ID`` request when enabled).
        """
        known = point.response_id and point.sequence_number is not None
        if body.get("background") is True and known:
            url = self._url(
                f"/responses/{quote(point.response_id, safe='')}",
                f"stream=true&starting_after={point.sequence_number}",
            )
            headers = tuple((k, v) for k, v in self._headers if k.lower() != "content-type")
            return HTTPRequest(method="GET", url=url, headers=headers)
        return super().native_resume_request(body, point)

    def supports_prefill(self, body: JSONBody) -> bool:
        """Always False (see the class docstring)."""
        return False

    def thinking_enabled(self, body: JSONBody) -> bool:
        """True with a ``reasoning`` object whose effort is not ``"none"``, or a model that
        reasons by default (o-series, gpt-5)."""
        reasoning = body.get("reasoning")
        if isinstance(reasoning, dict):
            return reasoning.get("effort") != "none"
        return reasoning_model(self.model(body))

    def structured_output(self, body: JSONBody) -> bool:
        """True with ``text.format`` ``json_object`` / ``json_schema`` or a forced function."""
        text = body.get("text")
        if isinstance(text, dict):
            text_format = text.get("format")
            if isinstance(text_format, dict) and text_format.get("type") in (
                "json_object",
                "json_schema",
            ):
                return True
        tool_choice = body.get("tool_choice")
        if tool_choice == "required":
            return True
        return isinstance(tool_choice, dict) and tool_choice.get("type") in ("function", "custom")

    def continuation_body(
        self, body: JSONBody, partial_text: str, *, prefill: bool, instruction: str
    ) -> dict[str, Any]:
        """Continue with ``partial_text`` as an assistant message in ``input``.

        A string ``input`` becomes a list whose first item is that user message.
        With ``prefill`` (which this API does not really honour) no user turn is
        added.

        Raises:
            UsageError: ``input`` is neither a string nor a list.
        """
        result = dict(body)
        if not partial_text:
            return result
        original = body.get("input")
        items: list[Any] = (
            [{"role": "user", "content": original}]
            if isinstance(original, str)
            else turns(body, "input", self.name)
        )
        items.append({"role": "assistant", "content": partial_text})
        if not prefill:
            items.append({"role": "user", "content": instruction})
        result["input"] = items
        return result

    def limit_output_tokens(
        self, body: JSONBody, already_generated: int, *, floor: int
    ) -> dict[str, Any]:
        """Reduce ``max_output_tokens`` when set."""
        result = dict(body)
        if "max_output_tokens" in result:
            result["max_output_tokens"] = reduced_limit(
                result["max_output_tokens"], already_generated, floor
            )
        return result
