"""A conformance suite every storage backend passes: subclass it, implement one hook.

A third-party backend's whole test file::

    from streamrecover.testing.storage import StorageConformance
    from my_package import RedisStorage

    class TestRedisStorage(StorageConformance):
        def make_storage(self, tmp_path, clock):
            return RedisStorage("redis://localhost/15", clock=clock)

``make_storage`` gets pytest's ``tmp_path`` (put files there: the secrets test
reads every byte under it) and a :class:`FakeClock` the storage must use as its
clock (the TTL tests move it instead of sleeping). The suite closes the storage
after each test. Every built-in backend runs this suite (``tests/storage``).

The suite needs pytest (``pip install "streamrecover[test]"``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage.base import Clock, Storage
from streamrecover.storage.errors import (
    RecordExistsError,
    RecordNotFoundError,
    StatusConflictError,
)
from streamrecover.storage.owner import Owner
from streamrecover.storage.record import RecordedError, StreamRecord, new_record
from streamrecover.testing.storage_log import StorageLogConformance
from streamrecover.testing.storage_ownership import OwnershipConformance

__all__ = ["FakeClock", "StorageConformance"]

_SECRET = "sk-planted-SECRET-0123456789abcdef"  # noqa: S105 (a planted fake)


class FakeClock:
    """A wall clock that moves only when told to. Thread-safe."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._now += seconds


