"""Fallback scenarios: a chain of fake providers; the primary fails, another finishes the answer.

A fallback scenario (one JSON file in ``streamrecover/testing/scenarios/fallback/``)
names the request (the neutral options of
:func:`~streamrecover.testing.conformance.scenario.request_body`), one entry
per server of the chain (``attempts`` and ``then``, as in ordinary
scenarios; the first server is the primary, the others its fallbacks in
order), the client's options and what must come out. It is played for every
chain of :data:`CHAINS` (or the scenario's own ``chains``), each provider on
its own :class:`~streamrecover.testing.handler_server.HandlerServer` with its
own key, with :class:`~streamrecover.testing.conformance.fallback_fake.ChainServer`
checking every request for its own format.

Fields of ``expect``: ``outcome`` (``completed`` or ``interrupted``),
``served_by`` (the index of the server that finishes the answer),
``fell_back`` (how many ``FellBack`` events), ``requests`` (per server, the
kinds of request it received: ``original`` or ``continuation``), ``reason``
(the ``StreamInterrupted.reason``), ``names_every_provider`` (the error names
every provider that was tried), ``events`` (``include`` / ``exclude``
event type names).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.events import Completed, Event, FellBack, ToolCallDelta
from streamrecover.testing.conformance.fallback_fake import ChainServer
from streamrecover.testing.conformance.observed import Observed, Result
from streamrecover.testing.conformance.scenario import ADAPTERS, DEFAULT_SCENARIO_DIR, request_body
from streamrecover.testing.fakeprovider import (
    JSON_ANSWER_TEXT,
    PROVIDERS,
    REFERENCE_TEXT,
    TOOL_CALL,
    Answer,
)
from streamrecover.testing.handler_server import HandlerServer

__all__ = [
    "CHAINS",
    "FALLBACK_SCENARIO_DIR",
    "FallbackScenario",
    "load_fallback_scenarios",
    "run_fallback_scenario",
]

#: Where the fallback scenarios live (shipped in the package).
FALLBACK_SCENARIO_DIR = DEFAULT_SCENARIO_DIR / "fallback"
#: The chains every scenario runs on: each provider is a primary once and a
#: first fallback once; a scenario with n servers uses the first n of each.
CHAINS: tuple[tuple[str, ...], ...] = (
    ("anthropic", "openai", "gemini"),
    ("openai", "anthropic", "openai-responses"),
    ("gemini", "openai-responses", "anthropic"),
    ("openai-responses", "gemini", "openai"),
)
_RETRY = {"backoff_base": 0.001, "backoff_cap": 0.01}
_TIMEOUTS = {"connect": 5.0, "read": 5.0, "idle": 2.0, "write": 5.0}


@dataclass(frozen=True, slots=True, kw_only=True)
class FallbackScenario:
    """One fallback scenario file, as loaded (see the module docstring)."""

    name: str
    description: str
    servers: tuple[Mapping[str, Any], ...]
    request: Mapping[str, Any] = field(default_factory=dict)
    client: Mapping[str, Any] = field(default_factory=dict)
    chains: tuple[tuple[str, ...], ...] = CHAINS
    expect: Mapping[str, Any] = field(default_factory=dict)
    adapters: tuple[str, ...] = ADAPTERS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> FallbackScenario:
        """Build one from its JSON object. Raises ValueError for a malformed one."""
        known = {"name", "description", "servers", "request", "client", "chains", "expect",
                 "adapters"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{source}: unknown fallback scenario fields {sorted(unknown)}")
        servers = tuple(dict(server) for server in data.get("servers", ()))
        if not isinstance(data.get("name"), str) or len(servers) < 2:
            raise ValueError(f"{source}: a fallback scenario needs a name and 2+ servers")
        chains = tuple(tuple(chain) for chain in data.get("chains", CHAINS))
        for chain in chains:
            if len(chain) < len(servers) or not set(chain) <= set(PROVIDERS):
                raise ValueError(f"{source}: chain {chain} does not cover the servers")
        adapters = tuple(data.get("adapters", ADAPTERS))
        if not set(adapters) <= set(ADAPTERS):
            raise ValueError(f"{source}: unknown adapters in {adapters}")
        return cls(
            name=data["name"],
            description=str(data.get("description", "")),
            servers=servers,
            request=dict(data.get("request", {})),
            client=dict(data.get("client", {})),
            chains=chains,
            expect=dict(data.get("expect", {})),
            adapters=adapters,
        )

    def answer(self, provider: str) -> Answer:
        """What ``provider``'s fake model answers (every model gives the same answer)."""
        return Answer(
            text=JSON_ANSWER_TEXT if self.request.get("json") else REFERENCE_TEXT,
            tool_call=TOOL_CALL if self.request.get("tools") else None,
            model=request_body(provider, self.request).get("model", "fake-model"),
        )


