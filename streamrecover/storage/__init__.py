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

from streamrecover.storage.base import Clock, Storage
from streamrecover.storage.checkpoint import Checkpointer
from streamrecover.storage.errors import (
    RecordExistsError,
    RecordNotFoundError,
    StatusConflictError,
    StorageURLError,
    UnknownStorageError,
)
from streamrecover.storage.log import LogEntry, LogRead
from streamrecover.storage.memory import MemoryStorage
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
    "STATUSES",
    "Checkpointer",
    "Clock",
    "LogEntry",
    "LogRead",
    "MemoryStorage",
    "RecordExistsError",
    "RecordNotFoundError",
    "RecordedError",
    "SQLiteStorage",
    "Status",
    "StatusConflictError",
    "Storage",
    "StorageURLError",
    "StreamRecord",
    "StreamSummary",
    "UnknownStorageError",
    "available_storages",
    "new_record",
    "open_storage",
    "storage_class",
)
