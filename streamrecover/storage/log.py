"""A record's text as a log: every append and every rewind is an entry with an offset.

A stored stream is also a log that other processes read while it grows
(``Storage.read`` / ``Storage.tail``, used by ``Client.watch``). Each
non-empty append and each rewind is one :class:`LogEntry`; the first gets
offset 1 and each later one the next integer. A rewind is recorded, never
applied destructively, so an offset a reader holds stays valid: reading
"everything after offset N" always means the same entries.

The committed text is what the entries give when applied in order
(:func:`apply_entries`): text entries extend it, a rewind cuts it back.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from streamrecover.core.errors import MissingExtraError, StorageError, UsageError
from streamrecover.storage.record import STATUSES, RecordedError, Status

__all__ = [
    "LogEntry",
    "LogRead",
    "apply_entries",
    "check_after",
    "check_timeout",
    "log_read",
    "poll_tail",
    "thread_tail",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One entry of a record's log.

    ``offset`` is its position (1 for the first entry). A text entry has
    ``rewind_to`` None and carries ``text``; a rewind has ``text == ""`` and
    ``rewind_to``, the length in characters the committed text was cut back to.
    """

    offset: int
    text: str = ""
    rewind_to: int | None = None

    @property
    def is_rewind(self) -> bool:
        """True for a rewind, False for text."""
        return self.rewind_to is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRead:
    """What ``Storage.read`` and ``Storage.tail`` return: entries after an offset, and the state.

    ``entries`` are the entries after the requested offset, in order; ``end``
    the offset of the last entry in the log (0 for an empty log), so that a
    reader continues with ``after=end``. ``status`` and ``error`` are the
    record's, read in the same transaction as the entries: when ``status`` is
    not ``active`` the entries are everything the writer wrote.
    ``usage`` is the recorded token usage.
    """

    entries: tuple[LogEntry, ...]
    end: int
    status: Status
    error: RecordedError | None = None
    usage: dict[str, int] | None = None

    @property
    def stopped(self) -> bool:
        """True when nobody is writing: the status is not ``active``, so no entry will follow
        unless someone resumes the stream."""
        return self.status != "active"


def apply_entries(chunks: list[str], entries: Iterable[LogEntry]) -> list[str]:
    """Apply ``entries`` to the pieces of a committed text, in place; return ``chunks``.

    A text entry appends a piece; a rewind cuts the pieces back from the end
    (only the tail is ever touched). Raises UsageError for a rewind beyond the text.
    """
    length = sum(map(len, chunks))
    for entry in entries:
        if entry.rewind_to is None:
            if entry.text:
                chunks.append(entry.text)
                length += len(entry.text)
            continue
        target = entry.rewind_to
        if not 0 <= target <= length:
            raise UsageError(f"cannot rewind a text of {length} characters to {target!r}")
        while length > target:
            last = chunks.pop()
            length -= len(last)
            if length < target:
                kept = last[: target - length]
                chunks.append(kept)
                length += len(kept)
    return chunks


def log_read(
    record_id: str,
    entries: tuple[LogEntry, ...],
    end: int,
    status: object,
    state: Mapping[str, Any],
) -> LogRead:
    """Build a :class:`LogRead` from stored values, validating the status, the error and
    the usage (``state`` holds ``error`` and ``usage`` in their JSON forms).

    Raises StorageError for a value that is not what a record holds.
    """
    if status not in STATUSES:
        raise StorageError(f"stream {record_id!r} has an unknown stored status {status!r}")
    error = state.get("error")
    usage = state.get("usage") or {}
    if not isinstance(usage, dict) or not all(
        isinstance(name, str) and isinstance(count, int) for name, count in usage.items()
    ):
        raise StorageError(f"stream {record_id!r} has a corrupt stored usage")
    return LogRead(
        entries=entries,
        end=end,
        status=status,
        error=None if error is None else RecordedError.from_dict(error),
        usage=dict(usage),
    )


def check_after(after: object, end: int | None = None) -> int:
    """Return ``after`` as a validated offset; raise UsageError for a bad one.

    An offset is an int >= 0; with ``end`` (the log's last offset) it may not
    lie beyond it: such an offset came from another record or a lost store.
    """
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise UsageError(f"an offset is an int >= 0, got {after!r}")
    if end is not None and after > end:
        raise UsageError(
            f"offset {after} is beyond the end of the stream's log ({end}); it does not "
            "belong to this stream"
        )
    return after


def check_timeout(timeout: object) -> float | None:
    """Return ``timeout`` (seconds >= 0, or None for no limit) or raise UsageError."""
    if timeout is None:
        return None
    if (
        not isinstance(timeout, int | float)
        or isinstance(timeout, bool)
        or math.isnan(timeout)
        or timeout < 0
    ):
        raise UsageError(f"timeout must be a number of seconds >= 0 or None, got {timeout!r}")
    return float(timeout)


# -- waiting for entries: the defaults behind Storage.tail and Storage.atail --------------


def poll_tail(
    read: Callable[[int], LogRead], after: int, timeout: float | None, interval: float
) -> LogRead:
    """Call ``read(after)`` every ``interval`` seconds until it returns entries, the
    record stops, or ``timeout`` seconds pass; return the last result."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        result = read(after)
        if result.entries or result.stopped:
            return result
        if deadline is None:
            time.sleep(interval)
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return result
        time.sleep(min(interval, remaining))


#: The longest one blocking ``tail`` runs in a worker thread for ``atail``: a
#: cancelled ``atail`` returns at once and leaves that thread to finish alone.
ASYNC_SLICE = 0.5


async def thread_tail(
    tail: Callable[[int, float | None], LogRead], after: int, timeout: float | None
) -> LogRead:
    """Run the blocking ``tail(after, timeout)`` in worker threads, in slices of at most
    :data:`ASYNC_SLICE` seconds, so that the event loop never blocks and a cancellation
    is seen at once (anyio: asyncio or trio)."""
    try:
        import anyio
        import anyio.to_thread
    except ImportError as exc:  # pragma: no cover - the async extra is missing
        raise MissingExtraError("async storage reads", "async", "anyio") from exc
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        slice_ = ASYNC_SLICE if remaining is None else min(ASYNC_SLICE, remaining)
        result = await anyio.to_thread.run_sync(
            functools.partial(tail, after, slice_), abandon_on_cancel=True
        )
        if result.entries or result.stopped or (remaining is not None and remaining <= slice_):
            return result
