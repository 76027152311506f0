"""Google Gemini API (``models/{model}:streamGenerateContent?alt=sse``).

Wire format (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent):
every event is ``data: {GenerateContentResponse}``, a whole response object
holding the next piece: ``candidates[0].content.parts[]`` with ``text`` (a part
with ``"thought": true`` is reasoning), ``functionCall`` and
``thoughtSignature``; ``candidates[0].finishReason`` on the last content frame;
``usageMetadata`` on every frame, cumulative. There is no ``[DONE]``: the stream
is complete once a frame carries a ``finishReason`` (``STOP``, but also
``MAX_TOKENS``, ``SAFETY``, ``RECITATION``... which are complete answers that
end for that reason) or a ``promptFeedback.blockReason`` (the prompt was
blocked; there will be no candidate). An error in the middle of the stream is a
frame ``{"error": {"code", "status", "message"}}``.

A ``functionCall`` is whole in one part, except with Vertex AI's
``streamFunctionCallArguments`` (Gemini 3): a part ``{"name", "willContinue":
true}`` opens the call, parts ``{"partialArgs": [{"jsonPath": "$.location",
"stringValue": "Bos", "willContinue": true}], "willContinue": true}`` give its
arguments piece by piece (a string continued across pieces is concatenated),
and an empty ``functionCall`` closes it. The call is delivered whole when it
closes (or when the finishing frame arrives), never in pieces.

Only ``candidates`` index 0 is read (``candidateCount`` above 1 is refused when
the request is built). ``Usage`` is emitted from the finishing frame (and any
frame after it): ``output_tokens`` is ``candidatesTokenCount +
thoughtsTokenCount``, as the other providers count reasoning as output.
Vertex AI (OAuth, other URLs) is not covered.
"""

from __future__ import annotations

import json
import re
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
from streamrecover.providers._body import append_turns, reduced_limit, turns
from streamrecover.providers._errors import GOOGLE_ERROR_STATUS, status_of
from streamrecover.providers._json import JSONStreamParser, excerpt
from streamrecover.providers.base import JSONBody, Provider, StreamParser

__all__ = ["GeminiParser", "GeminiProvider"]

# Models that think by default, with no thinkingConfig: 2.5 Pro and Flash (not
# Flash-Lite), every Gemini 3, and the 2.0 "thinking" experiments.
_THINKING_MODEL = re.compile(r"^gemini-(2\.5-(pro|flash(?!-lite))|[3-9]|2\.0-flash-thinking)")
_JSON_MIME_TYPES = frozenset({"application/json", "text/x.enum"})


def _model_path(model: str) -> str:
    # "gemini-2.5-flash" -> "models/gemini-2.5-flash"; "models/..." and
    # "tunedModels/..." are already resource names.
    path = model if "/" in model else f"models/{model}"
    return quote(path, safe="/-._~")


_PATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[['\"]([^'\"]*)['\"]\]")


def _json_path(path: str) -> list[str | int] | None:
    """The keys of a simple JSONPath (``$.a.b[0]['c d']``), or None if it is not one."""
    if not path.startswith("$"):
        return None
    keys: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            return None
        name, number, quoted = match.groups()
        keys.append(int(number) if number is not None else (name if name is not None else quoted))
        position = match.end()
    return keys if keys else None


class _StreamedCall:
    """A functionCall being assembled from partialArgs pieces."""

    def __init__(self, *, id: str, name: str) -> None:
        self.id = id
        self.name = name
        self.arguments: dict[str, Any] = {}

    def set(self, keys: list[str | int], value: Any) -> None:
        """Put ``value`` at ``keys``; a string after a string there continues it."""
        container: Any = self.arguments
        for key, following in zip(keys, [*keys[1:], None], strict=True):
            last = following is None
            if isinstance(key, int):
                if not isinstance(container, list):
                    return
                while len(container) <= key:
                    container.append(None)
            elif not isinstance(container, dict):
                return
            if last:
                current = container[key] if isinstance(key, int) else container.get(key)
                if isinstance(current, str) and isinstance(value, str):
                    value = current + value
                container[key] = value
            else:
                current = container[key] if isinstance(key, int) else container.get(key)
                if not isinstance(current, (dict, list)):
                    current = [] if isinstance(following, int) else {}
                    container[key] = current
                container = current


class GeminiParser(JSONStreamParser):
    """Reads one streamGenerateContent stream. Complete: a frame with a finish reason."""

    provider = "gemini"

    def __init__(self) -> None:
        super().__init__()
        self._finished = False
        self._tool_count = 0
        # A functionCall streamed with partialArgs, until it closes: its id,
        # name and the arguments assembled so far.
        self._open_call: _StreamedCall | None = None

    @property
    def complete(self) -> bool:
        return self._finished

    def _carry_over(self, successor: StreamParser) -> None:
        super()._carry_over(successor)
        assert isinstance(successor, GeminiParser)
        successor._tool_count = self._tool_count
        # A half-streamed call is not carried over: the continuation
        # regenerates it (tool calls are never half-resumed).

    def _feed(self, event: ServerSentEvent) -> list[Event]:
        data = event.data
        if not data:
            return []
        frame = self._decode(data)
        error = frame.get("error")
        if error is not None:
            raise self._stream_error(frame)
        candidates = frame.get("candidates")
        # Fast path: one candidate, one plain text part, no finish reason (and no
        # usage to report, which only frames from the finishing one on carry).
        if type(candidates) is list and len(candidates) == 1 and not self._finished:
            candidate = candidates[0]
            if type(candidate) is dict and "finishReason" not in candidate:
                content = candidate.get("content")
                if type(content) is dict:
                    parts = content.get("parts")
                    if type(parts) is list and len(parts) == 1:
                        part = parts[0]
                        if type(part) is dict and len(part) == 1:
                            text = part.get("text")
                            if type(text) is str and candidate.get("index", 0) == 0:
                                return [TextDelta(text=text)] if text else []
        events: list[Event] = []
        reason = ""
        if candidates is not None:
            if type(candidates) is not list:
                raise self._wrong(frame, "candidates", "an array")
            for raw_candidate in candidates:
                candidate = self._item(raw_candidate, "a candidate")
                if candidate.get("index", 0) != 0:
                    continue  # candidateCount > 1 is unsupported: only the first is read
                content = self._opt_dict(candidate, "content")
                if content is not None:
                    for raw_part in self._opt_list(content, "parts"):
                        self._part(self._item(raw_part, "a part"), events)
                reason = self._opt_str(candidate, "finishReason")
        else:
            feedback = self._opt_dict(frame, "promptFeedback")
            if feedback is not None:
                reason = self._opt_str(feedback, "blockReason")
        if reason == "FINISH_REASON_UNSPECIFIED":
            reason = ""
        if reason or self._finished:
            usage = self._opt_dict(frame, "usageMetadata")
            if usage is not None:
                events.append(
                    Usage(
                        input_tokens=self._count(usage, "promptTokenCount"),
                        output_tokens=self._count(usage, "candidatesTokenCount")
                        + self._count(usage, "thoughtsTokenCount"),
                        reasoning_tokens=self._count(usage, "thoughtsTokenCount"),
                        cached_tokens=self._count(usage, "cachedContentTokenCount"),
                    )
                )
        if reason and not self._finished:
            if self._open_call is not None:
                self._close_call(events)
            self._finished = True
            self.finish_reason = reason
            events.append(Finished(reason=reason))
        return events

    def _part(self, part: dict[str, Any], events: list[Event]) -> None:
        text = self._opt_str(part, "text")
        if text:
            thought = part.get("thought") is True
            events.append(ReasoningDelta(text=text) if thought else TextDelta(text=text))
        call = self._opt_dict(part, "functionCall")
        if call is not None and (
            self._open_call is not None or call.get("willContinue") is True or not call
        ):
            self._streamed_call(call, events)
        elif call is not None:
            args = self._opt_dict(call, "args")
            index = self._tool_count
            self._tool_count += 1
            events.append(
                ToolCallDelta(
                    index=index,
                    id=self._opt_str(call, "id"),
                    name=self._str(call, "name"),
                    arguments=json.dumps({} if args is None else args, ensure_ascii=False),
                )
            )
        signature = self._opt_str(part, "thoughtSignature")
        if signature:
            events.append(ReasoningDelta(signature=signature))

    def _streamed_call(self, call: dict[str, Any], events: list[Event]) -> None:
        if self._open_call is None:
            if not call:
                return  # an empty functionCall with no call open: nothing to close
            self._open_call = _StreamedCall(
                id=self._opt_str(call, "id"), name=self._str(call, "name")
            )
            args = self._opt_dict(call, "args")
            if args:
                self._open_call.arguments.update(args)
        elif call.get("name") not in (None, self._open_call.name):
            raise self._bad("a functionCall started before the streamed one closed")
        for raw_piece in self._opt_list(call, "partialArgs"):
            self._partial_argument(self._item(raw_piece, "a partialArgs item"))
        if call.get("willContinue") is not True:
            self._close_call(events)

    def _partial_argument(self, piece: dict[str, Any]) -> None:
        assert self._open_call is not None
        keys = _json_path(self._str(piece, "jsonPath"))
        if keys is None:
            raise self._wrong(piece, "jsonPath", "a path like $.name or $.list[0].name")
        for field in ("stringValue", "numberValue", "boolValue", "value"):
            if field in piece:
                value = piece[field]
                break
        else:
            value = None  # nullValue, or a piece with no value
        self._open_call.set(keys, value)

    def _close_call(self, events: list[Event]) -> None:
        call, self._open_call = self._open_call, None
        assert call is not None
        index = self._tool_count
        self._tool_count += 1
        events.append(
            ToolCallDelta(
                index=index,
                id=call.id,
                name=call.name,
                arguments=json.dumps(call.arguments, ensure_ascii=False),
            )
        )

    def _stream_error(self, frame: dict[str, Any]) -> ProviderStreamError:
        error = self._dict(frame, "error")
        status_name = self._opt_str(error, "status")
        code = error.get("code")
        return ProviderStreamError(
            self._opt_str(error, "message") or excerpt(self._event.data),
            provider=self.provider,
            error_type=status_name,
            status=status_of(GOOGLE_ERROR_STATUS, code, status_name),
            code="" if code is None else str(code),
        )


class GeminiProvider(Provider):
    """Google Gemini API (Google AI Studio keys).

    Args:
        api_version: the API version in the path (``v1beta``; ``v1`` lacks
            some features).

    The other arguments are those of :class:`~streamrecover.providers.base.Provider`.
    Prefill is off unless ``prefill=True`` (a final ``model`` turn is then sent
    for the model to extend).
    """

    name: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str] = "https://generativelanguage.googleapis.com"
    api_key_env: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        prefill: bool | None = None,
        headers: Mapping[str, str] | None = None,
        last_event_id_resume: bool = False,
        api_version: str = "v1beta",
    ) -> None:
        self.api_version = api_version.strip("/")
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            prefill=prefill,
            headers=headers,
            last_event_id_resume=last_event_id_resume,
        )

    def _auth_headers(self) -> list[tuple[str, str]]:
        return [("x-goog-api-key", self.api_key)] if self.api_key else []

    def build_request(self, body: JSONBody) -> HTTPRequest:
        """Build ``POST {base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse``.

        The model moves from the body to the path.

        Raises:
            UsageError: no ``model``, ``candidateCount`` above 1, or the body is
                not JSON.
        """
        model = self.model(body)
        if not model:
            raise UsageError("gemini: the body needs 'model', a string")
        config = body.get("generationConfig")
        if isinstance(config, Mapping) and config.get("candidateCount") not in (None, 1):
            raise UsageError("gemini: candidateCount > 1 is not supported (one answer per stream)")
        payload = {key: value for key, value in body.items() if key != "model"}
        url = self._url(
            f"/{self.api_version}/{_model_path(model)}:streamGenerateContent", "alt=sse"
        )
        return self._post(url, payload)

    def new_parser(self, resume_from: StreamParser | None = None) -> StreamParser:
        return GeminiParser() if resume_from is None else resume_from.resumed()

    def model(self, body: JSONBody) -> str:
        model = body.get("model")
        return model if isinstance(model, str) else ""

    def supports_prefill(self, body: JSONBody) -> bool:
        """False unless the constructor said ``prefill=True``."""
        return bool(self.prefill_override)

    def thinking_enabled(self, body: JSONBody) -> bool:
        """True with ``generationConfig.thinkingConfig`` giving a ``thinkingBudget``
        other than 0 or a ``thinkingLevel``; without one, True for models that
        think by default (2.5 Pro and Flash, Gemini 3)."""
        config = body.get("generationConfig")
        thinking = config.get("thinkingConfig") if isinstance(config, Mapping) else None
        if isinstance(thinking, Mapping):
            budget = thinking.get("thinkingBudget")
            if isinstance(budget, int):
                return budget != 0
            if thinking.get("thinkingLevel"):
                return True
        name = self.model(body).rsplit("/", 1)[-1].lower()
        return bool(_THINKING_MODEL.match(name))

    def structured_output(self, body: JSONBody) -> bool:
        """True with a JSON ``responseMimeType``, a ``responseSchema`` /
        ``responseJsonSchema``, or function calling forced (mode ``ANY``)."""
        config = body.get("generationConfig")
        if isinstance(config, Mapping) and (
            config.get("responseMimeType") in _JSON_MIME_TYPES
            or config.get("responseSchema") is not None
            or config.get("responseJsonSchema") is not None
        ):
            return True
        tool_config = body.get("toolConfig")
        calling = (
            tool_config.get("functionCallingConfig") if isinstance(tool_config, Mapping) else None
        )
        return isinstance(calling, Mapping) and calling.get("mode") == "ANY"

    def continuation_body(
        self, body: JSONBody, partial_text: str, *, prefill: bool, instruction: str
    ) -> dict[str, Any]:
        """Continue with ``partial_text`` as a ``model`` turn in ``contents``.

        Without ``prefill`` a ``user`` turn holding ``instruction`` follows.

        Raises:
            UsageError: ``contents`` is not a list.
        """
        result = dict(body)
        if not partial_text:
            return result
        contents = turns(body, "contents", self.name)

        def merge(last: Any) -> dict[str, Any]:
            parts = last.get("parts")
            kept = list(parts) if isinstance(parts, list) else []
            return {**last, "parts": [*kept, {"text": partial_text}]}

        append_turns(
            contents,
            assistant_role="model",
            partial_turn={"role": "model", "parts": [{"text": partial_text}]},
            merge=merge,
        )
        if not prefill:
            contents.append({"role": "user", "parts": [{"text": instruction}]})
        result["contents"] = contents
        return result

    def limit_output_tokens(
        self, body: JSONBody, already_generated: int, *, floor: int
    ) -> dict[str, Any]:
        """Reduce ``generationConfig.maxOutputTokens`` when set."""
        result = dict(body)
        config = body.get("generationConfig")
        if isinstance(config, Mapping) and "maxOutputTokens" in config:
            limit = reduced_limit(config["maxOutputTokens"], already_generated, floor)
            result["generationConfig"] = {**config, "maxOutputTokens": limit}
        return result
