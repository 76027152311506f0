"""OpenAI Chat Completions (``POST /chat/completions``) and OpenAI-compatible servers.

Wire format (https://platform.openai.com/docs/api-reference/chat-streaming):
every event is ``data: {chat.completion.chunk}``; the answer is in
``choices[0].delta`` (``content``, ``tool_calls`` by ``index``, ``refusal``);
``finish_reason`` arrives on the last content chunk; with
``stream_options.include_usage`` a final chunk with ``choices: []`` carries
``usage``; ``data: [DONE]`` ends the stream. No ``event:`` names are used.

Compatible servers are read too: vLLM, Ollama ``/v1``, OpenRouter, Groq,
DeepSeek, llama.cpp. Their additions that matter here: reasoning text in
``delta.reasoning_content`` (DeepSeek, vLLM) or ``delta.reasoning`` (OpenRouter,
Ollama, newer vLLM); an ``{"error": {...}}`` frame in the middle of the stream
(vLLM sends it and then ``[DONE]``: a failure all the same, raised at the error
frame); Groq's usage in ``x_groq.usage``; tool-call pieces without ``index``.

Only one answer is supported: ``n`` greater than 1 is refused when the request
is built, and choices other than index 0 are ignored by the parser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

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
from streamrecover.providers._body import append_turns, extend_content, reduced_limit, turns
from streamrecover.providers._errors import OPENAI_ERROR_STATUS, status_of
from streamrecover.providers._json import JSONStreamParser, excerpt, new_event, set_text
from streamrecover.providers._template import TextTemplate
from streamrecover.providers.base import JSONBody, Provider, StreamParser

__all__ = ["OpenAIChatParser", "OpenAIChatProvider", "PrefillStyle"]

PrefillStyle = Literal["continue_final_message", "prefix"]
_PREFILL_STYLES = ("continue_final_message", "prefix")

# Models that reason by default, with no reasoning parameter in the request:
# o1 / o3 / o4 (and -mini...), gpt-5 / -mini / -nano (gpt-5-chat does not;
# gpt-5.1 defaults to effort "none"), DeepSeek R1 and QwQ on compatible servers.
_REASONING_MODEL = re.compile(
    r"^(o\d(-|$)"
    r"|gpt-5(-(mini|nano|pro|codex))*(-\d{4}-\d\d-\d\d)?$"
    r"|deepseek-(r1|reasoner)|qwq)"
)


def reasoning_model(model: str) -> bool:
    """Whether an OpenAI-style ``model`` reasons by default (an ``org/`` prefix is ignored)."""
    return bool(_REASONING_MODEL.match(model.rsplit("/", 1)[-1].lower()))


def bearer_headers(api_key: str | None) -> list[tuple[str, str]]:
    """Return the OpenAI auth header for ``api_key`` (none without a key)."""
    return [("authorization", f"Bearer {api_key}")] if api_key else []


def openai_stream_error(provider: str, error: Any, data: str) -> ProviderStreamError:
    """Return the fault for an OpenAI-style error object (or string) found in a stream.

    ``data`` is the event's data, quoted when the error has no message.
    """
    if isinstance(error, dict):
        message = error.get("message")
        raw_type = error.get("type")
        raw_code = error.get("code")
    else:
        message, raw_type, raw_code = error, None, None
    error_type = raw_type if isinstance(raw_type, str) else ""
    code = raw_code if isinstance(raw_code, str) else ""
    return ProviderStreamError(
        message if isinstance(message, str) and message else excerpt(data),
        provider=provider,
        error_type=error_type or code,
        status=status_of(OPENAI_ERROR_STATUS, raw_code, error_type, code),
        code=code or ("" if raw_code is None else str(raw_code)),
    )


def _content_only(frame: dict[str, Any]) -> str | None:
    """The content of a chunk that holds nothing else (one choice, index 0, no
    finish_reason, a delta of only ``content``, no usage, no error), else None."""
    if frame.get("error") is not None or frame.get("usage") is not None:
        return None
    choices = frame.get("choices")
    if type(choices) is list and len(choices) == 1:
        choice = choices[0]
        if type(choice) is dict and choice.get("finish_reason") is None:
            delta = choice.get("delta")
            if type(delta) is dict and len(delta) == 1 and choice.get("index", 0) == 0:
                content = delta.get("content")
                if type(content) is str:
                    return content
    return None


def _content_only_of(data: str) -> str | None:
    # The same test from the raw data: TextTemplate's check of a learnt shape.
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return _content_only(frame) if type(frame) is dict else None


class OpenAIChatParser(JSONStreamParser):
    """Reads one Chat Completions stream. Complete: ``[DONE]`` after a ``finish_reason``."""

    provider = "openai"
    lane_prefix = b"data: "
    lane_event = "message"

    def __init__(self) -> None:
        super().__init__()
        self._done = False
        # Number of tool calls started, for servers that leave out tool_calls[].index.
        self._tool_count = 0
        # The OpenAI API pads every chunk with a random "obfuscation" string.
        self._template = TextTemplate(
            '"content":"', _content_only_of, '"obfuscation":"', self.lane_prefix.decode()
        )
        self.lane_match = self._template.match_read

    @property
    def complete(self) -> bool:
        return self._done and self.finish_reason is not None

    def _carry_over(self, successor: StreamParser) -> None:
        super()._carry_over(successor)
        assert isinstance(successor, OpenAIChatParser)
        successor._tool_count = self._tool_count

    def lane_feed(self, event: ServerSentEvent) -> str | None:
        # feed of an event of the lane's type, when the template reads its data.
        if self._done:
            return None
        text = self._template.match(event.data)
        if text is not None:
            self._event = event
        return text

    def lane_ready(self) -> bool:
        # _feed of a "data: " event is then the template's match.
        return not (self._failed or self._done or self._event.id)

    def _feed(self, event: ServerSentEvent) -> list[Event]:
        data = event.data
        if not data or self._done:
            # Empty data is a keep-alive; nothing after [DONE] belongs to the answer.
            return []
        if data == "[DONE]":
            self._done = True
            return []
        # The fastest path: a chunk of text shaped like the last one (see _template).
        content = self._template.match(data)
        if content is None:
            frame = self._decode(data)
            content = _content_only(frame)
            if content is None:
                return self._frame(frame, data)
            self._template.learn(data, content)
        if not content:
            return []
        text_event = new_event(TextDelta)
        set_text(text_event, content)
        return [text_event]

    def _frame(self, frame: dict[str, Any], data: str) -> list[Event]:
        # Every chunk but one of plain content.
        error = frame.get("error")
        if error is not None:
            raise openai_stream_error(self.provider, error, data)
        choices = frame.get("choices")
        usage = frame.get("usage")
        events: list[Event] = []
        finished: Finished | None = None
        if choices:
            if type(choices) is not list:
                raise self._wrong(frame, "choices", "an array")
            for raw_choice in choices:
                choice = self._item(raw_choice, "a choice")
                index = choice.get("index", 0)
                if index != 0:
                    continue  # n > 1 is unsupported: only the first answer is read
                delta = self._opt_dict(choice, "delta")
                if delta:
                    self._delta(delta, events)
                reason = self._opt_str(choice, "finish_reason")
                if reason:
                    self.finish_reason = reason
                    finished = Finished(reason=reason)
        if usage is None:
            groq = frame.get("x_groq")
            if type(groq) is dict:
                usage = groq.get("usage")
        if usage is not None:
            events.append(self._usage(frame, usage))
        if finished is not None:
            events.append(finished)
        return events

    def _delta(self, delta: dict[str, Any], events: list[Event]) -> None:
        content = self._opt_str(delta, "content")
        # Some servers send the same text in both fields; reasoning_content wins.
        reasoning = self._opt_str(delta, "reasoning_content") or self._opt_str(delta, "reasoning")
        if reasoning:
            events.append(ReasoningDelta(text=reasoning))
        if content:
            events.append(TextDelta(text=content))
        refusal = self._opt_str(delta, "refusal")
        if refusal:
            # A refusal is what the model answered: dropping it would lose text.
            events.append(TextDelta(text=refusal))
        for raw_call in self._opt_list(delta, "tool_calls"):
            call = self._item(raw_call, "a tool call")
            call_id = self._opt_str(call, "id")
            index = self._opt_int(call, "index")
            if index is None:
                # No index (some compatible servers): an id starts a new call,
                # a piece without one continues the latest call.
                latest = self._tool_count - 1
                index = self._tool_count if call_id or latest < 0 else latest
            elif index < 0:
                raise self._bad(f"negative tool call index {index}")
            if index >= self._tool_count:
                self._tool_count = index + 1
            function = self._opt_dict(call, "function") or {}
            events.append(
                ToolCallDelta(
                    index=index,
                    id=call_id,
                    name=self._opt_str(function, "name"),
                    arguments=self._opt_str(function, "arguments"),
                )
            )
        legacy = self._opt_dict(delta, "function_call")
        if legacy is not None:
            # The deprecated single function call: it is call 0.
            self._tool_count = max(self._tool_count, 1)
            events.append(
                ToolCallDelta(
                    index=0,
                    name=self._opt_str(legacy, "name"),
                    arguments=self._opt_str(legacy, "arguments"),
                )
            )

    def _usage(self, frame: dict[str, Any], usage: Any) -> Usage:
        if type(usage) is not dict:
            raise self._wrong(frame, "usage", "an object")
        prompt_details = self._opt_dict(usage, "prompt_tokens_details")
        completion_details = self._opt_dict(usage, "completion_tokens_details")
        return Usage(
            input_tokens=self._count(usage, "prompt_tokens"),
            output_tokens=self._count(usage, "completion_tokens"),
            reasoning_tokens=self._count(completion_details, "reasoning_tokens"),
            cached_tokens=self._count(prompt_details, "cached_tokens"),
        )


class OpenAIChatProvider(Provider):
    """OpenAI Chat Completions, and any OpenAI-compatible server given its ``base_url``.

    Args:
        prefill_style: how an assistant prefill is expressed when the caller
            says the server accepts one (``prefill=True``):
            ``"continue_final_message"`` (vLLM: the body gets
            ``continue_final_message: true, add_generation_prompt: false``) or
            ``"prefix"`` (Mistral, DeepSeek's beta endpoint: the final assistant
            message gets ``"prefix": true``).

    The other arguments are those of :class:`~streamrecover.providers.base.Provider`.
    Prefill is off unless ``prefill=True``: the official API has none.

    Raises:
        UsageError: an unknown ``prefill_style``.
    """

    name: ClassVar[str] = "openai"
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
        prefill_style: PrefillStyle = "continue_final_message",
    ) -> None:
        if prefill_style not in _PREFILL_STYLES:
            raise UsageError(
                f"prefill_style must be one of {_PREFILL_STYLES}, not {prefill_style!r}"
            )
        self.prefill_style: PrefillStyle = prefill_style
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
        """Build ``POST {base_url}/chat/completions`` with ``stream: true``.

        ``stream_options: {"include_usage": true}`` is added unless the body sets
        ``stream_options``; ``stream_options=None`` leaves the field out (for
        servers that reject it).

        Raises:
            UsageError: ``messages`` is not a list, ``n`` is above 1, or the body
                is not JSON.
        """
        if not isinstance(body.get("messages"), list):
            raise UsageError("openai: the body needs 'messages', a list")
        n = body.get("n")
        if n is not None and n != 1:
            raise UsageError("openai: n > 1 is not supported (one answer per stream)")
        payload = {**body, "stream": True}
        if "stream_options" not in body:
            payload["stream_options"] = {"include_usage": True}
        elif body["stream_options"] is None:
            del payload["stream_options"]
        return self._post(self._url("/chat/completions"), payload)

    def new_parser(self, resume_from: StreamParser | None = None) -> StreamParser:
        return OpenAIChatParser() if resume_from is None else resume_from.resumed()

    def model(self, body: JSONBody) -> str:
        model = body.get("model")
        return model if isinstance(model, str) else ""

    def supports_prefill(self, body: JSONBody) -> bool:
        """False unless the constructor said ``prefill=True`` (the official API has no prefill)."""
        return bool(self.prefill_override)

    def thinking_enabled(self, body: JSONBody) -> bool:
        """True with ``reasoning_effort`` other than ``"none"``, OpenRouter's ``reasoning``
        object (unless disabled), or a model that reasons by default (o-series, gpt-5)."""
        effort = body.get("reasoning_effort")
        if effort is not None:
            return bool(effort != "none")
        reasoning = body.get("reasoning")
        if isinstance(reasoning, dict):
            return bool(
                reasoning.get("enabled", True) is not False and reasoning.get("effort") != "none"
            )
        return reasoning_model(self.model(body))

    def structured_output(self, body: JSONBody) -> bool:
        """True with ``response_format`` ``json_object`` / ``json_schema`` or a forced tool."""
        response_format = body.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") in (
            "json_object",
            "json_schema",
        ):
            return True
        tool_choice = body.get("tool_choice")
        if tool_choice == "required" or isinstance(tool_choice, dict):
            return True
        return isinstance(body.get("function_call"), dict)

    def continuation_body(
        self, body: JSONBody, partial_text: str, *, prefill: bool, instruction: str
    ) -> dict[str, Any]:
        """Continue with ``partial_text`` as an assistant message (see the base class).

        With ``prefill`` the final assistant message is marked the way
        ``prefill_style`` says; the text is sent as it is (these servers accept
        trailing whitespace).

        Raises:
            UsageError: ``messages`` is not a list.
        """
        result = dict(body)
        if not partial_text:
            return result
        messages = turns(body, "messages", self.name)
        prefix = prefill and self.prefill_style == "prefix"
        partial: dict[str, Any] = {"role": "assistant", "content": partial_text}
        if prefix:
            partial["prefix"] = True

        def merge(last: Any) -> dict[str, Any]:
            merged = {**last, "content": extend_content(last.get("content"), partial_text)}
            if prefix:
                merged["prefix"] = True
            return merged

        append_turns(messages, assistant_role="assistant", partial_turn=partial, merge=merge)
        if prefill:
            if self.prefill_style == "continue_final_message":
                result["continue_final_message"] = True
                result["add_generation_prompt"] = False
        else:
            messages.append({"role": "user", "content": instruction})
        result["messages"] = messages
        return result

    def limit_output_tokens(
        self, body: JSONBody, already_generated: int, *, floor: int
    ) -> dict[str, Any]:
        """Reduce ``max_completion_tokens`` and ``max_tokens``, whichever are set."""
        result = dict(body)
        for key in ("max_completion_tokens", "max_tokens"):
            if key in result:
                result[key] = reduced_limit(result[key], already_generated, floor)
        return result