def load_fallback_scenarios(directory: str | Path | None = None) -> list[FallbackScenario]:
    """Load every ``*.json`` fallback scenario of ``directory``, sorted by name."""
    folder = Path(directory) if directory is not None else FALLBACK_SCENARIO_DIR
    scenarios = [
        FallbackScenario.from_dict(json.loads(path.read_text("utf-8")), source=path.name)
        for path in sorted(folder.glob("*.json"))
    ]
    return sorted(scenarios, key=lambda scenario: scenario.name)


@dataclass(slots=True, kw_only=True)
class _Seen:
    observed: Observed = field(default_factory=Observed)
    fell_back_at: list[tuple[FellBack, str]] = field(default_factory=list)
    provider: str = ""
    model: str = ""
    providers: tuple[Any, ...] = ()

    def feed(self, event: Event) -> None:
        self.observed.feed(event)
        if isinstance(event, FellBack):
            self.fell_back_at.append((event, self.observed.text))


def _base_url(provider: str, server: HandlerServer) -> str:
    return server.url("/v1") if provider in ("openai", "openai-responses") else server.url()


def _drive(
    adapter: str, options: dict[str, Any], primary: str, body: dict[str, Any]
) -> _Seen:
    seen = _Seen()

    def finish(stream: Any) -> None:
        observed = seen.observed
        observed.stream_text = stream.text
        observed.recovery_id = stream.recovery_id
        observed.attempts = stream.attempts
        observed.resumes = stream.resumes
        seen.provider, seen.model, seen.providers = stream.provider, stream.model, stream.providers

    if adapter == "sync":
        from streamrecover.client import Client

        with Client(primary, **options) as client:
            stream = client.stream(**body)
            try:
                with stream:
                    for event in stream:
                        seen.feed(event)
            except StreamInterrupted as exc:
                seen.observed.error = exc
            finish(stream)
        return seen

    import anyio

    from streamrecover.client import AsyncClient

    async def main() -> None:
        async with AsyncClient(primary, **options) as client:
            stream = client.stream(**body)
            try:
                async with stream:
                    async for event in stream:
                        seen.feed(event)
            except StreamInterrupted as exc:
                seen.observed.error = exc
            finish(stream)

    anyio.run(main, backend=adapter)
    return seen


