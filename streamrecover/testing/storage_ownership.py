"""The ownership half of the storage conformance suite: claims, leases, fencing, releases.

:class:`~streamrecover.testing.storage.StorageConformance` inherits these
tests, so a backend that runs the suite runs them too; see that module for the
one hook to implement. What they hold a backend to is the contract in
:mod:`streamrecover.storage.base` ("Ownership: one writer at a time").
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage.base import DEFAULT_LEASE, Storage
from streamrecover.storage.errors import StaleWriterError, StatusConflictError
from streamrecover.storage.owner import Owner, current_owner
from streamrecover.storage.record import UNRENEWED_LEASE, RecordedError, StreamRecord

if TYPE_CHECKING:
    from streamrecover.testing.storage import FakeClock

__all__ = ["OwnershipConformance"]

_ELSEWHERE = Owner(host="another-host/another-machine", pid=1, boot_id="b", started="1")


def _dead_owner() -> Owner:
    """An owner on this host whose process has exited (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    me = current_owner()
    return replace(me, pid=int(child.stdout), started=me.started and "0")


class OwnershipConformance:
    """Mixin of the ownership tests; used through ``StorageConformance``."""

    #: Threads that race to claim one record, and how many races, in the claim tests.
    claimers = 8
    claim_races = 5

    def _record(self, clock: FakeClock, **fields: object) -> StreamRecord:
        raise NotImplementedError  # pragma: no cover - StorageConformance provides it

    # -- claiming a stopped record -------------------------------------------------------

    def test_claim_takes_over_an_interrupted_record(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, chunks=("Once ", "upon"), attempts=2, resumes=1,
                              last_event_id="9", usage={"output_tokens": 4})
        storage.create(record)
        error = RecordedError(type="TransportError", message="reset", recoverable=True)
        storage.mark(record.id, "interrupted", error=error, epoch=0)
        clock.advance(3)
        claimed = storage.claim(record.id)
        # Status, error, owner, lease, epoch and updated_at change; the rest is kept.
        assert claimed == replace(record, status="active", updated_at=clock(),
                                  owner=current_owner(), lease=DEFAULT_LEASE, epoch=1)
        assert storage.get(record.id) == claimed
        # The returned record is the caller's: changing it changes nothing stored.
        claimed.request["messages"].clear()
        assert storage.get(record.id).request == record.request

    def test_claim_records_the_given_owner_and_lease(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, status="failed", storage_error=RecordedError(
            type="StorageError", message="disk full", recoverable=True))
        storage.create(record)
        claimed = storage.claim(record.id, owner=_ELSEWHERE, lease=7)
        assert (claimed.owner, claimed.lease, claimed.epoch) == (_ELSEWHERE, 7.0, 1)
        assert claimed.storage_error is None
        assert storage.get(record.id).owner == _ELSEWHERE

    def test_claim_refuses_final_records_even_forced(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        for status in ("completed", "cancelled"):
            final = self._record(clock, status=status, chunks=("done",))
            storage.create(final)
            clock.advance(10_000)
            for force in (False, True):
                with pytest.raises(StatusConflictError) as info:
                    storage.claim(final.id, force=force)
                assert info.value.current == status
            assert storage.get(final.id) == final

    def test_claim_rejects_bad_arguments(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock, status="interrupted")
        storage.create(record)
        for bad in ({"lease": 0}, {"lease": -1}, {"lease": math.nan}, {"lease": math.inf},
                    {"lease": "10"}, {"lease": True}, {"owner": "me"}, {"force": "yes"}):
            with pytest.raises(UsageError):
                storage.claim(record.id, **bad)
        assert storage.get(record.id) == record

    # -- leases --------------------------------------------------------------------------

    def test_a_live_owner_keeps_its_record_while_it_renews(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, owner=current_owner(), lease=10.0)  # this live process
        storage.create(record)
        clock.advance(9.5)
        with pytest.raises(StatusConflictError) as info:
            storage.claim(record.id)
        assert (info.value.current, info.value.requested) == ("active", "active")
        storage.renew(record.id, epoch=0)  # the lease starts again
        clock.advance(9.5)
        with pytest.raises(StatusConflictError):
            storage.claim(record.id)
        storage.append(record.id, ["live"], epoch=0)  # every write renews too
        clock.advance(9.5)
        with pytest.raises(StatusConflictError):
            storage.claim(record.id)
        unchanged = storage.get(record.id)
        assert (unchanged.status, unchanged.epoch, unchanged.owner) == ("active", 0, record.owner)
        assert unchanged.updated_at == clock() - 9.5
        clock.advance(0.5)  # 10 s without an update: the lease expired
        claimed = storage.claim(record.id)
        assert (claimed.status, claimed.epoch, claimed.text) == ("active", 1, "live")
        with pytest.raises(StatusConflictError):
            storage.claim(record.id)  # and now the new owner holds it

    def test_an_owner_on_another_host_is_waited_for(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, owner=_ELSEWHERE, lease=30.0)
        storage.create(record)
        clock.advance(29)
        with pytest.raises(StatusConflictError):
            storage.claim(record.id)
        clock.advance(1)
        assert storage.claim(record.id).owner == current_owner()

    def test_an_unstated_lease_lasts_the_unrenewed_lease(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, owner=_ELSEWHERE)  # lease None: a 0.1 writer
        storage.create(record)
        clock.advance(UNRENEWED_LEASE - 1)
        with pytest.raises(StatusConflictError):
            storage.claim(record.id)
        clock.advance(1)
        assert storage.claim(record.id).epoch == 1

    def test_an_update_from_the_future_counts_as_fresh(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        # Another machine's clock runs ahead: the record is not taken for abandoned.
        record = self._record(clock, owner=_ELSEWHERE, lease=10.0, updated_at=clock() + 100)
        storage.create(record)
        with pytest.raises(StatusConflictError):
            storage.claim(record.id)
        assert storage.claim(record.id, force=True).updated_at == clock()

    # -- dead owners on this host --------------------------------------------------------

    @pytest.mark.skipif(sys.platform == "win32", reason="a pid is not probed on Windows")
    def test_a_dead_owner_on_this_host_is_claimed_at_once(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, owner=_dead_owner(), lease=3600.0, chunks=("kept",))
        storage.create(record)
        claimed = storage.claim(record.id)  # no force, no wait
        assert (claimed.owner, claimed.epoch, claimed.text) == (current_owner(), 1, "kept")

    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="start time from /proc")
    def test_a_reused_pid_is_not_the_owner(self, storage: Storage, clock: FakeClock) -> None:
        # This process's pid, but another process start: the owner ran before us.
        impostor = replace(current_owner(), started="1")
        record = self._record(clock, owner=impostor, lease=3600.0)
        storage.create(record)
        assert storage.claim(record.id).epoch == 1

    def test_an_owner_from_before_a_reboot_is_gone(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        me = current_owner()
        if not me.boot_id:
            pytest.skip("this OS reports no boot id")
        record = self._record(clock, owner=replace(me, boot_id="an-earlier-boot"), lease=3600.0)
        storage.create(record)
        assert storage.claim(record.id).epoch == 1

    def test_a_live_owner_on_this_host_is_not_gone(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, owner=current_owner(), lease=3600.0)
        storage.create(record)
        clock.advance(3599)
        with pytest.raises(StatusConflictError):
            storage.claim(record.id)

    # -- fencing -------------------------------------------------------------------------

    def test_every_claim_increments_the_epoch(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock, status="interrupted")
        storage.create(record)
        assert storage.get(record.id).epoch == 0
        assert storage.claim(record.id).epoch == 1
        storage.mark(record.id, "interrupted", epoch=1)
        assert storage.claim(record.id).epoch == 2
        assert storage.claim(record.id, force=True).epoch == 3
        assert storage.get(record.id).epoch == 3

    def test_a_stale_writer_is_refused_and_writes_nothing(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, chunks=("abc",), owner=current_owner(), lease=10.0)
        storage.create(record)
        claimed = storage.claim(record.id, force=True)  # the first writer is paused
        clock.advance(5)
        stale = 0
        writes: list[Callable[[], None]] = [
            lambda: storage.append(record.id, ["late"], epoch=stale),
            lambda: storage.append(record.id, [], epoch=stale),
            lambda: storage.renew(record.id, epoch=stale),
            lambda: storage.truncate(record.id, 1, epoch=stale),
            lambda: storage.mark(record.id, "completed", epoch=stale),
            lambda: storage.mark(record.id, "interrupted", epoch=stale, attempts=9),
            lambda: storage.update(record.id, epoch=stale, response_id="r"),
        ]
        for write in writes:
            with pytest.raises(StaleWriterError) as info:
                write()
            assert (info.value.epoch, info.value.current) == (0, 1)
            assert isinstance(info.value, StorageError)
            assert storage.get(record.id) == claimed  # not even updated_at moved
        storage.append(record.id, ["def"], epoch=claimed.epoch)
        storage.append(record.id, ["!"])  # no epoch: an unfenced write, accepted
        storage.mark(record.id, "completed", epoch=claimed.epoch)
        assert storage.get(record.id).text == "abcdef!"

    def test_two_forced_claims_leave_one_writer(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, status="interrupted", chunks=("Once ",))
        storage.create(record)
        first = storage.claim(record.id, force=True)
        second = storage.claim(record.id, force=True)
        assert (first.epoch, second.epoch) == (1, 2)
        with pytest.raises(StaleWriterError):
            storage.append(record.id, ["upon a time"], epoch=first.epoch)
        storage.append(record.id, ["upon a time"], epoch=second.epoch)
        with pytest.raises(StaleWriterError):
            storage.append(record.id, ["upon a time"], epoch=first.epoch)
        assert storage.get(record.id).text == "Once upon a time"

    def test_a_bad_epoch_is_a_usage_error(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock)
        storage.create(record)
        for bad in (-1, "0", True, 1.0):
            with pytest.raises(UsageError):
                storage.append(record.id, ["x"], epoch=bad)  # type: ignore[arg-type]
            with pytest.raises(UsageError):
                storage.mark(record.id, "completed", epoch=bad)  # type: ignore[arg-type]
        assert storage.get(record.id) == record

    # -- releasing a claim ---------------------------------------------------------------

    def test_release_gives_the_claim_back(self, storage: Storage, clock: FakeClock) -> None:
        error = RecordedError(type="TransportError", message="reset", recoverable=True)
        record = self._record(clock, status="interrupted", error=error, chunks=("partial",))
        storage.create(record)
        claimed = storage.claim(record.id)
        storage.release(record.id, epoch=claimed.epoch, status="interrupted", error=error)
        released = storage.get(record.id)
        assert (released.status, released.error, released.owner) == ("interrupted", error, None)
        assert (released.epoch, released.text) == (1, "partial")
        # The next resumer claims it at once, with a new epoch.
        assert storage.claim(record.id).epoch == 2

    def test_a_stale_claim_cannot_be_released(self, storage: Storage, clock: FakeClock) -> None:
        record = self._record(clock, status="failed")
        storage.create(record)
        first = storage.claim(record.id)
        second = storage.claim(record.id, force=True)
        with pytest.raises(StaleWriterError):
            storage.release(record.id, epoch=first.epoch, status="failed")
        assert storage.get(record.id) == second
        with pytest.raises(UsageError):
            storage.release(record.id, epoch=second.epoch, status="completed")
        assert storage.get(record.id) == second

    # -- races ---------------------------------------------------------------------------

    def _race(self, storage: Storage, record_id: str) -> list[object]:
        """Let :attr:`claimers` threads claim ``record_id`` at once; return what each got."""
        start = threading.Barrier(self.claimers)
        outcomes: list[object] = [None] * self.claimers

        def claimer(number: int) -> None:
            start.wait()
            try:
                outcomes[number] = storage.claim(record_id)
            except BaseException as exc:  # every outcome is inspected by the caller
                outcomes[number] = exc

        workers = [
            threading.Thread(target=claimer, args=(number,)) for number in range(self.claimers)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return outcomes

    @pytest.mark.parametrize("status", ["interrupted", "active"])
    def test_threads_racing_to_claim_have_exactly_one_winner(
        self, storage: Storage, clock: FakeClock, status: str
    ) -> None:
        for _ in range(self.claim_races):
            # Interrupted, or active but abandoned an hour ago: claimable either way.
            record = self._record(clock, status=status, updated_at=clock() - 3600,
                                  owner=_ELSEWHERE, lease=60.0)
            storage.create(record)
            outcomes = self._race(storage, record.id)
            winners = [outcome for outcome in outcomes if isinstance(outcome, StreamRecord)]
            losers = [outcome for outcome in outcomes if isinstance(outcome, StatusConflictError)]
            assert len(winners) == 1, outcomes
            assert len(losers) == self.claimers - 1, outcomes
            assert winners[0] == storage.get(record.id)
            assert (winners[0].status, winners[0].epoch) == ("active", 1)

    # -- text is always encodable --------------------------------------------------------

    def test_lone_surrogates_are_stored_as_replacement_characters(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        record = self._record(clock, chunks=("x\udc00",))
        storage.create(record)
        storage.append(record.id, ["ab\ud83d"])  # a high half with no partner
        storage.append(record.id, ["\ud83d", "\ude00"])  # a pair split across pieces
        storage.append(record.id, ["\ude00 end"])
        stored = storage.get(record.id)
        assert stored.text == "x\ufffdab\ufffd\U0001f600\ufffd end"
        stored.text.encode("utf-8")  # raises if a surrogate were left
        storage.truncate(record.id, 3)
        assert storage.get(record.id).text == "x\ufffda"
