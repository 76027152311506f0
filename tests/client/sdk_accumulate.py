"""What an official SDK's own accumulator makes of a stream, reduced to what must match.

Used by the SDK tests: a recorded or fake stream is read by ``openai`` /
``anthropic`` through an httpx2 transport (a ``MockTransport`` serving bytes, or
:class:`~streamrecover.integrations.httpx2.RecoveringTransport` in front of
one), and the SDK's final object (``get_final_completion()``,
``get_final_response()``, ``get_final_message()``) is reduced to a plain dict:
text, tool calls (arguments parsed), thinking and signatures, stop reason,
usage. :func:`full` keeps everything else too, for the pass-through checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
from openai.lib.streaming.chat import ChatCompletionStreamState

#: The body every SDK call of these tests sends (the fake servers ignore it).
PROMPT = [{"role": "user", "content": "Hi"}]
MODELS = {
    "openai": "gpt-4o-mini",
    "openai-responses": "gpt-4.1",
    "anthropic": "claude-sonnet-4-5",
}
BASE_URLS = {
    "openai": "http://sdk.test/v1",
    "openai-responses": "http://sdk.test/v1",
    "anthropic": "http://sdk.test",
}


def serving(body: bytes, content_type: str = "text/event-stream") -> httpx2.MockTransport:
    """A transport that answers every request with ``body`` (status 200)."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": content_type}, content=body)

    return httpx2.MockTransport(handler)


def sdk_client(provider: str, transport: httpx2.BaseTransport, base_url: str = "") -> Any:
    """An official SDK client for ``provider`` whose requests go through ``transport``."""
    http_client = httpx2.Client(transport=transport)
    url = base_url or BASE_URLS[provider]
    if provider == "anthropic":
        return anthropic.Anthropic(
            api_key="sk-ant-test", base_url=url, max_retries=0, http_client=http_client
        )
    return openai.OpenAI(api_key="sk-test", base_url=url, max_retries=0, http_client=http_client)


def async_sdk_client(
    provider: str, transport: httpx2.AsyncBaseTransport, base_url: str = ""
) -> Any:
    """The asyncio twin of :func:`sdk_client`."""
    http_client = httpx2.AsyncClient(transport=transport)
    url = base_url or BASE_URLS[provider]
    if provider == "anthropic":
        return anthropic.AsyncAnthropic(
            api_key="sk-ant-test", base_url=url, max_retries=0, http_client=http_client
        )
    return openai.AsyncOpenAI(
        api_key="sk-test", base_url=url, max_retries=0, http_client=http_client
    )


def final_object(client: Any, provider: str, body: dict[str, Any] | None = None) -> Any:
    """Stream one answer through the SDK's own helper and return its final object."""
    if provider == "openai":
        # The accumulator of chat.completions.stream(), fed directly: its
        # get_final_completion() refuses a finish_reason of "length".
        request = body or {"model": MODELS[provider], "messages": PROMPT}
        state: Any = ChatCompletionStreamState()
        with client.chat.completions.create(stream=True, **request) as chunks:
            for chunk in chunks:
                state.handle_chunk(chunk)
        return state.current_completion_snapshot
    if provider == "openai-responses":
        request = body or {"model": MODELS[provider], "input": "Hi"}
        with client.responses.stream(**request) as stream:
            return stream.get_final_response()
    request = body or {"model": MODELS[provider], "max_tokens": 1024, "messages": PROMPT}
    with client.messages.stream(**request) as stream:
        return stream.get_final_message()


