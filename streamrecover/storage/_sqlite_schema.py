"""The SQLite backend's schema: the tables of each version and the steps between them.

Re-exported by :mod:`streamrecover.storage.sqlite`, whose docstring describes the
layout; :class:`~streamrecover.storage.sqlite.SQLiteStorage` runs the steps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]


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
