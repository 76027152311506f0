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

import importlib
from typing import TYPE_CHECKING, Any

from streamrecover.storage.errors import (
    RecordExistsError,
    RecordNotFoundError,
    StaleWriterError,
    StatusConflictError,
    StorageURLError,
    UnknownStorageError,
)

if TYPE_CHECKING:
    from streamrecover.storage.base import DEFAULT_LEASE, DEFAULT_RENEW_INTERVAL, Clock, Storage
    from streamrecover.storage.checkpoint import Checkpointer
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

# The storage machinery (records, logs, the backends, the entry-point registry)
# loads on first use, so that importing the client does not pay for it.
_LAZY = {
    "Checkpointer": "streamrecover.storage.checkpoint",
    "Clock": "streamrecover.storage.base",
    "DEFAULT_LEASE": "streamrecover.storage.base",
    "DEFAULT_RENEW_INTERVAL": "streamrecover.storage.base",
    "LogEntry": "streamrecover.storage.log",
    "LogRead": "streamrecover.storage.log",
    "MemoryStorage": "streamrecover.storage.memory",
    "Owner": "streamrecover.storage.owner",
    "RecordedError": "streamrecover.storage.record",
    "SQLiteStorage": "streamrecover.storage.sqlite",
    "STATUSES": "streamrecover.storage.record",
    "Status": "streamrecover.storage.record",
    "Storage": "streamrecover.storage.base",
    "StreamRecord": "streamrecover.storage.record",
    "StreamSummary": "streamrecover.storage.record",
    "available_storages": "streamrecover.storage.registry",
    "current_owner": "streamrecover.storage.owner",
    "new_record": "streamrecover.storage.record",
    "open_storage": "streamrecover.storage.registry",
    "storage_class": "streamrecover.storage.registry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'streamrecover.storage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