async def async_final_object(client: Any, provider: str, body: dict[str, Any] | None = None) -> Any:
    """The asyncio twin of :func:`final_object`."""
    if provider == "openai":
        request = body or {"model": MODELS[provider], "messages": PROMPT}
        state: Any = ChatCompletionStreamState()
        chunks = await client.chat.completions.create(stream=True, **request)
        async with chunks:
            async for chunk in chunks:
                state.handle_chunk(chunk)
        return state.current_completion_snapshot
    if provider == "openai-responses":
        request = body or {"model": MODELS[provider], "input": "Hi"}
        async with client.responses.stream(**request) as stream:
            return await stream.get_final_response()
    request = body or {"model": MODELS[provider], "max_tokens": 1024, "messages": PROMPT}
    async with client.messages.stream(**request) as stream:
        return await stream.get_final_message()


def _arguments(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return ("not JSON", text)


def _chat(completion: Any) -> dict[str, Any]:
    choice = completion.choices[0]
    message = choice.message
    extra = message.model_extra or {}
    usage = completion.usage
    return {
        "text": (message.content or "") + (message.refusal or ""),
        "reasoning": extra.get("reasoning_content") or extra.get("reasoning") or "",
        "signatures": [],
        "tool_calls": [
            {
                "id": call.id,
                "name": call.function.name,
                "arguments": _arguments(call.function.arguments),
            }
            for call in message.tool_calls or []
        ],
        "stop_reason": choice.finish_reason,
        "usage": None
        if usage is None
        else {"input": usage.prompt_tokens, "output": usage.completion_tokens},
    }


_RESPONSES_CALLS = {"function_call", "custom_tool_call", "local_shell_call", "shell_call"}


def _responses(response: Any) -> dict[str, Any]:
    text = ""
    reasoning = ""
    calls = []
    for item in response.output:
        if item.type == "message":
            for part in item.content:
                text += getattr(part, "text", "") or getattr(part, "refusal", "") or ""
        elif item.type == "reasoning":
            reasoning += "".join(s.text for s in item.summary or [])
            reasoning += "".join(c.text for c in getattr(item, "content", None) or [])
        elif item.type in _RESPONSES_CALLS:
            dumped = item.model_dump()
            calls.append(
                {
                    "type": item.type,
                    "id": dumped.get("call_id"),
                    "name": dumped.get("name") or item.type.removesuffix("_call"),
                    "arguments": _arguments(
                        dumped.get("arguments", dumped.get("input", dumped.get("action")))
                    ),
                }
            )
    usage = response.usage
    return {
        "text": text,
        "reasoning": reasoning,
        "signatures": [],
        "tool_calls": calls,
        "stop_reason": response.status,
        "usage": None
        if usage is None
        else {"input": usage.input_tokens, "output": usage.output_tokens},
    }


def _anthropic(message: Any) -> dict[str, Any]:
    text = ""
    reasoning = ""
    signatures = []
    calls = []
    for block in message.content:
        if block.type == "text":
            text += block.text
        elif block.type == "thinking":
            reasoning += block.thinking
            signatures.append(block.signature)
        elif block.type == "redacted_thinking":
            signatures.append(("redacted", block.data))
        elif block.type == "tool_use":
            calls.append({"id": block.id, "name": block.name, "arguments": block.input})
    usage = message.usage
    return {
        "text": text,
        "reasoning": reasoning,
        "signatures": signatures,
        "tool_calls": calls,
        "stop_reason": message.stop_reason,
        "usage": {
            "input": usage.input_tokens,
            "output": usage.output_tokens,
            "cache_read": usage.cache_read_input_tokens or 0,
        },
    }


REDUCERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "openai": _chat,
    "openai-responses": _responses,
    "anthropic": _anthropic,
}


def essentials(provider: str, final: Any) -> dict[str, Any]:
    """Text, reasoning, signatures, tool calls, stop reason and usage of a final object."""
    return REDUCERS[provider](final)


#: Fields that name one particular response (ids, times), not its content.
_IDENTITY = frozenset({"id", "created", "created_at", "completed_at", "item_id"})


def full(final: Any) -> Any:
    """The whole final object as plain data, identities left out (for pass-through checks)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _IDENTITY}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(final.model_dump(mode="json", exclude_none=True))
