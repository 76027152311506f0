"""``sqlite:///path/to/streams.db``: records in one SQLite file (standard library ``sqlite3``).

Safe to share between threads (one connection behind a lock) and between
processes (SQLite's own locking: every change is one ``BEGIN IMMEDIATE``
transaction, and a busy database is waited for up to ``timeout`` seconds).
The database runs in WAL mode with ``synchronous=NORMAL``: a commit costs no
fsync, and a power loss can lose the last commits but never corrupts the file
(https://www.sqlite.org/wal.html, https://www.sqlite.org/pragma.html#pragma_synchronous).

Layout (schema version 2, kept in ``PRAGMA user_version``):

``streams``        one small row per record: the columns that are filtered on,
                   the text length, the chunk count, and the other mutable
                   fields as a JSON ``state`` object.
``stream_bodies``  the request and options as JSON, written once, so that an
                   append never rewrites a long conversation.
``stream_chunks``  the record's log: one row per append, ``(stream_id, seq, text)``,
                   so that an append costs O(piece), not O(text), and one row
                   per rewind (``rewind_to`` set); the offset of a row is
                   ``seq + 1`` (see :mod:`streamrecover.storage.log`).

A database with a newer schema is refused; an older one is migrated step by
step (:data:`MIGRATIONS`) inside one transaction.

The database is never touched outside SQLite. POSIX advisory locks belong to
a process, not to a descriptor, so closing *any* descriptor on the file drops
the locks of every SQLite connection this process has on it
(https://www.sqlite.org/howtocorrupt.html, section 2.2). Hence the audit of
every path that reaches the database or its ``-wal``/``-shm`` files:

* the file is created by ``os.open(O_CREAT | O_EXCL, 0o600)`` only when it does
  not exist (an existing file is never opened by anything but SQLite); SQLite
  gives the ``-wal`` and ``-shm`` files the database's mode;
* read-only use (``sqlite:///path?mode=ro``, ``read_only=True``) opens the
  database with SQLite's ``mode=ro`` and never creates or migrates it;
* the only other contact is ``os.stat`` (no descriptor) of the database before
  each write, which notices a database file that was deleted or replaced under
  an open connection (the writes would otherwise go to an unlinked inode) and
  raises StorageError instead.
"""

from __future__ import annotations

import builtins
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from streamrecover.core.errors import StorageError
from streamrecover.storage._dbfile import _connect_read_only, _create_if_absent, _file_identity
from streamrecover.storage._sqlite_rows import (
    _INSERT_CHUNK,
    _INSERT_REWIND,
    _SUMMARY_COLUMNS,
    _epoch,
    _json_object,
    _log_entries,
    _read_record,
    _row_to_dict,
)
from streamrecover.storage._sqlite_schema import MIGRATIONS, SCHEMA_VERSION
from streamrecover.storage.base import (
    Clock,
    Storage,
    check_truncate,
    closed_error,
    file_url,
    status_set,
)
from streamrecover.storage.errors import RecordExistsError, RecordNotFoundError
from streamrecover.storage.log import LogRead, check_after, log_read
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
    encode_json,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStorage"]

# The fields of the JSON ``state`` column: everything mutable but status and updated_at.
# The ownership fields (owner, lease, epoch, storage_error) were added without a
# schema change: a state written before them lacks them, and reads as no owner,
# an unstated lease and epoch 0.
_STATE_FIELDS = (
    "error", "attempts", "resumes", "last_event_id", "sequence_number", "response_id", "usage",
    "owner", "lease", "epoch", "storage_error", "providers",
)


