"""Keep a writer's lease on its record alive, whatever the stream is doing.

A stream owns its record for ``lease`` seconds after each update (see
:mod:`streamrecover.storage.base`, "Ownership"). Text flowing into storage
renews the lease by itself, but a stream also spends time writing nothing:
waiting out a backoff before a retry, waiting for the response head, reading
a model that thinks for minutes without a byte. So every live stream registers
a :class:`Lease`, and one daemon thread per process (:class:`LeaseKeeper`)
renews each lease that was not written through for ``interval`` seconds.

The thread stops when a process is paused (SIGSTOP, a debugger, a frozen VM)
exactly as the stream does, which is the point: a paused writer loses its
lease, another process may claim the record, and when the writer wakes its
first write or renewal meets the newer epoch and is refused
(:class:`~streamrecover.storage.errors.StaleWriterError`). The lease records
that loss in :attr:`Lease.lost`; the stream reads it and stops.

A renewal that fails for another storage reason is kept in
:attr:`Lease.error`, logged once per outage, and tried again an interval
later: storage trouble costs durability, never the stream.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from streamrecover._logging import logger
from streamrecover.core.errors import StorageError, StreamRecoverError
from streamrecover.storage.base import DEFAULT_RENEW_INTERVAL, Storage
from streamrecover.storage.errors import StaleWriterError
from streamrecover.storage.record import Status, StreamRecord

if TYPE_CHECKING:
    from streamrecover.storage.checkpoint import Checkpointer

__all__ = ["Lease", "LeaseKeeper", "give_back", "start_writing"]

#: Seconds the keeper's thread waits for a new lease before it ends.
KEEPER_LINGER = 30.0


class Lease:
    """A writer's hold on one record, renewed in the background while it is :meth:`start`\\ ed.

    ``epoch`` is the epoch of the writer's claim (0 for a record it created),
    ``interval`` how often, at least, the record is touched (seconds, on
    ``clock``, a monotonic clock). Call :meth:`wrote` after every successful
    write of the record: a lease written through recently is not renewed.
    """

    def __init__(
        self,
        storage: Storage,
        record_id: str,
        *,
        epoch: int,
        interval: float = DEFAULT_RENEW_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self.record_id = record_id
        self.epoch = epoch
        self.interval = interval
        self._clock = clock
        self._last_write = clock()
        #: Set once a renewal was refused: another process claimed the record.
        self.lost: StaleWriterError | None = None
        #: The last renewal failure, None once a renewal succeeded again.
        self.error: StorageError | None = None
        #: Renewals written (for tests and the benchmark).
        self.renewals = 0
        self._keeper: LeaseKeeper | None = None

    def wrote(self) -> None:
        """Note that the record was just written: that renewed the lease."""
        self._last_write = self._clock()

    def due_at(self) -> float:
        """When the next renewal is due (``clock`` time)."""
        return self._last_write + self.interval

    def renew(self) -> None:
        """Renew now: touch the record with this lease's epoch.

        Records a refusal in :attr:`lost` and any other storage failure in
        :attr:`error`; never raises for either.
        """
        if self.lost is not None:
            return
        try:
            self.storage.renew(self.record_id, epoch=self.epoch)
        except StaleWriterError as exc:
            self.lost = exc
            logger.warning("stream %s: %s", self.record_id, exc)
        except StorageError as exc:
            if self.error is None:
                logger.warning(
                    "stream %s: cannot renew its lease (retried every %.3g s; the stream "
                    "goes on): %s", self.record_id, self.interval, exc,
                )
            self.error = exc
            self._last_write = self._clock()  # try again an interval later
        else:
            if self.error is not None:
                logger.info("stream %s: storage is back; the lease is renewed", self.record_id)
            self.error = None
            self.renewals += 1
            self._last_write = self._clock()

    def start(self, keeper: LeaseKeeper | None = None) -> None:
        """Have ``keeper`` (default: this process's) renew the lease until :meth:`stop`."""
        if self._keeper is None:
            self._keeper = keeper if keeper is not None else LeaseKeeper.shared()
            self._keeper.add(self)

    def stop(self) -> None:
        """Stop renewing (the stream ended). Idempotent; never raises."""
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.discard(self)


class LeaseKeeper:
    """One daemon thread that renews every registered :class:`Lease` when it falls due.

    The thread starts with the first lease and ends ``linger`` seconds after
    the last one is discarded, so a process that runs one stream after another
    starts one thread, not one per stream. :meth:`shared` is the process's
    keeper (a forked child gets its own).
    """

    _shared: LeaseKeeper | None = None
    _shared_pid = 0
    _shared_lock = threading.Lock()

    def __init__(self, *, linger: float = KEEPER_LINGER) -> None:
        self._leases: set[Lease] = set()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._linger = linger

    @classmethod
    def shared(cls) -> LeaseKeeper:
        """Return this process's keeper."""
        with cls._shared_lock:
            if cls._shared is None or cls._shared_pid != os.getpid():
                cls._shared, cls._shared_pid = cls(), os.getpid()
            return cls._shared

    def add(self, lease: Lease) -> None:
        """Start renewing ``lease``."""
        with self._condition:
            self._leases.add(lease)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="streamrecover-lease-keeper", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def discard(self, lease: Lease) -> None:
        """Stop renewing ``lease`` (no error if it was not renewed)."""
        with self._condition:
            self._leases.discard(lease)
            self._condition.notify()

    @property
    def leases(self) -> int:
        """How many leases are renewed."""
        with self._condition:
            return len(self._leases)

    @property
    def running(self) -> bool:
        """Whether the keeper's thread is alive (it lingers a while after the last lease)."""
        with self._condition:
            return self._thread is not None

    def _run(self) -> None:
        idle_until: float | None = None
        while True:
            with self._condition:
                now = time.monotonic()
                if not self._leases:
                    if idle_until is None:
                        idle_until = now + self._linger
                    if now >= idle_until:
                        self._thread = None
                        return
                    self._condition.wait(idle_until - now)
                    continue
                idle_until = None
                due = [lease for lease in self._leases if lease.due_at() <= now]
                if not due:
                    wait = min(lease.due_at() for lease in self._leases) - now
                    self._condition.wait(max(wait, 0.001))
                    continue
            # Renew outside the lock: a slow storage must not block add/discard.
            for lease in due:
                try:
                    lease.renew()
                except BaseException:
                    logger.exception("stream %s: renewing its lease failed", lease.record_id)
                    lease.wrote()
                if lease.lost is not None:
                    self.discard(lease)


def start_writing(
    storage: Storage,
    record: StreamRecord,
    *,
    created: bool,
    interval: float,
    renew_interval: float = DEFAULT_RENEW_INTERVAL,
) -> Checkpointer:
    """Return the checkpointer of the stream that writes ``record``, its lease renewed.

    ``created`` is False for a new record (the checkpointer creates it with its
    first write, so a failing storage costs durability, not the stream) and
    True for a record this process just claimed. Writes carry
    ``record.epoch``; the lease is renewed every ``renew_interval`` seconds
    until the checkpointer's ``end()``.
    """
    from streamrecover.storage.checkpoint import Checkpointer

    lease = Lease(storage, record.id, epoch=record.epoch, interval=renew_interval)
    checkpointer = Checkpointer(
        storage,
        record.id,
        interval=interval,
        committed_length=len(record.text),
        epoch=record.epoch,
        lease=lease,
        create=None if created else record,
    )
    if checkpointer.lost is None:
        lease.start()
    return checkpointer


def give_back(storage: Storage, claimed: StreamRecord, before: StreamRecord) -> None:
    """Release a claim that will not be used, restoring the status ``before`` had.

    A record that was ``active`` before (its writer dead or its lease expired)
    goes back as ``interrupted``. Never raises: the caller is already handling
    the error that made the claim useless; a release that fails leaves the
    record to expire like any silent one (logged).
    """
    status: Status = "failed" if before.status == "failed" else "interrupted"
    try:
        storage.release(claimed.id, epoch=claimed.epoch, status=status, error=before.error)
    except StreamRecoverError as exc:
        logger.warning("stream %s: could not give its claim back: %s", claimed.id, exc)