def run_fallback_scenario(
    scenario: FallbackScenario,
    *,
    chain: Sequence[str],
    adapter: str = "sync",
    storage_url: str = "memory://",
    seed: int = 1234,
) -> Result:
    """Play ``scenario`` on ``chain`` (primary first) with ``adapter`` and check it.

    Returns a :class:`Result` (``provider`` is the chain, joined by ``>``)
    whose ``failures`` list every check that did not hold.
    """
    from streamrecover.core.policy import RetryPolicy
    from streamrecover.fallback import Fallback
    from streamrecover.storage import open_storage
    from streamrecover.transport import Timeouts

    started = time.monotonic()
    providers = list(chain[: len(scenario.servers)])
    strategy = str(scenario.client.get("strategy", "exact"))
    fakes = []
    for index, (provider, steps) in enumerate(zip(providers, scenario.servers, strict=True)):
        fakes.append(ChainServer(
            provider,
            request_body(provider, scenario.request),
            scenario.answer(provider),
            steps.get("attempts", ()),
            then=steps.get("then"),
            api_key=f"sk-conformance-{index}-{provider}",
            continuation=steps.get("continuation"),
            strategy=strategy,
        ))
    failures: list[str] = []
    seen = _Seen()
    storage = open_storage(storage_url)
    servers = [HandlerServer(fake.handle) for fake in fakes]
    try:
        retry = {**_RETRY, **dict(scenario.client.get("retry", {}))}
        fallbacks = [
            Fallback(provider, fake.answer.model, api_key=fake.api_key,
                     base_url=_base_url(provider, server), retry=RetryPolicy(**retry))
            for provider, fake, server in zip(providers[1:], fakes[1:], servers[1:], strict=True)
        ]
        options: dict[str, Any] = {
            "api_key": fakes[0].api_key,
            "base_url": _base_url(providers[0], servers[0]),
            "retry": RetryPolicy(**retry),
            "strategy": strategy,
            "storage": storage,
            "timeouts": Timeouts(**_TIMEOUTS),
            "budget": None,
            "rng": random.Random(seed),
            "fallbacks": fallbacks,
        }
        body = request_body(providers[0], scenario.request)
        try:
            seen = _drive(adapter, options, providers[0], body)
        except Exception as exc:  # the library raised what it should not
            failures.append(f"unexpected {type(exc).__name__}: {exc}")
        for server in servers:
            failures.extend(f"fake server: {error}" for error in server.errors)
    finally:
        for server in servers:
            server.stop()
    try:
        for fake in fakes:
            failures.extend(fake.problems)
        failures.extend(_check(scenario, providers, fakes, seen, storage))
    finally:
        storage.close()
    observed = seen.observed
    return Result(
        scenario=scenario.name,
        provider=">".join(providers),
        adapter=adapter,
        storage=storage_url.split(":", 1)[0],
        failures=tuple(failures),
        outcome="interrupted" if observed.error is not None else "completed",
        attempts=observed.attempts,
        resumes=observed.resumes,
        seconds=time.monotonic() - started,
    )


def _check(
    scenario: FallbackScenario,
    providers: Sequence[str],
    fakes: Sequence[ChainServer],
    seen: _Seen,
    storage: Any,
) -> list[str]:
    expect = scenario.expect
    observed = seen.observed
    reference = fakes[0].answer
    failures: list[str] = []
    error = observed.error
    outcome = "completed" if error is None else "interrupted"
    if outcome != expect.get("outcome", "completed"):
        failures.append(f"outcome {outcome} ({type(error).__name__}: {error}), "
                        f"expected {expect.get('outcome', 'completed')}")
    kinds = {type(event).__name__ for event in observed.events}
    for name in expect.get("events", {}).get("include", ()):
        if name not in kinds:
            failures.append(f"no {name} event, expected one")
    for name in expect.get("events", {}).get("exclude", ()):
        if name in kinds:
            failures.append(f"a {name} event, expected none")
    if error is None:
        failures.extend(_check_answer(reference, observed))
    elif isinstance(error, StreamInterrupted):
        if error.committed_text != observed.text:
            failures.append("StreamInterrupted.committed_text is not what the consumer holds")
        if not reference.text.startswith(observed.text):
            failures.append("the delivered text is not a prefix of the answer")
        if "reason" in expect and error.reason != expect["reason"]:
            failures.append(f"reason {error.reason!r}, expected {expect['reason']!r}")
        if expect.get("names_every_provider"):
            tried = [p for p, fake in zip(providers, fakes, strict=True) if fake.seen]
            for provider in tried:
                if f"{provider} (" not in str(error):
                    failures.append(f"the error does not name {provider}: {error}")
    # Who took over, where, and who finished.
    hops = [(event.from_provider, event.to_provider) for event, _ in seen.fell_back_at]
    wanted_hops = [(providers[i], providers[i + 1]) for i in range(expect.get("fell_back", 0))]
    if hops != wanted_hops:
        failures.append(f"fell back {hops}, expected {wanted_hops}")
    for event, text in seen.fell_back_at:
        if event.offset != len(text):
            failures.append(f"FellBack.offset {event.offset}, the consumer held {len(text)}")
        if event.cause is None:
            failures.append("FellBack without a cause")
    if "served_by" in expect:
        index = int(expect["served_by"])
        if (seen.provider, seen.model) != (providers[index], fakes[index].answer.model):
            failures.append(f"stream.provider/model {seen.provider}/{seen.model}, expected "
                            f"{providers[index]}/{fakes[index].answer.model}")
    if "requests" in expect:
        for index, (fake, wanted) in enumerate(zip(fakes, expect["requests"], strict=True)):
            got = [request.inspection.kind for request in fake.seen]
            if got != list(wanted):
                failures.append(f"server {index} ({providers[index]}) got {got}, "
                                f"expected {list(wanted)}")
    restarts = bool(scenario.request.get("json")) or scenario.client.get("strategy") == "restart"
    failures.extend(_check_first_continuations(fakes, seen, restarts=restarts))
    failures.extend(_check_record(providers, fakes, seen, storage))
    return failures


