"""The lease keeper's one thread: shared by streams one after another, ending when idle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from streamrecover.storage import MemoryStorage
from streamrecover.storage.lease import Lease, LeaseKeeper
from streamrecover.storage.record import new_record


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def keeper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "streamrecover-lease-keeper"]


def a_lease(storage: MemoryStorage, interval: float = 60.0) -> Lease:
    record = new_record(provider="openai", model="m", request={"model": "m"})
    storage.create(record)
    return Lease(storage, record.id, epoch=record.epoch, interval=interval)


def test_streams_one_after_another_share_one_thread() -> None:
    keeper = LeaseKeeper(linger=30.0)
    storage = MemoryStorage()
    first = a_lease(storage)
    first.start(keeper)
    started = [t for t in keeper_threads() if t.is_alive()]
    first.stop()
    time.sleep(0.1)  # long enough for a keeper that ends with its last lease to end
    assert keeper.running
    second = a_lease(storage)
    second.start(keeper)
    assert keeper.running
    assert keeper.leases == 1
    assert [t for t in keeper_threads() if t.is_alive()] == started
    second.stop()


def test_the_thread_ends_once_idle_for_the_linger() -> None:
    before = set(keeper_threads())
    keeper = LeaseKeeper(linger=0.05)
    lease = a_lease(MemoryStorage())
    lease.start(keeper)
    assert keeper.running
    ours = [t for t in keeper_threads() if t not in before]
    assert len(ours) == 1
    lease.stop()
    assert wait_for(lambda: not keeper.running)
    ours[0].join(timeout=5)
    assert not ours[0].is_alive()
    # ...and a lease after that starts a new one, which renews.
    again = a_lease(MemoryStorage(), interval=0.01)
    again.start(keeper)
    assert wait_for(lambda: again.renewals >= 2)
    again.stop()


def test_a_lingering_keeper_still_renews_a_new_lease_on_time() -> None:
    keeper = LeaseKeeper(linger=30.0)
    idle = a_lease(MemoryStorage())
    idle.start(keeper)
    idle.stop()  # the thread now waits with nothing to renew
    lease = a_lease(MemoryStorage(), interval=0.02)
    lease.start(keeper)
    assert wait_for(lambda: lease.renewals >= 3)
    lease.stop()
