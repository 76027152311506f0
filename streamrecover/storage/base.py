"""The storage interface every backend implements.

A storage keeps :class:`~streamrecover.storage.record.StreamRecord` objects by id.
It is synchronous and thread-safe; the built-in SQLite and disk backends are
also safe to share between processes. Every method raises
:class:`~streamrecover.core.errors.StorageError` (or a subclass) when the
backend fails, :class:`~streamrecover.storage.errors.RecordNotFoundError` for
an unknown id, and :class:`~streamrecover.core.errors.UsageError` for a bad
argument; a third-party exception never escapes.

A backend implements the abstract methods; the public writing methods
(:meth:`Storage.append`, :meth:`Storage.truncate`, :meth:`Storage.update`,
:meth:`Storage.mark`, :meth:`Storage.renew`, :meth:`Storage.claim`,
:meth:`Storage.release`) and :meth:`Storage.list` are written once here: they
validate their arguments and call the backend's ``apply_*`` hooks. A backend is
found by the scheme of its URL (see :mod:`streamrecover.storage.registry`) and
built with :meth:`Storage.from_url`.

Ownership: one writer at a time
-------------------------------

A record has at most one writer, its **owner** (``record.owner``: host
identity, pid and process start time). The owner holds a **lease**
(``record.lease`` seconds): every write it makes touches ``updated_at``, and
a writer with nothing to write calls :meth:`Storage.renew` at least every
lease/5 seconds (:data:`DEFAULT_RENEW_INTERVAL`), also while it waits out a
backoff or the model thinks. A resumer takes the record over with
:meth:`Storage.claim`, which succeeds for a stopped record (``interrupted``,
``failed``), and for an ``active`` one when its owner is on this host and its
process is gone, when its lease expired (no update for ``lease`` seconds), or
when forced.

Every claim increments ``record.epoch``, the **fencing token**. A writer passes
the epoch of its claim (or 0 for the record it created) to every write:
``append(..., epoch=)``, ``truncate``, ``update``/``mark``, ``renew``. A backend
compares it with the stored epoch *in the same transaction as the write* and,
if they differ, raises :class:`~streamrecover.storage.errors.StaleWriterError`
having written nothing (:func:`~streamrecover.storage.record.check_epoch`). A
writer that was paused while another process claimed its record is thus
refused on its first write after waking. ``epoch=None`` is a write that claims
no ownership (an administrative tool, ``RecoveryRegistry``): always accepted.

A backend implements all of it in four hooks:

* ``apply_append(id, text, epoch)`` and ``apply_truncate(id, length, epoch)``:
  one transaction: read the stored epoch, ``check_epoch``, write, touch;
* ``apply_changes(id, changes, expected, epoch)``: the same, with
  ``check_transition`` for the status;
* ``apply_claim(id, owner, lease, force)``: one transaction that excludes every
  other writer: read status, ``updated_at``, owner and lease, call
  :func:`~streamrecover.storage.record.check_claim`, then write status
  ``active``, no error, the new owner and lease, ``epoch + 1``, ``updated_at =
  clock()``, and return the record as stored.

The conformance kit (:mod:`streamrecover.testing.storage`) checks every rule.
"""

from __future__ import annotations

import builtins
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.core.surrogates import replace_lone_surrogates
from streamrecover.storage._defaults import DEFAULT_RENEW_INTERVAL as _DEFAULT_RENEW_INTERVAL
from streamrecover.storage.errors import RecordNotFoundError
from streamrecover.storage.log import LogRead, check_after, check_timeout, poll_tail, thread_tail
from streamrecover.storage.owner import Owner, current_owner
from streamrecover.storage.record import (
    CLAIMABLE,
    STATUSES,
    RecordChanges,
    RecordedError,
    Status,
    StreamRecord,
    StreamSummary,
    validate_changes,
)

