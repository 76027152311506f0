"""A stream owns its record: its lease is renewed while it waits, a writer taken over
stops, a failed resume gives its claim back, and an abandoned stream is cancelled.

Findings 3, 4 and 8 of issue 12, in one process (the multi-process races are in
``test_ownership_processes.py``).
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest
from reference_frames import (
    REFERENCE,
    ReferenceServer,
    WaitUntil,
    answer,
    base_url,
    frames,
    request_body,
)

import streamrecover as sr
from streamrecover.core.errors import StreamInterrupted, UsageError
from streamrecover.core.events import TextDelta
from streamrecover.storage import (
    MemoryStorage,
    RecordedError,
    SQLiteStorage,
    StaleWriterError,
    Storage,
    current_owner,
    new_record,
)
from streamrecover.storage.lease import Lease
from streamrecover.testing.server import Close, LastChunk, SendChunk, http_response, sse_head


def _client(server: ReferenceServer, storage: Storage, **options: object) -> sr.Client:
    return sr.Client("openai", base_url=base_url(server, "openai"), api_key="k",
                     storage=storage, **options)  # type: ignore[arg-type]


def _lease(stream: sr.Stream) -> Lease:
    checkpointer = stream._observer.checkpointer
    assert checkpointer is not None and checkpointer.lease is not None
    return checkpointer.lease


def test_a_new_stream_owns_its_record(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "s.db") as storage, \
            ReferenceServer([[answer("openai")]]) as server, \
            _client(server, storage, renew_interval=3.0) as client, \
            client.stream(**request_body("openai")) as stream:
        record = storage.get(stream.recovery_id or "")
        assert (record.owner, record.lease, record.epoch) == (current_owner(), 15.0, 0)
        assert stream.until_done() == REFERENCE
        assert _lease(stream)._keeper is None  # renewing stopped with the stream


def test_the_lease_is_renewed_while_the_model_thinks_and_during_a_backoff(
    tmp_path: Path,
) -> None:
    renewed = threading.Event()
    thinking = [sse_head(), WaitUntil(renewed, timeout=30),
                *(SendChunk(frame) for frame in frames("openai")), LastChunk(), Close()]
    overloaded = http_response(529, '{"error": {"type": "overloaded_error"}}',
                               headers=[("retry-after", "1")])
    with SQLiteStorage(tmp_path / "s.db") as storage, \
            ReferenceServer([overloaded, thinking]) as server, \
            _client(server, storage, renew_interval=0.05, checkpoint_interval=60.0) as client, \
            client.stream(**request_body("openai")) as stream:
        lease = _lease(stream)
        during_backoff: list[int] = []

        def watch() -> None:
            # The first response is a 529: wait until the retry is under way,
            # then see renewals pile up while no byte arrives.
            while len(server.requests) < 2:
                threading.Event().wait(0.01)
            during_backoff.append(lease.renewals)
            start = lease.renewals
            while lease.renewals < start + 3 and not renewed.is_set():
                threading.Event().wait(0.01)
            renewed.set()

        watcher = threading.Thread(target=watch)
        watcher.start()
        assert stream.until_done() == REFERENCE
        watcher.join()
    # Renewals came during the 1 s backoff, and again while the response was silent.
    assert during_backoff and during_backoff[0] >= 2
    assert lease.renewals >= during_backoff[0] + 3


def test_a_writer_taken_over_stops_with_stream_interrupted(tmp_path: Path) -> None:
    gate = threading.Event()
    first = answer("openai", cut_after=6, gate=gate, fault=Close())
    with SQLiteStorage(tmp_path / "s.db") as storage, \
            ReferenceServer([[first], [answer("openai")]]) as server, \
            _client(server, storage, checkpoint_interval=0.0) as client:
        stream = client.stream(**request_body("openai"))
        events = iter(stream)
        while len(storage.get(stream.recovery_id or "").text) < 10:
            next(events)
        # Another caller is sure the writer is dead and forces a resume.
        with client.resume(stream.recovery_id or "", force=True) as taker:
            gate.set()
            with pytest.raises(StreamInterrupted, match="another process took its record over") \
                    as stopped:
                for _ in events:
                    pass
            assert isinstance(stopped.value.cause, StaleWriterError)
            assert stopped.value.recoverable is False
            assert REFERENCE.startswith(stopped.value.committed_text)
            stream.close()
            assert taker.until_done() == REFERENCE
        record = storage.get(stream.recovery_id or "")
    assert (record.status, record.text, record.epoch) == ("completed", REFERENCE, 1)


def test_a_failed_resume_gives_its_claim_back() -> None:
    storage = MemoryStorage()
    record = new_record(provider="openai", model="gpt-test",
                        request={"model": "gpt-test", "n": 2, "messages": []})
    storage.create(record)
    storage.append(record.id, ["partial"])
    recorded = RecordedError(type="TransportError", message="cut", recoverable=True)
    storage.mark(record.id, "interrupted", error=recorded)
    client = sr.Client("openai", api_key="k", storage=storage)
    with pytest.raises(UsageError, match="n > 1"):
        client.resume(record.id)  # the claim succeeded, building the resume failed
    released = storage.get(record.id)
    assert (released.status, released.error, released.owner) == ("interrupted", recorded, None)
    assert released.epoch == 1
    # The next resumer is not told to wait: the record is claimable at once.
    assert storage.claim(record.id).epoch == 2


def test_an_abandoned_stream_is_cancelled_when_collected(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "s.db") as storage, \
            ReferenceServer([[answer("openai", pause=0.01)]]) as server, \
            _client(server, storage, checkpoint_interval=0.0) as client:
        stream = client.stream(**request_body("openai"))
        events = iter(stream)
        while not isinstance(next(events), TextDelta):
            pass
        recovery_id, lease = stream.recovery_id or "", _lease(stream)
        del stream, events
        gc.collect()
        record = storage.get(recovery_id)
        assert record.status == "cancelled"
        assert record.text and REFERENCE.startswith(record.text)
        assert lease._keeper is None


def test_the_finalizer_never_raises(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s.db")
    with ReferenceServer([[answer("openai")]]) as server, _client(server, storage) as client:
        stream = client.stream(**request_body("openai"))
        recovery_id = stream.recovery_id
        storage.close()  # marking it cancelled will fail
        del stream
        gc.collect()  # pytest turns an exception in a finalizer into a failure
    with SQLiteStorage(tmp_path / "s.db") as again:
        assert again.get(recovery_id or "").status == "active"
