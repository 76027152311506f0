"""A storage wrapper whose writes fail on command: storage trouble, injected.

::

    storage = FaultyStorage(SQLiteStorage(path))
    client = Client("openai", storage=storage)
    ...
    storage.failing = True     # every write now raises StorageError ("disk full")
    storage.failing = False    # storage is back

Reads are never refused (a full disk still reads). Each refused write is
counted in :attr:`FaultyStorage.refused`.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Iterable

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage.base import Clock, Storage
from streamrecover.storage.log import LogRead
from streamrecover.storage.owner import Owner
from streamrecover.storage.record import RecordChanges, Status, StreamRecord, StreamSummary

__all__ = ["FaultyStorage"]


class FaultyStorage(Storage):
    """Delegate to ``inner``; while :attr:`failing` is set, every write raises StorageError."""

    def __init__(self, inner: Storage, *, message: str = "disk full (injected)") -> None:
        super().__init__(clock=inner.clock)
        self.inner = inner
        self.message = message
        self.failing = False
        self.refused = 0
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = time.time) -> FaultyStorage:
        """Not found by URL: wrap a storage instead. Raises UsageError."""
        raise UsageError("FaultyStorage wraps a storage: FaultyStorage(open_storage(url))")

    def _check(self) -> None:
        if self.failing:
            with self._lock:
                self.refused += 1
            raise StorageError(self.message)

    def create(self, record: StreamRecord) -> None:
        """See :meth:`Storage.create`."""
        self._check()
        self.inner.create(record)

    def apply_append(self, record_id: str, text: str, epoch: int | None) -> None:
        """See :meth:`Storage.apply_append`."""
        self._check()
        self.inner.apply_append(record_id, text, epoch)

    def apply_truncate(self, record_id: str, length: int, epoch: int | None) -> None:
        """See :meth:`Storage.apply_truncate`."""
        self._check()
        self.inner.apply_truncate(record_id, length, epoch)

    def apply_changes(
        self,
        record_id: str,
        changes: RecordChanges,
        expected: frozenset[str] | None,
        epoch: int | None,
    ) -> None:
        """See :meth:`Storage.apply_changes`."""
        self._check()
        self.inner.apply_changes(record_id, changes, expected, epoch)

    def apply_claim(
        self, record_id: str, owner: Owner, lease: float, force: bool
    ) -> StreamRecord:
        """See :meth:`Storage.apply_claim`."""
        self._check()
        return self.inner.apply_claim(record_id, owner, lease, force)

    def delete(self, record_id: str) -> bool:
        """See :meth:`Storage.delete`."""
        self._check()
        return self.inner.delete(record_id)

    def cleanup(self, older_than: float) -> int:
        """See :meth:`Storage.cleanup`."""
        self._check()
        return self.inner.cleanup(older_than)

    def get(self, record_id: str) -> StreamRecord:
        """See :meth:`Storage.get`."""
        return self.inner.get(record_id)

    def summaries(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        older_than: float | None = None,
    ) -> builtins.list[StreamSummary]:
        """See :meth:`Storage.summaries`."""
        return self.inner.summaries(status=status, older_than=older_than)

    def read(self, record_id: str, *, after: int = 0) -> LogRead:
        """See :meth:`Storage.read` (reads never fail here)."""
        return self.inner.read(record_id, after=after)

    def tail(
        self, record_id: str, *, after: int = 0, timeout: float | None = None
    ) -> LogRead:
        """See :meth:`Storage.tail`."""
        return self.inner.tail(record_id, after=after, timeout=timeout)

    def close(self) -> None:
        """See :meth:`Storage.close`."""
        self.inner.close()
