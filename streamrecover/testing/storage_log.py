"""Conformance tests for a storage's log: offsets, ``read``, ``tail`` and their async forms.

:class:`~streamrecover.testing.storage.StorageConformance` includes this mixin,
so a backend that runs the storage suite runs these too; the hook and the
fixtures are that suite's (``make_storage``, ``storage``, ``clock``). The async
tests need anyio and its pytest plugin (``pip install "streamrecover[async,test]"``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from streamrecover.core.errors import UsageError
from streamrecover.storage.base import Storage
from streamrecover.storage.errors import RecordNotFoundError
from streamrecover.storage.log import LogEntry, LogRead, apply_entries
from streamrecover.storage.record import RecordedError, StreamRecord, new_record

if TYPE_CHECKING:
    from streamrecover.testing.storage import FakeClock

__all__ = ["StorageLogConformance"]


def _later(delay: float, action: object) -> threading.Thread:
    """Run ``action()`` in a thread after ``delay`` seconds; return the started thread."""

    def run() -> None:
        time.sleep(delay)
        action()  # type: ignore[operator]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _replayed(read: LogRead) -> str:
    return "".join(apply_entries([], read.entries))


class StorageLogConformance:
    """Mixin of pytest tests for the log operations of a storage (see the module docstring)."""

    def _log_record(self, clock: FakeClock, **fields: object) -> StreamRecord:
        record = new_record(provider="openai", model="m",
                            request={"messages": [{"role": "user", "content": "hi"}]},
                            clock=clock)
        return replace(record, **fields)  # type: ignore[arg-type]

    # -- offsets and read ----------------------------------------------------------------

    def test_every_append_gets_the_next_offset(self, storage: Storage, clock: FakeClock) -> None:
        record = self._log_record(clock)
        storage.create(record)
        assert storage.read(record.id) == LogRead(entries=(), end=0, status="active", usage={})
        storage.append(record.id, ["Hel", "lo"])
        storage.append(record.id, [])  # a heartbeat: no entry
        storage.append(record.id, [", world"])
        read = storage.read(record.id)
        assert read.entries == (LogEntry(offset=1, text="Hello"),
                                LogEntry(offset=2, text=", world"))
        assert (read.end, read.status, read.error) == (2, "active", None)
        tail = storage.read(record.id, after=1)
        assert (tail.entries, tail.end) == ((LogEntry(offset=2, text=", world"),), 2)
        assert storage.read(record.id, after=2).entries == ()

    def test_created_chunks_are_entries(self, storage: Storage, clock: FakeClock) -> None:
        record = self._log_record(clock, chunks=("Once ", "", "upon"), status="interrupted")
        storage.create(record)
        read = storage.read(record.id)
        assert [(entry.offset, entry.text) for entry in read.entries] == [(1, "Once "), (2, "upon")]
        assert (read.end, read.status) == (2, "interrupted")

    def test_a_rewind_is_an_entry_and_keeps_earlier_offsets_valid(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._log_record(clock)
        storage.create(record)
        for piece in ("abc", "def", "ghi"):
            storage.append(record.id, [piece])
        before = storage.read(record.id, after=1)
        storage.truncate(record.id, 4)
        storage.append(record.id, ["XY"])
        assert storage.get(record.id).text == "abcdXY"
        # What was after offset 1 before the rewind is still after it, unchanged.
        after_rewind = storage.read(record.id, after=1)
        assert after_rewind.entries[: len(before.entries)] == before.entries
        assert after_rewind.entries[2:] == (LogEntry(offset=4, rewind_to=4),
                                            LogEntry(offset=5, text="XY"))
        assert after_rewind.entries[2].is_rewind and not after_rewind.entries[3].is_rewind
        # Replaying the log from any offset on top of the text up to it gives the text.
        whole = storage.read(record.id)
        for offset in range(whole.end + 1):
            head = apply_entries([], whole.entries[:offset])
            rest = storage.read(record.id, after=offset).entries
            assert "".join(apply_entries(head, rest)) == "abcdXY"
        storage.truncate(record.id, 0)
        assert storage.get(record.id).text == ""
        assert storage.read(record.id).end == 6

    def test_read_reports_status_error_and_usage(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._log_record(clock)
        storage.create(record)
        storage.append(record.id, ["partial"])
        error = RecordedError(type="TransportError", message="reset", recoverable=True)
        storage.mark(record.id, "interrupted", error=error, usage={"output_tokens": 3})
        read = storage.read(record.id)
        assert (read.status, read.error, read.usage, read.stopped) == (
            "interrupted", error, {"output_tokens": 3}, True)
        assert _replayed(read) == "partial"

    def test_bad_offsets_are_usage_errors(self, storage: Storage, clock: FakeClock) -> None:
        record = self._log_record(clock)
        storage.create(record)
        storage.append(record.id, ["x"])
        for bad in (-1, 2, True, "1", 1.0, None):
            with pytest.raises(UsageError):
                storage.read(record.id, after=bad)  # type: ignore[arg-type]
            with pytest.raises(UsageError):
                storage.tail(record.id, after=bad, timeout=0)  # type: ignore[arg-type]
        for bad_timeout in (-1, "1", float("nan")):
            with pytest.raises(UsageError):
                storage.tail(record.id, timeout=bad_timeout)  # type: ignore[arg-type]
        with pytest.raises(RecordNotFoundError):
            storage.read("no-such-record")
        with pytest.raises(RecordNotFoundError):
            storage.tail("no-such-record", timeout=0)

    # -- tail ----------------------------------------------------------------------------

    def test_tail_returns_what_is_there_at_once(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._log_record(clock)
        storage.create(record)
        storage.append(record.id, ["ready"])
        # No timeout: it would block forever if it waited with an entry available.
        assert _replayed(storage.tail(record.id)) == "ready"
        empty = storage.tail(record.id, after=1, timeout=0.05)
        assert (empty.entries, empty.end, empty.status) == ((), 1, "active")

    def test_tail_wakes_for_an_append_from_another_thread(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._log_record(clock)
        storage.create(record)
        writer = _later(0.1, lambda: storage.append(record.id, ["late"]))
        read = storage.tail(record.id, timeout=60)
        writer.join()
        assert read.entries == (LogEntry(offset=1, text="late"),)

    def test_tail_returns_when_the_record_stops(self, storage: Storage, clock: FakeClock) -> None:
        record = self._log_record(clock)
        storage.create(record)
        storage.append(record.id, ["all"])
        writer = _later(0.1, lambda: storage.mark(record.id, "completed"))
        read = storage.tail(record.id, after=1, timeout=60)
        writer.join()
        assert (read.entries, read.status, read.stopped) == ((), "completed", True)
        # A stopped record never blocks.
        assert storage.tail(record.id, after=1).status == "completed"

    def test_tail_follows_a_growing_stream_to_its_end(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._log_record(clock)
        storage.create(record)
        pieces = [f"{number} " for number in range(30)]

        def write() -> None:
            for piece in pieces[:20]:
                storage.append(record.id, [piece])
            storage.truncate(record.id, len("".join(pieces[:10])))
            for piece in pieces[10:]:
                storage.append(record.id, [piece])
            storage.mark(record.id, "completed")

        writer = _later(0.01, write)
        chunks: list[str] = []
        offset, seen = 0, list[LogEntry]()
        while True:
            read = storage.tail(record.id, after=offset, timeout=60)
            assert [entry.offset for entry in read.entries] == list(
                range(offset + 1, read.end + 1))
            seen.extend(read.entries)
            apply_entries(chunks, read.entries)
            offset = read.end
            if read.stopped and not read.entries:
                break
        writer.join()
        assert "".join(chunks) == "".join(pieces) == storage.get(record.id).text
        assert sum(entry.is_rewind for entry in seen) == 1

    # -- the async forms -----------------------------------------------------------------

    @pytest.mark.anyio
    async def test_atail_does_not_block_the_event_loop(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        import anyio

        record = self._log_record(clock)
        storage.create(record)
        results: list[LogRead] = []

        async def watch() -> None:
            results.append(await storage.atail(record.id, timeout=60))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                group.start_soon(watch)
                await anyio.sleep(0.1)
                # Runs only if atail left the loop free; otherwise atail times out empty.
                storage.append(record.id, ["from the loop"])
        assert [entry.text for entry in results[0].entries] == ["from the loop"]
        read = await storage.aread(record.id)
        assert (read.end, _replayed(read)) == (1, "from the loop")

    @pytest.mark.anyio
    async def test_a_cancelled_atail_returns_at_once(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        import anyio

        record = self._log_record(clock)
        storage.create(record)
        with anyio.fail_after(60):
            with anyio.move_on_after(0.1) as scope:
                await storage.atail(record.id)  # no timeout: only the cancel ends it
            assert scope.cancelled_caught
        await storage.atail(record.id, timeout=0)  # still usable afterwards
