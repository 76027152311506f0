"""diskcache made safe for records: a ``Disk`` that never pickles, and a read-only ``Cache``.

Used by :mod:`streamrecover.storage.disk` (which re-exports :class:`JSONOnlyDisk`)
once it has checked that the ``disk`` extra is installed.
"""

from __future__ import annotations

import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import diskcache  # type: ignore[import-untyped]

from streamrecover.core.errors import StorageError

__all__ = ["JSONOnlyDisk"]


class JSONOnlyDisk(diskcache.Disk):  # type: ignore[misc]
    """A diskcache ``Disk`` that stores ``str`` keys and values inline and never pickles."""

    def put(self, key: Any) -> tuple[Any, bool]:
        """Accept ``str`` keys only (stored raw)."""
        if type(key) is not str:
            raise StorageError(f"disk storage keys are str, got {type(key).__name__}")
        return key, True

    def get(self, key: Any, raw: bool) -> Any:
        """Return a raw ``str`` key; refuse to unpickle anything else."""
        if not raw or type(key) is not str:
            raise StorageError("disk storage found a non-text key; refusing to unpickle it")
        return key

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN) -> tuple[Any, ...]:
        """Store a ``str`` value inline in the database (never a pickle, never a side file)."""
        if type(value) is not str or read:
            raise StorageError(f"disk storage values are str, got {type(value).__name__}")
        return 0, diskcache.core.MODE_RAW, None, value

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        """Return an inline ``str`` value; refuse pickles and side files."""
        if mode != diskcache.core.MODE_RAW or filename is not None or type(value) is not str:
            raise StorageError("disk storage found a value that is not inline text; "
                               "refusing to read it (it may be a pickle)")
        return value


class _ReadOnlyCache:
    """The part of ``diskcache.Cache`` that reading needs, over a ``mode=ro`` connection.

    diskcache itself opens its database read-write and creates its tables, so
    read-only use reads diskcache's ``Cache`` table directly: with
    :class:`JSONOnlyDisk`, a key is stored as is with ``raw = 1`` and a value
    inline in ``value`` with mode ``MODE_RAW``. Every write raises StorageError.
    """

    def __init__(self, database: Path, timeout: float) -> None:
        if not database.is_file():
            raise StorageError(f"no disk storage at {database.parent}")
        uri = f"file:{urllib.parse.quote(str(database.absolute()))}?mode=ro"
        self._connection = sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        )

    def get(self, key: str) -> Any:
        row = self._connection.execute(
            "SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1"
            " AND (expire_time IS NULL OR expire_time > ?)",
            (key, time.time()),
        ).fetchone()
        if row is None:
            return None
        return JSONOnlyDisk.fetch(None, row[0], row[1], row[2], False)  # type: ignore[arg-type]

    def set(self, key: str, value: str) -> None:
        raise StorageError("this disk storage is open read-only")

    def delete(self, key: str) -> None:
        raise StorageError("this disk storage is open read-only")

    @contextmanager
    def transact(self) -> Iterator[None]:
        self._connection.execute("BEGIN")
        try:
            yield
        finally:
            self._connection.execute("COMMIT")

    def close(self) -> None:
        self._connection.close()
