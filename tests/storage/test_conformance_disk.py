"""The disk (diskcache) storage passes the storage conformance suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamrecover.storage import Storage
from streamrecover.storage.base import Clock
from streamrecover.testing.storage import StorageConformance

pytest.importorskip("diskcache")


class TestDiskStorage(StorageConformance):
    def make_storage(self, tmp_path: Path, clock: Clock) -> Storage:
        from streamrecover.storage.disk import DiskStorage

        return DiskStorage(tmp_path / "streams", clock=clock)
