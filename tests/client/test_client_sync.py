"""End-to-end tests of the sync Client over real loopback sockets.

Every stream runs against a scripted fake server (:class:`ReferenceServer`)
that speaks one provider's wire format; whatever breaks, the text the consumer
ends up with must be the reference answer, exactly.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from reference_frames import (
    FAST_RETRY,
    FINISH_REASONS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    PROVIDERS,
    REFERENCE,
    Outcome,
    Received,
    ReferenceServer,
    answer,
    base_url,
    partial_of,
    pieces,
    prefix,
    request_body,
)

import streamrecover as sr
from streamrecover.core.errors import HTTPStatusError, StreamInterrupted, TransportError
from streamrecover.core.events import Resumed, Retrying, Rewind, TextDelta
from streamrecover.testing.server import (
    Close,
    Reset,
    Stall,
    Step,
    http_response,
    unused_port,
)
from streamrecover.transport import SyncTransport, Timeouts

FAULTS: dict[str, Step] = {
    "reset": Reset(),
    "close": Close(),
    "stall": Stall(max_seconds=10),
}
#: Enough for a stalled stream to be declared idle quickly.
SHORT_IDLE = Timeouts(idle=0.2)


def client_for(server: ReferenceServer, provider: str, **options: Any) -> sr.Client:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("api_key", "test-key")
    return sr.Client(provider, base_url=base_url(server, provider), **options)


def consume(stream: sr.Stream, received: Received | None = None) -> Received:
    received = received if received is not None else Received()
    for event in stream:
        received.feed(event)
    return received


def run(
    scripts: list[Any],
    provider: str,
    *,
    received: Received | None = None,
    call: dict[str, Any] | None = None,
    ssl_context: Any = None,
    **options: Any,
) -> Outcome:
    """Stream one answer from a server playing ``scripts``; a give-up is returned, not raised.

    ``call`` holds per-call options of ``stream()``; ``options`` go to the Client.
    """
    received = received if received is not None else Received()
    error = None
    with ReferenceServer(scripts, ssl_context=ssl_context) as server:
        client = client_for(server, provider, **options)
        with client, client.stream(**(call or {}), **request_body(provider)) as stream:
            try:
                consume(stream, received)
            except StreamInterrupted as exc:
                error = exc
            record = None
            if client.storage is not None and stream.recovery_id is not None:
                record = client.storage.get(stream.recovery_id)
        requests = server.requests
    return Outcome(
        provider=provider,
        stream=stream,
        received=received,
        error=error,
        record=record,
        requests=requests,
    )


# ---------------------------------------------------------------------------
# A stream that nothing breaks


@pytest.mark.parametrize("provider", PROVIDERS)
def test_normal_stream(provider: str) -> None:
    outcome = run([[answer(provider)]], provider)
    stream, record = outcome.stream, outcome.record
    assert outcome.error is None
    assert outcome.received.text == stream.text == REFERENCE
    assert stream.completed
    assert (stream.attempts, stream.resumes) == (1, 0)
    assert stream.finish_reason == FINISH_REASONS[provider]
    assert stream.usage.input_tokens == INPUT_TOKENS
    assert stream.usage.output_tokens == OUTPUT_TOKENS
    assert outcome.received.of_type(Retrying) == []
    assert record is not None
    assert (record.status, record.text, record.provider) == ("completed", REFERENCE, provider)
    assert record.attempts == 1
    assert record.usage["output_tokens"] == OUTPUT_TOKENS
    assert [request.method for request in outcome.requests] == ["POST"]


def test_until_done_returns_the_text() -> None:
    with (
        ReferenceServer([[answer("openai")]]) as server,
        client_for(server, "openai") as client,
        client.stream(**request_body("openai")) as stream,
    ):
        assert stream.until_done() == REFERENCE


def test_client_without_storage_has_no_recovery_id() -> None:
    outcome = run([[answer("anthropic")]], "anthropic", storage=None)
    assert outcome.received.text == REFERENCE
    assert outcome.stream.recovery_id is None
    assert outcome.record is None


# ---------------------------------------------------------------------------
# Faults before the first byte


def test_refused_connection_gives_up_after_retries() -> None:
    retry = sr.RetryPolicy(max_retries=2, backoff_base=0.001, backoff_cap=0.005)
    url = f"http://127.0.0.1:{unused_port()}/v1"
    with sr.Client("openai", base_url=url, api_key="k", retry=retry) as client:
        stream = client.stream(**request_body("openai"))
        with stream, pytest.raises(StreamInterrupted) as caught:
            consume(stream)
        assert client.storage is not None and stream.recovery_id is not None
        record = client.storage.get(stream.recovery_id)
    error = caught.value
    assert error.recoverable is True
    assert isinstance(error.cause, TransportError)
    assert error.cause.kind == "connect_refused"
    assert error.attempts == 3
    assert error.committed_text == ""
    assert error.recovery_id == stream.recovery_id
    assert record.status == "interrupted"
    assert record.error is not None and record.error.recoverable


@pytest.mark.parametrize("provider", PROVIDERS)
def test_reset_before_headers_then_success(provider: str) -> None:
    outcome = run([[Reset()], [answer(provider)]], provider)
    assert outcome.received.text == outcome.stream.text == REFERENCE
    assert (outcome.stream.attempts, outcome.stream.resumes) == (2, 0)
    (retrying,) = outcome.received.of_type(Retrying)
    assert retrying.resume is False
    assert isinstance(retrying.cause, TransportError)
    # An invisible retry sends the original request again.
    assert outcome.partials == ["", ""]


def test_529_with_retry_after_zero_then_success() -> None:
    overloaded = json.dumps({"type": "error", "error": {"type": "overloaded_error"}})
    first = http_response(529, overloaded, headers=[("retry-after", "0")])
    outcome = run([first, [answer("anthropic")]], "anthropic")
    assert outcome.received.text == REFERENCE
    assert outcome.stream.attempts == 2
    (retrying,) = outcome.received.of_type(Retrying)
    assert isinstance(retrying.cause, HTTPStatusError)
    assert retrying.cause.status == 529


# ---------------------------------------------------------------------------
# Faults after partial output


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_after_partial_output_resumes_exactly(provider: str, fault: str) -> None:
    gate = threading.Event()
    delivered = prefix(4)
    first = answer(provider, cut_after=4, fault=FAULTS[fault], gate=gate)
    second = answer(provider, overlap_words=2)
    outcome = run(
        [[first], [second]],
        provider,
        received=Received(gate, gate_at=len(delivered)),
        timeouts=SHORT_IDLE,
    )
    stream, received, record = outcome.stream, outcome.received, outcome.record
    assert received.text == stream.text == REFERENCE
    assert (stream.attempts, stream.resumes) == (2, 1)
    # The continuation repeated two words; the stitcher removed them.
    assert stream.overlap_removed == len(" ".join(delivered.split()[-2:]))
    assert received.of_type(Rewind) == []
    (resumed,) = received.of_type(Resumed)
    assert resumed.strategy == "exact"
    # The resume request carries exactly what the consumer had seen.
    assert outcome.partials == ["", delivered]
    assert record is not None
    assert (record.status, record.text, record.attempts, record.resumes) == (
        "completed",
        REFERENCE,
        2,
        1,
    )


@pytest.mark.parametrize(
    ("provider", "strategy"), [("anthropic", "exact"), ("gemini", "paragraph")]
)
def test_every_cut_position_stitches_exactly(provider: str, strategy: str) -> None:
    # One client, one stream per cut position: cut after n words, then a
    # continuation that repeats the last word of what it was given.
    cuts = range(1, len(pieces(REFERENCE)))
    scripts = []
    for words in cuts:
        scripts += [
            [answer(provider, cut_after=words, fault=Close())],
            [answer(provider, overlap_words=1)],
        ]
    texts = []
    with ReferenceServer(scripts) as server:
        # No retry budget: these are many faults in a row on one client, on purpose.
        client = client_for(server, provider, strategy=strategy, storage=None, budget=None)
        with client:
            for _ in cuts:
                with client.stream(**request_body(provider)) as stream:
                    texts.append((consume(stream).text, stream.text, stream.resumes))
    assert texts == [(REFERENCE, REFERENCE, 1)] * len(cuts)


# ---------------------------------------------------------------------------
# text_stream


def test_text_stream_exact_yields_text_at_once() -> None:
    # The server stalls after four words: text_stream must hand them over
    # while the connection is still open, not when the answer completes.
    stalled = answer("openai", cut_after=4, fault=Stall(max_seconds=10))
    retry = sr.RetryPolicy(max_retries=0, max_resumes=0)
    shown = ""
    with ReferenceServer([[stalled]]) as server:
        client = client_for(server, "openai", retry=retry, timeouts=Timeouts(idle=5))
        with client, client.stream(**request_body("openai")) as stream:
            for chunk in stream.text_stream:
                shown += chunk
                if shown == prefix(4):
                    break
        assert server.wait_for_disconnect(0)
    assert shown == prefix(4)


def test_text_stream_paragraph_yields_whole_paragraphs_before_the_end() -> None:
    # Seven words make the first paragraph and the start of the second.
    stalled = answer("openai", cut_after=7, fault=Stall(max_seconds=10))
    retry = sr.RetryPolicy(max_retries=0, max_resumes=0)
    first_paragraph = REFERENCE.split("\n\n")[0] + "\n\n"
    with ReferenceServer([[stalled]]) as server:
        client = client_for(
            server, "openai", retry=retry, strategy="paragraph", timeouts=Timeouts(idle=5)
        )
        with client, client.stream(**request_body("openai")) as stream:
            chunk = next(iter(stream.text_stream))
    assert chunk == first_paragraph


@pytest.mark.parametrize("strategy", ["exact", "paragraph", "restart"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_text_stream_never_shows_rolled_back_text(provider: str, strategy: str) -> None:
    # Cut after the first paragraph and two words of the second: "paragraph"
    # rolls the two words back, "restart" rolls everything back.
    first = answer(provider, cut_after=9, fault=Close())
    second = answer(provider, overlap_words=1)
    with ReferenceServer([[first], [second]]) as server:
        client = client_for(server, provider, strategy=strategy)
        with client, client.stream(**request_body(provider)) as stream:
            chunks = list(stream.text_stream)
        requests = server.requests
    assert "".join(chunks) == stream.text == REFERENCE
    assert stream.resumes == 1
    expected_partial = {
        "exact": prefix(9),
        "paragraph": REFERENCE.split("\n\n")[0] + "\n\n",
        "restart": "",
    }[strategy]
    if provider == "anthropic":
        # An Anthropic prefill loses its trailing whitespace.
        expected_partial = expected_partial.rstrip()
    assert partial_of(provider, requests[1]) == expected_partial


# ---------------------------------------------------------------------------
# Cancellation


def test_leaving_the_with_block_closes_the_connection_and_marks_cancelled() -> None:
    stalled = answer("gemini", cut_after=3, fault=Stall(max_seconds=10))
    with ReferenceServer([[stalled]]) as server, client_for(server, "gemini") as client:
        with client.stream(**request_body("gemini")) as stream:
            for event in stream:
                if isinstance(event, TextDelta):
                    break
        # The server sees the client go while it is still stalling.
        assert server.wait_for_disconnect(0)
        assert not stream.completed
        assert client.storage is not None and stream.recovery_id is not None
        record = client.storage.get(stream.recovery_id)
        assert (record.status, record.text) == ("cancelled", prefix(1))
        assert len(server.connections) == 1


def test_leaving_between_two_events_of_one_read_stores_exactly_what_was_taken() -> None:
    # Five words arrive (mostly in one socket read) before the server stalls: the
    # record and the stream's text hold the two the consumer took, not five.
    stalled = answer("openai", cut_after=5, fault=Stall(max_seconds=10))
    with ReferenceServer([[stalled]]) as server, client_for(server, "openai") as client:
        taken = ""
        with client.stream(**request_body("openai")) as stream:
            for event in stream:
                if isinstance(event, TextDelta):
                    taken += event.text
                    if taken == prefix(2):
                        break
        assert client.storage is not None and stream.recovery_id is not None
        record = client.storage.get(stream.recovery_id)
        assert (record.status, record.text, stream.text) == ("cancelled", prefix(2), prefix(2))


def test_close_without_iterating_marks_cancelled() -> None:
    with ReferenceServer([[answer("openai")]]) as server, client_for(server, "openai") as client:
        stream = client.stream(**request_body("openai"))
        stream.close()
        assert client.storage is not None and stream.recovery_id is not None
        assert client.storage.get(stream.recovery_id).status == "cancelled"
        # Nothing was sent.
        assert server.connections == []


def test_an_exception_in_the_block_closes_and_marks_cancelled() -> None:
    stalled = answer("openai", cut_after=2, fault=Stall(max_seconds=10))
    with ReferenceServer([[stalled]]) as server, client_for(server, "openai") as client:
        with pytest.raises(KeyError), client.stream(**request_body("openai")) as stream:
            next(iter(stream))
            raise KeyError("consumer failed")
        assert server.wait_for_disconnect(0)
        assert client.storage is not None and stream.recovery_id is not None
        assert client.storage.get(stream.recovery_id).status == "cancelled"


# ---------------------------------------------------------------------------
# Giving up, and the hooks


class Hooks:
    """Records every hook call with its recovery id."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, str | None]] = []

    def options(self) -> dict[str, Any]:
        return {
            "on_retry": lambda event, rid: self.calls.append(("retry", event, rid)),
            "on_resume": lambda event, rid: self.calls.append(("resume", event, rid)),
            "on_give_up": lambda error, rid: self.calls.append(("give_up", error, rid)),
        }

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.calls]


