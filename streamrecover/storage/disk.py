r"""``disk:///path/to/dir``: records in a diskcache directory (the ``disk`` extra).

diskcache (https://grantjenks.com/docs/diskcache/) keeps keys and values in a
SQLite file and is safe across threads and processes; its ``transact()`` takes
the database's write lock, so every operation here is one atomic transaction.

Two things diskcache does by default are turned off:

* pickling. diskcache pickles any value that is not ``str``/``bytes``/number
  and unpickles whatever it reads back, which would let anyone who can write
  the directory run code in the reader. :class:`JSONOnlyDisk` accepts ``str``
  keys and values only and refuses to unpickle, so everything stored is JSON
  text or chunk text.
* eviction. diskcache culls entries past a size limit; a partial response must
  not vanish silently, so the eviction policy is ``none``.

Values are kept inline in the database (never as side files), so the whole
store is ``cache.db`` (created 0600) and its WAL files, in a directory created
0700.

As for the SQLite backend, ``cache.db`` is never touched outside SQLite: it is
created with ``O_CREAT | O_EXCL`` only when absent (closing a descriptor on a
live database drops every lock this process holds on it), read-only use
(``disk:///dir?mode=ro``) opens it with SQLite's ``mode=ro`` and reads the
diskcache table directly, and each write first ``stat``\ s it to notice a
directory deleted or replaced under the open connection.

Layout (version 2, in key ``streamrecover:layout``; a version-1 directory is
upgraded by rewriting the key, since version 2 only adds rewind entries):

``streamrecover:index``  JSON list of record ids (for listing without a key scan)
``s:<id>``               JSON state: every field but request, options and text,
                         plus ``text_length`` and ``chunk_count``
``b:<id>``               JSON ``{"request", "options"}``, written once
``c:<id>:<seq>``         the text of log entry ``seq`` (one per append: O(piece));
                         its offset is ``seq + 1`` (see streamrecover.storage.log)
``r:<id>:<seq>``         or, for a rewind, the length the text was cut back to
"""

from __future__ import annotations

import builtins
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from streamrecover.core.errors import MissingExtraError, StorageError, UsageError

try:
    import diskcache  # type: ignore[import-untyped]
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise MissingExtraError("the disk storage (disk://)", "disk", "diskcache") from exc

from streamrecover.storage._dbfile import _create_if_absent, _file_identity
from streamrecover.storage._disk_cache import JSONOnlyDisk, _ReadOnlyCache
from streamrecover.storage.base import (
    Clock,
    Storage,
    check_truncate,
    closed_error,
    file_url,
    status_set,
)
from streamrecover.storage.errors import RecordExistsError, RecordNotFoundError
from streamrecover.storage.log import LogEntry, LogRead, apply_entries, check_after, log_read
from streamrecover.storage.owner import Owner
from streamrecover.storage.record import (
    RecordChanges,
    Status,
    StreamRecord,
    StreamSummary,
    changes_to_json,
    check_claim,
    check_epoch,
    check_transition,
    decode_json,
    encode_json,
)

__all__ = ["LAYOUT_VERSION", "DiskStorage", "JSONOnlyDisk"]

#: The key layout this code writes.
LAYOUT_VERSION = 2
_UPGRADABLE_LAYOUTS = ("1",)
_LAYOUT_KEY = "streamrecover:layout"
_INDEX_KEY = "streamrecover:index"
_DB_NAME = "cache.db"  # diskcache's file name (diskcache.core.DBNAME)


