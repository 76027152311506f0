"""The SQLite storage passes the storage conformance suite."""

from __future__ import annotations

from pathlib import Path

from streamrecover.storage import SQLiteStorage, Storage
from streamrecover.storage.base import Clock
from streamrecover.testing.storage import StorageConformance


class TestSQLiteStorage(StorageConformance):
    def make_storage(self, tmp_path: Path, clock: Clock) -> Storage:
        return SQLiteStorage(tmp_path / "streams.db", clock=clock)
