"""Rows of the SQLite backend read back into records and log entries, and the inserts
that write log rows.

Every value read is checked: a corrupt row raises StorageError naming the stream.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage.errors import RecordNotFoundError
from streamrecover.storage.log import LogEntry, apply_entries
from streamrecover.storage.record import StreamRecord, decode_json

__all__: list[str] = []


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