class StorageConformance(OwnershipConformance, StorageLogConformance):
    """Mixin of pytest tests for a :class:`~streamrecover.storage.base.Storage`.

    Subclass it in a ``Test...`` class and implement :meth:`make_storage`. The
    tests of ownership (claims, leases, fencing, releases) come from
    :class:`~streamrecover.testing.storage_ownership.OwnershipConformance`, those
    of the log (offsets, read, tail) from
    :class:`~streamrecover.testing.storage_log.StorageLogConformance`.
    """

    #: Size of the text in the large-text test. A slow backend may lower it.
    large_text_chars = 3 * 1024 * 1024
    #: Appends in the many-small-appends test.
    small_appends = 500
    #: Threads and appends per thread in the thread-safety test.
    threads = 4
    appends_per_thread = 40
    #: Threads that race to claim one record, and how many races, in the claim tests.
    claimers = 8
    claim_races = 5

    def make_storage(self, tmp_path: Path, clock: Clock) -> Storage:
        """Return a new, empty storage that uses ``clock``, keeping any files under ``tmp_path``."""
        raise NotImplementedError("a StorageConformance subclass implements make_storage")

    # -- fixtures ------------------------------------------------------------------------

    @pytest.fixture
    def clock(self) -> FakeClock:
        """The fake clock handed to :meth:`make_storage`."""
        return FakeClock()

    @pytest.fixture
    def storage(self, tmp_path: Path, clock: FakeClock) -> Iterator[Storage]:
        """The storage under test; closed afterwards."""
        storage = self.make_storage(tmp_path, clock)
        try:
            yield storage
        finally:
            storage.close()

    def _record(self, clock: FakeClock, **fields: object) -> StreamRecord:
        record = new_record(
            provider="anthropic",
            model="claude-test",
            request={"model": "claude-test", "max_tokens": 64,
                     "messages": [{"role": "user", "content": "Tell me a story."}]},
            base_url="https://api.example.test/v1",
            options={"strategy": "exact"},
            clock=clock,
        )
        return replace(record, **fields)  # type: ignore[arg-type]

    # -- create / get --------------------------------------------------------------------

    def test_create_then_get_round_trips_every_field(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(
            clock,
            request={"model": "m", "temperature": 0.5, "stream": True, "stop": None,
                     "messages": [{"role": "user", "content": "naïve 🙂"}],
                     "tools": [{"name": "lookup", "input_schema": {"key": "kept"}}]},
            options={"strategy": "paragraph", "max_resumes": 3, "prefill": False},
            chunks=("Once ", "upon a time"),
            status="interrupted",
            error=RecordedError(type="TransportError", message="reset", recoverable=True),
            attempts=3,
            resumes=2,
            created_at=1_700_000_000.125,
            updated_at=1_700_000_100.5,
            last_event_id="evt-42",
            sequence_number=42,
            response_id="resp_123",
            usage={"input_tokens": 10, "output_tokens": 7},
            owner=Owner(host="host-a/machine/pidns:1", pid=4242, boot_id="boot-1",
                        started="123456"),
            lease=12.5,
            epoch=3,
            storage_error=RecordedError(type="StorageError", message="disk full",
                                        recoverable=True),
        )
        storage.create(record)
        stored = storage.get(record.id)
        assert stored == record
        assert stored.to_dict() == record.to_dict()
        assert stored.text == "Once upon a time"

    def test_defaults_round_trip(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        stored = storage.get(record.id)
        assert stored == record
        assert (stored.status, stored.error, stored.chunks) == ("active", None, ())
        assert stored.usage == {}
        assert (stored.last_event_id, stored.sequence_number, stored.response_id) == (
            None, None, None)
        assert (stored.owner, stored.lease, stored.epoch, stored.storage_error) == (
            None, None, 0, None)

    def test_get_returns_a_copy(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        record.request["messages"].append({"role": "user", "content": "changed"})
        first = storage.get(record.id)
        first.request["messages"].clear()
        assert len(storage.get(record.id).request["messages"]) == 1

    def test_duplicate_create_is_refused(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        storage.append(record.id, ["kept"])
        with pytest.raises(RecordExistsError) as info:
            storage.create(replace(record, model="other"))
        assert isinstance(info.value, StorageError)
        stored = storage.get(record.id)
        assert (stored.model, stored.text) == ("claude-test", "kept")

    def test_missing_id_raises_a_storage_error(self, storage: Storage) -> None:
        missing = "no-such-record"
        for operation in (
            lambda: storage.get(missing),
            lambda: storage.append(missing, ["x"]),
            lambda: storage.truncate(missing, 0),
            lambda: storage.mark(missing, "completed"),
            lambda: storage.update(missing, attempts=1),
            lambda: storage.claim(missing, force=True),
            lambda: storage.renew(missing, epoch=0),
            lambda: storage.release(missing, epoch=1),
        ):
            with pytest.raises(RecordNotFoundError) as info:
                operation()
            assert isinstance(info.value, StorageError)
            assert not isinstance(info.value, KeyError)
        assert storage.delete(missing) is False

    # -- text ----------------------------------------------------------------------------

    def test_append_keeps_order_and_touches_updated_at(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock)
        storage.create(record)
        clock.advance(5)
        storage.append(record.id, ["Hel", "lo"])
        storage.append(record.id, [", "])
        storage.append(record.id, [])
        storage.append(record.id, ["wor", "", "ld"])
        stored = storage.get(record.id)
        assert stored.text == "Hello, world"
        assert stored.chunks == ("Hello", ", ", "world")
        assert stored.updated_at == clock()
        assert stored.created_at == record.created_at

    def test_truncate_to_every_length(self, storage: Storage, clock: FakeClock) -> None:
        text = "abcdefghi"
        for length in range(len(text) + 1):
            clock.advance(1)  # so that summaries() lists this record last
            record = self._record(clock)
            storage.create(record)
            for piece in ("abc", "def", "ghi"):
                storage.append(record.id, [piece])
            storage.truncate(record.id, length)
            assert storage.get(record.id).text == text[:length]
            storage.append(record.id, ["XY"])
            assert storage.get(record.id).text == text[:length] + "XY"
            assert storage.summaries()[-1].text_length == length + 2

    def test_truncate_outside_the_text_is_a_usage_error(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock)
        storage.create(record)
        storage.append(record.id, ["abc"])
        for bad in (-1, 4):
            with pytest.raises(UsageError):
                storage.truncate(record.id, bad)
        assert storage.get(record.id).text == "abc"

    def test_unicode_nul_and_control_characters_survive(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        pieces = ["naïve café ", "🙂👩‍👩‍👧 ", "\x00NUL\x00 ", "e\u0301 ", "\r\n\t", "𝔘𝔫𝔦",
                  "مرحبا ", "\u2028\ufeff", "\x1b[0m"]
        record = self._record(clock, request={"messages": [{"role": "user", "content": "\x00🙂"}]})
        storage.create(record)
        for piece in pieces:
            storage.append(record.id, [piece])
        storage.truncate(record.id, len("".join(pieces)) - 1)
        stored = storage.get(record.id)
        assert stored.text == "".join(pieces)[:-1]
        assert stored.request["messages"][0]["content"] == "\x00🙂"

    def test_large_text(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        block = "0123456789abcdef🙂\n" * (self.large_text_chars // 18)
        storage.append(record.id, [block])
        storage.append(record.id, ["tail"])
        stored = storage.get(record.id)
        assert len(stored.text) == len(block) + 4
        assert stored.text == block + "tail"
        storage.truncate(record.id, 10)
        assert storage.get(record.id).text == block[:10]

    def test_many_small_appends(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        for number in range(self.small_appends):
            storage.append(record.id, [f"{number},"])
        expected = "".join(f"{number}," for number in range(self.small_appends))
        assert storage.get(record.id).text == expected
        assert storage.summaries()[0].text_length == len(expected)

    # -- status and fields ---------------------------------------------------------------

    def test_mark_walks_the_status_table(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        error = RecordedError(type="HTTPStatusError", message="HTTP 529", recoverable=True)
        clock.advance(1)
        storage.mark(record.id, "interrupted", error=error, attempts=4)
        stored = storage.get(record.id)
        assert (stored.status, stored.error, stored.attempts) == ("interrupted", error, 4)
        assert stored.updated_at == clock()
        # Claim it for a resume: a compare-and-set that a second claimer loses.
        storage.mark(record.id, "active", expected="interrupted", resumes=1)
        with pytest.raises(StatusConflictError):
            storage.mark(record.id, "active", expected="interrupted")
        stored = storage.get(record.id)
        assert (stored.status, stored.error, stored.resumes) == ("active", None, 1)
        storage.mark(record.id, "completed", usage={"output_tokens": 9})
        storage.mark(record.id, "completed")  # repeating a mark is harmless
        for status in ("active", "interrupted", "failed", "cancelled"):
            with pytest.raises(StatusConflictError):
                storage.mark(record.id, status)
        stored = storage.get(record.id)
        assert (stored.status, stored.usage) == ("completed", {"output_tokens": 9})

    def test_failed_and_cancelled(self, storage: Storage, clock: FakeClock) -> None:
        failed, cancelled = self._record(clock), self._record(clock)
        storage.create(failed)
        storage.create(cancelled)
        error = RecordedError(type="HTTPStatusError", message="HTTP 401", recoverable=False)
        storage.mark(failed.id, "failed", error=error)
        storage.mark(cancelled.id, "cancelled")
        assert storage.get(failed.id).error == error
        storage.mark(failed.id, "active", expected=["failed", "interrupted"])
        with pytest.raises(StatusConflictError):
            storage.mark(cancelled.id, "active")
        assert storage.get(cancelled.id).status == "cancelled"

    def test_update_changes_only_what_it_names(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock, chunks=("kept",))
        storage.create(record)
        clock.advance(2)
        storage.update(record.id, attempts=2, last_event_id="7", sequence_number=7,
                       response_id="resp_1", usage={"input_tokens": 3})
        stored = storage.get(record.id)
        assert stored == replace(record, attempts=2, last_event_id="7", sequence_number=7,
                                 response_id="resp_1", usage={"input_tokens": 3},
                                 updated_at=clock())
        storage.update(record.id, last_event_id=None, sequence_number=None)
        stored = storage.get(record.id)
        assert (stored.last_event_id, stored.sequence_number, stored.attempts) == (None, None, 2)

    def test_update_rejects_bad_fields(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        for bad in ({"text": "x"}, {"attempts": -1}, {"attempts": True}, {"status": "done"},
                    {"usage": {"input_tokens": "3"}}, {"error": "boom"}, {"response_id": 5}):
            with pytest.raises(UsageError):
                storage.update(record.id, **bad)
        assert storage.get(record.id) == record

    # -- listing, deleting, cleaning up --------------------------------------------------

    def test_list_filters_by_status_and_age(self, storage: Storage, clock: FakeClock) -> None:
        old = self._record(clock)
        storage.create(old)
        clock.advance(100)
        middle = self._record(clock)
        storage.create(middle)
        storage.mark(middle.id, "interrupted")
        clock.advance(100)
        new = self._record(clock)
        storage.create(new)
        storage.append(new.id, ["abc"])
        storage.mark(new.id, "completed")

        def ids(records: list[StreamRecord]) -> list[str]:
            return [record.id for record in records]

        assert ids(storage.list()) == [old.id, middle.id, new.id]
        assert ids(storage.list(status="interrupted")) == [middle.id]
        assert ids(storage.list(status=["active", "completed"])) == [old.id, new.id]
        assert ids(storage.list(older_than=50)) == [old.id, middle.id]
        assert ids(storage.list(older_than=150)) == [old.id]
        assert ids(storage.list(status="interrupted", older_than=150)) == []
        assert storage.list(status="completed")[0].text == "abc"
        summaries = storage.summaries()
        assert [summary.id for summary in summaries] == [old.id, middle.id, new.id]
        assert summaries[2] == storage.get(new.id).summary()
        assert summaries[2].text_length == 3
        with pytest.raises(UsageError):
            storage.list(status="done")  # type: ignore[arg-type]

    def test_delete(self, storage: Storage, clock: FakeClock) -> None:
        record, other = self._record(clock), self._record(clock)
        storage.create(record)
        storage.create(other)
        storage.append(record.id, ["text"])
        assert storage.delete(record.id) is True
        assert storage.delete(record.id) is False
        with pytest.raises(RecordNotFoundError):
            storage.get(record.id)
        assert [summary.id for summary in storage.summaries()] == [other.id]
        storage.create(record)  # the id is free again, with nothing left over
        assert storage.get(record.id).text == ""

    def test_cleanup_deletes_what_was_not_updated_in_time(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        stale, touched, fresh = self._record(clock), self._record(clock), self._record(clock)
        for record in (stale, touched):
            storage.create(record)
            storage.append(record.id, ["partial"])
        clock.advance(1000)
        storage.append(touched.id, [" more"])  # an append counts as an update
        storage.create(replace(fresh, created_at=clock(), updated_at=clock()))
        clock.advance(600)
        assert storage.cleanup(older_than=1800) == 0
        assert storage.cleanup(older_than=1000) == 1
        assert [summary.id for summary in storage.summaries()] == [touched.id, fresh.id]
        with pytest.raises(RecordNotFoundError):
            storage.get(stale.id)
        assert storage.cleanup(older_than=0) == 2
        assert storage.summaries() == []

    # -- concurrency ---------------------------------------------------------------------

    def test_threads_lose_and_interleave_nothing(self, storage: Storage, clock: FakeClock) -> None:
        shared = self._record(clock)
        storage.create(shared)
        own = [self._record(clock) for _ in range(self.threads)]
        for record in own:
            storage.create(record)
        failures: list[BaseException] = []

        def work(number: int) -> None:
            try:
                for step in range(self.appends_per_thread):
                    # Two pieces per call: they must land next to each other.
                    storage.append(shared.id, [f"<{number}:{step}:", f"{step}:{number}>"])
                    storage.append(own[number].id, [f"{step},"])
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert failures == []
        text = storage.get(shared.id).text
        pairs = re.findall(r"<(\d+):(\d+):(\d+):(\d+)>", text)
        assert len(pairs) == self.threads * self.appends_per_thread
        assert "".join(f"<{a}:{b}:{c}:{d}>" for a, b, c, d in pairs) == text
        for thread, step, step_again, thread_again in pairs:
            assert (thread, step) == (thread_again, step_again)
        for number in range(self.threads):
            steps = [int(step) for thread, step, _, _ in pairs if int(thread) == number]
            assert steps == list(range(self.appends_per_thread))
            expected = "".join(f"{step}," for step in range(self.appends_per_thread))
            assert storage.get(own[number].id).text == expected

    # -- secrets and lifetime ------------------------------------------------------------

    def test_secrets_are_never_stored(
        self, storage: Storage, clock: FakeClock, tmp_path: Path
    ) -> None:
        record = new_record(
            provider="gemini",
            model="gemini-test",
            request={"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                     "api_key": _SECRET, "key": _SECRET},
            base_url=f"https://user:{_SECRET}@api.example.test/v1beta?key={_SECRET}&alt=sse",
            options={"strategy": "exact",
                     "headers": {"Authorization": f"Bearer {_SECRET}", "x-api-key": _SECRET,
                                 "x-goog-api-key": _SECRET, "anthropic-version": "2023-06-01"},
                     "extra_query": {"key": _SECRET}},
            clock=clock,
        )
        storage.create(record)
        storage.append(record.id, ["partial answer"])
        storage.mark(record.id, "failed", error=RecordedError(
            type="HTTPStatusError", recoverable=False,
            message=f"401 for https://api.example.test/v1?key={_SECRET} "
                    f"(Authorization: Bearer {_SECRET})"))
        stored = storage.get(record.id)
        assert _SECRET not in stored.to_json()
        assert _SECRET not in repr(stored)
        assert stored.options["headers"] == {"anthropic-version": "2023-06-01"}
        assert "alt=sse" in stored.base_url
        storage.close()
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert _SECRET.encode() not in path.read_bytes(), path

    def test_closed_storage_refuses_work(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        storage.close()
        storage.close()  # idempotent
        with pytest.raises(StorageError):
            storage.get(record.id)
        with pytest.raises(StorageError):
            storage.append(record.id, ["x"])

    def test_context_manager_closes(self, tmp_path: Path, clock: FakeClock) -> None:
        with self.make_storage(tmp_path / "cm", clock) as storage:
            storage.create(self._record(clock))
        with pytest.raises(StorageError):
            storage.summaries()
