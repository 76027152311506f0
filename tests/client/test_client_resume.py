"""Client.resume in the same process: a stream that gave up is finished from storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from reference_frames import (
    FAST_RETRY,
    REFERENCE,
    Received,
    ReferenceServer,
    answer,
    base_url,
    partial_of,
    prefix,
    request_body,
)

import streamrecover as sr
from streamrecover.core.errors import StreamInterrupted, UsageError
from streamrecover.core.events import Resumed, TextDelta
from streamrecover.registry import RecoveryRegistry
from streamrecover.storage import (
    MemoryStorage,
    RecordNotFoundError,
    SQLiteStorage,
    StatusConflictError,
    Storage,
    new_record,
)
from streamrecover.storage.owner import Owner
from streamrecover.testing.server import Close
from streamrecover.testing.storage import FakeClock

#: No resume at all: a cut stream gives up at once and stays "interrupted".
NO_RESUME = sr.RetryPolicy(max_retries=0, max_resumes=0)


def interrupted_stream(provider: str, url: str, words: int) -> str:
    """Stream until the server cuts the answer after ``words`` words; return the recovery id."""
    with ReferenceServer([[answer(provider, cut_after=words, fault=Close())]]) as server:
        client = sr.Client(
            provider, base_url=base_url(server, provider), api_key="k", retry=NO_RESUME, storage=url
        )
        with (
            client,
            client.stream(**request_body(provider)) as stream,
            pytest.raises(StreamInterrupted) as caught,
        ):
            for _ in stream:
                pass
    assert caught.value.recoverable
    assert caught.value.committed_text == prefix(words)
    assert caught.value.recovery_id is not None
    return caught.value.recovery_id


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/streams.db"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_resume_from_sqlite_in_the_same_process(provider: str, sqlite_url: str) -> None:
    recovery_id = interrupted_stream(provider, sqlite_url, words=8)
    with ReferenceServer([[answer(provider, overlap_words=2)]]) as server:
        client = sr.Client(
            provider,
            base_url=base_url(server, provider),
            api_key="k",
            retry=FAST_RETRY,
            storage=sqlite_url,
        )
        with client:
            assert client.storage is not None
            assert client.storage.get(recovery_id).status == "interrupted"
            with client.resume(recovery_id) as stream:
                received = Received()
                for event in stream:
                    received.feed(event)
            record = client.storage.get(recovery_id)
        (request,) = server.requests
    assert prefix(8) + received.text == stream.text == REFERENCE
    assert stream.recovery_id == recovery_id
    assert [event.strategy for event in received.of_type(Resumed)] == ["exact"]
    assert partial_of(provider, request) == prefix(8)
    assert (record.status, record.text) == ("completed", REFERENCE)


def test_replay_yields_the_stored_text_first(sqlite_url: str) -> None:
    recovery_id = interrupted_stream("gemini", sqlite_url, words=4)
    with ReferenceServer([[answer("gemini")]]) as server:
        client = sr.Client(
            "gemini", base_url=base_url(server, "gemini"), api_key="k", storage=sqlite_url
        )
        with client, client.resume(recovery_id, replay=True) as stream:
            events = list(stream)
    texts = [event.text for event in events if isinstance(event, TextDelta)]
    assert isinstance(events[0], TextDelta)
    assert texts[0] == prefix(4)
    assert "".join(texts) == stream.text == REFERENCE


def test_resume_may_change_the_strategy(sqlite_url: str) -> None:
    recovery_id = interrupted_stream("openai", sqlite_url, words=9)
    with ReferenceServer([[answer("openai")]]) as server:
        client = sr.Client(
            "openai", base_url=base_url(server, "openai"), api_key="k", storage=sqlite_url
        )
        with client, client.resume(recovery_id, strategy="paragraph") as stream:
            received = Received()
            for event in stream:
                received.feed(event)
        (request,) = server.requests
    first_paragraph = REFERENCE.split("\n\n")[0] + "\n\n"
    assert partial_of("openai", request) == first_paragraph
    # The consumer of the resumed stream starts from the stored text.
    assert (prefix(9) + received.text)[: len(first_paragraph)] == first_paragraph
    assert stream.text == REFERENCE


def test_a_completed_stream_cannot_be_resumed(sqlite_url: str) -> None:
    with ReferenceServer([[answer("openai")]]) as server:
        client = sr.Client(
            "openai", base_url=base_url(server, "openai"), api_key="k", storage=sqlite_url
        )
        with client:
            with client.stream(**request_body("openai")) as stream:
                stream.until_done()
            assert stream.recovery_id is not None
            with pytest.raises(UsageError, match="complete"):
                client.resume(stream.recovery_id)


def test_an_unknown_id_cannot_be_resumed(sqlite_url: str) -> None:
    with (
        sr.Client("openai", api_key="k", storage=sqlite_url) as client,
        pytest.raises(RecordNotFoundError),
    ):
        client.resume("no-such-stream")


def test_resume_needs_the_same_provider(sqlite_url: str) -> None:
    recovery_id = interrupted_stream("openai", sqlite_url, words=3)
    with (
        sr.Client("anthropic", api_key="k", storage=sqlite_url) as client,
        pytest.raises(UsageError, match="openai"),
    ):
        client.resume(recovery_id)


def test_resume_needs_storage() -> None:
    with sr.Client("openai", api_key="k", storage=None) as client, pytest.raises(UsageError):
        client.resume("anything")


# Regression (was a bug, fixed): the claim was mark("active", expected=<status read>),
# and once the first resumer had set "active" the second one's active -> active
# compare-and-set succeeded too, so both resumed the stream.
def test_two_resumers_race_and_the_second_loses(sqlite_url: str) -> None:
    recovery_id = interrupted_stream("openai", sqlite_url, words=5)
    with ReferenceServer([[answer("openai")], [answer("openai")]]) as server:
        first = sr.Client(
            "openai", base_url=base_url(server, "openai"), api_key="k", storage=sqlite_url
        )
        second = sr.Client(
            "openai", base_url=base_url(server, "openai"), api_key="k", storage=sqlite_url
        )
        with first, second, first.resume(recovery_id) as winner:
            with pytest.raises(StatusConflictError) as lost:
                second.resume(recovery_id).close()
            assert lost.value.current == "active"
            assert winner.until_done() == REFERENCE
            assert second.storage is not None
            record = second.storage.get(recovery_id)
        (request,) = server.requests  # the loser sent nothing
    assert partial_of("openai", request) == prefix(5)
    # The loser did not mark the winner's stream cancelled.
    assert (record.status, record.text) == ("completed", REFERENCE)


def crashed_stream(storage: Storage, words: int) -> str:
    """Store what a writer killed mid-stream leaves: an active record with the first words."""
    body = request_body("openai")
    record = new_record(
        provider="openai",
        model=body["model"],
        request=body,
        options={"strategy": "exact"},
        clock=storage.clock,
    )
    storage.create(record)
    storage.append(record.id, [prefix(words)])
    return record.id


def test_a_recently_updated_active_stream_is_resumed_only_by_force(tmp_path: Path) -> None:
    clock = FakeClock()
    with SQLiteStorage(tmp_path / "streams.db", clock=clock) as storage:
        recovery_id = crashed_stream(storage, words=5)
        clock.advance(10)  # silent for 10 s: its writer may be alive, waiting for a model
        before = storage.get(recovery_id)
        with ReferenceServer([[answer("openai")]]) as server:
            client = sr.Client(
                "openai", base_url=base_url(server, "openai"), api_key="k", storage=storage
            )
            with client:
                with pytest.raises(StatusConflictError, match="force"):
                    client.resume(recovery_id)
                assert storage.get(recovery_id) == before  # refused without a trace
                assert server.requests == []
                # The caller knows better (it saw the writer die): force takes it over.
                with client.resume(recovery_id, force=True) as stream:
                    assert stream.until_done() == REFERENCE
            (request,) = server.requests
        record = storage.get(recovery_id)
    assert partial_of("openai", request) == prefix(5)
    assert (record.status, record.text, record.resumes) == ("completed", REFERENCE, 1)


def test_an_active_stream_is_resumed_once_its_writers_lease_expired(
    tmp_path: Path,
) -> None:
    # A record left by a writer on another host, with a 12 s lease: it is
    # resumed without force 12 s after its last update, not minutes later.
    clock = FakeClock()
    with SQLiteStorage(tmp_path / "streams.db", clock=clock) as storage:
        recovery_id = crashed_stream(storage, words=3)
        storage.update(recovery_id, lease=12.0,
                       owner=Owner(host="another-host", pid=1, boot_id="b", started="1"))
        with ReferenceServer([[answer("openai")]]) as server:
            client = sr.Client(
                "openai", base_url=base_url(server, "openai"), api_key="k", storage=storage
            )
            with client:
                clock.advance(11.5)
                with pytest.raises(StatusConflictError):
                    client.resume(recovery_id)
                clock.advance(0.5)
                with client.resume(recovery_id) as stream:
                    assert stream.until_done() == REFERENCE
        assert storage.get(recovery_id).status == "completed"


def test_a_cancelled_stream_cannot_be_resumed_even_by_force(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "streams.db") as storage:
        recovery_id = crashed_stream(storage, words=3)
        storage.mark(recovery_id, "cancelled")
        with (
            sr.Client("openai", api_key="k", storage=storage) as client,
            pytest.raises(StatusConflictError) as refused,
        ):
            client.resume(recovery_id, force=True)
        assert refused.value.current == "cancelled"
        assert storage.get(recovery_id).status == "cancelled"


def test_the_registry_passes_force_through(sqlite_url: str) -> None:
    with RecoveryRegistry(sqlite_url) as registry:
        recovery_id = registry.init_recovery("openai", request_body("openai"))
        registry.record_chunk(recovery_id, prefix(4))  # active, just updated
        with ReferenceServer([[answer("openai")]]) as server:
            options: dict[str, Any] = {
                "api_key": "k",
                "base_url": base_url(server, "openai"),
                "retry": FAST_RETRY,
            }
            with pytest.raises(StatusConflictError):
                registry.resume_stream(recovery_id, **options)
            with registry.resume_stream(recovery_id, force=True, **options) as stream:
                assert stream.until_done() == REFERENCE
        record = registry.get_partial_response(recovery_id)
    assert (record.status, record.text) == ("completed", REFERENCE)


@pytest.mark.anyio
async def test_the_async_client_claims_the_same_way() -> None:
    storage = MemoryStorage()
    recovery_id = crashed_stream(storage, words=6)
    with ReferenceServer([[answer("openai")]]) as server:
        async with sr.AsyncClient(
            "openai", base_url=base_url(server, "openai"), api_key="k", storage=storage
        ) as client:
            with pytest.raises(StatusConflictError):
                client.resume(recovery_id)
            async with client.resume(recovery_id, force=True) as stream:
                assert await stream.until_done() == REFERENCE
    assert storage.get(recovery_id).status == "completed"


def test_a_resume_claims_the_record_before_sending(sqlite_url: str) -> None:
    # What the race test relies on: the claim happens in resume(), not when the
    # stream is first iterated, and leaves the record "active".
    recovery_id = interrupted_stream("openai", sqlite_url, words=5)
    with sr.Client("openai", api_key="k", storage=sqlite_url) as client:
        stream = client.resume(recovery_id)
        assert client.storage is not None
        assert client.storage.get(recovery_id).status == "active"
        stream.close()
        # Leaving a resumed stream early cancels it, like any other stream.
        assert client.storage.get(recovery_id).status == "cancelled"


# Regression (was a bug, fixed).
def test_resuming_from_storage_counts_the_earlier_attempts_and_the_resume(
    sqlite_url: str,
) -> None:
    recovery_id = interrupted_stream("openai", sqlite_url, words=5)
    with ReferenceServer([[answer("openai")]]) as server:
        client = sr.Client(
            "openai", base_url=base_url(server, "openai"), api_key="k", storage=sqlite_url
        )
        with client, client.resume(recovery_id) as stream:
            assert stream.until_done() == REFERENCE
            assert client.storage is not None
            record = client.storage.get(recovery_id)
    assert record.status == "completed"
    assert (record.attempts, record.resumes) == (2, 1)
