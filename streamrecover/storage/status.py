"""Where a stream stands, and the checks a backend makes before it writes.

:data:`Status` and :data:`TRANSITIONS` are the status table;
:func:`check_transition`, :func:`check_claim` and :func:`check_epoch` are the
rules every backend applies inside the transaction that writes a status, a
claim or a fenced write (see :mod:`streamrecover.storage.base`, "Ownership").
They are re-exported by :mod:`streamrecover.storage.record`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, cast, get_args

from streamrecover.core.errors import StorageError
from streamrecover.storage.errors import StaleWriterError, StatusConflictError
from streamrecover.storage.owner import Owner, owner_is_gone

__all__ = [
    "CLAIMABLE",
    "STATUSES",
    "TRANSITIONS",
    "UNRENEWED_LEASE",
    "Status",
    "check_claim",
    "check_epoch",
    "check_transition",
]

#: Where a stream stands.
Status = Literal["active", "interrupted", "completed", "failed", "cancelled"]
STATUSES: tuple[Status, ...] = get_args(Status)

#: Allowed status changes (current -> allowed next). Marking a record with its
#: current status is always allowed, so a repeated ``mark`` is harmless.
#: ``completed`` and ``cancelled`` are final; ``failed`` and ``interrupted`` may
#: go back to ``active`` when someone resumes them.
TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    "active": frozenset({"active", "interrupted", "completed", "failed", "cancelled"}),
    "interrupted": frozenset({"interrupted", "active", "failed", "cancelled"}),
    "failed": frozenset({"failed", "active", "cancelled"}),
    "completed": frozenset({"completed"}),
    "cancelled": frozenset({"cancelled"}),
}

#: Statuses a resumer may claim whatever the record's age (see ``Storage.claim``):
#: the stream stopped and nobody is writing it. An ``active`` record is claimable
#: only once it is stale; ``completed`` and ``cancelled`` never are.
CLAIMABLE: frozenset[Status] = frozenset({"interrupted", "failed"})

#: The lease, in seconds, of a record whose writer stated none (``lease`` is None):
#: one written by streamrecover 0.1 or by a tool that does not renew a lease.
#: Such an active record is presumed abandoned after this long without an update.
UNRENEWED_LEASE = 300.0


def check_transition(record_id: str, current: str, requested: Status,
                     expected: frozenset[str] | None) -> None:
    """Raise StatusConflictError unless ``current -> requested`` is allowed.

    ``expected``, when given, is the set of statuses the caller believes the
    record has (a compare-and-set); a mismatch is a conflict too. Backends call
    this inside the transaction that writes the new status.
    """
    if expected is not None and current not in expected:
        raise StatusConflictError(record_id, current, requested,
                                  f"expected one of {sorted(expected)}")
    allowed = TRANSITIONS.get(cast(Status, current))
    if allowed is None:
        raise StorageError(f"stream {record_id!r} has an unknown stored status {current!r}")
    if requested not in allowed:
        raise StatusConflictError(record_id, current, requested,
                                  f"allowed: {sorted(allowed)}")


def check_claim(
    record_id: str,
    current: str,
    updated_at: float,
    now: float,
    *,
    owner: Owner | None,
    lease: float | None,
    force: bool,
) -> str:
    """Raise StatusConflictError unless a resumer may claim a record now (``Storage.claim``).

    ``current``, ``updated_at``, ``owner`` and ``lease`` are the record as
    stored, ``now`` the storage clock. Claimable, and the reason returned:

    * ``"stopped"``: the record is ``interrupted`` or ``failed``;
    * ``"forced"``: it is ``active`` and ``force`` is set;
    * ``"owner gone"``: it is ``active`` and its owner's process is certainly
      gone (:func:`~streamrecover.storage.owner.owner_is_gone`: same host, and
      the pid is free, reused or from before a reboot);
    * ``"lease expired"``: it is ``active`` and was not updated for ``lease``
      seconds (:data:`UNRENEWED_LEASE` when the lease is None). A timestamp in
      the future (clock skew) counts as "just updated".

    ``completed`` and ``cancelled`` are never claimable. Backends call this
    inside the transaction that writes the claim.
    """
    if current in CLAIMABLE:
        return "stopped"
    if current == "active":
        if force:
            return "forced"
        if owner is not None and owner_is_gone(owner):
            return "owner gone"
        held_for = UNRENEWED_LEASE if lease is None else lease
        silent_for = max(0.0, now - updated_at)
        if silent_for >= held_for:
            return "lease expired"
        who = f" ({owner})" if owner is not None else ""
        raise StatusConflictError(
            record_id, current, "active",
            f"another process{who} owns it: it was updated {silent_for:.3g} s ago and its "
            f"lease runs {held_for:.3g} s (resume with force if you know its writer is dead)",
        )
    if current not in TRANSITIONS:
        raise StorageError(f"stream {record_id!r} has an unknown stored status {current!r}")
    raise StatusConflictError(
        record_id, current, "active",
        f"only {sorted(CLAIMABLE)} or abandoned 'active' streams can be resumed",
    )


def check_epoch(record_id: str, stored: int, epoch: int | None) -> None:
    """Raise StaleWriterError if a write carrying ``epoch`` must be refused.

    ``stored`` is the record's epoch; ``epoch`` the writer's (None: a write
    that claims no ownership, always accepted). Backends call this inside the
    transaction that writes, before writing anything.
    """
    if epoch is not None and epoch != stored:
        raise StaleWriterError(record_id, epoch, stored)
