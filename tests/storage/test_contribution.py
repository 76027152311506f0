"""The record's ``providers`` (who served a stream that fell back), in every built-in backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage import open_storage
from streamrecover.storage.base import Storage
from streamrecover.storage.contribution import Contribution
from streamrecover.storage.record import StreamRecord, new_record

SERVED = (
    Contribution(provider="anthropic", model="claude-sonnet-4-5"),
    Contribution(provider="openai", model="gpt-4o", offset=12,
                 cause="retries_exhausted: HTTPStatusError: HTTP 529"),
)


@pytest.fixture(params=["memory", "sqlite", "disk"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    urls = {
        "memory": "memory://",
        "sqlite": f"sqlite:///{tmp_path}/streams.db",
        "disk": f"disk:///{tmp_path}/streams",
    }
    opened = open_storage(urls[request.param])
    try:
        yield opened
    finally:
        opened.close()


def test_a_new_record_has_no_providers_and_a_mark_stores_them(storage: Storage) -> None:
    record = new_record(provider="anthropic", model="claude-sonnet-4-5", request={})
    storage.create(record)
    storage.append(record.id, ["Hello, wor"])
    assert storage.get(record.id).providers == ()
    storage.mark(record.id, "active", providers=SERVED)
    storage.append(record.id, ["ld"])
    storage.mark(record.id, "completed")
    stored = storage.get(record.id)
    assert stored.providers == SERVED
    assert stored.text == "Hello, world"
    assert stored.provider == "anthropic"  # the request's format: unchanged


def test_update_refuses_providers_that_are_not_contributions(storage: Storage) -> None:
    record = new_record(provider="openai", model="m", request={})
    storage.create(record)
    with pytest.raises(UsageError, match="providers"):
        storage.update(record.id, providers=[{"provider": "x"}])  # type: ignore[typeddict-item]


def test_a_record_written_before_fallbacks_reads_with_no_providers() -> None:
    document = new_record(provider="openai", model="m", request={}).to_dict()
    del document["providers"]
    assert StreamRecord.from_dict(document).providers == ()


def test_a_sqlite_state_from_before_fallbacks_reads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    with open_storage(url) as storage:
        record = new_record(provider="openai", model="m", request={})
        storage.create(record)
    # Drop the field from the stored state, as an older version wrote it.
    with sqlite3.connect(tmp_path / "old.db") as db:
        (state,) = db.execute("SELECT state FROM streams").fetchone()
        assert '"providers":[]' in state
        db.execute("UPDATE streams SET state = ?",
                   (state.replace(',"providers":[]', ""),))
    with open_storage(url) as storage:
        assert storage.get(record.id).providers == ()


@pytest.mark.parametrize("bad", [
    "openai", [{"provider": "openai"}], [{"provider": "", "model": "m", "offset": 0, "cause": ""}],
    [{"provider": "p", "model": "m", "base_url": "", "offset": -1, "cause": ""}],
    [{"provider": "p", "model": "m", "base_url": "", "offset": True, "cause": ""}],
])
def test_a_corrupt_providers_value_is_a_storage_error(bad: object) -> None:
    document = new_record(provider="openai", model="m", request={}).to_dict()
    document["providers"] = bad
    with pytest.raises(StorageError):
        StreamRecord.from_dict(document)


def test_a_cause_is_redacted() -> None:
    served = Contribution(provider="p", model="m", offset=1,
                          cause="HTTP 401 for https://x.example/v1?key=AIzaSyA-secret-value-1234")
    assert "AIzaSyA-secret-value-1234" not in served.cause
