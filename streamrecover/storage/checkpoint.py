"""Batch the committed text on its way to storage, so that recording costs little per chunk.

The engine calls :meth:`Checkpointer.append` for every text delta and
:meth:`Checkpointer.truncate` for every rewind. Both only touch memory (a list
append and a counter) until ``interval`` seconds have passed since the last
flush or ``max_bytes`` of text are buffered; then one ``Storage.append`` writes
the batch in one transaction. The engine calls :meth:`Checkpointer.flush` on a
fault, on completion and on close, so a crash loses at most the text of one
interval — and only if it happens while text arrives: there is no timer thread
for text, so an idle stream's buffer waits for the next call.

**Ownership.** Every write carries the writer's ``epoch`` (see
:mod:`streamrecover.storage.base`, "Ownership"), and a :class:`~streamrecover.
storage.lease.Lease` keeps the record's lease alive in the background while
nothing is written (backoff waits, a model that only thinks). A refused write
(:class:`~streamrecover.storage.errors.StaleWriterError`: another process
claimed the record) is the one storage error that propagates: from then on the
checkpointer writes nothing, and :attr:`Checkpointer.lost` says why.

**Storage trouble never stops the stream.** Any other StorageError (disk full,
database locked for longer than its timeout, the database file deleted) is
absorbed: the buffer is kept, the failure is logged once per outage and kept
in :attr:`Checkpointer.storage_error`, and the write is tried again at the
next interval. When storage comes back, the buffered text is written and the
final ``mark`` records the failure in the record's ``storage_error``. When it
never comes back the stream still completes for its consumer; the record then
lacks what could not be written (:attr:`Checkpointer.durable` is False), which
is logged when the stream ends.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from streamrecover._logging import logger
from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage.base import Storage
from streamrecover.storage.errors import RecordExistsError, StaleWriterError
from streamrecover.storage.record import RecordedError, Status, StreamRecord

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from streamrecover.storage.lease import Lease
    from streamrecover.storage.record import ProgressChanges

__all__ = ["Checkpointer"]


class Checkpointer:
    """Buffer appends and truncates to one record and write them in batches.

    ``interval`` (seconds, on ``clock``, a monotonic clock) and ``max_bytes``
    bound what a crash can lose. ``max_bytes`` is compared with the number of
    buffered characters, not encoded bytes: counting bytes would mean encoding
    every chunk on the hot path, so a batch may hold up to 4 × ``max_bytes``
    bytes of UTF-8. ``committed_length`` is the length of the text already
    stored; when omitted it is read from storage once (or is 0 with ``create``).

    ``epoch`` is the writer's claim, passed to every write (None: unfenced);
    ``lease``, when given, is told of every write and stopped by :meth:`end`.
    ``create`` is a record not yet stored: it is created by the first write,
    so that a storage that fails at the start of a stream costs durability,
    not the stream.

    Not thread-safe: one stream, one checkpointer, one thread at a time.
    """

    def __init__(
        self,
        storage: Storage,
        record_id: str,
        *,
        interval: float = 0.25,
        max_bytes: int = 16 * 1024,
        clock: Callable[[], float] = time.monotonic,
        committed_length: int | None = None,
        epoch: int | None = None,
        lease: Lease | None = None,
        create: StreamRecord | None = None,
    ) -> None:
        if interval < 0 or max_bytes < 1:
            raise UsageError("interval must be >= 0 and max_bytes >= 1")
        self.storage = storage
        self.record_id = record_id
        self.epoch = epoch
        self.lease = lease
        self._interval = interval
        self._max_chars = max_bytes
        self._clock = clock
        self._to_create = create
        if committed_length is None:
            committed_length = (
                len(create.text) if create is not None else len(storage.get(record_id).text)
            )
        # Stored text length once the pending truncate (if any) is applied.
        self._base_length = committed_length
        self._pending_truncate: int | None = None
        self._pending: list[str] = []
        self._pending_chars = 0
        self._deadline = clock() + interval
        #: The last storage failure met (kept after storage came back, for the record).
        self.storage_error: StorageError | None = None
        self._failing = False
        #: Set when a write was refused: another process owns the record now.
        self.lost: StaleWriterError | None = None
        self._ended = False
        if create is not None:
            self._write(self._create)

    @property
    def length(self) -> int:
        """Length of the committed text, stored plus buffered, in characters."""
        return self._base_length + self._pending_chars

    @property
    def pending_chars(self) -> int:
        """How many characters are buffered and not yet written."""
        return self._pending_chars

    @property
    def durable(self) -> bool:
        """Whether everything given to the checkpointer is in storage (nothing failed since)."""
        return not self._failing and self._to_create is None and not self._pending \
            and self._pending_truncate is None

    def append(self, text: str) -> None:
        """Buffer ``text``; flush if the interval has passed or the buffer is full.

        Raises what :meth:`flush` raises.
        """
        self._pending.append(text)
        self._pending_chars += len(text)
        if self._pending_chars >= self._max_chars or self._clock() >= self._deadline:
            self.flush()

    def truncate(self, length: int) -> None:
        """Cut the committed text to ``length`` characters (the engine rewound).

        A cut inside the buffered text is applied in memory; a deeper cut drops
        the buffer and is written with the next flush. Raises UsageError if
        ``length`` is negative or beyond the committed text.
        """
        if not isinstance(length, int) or not 0 <= length <= self.length:
            raise UsageError(f"cannot truncate a text of {self.length} characters to {length!r}")
        if length >= self._base_length:
            kept = "".join(self._pending)[: length - self._base_length]
            self._pending = [kept] if kept else []
            self._pending_chars = len(kept)
        else:
            self._pending.clear()
            self._pending_chars = 0
            self._pending_truncate = length
            self._base_length = length

    def flush_if_due(self) -> bool:
        """If the interval has passed, flush, or touch the record when nothing is buffered.

        The touch (``Storage.renew``) tells a would-be resumer this stream is
        alive while no text arrives; it is also where a lease lost in the
        background is noticed. Return whether it wrote (or tried to); raises
        what :meth:`flush` raises.
        """
        if self._clock() < self._deadline:
            return False
        lease = self.lease
        if lease is not None and lease.lost is not None and self.lost is None:
            self.lost = lease.lost
        if self._pending or self._pending_truncate is not None or self._to_create is not None:
            self.flush()
        else:
            self._write(self._renew)
            self._deadline = self._clock() + self._interval
        return True

    def flush(self) -> None:
        """Write everything buffered now (a truncate, then one append) and restart the interval.

        On a storage error the buffer is kept for the next flush, and the error
        is kept in :attr:`storage_error` (see the module docstring). Raises
        StaleWriterError, having written nothing, if another process owns the
        record.
        """
        self._write(self._flush)
        self._deadline = self._clock() + self._interval

    def mark(
        self,
        status: Status,
        *,
        error: RecordedError | None = None,
        expected: Status | Iterable[Status] | None = None,
        **changes: Unpack[ProgressChanges],
    ) -> bool:
        """Flush, then set the record's status (see ``Storage.mark``); return whether it was stored.

        The mark also records :attr:`storage_error`, if storage failed during
        the stream. Raises StaleWriterError if another process owns the record;
        any other storage failure is absorbed (see :meth:`flush`).
        """
        self.flush()
        if not self.durable:
            return False
        problem = self.storage_error

        def mark() -> None:
            extra = {} if problem is None else {
                "storage_error": RecordedError.from_exception(problem, recoverable=True)
            }
            self.storage.mark(self.record_id, status, error=error, expected=expected,
                              epoch=self.epoch, **changes, **extra)

        return self._write(mark)

    def end(self) -> None:
        """The stream ended: stop renewing the lease, and say if the record is not durable.

        Idempotent.
        """
        if self._ended:
            return
        self._ended = True
        if self.lease is not None:
            self.lease.stop()
        if not self.durable and self.lost is None:
            logger.warning(
                "stream %s ended, but its record could not be fully written (%s): the "
                "consumer got the whole text; storage has only what was written before",
                self.record_id, self.storage_error,
            )

    def close(self) -> None:
        """Flush what is buffered."""
        self.flush()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes ----------------------------------------------------------------------

    def _write(self, operation: Callable[[], None]) -> bool:
        """Run one storage write; absorb a storage failure, raise a refusal. Return success."""
        if self.lost is not None:
            raise self.lost
        try:
            operation()
        except StaleWriterError as exc:
            self.lost = exc
            if self.lease is not None:
                self.lease.stop()
            raise
        except StorageError as exc:
            if not self._failing:
                logger.warning(
                    "stream %s: storage failed (%s); the stream goes on, and the write is "
                    "tried again every %.3g s", self.record_id, exc, self._interval,
                )
            self._failing = True
            self.storage_error = exc
            return False
        if self._failing:
            logger.warning("stream %s: storage is back; the record is up to date again",
                           self.record_id)
            self._failing = False
        if self.lease is not None:
            self.lease.wrote()
        return True

    def _create(self) -> None:
        record = self._to_create
        if record is not None:
            # An id of 128 random bits that exists already is this record, whose
            # creation succeeded once before its answer was lost.
            with contextlib.suppress(RecordExistsError):
                self.storage.create(record)
            self._to_create = None

    def _renew(self) -> None:
        self.storage.renew(self.record_id, epoch=self.epoch)

    def _flush(self) -> None:
        self._create()
        if self._pending_truncate is not None:
            self.storage.truncate(self.record_id, self._pending_truncate, epoch=self.epoch)
            self._pending_truncate = None
        if self._pending:
            self.storage.append(self.record_id, self._pending, epoch=self.epoch)
            self._base_length += self._pending_chars
            self._pending = []
            self._pending_chars = 0
