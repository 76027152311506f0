"""OpenTelemetry spans and metrics for every stream, attempt and recovery.

The library instruments itself through ``opentelemetry-api`` (extra ``otel``),
following the GenAI semantic conventions for a client inference span and its
metrics, and the HTTP client conventions for each attempt:

* one span per logical stream, ``{gen_ai.operation.name} {gen_ai.request.model}``
  (``chat gpt-4o``), kind CLIENT, covering every attempt and every wait ("with
  all retries", as the GenAI conventions define the inference span);
* one child span per attempt (HTTP ``POST``), with ``http.request.resend_count``
  from the second attempt on, and span events ``streamrecover.retrying``,
  ``streamrecover.resumed`` and ``streamrecover.rewind``;
* the metrics ``gen_ai.client.operation.duration``, ``gen_ai.client.token.usage``,
  ``gen_ai.client.operation.time_to_first_chunk`` and the library's own
  ``streamrecover.*`` counters and histograms (see :class:`Instruments`).

The tracer and meter come from the global providers, or from
``Client(tracer_provider=..., meter_provider=...)``. When ``opentelemetry-api``
is not installed nothing is imported; when it is installed but no SDK was set
up (the global providers are still the API's proxies) a stream gets no
telemetry at all, so it costs one ``is None`` branch per batch of events.

Nothing secret and no content by default: attributes carry names, numbers and
redacted URLs, never a prompt, an answer, a key, userinfo or a key-like query
value. ``capture_content=True`` (or the environment variable
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``, as the official
instrumentations read it) adds ``gen_ai.input.messages`` and
``gen_ai.output.messages`` to the stream span.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from streamrecover.core.errors import MissingExtraError

if TYPE_CHECKING:
    pass

from streamrecover.integrations._otel_instruments import Instruments
from streamrecover.integrations._otel_stream import StreamTelemetry

__all__ = ["INSTRUMENTATION_NAME", "StreamTelemetry", "Telemetry", "otel_available"]

#: The instrumentation scope name of every tracer and meter the library uses.
INSTRUMENTATION_NAME = "streamrecover"

#: ``gen_ai.operation.name`` per wire format.
_OPERATION = {
    "openai": "chat",
    "openai-responses": "chat",
    "anthropic": "chat",
    "gemini": "generate_content",
}
#: ``gen_ai.provider.name`` per wire format (the conventions' well-known values).
_PROVIDER = {
    "openai": "openai",
    "openai-responses": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
}
_CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def otel_available() -> bool:
    """Whether ``opentelemetry-api`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except (ImportError, ValueError):
        return False


class Telemetry:
    """The tracer and meter of one client, and the factory of per-stream telemetry.

    Args:
        tracer_provider: an OpenTelemetry ``TracerProvider``; None uses the global one.
        meter_provider: a ``MeterProvider``; None uses the global one.
        capture_content: record prompts and answers on the stream span (opt-in,
            as the GenAI conventions require); None reads
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.

    Raises:
        MissingExtraError: ``opentelemetry-api`` is not installed.
    """

    def __init__(
        self,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        capture_content: bool | None = None,
    ) -> None:
        if not otel_available():
            raise MissingExtraError("telemetry", "otel", "opentelemetry-api")
        from streamrecover import __version__

        self._version = __version__
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        if capture_content is None:
            capture_content = os.environ.get(_CAPTURE_ENV, "").strip().lower() == "true"
        self.capture_content = capture_content
        self._instruments: tuple[Any, Instruments] | None = None

    @classmethod
    def for_client(
        cls, *, telemetry: Telemetry | bool | None, tracer_provider: Any, meter_provider: Any
    ) -> Telemetry | None:
        """What a client uses: a given Telemetry, none (``False``), or one when OTel is there.

        ``telemetry=None`` (the default) instruments whenever ``opentelemetry-api``
        is installed; explicit providers or ``True`` require it.
        """
        if isinstance(telemetry, Telemetry):
            return telemetry
        if telemetry is False:
            return None
        explicit = telemetry is True or tracer_provider is not None or meter_provider is not None
        if not explicit and not otel_available():
            return None
        return cls(tracer_provider=tracer_provider, meter_provider=meter_provider)

    def _providers(self) -> tuple[Any, Any] | None:
        """The providers to use now, or None when no SDK was set up for either."""
        from opentelemetry import metrics, trace

        tracer_provider = self._tracer_provider or trace.get_tracer_provider()
        meter_provider = self._meter_provider or metrics.get_meter_provider()
        # Until an SDK is installed the API hands out proxies whose spans and
        # instruments record nothing: skip the work altogether.
        no_tracing = isinstance(
            tracer_provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
        )
        no_metrics = type(meter_provider).__name__ in ("_ProxyMeterProvider", "NoOpMeterProvider")
        if no_tracing and no_metrics:
            return None
        return tracer_provider, meter_provider

    def _instruments_for(self, meter_provider: Any) -> Instruments:
        cached = self._instruments
        if cached is not None and cached[0] is meter_provider:
            return cached[1]
        meter = meter_provider.get_meter(INSTRUMENTATION_NAME, self._version)
        instruments = Instruments(meter)
        self._instruments = (meter_provider, instruments)
        return instruments

    def start_stream(
        self,
        *,
        provider: str,
        model: str,
        base_url: str,
        strategy: str,
        body: Mapping[str, Any],
        recovery_id: str | None,
        link: Mapping[str, Any] | None = None,
    ) -> StreamTelemetry | None:
        """Open the span of one logical stream (None when no SDK is set up).

        ``link`` is the span context stored with the record of the stream this
        one continues (``Client.resume``): the new span links to it.
        """
        providers = self._providers()
        if providers is None:
            return None
        from opentelemetry import trace

        tracer_provider, meter_provider = providers
        tracer = tracer_provider.get_tracer(INSTRUMENTATION_NAME, self._version)
        operation = _OPERATION.get(provider, "chat")
        common: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": _PROVIDER.get(provider, provider),
        }
        if model:
            common["gen_ai.request.model"] = model
        parts = urlsplit(base_url)
        if parts.hostname:
            common["server.address"] = parts.hostname
            port = parts.port or (443 if parts.scheme == "https" else 80)
            common["server.port"] = port
        attributes = {
            **common,
            "gen_ai.request.stream": True,
            "streamrecover.strategy": strategy,
        }
        if recovery_id is not None:
            attributes["streamrecover.recovery_id"] = recovery_id
        if self.capture_content:
            attributes["gen_ai.input.messages"] = _input_messages(body)
        links = []
        context = _link_context(link)
        if context is not None:
            links.append(trace.Link(context, {"streamrecover.link": "resumed_from"}))
        span = tracer.start_span(
            f"{operation} {model}" if model else operation,
            kind=trace.SpanKind.CLIENT,
            attributes=attributes,
            links=links,
        )
        return StreamTelemetry(
            tracer=tracer,
            span=span,
            instruments=self._instruments_for(meter_provider),
            common=common,
            strategy=strategy,
            capture_content=self.capture_content,
        )


def _input_messages(body: Mapping[str, Any]) -> str:
    """The request's conversation, for ``gen_ai.input.messages`` (opt-in only)."""
    for field in ("messages", "input", "contents"):
        if field in body:
            return json.dumps(body[field], default=str)
    return "[]"


def _link_context(link: Mapping[str, Any] | None) -> Any:
    """A SpanContext from a stored ``{"trace_id", "span_id"}``, or None."""
    if not link:
        return None
    from opentelemetry.trace import SpanContext, TraceFlags

    try:
        trace_id = int(str(link["trace_id"]), 16)
        span_id = int(str(link["span_id"]), 16)
    except (KeyError, TypeError, ValueError):
        return None
    if not trace_id or not span_id:
        return None
    return SpanContext(
        trace_id=trace_id, span_id=span_id, is_remote=True, trace_flags=TraceFlags(1)
    )
