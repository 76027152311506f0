"""``memory://``: records in a dict, guarded by a lock. The default storage.

Nothing survives the process, but everything else behaves as the durable
backends do, so a program can switch to ``sqlite:///...`` by changing the URL.
"""

from __future__ import annotations

import builtins
import copy
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from streamrecover.storage.base import (
    Clock,
    Storage,
    check_truncate,
    closed_error,
    status_set,
)
from streamrecover.storage.errors import RecordExistsError, RecordNotFoundError, StorageURLError
from streamrecover.storage.log import LogEntry, LogRead, check_after, check_timeout
from streamrecover.storage.owner import Owner
from streamrecover.storage.record import (
    RecordChanges,
    Status,
    StreamRecord,
    StreamSummary,
    check_claim,
    check_epoch,
    check_transition,
)

__all__ = ["MemoryStorage"]


@dataclass(slots=True)
class _Entry:
    # The record without its text, plus the text as a growing list: append is
    # O(piece). updated_at lives beside the head so that an append does not
    # rebuild (and re-sanitize) the record.
    head: StreamRecord
    updated_at: float
    chunks: list[str] = field(default_factory=list)
    length: int = 0
    # Every append and rewind, in order (see streamrecover.storage.log).
    log: list[LogEntry] = field(default_factory=list)

    def record(self, chunks: tuple[str, ...] = ()) -> StreamRecord:
        return replace(self.head, chunks=chunks, updated_at=self.updated_at)


