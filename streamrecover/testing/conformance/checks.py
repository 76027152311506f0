"""The checks every scenario run is held to: exact text, tool call, storage, resume requests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.events import (
    Completed,
    Event,
    Resumed,
    ToolCallDelta,
)
from streamrecover.testing.conformance.fake import ScenarioProvider
from streamrecover.testing.conformance.observed import Observed
from streamrecover.testing.conformance.scenario import Scenario
from streamrecover.testing.fakeprovider import Answer


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


def check_stream(
    scenario: Scenario, provider: str, fake: ScenarioProvider, seen: Observed, storage: Any
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


def _check_completed(reference: Answer, seen: Observed) -> list[str]:
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
    expect: Mapping[str, Any], reference: Answer, seen: Observed, error: StreamInterrupted
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


def _check_storage(seen: Observed, storage: Any) -> list[str]:
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


def _check_continuations(fake: ScenarioProvider, seen: Observed) -> list[str]:
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


def check_totals(
    scenario: Scenario,
    provider: str,
    fake: ScenarioProvider,
    observed: Sequence[Observed],
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
