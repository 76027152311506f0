"""The conformance scenarios, played through the official SDKs over RecoveringTransport.

Every scenario of the catalogue (``streamrecover/testing/scenarios``) that
applies to a format with an official SDK (OpenAI Chat and Responses via
``openai``, Anthropic via ``anthropic``) runs against the same fake provider as
``conformance/`` (it inspects every request: continuations, prefill, native
resume, the API key), with the SDK's own streaming helpers reading what the
transport hands back: ``chat.completions.create(stream=True)`` (accumulated by
``ChatCompletionStreamState``), ``responses.stream().get_final_response()`` and
``messages.stream().get_final_message()``.

A scenario that completes must give the SDK exactly the reference answer: the
text, the tool call whole (its arguments parse), the thinking with its
signature. One that gives up must make the SDK raise its own ``APIError``
family, after text that is a prefix of the answer (nothing is taken back).
The request counts and kinds the scenario expects hold too: the SDK
(``max_retries=0``) adds no attempt of its own.

Matrix: every scenario × provider on the sync client; asyncio plays every
scenario once, for one of its providers taken in turn (the async transport
differs from the sync one only in how it waits, which one provider per
scenario exercises). Scenarios whose fault only tests waiting are played with
their timeouts as written (they are short).
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")
httpx2 = pytest.importorskip("httpx2")

from openai.lib.streaming.chat import ChatCompletionStreamState  # noqa: E402

from streamrecover.core.policy import RetryBudget, RetryPolicy  # noqa: E402
from streamrecover.integrations.httpx2 import (  # noqa: E402
    AsyncRecoveringTransport,
    RecoveringTransport,
)
from streamrecover.testing.conformance import API_KEY, load_scenarios, request_body  # noqa: E402
from streamrecover.testing.conformance.checks import check_totals  # noqa: E402
from streamrecover.testing.conformance.fake import ScenarioProvider  # noqa: E402
from streamrecover.testing.conformance.scenario import Scenario  # noqa: E402
from streamrecover.testing.handler_server import HandlerServer  # noqa: E402
from streamrecover.testing.server import RecordedRequest  # noqa: E402
from streamrecover.transport import Timeouts  # noqa: E402

SDK_PROVIDERS = ("openai", "openai-responses", "anthropic")
SCENARIOS = load_scenarios()
_DEFAULT_RETRY = {"backoff_base": 0.001, "backoff_cap": 0.01}
_DEFAULT_TIMEOUTS = {"connect": 5.0, "read": 5.0, "idle": 2.0, "write": 5.0}

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


def _cases() -> list[Any]:
    cases = []
    for number, scenario in enumerate(SCENARIOS):
        providers = [p for p in SDK_PROVIDERS if p in scenario.providers]
        for provider in providers:
            if "sync" in scenario.adapters:
                cases.append(
                    pytest.param(scenario, provider, "sync", id=f"{scenario.name}-{provider}-sync")
                )
        if providers and "asyncio" in scenario.adapters:
            provider = providers[number % len(providers)]
            cases.append(
                pytest.param(
                    scenario, provider, "asyncio", id=f"{scenario.name}-{provider}-asyncio"
                )
            )
    return cases


CASES = _cases()


@dataclass
class Seen:
    """What the SDK gave the caller of one stream."""

    text: str = ""
    reasoning: str = ""
    signatures: list[str] = field(default_factory=list)
    tool_calls: list[tuple[str, str, Any]] = field(default_factory=list)
    error: BaseException | None = None


def _handler(fake: ScenarioProvider, provider: str) -> Any:
    """The fake provider's handler; for Anthropic it also accepts the key as a bearer token.

    The ``anthropic`` SDK (2.x) sends its API key as ``Authorization: Bearer``,
    which the fake provider's check (written for ``x-api-key``) does not know.
    The transport forwards the SDK's own header unchanged (asserted here), so
    the check is shown the key under the name it reads.
    """
    if provider != "anthropic":
        return fake.handle

    def handle(request: RecordedRequest, index: int) -> Any:
        if request.header("x-api-key") is None and request.header("authorization") == (
            f"Bearer {API_KEY}"
        ):
            request = replace(request, headers=(*request.headers, ("x-api-key", API_KEY)))
        return fake.handle(request, index)

    return handle


def _sdk_body(provider: str, body: dict[str, Any]) -> dict[str, Any]:
    """The scenario's body as SDK keyword arguments (fields the SDK types differently
    go through ``extra_body``, unchanged on the wire)."""
    body = {k: v for k, v in body.items() if k != "stream"}
    if provider == "anthropic" and "output_format" in body:
        body["extra_body"] = {"output_format": body.pop("output_format")}
    return body


def _transport_options(scenario: Scenario, server: HandlerServer) -> dict[str, Any]:
    options = scenario.client
    budget = options.get("budget")
    refused = scenario.refused_first
    retries = [0]

    def on_retry(event: Any, recovery_id: str | None) -> None:
        # "Refused, then up": listen once the refused attempts are spent.
        retries[0] += 1
        if retries[0] >= refused and not scenario.always_refused:
            server.listen()

    return {
        "retry": RetryPolicy(**{**_DEFAULT_RETRY, **dict(options.get("retry", {}))}),
        "strategy": options.get("strategy", "exact"),
        "storage": "memory://",
        "timeouts": Timeouts(**{**_DEFAULT_TIMEOUTS, **dict(options.get("timeouts", {}))}),
        "budget": None if budget is None else RetryBudget(**budget),
        "prefill": options.get("prefill"),
        "on_retry": on_retry,
        "rng": random.Random(1234),
    }


def _base_url(server: HandlerServer, provider: str) -> str:
    return server.url("/v1") if provider != "anthropic" else server.url()


def _sdk(provider: str, http_client: Any, base_url: str, asynchronous: bool) -> Any:
    if provider == "anthropic":
        cls = anthropic.AsyncAnthropic if asynchronous else anthropic.Anthropic
    else:
        cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return cls(api_key=API_KEY, base_url=base_url, max_retries=0, http_client=http_client)


_SDK_ERRORS = (openai.APIError, anthropic.APIError)


def _take_chat(seen: Seen, state: Any, chunk: Any) -> None:
    state.handle_chunk(chunk)
    for choice in chunk.choices:
        if choice.index == 0 and choice.delta.content:
            seen.text += choice.delta.content


def _chat_final(seen: Seen, state: Any) -> None:
    message = state.current_completion_snapshot.choices[0].message
    assert (message.content or "") == seen.text
    seen.reasoning = (message.model_extra or {}).get("reasoning_content") or ""
    for call in message.tool_calls or []:
        seen.tool_calls.append((call.id, call.function.name, json.loads(call.function.arguments)))


def _take_responses(seen: Seen, event: Any) -> None:
    if event.type == "response.output_text.delta":
        seen.text += event.delta


def _responses_final(seen: Seen, response: Any) -> None:
    assert response.output_text == seen.text
    for item in response.output:
        if item.type == "reasoning":
            seen.reasoning += "".join(s.text for s in item.summary)
        elif item.type == "function_call":
            seen.tool_calls.append((item.call_id, item.name, json.loads(item.arguments)))


def _take_anthropic(seen: Seen, event: Any) -> None:
    if event.type == "text":
        seen.text += event.text


def _anthropic_final(seen: Seen, message: Any) -> None:
    assert "".join(b.text for b in message.content if b.type == "text") == seen.text
    for block in message.content:
        if block.type == "thinking":
            seen.reasoning += block.thinking
            seen.signatures.append(block.signature)
        elif block.type == "tool_use":
            seen.tool_calls.append((block.id, block.name, block.input))


def play_sync(client: Any, provider: str, body: dict[str, Any]) -> Seen:
    seen = Seen()
    try:
        if provider == "openai":
            state = ChatCompletionStreamState()
            with client.chat.completions.create(stream=True, **body) as chunks:
                for chunk in chunks:
                    _take_chat(seen, state, chunk)
            _chat_final(seen, state)
        elif provider == "openai-responses":
            with client.responses.stream(**body) as stream:
                for event in stream:
                    _take_responses(seen, event)
                _responses_final(seen, stream.get_final_response())
        else:
            with client.messages.stream(**body) as stream:
                for event in stream:
                    _take_anthropic(seen, event)
                _anthropic_final(seen, stream.get_final_message())
    except _SDK_ERRORS as exc:
        seen.error = exc
    return seen


async def play_async(client: Any, provider: str, body: dict[str, Any]) -> Seen:
    seen = Seen()
    try:
        if provider == "openai":
            state = ChatCompletionStreamState()
            chunks = await client.chat.completions.create(stream=True, **body)
            async with chunks:
                async for chunk in chunks:
                    _take_chat(seen, state, chunk)
            _chat_final(seen, state)
        elif provider == "openai-responses":
            async with client.responses.stream(**body) as stream:
                async for event in stream:
                    _take_responses(seen, event)
                _responses_final(seen, await stream.get_final_response())
        else:
            async with client.messages.stream(**body) as stream:
                async for event in stream:
                    _take_anthropic(seen, event)
                _anthropic_final(seen, await stream.get_final_message())
    except _SDK_ERRORS as exc:
        seen.error = exc
    return seen


def run_sync(
    scenario: Scenario, provider: str, server: HandlerServer, body: dict[str, Any]
) -> list[Seen]:
    route = "anthropic" if provider == "anthropic" else "openai"
    transport = RecoveringTransport(route, **_transport_options(scenario, server))
    with httpx2.Client(transport=transport, timeout=30) as http_client:
        client = _sdk(provider, http_client, _base_url(server, provider), asynchronous=False)
        if scenario.streams == 1:
            return [play_sync(client, provider, body)]
        results: list[Seen] = [Seen() for _ in range(scenario.streams)]

        def worker(position: int) -> None:
            results[position] = play_sync(client, provider, body)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(scenario.streams)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return results


def run_async(
    scenario: Scenario, provider: str, server: HandlerServer, body: dict[str, Any]
) -> list[Seen]:
    route = "anthropic" if provider == "anthropic" else "openai"

    async def main() -> list[Seen]:
        transport = AsyncRecoveringTransport(route, **_transport_options(scenario, server))
        async with httpx2.AsyncClient(transport=transport, timeout=30) as http_client:
            client = _sdk(provider, http_client, _base_url(server, provider), asynchronous=True)
            plays = [play_async(client, provider, body) for _ in range(scenario.streams)]
            return list(await asyncio.gather(*plays))

    return asyncio.run(main())


def _failures(scenario: Scenario, provider: str, fake: ScenarioProvider, seen: Seen) -> list[str]:
    expect = scenario.expectations(provider)
    reference = fake.reference
    wanted = expect.get("outcome", "completed")
    outcome = "completed" if seen.error is None else "interrupted"
    if outcome != wanted:
        detail = f" ({type(seen.error).__name__}: {seen.error})" if seen.error else ""
        return [f"outcome {outcome}{detail}, expected {wanted}"]
    if seen.error is not None:
        if not reference.text.startswith(seen.text):
            return [f"the SDK got text that is not a prefix of the answer: {seen.text[-60:]!r}"]
        return []
    failures = []
    if seen.text != reference.text:
        failures.append(f"text {seen.text[:60]!r}..., expected {reference.text[:60]!r}...")
    if reference.reasoning and provider != "openai" and seen.reasoning != reference.reasoning:
        failures.append(f"reasoning {seen.reasoning!r}, expected {reference.reasoning!r}")
    if reference.reasoning and provider == "anthropic" and not all(seen.signatures):
        failures.append(f"signatures {seen.signatures!r}: a thinking block lost its signature")
    call = reference.tool_call
    want = [] if call is None else [(call.id, call.name, json.loads(call.arguments))]
    if seen.tool_calls != want:
        failures.append(f"tool calls {seen.tool_calls!r}, expected {want!r}")
    return failures


@pytest.mark.parametrize(("scenario", "provider", "adapter"), CASES)
def test_scenario_through_the_sdk(scenario: Scenario, provider: str, adapter: str) -> None:
    body = request_body(provider, scenario.request)
    fake = ScenarioProvider(scenario, provider, body)
    listening = scenario.refused_first == 0 and not scenario.always_refused
    with HandlerServer(_handler(fake, provider), listening=listening) as server:
        run = run_sync if adapter == "sync" else run_async
        played = run(scenario, provider, server, _sdk_body(provider, body))
        problems = [f"fake server: {error}" for error in server.errors]
        requests = len(server.requests)
    for index, seen in enumerate(played):
        prefix = f"stream {index}: " if len(played) > 1 else ""
        problems += [prefix + f for f in _failures(scenario, provider, fake, seen)]
    problems += check_totals(scenario, provider, fake, [], requests)
    assert not problems, f"{scenario.description}\n" + "\n".join(problems)