def test_401_gives_up_at_once_and_marks_failed() -> None:
    hooks = Hooks()
    body = json.dumps({"error": {"type": "invalid_request_error", "message": "bad key"}})
    outcome = run([http_response(401, body)], "openai", **hooks.options())
    error, record = outcome.error, outcome.record
    assert error is not None and record is not None
    assert error.recoverable is False
    assert isinstance(error.cause, HTTPStatusError)
    assert error.cause.status == 401
    assert error.attempts == 1
    assert error.committed_text == ""
    assert error.recovery_id == outcome.stream.recovery_id
    assert record.status == "failed"
    assert record.error is not None
    assert (record.error.type, record.error.recoverable) == ("HTTPStatusError", False)
    assert hooks.calls == [("give_up", error, outcome.stream.recovery_id)]
    assert len(outcome.requests) == 1


def test_exhausted_retries_before_output_mark_interrupted() -> None:
    hooks = Hooks()
    retry = sr.RetryPolicy(max_retries=2, backoff_base=0.001, backoff_cap=0.005)
    failing = http_response(500, '{"error": {"message": "boom"}}')
    outcome = run([failing] * 3, "openai", retry=retry, **hooks.options())
    error, record = outcome.error, outcome.record
    assert error is not None and record is not None
    assert error.recoverable is True
    assert error.attempts == 3
    assert isinstance(error.cause, HTTPStatusError) and error.cause.status == 500
    assert record.status == "interrupted"
    assert hooks.kinds() == ["retry", "retry", "give_up"]
    retries = [event for kind, event, _ in hooks.calls if kind == "retry"]
    assert all(isinstance(event, Retrying) and not event.resume for event in retries)
    assert [event.attempt for event in retries] == [2, 3]  # type: ignore[attr-defined]
    assert {rid for _, _, rid in hooks.calls} == {outcome.stream.recovery_id}
    assert hooks.calls[-1][1] is error


