"""RecoveryRegistry: ExLLM's StreamRecovery surface over durable storage.

(Named test_recovery_registry.py: tests/storage/test_registry.py already holds
the storage-registry tests, and test modules share one namespace here.)
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from reference_frames import (
    FAST_RETRY,
    REFERENCE,
    Received,
    ReferenceServer,
    answer,
    base_url,
    partial_of,
    pieces,
    prefix,
    request_body,
)

from streamrecover.core.errors import HTTPStatusError, TransportError, UsageError
from streamrecover.core.events import TextDelta
from streamrecover.registry import RecoveryRegistry
from streamrecover.storage import RecordNotFoundError, current_owner, new_record, open_storage
from streamrecover.storage.memory import MemoryStorage
from streamrecover.storage.record import UNRENEWED_LEASE


class FakeClock:
    """Epoch seconds that move only when told to."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def registry_with_clock(**options: float | None) -> tuple[RecoveryRegistry, FakeClock]:
    clock = FakeClock()
    storage = open_storage("memory://", clock=clock)
    return RecoveryRegistry(storage, clock=clock, **options), clock  # type: ignore[arg-type]


def test_init_record_and_complete() -> None:
    with RecoveryRegistry() as registry:
        body = {**request_body("anthropic"), "api_key": "sk-must-not-be-kept-0123456789"}
        recovery_id = registry.init_recovery("anthropic", body, {"strategy": "paragraph"})
        for piece in pieces(REFERENCE)[:3]:
            registry.record_chunk(recovery_id, piece)
        record = registry.get_partial_response(recovery_id)
        assert (record.status, record.text, record.provider) == ("active", prefix(3), "anthropic")
        assert record.model == "claude-sonnet-4-5"
        assert record.options == {"strategy": "paragraph"}
        assert "api_key" not in record.request
        assert record.request["messages"] == body["messages"]
        registry.complete_stream(recovery_id)
        assert registry.get_partial_response(recovery_id).status == "completed"
        assert registry.list_recoverable_streams() == []


def test_record_chunk_refuses_what_is_not_text() -> None:
    with RecoveryRegistry() as registry:
        recovery_id = registry.init_recovery("openai", request_body("openai"))
        with pytest.raises(UsageError):
            registry.record_chunk(recovery_id, b"bytes")  # type: ignore[arg-type]
        assert registry.get_partial_response(recovery_id).text == ""


def test_record_error_says_whether_the_stream_is_recoverable() -> None:
    with RecoveryRegistry() as registry:
        cut = registry.init_recovery("openai", request_body("openai"))
        registry.record_chunk(cut, "Hello")
        assert registry.record_error(cut, TransportError("reset", kind="reset")) is True
        record = registry.get_partial_response(cut)
        assert (record.status, record.text) == ("interrupted", "Hello")
        assert record.error is not None
        assert (record.error.type, record.error.recoverable) == ("TransportError", True)

        refused = registry.init_recovery("openai", request_body("openai"))
        assert registry.record_error(refused, HTTPStatusError(401)) is False
        record = registry.get_partial_response(refused)
        assert record.status == "failed"
        assert record.error is not None and not record.error.recoverable


def test_list_recoverable_streams_holds_abandoned_and_interrupted_ones() -> None:
    now = [1000.0]
    storage = MemoryStorage(clock=lambda: now[0])
    with RecoveryRegistry(storage, clock=lambda: now[0]) as registry:
        active = registry.init_recovery("openai", request_body("openai"))
        interrupted = registry.init_recovery("gemini", request_body("gemini"))
        registry.record_chunk(interrupted, "The quick")
        registry.record_error(interrupted, TransportError("closed", kind="closed"))
        completed = registry.init_recovery("openai", request_body("openai"))
        registry.complete_stream(completed)
        failed = registry.init_recovery("openai", request_body("openai"))
        registry.record_error(failed, HTTPStatusError(400))
        # Written by this (live) process, with a fresh lease: resume would refuse it.
        live = replace(new_record(provider="openai", model="m", request={}, clock=storage.clock,
                                  owner=current_owner(), lease=10.0))
        storage.create(live)
        # Its owner's process is gone: claimable at once.
        crashed = replace(new_record(provider="openai", model="m", request={},
                                     clock=storage.clock, owner=replace(current_owner(),
                                     pid=_dead_pid(), started="0"), lease=3600.0))
        storage.create(crashed)
        summaries = registry.list_recoverable_streams()
        # The unowned one (this registry's own record) is listed as before.
        assert {summary.id for summary in summaries} == {active, interrupted, crashed.id}
        by_id = {summary.id: summary for summary in summaries}
        assert by_id[interrupted].text_length == len("The quick")
        assert by_id[interrupted].provider == "gemini"
        assert by_id[crashed.id].status == "active"
        # Once its lease runs out, the live-owned one is abandoned too.
        now[0] += UNRENEWED_LEASE
        listed = {summary.id for summary in registry.list_recoverable_streams()}
        assert listed == {active, interrupted, crashed.id, live.id}


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_clear_partial_response() -> None:
    with RecoveryRegistry() as registry:
        recovery_id = registry.init_recovery("openai", request_body("openai"))
        assert registry.clear_partial_response(recovery_id) is True
        assert registry.clear_partial_response(recovery_id) is False
        with pytest.raises(RecordNotFoundError):
            registry.get_partial_response(recovery_id)


