"""End-to-end tests of the AsyncClient over real loopback sockets, on asyncio and trio.

The same fake servers as the sync tests; each test runs once per anyio backend
(the root conftest pins ``anyio_backend`` to both).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from reference_frames import (
    FAST_RETRY,
    FINISH_REASONS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    PROVIDERS,
    REFERENCE,
    Outcome,
    Received,
    ReferenceServer,
    answer,
    base_url,
    partial_of,
    prefix,
    request_body,
)

import streamrecover as sr
from streamrecover.core.errors import HTTPStatusError, StreamInterrupted, TransportError
from streamrecover.core.events import Resumed, Retrying, Rewind, TextDelta
from streamrecover.testing.server import Close, Reset, Stall, Step, http_response, unused_port
from streamrecover.transport import AsyncTransport, Timeouts

pytestmark = pytest.mark.anyio

SHORT_IDLE = Timeouts(idle=0.2)


def client_for(server: ReferenceServer, provider: str, **options: Any) -> sr.AsyncClient:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("api_key", "test-key")
    return sr.AsyncClient(provider, base_url=base_url(server, provider), **options)


async def consume(stream: sr.AsyncStream, received: Received | None = None) -> Received:
    received = received if received is not None else Received()
    async for event in stream:
        received.feed(event)
    return received


async def run(
    scripts: list[Any],
    provider: str,
    *,
    received: Received | None = None,
    ssl_context: Any = None,
    **options: Any,
) -> Outcome:
    """Stream one answer from a server playing ``scripts``; a give-up is returned, not raised."""
    received = received if received is not None else Received()
    error = None
    with ReferenceServer(scripts, ssl_context=ssl_context) as server:
        client = client_for(server, provider, **options)
        async with client, client.stream(**request_body(provider)) as stream:
            try:
                await consume(stream, received)
            except StreamInterrupted as exc:
                error = exc
            record = None
            if client.storage is not None and stream.recovery_id is not None:
                record = client.storage.get(stream.recovery_id)
        requests = server.requests
    return Outcome(
        provider=provider,
        stream=stream,
        received=received,
        error=error,
        record=record,
        requests=requests,
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_normal_stream(provider: str) -> None:
    outcome = await run([[answer(provider)]], provider)
    stream, record = outcome.stream, outcome.record
    assert outcome.received.text == stream.text == REFERENCE
    assert stream.completed
    assert (stream.attempts, stream.resumes) == (1, 0)
    assert stream.finish_reason == FINISH_REASONS[provider]
    assert (stream.usage.input_tokens, stream.usage.output_tokens) == (
        INPUT_TOKENS,
        OUTPUT_TOKENS,
    )
    assert record is not None
    assert (record.status, record.text) == ("completed", REFERENCE)


async def test_until_done_returns_the_text() -> None:
    with ReferenceServer([[answer("gemini")]]) as server:
        client = client_for(server, "gemini")
        async with client, client.stream(**request_body("gemini")) as stream:
            assert await stream.until_done() == REFERENCE


# Regression (was a bug, fixed).
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_a_completed_trio_stream_closes_its_body_generator(
    recwarn: pytest.WarningsRecorder,
) -> None:
    outcome = await run([[answer("openai")]], "openai")
    assert outcome.stream.text == REFERENCE
    leaked = [str(w.message) for w in recwarn if "AsyncResponse.aiter_bytes" in str(w.message)]
    assert leaked == []


# ---------------------------------------------------------------------------
# Faults before the first byte


async def test_refused_connection_gives_up_after_retries() -> None:
    retry = sr.RetryPolicy(max_retries=2, backoff_base=0.001, backoff_cap=0.005)
    url = f"http://127.0.0.1:{unused_port()}"
    async with sr.AsyncClient("anthropic", base_url=url, api_key="k", retry=retry) as client:
        stream = client.stream(**request_body("anthropic"))
        with pytest.raises(StreamInterrupted) as caught:
            async with stream:
                await consume(stream)
        assert client.storage is not None and stream.recovery_id is not None
        record = client.storage.get(stream.recovery_id)
    error = caught.value
    assert error.recoverable is True
    assert isinstance(error.cause, TransportError)
    assert error.cause.kind == "connect_refused"
    assert error.attempts == 3
    assert error.recovery_id == stream.recovery_id
    assert record.status == "interrupted"


@pytest.mark.parametrize("provider", ["openai-responses", "gemini"])
async def test_reset_before_headers_then_success(provider: str) -> None:
    outcome = await run([[Reset()], [answer(provider)]], provider)
    assert outcome.received.text == REFERENCE
    assert (outcome.stream.attempts, outcome.stream.resumes) == (2, 0)
    (retrying,) = outcome.received.of_type(Retrying)
    assert isinstance(retrying.cause, TransportError) and not retrying.resume
    assert outcome.partials == ["", ""]


async def test_529_with_retry_after_zero_then_success() -> None:
    overloaded = json.dumps({"type": "error", "error": {"type": "overloaded_error"}})
    first = http_response(529, overloaded, headers=[("retry-after", "0")])
    outcome = await run([first, [answer("anthropic")]], "anthropic")
    assert outcome.received.text == REFERENCE
    (retrying,) = outcome.received.of_type(Retrying)
    assert isinstance(retrying.cause, HTTPStatusError) and retrying.cause.status == 529


# ---------------------------------------------------------------------------
# Faults after partial output

FAULT_CASES: dict[str, tuple[Step, str]] = {
    "reset": (Reset(), "openai"),
    "close": (Close(), "anthropic"),
    "stall": (Stall(max_seconds=10), "gemini"),
    "reset-responses": (Reset(), "openai-responses"),
}


@pytest.mark.parametrize("case", sorted(FAULT_CASES))
async def test_fault_after_partial_output_resumes_exactly(case: str) -> None:
    fault, provider = FAULT_CASES[case]
    gate = threading.Event()
    delivered = prefix(5)
    first = answer(provider, cut_after=5, fault=fault, gate=gate)
    outcome = await run(
        [[first], [answer(provider, overlap_words=2)]],
        provider,
        received=Received(gate, gate_at=len(delivered)),
        timeouts=SHORT_IDLE,
    )
    stream, record = outcome.stream, outcome.record
    assert outcome.received.text == stream.text == REFERENCE
    assert (stream.attempts, stream.resumes) == (2, 1)
    assert outcome.received.of_type(Rewind) == []
    assert outcome.partials == ["", delivered]
    assert record is not None
    assert (record.status, record.text) == ("completed", REFERENCE)


# ---------------------------------------------------------------------------
# text_stream


async def test_text_stream_exact_yields_text_at_once() -> None:
    stalled = answer("anthropic", cut_after=3, fault=Stall(max_seconds=10))
    retry = sr.RetryPolicy(max_retries=0, max_resumes=0)
    shown = ""
    with ReferenceServer([[stalled]]) as server:
        client = client_for(server, "anthropic", retry=retry, timeouts=Timeouts(idle=5))
        async with client, client.stream(**request_body("anthropic")) as stream:
            async for chunk in stream.text_stream:
                shown += chunk
                if shown == prefix(3):
                    break
        assert server.wait_for_disconnect(0)
    assert shown == prefix(3)


# Regression (was a bug, fixed).
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_breaking_out_of_text_stream_leaves_nothing_unclosed(
    recwarn: pytest.WarningsRecorder,
) -> None:
    stalled = answer("openai", cut_after=3, fault=Stall(max_seconds=10))
    with ReferenceServer([[stalled]]) as server:
        client = client_for(server, "openai")
        async with client, client.stream(**request_body("openai")) as stream:
            async for _chunk in stream.text_stream:
                break
        assert server.wait_for_disconnect(0)
    leaked = [str(w.message) for w in recwarn if "AsyncStream.text_stream" in str(w.message)]
    assert leaked == []


@pytest.mark.parametrize("strategy", ["exact", "paragraph", "restart"])
async def test_text_stream_never_shows_rolled_back_text(strategy: str) -> None:
    first = answer("openai", cut_after=9, fault=Close())
    with ReferenceServer([[first], [answer("openai", overlap_words=1)]]) as server:
        client = client_for(server, "openai", strategy=strategy)
        async with client, client.stream(**request_body("openai")) as stream:
            chunks = [chunk async for chunk in stream.text_stream]
        requests = server.requests
    assert "".join(chunks) == stream.text == REFERENCE
    assert stream.resumes == 1
    expected = {"exact": prefix(9), "paragraph": REFERENCE.split("\n\n")[0] + "\n\n"}
    assert partial_of("openai", requests[1]) == expected.get(strategy, "")


# ---------------------------------------------------------------------------
# Cancellation


async def test_leaving_the_block_closes_the_connection_and_marks_cancelled() -> None:
    stalled = answer("openai", cut_after=3, fault=Stall(max_seconds=10))
    with ReferenceServer([[stalled]]) as server:
        async with client_for(server, "openai") as client:
            async with client.stream(**request_body("openai")) as stream:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        break
            assert server.wait_for_disconnect(0)
            assert client.storage is not None and stream.recovery_id is not None
            record = client.storage.get(stream.recovery_id)
    assert (record.status, record.text) == ("cancelled", prefix(1))


async def test_cancel_scope_closes_the_connection_and_marks_cancelled() -> None:
    stalled = answer("anthropic", cut_after=2, fault=Stall(max_seconds=10))
    with ReferenceServer([[stalled]]) as server:
        async with client_for(server, "anthropic") as client:
            async with client.stream(**request_body("anthropic")) as stream:
                with anyio.CancelScope() as scope:
                    async for event in stream:
                        if isinstance(event, TextDelta) and stream.text == prefix(2):
                            # The next wait (the stalled read) is cancelled.
                            scope.cancel()
            assert scope.cancelled_caught
            assert server.wait_for_disconnect(0)
            assert client.storage is not None and stream.recovery_id is not None
            record = client.storage.get(stream.recovery_id)
    assert (record.status, record.text) == ("cancelled", prefix(2))


async def test_cancelling_the_consuming_task_closes_and_marks_cancelled() -> None:
    stalled = answer("gemini", cut_after=2, fault=Stall(max_seconds=10))
    got_text = anyio.Event()
    holder: dict[str, sr.AsyncStream] = {}

    async def consumer(client: sr.AsyncClient) -> None:
        async with client.stream(**request_body("gemini")) as stream:
            holder["stream"] = stream
            async for event in stream:
                if isinstance(event, TextDelta):
                    got_text.set()

    with ReferenceServer([[stalled]]) as server:
        async with client_for(server, "gemini") as client:
            async with anyio.create_task_group() as group:
                group.start_soon(consumer, client)
                await got_text.wait()
                group.cancel_scope.cancel()
            assert server.wait_for_disconnect(0)
            stream = holder["stream"]
            assert client.storage is not None and stream.recovery_id is not None
            record = client.storage.get(stream.recovery_id)
    assert record.status == "cancelled"
    assert REFERENCE.startswith(record.text) and record.text
    assert not stream.completed


async def test_move_on_after_a_stalled_server_marks_cancelled() -> None:
    # The server goes silent; the caller's own time limit ends the stream
    # well before the client's idle timeout would.
    stalled = answer("openai-responses", cut_after=1, fault=Stall(max_seconds=10))
    with ReferenceServer([[stalled]]) as server:
        async with client_for(server, "openai-responses", timeouts=Timeouts(idle=30)) as client:
            async with client.stream(**request_body("openai-responses")) as stream:
                with anyio.move_on_after(0.3) as scope:
                    await consume(stream)
            assert scope.cancelled_caught
            assert server.wait_for_disconnect(0)
            assert client.storage is not None and stream.recovery_id is not None
            assert client.storage.get(stream.recovery_id).status == "cancelled"


# ---------------------------------------------------------------------------
# Giving up, and the hooks


async def test_401_gives_up_at_once_and_marks_failed() -> None:
    calls: list[tuple[str, object, str | None]] = []
    body = json.dumps({"type": "error", "error": {"type": "authentication_error"}})
    outcome = await run(
        [http_response(401, body)],
        "anthropic",
        on_retry=lambda event, rid: calls.append(("retry", event, rid)),
        on_give_up=lambda error, rid: calls.append(("give_up", error, rid)),
    )
    error, record = outcome.error, outcome.record
    assert error is not None and record is not None
    assert error.recoverable is False
    assert isinstance(error.cause, HTTPStatusError) and error.cause.status == 401
    assert error.attempts == 1
    assert record.status == "failed"
    assert calls == [("give_up", error, outcome.stream.recovery_id)]


async def test_resume_hook_gets_the_event_and_the_recovery_id() -> None:
    resumed: list[tuple[Resumed, str | None]] = []
    gate = threading.Event()
    first = answer("openai", cut_after=3, fault=Reset(), gate=gate)
    outcome = await run(
        [[first], [answer("openai")]],
        "openai",
        received=Received(gate, gate_at=len(prefix(3))),
        on_resume=lambda event, rid: resumed.append((event, rid)),
    )
    assert outcome.stream.text == REFERENCE
    assert resumed == [(Resumed(strategy="exact", attempt=2), outcome.stream.recovery_id)]


# ---------------------------------------------------------------------------
# TLS


async def test_tls_with_the_test_ca_succeeds(server_ssl_context: Any, ca_file: str) -> None:
    outcome = await run(
        [[answer("gemini")]],
        "gemini",
        ssl_context=server_ssl_context,
        transport=AsyncTransport(ca_file=ca_file),
    )
    assert outcome.error is None
    assert outcome.received.text == REFERENCE


async def test_tls_with_the_default_trust_store_refuses(server_ssl_context: Any) -> None:
    outcome = await run([[answer("gemini")]], "gemini", ssl_context=server_ssl_context)
    error = outcome.error
    assert error is not None
    assert isinstance(error.cause, TransportError)
    assert error.cause.kind == "tls_certificate"
    assert (error.recoverable, error.attempts) == (False, 1)


# ---------------------------------------------------------------------------
# Resume from storage


async def test_async_resume_from_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/streams.db"
    never = sr.RetryPolicy(max_retries=0, max_resumes=0)
    cut = answer("anthropic", cut_after=6, fault=Close())
    with ReferenceServer([[cut], [answer("anthropic", overlap_words=2)]]) as server:
        async with client_for(server, "anthropic", storage=url, retry=never) as client:
            stream = client.stream(**request_body("anthropic"))
            with pytest.raises(StreamInterrupted) as caught:
                async with stream:
                    await consume(stream)
            recovery_id = caught.value.recovery_id
            assert recovery_id is not None
            async with client.resume(recovery_id, replay=True) as resumed:
                received = await consume(resumed)
            assert client.storage is not None
            record = client.storage.get(recovery_id)
        requests = server.requests
    assert received.text == resumed.text == REFERENCE
    assert partial_of("anthropic", requests[1]) == prefix(6)
    assert (record.status, record.text) == ("completed", REFERENCE)