class SQLiteStorage(Storage):
    """Keep records in the SQLite database at ``path``.

    The file is created with mode 0600 (SQLite gives its ``-wal`` and ``-shm``
    files the same mode) and missing parent directories with mode 0700, but
    only when it does not exist (see the module docstring: an existing
    database is never opened outside SQLite). ``timeout`` is how long to wait
    for another writer, in seconds. ``read_only`` opens an existing database
    with SQLite's ``mode=ro``: nothing is created, migrated or written, and
    every write raises StorageError.

    Raises StorageError if the file is not a streamrecover database, has a newer
    schema, or cannot be opened (or, read-only, does not exist).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        super().__init__(clock=clock)
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.Lock()
        try:
            if read_only:
                connection = _connect_read_only(self.path, timeout)
            else:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                _create_if_absent(self.path)
                connection = sqlite3.connect(
                    self.path, timeout=timeout, isolation_level=None, check_same_thread=False
                )
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open SQLite storage {self.path}: {exc}") from exc
        self._connection: sqlite3.Connection | None = connection
        try:
            with _mapped_errors(self.path):
                # The schema check comes first, so that a database that is not
                # ours is refused before anything (even its journal mode) changes.
                if read_only:
                    self._check_readable(connection)
                else:
                    self._migrate(connection)
                    connection.execute("PRAGMA journal_mode = WAL")
                    connection.execute("PRAGMA synchronous = NORMAL")
            # Which file the connection has: a write checks it is still there.
            self._identity = _file_identity(self.path)
        except BaseException:
            connection.close()
            self._connection = None
            raise

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = time.time) -> SQLiteStorage:
        """Build from ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.

        Three slashes then a path is relative to the working directory, four is
        absolute (SQLAlchemy's rule). A ``?mode=ro`` query opens it read-only.
        Raises StorageURLError for another shape.
        """
        path, read_only = file_url(url, "sqlite")
        return cls(path, clock=clock, read_only=read_only)

    def _check_readable(self, connection: sqlite3.Connection) -> None:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            raise StorageError(
                f"{self.path} is not a streamrecover database (schema version 0); "
                "opened read-only, nothing was changed"
            )
        if version != SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} has streamrecover schema version {version}; read-only, this "
                f"version of streamrecover reads schema version {SCHEMA_VERSION} only "
                "(open it read-write once to migrate an older one)"
            )

    def _migrate(self, connection: sqlite3.Connection) -> None:
        with self._transaction(connection):
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path} has streamrecover schema version {version}, but this "
                    f"version of streamrecover reads schema version {SCHEMA_VERSION} at most; "
                    "upgrade streamrecover"
                )
            if version == 0:
                tables = [row[0] for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")]
                if tables:
                    raise StorageError(
                        f"{self.path} is not a streamrecover database (schema version 0, "
                        f"tables {sorted(tables)}); refusing to write into it"
                    )
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](connection)
            if version != SCHEMA_VERSION:
                connection.execute(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")

    # -- transactions --------------------------------------------------------------------

    @contextmanager
    def _transaction(
        self, connection: sqlite3.Connection, *, write: bool = True
    ) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so a read-then-write cannot
        # deadlock against another process; reads use a deferred transaction
        # for a consistent snapshot across statements.
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield connection
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @contextmanager
    def _use(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock, _mapped_errors(self.path):
            if self._connection is None:
                raise closed_error()
            if write:
                self._check_file()
            with self._transaction(self._connection, write=write) as connection:
                yield connection

    def _check_file(self) -> None:
        # A stat, never an open: see the module docstring.
        if _file_identity(self.path) != self._identity:
            raise StorageError(
                f"SQLite storage {self.path}: the database file was deleted or replaced "
                "while open; nothing more can be stored in it"
            )

    # -- writing -------------------------------------------------------------------------

    def create(self, record: StreamRecord) -> None:
        """See :meth:`Storage.create`."""
        data = record.to_dict()
        state = encode_json({name: data[name] for name in _STATE_FIELDS})
        request, options = encode_json(record.request), encode_json(record.options)
        chunks = [chunk for chunk in record.chunks if chunk]
        with self._use() as db:
            try:
                db.execute(
                    "INSERT INTO streams (id, provider, model, base_url, status, created_at,"
                    " updated_at, text_length, chunk_count, state)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.id, record.provider, record.model, record.base_url, record.status,
                     record.created_at, record.updated_at, sum(map(len, chunks)), len(chunks),
                     state),
                )
            except sqlite3.IntegrityError as exc:
                raise RecordExistsError(record.id) from exc
            db.execute("DELETE FROM stream_bodies WHERE id = ?", (record.id,))
            db.execute("DELETE FROM stream_chunks WHERE stream_id = ?", (record.id,))
            db.execute(
                "INSERT INTO stream_bodies (id, request, options) VALUES (?, ?, ?)",
                (record.id, request, options),
            )
            db.executemany(
                _INSERT_CHUNK,
                [(record.id, seq, chunk) for seq, chunk in enumerate(chunks)],
            )

    def apply_append(self, record_id: str, piece: str, epoch: int | None) -> None:
        """See :meth:`Storage.apply_append`."""
        with self._use() as db:
            length, count = self._counts(db, record_id, epoch)
            if piece:
                db.execute(_INSERT_CHUNK, (record_id, count, piece))
            db.execute(
                "UPDATE streams SET text_length = ?, chunk_count = ?, updated_at = ? WHERE id = ?",
                (length + len(piece), count + (1 if piece else 0), self.clock(), record_id),
            )

    def apply_truncate(self, record_id: str, length: int, epoch: int | None) -> None:
        """See :meth:`Storage.apply_truncate`: one rewind row; nothing is deleted."""
        with self._use() as db:
            total, count = self._counts(db, record_id, epoch)
            check_truncate(length, total)
            db.execute(_INSERT_REWIND, (record_id, count, length))
            db.execute(
                "UPDATE streams SET text_length = ?, chunk_count = ?, updated_at = ? WHERE id = ?",
                (length, count + 1, self.clock(), record_id),
            )

    def apply_changes(
        self,
        record_id: str,
        changes: RecordChanges,
        expected: frozenset[str] | None,
        epoch: int | None,
    ) -> None:
        """See :meth:`Storage.apply_changes`."""
        with self._use() as db:
            row = db.execute(
                "SELECT status, state FROM streams WHERE id = ?", (record_id,)
            ).fetchone()
            if row is None:
                raise RecordNotFoundError(record_id)
            current, state_json = row
            state = _json_object(state_json, "stored state")
            check_epoch(record_id, _epoch(state, record_id), epoch)
            status = changes.get("status", current)
            check_transition(record_id, current, status, expected)
            state.update(changes_to_json(changes))
            state.pop("status", None)
            db.execute(
                "UPDATE streams SET status = ?, state = ?, updated_at = ? WHERE id = ?",
                (status, encode_json(state), self.clock(), record_id),
            )

    def apply_claim(
        self, record_id: str, owner: Owner, lease: float, force: bool
    ) -> StreamRecord:
        """See :meth:`Storage.apply_claim`.

        One ``BEGIN IMMEDIATE`` transaction: it holds the database's write lock
        from the first read, so the status and ``updated_at`` it checks are
        still true when it writes, whichever process claims at the same time.
        """
        with self._use() as db:
            row = db.execute(
                "SELECT status, updated_at, state FROM streams WHERE id = ?", (record_id,)
            ).fetchone()
            if row is None:
                raise RecordNotFoundError(record_id)
            current, updated_at, state_json = row
            if not isinstance(updated_at, int | float):
                raise StorageError(f"stored stream {record_id!r} has a bad updated_at")
            now = self.clock()
            state = _json_object(state_json, "stored state")
            stored = StreamRecord.from_dict(
                {**state, "id": record_id, "provider": "", "model": "", "base_url": "",
                 "request": {}, "options": {}, "chunks": [], "status": current,
                 "created_at": 0.0, "updated_at": updated_at}
            )
            check_claim(record_id, current, updated_at, now,
                        owner=stored.owner, lease=stored.lease, force=force)
            state.update(error=None, storage_error=None, owner=owner.to_dict(), lease=lease,
                         epoch=stored.epoch + 1)
            db.execute(
                "UPDATE streams SET status = 'active', state = ?, updated_at = ? WHERE id = ?",
                (encode_json(state), now, record_id),
            )
            return _read_record(db, record_id)

    def delete(self, record_id: str) -> bool:
        """See :meth:`Storage.delete`."""
        with self._use() as db:
            db.execute("DELETE FROM stream_chunks WHERE stream_id = ?", (record_id,))
            db.execute("DELETE FROM stream_bodies WHERE id = ?", (record_id,))
            return db.execute("DELETE FROM streams WHERE id = ?", (record_id,)).rowcount > 0

    def cleanup(self, older_than: float) -> int:
        """See :meth:`Storage.cleanup`. One transaction: a record is deleted whole or not."""
        cutoff = self._cleanup_cutoff(older_than)
        stale = "SELECT id FROM streams WHERE updated_at < ?"
        with self._use() as db:
            db.execute(f"DELETE FROM stream_chunks WHERE stream_id IN ({stale})", (cutoff,))  # noqa: S608
            db.execute(f"DELETE FROM stream_bodies WHERE id IN ({stale})", (cutoff,))  # noqa: S608
            deleted: int = db.execute(
                "DELETE FROM streams WHERE updated_at < ?", (cutoff,)
            ).rowcount
        return deleted

    # -- reading -------------------------------------------------------------------------

    def get(self, record_id: str) -> StreamRecord:
        """See :meth:`Storage.get`."""
        with self._use(write=False) as db:
            return _read_record(db, record_id)

    def read(self, record_id: str, *, after: int = 0) -> LogRead:
        """See :meth:`Storage.read`. One read transaction: entries and status agree."""
        check_after(after)
        with self._use(write=False) as db:
            row = db.execute(
                "SELECT status, chunk_count, state FROM streams WHERE id = ?", (record_id,)
            ).fetchone()
            if row is None:
                raise RecordNotFoundError(record_id)
            status, count, state_json = row
            if not isinstance(count, int):
                raise StorageError(f"stored stream {record_id!r} has corrupt counters")
            check_after(after, count)
            entries = _log_entries(db, record_id, after)
        return log_read(record_id, entries, count, status, _json_object(state_json, "stored state"))

    def summaries(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        older_than: float | None = None,
    ) -> builtins.list[StreamSummary]:
        """See :meth:`Storage.summaries`."""
        wanted = status_set(status)
        cutoff = self._cutoff(older_than)
        clauses: builtins.list[str] = []
        parameters: builtins.list[object] = []
        if wanted is not None:
            clauses.append(f"status IN ({', '.join('?' * len(wanted))})")
            parameters.extend(sorted(wanted))
        if cutoff is not None:
            clauses.append("updated_at < ?")
            parameters.append(cutoff)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._use(write=False) as db:
            rows = db.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM streams{where} ORDER BY created_at, id",  # noqa: S608
                parameters,
            ).fetchall()
        summaries = []
        for row in rows:
            data = _row_to_dict(row)
            text_length = data.pop("text_length")
            data.update(base_url="", request={}, options={}, chunks=[])
            if not isinstance(text_length, int) or text_length < 0:
                raise StorageError(f"stored stream {data.get('id')!r} has a bad text length")
            summaries.append(StreamRecord.from_dict(data).summary(text_length))
        return summaries

    def _counts(
        self, db: sqlite3.Connection, record_id: str, epoch: int | None
    ) -> tuple[int, int]:
        """Return the text length and chunk count, after checking the writer's ``epoch``."""
        if epoch is None:
            row = db.execute(
                "SELECT text_length, chunk_count FROM streams WHERE id = ?", (record_id,)
            ).fetchone()
        else:
            row = db.execute(
                "SELECT text_length, chunk_count, state FROM streams WHERE id = ?", (record_id,)
            ).fetchone()
        if row is None:
            raise RecordNotFoundError(record_id)
        if epoch is not None:
            check_epoch(record_id, _epoch(_json_object(row[2], "stored state"), record_id), epoch)
        length, count = row[:2]
        if not isinstance(length, int) or not isinstance(count, int):
            raise StorageError(f"stored stream {record_id!r} has corrupt counters")
        return length, count

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """See :meth:`Storage.close`."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


@contextmanager
def _mapped_errors(path: Path) -> Iterator[None]:
    # The one boundary where sqlite3's exceptions enter: map them to StorageError.
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite storage {path}: {exc}") from exc
    except UnicodeError as exc:  # a lone surrogate cannot be stored as UTF-8 text
        raise StorageError(f"SQLite storage {path}: cannot store text: {exc}") from exc
