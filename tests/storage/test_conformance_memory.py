"""The memory storage passes the storage conformance suite."""

from __future__ import annotations

from pathlib import Path

from streamrecover.storage import MemoryStorage, Storage
from streamrecover.storage.base import Clock
from streamrecover.testing.storage import StorageConformance


class TestMemoryStorage(StorageConformance):
    def make_storage(self, tmp_path: Path, clock: Clock) -> Storage:
        return MemoryStorage(clock=clock)
