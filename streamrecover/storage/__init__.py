"""Durable storage of partial responses: memory, SQLite and disk, found by URL.

::

    from streamrecover.storage import open_storage, new_record

    with open_storage("sqlite:///streams.db") as storage:
        record = new_record(provider="anthropic", model="claude-sonnet-4-5", request=body)
        storage.create(record)
        storage.append(record.id, ["Hello, ", "world"])
        storage.mark(record.id, "completed")

Backends register in the entry-point group ``streamrecover.storage``; the disk
backend needs the ``disk`` extra and is imported only when asked for.
"""

from __future__ import annotations

from streamrecover.storage.base import DEFAULT_LEASE, DEFAULT_RENEW_INTERVAL, Clock, Storage
from streamrecover.storage.checkpoint import Checkpointer
from streamrecover.storage.errors import (
    RecordExistsError,
    RecordNotFoundError,
    StaleWriterError,
    StatusConflictError,
    StorageURLError,
    UnknownStorageError,
)
from streamrecover.storage.log import LogEntry, LogRead
from streamrecover.storage.memory import MemoryStorage
from streamrecover.storage.owner import Owner, current_owner
from streamrecover.storage.record import (
    STATUSES,
    RecordedError,
    Status,
    StreamRecord,
    StreamSummary,
    new_record,
)
from streamrecover.storage.registry import available_storages, open_storage, storage_class
from streamrecover.storage.sqlite import SQLiteStorage

__all__ = (
    "DEFAULT_LEASE",
    "DEFAULT_RENEW_INTERVAL",
    "STATUSES",
    "Checkpointer",
    "Clock",
    "LogEntry",
    "LogRead",
    "MemoryStorage",
    "Owner",
    "RecordExistsError",
    "RecordNotFoundError",
    "RecordedError",
    "SQLiteStorage",
    "StaleWriterError",
    "Status",
    "StatusConflictError",
    "Storage",
    "StorageURLError",
    "StreamRecord",
    "StreamSummary",
    "UnknownStorageError",
    "available_storages",
    "current_owner",
    "new_record",
    "open_storage",
    "storage_class",
)
