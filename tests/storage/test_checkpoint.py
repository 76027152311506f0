"""Checkpointer: batching rules on a fake clock, truncates in and beyond the buffer."""

from __future__ import annotations

import pytest

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage import Checkpointer, MemoryStorage, RecordedError, new_record
from streamrecover.testing.storage import FakeClock


class CountingStorage(MemoryStorage):
    """Memory storage that counts the writes the checkpointer makes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, object]] = []
        self.fail_next = False

    def apply_append(self, record_id: str, text: str, epoch: int | None) -> None:
        if self.fail_next:
            self.fail_next = False
            raise StorageError("disk full")
        self.writes.append(("append", text))
        super().apply_append(record_id, text, epoch)

    def apply_truncate(self, record_id: str, length: int, epoch: int | None) -> None:
        self.writes.append(("truncate", length))
        super().apply_truncate(record_id, length, epoch)


@pytest.fixture
def storage() -> CountingStorage:
    return CountingStorage()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=100.0)


def make(
    storage: CountingStorage, clock: FakeClock, *, text: str = "", **options: float
) -> Checkpointer:
    record = new_record(provider="p", model="m", request={})
    storage.create(record)
    if text:
        storage.append(record.id, [text])
        storage.writes.clear()
    return Checkpointer(storage, record.id, clock=clock, **options)  # type: ignore[arg-type]


def test_appends_wait_for_the_interval(storage: CountingStorage, clock: FakeClock) -> None:
    checkpointer = make(storage, clock, interval=0.25)
    for piece in ("a", "b", "c"):  # at 0.0, 0.1 and 0.2 seconds
        checkpointer.append(piece)
        clock.advance(0.1)
    assert storage.writes == []
    assert checkpointer.pending_chars == 3
    checkpointer.append("d")  # at 0.3 seconds: the interval has passed
    assert storage.writes == [("append", "abcd")]
    assert checkpointer.pending_chars == 0


def test_nothing_is_written_before_the_interval(storage: CountingStorage, clock: FakeClock) -> None:
    checkpointer = make(storage, clock, interval=1.0)
    for _ in range(50):
        checkpointer.append("x")
        clock.advance(0.01)
    assert storage.writes == []
    assert checkpointer.pending_chars == 50
    clock.advance(0.6)
    checkpointer.append("y")
    assert storage.writes == [("append", "x" * 50 + "y")]
    checkpointer.append("z")  # the interval restarted at the flush
    assert storage.writes == [("append", "x" * 50 + "y")]


def test_a_full_buffer_is_written_at_once(storage: CountingStorage, clock: FakeClock) -> None:
    checkpointer = make(storage, clock, interval=60, max_bytes=10)
    checkpointer.append("12345")
    checkpointer.append("6789")
    assert storage.writes == []
    checkpointer.append("0")
    assert storage.writes == [("append", "1234567890")]


def test_flush_writes_everything_now(storage: CountingStorage, clock: FakeClock) -> None:
    checkpointer = make(storage, clock, interval=60)
    checkpointer.append("partial")
    checkpointer.flush()
    checkpointer.flush()  # nothing pending: no write
    assert storage.writes == [("append", "partial")]
    assert storage.get(checkpointer.record_id).text == "partial"


def test_flush_if_due(storage: CountingStorage, clock: FakeClock) -> None:
    checkpointer = make(storage, clock, interval=1)
    checkpointer.append("a")
    assert checkpointer.flush_if_due() is False
    clock.advance(1)
    assert checkpointer.flush_if_due() is True
    assert storage.writes == [("append", "a")]


def test_flush_if_due_is_a_heartbeat_when_nothing_is_buffered(clock: FakeClock) -> None:
    # A live stream that sends no text (a model thinking) must still look alive
    # to Storage.claim, which presumes a silent active record abandoned.
    wall = FakeClock(start=1_000.0)
    storage = MemoryStorage(clock=wall)
    record = new_record(provider="p", model="m", request={}, clock=wall)
    storage.create(record)
    checkpointer = Checkpointer(storage, record.id, clock=clock, interval=1)
    wall.advance(30)
    assert checkpointer.flush_if_due() is False
    assert storage.get(record.id).updated_at == 1_000.0
    clock.advance(1)
    assert checkpointer.flush_if_due() is True
    stored = storage.get(record.id)
    assert (stored.updated_at, stored.text) == (1_030.0, "")
    wall.advance(30)
    assert checkpointer.flush_if_due() is False  # the interval started again
    assert storage.get(record.id).updated_at == 1_030.0


def test_a_truncate_inside_the_buffer_stays_in_memory(
    storage: CountingStorage, clock: FakeClock
) -> None:
    checkpointer = make(storage, clock, text="stored ", interval=60)
    assert checkpointer.length == 7
    checkpointer.append("buffered text")
    checkpointer.truncate(7 + len("buffered"))
    assert checkpointer.length == 15
    checkpointer.append(" again")
    checkpointer.flush()
    assert storage.writes == [("append", "buffered again")]
    assert storage.get(checkpointer.record_id).text == "stored buffered again"


def test_a_truncate_into_stored_text_is_written_first(
    storage: CountingStorage, clock: FakeClock
) -> None:
    checkpointer = make(storage, clock, text="Paragraph one.\n\nParagraph tw", interval=60)
    checkpointer.append("o is cut")
    checkpointer.truncate(16)
    checkpointer.truncate(10)  # two rewinds before a flush: the deeper one wins
    checkpointer.append("one, again")
    assert storage.writes == []
    checkpointer.flush()
    assert storage.writes == [("truncate", 10), ("append", "one, again")]
    assert storage.get(checkpointer.record_id).text == "Paragraph one, again"


def test_truncate_outside_the_text_is_refused(storage: CountingStorage, clock: FakeClock) -> None:
    checkpointer = make(storage, clock, text="abc", interval=60)
    checkpointer.append("d")
    for bad in (-1, 5):
        with pytest.raises(UsageError):
            checkpointer.truncate(bad)
    assert checkpointer.length == 4


def test_mark_flushes_first(storage: CountingStorage, clock: FakeClock) -> None:
    checkpointer = make(storage, clock, interval=60)
    checkpointer.append("last words")
    error = RecordedError(type="TransportError", message="reset", recoverable=True)
    checkpointer.mark("interrupted", error=error, attempts=3)
    record = storage.get(checkpointer.record_id)
    assert (record.text, record.status, record.error, record.attempts) == (
        "last words", "interrupted", error, 3)


def test_a_failed_flush_keeps_the_buffer(storage: CountingStorage, clock: FakeClock) -> None:
    checkpointer = make(storage, clock, interval=60)
    checkpointer.append("keep me")
    storage.fail_next = True
    checkpointer.flush()  # absorbed: storage trouble never stops the stream
    assert isinstance(checkpointer.storage_error, StorageError)
    assert (checkpointer.pending_chars, checkpointer.durable) == (7, False)
    checkpointer.flush()
    assert storage.get(checkpointer.record_id).text == "keep me"
    assert checkpointer.durable
    # The failure stays known, and the final mark records it.
    assert checkpointer.mark("completed") is True
    stored = storage.get(checkpointer.record_id)
    assert stored.storage_error is not None
    assert (stored.storage_error.type, stored.storage_error.message) == (
        "StorageError", "disk full")


def test_close_and_context_manager_flush(storage: CountingStorage, clock: FakeClock) -> None:
    with make(storage, clock, interval=60) as checkpointer:
        checkpointer.append("end")
    assert storage.get(checkpointer.record_id).text == "end"


def test_the_committed_length_is_read_from_storage_when_not_given(
    storage: CountingStorage, clock: FakeClock
) -> None:
    checkpointer = make(storage, clock, text="12345")
    assert checkpointer.length == 5
    given = Checkpointer(storage, checkpointer.record_id, clock=clock, committed_length=5)
    assert given.length == 5


def test_bad_settings_are_refused(storage: CountingStorage, clock: FakeClock) -> None:
    with pytest.raises(UsageError):
        make(storage, clock, max_bytes=0)