class DiskStorage(Storage):
    """Keep records in a diskcache directory.

    ``timeout`` is how long to wait for another writer, in seconds.
    ``read_only`` opens an existing directory without creating or writing
    anything (every write raises StorageError). Raises StorageError if the
    directory cannot be opened or holds a newer layout, MissingExtraError (at
    import) if diskcache is not installed.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        super().__init__(clock=clock)
        self.directory = Path(directory)
        self.read_only = read_only
        database = self.directory / _DB_NAME
        try:
            if read_only:
                self._cache: diskcache.Cache | _ReadOnlyCache | None = _ReadOnlyCache(
                    database, timeout
                )
            else:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                # Born 0600; SQLite gives the -wal and -shm files the same mode.
                _create_if_absent(database)
                self._cache = diskcache.Cache(
                str(self.directory),
                timeout=timeout,
                disk=JSONOnlyDisk,
                eviction_policy="none",
                statistics=0,
                tag_index=0,
                sqlite_journal_mode="wal",
                sqlite_synchronous=1,  # NORMAL
                )
            self._identity = _file_identity(database)
        except (OSError, sqlite3.Error, diskcache.Timeout) as exc:
            raise StorageError(f"cannot open disk storage {self.directory}: {exc}") from exc
        try:
            self._check_layout()
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = time.time) -> DiskStorage:
        """Build from ``disk:///relative/dir`` or ``disk:////absolute/dir`` (as for sqlite).

        ``?mode=ro`` opens it read-only. Raises StorageURLError for another shape.
        """
        directory, read_only = file_url(url, "disk")
        return cls(directory, clock=clock, read_only=read_only)

    def _check_layout(self) -> None:
        with self._transaction() as cache:
            layout = cache.get(_LAYOUT_KEY)
            if layout is None and self.read_only:
                raise StorageError(f"{self.directory} is not a streamrecover disk storage")
            if layout is None:
                cache.set(_LAYOUT_KEY, str(LAYOUT_VERSION))
                cache.set(_INDEX_KEY, "[]")
            elif layout in _UPGRADABLE_LAYOUTS:
                if not self.read_only:  # read-only, a layout-1 directory reads as it is
                    cache.set(_LAYOUT_KEY, str(LAYOUT_VERSION))
            elif layout != str(LAYOUT_VERSION):
                raise StorageError(
                    f"{self.directory} has streamrecover disk layout {layout!r}, but this "
                    f"version of streamrecover reads layout {LAYOUT_VERSION}; upgrade streamrecover"
                )

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[diskcache.Cache]:
        # The one boundary where diskcache's and sqlite3's exceptions enter.
        if self._cache is None:
            raise closed_error()
        if write and _file_identity(self.directory / _DB_NAME) != self._identity:
            # A stat, never an open (see the module docstring).
            raise StorageError(
                f"disk storage {self.directory}: its database was deleted or replaced "
                "while open; nothing more can be stored in it"
            )
        try:
            with self._cache.transact():
                yield self._cache
        except diskcache.Timeout as exc:
            raise StorageError(f"disk storage {self.directory} is locked: timed out") from exc
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"disk storage {self.directory}: {exc}") from exc
        except UnicodeError as exc:
            raise StorageError(f"disk storage {self.directory}: cannot store text: {exc}") from exc

    # -- writing -------------------------------------------------------------------------

    def create(self, record: StreamRecord) -> None:
        """See :meth:`Storage.create`."""
        data = record.to_dict()
        chunks = [chunk for chunk in data.pop("chunks") if chunk]
        body = encode_json({"request": data.pop("request"), "options": data.pop("options")})
        data.update(text_length=sum(map(len, chunks)), chunk_count=len(chunks))
        state = encode_json(data)
        with self._transaction(write=True) as cache:
            if cache.get(_state_key(record.id)) is not None:
                raise RecordExistsError(record.id)
            index = self._index(cache)
            index.append(record.id)
            cache.set(_INDEX_KEY, encode_json(index))
            cache.set(_body_key(record.id), body)
            for seq, chunk in enumerate(chunks):
                cache.set(_chunk_key(record.id, seq), chunk)
            cache.set(_state_key(record.id), state)

    def apply_append(self, record_id: str, piece: str, epoch: int | None) -> None:
        """See :meth:`Storage.apply_append`."""
        with self._transaction(write=True) as cache:
            state = self._state(cache, record_id)
            check_epoch(record_id, _epoch(state), epoch)
            if piece:
                cache.set(_chunk_key(record_id, state["chunk_count"]), piece)
                state["chunk_count"] += 1
                state["text_length"] += len(piece)
            state["updated_at"] = self.clock()
            cache.set(_state_key(record_id), encode_json(state))

    def apply_truncate(self, record_id: str, length: int, epoch: int | None) -> None:
        """See :meth:`Storage.apply_truncate`: one rewind entry; nothing is deleted."""
        with self._transaction(write=True) as cache:
            state = self._state(cache, record_id)
            check_epoch(record_id, _epoch(state), epoch)
            check_truncate(length, state["text_length"])
            seq = state["chunk_count"]
            cache.set(_rewind_key(record_id, seq), str(length))
            state.update(text_length=length, chunk_count=seq + 1, updated_at=self.clock())
            cache.set(_state_key(record_id), encode_json(state))

    def apply_changes(
        self,
        record_id: str,
        changes: RecordChanges,
        expected: frozenset[str] | None,
        epoch: int | None,
    ) -> None:
        """See :meth:`Storage.apply_changes`."""
        with self._transaction(write=True) as cache:
            state = self._state(cache, record_id)
            check_epoch(record_id, _epoch(state), epoch)
            current = state.get("status")
            check_transition(record_id, str(current), changes.get("status", current), expected)  # type: ignore[arg-type]
            state.update(changes_to_json(changes))
            state["updated_at"] = self.clock()
            cache.set(_state_key(record_id), encode_json(state))

    def apply_claim(
        self, record_id: str, owner: Owner, lease: float, force: bool
    ) -> StreamRecord:
        """See :meth:`Storage.apply_claim`.

        One ``transact()``: diskcache holds SQLite's write lock (``BEGIN
        IMMEDIATE``) from the first read to the last write, so the status and
        ``updated_at`` checked are still true when the claim is written.
        """
        with self._transaction(write=True) as cache:
            state = self._state(cache, record_id)
            now = self.clock()
            stored_owner = state.get("owner")
            lease_held = state.get("lease")
            check_claim(
                record_id, str(state.get("status")), _number(state, "updated_at"), now,
                owner=None if stored_owner is None else Owner.from_dict(stored_owner),
                lease=lease_held if isinstance(lease_held, int | float) else None,
                force=force,
            )
            state.update(status="active", error=None, storage_error=None, updated_at=now,
                         owner=owner.to_dict(), lease=lease, epoch=_epoch(state) + 1)
            cache.set(_state_key(record_id), encode_json(state))
            return self._read(cache, record_id, state)

    def delete(self, record_id: str) -> bool:
        """See :meth:`Storage.delete`."""
        with self._transaction(write=True) as cache:
            try:
                state = self._state(cache, record_id)
            except RecordNotFoundError:
                return False
            self._delete(cache, record_id, state)
            index = self._index(cache)
            cache.set(_INDEX_KEY, encode_json([key for key in index if key != record_id]))
        return True

    def cleanup(self, older_than: float) -> int:
        """See :meth:`Storage.cleanup`. One transaction: a record is deleted whole or not."""
        cutoff = self._cleanup_cutoff(older_than)
        with self._transaction(write=True) as cache:
            kept, deleted = [], 0
            for record_id in self._index(cache):
                state = self._state(cache, record_id)
                if _number(state, "updated_at") < cutoff:
                    self._delete(cache, record_id, state)
                    deleted += 1
                else:
                    kept.append(record_id)
            if deleted:
                cache.set(_INDEX_KEY, encode_json(kept))
        return deleted

    def _delete(self, cache: diskcache.Cache, record_id: str, state: dict[str, Any]) -> None:
        for seq in range(state["chunk_count"]):
            cache.delete(_chunk_key(record_id, seq))
            cache.delete(_rewind_key(record_id, seq))
        cache.delete(_body_key(record_id))
        cache.delete(_state_key(record_id))

    # -- reading -------------------------------------------------------------------------

    def get(self, record_id: str) -> StreamRecord:
        """See :meth:`Storage.get`."""
        with self._transaction() as cache:
            return self._read(cache, record_id, self._state(cache, record_id))

    def _read(
        self, cache: diskcache.Cache, record_id: str, state: dict[str, Any]
    ) -> StreamRecord:
        """Build the whole record from its ``state`` within the caller's transaction."""
        body = _json_object(cache.get(_body_key(record_id)), f"stored body of {record_id!r}")
        try:
            entries = self._entries(cache, record_id, 0, state.pop("chunk_count"))
            chunks = apply_entries([], entries)
        except UsageError as exc:
            raise StorageError(f"stored stream {record_id!r} has a corrupt log: {exc}") from exc
        text_length = state.pop("text_length")
        if set(body) != {"request", "options"}:
            raise StorageError(f"stored body of {record_id!r} has fields {sorted(body)}")
        state.update(request=body.get("request"), options=body.get("options"), chunks=chunks)
        record = StreamRecord.from_dict(state)
        if sum(len(chunk) for chunk in record.chunks) != text_length:
            raise StorageError(
                f"stored stream {record_id!r} is corrupt: its chunks do not add up to "
                f"{text_length!r} characters"
            )
        return record

    def read(self, record_id: str, *, after: int = 0) -> LogRead:
        """See :meth:`Storage.read`. One transaction: entries and status agree."""
        check_after(after)
        with self._transaction() as cache:
            state = self._state(cache, record_id)
            end = state["chunk_count"]
            check_after(after, end)
            entries = self._entries(cache, record_id, after, end)
        return log_read(record_id, entries, end, state.get("status"), state)

    def _entries(
        self, cache: diskcache.Cache, record_id: str, after: int, end: int
    ) -> tuple[LogEntry, ...]:
        # Entry seq (offset seq + 1) is a text chunk or, for a rewind, an r: key.
        entries = []
        for seq in range(after, end):
            text = cache.get(_chunk_key(record_id, seq))
            if text is not None:
                entries.append(LogEntry(offset=seq + 1, text=_text(text, "a chunk")))
                continue
            length = _text(cache.get(_rewind_key(record_id, seq)), f"log entry {seq + 1}")
            if not length.isdigit():
                raise StorageError(f"stored stream {record_id!r} has a corrupt rewind entry")
            entries.append(LogEntry(offset=seq + 1, rewind_to=int(length)))
        return tuple(entries)

    def summaries(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        older_than: float | None = None,
    ) -> builtins.list[StreamSummary]:
        """See :meth:`Storage.summaries`."""
        wanted = status_set(status)
        cutoff = self._cutoff(older_than)
        with self._transaction() as cache:
            states = [self._state(cache, record_id) for record_id in self._index(cache)]
        summaries = []
        for state in states:
            state.pop("chunk_count")
            text_length = state.pop("text_length")
            state.update(request={}, options={}, chunks=[])
            summary = StreamRecord.from_dict(state).summary(text_length)
            if (wanted is None or summary.status in wanted) and (
                cutoff is None or summary.updated_at < cutoff
            ):
                summaries.append(summary)
        return sorted(summaries, key=lambda summary: (summary.created_at, summary.id))

    def _index(self, cache: diskcache.Cache) -> builtins.list[str]:
        index = decode_json(_text(cache.get(_INDEX_KEY), "the record index"), "the record index")
        if not isinstance(index, list) or not all(isinstance(key, str) for key in index):
            raise StorageError(f"disk storage {self.directory}: the record index is corrupt")
        return index

    def _state(self, cache: diskcache.Cache, record_id: str) -> dict[str, Any]:
        document = cache.get(_state_key(record_id))
        if document is None:
            raise RecordNotFoundError(record_id)
        state = _json_object(document, f"stored state of {record_id!r}")
        for name in ("text_length", "chunk_count"):
            value = state.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise StorageError(f"stored state of {record_id!r} has a bad {name!r}")
        return state

    def _chunk(self, cache: diskcache.Cache, key: str) -> str:
        return _text(cache.get(key), f"chunk {key!r}")

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """See :meth:`Storage.close`."""
        cache, self._cache = self._cache, None
        if cache is not None:
            cache.close()


def _epoch(state: dict[str, Any]) -> int:
    epoch = state.get("epoch", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise StorageError(f"stored state has a bad epoch {epoch!r}")
    return epoch


def _state_key(record_id: str) -> str:
    return f"s:{record_id}"


def _rewind_key(record_id: str, seq: int) -> str:
    # Layout 1 never wrote these; a layout-1 directory is a log of text entries only.
    return f"r:{record_id}:{seq}"


def _body_key(record_id: str) -> str:
    return f"b:{record_id}"


def _chunk_key(record_id: str, seq: int) -> str:
    return f"c:{record_id}:{seq}"


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise StorageError(f"disk storage: {what} is missing or not text")
    return value


def _json_object(value: object, what: str) -> dict[str, Any]:
    data = decode_json(_text(value, what), what)
    if not isinstance(data, dict):
        raise StorageError(f"{what} is not a JSON object")
    return data


def _number(state: dict[str, Any], name: str) -> float:
    value = state.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise StorageError(f"stored state has a bad {name!r}")
    return float(value)
