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
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from streamrecover.core.errors import StorageError, UsageError
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

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStorage"]

# The fields of the JSON ``state`` column: everything mutable but status and updated_at.
# The ownership fields (owner, lease, epoch, storage_error) were added without a
# schema change: a state written before them lacks them, and reads as no owner,
# an unstated lease and epoch 0.
_STATE_FIELDS = (
    "error", "attempts", "resumes", "last_event_id", "sequence_number", "response_id", "usage",
    "owner", "lease", "epoch", "storage_error", "providers",
)


def _create_schema_v1(connection: sqlite3.Connection) -> None:
    connection.execute(
        """CREATE TABLE streams (
            id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            base_url TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            text_length INTEGER NOT NULL,
            chunk_count INTEGER NOT NULL,
            state TEXT NOT NULL
        )"""
    )
    connection.execute("CREATE INDEX streams_by_update ON streams (updated_at)")
    connection.execute("CREATE INDEX streams_by_status ON streams (status, updated_at)")
    connection.execute(
        """CREATE TABLE stream_bodies (
            id TEXT PRIMARY KEY,
            request TEXT NOT NULL,
            options TEXT NOT NULL
        )"""
    )
    connection.execute(
        """CREATE TABLE stream_chunks (
            stream_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (stream_id, seq)
        )"""
    )


def _log_rewinds_v2(connection: sqlite3.Connection) -> None:
    # Version 2 keeps a rewind as a row of its own (text '' and rewind_to set)
    # instead of deleting rows, so that a row's seq is a stable log offset
    # (offset = seq + 1). Version-1 rows are all text, numbered 0..n-1 with no
    # gap (a v1 truncate deleted the tail), so they are already a valid log.
    connection.execute("ALTER TABLE stream_chunks ADD COLUMN rewind_to INTEGER")


#: ``MIGRATIONS[n]`` turns a schema-version-``n`` database into version ``n + 1``.
#: Version 0 is an empty database.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_create_schema_v1, _log_rewinds_v2]
#: The schema version this code writes (``PRAGMA user_version``).
SCHEMA_VERSION = 2


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


# Columns are always named: a later migration may add some.
_INSERT_CHUNK = "INSERT INTO stream_chunks (stream_id, seq, text) VALUES (?, ?, ?)"
_INSERT_REWIND = (
    "INSERT INTO stream_chunks (stream_id, seq, text, rewind_to) VALUES (?, ?, '', ?)"
)


def _log_entries(db: sqlite3.Connection, record_id: str, after: int) -> tuple[LogEntry, ...]:
    """The log entries of a record after offset ``after`` (offset = seq + 1)."""
    entries = []
    for seq, text, rewind_to in db.execute(
        "SELECT seq, text, rewind_to FROM stream_chunks WHERE stream_id = ? AND seq >= ?"
        " ORDER BY seq",
        (record_id, after),
    ):
        if not isinstance(text, str) or not (rewind_to is None or isinstance(rewind_to, int)):
            raise StorageError(f"stored stream {record_id!r} has a corrupt log entry")
        entries.append(LogEntry(offset=seq + 1, text=text, rewind_to=rewind_to))
    return tuple(entries)
_SUMMARY_COLUMNS = "id, provider, model, status, created_at, updated_at, text_length, state"


def _read_record(db: sqlite3.Connection, record_id: str) -> StreamRecord:
    """Read one whole record within the caller's transaction (a consistent snapshot)."""
    row = db.execute(
        f"SELECT {_SUMMARY_COLUMNS}, base_url FROM streams WHERE id = ?",  # noqa: S608
        (record_id,),
    ).fetchone()
    if row is None:
        raise RecordNotFoundError(record_id)
    body = db.execute(
        "SELECT request, options FROM stream_bodies WHERE id = ?", (record_id,)
    ).fetchone()
    try:
        chunks = apply_entries([], _log_entries(db, record_id, 0))
    except UsageError as exc:
        raise StorageError(f"stored stream {record_id!r} has a corrupt log: {exc}") from exc
    if body is None:
        raise StorageError(f"stored stream {record_id!r} has no request body row")
    data = _row_to_dict(row[:-1])
    text_length = data.pop("text_length")
    data.update(
        base_url=row[-1],
        request=_json_object(body[0], "stored request"),
        options=_json_object(body[1], "stored options"),
        chunks=chunks,
    )
    record = StreamRecord.from_dict(data)
    if sum(len(chunk) for chunk in record.chunks) != text_length:
        raise StorageError(
            f"stored stream {record_id!r} is corrupt: its chunks do not add up to "
            f"{text_length!r} characters"
        )
    return record


def _epoch(state: dict[str, Any], record_id: str) -> int:
    epoch = state.get("epoch", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise StorageError(f"stored stream {record_id!r} has a bad epoch {epoch!r}")
    return epoch


def _connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """Open ``path`` with SQLite's ``mode=ro`` (a missing file is an error, never created)."""
    uri = f"file:{urllib.parse.quote(str(path.absolute()))}?mode=ro"
    connection = sqlite3.connect(
        uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        connection.execute("PRAGMA user_version").fetchone()
    except sqlite3.OperationalError:
        connection.close()
        if not path.is_file():
            raise
        # A WAL database whose -shm file is missing, in a directory this process
        # cannot write: SQLite reads it only as immutable
        # (https://www.sqlite.org/wal.html, "Read-Only Databases").
        connection = sqlite3.connect(
            f"{uri}&immutable=1", uri=True, timeout=timeout, isolation_level=None,
            check_same_thread=False,
        )
    return connection


def _create_if_absent(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if, and only if, no such file exists.

    ``O_EXCL`` makes the creation fail on an existing file, so a live database
    is never opened (and its locks never dropped) here. The descriptor closed
    belongs to a file that existed for no one else an instant ago.
    """
    if os.path.lexists(path):  # a stat: an existing file is never opened
        return
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created by someone else since the stat
        return
    os.close(descriptor)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _row_to_dict(row: Sequence[Any]) -> dict[str, Any]:
    record_id, provider, model, status, created_at, updated_at, text_length, state = row
    data = _json_object(state, "stored state")
    data.update(
        id=record_id, provider=provider, model=model, status=status,
        created_at=created_at, updated_at=updated_at, text_length=text_length,
    )
    return data


def _json_object(document: object, what: str) -> dict[str, Any]:
    if not isinstance(document, str | bytes):
        raise StorageError(f"{what} is not text: {type(document).__name__}")
    value = decode_json(document, what)
    if not isinstance(value, dict):
        raise StorageError(f"{what} is not a JSON object")
    return value


@contextmanager
def _mapped_errors(path: Path) -> Iterator[None]:
    # The one boundary where sqlite3's exceptions enter: map them to StorageError.
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite storage {path}: {exc}") from exc
    except UnicodeError as exc:  # a lone surrogate cannot be stored as UTF-8 text
        raise StorageError(f"SQLite storage {path}: cannot store text: {exc}") from exc
