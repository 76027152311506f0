"""Fallbacks at run time: what the caller sees, hears and finds in storage when a stream falls back.

Every test runs real clients over loopback against fake providers
(:class:`~streamrecover.testing.conformance.fallback_fake.ChainServer`: each
checks its requests for its own wire format, and fails as told).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

import streamrecover as sr
from streamrecover.testing.conformance.fallback_fake import ChainServer
from streamrecover.testing.conformance.scenario import request_body
from streamrecover.testing.fakeprovider import REASONING_TEXT, REFERENCE_TEXT, Answer
from streamrecover.testing.handler_server import HandlerServer

PRIMARY_KEY = "sk-ant-primary-secret-0123456789"
FALLBACK_KEY = "sk-fallback-secret-abcdef0123456789"
FAST = {"backoff_base": 0.001, "backoff_cap": 0.01}
DOWN = {"fault": "http", "status": 529, "headers": {"retry-after": "0"}}


def _url(provider: str, server: HandlerServer) -> str:
    return server.url("/v1") if provider in ("openai", "openai-responses") else server.url()


@contextmanager
def chain(
    *servers: tuple[str, Sequence[Mapping[str, Any]], Mapping[str, Any] | None],
    answer: Answer | None = None,
    expected: Sequence[Mapping[str, Any]] | None = None,
) -> Iterator[list[tuple[ChainServer, HandlerServer]]]:
    """Start one fake provider per ``(provider, attempts, then)``; the first is the primary."""
    started = []
    with ExitStack() as stack:
        for index, (provider, attempts, then) in enumerate(servers):
            native = expected[index] if expected is not None else request_body(provider, {})
            fake = ChainServer(
                provider, native, answer or Answer(text=REFERENCE_TEXT, model=native["model"]),
                attempts, then=then, api_key=PRIMARY_KEY if index == 0 else FALLBACK_KEY,
            )
            server = stack.enter_context(HandlerServer(fake.handle))
            started.append((fake, server))
        yield started


def _fallback(provider: str, server: HandlerServer, **options: Any) -> sr.Fallback:
    model = request_body(provider, {})["model"]
    return sr.Fallback(provider, model, api_key=FALLBACK_KEY, base_url=_url(provider, server),
                       retry=sr.RetryPolicy(**FAST), **options)


def _client(primary: str, server: HandlerServer, **options: Any) -> sr.Client:
    options.setdefault("retry", sr.RetryPolicy(max_retries=1, max_resumes=1, **FAST))
    return sr.Client(primary, api_key=PRIMARY_KEY, base_url=_url(primary, server), budget=None,
                     **options)


def _consume(stream: sr.Stream) -> tuple[str, list[sr.Event]]:
    text, events = "", []
    with stream:
        for event in stream:
            events.append(event)
            if isinstance(event, sr.TextDelta):
                text += event.text
            elif isinstance(event, sr.Rewind):
                text = event.apply(text)
    return text, events


def test_primary_down_the_fallback_finishes_and_everyone_is_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    told: list[tuple[sr.FellBack, str | None]] = []
    with chain(("anthropic", [], DOWN), ("openai", [], None)) as [(primary, p), (fallback, f)]:
        client = _client("anthropic", p, fallbacks=[_fallback("openai", f)],
                         on_fallback=lambda event, rid: told.append((event, rid)))
        with caplog.at_level(logging.WARNING, logger="streamrecover"):
            text, events = _consume(client.stream(**request_body("anthropic", {})))
        stream_id = client.storage.get(told[0][1] or "").id if client.storage else None
    assert text == REFERENCE_TEXT
    assert [type(e).__name__ for e in events].count("FellBack") == 1
    (event, recovery_id), = told
    assert (event.from_provider, event.to_provider, event.model, event.offset) == (
        "anthropic", "openai", "gpt-4.1-mini", 0)
    assert isinstance(event.cause, sr.HTTPStatusError) and event.cause.status == 529
    assert recovery_id == stream_id
    assert len(primary.seen) == 2 and len(fallback.seen) == 1
    records = [r for r in caplog.records if getattr(r, "fallback_to", None) == "openai"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "goes on with openai (gpt-4.1-mini)" in records[0].getMessage()
    assert records[0].fallback_from == "anthropic"  # type: ignore[attr-defined]
    for record in caplog.records:
        assert PRIMARY_KEY not in record.getMessage()
        assert FALLBACK_KEY not in record.getMessage()


def test_stream_reports_who_finished_the_answer_and_the_record_who_served() -> None:
    cut = [{"fault": "reset", "after_text": 4}]
    with chain(("openai", cut, DOWN), ("anthropic", [], None)) as [(_, p), (fallback, f)]:
        client = _client("openai", p, fallbacks=[_fallback("anthropic", f)])
        stream = client.stream(**request_body("openai", {}))
        assert (stream.provider, stream.model, stream.providers) == ("openai", "gpt-4.1-mini", ())
        text, events = _consume(stream)
        assert client.storage is not None
        record = client.storage.get(stream.recovery_id or "")
    assert text == stream.text == REFERENCE_TEXT
    assert (stream.provider, stream.model) == ("anthropic", "claude-sonnet-4-5")
    fell = next(e for e in events if isinstance(e, sr.FellBack))
    assert 0 < fell.offset < len(REFERENCE_TEXT)
    assert [(c.provider, c.model, c.offset) for c in record.providers] == [
        ("openai", "gpt-4.1-mini", 0), ("anthropic", "claude-sonnet-4-5", fell.offset)]
    assert record.providers[1].cause.startswith("resumes_exhausted: HTTPStatusError: HTTP 529")
    assert record.providers == stream.providers
    assert (record.provider, record.status, record.text) == ("openai", "completed", text)
    # Claude Sonnet 4.5 takes a prefill: the fallback's own rule, not the primary's.
    assert fallback.seen[0].inspection.prefill
    assert stream.attempts == 3 and stream.resumes == 2  # cut, resume (529), fallback
    assert stream.usage.output_tokens > 0
    assert PRIMARY_KEY not in record.to_json() and FALLBACK_KEY not in record.to_json()


def test_a_body_a_fallback_cannot_carry_is_refused_before_anything_is_sent() -> None:
    body = request_body("anthropic", {})
    body["system"] = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    with chain(("anthropic", [], None), ("gemini", [], None),
               expected=[body, request_body("gemini", {})]) as [(primary, p), (_, f)]:
        client = _client("anthropic", p, fallbacks=[_fallback("gemini", f)])
        with pytest.raises(sr.UntranslatableError, match="cache_control"):
            client.stream(**body)
        # The same body without that fallback streams.
        text, _ = _consume(client.stream(fallbacks=[], **body))
    assert text == REFERENCE_TEXT
    assert len(primary.seen) == 1


@pytest.mark.parametrize("bad", [object(), "openai", [object()]])
def test_fallbacks_must_be_a_list_of_fallback(bad: object) -> None:
    with pytest.raises(sr.UsageError, match="Fallback"):
        sr.Client("openai", api_key="sk-x", fallbacks=bad)  # type: ignore[arg-type]


def test_a_single_fallback_not_in_a_list_is_refused() -> None:
    with pytest.raises(sr.UsageError, match="list"):
        sr.Client("openai", api_key="sk-x", fallbacks=sr.Fallback("anthropic", "m"))  # type: ignore[arg-type]


def test_per_call_fallbacks_override_the_clients() -> None:
    with chain(("anthropic", [], DOWN), ("openai", [], None), ("gemini", [], None)) as servers:
        (_, p), (openai_fake, o), (gemini_fake, g) = servers
        client = _client("anthropic", p, fallbacks=[_fallback("openai", o)])
        text, _ = _consume(client.stream(fallbacks=[_fallback("gemini", g)],
                                         **request_body("anthropic", {})))
        assert text == REFERENCE_TEXT and not openai_fake.seen and len(gemini_fake.seen) == 1
        with pytest.raises(sr.StreamInterrupted) as caught:
            _consume(client.stream(fallbacks=None, **request_body("anthropic", {})))
    assert not isinstance(caught.value, sr.FallbacksExhausted)
    assert caught.value.reason == "retries_exhausted"


def test_a_final_error_does_not_fall_back() -> None:
    with chain(("openai", [], {"fault": "http", "status": 400}), ("anthropic", [], None)) as [
        (_, p), (fallback, f)
    ]:
        client = _client("openai", p, fallbacks=[_fallback("anthropic", f)])
        with pytest.raises(sr.StreamInterrupted) as caught:
            _consume(client.stream(**request_body("openai", {})))
    assert caught.value.reason == "not_retryable"
    assert isinstance(caught.value.cause, sr.HTTPStatusError) and caught.value.cause.status == 400
    assert not fallback.seen


def test_a_final_error_on_the_fallback_names_both_providers() -> None:
    with chain(("gemini", [], DOWN), ("openai", [], {"fault": "http", "status": 401})) as [
        (_, p), (fallback, f)
    ]:
        client = _client("gemini", p, fallbacks=[_fallback("openai", f)])
        with pytest.raises(sr.FallbacksExhausted) as caught:
            _consume(client.stream(**request_body("gemini", {})))
    error = caught.value
    assert [(provider, model) for provider, model, _ in error.failures] == [
        ("gemini", "gemini-2.0-flash"), ("openai", "gpt-4.1-mini")]
    assert "retries_exhausted" in error.failures[0][2] and "401" in error.failures[1][2]
    assert "gemini (gemini-2.0-flash)" in str(error) and "openai (gpt-4.1-mini)" in str(error)
    assert error.reason == "fallbacks_exhausted" and not error.recoverable
    assert FALLBACK_KEY not in str(error) and len(fallback.seen) == 1


def test_thinking_cut_before_any_text_is_rewound_and_regenerated_on_the_fallback() -> None:
    # Thinking has no faithful translation: the caller's own translate= builds the body.
    thinking = request_body("anthropic", {"thinking": True})
    native = request_body("openai", {})

    def translate(body: Mapping[str, Any], source: str) -> dict[str, Any]:
        assert source == "anthropic" and body["thinking"]["type"] == "enabled"
        return {**native, "model": "ignored: the Fallback's model wins"}

    answer = Answer(text=REFERENCE_TEXT, reasoning=REASONING_TEXT, model="claude-sonnet-4-5")
    with chain(("anthropic", [{"fault": "reset", "in": "reasoning"}], DOWN),
               ("openai", [], None), answer=answer, expected=[thinking, native]) as [
        (_, p), (fallback, f)
    ]:
        # No resume allowed on the primary: it gives up with half the thinking delivered.
        client = _client("anthropic", p, fallbacks=[_fallback("openai", f, translate=translate)],
                         retry=sr.RetryPolicy(max_resumes=0, **FAST))
        stream = client.stream(**thinking)
        reasoning, events = "", []
        with stream:
            for event in stream:
                events.append(event)
                if isinstance(event, sr.ReasoningDelta):
                    reasoning += event.text
                elif isinstance(event, sr.Rewind) and event.reasoning_to is not None:
                    reasoning = reasoning[: event.reasoning_to]
    kinds = [type(e).__name__ for e in events]
    fell = kinds.index("FellBack")
    assert "ReasoningDelta" in kinds[:fell]  # half the thinking reached the consumer
    rewind = events[fell + 1]
    assert isinstance(rewind, sr.Rewind) and (rewind.to, rewind.reasoning_to) == (0, 0)
    assert fallback.seen[0].inspection.kind == "original"
    assert stream.text == REFERENCE_TEXT
    assert reasoning == REASONING_TEXT  # the fallback's own, whole (the same fake answer)


def test_resume_of_a_stream_that_fell_back_goes_on_where_it_was_last_served(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path}/streams.db"
    cut = [{"fault": "reset", "after_text": 3}]
    with chain(("anthropic", [], DOWN), ("openai", cut, DOWN)) as [(primary, p), (fallback, f)]:
        client = _client("anthropic", p, storage=storage, fallbacks=[_fallback("openai", f)])
        with pytest.raises(sr.FallbacksExhausted) as caught:
            _consume(client.stream(**request_body("anthropic", {})))
        recovery_id = caught.value.recovery_id or ""
        partial = caught.value.committed_text
        assert partial and REFERENCE_TEXT.startswith(partial)
        client.close()
        # Later, in another process: the same fallbacks configuration, the fallback is back.
        fallback.then = {"fault": "none"}
        before = len(primary.seen)
        later = _client("anthropic", p, storage=storage, fallbacks=[_fallback("openai", f)])
        with later.resume(recovery_id) as stream:
            rest = "".join(stream.text_stream)
        assert partial + rest == stream.text == REFERENCE_TEXT
        assert stream.provider == "openai" and len(primary.seen) == before
        assert fallback.seen[-1].inspection.kind == "continuation"
        assert later.storage is not None
        record = later.storage.get(recovery_id)
        assert record.status == "completed" and record.text == REFERENCE_TEXT
        assert [c.provider for c in record.providers] == ["anthropic", "openai"]
        later.close()
        # A client that has no such fallback cannot, and says which one it needs.
        bare = _client("anthropic", p, storage=storage)
        record_id = _interrupted_fallback_record(bare, recovery_id)
        with pytest.raises(sr.UsageError, match=r"Fallback\('openai', 'gpt-4.1-mini'"):
            bare.resume(record_id)
        bare.close()


def _interrupted_fallback_record(client: sr.Client, template_id: str) -> str:
    """A copy of ``template_id``'s record, interrupted mid-answer on the fallback."""
    from dataclasses import replace

    from streamrecover.storage.record import new_record

    assert client.storage is not None
    source = client.storage.get(template_id)
    fresh = new_record(provider=source.provider, model=source.model, request=source.request)
    copy = replace(fresh, chunks=(source.text[:40],), status="interrupted",
                   providers=source.providers)
    client.storage.create(copy)
    return copy.id