def test_exhausted_resumes_keep_the_committed_text() -> None:
    hooks = Hooks()
    retry = sr.RetryPolicy(max_retries=0, max_resumes=1, backoff_base=0.001, backoff_cap=0.005)
    first = answer("anthropic", cut_after=3, fault=Close())
    second = answer("anthropic", cut_after=2, fault=Close())
    outcome = run([[first], [second]], "anthropic", retry=retry, **hooks.options())
    error, record = outcome.error, outcome.record
    assert error is not None and record is not None
    assert error.recoverable is True
    assert error.committed_text == prefix(5) == outcome.received.text == outcome.stream.text
    assert error.recovery_id == outcome.stream.recovery_id
    assert (record.status, record.text) == ("interrupted", prefix(5))
    assert hooks.kinds() == ["retry", "resume", "give_up"]
    retry_event, resume_event = hooks.calls[0][1], hooks.calls[1][1]
    assert isinstance(retry_event, Retrying) and retry_event.resume is True
    assert isinstance(resume_event, Resumed)
    assert (resume_event.strategy, resume_event.attempt) == ("exact", 2)
    assert {rid for _, _, rid in hooks.calls} == {outcome.stream.recovery_id}


# ---------------------------------------------------------------------------
# Credentials


SECRET = "sk-streamrecover-test-7f3a9c2e1b5d"
GOOGLE_SECRET = "AIzaStreamRecoverTestKey0123456789"