class MemoryStorage(Storage):
    """Keep records in this process's memory. Thread-safe (one lock)."""

    def __init__(self, *, clock: Clock = time.time) -> None:
        super().__init__(clock=clock)
        self._lock = threading.Lock()
        # Wakes tail() when anything changes; notified with the lock held.
        self._changed = threading.Condition(self._lock)
        self._entries: dict[str, _Entry] | None = {}

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = time.time) -> MemoryStorage:
        """Build from ``memory://`` (nothing may follow the scheme). Raises StorageURLError."""
        if url.lower() not in ("memory://", "memory:///"):
            raise StorageURLError(f"a memory storage URL is just 'memory://', got {url!r}")
        return cls(clock=clock)

    def _open_entries(self) -> dict[str, _Entry]:
        if self._entries is None:
            raise closed_error()
        return self._entries

    def _entry(self, record_id: str) -> _Entry:
        entry = self._open_entries().get(record_id)
        if entry is None:
            raise RecordNotFoundError(record_id)
        return entry

    def create(self, record: StreamRecord) -> None:
        """See :meth:`Storage.create`."""
        # Own deep copies: the caller keeps its dicts, and mutating them later
        # must not change what is stored.
        head = replace(
            record,
            chunks=(),
            request=copy.deepcopy(record.request),
            options=copy.deepcopy(record.options),
        )
        chunks = [chunk for chunk in record.chunks if chunk]
        with self._lock:
            entries = self._open_entries()
            if record.id in entries:
                raise RecordExistsError(record.id)
            log = [LogEntry(offset=n, text=chunk) for n, chunk in enumerate(chunks, 1)]
            entries[record.id] = _Entry(
                head, record.updated_at, chunks, sum(map(len, chunks)), log
            )

    def apply_append(self, record_id: str, piece: str, epoch: int | None) -> None:
        """See :meth:`Storage.apply_append`."""
        with self._lock:
            entry = self._entry(record_id)
            if epoch is not None:
                check_epoch(record_id, entry.head.epoch, epoch)
            if piece:
                entry.chunks.append(piece)
                entry.length += len(piece)
                entry.log.append(LogEntry(offset=len(entry.log) + 1, text=piece))
                self._changed.notify_all()
            entry.updated_at = self.clock()

    def apply_truncate(self, record_id: str, length: int, epoch: int | None) -> None:
        """See :meth:`Storage.apply_truncate`."""
        with self._lock:
            entry = self._entry(record_id)
            check_epoch(record_id, entry.head.epoch, epoch)
            check_truncate(length, entry.length)
            entry.log.append(LogEntry(offset=len(entry.log) + 1, rewind_to=length))
            self._changed.notify_all()
            # Walk back from the end: a rewind only ever touches the tail.
            while entry.length > length:
                last = entry.chunks.pop()
                entry.length -= len(last)
                if entry.length < length:
                    kept = last[: length - entry.length]
                    entry.chunks.append(kept)
                    entry.length += len(kept)
            entry.updated_at = self.clock()

    def apply_changes(
        self,
        record_id: str,
        changes: RecordChanges,
        expected: frozenset[str] | None,
        epoch: int | None,
    ) -> None:
        """See :meth:`Storage.apply_changes`."""
        with self._lock:
            entry = self._entry(record_id)
            check_epoch(record_id, entry.head.epoch, epoch)
            current = entry.head.status
            check_transition(record_id, current, changes.get("status", current), expected)
            entry.updated_at = self.clock()
            entry.head = replace(entry.head, **changes)  # type: ignore[arg-type]
            self._changed.notify_all()

    def apply_claim(
        self, record_id: str, owner: Owner, lease: float, force: bool
    ) -> StreamRecord:
        """See :meth:`Storage.apply_claim`."""
        with self._lock:
            entry = self._entry(record_id)
            now = self.clock()
            head = entry.head
            check_claim(record_id, head.status, entry.updated_at, now,
                        owner=head.owner, lease=head.lease, force=force)
            entry.head = replace(head, status="active", error=None, storage_error=None,
                                 owner=owner, lease=lease, epoch=head.epoch + 1)
            entry.updated_at = now
            record = entry.record(tuple(entry.chunks))
            self._changed.notify_all()
        return _detached(record)

    def get(self, record_id: str) -> StreamRecord:
        """See :meth:`Storage.get`."""
        with self._lock:
            entry = self._entry(record_id)
            record = entry.record(tuple(entry.chunks))
        return _detached(record)

    def read(self, record_id: str, *, after: int = 0) -> LogRead:
        """See :meth:`Storage.read`."""
        check_after(after)
        with self._lock:
            return self._read(self._entry(record_id), after)

    def tail(
        self, record_id: str, *, after: int = 0, timeout: float | None = None
    ) -> LogRead:
        """See :meth:`Storage.tail`. Woken by every change, no polling."""
        check_after(after)
        limit = check_timeout(timeout)
        deadline = None if limit is None else time.monotonic() + limit
        with self._lock:
            while True:
                result = self._read(self._entry(record_id), after)
                if result.entries or result.stopped:
                    return result
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return result
                self._changed.wait(remaining)

    def _read(self, entry: _Entry, after: int) -> LogRead:
        check_after(after, len(entry.log))
        return LogRead(
            entries=tuple(entry.log[after:]),
            end=len(entry.log),
            status=entry.head.status,
            error=entry.head.error,
            usage=dict(entry.head.usage),
        )

    def summaries(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        older_than: float | None = None,
    ) -> builtins.list[StreamSummary]:
        """See :meth:`Storage.summaries`."""
        wanted = status_set(status)
        cutoff = self._cutoff(older_than)
        with self._lock:
            entries = builtins.list(self._open_entries().values())
        found = [
            entry.record().summary(entry.length)
            for entry in entries
            if (wanted is None or entry.head.status in wanted)
            and (cutoff is None or entry.updated_at < cutoff)
        ]
        return sorted(found, key=lambda summary: (summary.created_at, summary.id))

    def delete(self, record_id: str) -> bool:
        """See :meth:`Storage.delete`."""
        with self._lock:
            self._changed.notify_all()
            return self._open_entries().pop(record_id, None) is not None

    def cleanup(self, older_than: float) -> int:
        """See :meth:`Storage.cleanup`."""
        cutoff = self._cleanup_cutoff(older_than)
        with self._lock:
            entries = self._open_entries()
            stale = [key for key, entry in entries.items() if entry.updated_at < cutoff]
            for key in stale:
                del entries[key]
            self._changed.notify_all()
        return len(stale)

    def close(self) -> None:
        """See :meth:`Storage.close`. The records are dropped."""
        with self._lock:
            self._entries = None
            self._changed.notify_all()


def _detached(record: StreamRecord) -> StreamRecord:
    # The caller may mutate the dicts it gets; what is stored must not change.
    return replace(
        record,
        request=copy.deepcopy(record.request),
        options=copy.deepcopy(record.options),
    )
