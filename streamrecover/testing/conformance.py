"""The conformance runner: play declarative fault scenarios against the real client.

A scenario (one JSON file in ``streamrecover/testing/scenarios/``, described in
``conformance/README.md``) says which providers it applies to, how to build the
request, how to configure the client, what each attempt's connection does
(reset after the 4th text frame, answer 529 with ``Retry-After: 0``, stall past
the idle timeout...) and what must come out. :func:`run_scenario` plays one
scenario for one provider, adapter (``sync``, ``asyncio``, ``trio``) and
storage against a :class:`~streamrecover.testing.handler_server.HandlerServer`
that speaks the provider's wire format (:mod:`streamrecover.testing.fakeprovider`),
and returns a :class:`Result`. :func:`run_matrix` plays many and
:func:`format_matrix` prints them; ``streamrecover conformance`` is built on
those two, and a third party can pass its own storage URL or transport.

Every successful run is checked for the exact-text invariant (the consumer's
text after applying ``Rewind`` events equals the reference answer), the
reasoning and tool call, the stored record (its text equals ``stream.text``),
and every request the server received (see
:func:`~streamrecover.testing.fakeprovider.inspect_request`; a bad request is
answered with HTTP 400 and fails the run). A run that gives up is checked for
a consistent ``StreamInterrupted`` and stored record.
"""

from __future__ import annotations

import json
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.events import (
    Completed,
    Event,
    ReasoningDelta,
    Resumed,
    Retrying,
    Rewind,
    TextDelta,
    ToolCallDelta,
)
from streamrecover.testing.fakeprovider import (
    JSON_ANSWER_TEXT,
    PROVIDERS,
    REASONING_TEXT,
    REFERENCE_TEXT,
    TOOL_CALL,
    Answer,
    Expectations,
    Frame,
    Inspection,
    continuation_answer,
    inspect_request,
    render_frames,
)
from streamrecover.testing.handler_server import HandlerServer
from streamrecover.testing.scripts import build_script, cut_offset, frames_sent
from streamrecover.testing.server import RecordedRequest, Step, http_response

__all__ = [
    "ADAPTERS",
    "API_KEY",
    "DEFAULT_SCENARIO_DIR",
    "TIMING_FAULTS",
    "Case",
    "Result",
    "Scenario",
    "format_matrix",
    "load_scenarios",
    "matrix_cases",
    "request_body",
    "resolve_storage_url",
    "run_matrix",
    "run_scenario",
]

#: How a stream is driven: the sync client, or the async client on each backend.
ADAPTERS: tuple[str, ...] = ("sync", "asyncio", "trio")
#: The scenario catalogue, shipped in the package so that an installed
#: ``streamrecover conformance`` finds it.
DEFAULT_SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
#: The API key the client sends and the fake server checks.
API_KEY = "sk-conformance-test"
#: The user prompt of every scenario.
PROMPT = "Explain in three short paragraphs why a streamed answer should survive a dropped link."

_DEFAULT_RETRY = {"backoff_base": 0.001, "backoff_cap": 0.01}
_DEFAULT_TIMEOUTS = {"connect": 5.0, "read": 5.0, "idle": 2.0, "write": 5.0}
_DEFAULT_MODELS = {
    "openai": "gpt-4.1-mini",
    "openai-responses": "gpt-4.1-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.0-flash",
}
_THINKING_MODELS = {
    "openai": "o4-mini",
    "openai-responses": "o4-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
}
_PARAMETERS = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
    "required": ["city"],
}