class KeyCase(NamedTuple):
    provider: str
    variable: str
    key: str
    header: str
    value: str


KEY_CASES = [
    KeyCase("openai", "OPENAI_API_KEY", SECRET, "authorization", f"Bearer {SECRET}"),
    KeyCase("openai-responses", "OPENAI_API_KEY", SECRET, "authorization", f"Bearer {SECRET}"),
    KeyCase("anthropic", "ANTHROPIC_API_KEY", SECRET, "x-api-key", SECRET),
    KeyCase("gemini", "GEMINI_API_KEY", GOOGLE_SECRET, "x-goog-api-key", GOOGLE_SECRET),
    KeyCase("gemini", "GOOGLE_API_KEY", GOOGLE_SECRET, "x-goog-api-key", GOOGLE_SECRET),
]


def stored_bytes(path: Path) -> bytes:
    """The bytes of a SQLite database and its WAL and shared-memory files."""
    found = b""
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            found += candidate.read_bytes()
    return found


@pytest.mark.parametrize("case", KEY_CASES, ids=[f"{c.provider}-{c.variable}" for c in KEY_CASES])
def test_api_key_from_environment_is_sent_never_logged_never_stored(
    case: KeyCase,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(case.variable, case.key)
    caplog.set_level(logging.DEBUG, logger="streamrecover")
    database = tmp_path / "streams.db"
    first = answer(case.provider, cut_after=3, fault=Close())
    outcome = run(
        [[first], [answer(case.provider)]],
        case.provider,
        api_key=None,  # from the environment
        storage=f"sqlite:///{database}",
    )
    assert outcome.received.text == REFERENCE
    assert len(outcome.requests) == 2
    assert all(request.header(case.header) == case.value for request in outcome.requests)
    assert any("resuming" in message for message in caplog.messages)  # something was logged
    assert case.key not in caplog.text
    assert b"Streams break" in stored_bytes(database)  # the answer was stored...
    assert case.key.encode() not in stored_bytes(database)  # ...and the key was not


def test_gemini_prefers_gemini_api_key_over_google_api_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", GOOGLE_SECRET)
    monkeypatch.setenv("GOOGLE_API_KEY", "AIzaTheOtherKeyThatMustNotBeUsed000")
    outcome = run([[answer("gemini")]], "gemini", api_key=None)
    (request,) = outcome.requests
    assert request.header("x-goog-api-key") == GOOGLE_SECRET


def test_explicit_api_key_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    outcome = run([[answer("anthropic")]], "anthropic", api_key="explicit-key")
    (request,) = outcome.requests
    assert request.header("x-api-key") == "explicit-key"


def test_no_key_anywhere_sends_no_auth_header() -> None:
    outcome = run([[answer("openai")]], "openai", api_key=None)
    (request,) = outcome.requests
    assert request.header("authorization") is None


def run_against_a_server_that_echoes_the_key(
    caplog: pytest.LogCaptureFixture, database: Path
) -> Outcome:
    # Some OpenAI-compatible servers quote the key they rejected in the error body.
    caplog.set_level(logging.DEBUG, logger="streamrecover")
    body = json.dumps({"error": {"message": f"Incorrect API key provided: {SECRET}"}})
    return run(
        [http_response(401, body)], "openai", api_key=SECRET, storage=f"sqlite:///{database}"
    )


def test_a_key_echoed_in_an_error_body_is_not_stored(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    database = tmp_path / "streams.db"
    outcome = run_against_a_server_that_echoes_the_key(caplog, database)
    assert outcome.error is not None
    assert b"Incorrect API key provided" in stored_bytes(database)
    assert SECRET.encode() not in stored_bytes(database)


# Regression (was a bug, fixed).
def test_a_key_echoed_in_an_error_body_is_not_logged(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    run_against_a_server_that_echoes_the_key(caplog, tmp_path / "streams.db")
    assert "giving up" in caplog.text
    assert SECRET not in caplog.text


# ---------------------------------------------------------------------------
# Per-call overrides


def test_per_call_retry_policy_overrides_the_clients() -> None:
    never = sr.RetryPolicy(max_retries=0, max_resumes=0)
    refused = run([[Reset()], [answer("openai")]], "openai", retry=never)
    assert refused.error is not None and refused.stream.attempts == 1
    allowed = run(
        [[Reset()], [answer("openai")]], "openai", retry=never, call={"retry": FAST_RETRY}
    )
    assert allowed.error is None
    assert allowed.received.text == REFERENCE
    assert allowed.stream.attempts == 2


def test_per_call_strategy_overrides_the_clients() -> None:
    first = answer("openai", cut_after=4, fault=Close())
    outcome = run(
        [[first], [answer("openai")]], "openai", strategy="exact", call={"strategy": "restart"}
    )
    received, record, requests = outcome.received, outcome.record, outcome.requests
    assert received.text == REFERENCE
    assert [rewind.to for rewind in received.of_type(Rewind)] == [0]
    assert [event.strategy for event in received.of_type(Resumed)] == ["restart"]
    assert outcome.partials == ["", ""]
    assert json.loads(requests[1].body) == json.loads(requests[0].body)
    assert record is not None
    assert record.options["strategy"] == "restart"
    assert record.text == REFERENCE


def test_an_unknown_per_call_strategy_is_refused() -> None:
    with sr.Client("openai", api_key="k") as client, pytest.raises(sr.UsageError):
        client.stream(strategy="guess", **request_body("openai"))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# TLS


def test_tls_with_the_test_ca_succeeds(server_ssl_context: Any, ca_file: str) -> None:
    outcome = run(
        [[answer("openai")]],
        "openai",
        ssl_context=server_ssl_context,
        transport=SyncTransport(ca_file=ca_file),
    )
    assert outcome.error is None
    assert outcome.received.text == REFERENCE


def test_tls_with_the_default_trust_store_refuses_and_does_not_retry(
    server_ssl_context: Any,
) -> None:
    outcome = run([[answer("openai")]], "openai", ssl_context=server_ssl_context)
    error, record = outcome.error, outcome.record
    assert error is not None and record is not None
    assert isinstance(error.cause, TransportError)
    assert error.cause.kind == "tls_certificate"
    assert error.recoverable is False
    assert error.attempts == 1
    assert record.status == "failed"


def test_a_line_past_the_clients_cap_fails_without_retry() -> None:
    # The cap is the client's: a 200 KiB data line against a 64 KiB cap is a
    # protocol error (never retried), not memory growth.
    from streamrecover.testing.server import FaultServer, sse_response

    huge = b"data: " + b"x" * (200 * 1024) + b"\n\n"
    with FaultServer([sse_response([huge])], default=sse_response([huge])) as server:
        client = sr.Client(
            "openai", base_url=server.url("/v1"), api_key="k", storage=None,
            max_line_size=64 * 1024,
        )
        with pytest.raises(sr.StreamInterrupted) as caught, client.stream(
            model="m", messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            stream.until_done()
    assert isinstance(caught.value.cause, sr.SSEProtocolError)
    assert caught.value.recoverable is False
    assert caught.value.attempts == 1
