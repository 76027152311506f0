"""The official SDKs (openai, anthropic) over RecoveringTransport, against the fake servers.

Whatever breaks, the SDK's own accumulated text is the reference answer, exactly.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from reference_frames import FAST_RETRY, REFERENCE, ReferenceServer, answer, base_url

from streamrecover.core.events import Finished, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from streamrecover.providers.encode import encoder_for
from streamrecover.testing.server import (
    Close,
    Reset,
    SendChunk,
    http_response,
    sse_head,
    sse_response,
)

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")
httpx2 = pytest.importorskip("httpx2")

from streamrecover.integrations.httpx2 import (  # noqa: E402
    AsyncRecoveringTransport,
    RecoveringTransport,
)


@pytest.fixture
def anyio_backend() -> str:
    # The SDKs' own async stream generators are left to the garbage collector,
    # which trio reports as a ResourceWarning: asyncio, the SDKs' default, only.
    return "asyncio"


_OPENED: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Any:
    # The SDK clients keep pooled connections: closed, or the leak check fires.
    yield
    while _OPENED:
        _OPENED.pop().close()


MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5"}


def openai_client(server: ReferenceServer, **options: Any) -> Any:
    options.setdefault("retry", FAST_RETRY)
    transport = RecoveringTransport("openai", **options)
    client = openai.OpenAI(
        api_key="sk-test",
        base_url=base_url(server, "openai"),
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )
    _OPENED.append(client)
    return client


def anthropic_client(server: ReferenceServer, **options: Any) -> Any:
    options.setdefault("retry", FAST_RETRY)
    transport = RecoveringTransport("anthropic", **options)
    client = anthropic.Anthropic(
        api_key="sk-ant-test",
        base_url=base_url(server, "anthropic"),
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )
    _OPENED.append(client)
    return client


def chat_text(client: Any) -> tuple[str, Any]:
    stream = client.chat.completions.with_raw_response.create(
        model=MODELS["openai"], messages=[{"role": "user", "content": "Say it."}], stream=True
    )
    text = ""
    for chunk in stream.parse():
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    return text, stream.headers


def cut_then_resume(provider: str) -> list[list[Any]]:
    return [[answer(provider, cut_after=4, fault=Reset())], [answer(provider, overlap_words=2)]]


def test_openai_chat_plain_stream_is_the_answer() -> None:
    with ReferenceServer([[answer("openai")]]) as server:
        text, headers = chat_text(openai_client(server))
    assert text == REFERENCE
    assert headers.get("x-streamrecover-id")


@pytest.mark.parametrize("fault", ["reset", "close"])
def test_openai_chat_cut_mid_answer_is_whole_for_the_sdk(fault: str) -> None:
    step = Reset() if fault == "reset" else Close()
    scripts = [[answer("openai", cut_after=4, fault=step)], [answer("openai", overlap_words=2)]]
    with ReferenceServer(scripts) as server:
        text, _ = chat_text(openai_client(server))
        requests = server.requests
    assert text == REFERENCE
    assert len(requests) == 2
    # The SDK's own key went out with every attempt.
    assert all(r.header("authorization") == "Bearer sk-test" for r in requests)


def test_anthropic_get_final_message_after_a_cut() -> None:
    with ReferenceServer(cut_then_resume("anthropic")) as server:
        client = anthropic_client(server)
        with client.messages.stream(
            model=MODELS["anthropic"],
            max_tokens=100,
            messages=[{"role": "user", "content": "Say it."}],
        ) as stream:
            message = stream.get_final_message()
    assert "".join(block.text for block in message.content if block.type == "text") == REFERENCE
    assert message.stop_reason == "end_turn"


def test_anthropic_create_stream_text() -> None:
    with ReferenceServer(cut_then_resume("anthropic")) as server:
        client = anthropic_client(server)
        text = ""
        for event in client.messages.create(
            model=MODELS["anthropic"],
            max_tokens=100,
            stream=True,
            messages=[{"role": "user", "content": "Say it."}],
        ):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
    assert text == REFERENCE


def test_openai_401_raises_authentication_error_without_retry() -> None:
    body = '{"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}'
    with ReferenceServer([http_response(401, body)]) as server:
        with pytest.raises(openai.AuthenticationError, match="Incorrect API key"):
            chat_text(openai_client(server))
        assert len(server.requests) == 1


def test_anthropic_401_raises_authentication_error() -> None:
    body = '{"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}'
    with ReferenceServer([http_response(401, body)]) as server:
        client = anthropic_client(server)
        with pytest.raises(anthropic.AuthenticationError, match="bad key"):
            client.messages.create(
                model=MODELS["anthropic"],
                max_tokens=10,
                stream=True,
                messages=[{"role": "user", "content": "Say it."}],
            )
        assert len(server.requests) == 1


def test_resume_exhausted_raises_the_sdks_api_error() -> None:
    cut = [answer("openai", cut_after=3, fault=Reset())]
    with (
        ReferenceServer([cut] * 8) as server,
        pytest.raises(openai.APIError, match="stream failed"),
    ):
        chat_text(openai_client(server))


def test_non_streaming_request_passes_through() -> None:
    body = (
        '{"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": '
        '[{"index": 0, "message": {"role": "assistant", "content": "hi"}, '
        '"finish_reason": "stop"}]}'
    )
    with ReferenceServer([http_response(200, body, content_type="application/json")]) as server:
        client = openai_client(server)
        completion = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
    assert completion.choices[0].message.content == "hi"


@pytest.mark.anyio
async def test_async_openai_chat_after_a_cut() -> None:
    with ReferenceServer(cut_then_resume("openai")) as server:
        transport = AsyncRecoveringTransport("openai", retry=FAST_RETRY)
        client = openai.AsyncOpenAI(
            api_key="sk-test",
            base_url=base_url(server, "openai"),
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=transport),
        )
        text = ""
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Say it."}], stream=True
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    text += chunk.choices[0].delta.content
    assert text == REFERENCE


@pytest.mark.anyio
async def test_async_anthropic_final_message_after_a_cut() -> None:
    with ReferenceServer(cut_then_resume("anthropic")) as server:
        transport = AsyncRecoveringTransport("anthropic", retry=FAST_RETRY)
        client = anthropic.AsyncAnthropic(
            api_key="k",
            base_url=base_url(server, "anthropic"),
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=transport),
        )
        async with client.messages.stream(
            model=MODELS["anthropic"], max_tokens=100, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            message = await stream.get_final_message()
    assert "".join(b.text for b in message.content if b.type == "text") == REFERENCE


def _frames_of(provider: str, events: list[Any]) -> list[bytes]:
    raw = encoder_for(provider, response_id="up-1", model="m").encode(events)
    return [frame + b"\n\n" for frame in raw.split(b"\n\n") if frame]


THINK_AND_TOOL = [
    Usage(input_tokens=10, output_tokens=1),
    ReasoningDelta(text="I should look it up."),
    ReasoningDelta(signature="c2lnbmF0dXJl"),
    TextDelta(text="Looking it up."),
    ToolCallDelta(index=0, id="toolu_1", name="lookup"),
    ToolCallDelta(index=0, arguments='{"city": '),
    ToolCallDelta(index=0, arguments='"Paris"}'),
    Usage(input_tokens=10, output_tokens=20),
    Finished(reason="tool_use"),
]


def test_anthropic_thinking_signature_and_tool_call_arrive_whole_after_a_cut() -> None:
    frames = _frames_of("anthropic", THINK_AND_TOOL)
    # The first attempt breaks inside the tool call's arguments.
    cut = [sse_head(), *(SendChunk(f) for f in frames[:-5]), Reset()]
    with ReferenceServer([cut, sse_response(frames)]) as server:
        client = anthropic_client(server, strategy="restart")
        with client.messages.stream(
            model=MODELS["anthropic"], max_tokens=100, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            message = stream.get_final_message()
    kinds = [block.type for block in message.content]
    assert kinds == ["thinking", "text", "tool_use"]
    assert message.content[0].signature == "c2lnbmF0dXJl"
    assert message.content[2].input == {"city": "Paris"}
    assert message.stop_reason == "tool_use"


def test_openai_tool_call_arrives_whole_and_parses() -> None:
    events = [
        ToolCallDelta(index=0, id="call_1", name="lookup", arguments=""),
        ToolCallDelta(index=0, arguments='{"city": '),
        ToolCallDelta(index=0, arguments='"Paris"}'),
        Finished(reason="tool_calls"),
    ]
    frames = _frames_of("openai", events)
    cut = [sse_head(), *(SendChunk(f) for f in frames[:2]), Reset()]
    with ReferenceServer([cut, sse_response(frames)]) as server:
        client = openai_client(server)
        with client.chat.completions.stream(
            model="m", messages=[{"role": "user", "content": "x"}]
        ) as stream:
            completion = stream.get_final_completion()
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_openai_responses_stream_final_response_after_a_cut() -> None:
    with ReferenceServer(cut_then_resume("openai-responses")) as server:
        client = openai_client(server)
        with client.responses.stream(model="m", input="Say it.") as stream:
            response = stream.get_final_response()
    assert response.output_text == REFERENCE
    assert response.status == "completed"
