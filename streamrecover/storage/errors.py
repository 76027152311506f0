"""The errors a storage backend raises, all within the library's one exception root.

``StorageError`` (from :mod:`streamrecover.core.errors`) is the family; the
subclasses here name the cases a caller can act on. The two URL errors are also
``ValueError`` so that code which validates configuration generically catches
them, as the plugin convention of keyring and fsspec expects for an unknown name.
"""

from __future__ import annotations

from streamrecover.core.errors import StorageError, UsageError

__all__ = [
    "RecordExistsError",
    "RecordNotFoundError",
    "StaleWriterError",
    "StatusConflictError",
    "StorageURLError",
    "UnknownStorageError",
]


class RecordNotFoundError(StorageError):
    """No record has the requested id (it never existed, or it was deleted or cleaned up)."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"no stored stream with id {record_id!r}")
        self.record_id = record_id


class RecordExistsError(StorageError):
    """``create`` was given a record whose id is already stored."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"a stored stream with id {record_id!r} already exists")
        self.record_id = record_id


class StatusConflictError(StorageError):
    """The record's current status does not allow the requested status change.

    Raised for a transition the status table forbids (``completed`` is final) and
    for a compare-and-set whose ``expected`` status did not match, which is how
    two processes avoid resuming the same interrupted stream twice.
    """

    def __init__(self, record_id: str, current: str, requested: str, reason: str) -> None:
        super().__init__(
            f"stream {record_id!r} is {current!r}; cannot mark it {requested!r}: {reason}"
        )
        self.record_id = record_id
        self.current = current
        self.requested = requested


class StaleWriterError(StorageError):
    """A write carried an epoch older than the record's: another process owns the record now.

    Every claim of a record increments its ``epoch`` (a fencing token); every
    write of the stream that holds the claim carries it. A writer that was
    paused, partitioned or simply slow while another process took the record
    over meets a newer epoch on its next write, which the storage refuses
    atomically (nothing of it is written). ``epoch`` is the writer's,
    ``current`` the record's.
    """

    def __init__(self, record_id: str, epoch: int, current: int) -> None:
        super().__init__(
            f"stream {record_id!r} was taken over by another process (claim epoch {current}; "
            f"this writer holds epoch {epoch}); the write was refused"
        )
        self.record_id = record_id
        self.epoch = epoch
        self.current = current


class StorageURLError(UsageError, ValueError):
    """A storage URL is malformed (no scheme, a host where a path belongs, a stray query)."""


class UnknownStorageError(StorageURLError):
    """No storage backend is registered under the URL's scheme; the message lists those that are."""

    def __init__(self, name: str, available: list[str]) -> None:
        names = ", ".join(available) if available else "none"
        super().__init__(
            f"unknown storage {name!r}; registered storages (entry-point group "
            f"'streamrecover.storage'): {names}"
        )
        self.name = name
        self.available = available