# The URL rules of the file-backed storages, re-exported from their own module.
from streamrecover.storage.urls import file_url, path_from_url

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from streamrecover.storage.record import ProgressChanges

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_RENEW_INTERVAL",
    "LEASE_PER_INTERVAL",
    "Clock",
    "Storage",
    "file_url",
    "lease_for",
    "path_from_url",
]

#: A wall clock: seconds since the epoch. Injected so that TTL tests need no sleeping.
Clock = Callable[[], float]

_StorageT = TypeVar("_StorageT", bound="Storage")

#: How often a writer renews its lease when nothing else touched its record
#: (seconds; defined in storage._defaults, which the client imports up front).
DEFAULT_RENEW_INTERVAL = _DEFAULT_RENEW_INTERVAL
#: A lease lasts this many renewal intervals: a writer has to miss four renewals
#: in a row (a stalled disk, a paused process) before its record can be claimed.
LEASE_PER_INTERVAL = 5


def lease_for(renew_interval: float) -> float:
    """Return the lease, in seconds, of a writer that renews every ``renew_interval`` seconds."""
    return LEASE_PER_INTERVAL * renew_interval


#: The lease of a writer with the default renewal interval (10 s).
DEFAULT_LEASE = lease_for(DEFAULT_RENEW_INTERVAL)