def test_cli_show_lists_every_provider_that_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from streamrecover.cli import main

    storage = f"sqlite:///{tmp_path}/streams.db"
    cut = [{"fault": "reset", "after_text": 2}]
    with chain(("openai", cut, DOWN), ("gemini", [], None)) as [(_, p), (_, f)]:
        client = _client("openai", p, storage=storage, fallbacks=[_fallback("gemini", f)])
        stream = client.stream(**request_body("openai", {}))
        _consume(stream)
        client.close()
    offset = stream.providers[1].offset
    assert main(["show", stream.recovery_id or "", "--storage", storage]) == 0
    out = capsys.readouterr().out
    assert (f"providers: openai (gpt-4.1-mini) from char 0, gemini (gemini-2.0-flash) "
            f"from char {offset}") in out
    assert f"fell_back: to gemini at char {offset}: resumes_exhausted: HTTPStatusError" in out
    assert main(["show", stream.recovery_id or "", "--storage", storage, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [entry["provider"] for entry in shown["providers"]] == ["openai", "gemini"]


def test_telemetry_records_a_fell_back_span_event() -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    with chain(("anthropic", [], DOWN), ("openai", [], None)) as [(_, p), (_, f)]:
        client = _client("anthropic", p, fallbacks=[_fallback("openai", f)],
                         tracer_provider=tracer_provider)
        _consume(client.stream(**request_body("anthropic", {})))
    (stream_span,) = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]
    (event,) = [e for e in stream_span.events if e.name == "streamrecover.fell_back"]
    assert dict(event.attributes or {}) == {
        "streamrecover.fallback.from": "anthropic",
        "streamrecover.fallback.to": "openai",
        "streamrecover.fallback.model": "gpt-4.1-mini",
        "streamrecover.fallback.offset": 0,
        "streamrecover.cause": "overloaded_error",
    }
    assert (stream_span.attributes or {})["streamrecover.fallback.provider"] == "openai"


@pytest.mark.anyio
async def test_async_client_falls_back_the_same_way() -> None:
    cut = [{"fault": "reset", "after_text": 3}]
    with chain(("openai-responses", cut, DOWN), ("anthropic", [], None)) as [(_, p), (_, f)]:
        async with sr.AsyncClient(
            "openai-responses", api_key=PRIMARY_KEY, base_url=_url("openai-responses", p),
            budget=None, retry=sr.RetryPolicy(max_resumes=1, **FAST),
            fallbacks=[_fallback("anthropic", f)],
        ) as client:
            stream = client.stream(**request_body("openai-responses", {}))
            kinds = []
            async with stream:
                async for event in stream:
                    kinds.append(type(event).__name__)
    assert stream.text == REFERENCE_TEXT
    assert kinds.count("FellBack") == 1 and kinds[-1] == "Completed"
    assert (stream.provider, stream.model) == ("anthropic", "claude-sonnet-4-5")
    assert [c.provider for c in stream.providers] == ["openai-responses", "anthropic"]


def test_a_fallbacks_key_comes_from_its_providers_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FALLBACK_KEY)
    with chain(("anthropic", [], DOWN), ("openai", [], None)) as [(_, p), (fallback, f)]:
        model = request_body("openai", {})["model"]
        client = _client("anthropic", p, fallbacks=[
            sr.Fallback("openai", model, base_url=_url("openai", f))])
        text, _ = _consume(client.stream(**request_body("anthropic", {})))
    assert text == REFERENCE_TEXT
    assert fallback.problems == []  # its auth header carried FALLBACK_KEY
    assert FALLBACK_KEY not in repr(client.fallbacks)


