"""The progress timeout over loopback: a server that trickles keep-alives, never content.

Each server below sends bytes often enough for the idle timeout (2 s) never to
fire: SSE comments or empty deltas, every 20 ms, for up to 8 s. The client's
progress timeout is small (0.3 s); the assertions are about what ended the
attempt and what the consumer got, never about how long it took.
"""

from __future__ import annotations

from typing import Any

import pytest
from reference_frames import (
    FAST_RETRY,
    REFERENCE,
    ReferenceServer,
    Respond,
    answer,
    base_url,
    partial_of,
    preamble_frames,
    request_body,
    sse_head,
)

import streamrecover as sr
from streamrecover.core.errors import ProgressTimeoutError, StreamInterrupted
from streamrecover.core.events import Retrying
from streamrecover.testing.server import Close, SendChunk, Sleep
from streamrecover.transport import SyncTransport, Timeouts

COMMENT = b": keep-alive\n\n"
EMPTY_DELTA = (
    b'data: {"id":"c","object":"chat.completion.chunk","choices":'
    b'[{"index":0,"delta":{"content":""},"finish_reason":null}]}\n\n'
)


def trickle(keepalive: bytes, *, head: bool = True, provider: str = "openai") -> list[Any]:
    """A response that sends its preamble, then only ``keepalive`` every 20 ms (up to 8 s)."""
    steps: list[Any] = []
    if head:
        steps += [sse_head(), *(SendChunk(f) for f in preamble_frames(provider))]
    for _ in range(400):
        steps += [SendChunk(keepalive), Sleep(0.02)]
    return [*steps, Close()]


def client_for(server: ReferenceServer, provider: str = "openai", **options: Any) -> sr.Client:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("progress_timeout", 0.3)
    return sr.Client(
        provider,
        api_key="test-key",
        base_url=base_url(server, provider),
        storage=None,
        timeouts=Timeouts(idle=2.0),
        transport=SyncTransport(proxy=None),
        **options,
    )


def play(scripts: list[Any], provider: str = "openai", **options: Any) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    with ReferenceServer(scripts) as server, client_for(server, provider, **options) as client:
        with client.stream(**request_body(provider)) as stream:
            try:
                for event in stream:
                    events.append(event)
            except StreamInterrupted as exc:
                events.append(exc)
        return stream, events


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini", "openai-responses"])
def test_comments_before_any_content_end_the_attempt_and_the_retry_completes(
    provider: str,
) -> None:
    stream, events = play([trickle(COMMENT, provider=provider), [answer(provider)]], provider)
    assert stream.text == REFERENCE
    (retrying,) = [e for e in events if isinstance(e, Retrying)]
    assert isinstance(retrying.cause, ProgressTimeoutError)
    assert not retrying.resume
    assert stream.attempts == 2


def test_a_stream_that_stalls_on_keepalives_mid_answer_is_resumed_exactly() -> None:
    def then_trickle(request: Any) -> list[Any]:
        steps = answer("openai", cut_after=3, fault=Sleep(0)).build(request)
        return [*steps[:-1], *trickle(COMMENT, head=False)]

    stream, events = play([[Respond(then_trickle)], [answer("openai")]])
    assert stream.text == REFERENCE
    (retrying,) = [e for e in events if isinstance(e, Retrying)]
    assert isinstance(retrying.cause, ProgressTimeoutError)
    assert retrying.resume
    assert stream.resumes == 1


def test_an_endless_continuation_of_empty_deltas_is_bounded() -> None:
    # The first attempt is cut; every continuation only sends empty deltas.
    partials: list[str] = []

    def endless(request: Any) -> list[Any]:
        partials.append(partial_of("openai", request))
        return trickle(EMPTY_DELTA)

    cut = answer("openai", cut_after=3)
    stream, events = play(
        [[cut], [Respond(endless)], [Respond(endless)]],
        retry=sr.RetryPolicy(max_retries=0, max_resumes=2, backoff_base=0.001),
    )
    error = events[-1]
    assert isinstance(error, StreamInterrupted)
    assert isinstance(error.cause, ProgressTimeoutError)
    assert error.recoverable
    assert "resumes_exhausted" in str(error)
    assert len(partials) == 2 and all(partials)  # both were continuations
    assert REFERENCE.startswith(stream.text) and stream.text


def test_the_progress_timeout_can_be_turned_off() -> None:
    # With no progress timeout the trickle runs until the server closes: the
    # attempt then ends as a truncated stream, not as a stalled one.
    short = [sse_head(), *(SendChunk(f) for f in preamble_frames("openai"))]
    short += [SendChunk(COMMENT), Sleep(0.02)] * 30 + [Close()]
    stream, events = play([short, [answer("openai")]], progress_timeout=float("inf"))
    assert stream.text == REFERENCE
    (retrying,) = [e for e in events if isinstance(e, Retrying)]
    assert not isinstance(retrying.cause, ProgressTimeoutError)


def test_the_default_is_generous_and_documented_on_the_provider() -> None:
    client = sr.Client("openai", api_key="k", storage=None)
    provider = client.provider
    plain = {"model": "gpt-4o", "messages": []}
    thinking = {"model": "o3", "messages": [], "reasoning_effort": "high"}
    assert provider.default_progress_timeout(plain) == 300
    assert provider.default_progress_timeout(thinking) == 900
    assert "messages" in plain and "reasoning_effort" in thinking  # bodies unchanged
