"""Re-encode a recovered answer as one OpenAI Responses stream.

``sequence_number`` increases by one from 0; every output item has one id and
one ``output_index``, is added, streamed and done in order; ``response.completed``
(or ``response.incomplete`` for a model-side limit) carries the whole output and
the cumulative usage (https://platform.openai.com/docs/api-reference/responses-streaming).
"""

from __future__ import annotations

import json
from typing import Any

from streamrecover.core.events import ReasoningDelta, ToolCallDelta
from streamrecover.providers.encode.base import Encoder, merge_usage, sse_frame
from streamrecover.providers.encode.passthrough import Passthrough
from streamrecover.providers.openai_responses import _CLIENT_CALLS

__all__ = ["OpenAIResponsesEncoder"]


class OpenAIResponsesEncoder(Encoder):
    """See the module docstring."""

    def __init__(self, **meta: Any) -> None:
        super().__init__(**meta)
        self._sequence = 0
        self._started = False
        self._output: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None
        self._tool_index = -1
        #: Upstream output_index of a passed-through item -> its index in this stream.
        self._foreign: dict[Any, int] = {}
        #: Items built here, by type, that no upstream "done" item was matched with yet.
        self._built: dict[str, list[dict[str, Any]]] = {}
        #: Upstream "done" items that came before the item they describe was built.
        self._early: dict[str, list[dict[str, Any]]] = {}

    def _event(self, kind: str, data: dict[str, Any]) -> bytes:
        frame = {"type": kind, "sequence_number": self._sequence, **data}
        self._sequence += 1
        return sse_frame(frame, kind)

    def _response(self, status: str) -> dict[str, Any]:
        fields = {**self._fields.get("response.created", {})}
        if status != "in_progress":
            fields.update(self._fields.get("response.completed", {}))
            fields.update(self._fields.get("response.incomplete", {}))
        response: dict[str, Any] = {
            "id": self.response_id or "resp_streamrecover",
            "object": "response",
            "created_at": self.created,
            "status": status,
            "model": self.model,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            **fields,
            "output": list(self._output),
            "error": None,
            "incomplete_details": None,
            "usage": None,
        }
        return response

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return self._event("response.created", {"response": self._response("in_progress")})

    def _close(self) -> bytes:
        item, self._open = self._open, None
        if item is None:
            return b""
        index = len(self._output)
        if item.get("_foreign"):
            del item["_foreign"]
            self._output.append(item)
            return self._event("response.output_item.done", {"output_index": index, "item": item})
        where = {"item_id": item["id"], "output_index": index}
        out = b""
        if item["type"] == "message":
            text = item["content"][0]["text"]
            out += self._event(
                "response.output_text.done", {**where, "content_index": 0, "text": text}
            )
            out += self._event(
                "response.content_part.done",
                {**where, "content_index": 0, "part": item["content"][0]},
            )
        elif item["type"] == "reasoning":
            text = item["summary"][0]["text"]
            out += self._event(
                "response.reasoning_summary_text.done", {**where, "summary_index": 0, "text": text}
            )
            out += self._event(
                "response.reasoning_summary_part.done",
                {**where, "summary_index": 0, "part": item["summary"][0]},
            )
        elif item["type"] == "function_call":
            out += self._event(
                "response.function_call_arguments.done", {**where, "arguments": item["arguments"]}
            )
        else:
            _put_client_call_arguments(item)
        item["status"] = "completed"
        if item["type"] == "reasoning":
            del item["status"]
        self._output.append(item)
        return out + self._event("response.output_item.done", {"output_index": index, "item": item})

    def _add(self, item: dict[str, Any]) -> bytes:
        out = self._start() + self._close()
        self._open = item
        if not item.get("_foreign"):
            early = self._early.get(item["type"])
            if early:
                _merge_item(item, early.pop(0))
            else:
                self._built.setdefault(item["type"], []).append(item)
        added = dict(item, status="in_progress")
        if item["type"] == "message":
            added["content"] = []
        elif item["type"] == "reasoning":
            added["summary"] = []
            del added["status"]
        return out + self._event(
            "response.output_item.added", {"output_index": len(self._output), "item": added}
        )

    def _where(self) -> dict[str, Any]:
        assert self._open is not None
        return {"item_id": self._open["id"], "output_index": len(self._output)}

    def _text(self, text: str) -> bytes:
        out = b""
        if self._open is None or self._open["type"] != "message":
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            out = self._add(
                {
                    "id": f"msg_{len(self._output)}",
                    "type": "message",
                    "role": "assistant",
                    "content": [dict(part)],
                }
            )
            out += self._event(
                "response.content_part.added", {**self._where(), "content_index": 0, "part": part}
            )
        assert self._open is not None
        self._open["content"][0]["text"] += text
        return out + self._event(
            "response.output_text.delta",
            {**self._where(), "content_index": 0, "delta": text, "logprobs": []},
        )

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        if not event.text:
            return b""  # Responses carries no thinking signatures
        out = b""
        if self._open is None or self._open["type"] != "reasoning":
            part = {"type": "summary_text", "text": ""}
            out = self._add(
                {"id": f"rs_{len(self._output)}", "type": "reasoning", "summary": [dict(part)]}
            )
            out += self._event(
                "response.reasoning_summary_part.added",
                {**self._where(), "summary_index": 0, "part": part},
            )
        assert self._open is not None
        self._open["summary"][0]["text"] += event.text
        return out + self._event(
            "response.reasoning_summary_text.delta",
            {**self._where(), "summary_index": 0, "delta": event.text},
        )

    def _tool(self, event: ToolCallDelta) -> bytes:
        if event.kind or (
            self._open is not None
            and self._open["type"] in _CLIENT_CALLS
            and event.index == self._tool_index
        ):
            return self._client_call(event)
        out = b""
        if (
            self._open is None
            or self._open["type"] != "function_call"
            or event.index != self._tool_index
        ):
            self._tool_index = event.index
            out = self._add(
                {
                    "id": f"fc_{len(self._output)}",
                    "type": "function_call",
                    "call_id": event.id,
                    "name": event.name,
                    "arguments": "",
                }
            )
        assert self._open is not None
        if not event.arguments:
            return out
        self._open["arguments"] += event.arguments
        return out + self._event(
            "response.function_call_arguments.delta", {**self._where(), "delta": event.arguments}
        )

    def _client_call(self, event: ToolCallDelta) -> bytes:
        # An item the application executes (local_shell_call, apply_patch_call,
        # ...): announced when added, its arguments given whole when done.
        out = b""
        if event.kind:
            self._tool_index = event.index
            item: dict[str, Any] = {"id": f"ctc_{len(self._output)}", "type": event.kind}
            if event.kind == "mcp_call":
                item["id"] = event.id or item["id"]
            else:
                item["call_id"] = event.id
            if event.name != _CLIENT_CALLS.get(event.kind, ""):
                item["name"] = event.name
            item["arguments"] = ""
            out = self._add(item)
        assert self._open is not None
        self._open["arguments"] += event.arguments
        return out

    def _terminal(self, reason: str | None) -> bytes:
        # Frames after the stop reason go first here: sequence numbers stay monotonic.
        trailers, self._trailers = self._trailers, []
        out = b"".join(self._passthrough(event) for event, _ in trailers)
        out += self._start() + self._close()
        complete = reason in (None, "completed")
        response = self._response("completed" if complete else "incomplete")
        if not complete:
            response["incomplete_details"] = {"reason": reason}
        usage = self._usage
        if usage is not None:
            response["usage"] = merge_usage(
                self._upstream_usage(),
                {
                    "input_tokens": usage.input_tokens,
                    "input_tokens_details": {"cached_tokens": usage.cached_tokens},
                    "output_tokens": usage.output_tokens,
                    "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
                    "total_tokens": usage.input_tokens + usage.output_tokens,
                },
            )
        kind = "response.completed" if complete else "response.incomplete"
        return out + self._event(kind, {"response": response})

    def _item_done(self, item: dict[str, Any]) -> bytes:
        """The upstream's finished item of a type this stream rebuilds: its extra
        fields (``encrypted_content``...) join the item; a reasoning item this
        stream never opened (no summary text) goes out whole."""
        kind = str(item.get("type"))
        built = self._built.get(kind)
        if built:
            _merge_item(built.pop(0), item)
            return b""
        if kind != "reasoning":
            self._early.setdefault(kind, []).append(item)
            return b""
        parts = [*(item.get("summary") or []), *(item.get("content") or [])]
        if any(isinstance(p, dict) and p.get("text") for p in parts):
            # Thoughts this stream did not carry (a continuation's, which the
            # session leaves out): not shown as if they were the answer's.
            return b""
        out = self._start() + self._close()
        index = len(self._output)
        added = {k: v for k, v in item.items() if k != "encrypted_content"}
        out += self._event("response.output_item.added", {"output_index": index, "item": added})
        self._output.append(item)
        return out + self._event("response.output_item.done", {"output_index": index, "item": item})

    def _upstream_usage(self) -> dict[str, Any]:
        for name in ("response.completed", "response.incomplete"):
            if name in self._usage_extra:
                return self._usage_extra[name]
        return {}

    def _passthrough(self, event: Passthrough) -> bytes:
        frame = {k: v for k, v in event.data.items() if k not in ("type", "sequence_number")}
        kind = event.event
        if kind == "response.output_item.added":
            out = self._start() + self._close()
            self._foreign[frame.get("output_index")] = len(self._output)
            item = dict(frame.get("item") or {})
            self._open = {**item, "_foreign": True}
            return out + self._event(kind, {**frame, "output_index": len(self._output)})
        if kind == "response.output_item.done":
            index = self._foreign.pop(frame.get("output_index"), None)
            if index is None or self._open is None or not self._open.get("_foreign"):
                return b""
            if self._open is not None and index != len(self._output):
                return b""
            item = dict(frame.get("item") or {})
            self._open = None
            self._output.append(item)
            return self._event(kind, {**frame, "output_index": index, "item": item})
        if kind == "item_done":
            return self._item_done(frame.get("item") or {})
        if kind == "response.output_text.annotation.added":
            # An annotation of the message being written: it becomes part of it.
            if self._open is None or self._open["type"] != "message":
                return b""
            annotations = self._open["content"][0]["annotations"]
            annotations.append(frame.get("annotation"))
            where = {**self._where(), "content_index": 0, "annotation_index": len(annotations) - 1}
            return self._event(kind, {**frame, **where})
        out = self._start()
        if "output_index" in frame:
            index = self._foreign.get(frame["output_index"])
            if index is None:
                return b""  # about an item this stream does not carry
            frame["output_index"] = index
        return out + self._event(kind, frame)

    def error(self, message: str, error_type: str) -> bytes:
        # The SDK wants response.created first; it raises APIError for an error
        # event whose "error" is an object (as the API sends it), and the flat
        # fields are the documented shape.
        code = error_type or "server_error"
        error = {"type": code, "code": code, "message": message}
        return self._start() + self._event(
            "error", {"code": code, "message": message, "param": None, "error": error}
        )