class Storage(ABC):
    """Where partial responses are kept. Use as a context manager, or call :meth:`close`.

    ``clock`` stamps ``updated_at`` on every change and measures ages for
    :meth:`cleanup` and the ``older_than`` filters.
    """

    def __init__(self, *, clock: Clock = time.time) -> None:
        self.clock = clock

    @classmethod
    @abstractmethod
    def from_url(cls: type[_StorageT], url: str, *, clock: Clock = time.time) -> _StorageT:
        """Build the storage a URL names (its scheme is this backend's entry-point name).

        Raises StorageURLError for a URL this backend cannot use, StorageError if
        the storage cannot be opened.
        """

    # -- writing -------------------------------------------------------------------------

    @abstractmethod
    def create(self, record: StreamRecord) -> None:
        """Store a new record as given (timestamps included).

        Raises RecordExistsError if a record with the same id is stored.
        """

    def append(
        self, record_id: str, chunks: Sequence[str], *, epoch: int | None = None
    ) -> None:
        """Append text to the record's committed text, atomically, and touch ``updated_at``.

        The pieces are stored as one chunk (their concatenation); an empty
        concatenation stores nothing but still touches the record (that is a
        lease renewal, see :meth:`renew`). A lone surrogate (half of a UTF-16
        pair) is stored as U+FFFD, so that the text is always encodable.
        ``epoch`` is the writer's claim (see the module docstring); None writes
        unfenced.

        Raises RecordNotFoundError for an unknown id, StaleWriterError (nothing
        written) if ``epoch`` is not the record's.
        """
        text = "".join(chunks)
        if not text.isascii():
            text = replace_lone_surrogates(text)[0]
        self.apply_append(record_id, text, _checked_epoch(epoch))

    def truncate(self, record_id: str, length: int, *, epoch: int | None = None) -> None:
        """Cut the committed text to its first ``length`` characters (the engine rewound).

        The cut is recorded as a rewind entry in the record's log (see
        :mod:`streamrecover.storage.log`), never by deleting what was written,
        so the offsets readers hold stay valid. Raises UsageError if ``length``
        is negative or longer than the text, RecordNotFoundError for an unknown
        id, StaleWriterError (nothing changed) if ``epoch`` is not the record's.
        """
        self.apply_truncate(record_id, length, _checked_epoch(epoch))

    def renew(self, record_id: str, *, epoch: int | None) -> None:
        """Renew the writer's lease: touch ``updated_at`` and change nothing else.

        The same as an empty :meth:`append`. Raises RecordNotFoundError for an
        unknown id, StaleWriterError if ``epoch`` is not the record's (the
        lease was lost: another process claimed the record).
        """
        self.apply_append(record_id, "", _checked_epoch(epoch))

    @abstractmethod
    def apply_append(self, record_id: str, text: str, epoch: int | None) -> None:
        """Backend hook behind :meth:`append` and :meth:`renew`; ``text`` is clean.

        Within one transaction: read the record's epoch (RecordNotFoundError if
        there is no record), call :func:`~streamrecover.storage.record.check_epoch`
        with it and ``epoch``, then append ``text`` as one chunk (nothing if it
        is empty) and set ``updated_at = clock()``.
        """

    @abstractmethod
    def apply_truncate(self, record_id: str, length: int, epoch: int | None) -> None:
        """Backend hook behind :meth:`truncate`.

        Within one transaction: read the record, ``check_epoch``, then
        :func:`check_truncate` the length, cut the text and set
        ``updated_at = clock()``.
        """

    def update(
        self,
        record_id: str,
        *,
        expected: Status | Iterable[Status] | None = None,
        epoch: int | None = None,
        **changes: Unpack[RecordChanges],
    ) -> None:
        """Change some fields of a record (see :class:`RecordChanges`) and touch ``updated_at``.

        ``expected`` makes it a compare-and-set: the change happens only if the
        record's current status is (one of) ``expected``. A ``status`` change must
        be allowed by :data:`~streamrecover.storage.record.TRANSITIONS`.

        ``epoch`` fences the write (see the module docstring).

        Raises UsageError for an unknown field or bad value, StatusConflictError
        for a refused status change, RecordNotFoundError for an unknown id,
        StaleWriterError (nothing changed) if ``epoch`` is not the record's.
        """
        self.apply_changes(
            record_id, validate_changes(changes), status_set(expected), _checked_epoch(epoch)
        )

    def mark(
        self,
        record_id: str,
        status: Status,
        *,
        error: RecordedError | None = None,
        expected: Status | Iterable[Status] | None = None,
        epoch: int | None = None,
        **changes: Unpack[ProgressChanges],
    ) -> None:
        """Set the record's status and error (``None`` clears it), with optional counters.

        The engine marks ``interrupted`` or ``failed`` with the error that stopped
        the stream, ``completed`` at the end, and ``active`` while it retries.
        A resumer takes a stream over with :meth:`claim`, not with
        ``mark("active", expected=...)``: that compare-and-set cannot tell a
        live ``active`` record from one a crash left behind, and does not fence
        the previous writer out. Raises as :meth:`update` does.
        """
        self.update(
            record_id, expected=expected, epoch=epoch, status=status, error=error, **changes
        )

    def claim(
        self,
        record_id: str,
        *,
        owner: Owner | None = None,
        lease: float = DEFAULT_LEASE,
        force: bool = False,
    ) -> StreamRecord:
        """Atomically take over a stopped or abandoned stream to resume it; return it, claimed.

        Succeeds when the record is ``interrupted`` or ``failed``; or ``active``
        and its owner is on this host and its process is gone, or its lease
        expired (no update for ``record.lease`` seconds, on this storage's
        clock), or ``force`` is set (the caller knows its writer is dead; a
        writer that is in fact alive is fenced out, not interleaved). See
        :func:`~streamrecover.storage.record.check_claim`.

        The claim sets the status to ``active``, clears the error and
        ``storage_error``, makes ``owner`` (default: this process) the owner
        with a ``lease`` of that many seconds, increments ``epoch`` and touches
        ``updated_at``; the returned record is the state it was claimed in,
        text included, and its ``epoch`` is the one to pass to every write.
        The check and the write are one transaction, so of several processes
        or threads claiming at once exactly one wins, and a claim made a moment
        after another one meets a fresh ``active`` record and fails.

        Raises StatusConflictError if the record is ``completed`` or
        ``cancelled``, or ``active`` and still owned; RecordNotFoundError for
        an unknown id; UsageError for a bad ``owner``, ``lease`` or ``force``.
        """
        if not _is_seconds(lease):
            raise UsageError(f"lease must be a positive number of seconds, got {lease!r}")
        if owner is None:
            owner = current_owner()
        elif not isinstance(owner, Owner):
            raise UsageError(f"owner must be an Owner, got {owner!r}")
        if not isinstance(force, bool):
            raise UsageError(f"force must be True or False, got {force!r}")
        return self.apply_claim(record_id, owner, float(lease), force)

    def release(
        self,
        record_id: str,
        *,
        epoch: int,
        status: Status = "interrupted",
        error: RecordedError | None = None,
    ) -> None:
        """Give back a claim that will not be used (building the resume failed).

        Sets ``status`` (the status the record had before the claim:
        ``interrupted`` or ``failed``) and ``error``, and clears the owner, so
        the next resumer claims it at once. The epoch stays incremented, so a
        writer fenced out by the claim stays fenced out. Raises UsageError for
        another ``status``, StaleWriterError if the record was claimed again
        meanwhile (then it is not ours to give back), and as :meth:`update`.
        """
        if status not in CLAIMABLE:
            raise UsageError(f"a released claim is {sorted(CLAIMABLE)}, not {status!r}")
        self.update(record_id, expected="active", epoch=epoch, status=status, error=error,
                    owner=None)

    @abstractmethod
    def apply_claim(
        self, record_id: str, owner: Owner, lease: float, force: bool
    ) -> StreamRecord:
        """Backend hook behind :meth:`claim`, with the arguments already validated.

        Within one transaction that excludes every other writer (other threads
        and, for a shared store, other processes): read the status,
        ``updated_at``, owner and lease, call
        :func:`~streamrecover.storage.record.check_claim` with them,
        ``clock()`` and ``force``, then write status ``active``, error and
        storage_error ``None``, ``owner``, ``lease``, ``epoch + 1`` and
        ``updated_at = clock()``, and return the record as now stored. Callers
        use :meth:`claim`.
        """

    @abstractmethod
    def apply_changes(
        self,
        record_id: str,
        changes: RecordChanges,
        expected: frozenset[str] | None,
        epoch: int | None,
    ) -> None:
        """Backend hook behind :meth:`update`: write already validated ``changes``.

        Within one transaction: read the current status and epoch, call
        :func:`~streamrecover.storage.record.check_epoch` with the epoch and
        ``epoch``, and :func:`~streamrecover.storage.record.check_transition`
        with the status, the new status (or the current one) and ``expected``,
        then write the changes (in their JSON form:
        :func:`~streamrecover.storage.record.changes_to_json`) and
        ``updated_at = clock()``. Callers use :meth:`update` or :meth:`mark`.
        """

    @abstractmethod
    def delete(self, record_id: str) -> bool:
        """Delete a record and its text. Return whether it existed."""

    @abstractmethod
    def cleanup(self, older_than: float) -> int:
        """Delete every record not updated for more than ``older_than`` seconds.

        Whatever its status: an active stream whose process died is stale too.
        Return how many were deleted.
        """

    # -- reading -------------------------------------------------------------------------

    @abstractmethod
    def get(self, record_id: str) -> StreamRecord:
        """Return the record with its full text. Raises RecordNotFoundError for an unknown id."""

    @abstractmethod
    def summaries(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        older_than: float | None = None,
    ) -> builtins.list[StreamSummary]:
        """Return light views of the records, oldest ``created_at`` first, without loading text.

        ``status`` keeps records with that status (or any of those statuses);
        ``older_than`` keeps records not updated for more than that many seconds.
        Raises UsageError for an unknown status.
        """

    @abstractmethod
    def read(self, record_id: str, *, after: int = 0) -> LogRead:
        """Return the log entries after offset ``after`` with the record's status, atomically.

        Every non-empty append and every truncate is one entry; offsets start
        at 1 and only grow (see :mod:`streamrecover.storage.log`). A record
        created with chunks has one entry per non-empty chunk. Raises
        UsageError for an offset that is not an int >= 0 or lies beyond the
        log's end (use :func:`~streamrecover.storage.log.check_after`),
        RecordNotFoundError for an unknown id.
        """

    #: How often the default :meth:`tail` reads again while it waits, in seconds.
    poll_interval = 0.05

    def tail(
        self, record_id: str, *, after: int = 0, timeout: float | None = None
    ) -> LogRead:
        """Like :meth:`read`, but wait until there is an entry after ``after`` or the record
        is no longer ``active``, for at most ``timeout`` seconds (None: no limit).

        Returns what :meth:`read` returns; its ``entries`` are empty only when the
        timeout passed or the record stopped. This default polls every
        :attr:`poll_interval` seconds; a backend that can be woken overrides it.
        Raises as :meth:`read` does, and UsageError for a bad timeout.
        """
        check_after(after)
        return poll_tail(
            lambda offset: self.read(record_id, after=offset),
            after,
            check_timeout(timeout),
            self.poll_interval,
        )

    async def aread(self, record_id: str, *, after: int = 0) -> LogRead:
        """:meth:`read` for asyncio and trio: runs in a worker thread (needs anyio)."""
        check_after(after)
        return await thread_tail(
            lambda offset, _timeout: self.read(record_id, after=offset), after, 0.0
        )

    async def atail(
        self, record_id: str, *, after: int = 0, timeout: float | None = None
    ) -> LogRead:
        """:meth:`tail` for asyncio and trio, without blocking the event loop (needs anyio).

        The blocking :meth:`tail` runs in worker threads in slices of half a
        second, so a cancelled ``atail`` returns at once.
        """
        check_after(after)
        return await thread_tail(
            lambda offset, limit: self.tail(record_id, after=offset, timeout=limit),
            after,
            check_timeout(timeout),
        )

    def list(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        older_than: float | None = None,
    ) -> builtins.list[StreamRecord]:
        """Return full records, filtered as :meth:`summaries` does, oldest first.

        This loads every record's text; prefer :meth:`summaries` to show a list.
        """
        records = []
        for summary in self.summaries(status=status, older_than=older_than):
            try:
                records.append(self.get(summary.id))
            except RecordNotFoundError:  # deleted by someone else meanwhile
                continue
        return records

    # -- lifetime ------------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Release files and connections. Idempotent; any other call afterwards raises
        StorageError."""

    def __enter__(self: _StorageT) -> _StorageT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- helpers for backends ------------------------------------------------------------

    def _cutoff(self, older_than: float | None) -> float | None:
        """Return the ``updated_at`` below which a record is older than ``older_than`` seconds."""
        if older_than is None:
            return None
        if not isinstance(older_than, int | float) or isinstance(older_than, bool):
            raise UsageError(f"older_than must be a number of seconds, got {older_than!r}")
        return self.clock() - older_than

    def _cleanup_cutoff(self, older_than: float) -> float:
        """Like :meth:`_cutoff`, for the required argument of :meth:`cleanup`."""
        cutoff = self._cutoff(older_than)
        if cutoff is None:
            raise UsageError("cleanup needs older_than, a number of seconds")
        return cutoff


def _is_seconds(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool)
        and 0 < value < 1e18  # finite, and a float (an int of 400 digits is not)
    )


def _checked_epoch(epoch: object) -> int | None:
    if epoch is None or (isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0):
        return epoch
    raise UsageError(f"epoch must be a non-negative int or None, got {epoch!r}")


def status_set(status: Status | Iterable[Status] | None) -> frozenset[str] | None:
    """Normalize a ``status`` filter or ``expected`` argument to a set (None stays None).

    Raises UsageError for an unknown status.
    """
    if status is None:
        return None
    wanted = frozenset([status] if isinstance(status, str) else status)
    unknown = wanted - set(STATUSES)
    if unknown:
        raise UsageError(f"unknown status {sorted(unknown)}; expected some of {STATUSES}")
    return wanted


def check_truncate(length: int, current: int) -> None:
    """Raise UsageError unless ``0 <= length <= current``."""
    if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= current:
        raise UsageError(f"cannot truncate a text of {current} characters to {length!r}")


def closed_error() -> StorageError:
    """The error every operation on a closed storage raises."""
    return StorageError("the storage is closed")
