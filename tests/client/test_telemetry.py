"""OpenTelemetry spans and metrics, with the real SDK's in-memory exporter and reader.

Every test streams over loopback against a scripted fake server and asserts
the exported span tree, attribute values and metric points exactly.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from reference_frames import (
    FAST_RETRY,
    FINISH_REASONS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    PROVIDERS,
    REFERENCE,
    Received,
    ReferenceServer,
    answer,
    base_url,
    prefix,
    request_body,
)

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import streamrecover as sr
from streamrecover.core.errors import StreamInterrupted
from streamrecover.integrations.otel import Telemetry
from streamrecover.testing.server import Close, Reset, http_response

SECRET = "sk-telemetry-secret-0123456789abcdef"
MODELS = {p: request_body(p)["model"] for p in PROVIDERS}
OPERATIONS = {
    "openai": "chat",
    "openai-responses": "chat",
    "anthropic": "chat",
    "gemini": "generate_content",
}
PROVIDER_NAMES = {
    "openai": "openai",
    "openai-responses": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
}


@dataclass
class Otel:
    """An SDK tracer provider and meter provider that keep everything in memory."""

    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def options(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def stream_span(self) -> ReadableSpan:
        (span,) = [s for s in self.finished() if s.parent is None]
        return span

    def attempt_spans(self) -> list[ReadableSpan]:
        return sorted(
            (s for s in self.finished() if s.parent is not None), key=lambda s: s.start_time or 0
        )

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def everything_exported(self) -> str:
        """Every span (attributes, events, links, status) and metric point, as text."""
        parts = [span.to_json() for span in self.finished()]
        data = self.reader.get_metrics_data()
        if data is not None:
            parts.append(data.to_json())
        return "\n".join(parts)


@pytest.fixture
def otel() -> Iterator[Otel]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(spans, reader, tracer_provider, meter_provider)
    tracer_provider.shutdown()
    meter_provider.shutdown()


def stream_once(
    otel: Otel,
    scripts: list[Any],
    provider: str = "openai",
    *,
    received: Received | None = None,
    **options: Any,
) -> tuple[Any, StreamInterrupted | None]:
    received = received if received is not None else Received()
    error = None
    options.setdefault("retry", FAST_RETRY)
    with ReferenceServer(scripts) as server:
        client = sr.Client(
            provider,
            base_url=base_url(server, provider),
            api_key=SECRET,
            **otel.options(),
            **options,
        )
        with client, client.stream(**request_body(provider)) as stream:
            try:
                for event in stream:
                    received.feed(event)
            except StreamInterrupted as exc:
                error = exc
    return stream, error


def common(provider: str, port: int) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": OPERATIONS[provider],
        "gen_ai.provider.name": PROVIDER_NAMES[provider],
        "gen_ai.request.model": MODELS[provider],
        "server.address": "127.0.0.1",
        "server.port": port,
    }


def port_of(span: ReadableSpan) -> int:
    assert span.attributes is not None
    return int(span.attributes["server.port"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# A clean stream


@pytest.mark.parametrize("provider", PROVIDERS)
def test_clean_stream_has_one_span_one_attempt_and_the_genai_metrics(
    otel: Otel, provider: str
) -> None:
    stream, error = stream_once(otel, [[answer(provider)]], provider)
    assert error is None and stream.text == REFERENCE
    span = otel.stream_span()
    port = port_of(span)
    assert span.name == f"{OPERATIONS[provider]} {MODELS[provider]}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        **common(provider, port),
        "gen_ai.request.stream": True,
        "streamrecover.strategy": "exact",
        "streamrecover.recovery_id": stream.recovery_id,
        "streamrecover.attempts": 1,
        "streamrecover.resumes": 0,
        "streamrecover.overlap_removed_chars": 0,
        "streamrecover.outcome": "completed",
        "gen_ai.usage.input_tokens": INPUT_TOKENS,
        "gen_ai.usage.output_tokens": OUTPUT_TOKENS,
        "gen_ai.response.finish_reasons": (FINISH_REASONS[provider],),
        **(
            {"gen_ai.response.id": span.attributes["gen_ai.response.id"]}
            if span.attributes and "gen_ai.response.id" in span.attributes
            else {}
        ),
    }
    (attempt,) = otel.attempt_spans()
    assert attempt.parent is not None
    assert attempt.parent.span_id == span.context.span_id
    assert attempt.name == "POST"
    assert attempt.kind is SpanKind.CLIENT
    attributes = dict(attempt.attributes or {})
    assert attributes.pop("url.full").startswith(f"http://127.0.0.1:{port}/")  # type: ignore[union-attr]
    assert attributes == {
        "http.request.method": "POST",
        "server.address": "127.0.0.1",
        "server.port": port,
        "http.response.status_code": 200,
    }
    assert list(attempt.events) == []

    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    assert dict(duration.attributes) == common(provider, port)
    tokens = {
        p.attributes["gen_ai.token.type"]: p for p in otel.points("gen_ai.client.token.usage")
    }
    assert (tokens["input"].sum, tokens["output"].sum) == (INPUT_TOKENS, OUTPUT_TOKENS)
    (first,) = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert first.count == 1 and 0 <= first.sum <= duration.sum
    (attempts,) = otel.points("streamrecover.stream.attempts")
    assert (attempts.count, attempts.sum) == (1, 1)
    for name in (
        "streamrecover.retries",
        "streamrecover.resumes",
        "streamrecover.recovery.duration",
        "streamrecover.streams.given_up",
    ):
        assert otel.points(name) == [], name


# ---------------------------------------------------------------------------
# Recovery


def test_a_retry_is_a_second_attempt_span_with_a_resend_count(otel: Otel) -> None:
    overloaded = json.dumps({"type": "error", "error": {"type": "overloaded_error"}})
    first = http_response(529, overloaded, headers=[("retry-after", "0")])
    stream, error = stream_once(otel, [first, [answer("anthropic")]], "anthropic")
    assert error is None and stream.attempts == 2
    failed, succeeded = otel.attempt_spans()
    assert failed.attributes is not None and succeeded.attributes is not None
    assert failed.attributes["http.response.status_code"] == 529
    assert failed.attributes["error.type"] == "overloaded_error"
    assert failed.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in failed.attributes
    (retrying,) = failed.events
    assert retrying.name == "streamrecover.retrying"
    attributes = dict(retrying.attributes or {})
    delay = attributes.pop("streamrecover.delay")
    assert isinstance(delay, float) and 0.0 <= delay <= FAST_RETRY.backoff_cap
    assert attributes == {"streamrecover.cause": "overloaded_error", "streamrecover.resume": False}
    assert succeeded.attributes["http.request.resend_count"] == 1
    assert succeeded.attributes["http.response.status_code"] == 200
    assert succeeded.status.status_code is StatusCode.UNSET
    span = otel.stream_span()
    assert span.attributes is not None
    assert span.attributes["streamrecover.attempts"] == 2
    assert span.status.status_code is StatusCode.UNSET
    (retries,) = otel.points("streamrecover.retries")
    assert retries.value == 1
    assert retries.attributes["streamrecover.cause"] == "overloaded_error"
    (attempts,) = otel.points("streamrecover.stream.attempts")
    assert attempts.sum == 2


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_resume_records_the_strategy_and_the_recovery_latency(otel: Otel, provider: str) -> None:
    gate = threading.Event()
    delivered = prefix(4)
    first = answer(provider, cut_after=4, fault=Reset(), gate=gate)
    stream, error = stream_once(
        otel,
        [[first], [answer(provider, overlap_words=2)]],
        provider,
        received=Received(gate, gate_at=len(delivered)),
    )
    assert error is None and stream.text == REFERENCE
    assert (stream.attempts, stream.resumes) == (2, 1)
    cut, resumed = otel.attempt_spans()
    assert [e.name for e in cut.events] == ["streamrecover.retrying"]
    assert cut.events[0].attributes is not None
    assert cut.events[0].attributes["streamrecover.resume"] is True
    assert cut.events[0].attributes["streamrecover.cause"] == "TransportError.reset"
    assert cut.status.status_code is StatusCode.ERROR
    assert [e.name for e in resumed.events] == ["streamrecover.resumed"]
    assert dict(resumed.events[0].attributes or {}) == {"streamrecover.strategy": "exact"}
    span = otel.stream_span()
    assert span.attributes is not None
    assert span.attributes["streamrecover.resumes"] == 1
    assert span.attributes["streamrecover.overlap_removed_chars"] == stream.overlap_removed > 0
    (resumes,) = otel.points("streamrecover.resumes")
    assert resumes.value == 1
    assert resumes.attributes["streamrecover.cause"] == "TransportError.reset"
    (latency,) = otel.points("streamrecover.recovery.duration")
    assert latency.count == 1
    assert latency.attributes["streamrecover.strategy"] == "exact"
    (overlap,) = otel.points("streamrecover.overlap.removed")
    assert overlap.value == stream.overlap_removed


def test_a_rewind_is_a_span_event(otel: Otel) -> None:
    gate = threading.Event()
    first = answer("gemini", cut_after=4, fault=Close(), gate=gate)
    stream, error = stream_once(
        otel,
        [[first], [answer("gemini")]],
        "gemini",
        received=Received(gate, gate_at=len(prefix(4))),
        strategy="restart",
    )
    assert error is None and stream.text == REFERENCE
    first_attempt, second = otel.attempt_spans()
    # The rollback is decided as the cut attempt fails, before the wait.
    names = [e.name for e in first_attempt.events]
    assert names == ["streamrecover.rewind", "streamrecover.retrying"]
    assert dict(first_attempt.events[0].attributes or {}) == {"streamrecover.rewind.to": 0}
    assert [e.name for e in second.events] == ["streamrecover.resumed"]


def test_giving_up_sets_error_type_on_the_span_and_counts_the_reason(otel: Otel) -> None:
    denied = json.dumps({"error": {"message": "bad key", "type": "invalid_request_error"}})
    _, error = stream_once(otel, [http_response(401, denied)], "openai")
    assert error is not None and not error.recoverable
    assert error.reason == "not_retryable"
    span = otel.stream_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "invalid_request_error"
    assert span.attributes["streamrecover.outcome"] == "given_up"
    (attempt,) = otel.attempt_spans()
    assert attempt.attributes is not None
    assert attempt.attributes["http.response.status_code"] == 401
    assert attempt.status.status_code is StatusCode.ERROR
    (given_up,) = otel.points("streamrecover.streams.given_up")
    assert given_up.value == 1
    assert dict(given_up.attributes) == {
        **common("openai", port_of(span)),
        "streamrecover.give_up_reason": "not_retryable",
        "error.type": "invalid_request_error",
    }
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "invalid_request_error"


def test_a_budget_refusal_is_counted(otel: Otel) -> None:
    spent = sr.RetryBudget(percent_can_retry=0, min_retries_per_second=0)
    _, error = stream_once(otel, [[Reset()]], "openai", budget=spent)
    assert error is not None and error.reason == "budget_exhausted"
    (refusals,) = otel.points("streamrecover.budget.refusals")
    assert refusals.value == 1
    (given_up,) = otel.points("streamrecover.streams.given_up")
    assert given_up.attributes["streamrecover.give_up_reason"] == "budget_exhausted"


def test_a_cancelled_stream_ends_its_spans(otel: Otel) -> None:
    with ReferenceServer([[answer("openai", cut_after=3, gate=threading.Event())]]) as server:
        client = sr.Client(
            "openai", base_url=base_url(server, "openai"), api_key=SECRET, **otel.options()
        )
        with client, client.stream(**request_body("openai")) as stream:
            for _event in stream.text_stream:
                break
    span = otel.stream_span()
    assert span.attributes is not None
    assert span.attributes["streamrecover.outcome"] == "cancelled"
    assert "error.type" not in span.attributes
    (attempt,) = otel.attempt_spans()
    assert attempt.end_time is not None
    (given_up,) = otel.points("streamrecover.streams.given_up")
    assert given_up.attributes["streamrecover.give_up_reason"] == "cancelled"


# ---------------------------------------------------------------------------
# Async


@pytest.mark.anyio
async def test_async_stream_has_the_same_span_tree(otel: Otel) -> None:
    gate = threading.Event()
    delivered = prefix(4)
    first = answer("anthropic", cut_after=4, fault=Reset(), gate=gate)
    received = Received(gate, gate_at=len(delivered))
    with ReferenceServer([[first], [answer("anthropic", overlap_words=1)]]) as server:
        client = sr.AsyncClient(
            "anthropic",
            base_url=base_url(server, "anthropic"),
            api_key=SECRET,
            retry=FAST_RETRY,
            **otel.options(),
        )
        async with client, client.stream(**request_body("anthropic")) as stream:
            async for event in stream:
                received.feed(event)
    assert received.text == REFERENCE
    span = otel.stream_span()
    assert span.name == f"chat {MODELS['anthropic']}"
    assert span.attributes is not None
    assert span.attributes["streamrecover.attempts"] == 2
    assert span.attributes["streamrecover.resumes"] == 1
    cut, resumed = otel.attempt_spans()
    assert all(
        s.parent is not None and s.parent.span_id == span.context.span_id for s in (cut, resumed)
    )
    assert resumed.attributes is not None and resumed.attributes["http.request.resend_count"] == 1
    assert [e.name for e in resumed.events] == ["streamrecover.resumed"]
    (latency,) = otel.points("streamrecover.recovery.duration")
    assert latency.count == 1


# ---------------------------------------------------------------------------
# Links, secrets, content, logs


def test_resume_in_a_new_client_links_to_the_original_span(otel: Otel, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'streams.db'}"
    retry = sr.RetryPolicy(max_retries=0, max_resumes=0)
    gate = threading.Event()
    first = answer("openai", cut_after=4, fault=Reset(), gate=gate)
    with ReferenceServer([[first], [answer("openai")]]) as server:
        options = {"base_url": base_url(server, "openai"), "api_key": SECRET, "storage": url}
        with sr.Client("openai", retry=retry, **options, **otel.options()) as client:
            stream = client.stream(**request_body("openai"))
            received = Received(gate, gate_at=len(prefix(4)))
            with stream, pytest.raises(StreamInterrupted):
                for event in stream:
                    received.feed(event)
        original = otel.stream_span()
        otel.spans.clear()
        with (
            sr.Client("openai", **options, **otel.options()) as client,
            client.resume(stream.recovery_id) as resumed,
        ):
            resumed.until_done()
    assert resumed.text == REFERENCE
    span = otel.stream_span()
    (link,) = span.links
    assert link.context.trace_id == original.context.trace_id
    assert link.context.span_id == original.context.span_id
    assert span.attributes is not None
    assert span.attributes["streamrecover.recovery_id"] == stream.recovery_id


def test_no_secret_and_no_content_is_exported_by_default(otel: Otel) -> None:
    gate = threading.Event()
    first = answer("openai", cut_after=4, fault=Reset(), gate=gate)
    stream_once(
        otel,
        [[first], [answer("openai")]],
        "openai",
        received=Received(gate, gate_at=len(prefix(4))),
    )
    exported = otel.everything_exported()
    assert "streamrecover.resumed" in exported  # the check reads real data
    assert SECRET not in exported
    assert "Say it." not in exported  # the prompt
    assert "Streams break" not in exported  # the answer
    assert "gen_ai.input.messages" not in exported


def test_content_is_captured_only_when_asked(otel: Otel) -> None:
    telemetry = Telemetry(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        capture_content=True,
    )
    with ReferenceServer([[answer("openai")]]) as server:
        client = sr.Client(
            "openai", base_url=base_url(server, "openai"), api_key=SECRET, telemetry=telemetry
        )
        with client, client.stream(**request_body("openai")) as stream:
            stream.until_done()
    span = otel.stream_span()
    assert span.attributes is not None
    messages = json.loads(str(span.attributes["gen_ai.input.messages"]))
    assert messages == request_body("openai")["messages"]
    output = json.loads(str(span.attributes["gen_ai.output.messages"]))
    assert output[0]["parts"][0]["content"] == REFERENCE
    assert SECRET not in otel.everything_exported()


def test_log_records_carry_structured_fields(otel: Otel, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="streamrecover")
    stream, _ = stream_once(otel, [[Reset()], [answer("openai")]], "openai")
    (retry,) = [r for r in caplog.records if "attempt 1 failed" in r.getMessage()]
    assert retry.recovery_id == stream.recovery_id  # type: ignore[attr-defined]
    assert retry.attempt == 1  # type: ignore[attr-defined]
    assert retry.cause == "TransportError"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# Without an SDK, or without the package


def test_no_sdk_configured_means_no_telemetry_on_the_stream() -> None:
    # The global providers are the API's proxies in this process (no test sets them).
    with ReferenceServer([[answer("openai")]]) as server:
        client = sr.Client("openai", base_url=base_url(server, "openai"), api_key=SECRET)
        assert client.telemetry is not None  # the package is installed
        with client, client.stream(**request_body("openai")) as stream:
            assert stream._observer.telemetry is None
            assert stream.until_done() == REFERENCE


def test_telemetry_false_turns_it_off(otel: Otel) -> None:
    stream, _ = stream_once(otel, [[answer("openai")]], "openai", telemetry=False)
    assert stream.text == REFERENCE
    assert otel.finished() == []


def test_without_opentelemetry_nothing_is_imported_and_streams_work() -> None:
    script = """
import sys
sys.modules["opentelemetry"] = None  # as if it were not installed
import streamrecover as sr
from streamrecover.core.errors import MissingExtraError
client = sr.Client("openai", api_key="k", storage=None)
assert client.telemetry is None
try:
    sr.Client("openai", api_key="k", storage=None, tracer_provider=object())
except MissingExtraError as exc:
    assert "streamrecover[otel]" in str(exc)
else:
    raise SystemExit("expected MissingExtraError")
assert not any(name.startswith("opentelemetry.") for name in sys.modules), sorted(sys.modules)
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
