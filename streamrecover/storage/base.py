"""The storage interface every backend implements, and the URL rules they share.

A storage keeps :class:`~streamrecover.storage.record.StreamRecord` objects by id.
It is synchronous and thread-safe; the built-in SQLite and disk backends are
also safe to share between processes. Every method raises
:class:`~streamrecover.core.errors.StorageError` (or a subclass) when the
backend fails, :class:`~streamrecover.storage.errors.RecordNotFoundError` for
an unknown id, and :class:`~streamrecover.core.errors.UsageError` for a bad
argument; a third-party exception never escapes.

A backend implements the abstract methods; :meth:`Storage.update`,
:meth:`Storage.mark`, :meth:`Storage.claim` and :meth:`Storage.list` are
written once here on top of them. A backend is found by the scheme of its URL (see
:mod:`streamrecover.storage.registry`) and built with :meth:`Storage.from_url`.
"""

from __future__ import annotations

import builtins
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlsplit

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage.errors import RecordNotFoundError, StorageURLError
from streamrecover.storage.log import LogRead, check_after, check_timeout, poll_tail, thread_tail
from streamrecover.storage.record import (
    STATUSES,
    RecordChanges,
    RecordedError,
    Status,
    StreamRecord,
    StreamSummary,
    validate_changes,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from streamrecover.storage.record import ProgressChanges

__all__ = ["Clock", "Storage", "path_from_url"]

#: A wall clock: seconds since the epoch. Injected so that TTL tests need no sleeping.
Clock = Callable[[], float]

_StorageT = TypeVar("_StorageT", bound="Storage")


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

    @abstractmethod
    def append(self, record_id: str, chunks: Sequence[str]) -> None:
        """Append text to the record's committed text, atomically, and touch ``updated_at``.

        The pieces are stored as one chunk (their concatenation); an empty
        concatenation stores nothing but still touches the record. Raises
        RecordNotFoundError for an unknown id.
        """

    @abstractmethod
    def truncate(self, record_id: str, length: int) -> None:
        """Cut the committed text to its first ``length`` characters (the engine rewound).

        The cut is recorded as a rewind entry in the record's log (see
        :mod:`streamrecover.storage.log`), never by deleting what was written,
        so the offsets readers hold stay valid. Raises UsageError if ``length``
        is negative or longer than the text, RecordNotFoundError for an unknown id.
        """

    def update(
        self,
        record_id: str,
        *,
        expected: Status | Iterable[Status] | None = None,
        **changes: Unpack[RecordChanges],
    ) -> None:
        """Change some fields of a record (see :class:`RecordChanges`) and touch ``updated_at``.

        ``expected`` makes it a compare-and-set: the change happens only if the
        record's current status is (one of) ``expected``. A ``status`` change must
        be allowed by :data:`~streamrecover.storage.record.TRANSITIONS`.

        Raises UsageError for an unknown field or bad value, StatusConflictError
        for a refused status change, RecordNotFoundError for an unknown id.
        """
        self.apply_changes(record_id, validate_changes(changes), status_set(expected))

    def mark(
        self,
        record_id: str,
        status: Status,
        *,
        error: RecordedError | None = None,
        expected: Status | Iterable[Status] | None = None,
        **changes: Unpack[ProgressChanges],
    ) -> None:
        """Set the record's status and error (``None`` clears it), with optional counters.

        The engine marks ``interrupted`` or ``failed`` with the error that stopped
        the stream, ``completed`` at the end, and ``active`` while it retries.
        A resumer takes a stream over with :meth:`claim`, not with
        ``mark("active", expected=...)``: that compare-and-set cannot tell a
        live ``active`` record from one a crash left behind. Raises as
        :meth:`update` does.
        """
        self.update(record_id, expected=expected, status=status, error=error, **changes)

    def claim(self, record_id: str, *, stale_after: float) -> StreamRecord:
        """Atomically take over a stopped stream in order to resume it; return it, claimed.

        Succeeds when the record is ``interrupted`` or ``failed``, or ``active``
        but not updated for at least ``stale_after`` seconds (on this storage's
        clock): a live writer touches its record as it streams, so a silent
        active record is presumed to belong to a dead process. The claim sets
        the status to ``active``, clears the error and touches ``updated_at``;
        the returned record is the state it was claimed in, text included. The
        check and the write are one transaction, so of several processes or
        threads claiming at once exactly one wins, and a claim made a moment
        after another one meets a fresh ``active`` record and fails.

        ``stale_after=0`` claims any active record (the caller knows its
        writer is dead); ``math.inf`` never claims an active one.

        Raises StatusConflictError if the record is ``completed`` or
        ``cancelled``, or ``active`` and updated within ``stale_after`` seconds;
        RecordNotFoundError for an unknown id; UsageError if ``stale_after`` is
        not a non-negative number.
        """
        if (
            not isinstance(stale_after, int | float)
            or isinstance(stale_after, bool)
            or math.isnan(stale_after)
            or stale_after < 0
        ):
            raise UsageError(f"stale_after must be a number of seconds >= 0, got {stale_after!r}")
        return self.apply_claim(record_id, float(stale_after))

    @abstractmethod
    def apply_claim(self, record_id: str, stale_after: float) -> StreamRecord:
        """Backend hook behind :meth:`claim`, with ``stale_after`` already validated.

        Within one transaction that excludes every other writer (other threads
        and, for a shared store, other processes): read the status and
        ``updated_at``, call :func:`~streamrecover.storage.record.check_claim`
        with them, ``clock()`` and ``stale_after``, then write status
        ``active``, error ``None`` and ``updated_at = clock()``, and return the
        record as now stored. Callers use :meth:`claim`.
        """

    @abstractmethod
    def apply_changes(
        self, record_id: str, changes: RecordChanges, expected: frozenset[str] | None
    ) -> None:
        """Backend hook behind :meth:`update`: write already validated ``changes``.

        Within one transaction: read the current status, call
        :func:`~streamrecover.storage.record.check_transition` with it, the new
        status (or the current one) and ``expected``, then write the changes and
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


def path_from_url(url: str, scheme: str) -> Path:
    """Return the filesystem path in ``scheme:///relative`` or ``scheme:////absolute``.

    The rule is SQLAlchemy's: after ``scheme://`` comes an empty host, a ``/``,
    then the path, so three slashes begin a relative path and four an absolute
    one. Percent-escapes are decoded. Raises StorageURLError for another
    scheme, a host, a query or fragment, or an empty path.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != scheme or not url.lower().startswith(f"{scheme}://"):
        raise StorageURLError(f"expected a {scheme}:// URL, got {url!r}")
    if parts.netloc:
        raise StorageURLError(
            f"{url!r} has a host part {parts.netloc!r}; write {scheme}:///relative/path "
            f"or {scheme}:////absolute/path"
        )
    if parts.query or parts.fragment:
        raise StorageURLError(f"{url!r}: a {scheme} URL takes no query or fragment")
    path = unquote(parts.path[1:])
    if not path:
        raise StorageURLError(f"{url!r} names no path; write {scheme}:///relative/path")
    return Path(path)