def test_cli_resume_of_a_stream_that_fell_back_uses_the_fallbacks_environment_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamrecover.cli import main

    storage = f"sqlite:///{tmp_path}/streams.db"
    cut = [{"fault": "reset", "after_text": 3}]
    with chain(("anthropic", [], DOWN), ("openai", cut, DOWN)) as [(primary, p), (fallback, f)]:
        client = _client("anthropic", p, storage=storage, fallbacks=[_fallback("openai", f)])
        with pytest.raises(sr.FallbacksExhausted) as caught:
            _consume(client.stream(**request_body("anthropic", {})))
        client.close()
        recovery_id = caught.value.recovery_id or ""
        partial = caught.value.committed_text
        fallback.then = {"fault": "none"}
        before = len(primary.seen)
        assert main(["resume", recovery_id, "--storage", storage]) == 2  # no OPENAI_API_KEY
        assert "OPENAI_API_KEY" in capsys.readouterr().err
        monkeypatch.setenv("OPENAI_API_KEY", FALLBACK_KEY)
        assert main(["resume", recovery_id, "--storage", storage]) == 0
    assert partial + capsys.readouterr().out.rstrip("\n") == REFERENCE_TEXT
    assert len(primary.seen) == before and fallback.problems == []


def test_a_resumed_stream_may_fall_back_further_down_the_chain(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/streams.db"
    cut = [{"fault": "reset", "after_text": 3}]
    with chain(("anthropic", [], DOWN), ("openai", cut, DOWN), ("gemini", [], None)) as servers:
        (_, p), (_, o), (gemini, g) = servers
        fallbacks = [_fallback("openai", o), _fallback("gemini", g)]
        client = _client("anthropic", p, storage=storage, fallbacks=fallbacks)
        with pytest.raises(sr.FallbacksExhausted) as caught:
            # This call had only the OpenAI fallback.
            _consume(client.stream(fallbacks=fallbacks[:1], **request_body("anthropic", {})))
        recovery_id = caught.value.recovery_id or ""
        with client.resume(recovery_id) as stream:  # on OpenAI, still down: on to Gemini
            events = list(stream)
        assert client.storage is not None
        record = client.storage.get(recovery_id)
        client.close()
    assert stream.text == REFERENCE_TEXT and stream.provider == "gemini"
    hops = [(e.from_provider, e.to_provider) for e in events if isinstance(e, sr.FellBack)]
    assert hops == [("openai", "gemini")]
    assert [c.provider for c in record.providers] == ["anthropic", "openai", "gemini"]
    assert gemini.seen[0].inspection.kind == "continuation"