# ---------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """One scenario file, as loaded. See ``conformance/README.md`` for the fields."""

    name: str
    description: str
    providers: tuple[str, ...]
    request: Mapping[str, Any] = field(default_factory=dict)
    client: Mapping[str, Any] = field(default_factory=dict)
    continuation: Mapping[str, Any] = field(default_factory=dict)
    attempts: tuple[Mapping[str, Any], ...] = ()
    then: Mapping[str, Any] = field(default_factory=lambda: {"fault": "none"})
    streams: int = 1
    expect: Mapping[str, Any] = field(default_factory=dict)
    expect_by_provider: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    adapters: tuple[str, ...] = ADAPTERS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> Scenario:
        """Build a scenario from its JSON object.

        Raises:
            ValueError: a missing name, an unknown provider or adapter, or an
                unknown top-level field (a typo must not silently do nothing).
        """
        known = {
            "name",
            "description",
            "providers",
            "request",
            "client",
            "continuation",
            "attempts",
            "then",
            "streams",
            "expect",
            "expect_by_provider",
            "adapters",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{source}: unknown scenario fields {sorted(unknown)}")
        if not isinstance(data.get("name"), str) or not data["name"]:
            raise ValueError(f"{source}: a scenario needs a 'name'")
        raw = data.get("providers", "all")
        providers = PROVIDERS if raw == "all" else tuple(raw)
        for provider in providers:
            if provider not in PROVIDERS:
                raise ValueError(f"{source}: unknown provider {provider!r}")
        adapters = tuple(data.get("adapters", ADAPTERS))
        for adapter in adapters:
            if adapter not in ADAPTERS:
                raise ValueError(f"{source}: unknown adapter {adapter!r}")
        return cls(
            name=data["name"],
            description=str(data.get("description", "")),
            providers=providers,
            request=dict(data.get("request", {})),
            client=dict(data.get("client", {})),
            continuation=dict(data.get("continuation", {})),
            attempts=tuple(data.get("attempts", ())),
            then=dict(data.get("then", {"fault": "none"})),
            streams=int(data.get("streams", 1)),
            expect=dict(data.get("expect", {})),
            expect_by_provider={k: dict(v) for k, v in data.get("expect_by_provider", {}).items()},
            adapters=adapters,
        )

    def expectations(self, provider: str) -> dict[str, Any]:
        """The expected outcome for ``provider``: ``expect`` with its per-provider overrides."""
        return {**self.expect, **self.expect_by_provider.get(provider, {})}

    def step(self, attempt: int) -> Mapping[str, Any]:
        """The step of attempt ``attempt`` (0-based): from ``attempts``, else ``then``."""
        return self.attempts[attempt] if attempt < len(self.attempts) else self.then

    @property
    def refused_first(self) -> int:
        """How many leading attempts find the port refusing connections."""
        count = 0
        for step in self.attempts:
            if step.get("fault") != "refused":
                break
            count += 1
        return count

    @property
    def always_refused(self) -> bool:
        """Whether no attempt ever finds a listening server."""
        return self.then.get("fault") == "refused" and self.refused_first == len(self.attempts)

    def answer(self, provider: str) -> Answer:
        """The reference answer the fake model gives for this scenario's request."""
        request = self.request
        return Answer(
            text=JSON_ANSWER_TEXT if request.get("json") else REFERENCE_TEXT,
            reasoning=REASONING_TEXT if request.get("thinking") else "",
            tool_call=TOOL_CALL if request.get("tools") else None,
            model=request_body(provider, request).get("model", "fake-model"),
        )


def load_scenarios(
    directory: str | Path | None = None, *, name_filter: str | None = None
) -> list[Scenario]:
    """Load every ``*.json`` scenario of ``directory`` (default: the repository's catalogue).

    ``name_filter`` keeps the scenarios whose name contains it. Sorted by name.

    Raises:
        ValueError: a file is not a valid scenario, or two share a name.
        FileNotFoundError: the directory does not exist.
    """
    folder = Path(directory) if directory is not None else DEFAULT_SCENARIO_DIR
    if not folder.is_dir():
        raise FileNotFoundError(f"no scenario directory at {folder}")
    scenarios: dict[str, Scenario] = {}
    for path in sorted(folder.glob("*.json")):
        scenario = Scenario.from_dict(json.loads(path.read_text("utf-8")), source=path.name)
        if scenario.name in scenarios:
            raise ValueError(f"{path.name}: duplicate scenario name {scenario.name!r}")
        scenarios[scenario.name] = scenario
    chosen = [s for s in scenarios.values() if name_filter is None or name_filter in s.name]
    return sorted(chosen, key=lambda s: s.name)


def request_body(provider: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Build ``provider``'s JSON request body from a scenario's neutral ``request`` options.

    Options: ``thinking``, ``json``, ``tools``, ``background`` (Responses),
    ``max_tokens`` (default 1024), ``models`` (provider -> model name) and
    ``extra`` (provider -> fields merged into the body).
    """
    thinking = bool(options.get("thinking"))
    models = _THINKING_MODELS if thinking else _DEFAULT_MODELS
    model = dict(options.get("models", {})).get(provider, models[provider])
    limit = int(options.get("max_tokens", 1024))
    body: dict[str, Any]
    if provider == "openai":
        body = {
            "model": model,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_completion_tokens": limit,
        }
        if thinking:
            body["reasoning_effort"] = "low"
        if options.get("json"):
            body["response_format"] = {"type": "json_object"}
        if options.get("tools"):
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": TOOL_CALL.name, "parameters": _PARAMETERS},
                }
            ]
    elif provider == "openai-responses":
        body = {"model": model, "input": PROMPT, "max_output_tokens": limit}
        if thinking:
            body["reasoning"] = {"effort": "low", "summary": "auto"}
        if options.get("json"):
            body["text"] = {"format": {"type": "json_object"}}
        if options.get("tools"):
            body["tools"] = [
                {"type": "function", "name": TOOL_CALL.name, "parameters": _PARAMETERS}
            ]
        if options.get("background"):
            body["background"] = True
    elif provider == "anthropic":
        body = {
            "model": model,
            "max_tokens": limit,
            "messages": [{"role": "user", "content": PROMPT}],
        }
        if thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 256}
        if options.get("json"):
            body["output_format"] = {"type": "json_schema", "schema": {"type": "object"}}
        if options.get("tools"):
            body["tools"] = [{"name": TOOL_CALL.name, "input_schema": _PARAMETERS}]
    else:
        config: dict[str, Any] = {"maxOutputTokens": limit}
        if thinking:
            config["thinkingConfig"] = {"thinkingBudget": 256, "includeThoughts": True}
        if options.get("json"):
            config["responseMimeType"] = "application/json"
        body = {
            "model": model,
            "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
            "generationConfig": config,
        }
        if options.get("tools"):
            body["tools"] = [
                {"functionDeclarations": [{"name": TOOL_CALL.name, "parameters": _PARAMETERS}]}
            ]
    body.update(dict(options.get("extra", {})).get(provider, {}))
    return body


# ---------------------------------------------------------------------------
# The fake provider behind one run


@dataclass(slots=True, kw_only=True)
class _Seen:
    """One request the fake provider answered, with the attempt number it belongs to."""

    attempt: int
    inspection: Inspection


class _FakeProvider:
    """The request handler: inspect, choose the answer, play the attempt's fault."""

    def __init__(self, scenario: Scenario, provider: str, body: Mapping[str, Any]) -> None:
        self.scenario = scenario
        self.provider = provider
        self.body = body
        self.reference = scenario.answer(provider)
        self.offset = scenario.refused_first
        self.seen: list[_Seen] = []
        self._lock = threading.Lock()
        # For native resume (Responses, background): the last event delivered.
        self._native_frames = render_frames(provider, self.reference)
        self._native_point: tuple[str, int] | None = None
        self._strategy = str(scenario.client.get("strategy", "exact"))
        prefill = scenario.client.get("prefill")
        self._prefill = None if prefill is None else bool(prefill)

    def handle(self, request: RecordedRequest, index: int) -> list[Step]:
        with self._lock:
            attempt = index + self.offset
            native = self._native_point if self.scenario.streams == 1 else None
            expect = Expectations(
                reference=self.reference.text,
                strategy=self._strategy,
                prefill=self._prefill,
                api_key=API_KEY,
                native_point=native,
            )
            inspection = inspect_request(self.provider, self.body, request, expect)
            self.seen.append(_Seen(attempt=attempt, inspection=inspection))
            if not inspection.ok:
                return http_response(400, inspection.error_response())
            frames = self._frames(inspection)
            step = self.scenario.step(attempt)
            script = build_script(self.provider, frames, step)
            self._track_native(frames, step)
            return script

    def _frames(self, inspection: Inspection) -> list[Frame]:
        if inspection.kind == "native_resume":
            after = inspection.starting_after if inspection.starting_after is not None else -1
            return [
                f
                for f in self._native_frames
                if f.sequence_number is None or f.sequence_number > after
            ]
        if inspection.kind == "continuation":
            options = self.scenario.continuation
            answer = continuation_answer(
                self.reference,
                inspection,
                overlap=int(options.get("overlap", 0)),
                overlap_unit=options.get("overlap_unit", "chars"),
                restart=bool(options.get("restart", False)),
            )
            return render_frames(self.provider, answer)
        return render_frames(self.provider, self.reference)

    def _track_native(self, frames: Sequence[Frame], step: Mapping[str, Any]) -> None:
        if self.body.get("background") is not True or step.get("fault") in ("http", "refused"):
            return
        fault = step.get("fault", "none")
        if fault == "reset" and step.get("before_headers"):
            return
        offset = sum(len(f.data) for f in frames)
        if fault not in ("none", "drip", "pause"):
            offset = cut_offset(frames, step)
        sent = frames_sent(frames, offset)
        if self._native_point is None and not any(f.kind in ("text", "reasoning") for f in sent):
            return  # nothing was delivered: the next attempt is a plain retry
        numbers = [f.sequence_number for f in sent if f.sequence_number is not None]
        if numbers:
            self._native_point = (self.reference.response_id, numbers[-1])


# ---------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """The outcome of one scenario run. ``failures`` is empty when it conformed."""

    scenario: str
    provider: str
    adapter: str
    storage: str
    failures: tuple[str, ...]
    outcome: str = ""
    attempts: int = 0
    resumes: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every check held."""
        return not self.failures


@dataclass(slots=True, kw_only=True)
class _Observed:
    """What one stream's consumer saw."""

    events: list[Event] = field(default_factory=list)
    text: str = ""
    reasoning: str = ""
    text_at_resume: dict[int, str] = field(default_factory=dict)
    stream_text: str = ""
    recovery_id: str | None = None
    attempts: int = 0
    resumes: int = 0
    overlap_removed: int = 0
    error: BaseException | None = None

    def feed(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, ReasoningDelta):
            self.reasoning += event.text
        elif isinstance(event, Rewind):
            self.text = event.apply(self.text)
            if event.reasoning_to is not None:
                self.reasoning = self.reasoning[: event.reasoning_to]
        elif isinstance(event, Resumed):
            self.text_at_resume[event.attempt] = self.text


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
) -> list[_Observed]:
    from streamrecover.client import Client

    extra = {} if transport is None else {"transport": transport}
    with Client(client_options.pop("provider"), **client_options, **extra) as client:

        def one() -> _Observed:
            observed = _Observed()
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
        results: list[_Observed] = [_Observed() for _ in range(streams)]

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
) -> list[_Observed]:
    import anyio

    from streamrecover.client import AsyncClient

    extra = {} if transport is None else {"transport": transport}
    results: list[_Observed] = [_Observed() for _ in range(streams)]

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


