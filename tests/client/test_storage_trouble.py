"""Storage trouble never kills a healthy stream (finding 5 of issue 12).

Writes fail on command (:class:`~streamrecover.testing.faulty_storage.FaultyStorage`
around a real SQLite file) in the middle of a stream: the consumer's text keeps
flowing, the failure is logged once and shown on ``stream.storage_error``, the
writes are tried again at the next checkpoint, and once storage is back the
record is whole and says what happened. If it never comes back the stream
still completes; the record has what was written before.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from reference_frames import REFERENCE, ReferenceServer, answer, base_url, request_body

import streamrecover as sr
from streamrecover.core.errors import StorageError
from streamrecover.core.events import TextDelta
from streamrecover.storage import SQLiteStorage
from streamrecover.testing.faulty_storage import FaultyStorage


def _client(server: ReferenceServer, storage: sr.Storage) -> sr.Client:
    return sr.Client("openai", base_url=base_url(server, "openai"), api_key="k",
                     storage=storage, checkpoint_interval=0.0)


def _storage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.levelno == logging.WARNING and "storage failed" in record.getMessage()]


@pytest.mark.parametrize("back_after", [8, None])
def test_a_failing_storage_does_not_stop_the_stream(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, back_after: int | None
) -> None:
    storage = FaultyStorage(SQLiteStorage(tmp_path / "s.db"))
    text = ""
    deltas = 0
    with ReferenceServer([[answer("openai", pause=0.002)]]) as server, \
            _client(server, storage) as client, \
            client.stream(**request_body("openai")) as stream:
        for event in stream:
            if isinstance(event, TextDelta):
                text += event.text
                deltas += 1
                if deltas == 3:
                    storage.failing = True  # the disk fills after 3 deltas
                if back_after is not None and deltas == 3 + back_after:
                    storage.failing = False
    assert text == stream.text == REFERENCE
    assert stream.completed
    assert storage.refused > 1  # tried again at every checkpoint
    assert isinstance(stream.storage_error, StorageError)
    assert len(_storage_warnings(caplog)) == 1  # logged once per outage
    record = storage.get(stream.recovery_id or "")
    if back_after is not None:
        # Storage came back: nothing was lost, and the record says what happened.
        assert (record.status, record.text) == ("completed", REFERENCE)
        assert record.storage_error is not None
        assert record.storage_error.message == "disk full (injected)"
    else:
        # It never came back: the record holds what was written before; the
        # stream says so when it ends.
        assert record.status == "active"
        assert REFERENCE.startswith(record.text) and len(record.text) < len(REFERENCE)
        assert any("could not be fully written" in r.getMessage() for r in caplog.records)
    storage.close()


def test_a_storage_failing_from_the_start_creates_the_record_when_it_is_back(
    tmp_path: Path,
) -> None:
    storage = FaultyStorage(SQLiteStorage(tmp_path / "s.db"))
    storage.failing = True
    with ReferenceServer([[answer("openai")]]) as server, _client(server, storage) as client:
        with client.stream(**request_body("openai")) as stream:  # no exception: created later
            events = iter(stream)
            first = next(events)
            storage.failing = False
            rest = [first, *events]
        assert "".join(e.text for e in rest if isinstance(e, TextDelta)) == REFERENCE
        record = storage.get(stream.recovery_id or "")
        assert (record.status, record.text, record.epoch) == ("completed", REFERENCE, 0)
    storage.close()


def test_a_database_deleted_mid_stream_is_reported_and_the_stream_completes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.db"
    text = ""
    with ReferenceServer([[answer("openai", pause=0.002)]]) as server, \
            _client(server, SQLiteStorage(path)) as client, \
            client.stream(**request_body("openai")) as stream:
        for event in stream:
            if isinstance(event, TextDelta):
                text += event.text
                if path.exists():
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert text == REFERENCE and stream.completed
    assert stream.storage_error is not None
    assert "deleted or replaced" in str(stream.storage_error)
    assert len(_storage_warnings(caplog)) == 1