def _merge_item(item: dict[str, Any], upstream: dict[str, Any]) -> None:
    """Give a rebuilt item the extra fields of the upstream's finished one."""
    for key, value in upstream.items():
        if key not in item and key not in ("id", "status"):
            item[key] = value
    if item["type"] == "reasoning":
        # The upstream's own shape (summary parts, or reasoning text as content),
        # when it says what this stream delivered (not another attempt's thoughts).
        parts = [*(upstream.get("summary") or []), *(upstream.get("content") or [])]
        said = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        if said == "".join(p["text"] for p in item["summary"]):
            item["summary"] = upstream.get("summary", item["summary"])
            if "content" in upstream:
                item["content"] = upstream["content"]
    elif item["type"] == "message":
        parts = upstream.get("content") or [{}]
        part = item["content"][0]
        if "logprobs" in parts[0]:
            part["logprobs"] = parts[0]["logprobs"]
        else:
            part.pop("logprobs", None)


#: Where each client-executed item type carries its arguments, and whether as JSON.
_ARGUMENT_FIELDS = {
    "local_shell_call": ("action", True),
    "shell_call": ("action", True),
    "computer_call": ("action", True),
    "apply_patch_call": ("operation", True),
    "custom_tool_call": ("input", False),
    "mcp_call": ("arguments", False),
}


def _put_client_call_arguments(item: dict[str, Any]) -> None:
    """Move the collected arguments of a client-executed item to the field its type uses."""
    arguments = item.pop("arguments")
    field, as_json = _ARGUMENT_FIELDS.get(item["type"], ("arguments", False))
    if as_json:
        try:
            value = json.loads(arguments or "{}")
        except ValueError:
            value = None
        if isinstance(value, dict):
            item[field] = value
            return
        field = "arguments"
    item[field] = arguments
