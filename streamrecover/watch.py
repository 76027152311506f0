"""Watch a stream that any process sharing the storage produces: replay, then follow it live.

``Client.watch(recovery_id, after=offset)`` returns a :class:`Watcher` (and
``AsyncClient.watch`` an :class:`AsyncWatcher`): iterate it for the events of
the stored stream, from offset ``after`` on (the beginning when None), first
what is already stored, then live as the writer checkpoints, across a
handover from a crashed writer to the one that resumed it. The events are
those a consumer of the stream itself gets for its text:

* :class:`~streamrecover.core.events.TextDelta` for each stored piece,
* :class:`~streamrecover.core.events.Rewind` where the writer rolled back,
* :class:`~streamrecover.core.events.Completed` last, once the stream is
  complete (``finish_reason`` is empty: the record does not keep it; ``usage``
  is the recorded usage);

and a stream that stopped otherwise (failed, interrupted with no one
resuming it, cancelled) raises
:class:`~streamrecover.core.errors.StreamInterrupted` with the recorded error.

``watcher.event_offset`` is the offset of the event just yielded: send it as
the SSE ``id:`` and a reconnecting browser's ``Last-Event-ID`` is the
``after`` to watch from again. Text arrives at the writer's checkpoint
interval (0.25 s by default), not per token.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from types import TracebackType

from streamrecover.core.errors import StreamInterrupted
from streamrecover.core.events import Completed, Event, Rewind, TextDelta, Usage
from streamrecover.storage.base import Storage
from streamrecover.storage.log import LogEntry, LogRead, check_after

__all__ = ["AsyncWatcher", "Watcher"]

_USAGE_FIELDS = ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens")


class _WatcherBase:
    """What the sync and async watchers share: the offset and the event mapping."""

    def __init__(self, storage: Storage, recovery_id: str, *, after: int | None = None) -> None:
        self.storage = storage
        self.recovery_id = recovery_id
        #: Offset of the last event yielded (at first, where watching starts).
        self.event_offset = check_after(0 if after is None else after)

    def _entry_event(self, entry: LogEntry) -> Event:
        self.event_offset = entry.offset
        if entry.rewind_to is not None:
            return Rewind(to=entry.rewind_to)
        return TextDelta(text=entry.text)

    def _final(self, result: LogRead) -> Completed:
        """The last event of a stopped stream, or the StreamInterrupted it raises."""
        self.event_offset = result.end
        if result.status == "completed":
            usage = result.usage or {}
            return Completed(
                finish_reason="",
                usage=Usage(**{name: usage[name] for name in _USAGE_FIELDS if name in usage}),
            )
        error = result.error
        detail = f": {error.type}: {error.message}" if error is not None else ""
        try:
            committed = self.storage.get(self.recovery_id).text
        except Exception:
            committed = ""
        raise StreamInterrupted(
            f"the watched stream {self.recovery_id} stopped as {result.status}{detail}",
            cause=None,
            committed_text=committed,
            recovery_id=self.recovery_id,
            recoverable=error.recoverable if error is not None else result.status != "cancelled",
        )


class Watcher(_WatcherBase):
    """Follow a stored stream (sync). Iterate it for events; use it as a context manager.

    Each step blocks in ``Storage.tail`` until the writer stores more or the
    stream stops. Raises StreamInterrupted when the stream stopped without
    completing, RecordNotFoundError if it does not exist (or is deleted while
    watched), UsageError for a bad ``after``, StorageError when storage fails.
    """

    def __init__(self, storage: Storage, recovery_id: str, *, after: int | None = None) -> None:
        super().__init__(storage, recovery_id, after=after)
        self._events = self._run()

    def __iter__(self) -> Generator[Event, None, None]:
        return self._events

    def _run(self) -> Generator[Event, None, None]:
        while True:
            result = self.storage.tail(self.recovery_id, after=self.event_offset)
            for entry in result.entries:
                yield self._entry_event(entry)
            if result.stopped:
                # One read holds the entries and the status: nothing follows them.
                yield self._final(result)
                return

    def close(self) -> None:
        """Stop watching (the stream itself goes on)."""
        self._events.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncWatcher(_WatcherBase):
    """Follow a stored stream on asyncio or trio (``Storage.atail``: the loop never blocks).

    See :class:`Watcher`; iterate with ``async for``, use ``async with``.
    """

    def __init__(self, storage: Storage, recovery_id: str, *, after: int | None = None) -> None:
        super().__init__(storage, recovery_id, after=after)
        self._events = self._run()

    def __aiter__(self) -> AsyncGenerator[Event, None]:
        return self._events

    async def _run(self) -> AsyncGenerator[Event, None]:
        while True:
            result = await self.storage.atail(self.recovery_id, after=self.event_offset)
            for entry in result.entries:
                yield self._entry_event(entry)
            if result.stopped:
                yield self._final(result)
                return

    async def aclose(self) -> None:
        """Stop watching (the stream itself goes on)."""
        await self._events.aclose()

    async def __aenter__(self) -> AsyncWatcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