def test_is_recoverable() -> None:
    assert RecoveryRegistry.is_recoverable(TransportError("reset", kind="reset"))
    assert RecoveryRegistry.is_recoverable(HTTPStatusError(529))
    assert not RecoveryRegistry.is_recoverable(HTTPStatusError(401))
    assert not RecoveryRegistry.is_recoverable(
        TransportError("bad certificate", kind="tls_certificate")
    )


# Regression (was a bug, fixed).
def test_a_new_record_is_stamped_with_the_storage_clock() -> None:
    registry, clock = registry_with_clock()
    with registry:
        record = registry.get_partial_response(
            registry.init_recovery("openai", request_body("openai"))
        )
    assert record.created_at == record.updated_at == clock.now


def start(registry: RecoveryRegistry) -> str:
    """init_recovery, then touch the record so that its age follows the fake clock.

    The touch works around the bug above (a fresh record carries the wall
    clock's time until it is first changed).
    """
    recovery_id = registry.init_recovery("openai", request_body("openai"))
    registry.record_chunk(recovery_id, "")
    return recovery_id


def test_cleanup_old_responses_forgets_streams_past_the_ttl() -> None:
    registry, clock = registry_with_clock(default_ttl=1800.0)
    with registry:
        stale = start(registry)
        fresh = start(registry)
        clock.advance(100)
        registry.record_chunk(fresh, "touched")  # updated 100 s later than stale
        clock.advance(1750)
        assert registry.cleanup_old_responses() == 1
        assert [summary.id for summary in registry.list_recoverable_streams()] == [fresh]
        # An explicit ttl overrides the default.
        assert registry.cleanup_old_responses(ttl=1000.0) == 1
        assert registry.list_recoverable_streams() == []
        with pytest.raises(RecordNotFoundError):
            registry.get_partial_response(stale)


def test_cleanup_runs_by_itself_on_its_schedule() -> None:
    registry, clock = registry_with_clock(default_ttl=10.0, cleanup_interval=60.0)
    with registry:
        first = start(registry)
        clock.advance(30)
        # Stale already, but the schedule is not due: nothing is cleaned.
        second = start(registry)
        assert {s.id for s in registry.list_recoverable_streams()} == {first, second}
        clock.advance(30)
        # 60 s since the last cleanup: this call cleans the two stale streams first.
        third = start(registry)
        assert [s.id for s in registry.list_recoverable_streams()] == [third]


def test_no_automatic_cleanup_without_an_interval() -> None:
    registry, clock = registry_with_clock(default_ttl=10.0)
    with registry:
        first = start(registry)
        clock.advance(10_000)
        second = start(registry)
        assert {s.id for s in registry.list_recoverable_streams()} == {first, second}


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini", "openai-responses"])
def test_resume_stream_continues_a_recorded_partial_answer(provider: str, tmp_path: Path) -> None:
    with RecoveryRegistry(f"sqlite:///{tmp_path}/streams.db") as registry:
        body = request_body(provider)
        recovery_id = registry.init_recovery(provider, body, {"strategy": "exact"})
        for piece in pieces(REFERENCE)[:7]:
            registry.record_chunk(recovery_id, piece)
        assert registry.record_error(recovery_id, TransportError("reset", kind="reset"))
        with ReferenceServer([[answer(provider, overlap_words=2)]]) as server:
            stream = registry.resume_stream(
                recovery_id,
                api_key="resume-key",
                base_url=base_url(server, provider),
                retry=FAST_RETRY,
            )
            with stream:
                received = Received()
                for event in stream:
                    received.feed(event)
            (request,) = server.requests
        record = registry.get_partial_response(recovery_id)
    assert prefix(7) + received.text == stream.text == REFERENCE
    assert partial_of(provider, request) == prefix(7)
    assert (record.status, record.text) == ("completed", REFERENCE)
    # Credentials come from the caller, never from storage.
    assert "resume-key" in str(request.headers)


def test_resume_stream_uses_the_stored_base_url_and_can_replay(tmp_path: Path) -> None:
    with (
        ReferenceServer([[answer("openai")]]) as server,
        RecoveryRegistry(f"sqlite:///{tmp_path}/streams.db") as registry,
    ):
        recovery_id = registry.init_recovery(
            "openai", request_body("openai"), base_url=base_url(server, "openai")
        )
        registry.record_chunk(recovery_id, prefix(2))
        registry.record_error(recovery_id, TransportError("closed", kind="closed"))
        with registry.resume_stream(
            recovery_id, api_key="k", replay=True, retry=FAST_RETRY
        ) as stream:
            deltas = [event.text for event in stream if isinstance(event, TextDelta)]
    assert deltas[0] == prefix(2)
    assert "".join(deltas) == REFERENCE
