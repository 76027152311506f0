"""The SDK's own ``max_retries`` on top of RecoveringTransport: no second round of attempts.

The transport applies its RetryPolicy to every streaming request. What it hands
back after giving up must not be tried again by the SDK (each attempt may be
billed): an error response carries ``x-should-retry: false``, which both SDKs
obey; a connection failure is remembered, and the SDK's retry of it (marked by
``x-stainless-retry-count``) is refused without being sent. The upstream is an
httpx2 ``MockTransport`` that counts what reaches it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")
httpx2 = pytest.importorskip("httpx2")

from sdk_accumulate import BASE_URLS, MODELS, PROMPT  # noqa: E402

import streamrecover as sr  # noqa: E402
from streamrecover.integrations.httpx2 import RecoveringTransport  # noqa: E402

#: Three attempts per request, quickly.
POLICY = sr.RetryPolicy(max_retries=2, max_resumes=2, backoff_base=0.0001, backoff_cap=0.0002)
SDK_RETRIES = 3
_ERRORS = {
    "openai": '{"error": {"message": "overloaded", "type": "server_error"}}',
    "anthropic": (
        '{"type": "error", "error": {"type": "overloaded_error", "message": "overloaded"}}'
    ),
}

# The SDKs build a large heap of pydantic models (at import and lazily); the
# suite collects garbage after every test (leak check). What survives is frozen,
# so that each check scans only the last test's objects: milliseconds instead of
# a third of a second per test.
gc.freeze()


@pytest.fixture(autouse=True)
def collect_leaks() -> Any:
    # Overrides the suite's: the same collection (a leak still fails the test
    # that made it), then the survivors frozen.
    yield
    gc.collect()
    gc.freeze()


class Upstream:
    """Counts the requests that reach the provider and answers each with ``answer``."""

    def __init__(self, answer: Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.requests: list[httpx2.Request] = []
        self._answer = answer

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self._answer(request)


def sdk(provider: str, upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> Any:
    transport = RecoveringTransport(
        provider, inner=httpx2.MockTransport(upstream), retry=POLICY, storage=None
    )
    cls = anthropic.Anthropic if provider == "anthropic" else openai.OpenAI
    client = cls(
        api_key="sk-test",
        base_url=BASE_URLS[provider],
        max_retries=SDK_RETRIES,
        http_client=httpx2.Client(transport=transport),
    )
    # The SDK's own backoff would make this test sleep for seconds.
    monkeypatch.setattr(client, "_calculate_retry_timeout", lambda *args, **kwargs: 0.0)
    return client


def stream_once(client: Any, provider: str) -> None:
    if provider == "anthropic":
        with client.messages.stream(
            model=MODELS[provider], max_tokens=10, messages=PROMPT
        ) as stream:
            stream.get_final_message()
    else:
        chunks = client.chat.completions.create(
            model=MODELS[provider], messages=PROMPT, stream=True
        )
        with chunks:
            for _ in chunks:
                pass


def errors(provider: str) -> Any:
    return anthropic if provider == "anthropic" else openai


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_an_overload_the_transport_gave_up_on_is_not_retried_by_the_sdk(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = Upstream(
        lambda request: httpx2.Response(
            529 if provider == "anthropic" else 503,
            headers={"content-type": "application/json"},
            content=_ERRORS[provider].encode(),
        )
    )
    with (
        sdk(provider, upstream, monkeypatch) as client,
        pytest.raises(errors(provider).APIStatusError) as caught,
    ):
        stream_once(client, provider)
    # The transport's three attempts, not 3 x (1 + the SDK's 3 retries).
    assert len(upstream.requests) == POLICY.max_retries + 1
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert "overloaded" in str(caught.value)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_connection_failure_the_transport_gave_up_on_is_not_sent_again(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    upstream = Upstream(refuse)
    with sdk(provider, upstream, monkeypatch) as client:
        with pytest.raises(errors(provider).APIConnectionError) as caught:
            stream_once(client, provider)
        assert len(upstream.requests) == POLICY.max_retries + 1
        # The SDK did retry (its retry count went up): the transport refused it unsent.
        assert "not sent" in str(caught.value.__cause__)
        # A new call of the caller's (retry count 0) is sent again.
        with pytest.raises(errors(provider).APIConnectionError):
            stream_once(client, provider)
        assert len(upstream.requests) == 2 * (POLICY.max_retries + 1)


def test_the_sdk_retry_count_header_reaches_the_transport_and_no_further(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    upstream = Upstream(refuse)
    with sdk("openai", upstream, monkeypatch) as client, pytest.raises(openai.APIConnectionError):
        stream_once(client, "openai")
    # Every attempt that went out was the SDK's first try, made by the transport.
    assert {r.headers.get("x-stainless-retry-count") for r in upstream.requests} == {"0"}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_401_is_one_request(provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = Upstream(
        lambda request: httpx2.Response(
            401, headers={"content-type": "application/json"}, content=_ERRORS[provider].encode()
        )
    )
    with (
        sdk(provider, upstream, monkeypatch) as client,
        pytest.raises(errors(provider).AuthenticationError),
    ):
        stream_once(client, provider)
    assert len(upstream.requests) == 1