def _finish(observed: _Observed, stream: Any) -> None:
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
    fake = _FakeProvider(scenario, provider, body)
    failures: list[str] = []
    observed: list[_Observed] = []
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
                prefix + f for f in _check_stream(scenario, provider, fake, stream, storage)
            )
        failures.extend(_check_totals(scenario, provider, fake, observed, requests))
    finally:
        storage.close()
    first = observed[0] if observed else _Observed()
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


# ---------------------------------------------------------------------------
# Checks


def _count_ok(name: str, actual: int, wanted: Any) -> list[str]:
    if isinstance(wanted, Mapping):
        low, high = wanted.get("min"), wanted.get("max")
        if (low is not None and actual < low) or (high is not None and actual > high):
            return [f"{name} = {actual}, expected within [{low}, {high}]"]
        return []
    if actual != wanted:
        return [f"{name} = {actual}, expected {wanted}"]
    return []


def _tool_calls(events: Iterable[Event]) -> dict[int, dict[str, str]]:
    calls: dict[int, dict[str, str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            call = calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += event.id
            call["name"] += event.name
            call["arguments"] += event.arguments
    return calls


def _check_stream(
    scenario: Scenario, provider: str, fake: _FakeProvider, seen: _Observed, storage: Any
) -> list[str]:
    expect = scenario.expectations(provider)
    reference = fake.reference
    failures: list[str] = []
    wanted = expect.get("outcome", "completed")
    error = seen.error
    outcome = "completed" if error is None else "interrupted"
    if outcome != wanted:
        detail = f" ({type(error).__name__}: {error})" if error is not None else ""
        failures.append(f"outcome {outcome}{detail}, expected {wanted}")
    kinds = {type(event).__name__ for event in seen.events}
    events = expect.get("events", {})
    for name in events.get("include", ()):
        if name not in kinds:
            failures.append(f"no {name} event, expected one")
    for name in events.get("exclude", ()):
        if name in kinds:
            failures.append(f"a {name} event, expected none")
    if "attempts" in expect:
        failures.extend(_count_ok("attempts", seen.attempts, expect["attempts"]))
    if "resumes" in expect:
        failures.extend(_count_ok("resumes", seen.resumes, expect["resumes"]))
    if "overlap_removed" in expect:
        failures.extend(
            _count_ok("overlap_removed", seen.overlap_removed, expect["overlap_removed"])
        )
    if "strategy" in expect:
        used = {e.strategy for e in seen.events if isinstance(e, Resumed)}
        if used != {expect["strategy"]}:
            failures.append(f"resumed with {sorted(used)}, expected {expect['strategy']!r}")
    if isinstance(error, StreamInterrupted):
        failures.extend(_check_interrupted(expect, reference, seen, error))
    elif error is None:
        failures.extend(_check_completed(reference, seen))
    failures.extend(_check_storage(seen, storage))
    if scenario.streams == 1:
        failures.extend(_check_continuations(fake, seen))
    return failures


def _check_completed(reference: Answer, seen: _Observed) -> list[str]:
    failures = []
    if seen.text != reference.text:
        failures.append(
            f"consumer text differs from the reference: {_diff(seen.text, reference.text)}"
        )
    if seen.stream_text != reference.text:
        failures.append(
            f"stream.text differs from the reference: {_diff(seen.stream_text, reference.text)}"
        )
    if reference.reasoning and seen.reasoning != reference.reasoning:
        failures.append(f"reasoning differs: {_diff(seen.reasoning, reference.reasoning)}")
    calls = _tool_calls(seen.events)
    call = reference.tool_call
    if call is None and calls:
        failures.append(f"tool calls {calls} in an answer that has none")
    if call is not None:
        got = calls.get(0)
        if set(calls) != {0} or got is None:
            failures.append(f"expected exactly one tool call, got {calls}")
        else:
            try:
                same = json.loads(got["arguments"]) == json.loads(call.arguments)
            except ValueError:
                same = False
            if not same or got["name"] != call.name:
                failures.append(f"tool call {got} differs from {call}")
    completed = [i for i, e in enumerate(seen.events) if isinstance(e, Completed)]
    if len(completed) != 1:
        failures.append(f"{len(completed)} Completed events, expected exactly one")
    elif completed[0] != len(seen.events) - 1:
        failures.append("events came after Completed")
    return failures


def _check_interrupted(
    expect: Mapping[str, Any], reference: Answer, seen: _Observed, error: StreamInterrupted
) -> list[str]:
    failures = []
    if error.committed_text != seen.text:
        failures.append("StreamInterrupted.committed_text differs from what the consumer holds")
    if not reference.text.startswith(seen.text):
        failures.append(
            f"delivered text is not a prefix of the answer: {_diff(seen.text, reference.text)}"
        )
    if error.recovery_id != seen.recovery_id:
        failures.append("StreamInterrupted.recovery_id differs from stream.recovery_id")
    if "recoverable" in expect and error.recoverable != expect["recoverable"]:
        failures.append(f"recoverable = {error.recoverable}, expected {expect['recoverable']}")
    if "cause" in expect:
        names = {cls.__name__ for cls in type(error.cause).__mro__}
        if expect["cause"] not in names:
            failures.append(
                f"cause {type(error.cause).__name__}: {error.cause}, expected {expect['cause']}"
            )
    if "reason" in expect and expect["reason"] not in str(error):
        failures.append(f"give-up message {str(error)!r} does not mention {expect['reason']!r}")
    return failures


def _check_storage(seen: _Observed, storage: Any) -> list[str]:
    if seen.recovery_id is None:
        return ["no recovery_id although the client has storage"]
    try:
        record = storage.get(seen.recovery_id)
    except Exception as exc:
        return [f"stored record unreadable: {type(exc).__name__}: {exc}"]
    failures = []
    if record.text != seen.stream_text:
        failures.append(
            f"stored text differs from stream.text: {_diff(record.text, seen.stream_text)}"
        )
    error = seen.error
    if error is None:
        wanted = {"completed"}
    elif isinstance(error, StreamInterrupted):
        wanted = {"interrupted"} if error.recoverable else {"failed"}
    else:
        wanted = {"interrupted", "failed"}
    if record.status not in wanted:
        failures.append(f"stored status {record.status!r}, expected {sorted(wanted)}")
    return failures


def _check_continuations(fake: _FakeProvider, seen: _Observed) -> list[str]:
    failures = []
    for request in fake.seen:
        inspection = request.inspection
        for problem in inspection.problems:
            failures.append(f"attempt {request.attempt + 1} request: {problem}")
        if inspection.kind != "continuation":
            continue
        held = seen.text_at_resume.get(request.attempt + 1)
        if held is None:
            failures.append(f"attempt {request.attempt + 1} continued without a Resumed event")
            continue
        sent = inspection.partial
        if sent != (held.rstrip() if inspection.prefill and sent != held else held):
            failures.append(
                f"attempt {request.attempt + 1} sent a partial answer that is not the "
                f"consumer's text: {_diff(sent, held)}"
            )
    return failures


def _check_totals(
    scenario: Scenario,
    provider: str,
    fake: _FakeProvider,
    observed: Sequence[_Observed],
    requests: int,
) -> list[str]:
    expect = scenario.expectations(provider)
    failures = []
    if "total_requests" in expect:
        failures.extend(_count_ok("requests received", requests, expect["total_requests"]))
    if "requests" in expect and scenario.streams == 1:
        kinds = [s.inspection.kind for s in sorted(fake.seen, key=lambda s: s.attempt)]
        if kinds != list(expect["requests"]):
            failures.append(f"requests {kinds}, expected {list(expect['requests'])}")
    if "prefill" in expect:
        for s in fake.seen:
            if s.inspection.kind == "continuation" and s.inspection.prefill != expect["prefill"]:
                failures.append(f"prefill = {s.inspection.prefill}, expected {expect['prefill']}")
    return failures


def _diff(actual: str, wanted: str) -> str:
    common = 0
    for a, b in zip(actual, wanted, strict=False):
        if a != b:
            break
        common += 1
    return (
        f"first difference at {common}: got {actual[common : common + 40]!r}, "
        f"expected {wanted[common : common + 40]!r} (lengths {len(actual)} vs {len(wanted)})"
    )


# ---------------------------------------------------------------------------
# The matrix

#: Faults that only test waiting in the transport (a drip, a keep-alive pause,
#: a stall, a huge line): they store nothing other scenarios do not, and they
#: are the slow ones, so they are played with memory storage only.
TIMING_FAULTS = frozenset({"drip", "pause", "stall", "oversized"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One cell of the matrix: a scenario for one provider, adapter and storage spec."""

    scenario: Scenario
    provider: str
    adapter: str
    storage: str

    @property
    def id(self) -> str:
        """A readable test id: ``scenario-provider-adapter-storage``."""
        return f"{self.scenario.name}-{self.provider}-{self.adapter}-{self.storage}"


def matrix_cases(
    scenarios: Iterable[Scenario],
    *,
    adapters: Sequence[str] = ADAPTERS,
    providers: Sequence[str] = PROVIDERS,
    storages: Sequence[str] = ("memory", "sqlite", "disk"),
    full_matrix_storage: str = "memory",
    other_storages_adapter: str = "sync",
) -> list[Case]:
    """Return the cases of the standard matrix, split to keep CI time small.

    Every scenario × provider × adapter runs with ``full_matrix_storage``. The
    other storages run on ``other_storages_adapter`` only, and skip the
    scenarios whose steps use one of :data:`TIMING_FAULTS`: storage sees the
    same events whichever adapter drives the session (the adapters differ only
    in how they wait), so the extra storages add coverage of recording and
    reading back, which the sync adapter exercises completely.
    """
    cases = []
    for scenario in scenarios:
        steps = [*scenario.attempts, scenario.then]
        timing = any(step.get("fault") in TIMING_FAULTS for step in steps)
        for provider in (p for p in scenario.providers if p in providers):
            for adapter in (a for a in scenario.adapters if a in adapters):
                for storage in storages:
                    if storage != full_matrix_storage and (
                        adapter != other_storages_adapter or timing
                    ):
                        continue
                    cases.append(
                        Case(scenario=scenario, provider=provider, adapter=adapter, storage=storage)
                    )
    return cases


def resolve_storage_url(spec: str, directory: Path) -> str:
    """Turn a storage spec into a URL: ``sqlite`` and ``disk`` get a file in ``directory``.

    Anything with ``://`` is a URL already (``memory://``, ``redis://host``...).
    """
    if "://" in spec:
        return spec
    if spec == "memory":
        return "memory://"
    if spec == "sqlite":
        return f"sqlite:///{directory / 'streams.db'}"
    if spec == "disk":
        return f"disk:///{directory / 'disk'}"
    raise ValueError(f"unknown storage {spec!r}: give a URL, or memory, sqlite or disk")


def run_matrix(
    *,
    storage_urls: Sequence[str] = ("memory", "sqlite", "disk"),
    adapters: Sequence[str] = ADAPTERS,
    providers: Sequence[str] = PROVIDERS,
    scenario_filter: str | None = None,
    transport_factory: Callable[[str], Any] | None = None,
    scenario_dir: str | Path | None = None,
    on_result: Callable[[Result], object] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """Play every scenario × provider × adapter × storage and return the results.

    Args:
        storage_urls: storage URLs, or ``memory`` / ``sqlite`` / ``disk`` (those
            two get a temporary directory, removed at the end).
        adapters: any of ``sync``, ``asyncio``, ``trio``.
        providers: wire formats to play (each scenario names those it applies to).
        scenario_filter: keep scenarios whose name contains this.
        transport_factory: see :func:`run_scenario`.
        scenario_dir: the catalogue (default: the catalogue shipped in the package).
        on_result: called with each result as it comes (to print progress).
        progress: called with ``(runs done, runs in all)`` once before the first
            run and after each one, so that a caller can show a counter.

    Returns:
        One :class:`Result` per run, in play order.
    """
    scenarios = load_scenarios(scenario_dir, name_filter=scenario_filter)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="streamrecover-conformance-") as tmp:
        urls = [resolve_storage_url(spec, Path(tmp)) for spec in storage_urls]
        total = len(urls) * sum(
            1
            for scenario in scenarios
            for provider in scenario.providers
            if provider in providers
            for adapter in scenario.adapters
            if adapter in adapters
        )
        if progress is not None:
            progress(0, total)
        for scenario in scenarios:
            for provider in (p for p in scenario.providers if p in providers):
                for adapter in (a for a in scenario.adapters if a in adapters):
                    for url in urls:
                        result = run_scenario(
                            scenario,
                            provider=provider,
                            adapter=adapter,
                            storage_url=url,
                            transport_factory=transport_factory,
                        )
                        results.append(result)
                        if on_result is not None:
                            on_result(result)
                        if progress is not None:
                            progress(len(results), total)
    return results


def format_matrix(results: Sequence[Result]) -> str:
    """Return a text table: one row per scenario, one column per provider.

    A cell is ``passed/played`` over the adapters and storages played for that
    scenario and provider (``-``: not played). The failures follow the table,
    one line each, and a summary line ends it.
    """
    providers = [p for p in PROVIDERS if any(r.provider == p for r in results)]
    rows = sorted({r.scenario for r in results})
    width = max([len("scenario"), *(len(r) for r in rows)])
    widths = [max(len(p), 7) for p in providers]
    header = [
        f"{'scenario':<{width}}",
        *(f"{p:>{w}}" for p, w in zip(providers, widths, strict=True)),
    ]
    lines = ["  ".join(header)]
    for row in rows:
        cells = [f"{row:<{width}}"]
        for provider, w in zip(providers, widths, strict=True):
            played = [r for r in results if r.scenario == row and r.provider == provider]
            passed = sum(r.passed for r in played)
            mark = f"{passed}/{len(played)}" if played else "-"
            if played and passed < len(played):
                mark = "!" + mark
            cells.append(f"{mark:>{w}}")
        lines.append("  ".join(cells))
    failed = [r for r in results if not r.passed]
    if failed:
        lines.append("")
        for result in failed:
            where = f"{result.scenario} [{result.provider}/{result.adapter}/{result.storage}]"
            lines.extend(f"FAIL {where}: {failure}" for failure in result.failures)
    adapters = sorted({r.adapter for r in results})
    storages = sorted({r.storage for r in results})
    lines.append("")
    lines.append(
        f"{len(results) - len(failed)} passed, {len(failed)} failed, {len(results)} runs "
        f"(adapters: {', '.join(adapters)}; storages: {', '.join(storages)})"
    )
    return "\n".join(lines)
