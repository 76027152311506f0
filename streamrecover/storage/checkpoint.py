"""Batch the committed text on its way to storage, so that recording costs little per chunk.

The engine calls :meth:`Checkpointer.append` for every text delta and
:meth:`Checkpointer.truncate` for every rewind. Both only touch memory (a list
append and a counter) until ``interval`` seconds have passed since the last
flush or ``max_bytes`` of text are buffered; then one ``Storage.append`` writes
the batch in one transaction. The engine calls :meth:`Checkpointer.flush` on a
fault, on completion and on close, so a crash loses at most the text of one
interval — and only if it happens while text arrives: there is no timer thread,
so an idle stream's buffer waits for the next call.

The record's ``updated_at`` doubles as the writer's heartbeat: a resumer takes
over an ``active`` record only once it has not been updated for a while
(``Storage.claim``). Text alone does not keep it fresh — thinking deltas and
keep-alive pings carry none — so the engine calls
:meth:`Checkpointer.flush_if_due` for every piece of body it reads, and that
touches the record at least once an interval even with nothing to write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from streamrecover.core.errors import UsageError
from streamrecover.storage.base import Storage
from streamrecover.storage.record import RecordedError, Status

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from streamrecover.storage.record import ProgressChanges

__all__ = ["Checkpointer"]


class Checkpointer:
    """Buffer appends and truncates to one record and write them in batches.

    ``interval`` (seconds, on ``clock``, a monotonic clock) and ``max_bytes``
    bound what a crash can lose. ``max_bytes`` is compared with the number of
    buffered characters, not encoded bytes: counting bytes would mean encoding
    every chunk on the hot path, so a batch may hold up to 4 × ``max_bytes``
    bytes of UTF-8. ``committed_length`` is the length of the text already
    stored; when omitted it is read from storage once.

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
    ) -> None:
        if interval < 0 or max_bytes < 1:
            raise UsageError("interval must be >= 0 and max_bytes >= 1")
        self.storage = storage
        self.record_id = record_id
        self._interval = interval
        self._max_chars = max_bytes
        self._clock = clock
        if committed_length is None:
            committed_length = len(storage.get(record_id).text)
        # Stored text length once the pending truncate (if any) is applied.
        self._base_length = committed_length
        self._pending_truncate: int | None = None
        self._pending: list[str] = []
        self._pending_chars = 0
        self._deadline = clock() + interval

    @property
    def length(self) -> int:
        """Length of the committed text, stored plus buffered, in characters."""
        return self._base_length + self._pending_chars

    @property
    def pending_chars(self) -> int:
        """How many characters are buffered and not yet written."""
        return self._pending_chars

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

        The touch (an empty ``Storage.append``) is the heartbeat that tells a
        would-be resumer this stream is alive while no text arrives. Return
        whether it wrote; raises what :meth:`flush` raises.
        """
        if self._clock() < self._deadline:
            return False
        if self._pending or self._pending_truncate is not None:
            self.flush()
        else:
            self.storage.append(self.record_id, ())
            self._deadline = self._clock() + self._interval
        return True

    def flush(self) -> None:
        """Write everything buffered now (a truncate, then one append) and restart the interval.

        On a storage error the buffer is kept, so a later flush retries it;
        the error (StorageError) propagates.
        """
        if self._pending_truncate is not None:
            self.storage.truncate(self.record_id, self._pending_truncate)
            self._pending_truncate = None
        if self._pending:
            self.storage.append(self.record_id, self._pending)
            self._base_length += self._pending_chars
            self._pending = []
            self._pending_chars = 0
        self._deadline = self._clock() + self._interval

    def mark(
        self,
        status: Status,
        *,
        error: RecordedError | None = None,
        expected: Status | Iterable[Status] | None = None,
        **changes: Unpack[ProgressChanges],
    ) -> None:
        """Flush, then set the record's status (see ``Storage.mark``)."""
        self.flush()
        self.storage.mark(self.record_id, status, error=error, expected=expected, **changes)

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