def _check_answer(reference: Answer, observed: Observed) -> list[str]:
    failures = []
    if observed.text != reference.text:
        failures.append(f"consumer text differs from the reference: {observed.text[:80]!r}...")
    if observed.stream_text != reference.text:
        failures.append("stream.text differs from the reference")
    arguments = "".join(e.arguments for e in observed.events if isinstance(e, ToolCallDelta))
    names = "".join(e.name for e in observed.events if isinstance(e, ToolCallDelta))
    call = reference.tool_call
    if call is None and arguments:
        failures.append("a tool call in an answer that has none")
    if call is not None:
        try:
            same = json.loads(arguments) == json.loads(call.arguments)
        except ValueError:
            same = False
        if not same or names != call.name:
            failures.append(f"tool call {names}({arguments}) is not {call.name} whole")
    completed = [i for i, e in enumerate(observed.events) if isinstance(e, Completed)]
    if completed != [len(observed.events) - 1]:
        failures.append("the stream did not end with exactly one Completed")
    return failures


def _check_first_continuations(
    fakes: Sequence[ChainServer], seen: _Seen, *, restarts: bool
) -> list[str]:
    # A fallback that continues sends exactly what the consumer held when it took
    # over; one that starts over may do so only with nothing delivered, or when
    # the answer restarts anyway (structured output, strategy restart).
    failures = []
    for (_, held), fake in zip(seen.fell_back_at, fakes[1:], strict=False):
        if not fake.seen or fake.seen[0].inspection.kind != "continuation":
            if held and fake.seen and not restarts:
                failures.append(f"{fake.provider} started over although text was delivered")
            continue
        first = fake.seen[0].inspection
        if first.partial not in (held, held.rstrip()):
            failures.append(f"{fake.provider}'s continuation carried {len(first.partial)} "
                            f"characters, the consumer held {len(held)}")
    return failures


def _check_record(
    providers: Sequence[str], fakes: Sequence[ChainServer], seen: _Seen, storage: Any
) -> list[str]:
    observed = seen.observed
    if observed.recovery_id is None:
        return ["no recovery_id although the client has storage"]
    try:
        record = storage.get(observed.recovery_id)
    except Exception as exc:
        return [f"stored record unreadable: {type(exc).__name__}: {exc}"]
    failures = []
    if record.text != observed.stream_text:
        failures.append("stored text differs from stream.text")
    if record.provider != providers[0]:
        failures.append(f"record.provider {record.provider!r}, expected the primary")
    served = [(c.provider, c.model, c.offset) for c in record.providers]
    if seen.fell_back_at:
        wanted = [(providers[0], fakes[0].answer.model, 0)] + [
            (event.to_provider, event.model, event.offset) for event, _ in seen.fell_back_at
        ]
        if served != wanted:
            failures.append(f"record.providers {served}, expected {wanted}")
        if tuple(record.providers) != tuple(seen.providers):
            failures.append("stream.providers differs from the record's")
    elif served:
        failures.append(f"record.providers {served} for a stream that never fell back")
    if observed.error is None and record.status != "completed":
        failures.append(f"stored status {record.status!r}, expected completed")
    if isinstance(observed.error, StreamInterrupted):
        wanted_status = "interrupted" if observed.error.recoverable else "failed"
        if record.status != wanted_status:
            failures.append(f"stored status {record.status!r}, expected {wanted_status!r}")
    return failures
