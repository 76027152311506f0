"""Run one scenario against the real client (sync, asyncio or trio) and check it."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.events import Retrying
from streamrecover.testing.conformance.checks import check_stream, check_totals
from streamrecover.testing.conformance.fake import ScenarioProvider
from streamrecover.testing.conformance.observed import Observed, Result
from streamrecover.testing.conformance.scenario import (
    API_KEY,
    Scenario,
    request_body,
)
from streamrecover.testing.handler_server import HandlerServer

#: Fast backoff and short timeouts: scenarios test decisions, not patience.
_DEFAULT_RETRY = {"backoff_base": 0.001, "backoff_cap": 0.01}
_DEFAULT_TIMEOUTS = {"connect": 5.0, "read": 5.0, "idle": 2.0, "write": 5.0}


def _policy(options: Mapping[str, Any]) -> Any:
    from streamrecover.core.policy import RetryPolicy

    return RetryPolicy(**{**_DEFAULT_RETRY, **dict(options.get("retry", {}))})


def _client_options(
    scenario: Scenario, server: HandlerServer, provider: str, storage: Any, seed: int
) -> dict[str, Any]:
    from streamrecover.core.policy import RetryBudget
    from streamrecover.transport import Timeouts

    options = scenario.client
    base = server.url("/v1") if provider in ("openai", "openai-responses") else server.url()
    budget = options.get("budget")
    refused = scenario.refused_first
    retries = [0]

    def on_retry(event: Retrying, recovery_id: str | None) -> None:
        # "Refused, then up": start listening once the refused attempts are spent.
        retries[0] += 1
        if retries[0] >= refused and not scenario.always_refused:
            server.listen()

    return {
        "api_key": API_KEY,
        "base_url": base,
        "retry": _policy(options),
        "strategy": options.get("strategy", "exact"),
        "storage": storage,
        "timeouts": Timeouts(**{**_DEFAULT_TIMEOUTS, **dict(options.get("timeouts", {}))}),
        "budget": None if budget is None else RetryBudget(**budget),
        "prefill": options.get("prefill"),
        "on_retry": on_retry,
        "rng": random.Random(seed),
        "checkpoint_interval": float(options.get("checkpoint_interval", 0.25)),
    }


def _run_sync(
    client_options: dict[str, Any], body: dict[str, Any], streams: int, transport: Any
) -> list[Observed]:
    from streamrecover.client import Client

    extra = {} if transport is None else {"transport": transport}
    with Client(client_options.pop("provider"), **client_options, **extra) as client:

        def one() -> Observed:
            observed = Observed()
            stream = client.stream(**body)
            try:
                with stream:
                    for event in stream:
                        observed.feed(event)
            except StreamInterrupted as exc:
                observed.error = exc
            _finish(observed, stream)
            return observed

        if streams == 1:
            return [one()]
        results: list[Observed] = [Observed() for _ in range(streams)]

        def worker(position: int) -> None:
            results[position] = one()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(streams)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return results


def _run_async(
    client_options: dict[str, Any], body: dict[str, Any], streams: int, transport: Any, backend: str
) -> list[Observed]:
    import anyio

    from streamrecover.client import AsyncClient

    extra = {} if transport is None else {"transport": transport}
    results: list[Observed] = [Observed() for _ in range(streams)]

    async def main() -> None:
        async with AsyncClient(client_options.pop("provider"), **client_options, **extra) as client:

            async def one(position: int) -> None:
                observed = results[position]
                stream = client.stream(**body)
                try:
                    async with stream:
                        async for event in stream:
                            observed.feed(event)
                except StreamInterrupted as exc:
                    observed.error = exc
                _finish(observed, stream)

            async with anyio.create_task_group() as group:
                for position in range(streams):
                    group.start_soon(one, position)

    anyio.run(main, backend=backend)
    return results


def _finish(observed: Observed, stream: Any) -> None:
    observed.stream_text = stream.text
    observed.recovery_id = stream.recovery_id
    observed.attempts = stream.attempts
    observed.resumes = stream.resumes
    observed.overlap_removed = stream.overlap_removed


def run_scenario(
    scenario: Scenario,
    *,
    provider: str,
    adapter: str = "sync",
    storage_url: str = "memory://",
    transport_factory: Callable[[str], Any] | None = None,
    seed: int = 1234,
) -> Result:
    """Play ``scenario`` once and check everything it promises.

    Args:
        scenario: the scenario.
        provider: one of the scenario's providers.
        adapter: ``sync``, ``asyncio`` or ``trio``.
        storage_url: where the client records the stream (opened here and closed
            at the end, so that the record can be read back).
        transport_factory: ``factory(adapter)`` returns the transport to use (a
            ``SyncTransport``-like object for ``sync``, an async one otherwise);
            None uses the client's default.
        seed: seeds the client's jitter rng, so that every run is repeatable.

    Returns:
        The :class:`Result`; its ``failures`` name every check that did not hold
        (an exception raised by the library is reported as a failure too).
    """
    from streamrecover.storage import open_storage

    started = time.monotonic()
    body = request_body(provider, scenario.request)
    fake = ScenarioProvider(scenario, provider, body)
    failures: list[str] = []
    observed: list[Observed] = []
    storage = open_storage(storage_url)
    try:
        listening = scenario.refused_first == 0 and not scenario.always_refused
        with HandlerServer(fake.handle, listening=listening) as server:
            options = _client_options(scenario, server, provider, storage, seed)
            options["provider"] = provider
            transport = transport_factory(adapter) if transport_factory is not None else None
            try:
                if adapter == "sync":
                    observed = _run_sync(options, body, scenario.streams, transport)
                else:
                    observed = _run_async(options, body, scenario.streams, transport, adapter)
            except Exception as exc:  # the library raised what it should not
                failures.append(f"unexpected {type(exc).__name__}: {exc}")
            failures.extend(f"fake server: {error}" for error in server.errors)
            requests = len(server.requests)
        for index, stream in enumerate(observed):
            prefix = f"stream {index}: " if len(observed) > 1 else ""
            failures.extend(
                prefix + f for f in check_stream(scenario, provider, fake, stream, storage)
            )
        failures.extend(check_totals(scenario, provider, fake, observed, requests))
    finally:
        storage.close()
    first = observed[0] if observed else Observed()
    return Result(
        scenario=scenario.name,
        provider=provider,
        adapter=adapter,
        storage=storage_url.split(":", 1)[0],
        failures=tuple(failures),
        outcome="interrupted" if first.error is not None else "completed",
        attempts=first.attempts,
        resumes=first.resumes,
        seconds=time.monotonic() - started,
    )
