"""A live SQLite database file is touched only by SQLite (the SQLite and disk backends).

POSIX advisory locks belong to a process, not to a descriptor: closing *any*
descriptor on the file drops every SQLite lock this process holds on it
(https://www.sqlite.org/howtocorrupt.html, section 2.2). So a database file is
created here only when absent, opened read-only only through SQLite, and
otherwise only ``stat``-ed.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from pathlib import Path

__all__: list[str] = []


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
