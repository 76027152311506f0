"""``redis://host:port/db``: records in Redis, shared by processes and machines (extra ``redis``).

A stream started by one worker can be read, watched and resumed by any other
that reaches the same server. Each record is a hash (its fields) and a Redis
Stream (its log: one entry per append or rewind, read with ``XRANGE`` and
waited for with ``XREAD BLOCK``); a sorted set indexes the ids by
``updated_at`` so that ``summaries`` and ``cleanup`` never use ``KEYS``
(layout and scripts: :mod:`streamrecover.storage._redis_scripts`).

Atomicity: appends, rewinds, creates, deletes and cleanups are Lua scripts
(one atomic step on the server); status changes and claims read, check and
write under ``WATCH``/``MULTI``, retried when another client changed the
record in between, so of several claimers exactly one wins. Reads are
``MULTI`` transactions, so the log and the status they return agree.

A stopped record (any status but ``active``) expires ``ttl`` seconds after its
last update (``?ttl=``, default 1800, 0 for never), on the server's clock;
``cleanup`` works on the storage's clock as for every backend. ``?prefix=``
(default ``streamrecover:``) begins every key. ``rediss://`` connects over
TLS. A password in the URL is used to connect and never stored, logged or
shown (``repr`` and errors give ``host:port/db`` only). Needs Redis >= 5;
not for Redis Cluster (a record's keys and the index are in different slots).
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from streamrecover.core.errors import MissingExtraError, StorageError, UsageError
from streamrecover.storage import _redis_scripts as scripts
from streamrecover.storage.base import Clock, Storage, check_truncate, closed_error, status_set
from streamrecover.storage.errors import RecordExistsError, RecordNotFoundError
from streamrecover.storage.log import (
    LogEntry,
    LogRead,
    apply_entries,
    check_after,
    check_timeout,
    log_read,
)
from streamrecover.storage.owner import Owner
from streamrecover.storage.record import (
    RecordChanges,
    Status,
    StreamRecord,
    StreamSummary,
    changes_to_json,
    check_claim,
    check_epoch,
    check_transition,
    decode_json,
    encode_json,
)

try:
    import redis
    import redis.exceptions
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise MissingExtraError("the Redis storage (redis://)", "redis", "redis") from exc

__all__ = ["RedisStorage"]

_T = TypeVar("_T")

# The fields of the JSON ``state`` hash field: everything mutable but status and updated_at.
# The epoch is a hash field of its own, so that the scripts can fence writes with it.
_STATE_FIELDS = (
    "error", "attempts", "resumes", "last_event_id", "sequence_number", "response_id", "usage",
    "owner", "lease", "storage_error", "providers",
)
_HEAD_FIELDS = ("id", "provider", "model", "base_url", "created_at")
#: The longest one XREAD BLOCK waits before tail() looks again (below the socket timeout).
_BLOCK_SLICE = 5.0


class RedisStorage(Storage):
    """Keep records in Redis. Build it with :meth:`from_url` (or ``open_storage(url)``).

    ``ttl`` is how long a stopped record lives without an update (0: until
    ``cleanup``); ``prefix`` begins every key. ``socket_timeout`` bounds every
    command; a blocking ``tail`` waits in slices shorter than it.

    Raises StorageURLError for a bad URL; a server that cannot be reached
    raises StorageError at the first operation.
    """

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        clock: Clock = time.time,
        socket_timeout: float = 10.0,
    ) -> None:
        super().__init__(clock=clock)
        parsed = scripts.parse_redis_url(url)
        self.location = parsed.location
        self.prefix = parsed.prefix
        self.ttl = parsed.ttl
        self._index_key = f"{self.prefix}index"
        self._lock = threading.Lock()
        # The log's end offset as this writer last knew it, per record it wrote,
        # and, for a record whose last append's reply was lost (the server may
        # or may not have applied it), that end before it (see scripts.APPEND).
        self._ends: dict[str, int] = {}
        self._doubts: dict[str, int] = {}
        try:
            # Typed Any: redis-py's annotations do not follow decode_responses.
            client: Any = redis.Redis.from_url(
                parsed.connection_url,
                socket_timeout=max(socket_timeout, _BLOCK_SLICE + 1.0),
                socket_connect_timeout=socket_timeout,
                decode_responses=False,
            )
        except (ValueError, TypeError, redis.exceptions.RedisError) as exc:
            raise StorageError(f"cannot use Redis storage {self.location}: "
                               f"{type(exc).__name__}") from None
        self._client: Any = client
        self._create = client.register_script(scripts.CREATE)
        self._append = client.register_script(scripts.APPEND)
        self._truncate = client.register_script(scripts.TRUNCATE)
        self._delete = client.register_script(scripts.DELETE)
        self._cleanup_one = client.register_script(scripts.CLEANUP_ONE)

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = time.time) -> RedisStorage:
        """Build from ``redis[s]://[user:password@]host[:port][/db][?prefix=...&ttl=...]``.

        Raises StorageURLError for a URL of another shape.
        """
        return cls(url, clock=clock)

    def __repr__(self) -> str:
        return f"RedisStorage({self.location!r}, prefix={self.prefix!r}, ttl={self.ttl})"

    # -- plumbing ------------------------------------------------------------------------

    def _keys(self, record_id: str) -> list[str]:
        return [f"{self.prefix}r:{record_id}", f"{self.prefix}l:{record_id}", self._index_key]

    def _open(self) -> Any:
        client = self._client
        if client is None:
            raise closed_error()
        return client

    @contextmanager
    def _errors(self) -> Iterator[None]:
        # The one boundary where redis-py's exceptions enter. The message names
        # the server by host:port/db only: redis-py's own may quote a URL.
        try:
            yield
        except redis.exceptions.RedisError as exc:
            raise StorageError(
                f"Redis storage {self.location}: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
        except UnicodeError as exc:
            raise StorageError(f"Redis storage {self.location}: cannot store text: {exc}") from exc

    def _watched(self, record_id: str, step: Callable[[Any, dict[bytes, bytes]], _T]) -> _T:
        """Run ``step(pipeline, fields)`` under WATCH on the record's hash, retrying on conflict.

        ``step`` reads nothing itself: it gets the hash's fields, checks them,
        calls ``pipeline.multi()`` and queues its writes; they are executed only
        if nobody changed the record meanwhile.
        """
        hash_key = self._keys(record_id)[0]
        with self._errors(), self._open().pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(hash_key)
                    fields = pipe.hgetall(hash_key)
                    if not fields:
                        raise RecordNotFoundError(record_id)
                    result = step(pipe, fields)
                    pipe.execute()
                    return result
                except redis.exceptions.WatchError:
                    continue
                finally:
                    pipe.reset()

    def _expiry(self, pipe: Any, record_id: str, status: str) -> None:
        keys = self._keys(record_id)[:2]
        for key in keys:
            if status != "active" and self.ttl > 0:
                pipe.expire(key, self.ttl)
            else:
                pipe.persist(key)

    def _marker(self, pipe: Any, record_id: str, fields: dict[bytes, bytes], status: str) -> None:
        # Wakes blocked tail() calls: a stream entry that is no log entry.
        mseq = _int(fields, b"mseq", record_id) + 1
        end = _int(fields, b"end", record_id)
        pipe.hset(self._keys(record_id)[0], "mseq", mseq)
        pipe.xadd(self._keys(record_id)[1], {"m": status}, id=f"{end}-{mseq}")

    # -- writing -------------------------------------------------------------------------

    def create(self, record: StreamRecord) -> None:
        """See :meth:`Storage.create`."""
        data = record.to_dict()
        chunks = [chunk.encode() for chunk in record.chunks if chunk]
        head = encode_json({name: data[name] for name in _HEAD_FIELDS})
        body = encode_json({"request": record.request, "options": record.options})
        state = encode_json({name: data[name] for name in _STATE_FIELDS})
        with self._errors():
            created = self._create(
                keys=self._keys(record.id),
                args=[record.id, head, body, state, record.status, repr(record.updated_at),
                      sum(len(chunk) for chunk in record.chunks), self.ttl, record.epoch,
                      *chunks],
                client=self._open(),
            )
        if not created:
            raise RecordExistsError(record.id)
        self._known_end(record.id, len(chunks))

    def apply_append(self, record_id: str, piece: str, epoch: int | None) -> None:
        """See :meth:`Storage.apply_append`. One Lua script: the epoch check, an XADD and
        the hash's counters."""
        doubt = self._doubts.get(record_id)
        with self._errors():
            try:
                outcome = self._append(
                    keys=self._keys(record_id),
                    args=[record_id, piece.encode(), len(piece), repr(self.clock()), self.ttl,
                          "" if epoch is None else epoch, "" if doubt is None else doubt],
                    client=self._open(),
                )
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                with self._lock:
                    known = self._ends.get(record_id)
                    if piece and doubt is None and known is not None:
                        self._doubts[record_id] = known
                raise
        self._check_outcome(record_id, outcome, epoch)
        self._known_end(record_id, int(outcome[1]))

    def apply_truncate(self, record_id: str, length: int, epoch: int | None) -> None:
        """See :meth:`Storage.apply_truncate`: one rewind entry in the log, nothing deleted."""
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise UsageError(f"cannot truncate a text to {length!r}")
        with self._errors():
            try:
                outcome = self._truncate(
                    keys=self._keys(record_id),
                    args=[record_id, length, repr(self.clock()), self.ttl,
                          "" if epoch is None else epoch],
                    client=self._open(),
                )
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                # A rewind applied twice gives the same text; but the end is unknown now.
                with self._lock:
                    self._ends.pop(record_id, None)
                raise
        self._check_outcome(record_id, outcome, epoch)
        if outcome[0] == -3:
            check_truncate(length, int(outcome[1]))
        self._known_end(record_id, int(outcome[1]))

    def _known_end(self, record_id: str, end: int) -> None:
        with self._lock:
            self._ends[record_id] = end
            self._doubts.pop(record_id, None)

    def _forget(self, record_id: str) -> None:
        with self._lock:
            self._ends.pop(record_id, None)
            self._doubts.pop(record_id, None)

    def _check_outcome(self, record_id: str, outcome: Sequence[Any], epoch: int | None) -> None:
        if outcome[0] == -1:
            raise RecordNotFoundError(record_id)
        if outcome[0] == -4:
            check_epoch(record_id, int(outcome[1]), epoch)
            raise StorageError(f"Redis storage {self.location}: a fencing check disagreed")

    def apply_changes(
        self,
        record_id: str,
        changes: RecordChanges,
        expected: frozenset[str] | None,
        epoch: int | None,
    ) -> None:
        """See :meth:`Storage.apply_changes` (WATCH/MULTI: checked and written atomically)."""
        update = changes_to_json(changes)

        def step(pipe: Any, fields: dict[bytes, bytes]) -> None:
            check_epoch(record_id, _int(fields, b"epoch", record_id), epoch)
            current = _text(fields, b"status", record_id)
            status = changes.get("status", current)
            check_transition(record_id, current, status, expected)  # type: ignore[arg-type]
            state = _json(fields, b"state", record_id)
            state.update({name: value for name, value in update.items() if name != "status"})
            now = self.clock()
            pipe.multi()
            pipe.hset(self._keys(record_id)[0], mapping={
                "status": status, "state": encode_json(state), "updated_at": repr(now)})
            pipe.zadd(self._index_key, {record_id: now})
            self._expiry(pipe, record_id, status)
            if "status" in changes:
                self._marker(pipe, record_id, fields, status)

        self._watched(record_id, step)
        if changes.get("status", "active") != "active":
            self._forget(record_id)  # stopped: this writer is done with it

    def apply_claim(
        self, record_id: str, owner: Owner, lease: float, force: bool
    ) -> StreamRecord:
        """See :meth:`Storage.apply_claim`. WATCH/MULTI: of racing claimers exactly one wins,
        and the epoch it increments fences every earlier writer out."""

        record_end = [0]

        def step(pipe: Any, fields: dict[bytes, bytes]) -> StreamRecord:
            now = self.clock()
            record_end[0] = _int(fields, b"end", record_id)
            stored = _record(record_id, fields, (), summary_only=True)
            check_claim(record_id, stored.status, stored.updated_at, now,
                        owner=stored.owner, lease=stored.lease, force=force)
            state = _json(fields, b"state", record_id)
            state.update(error=None, storage_error=None, owner=owner.to_dict(), lease=lease)
            epoch = stored.epoch + 1
            entries = _entries(pipe.xrange(self._keys(record_id)[1]), record_id)
            claimed = dict(fields)
            claimed.update({b"status": b"active", b"state": encode_json(state).encode(),
                            b"updated_at": repr(now).encode(), b"epoch": str(epoch).encode()})
            record = _record(record_id, claimed, entries)
            pipe.multi()
            pipe.hset(self._keys(record_id)[0], mapping={
                "status": "active", "state": encode_json(state), "updated_at": repr(now),
                "epoch": epoch})
            pipe.zadd(self._index_key, {record_id: now})
            self._expiry(pipe, record_id, "active")
            self._marker(pipe, record_id, fields, "active")
            return record

        record = self._watched(record_id, step)
        self._known_end(record_id, record_end[0])
        return record

    def delete(self, record_id: str) -> bool:
        """See :meth:`Storage.delete`."""
        self._forget(record_id)
        with self._errors():
            return bool(self._delete(keys=self._keys(record_id), args=[record_id],
                                     client=self._open()))

    def cleanup(self, older_than: float) -> int:
        """See :meth:`Storage.cleanup`. The index gives the candidates; each is deleted by
        a script that checks its ``updated_at`` again, whole or not at all."""
        cutoff = self._cleanup_cutoff(older_than)
        deleted = 0
        with self._errors():
            client = self._open()
            stale = client.zrangebyscore(self._index_key, "-inf", f"({cutoff!r}")
            for member in stale:
                record_id = member.decode()
                deleted += int(self._cleanup_one(
                    keys=self._keys(record_id), args=[record_id, repr(cutoff)], client=client))
        return deleted

    # -- reading -------------------------------------------------------------------------

    def get(self, record_id: str) -> StreamRecord:
        """See :meth:`Storage.get`. One MULTI transaction: fields and log agree."""
        hash_key, log_key, _ = self._keys(record_id)
        with self._errors(), self._open().pipeline(transaction=True) as pipe:
            fields, raw = pipe.hgetall(hash_key).xrange(log_key).execute()
        if not fields:
            raise RecordNotFoundError(record_id)
        return _record(record_id, fields, _entries(raw, record_id))

    def read(self, record_id: str, *, after: int = 0) -> LogRead:
        """See :meth:`Storage.read`."""
        check_after(after)
        return self._read(record_id, after)[0]

    def _read(self, record_id: str, after: int) -> tuple[LogRead, bytes]:
        """The log read after ``after`` and the id of the stream's last entry (or marker)."""
        hash_key, log_key, _ = self._keys(record_id)
        with self._errors(), self._open().pipeline(transaction=True) as pipe:
            fields, raw = (
                pipe.hmget(hash_key, ["status", "end", "state"])
                .xrange(log_key, min=f"{after}-1")
                .execute()
            )
        status, end, state = fields
        if status is None or end is None or state is None:
            raise RecordNotFoundError(record_id)
        last = int(end)
        check_after(after, last)
        result = log_read(record_id, _entries(raw, record_id), last, status.decode(),
                          _json({b"state": state}, b"state", record_id))
        cursor = raw[-1][0] if raw else f"{after}-0".encode()
        return result, cursor

    def tail(
        self, record_id: str, *, after: int = 0, timeout: float | None = None
    ) -> LogRead:
        """See :meth:`Storage.tail`: ``XREAD BLOCK`` on the record's stream, no polling.

        Woken by an append, a rewind or a status change (a marker entry).
        """
        check_after(after)
        limit = check_timeout(timeout)
        deadline = None if limit is None else time.monotonic() + limit
        log_key = self._keys(record_id)[1]
        while True:
            result, cursor = self._read(record_id, after)
            if result.entries or result.stopped:
                return result
            wait = _BLOCK_SLICE
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return result
                wait = min(wait, remaining)
            with self._errors():
                # BLOCK 0 would mean forever: wait at least a millisecond.
                self._open().xread({log_key: cursor}, count=1, block=max(1, int(wait * 1000)))

    def summaries(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        older_than: float | None = None,
    ) -> builtins.list[StreamSummary]:
        """See :meth:`Storage.summaries`. The index, then the hashes in pipelined batches."""
        wanted = status_set(status)
        cutoff = self._cutoff(older_than)
        found: builtins.list[StreamSummary] = []
        with self._errors():
            client = self._open()
            maximum = "+inf" if cutoff is None else f"({cutoff!r}"
            ids = [member.decode() for member in
                   client.zrangebyscore(self._index_key, "-inf", maximum)]
            for start in range(0, len(ids), 500):
                batch = ids[start:start + 500]
                with client.pipeline(transaction=False) as pipe:
                    for record_id in batch:
                        pipe.hgetall(self._keys(record_id)[0])
                    rows = pipe.execute()
                for record_id, fields in zip(batch, rows, strict=True):
                    if not fields:  # expired or deleted meanwhile
                        continue
                    summary = _record(record_id, fields, (), summary_only=True).summary(
                        _int(fields, b"text_length", record_id))
                    if (wanted is None or summary.status in wanted) and (
                        cutoff is None or summary.updated_at < cutoff
                    ):
                        found.append(summary)
        return sorted(found, key=lambda summary: (summary.created_at, summary.id))

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """See :meth:`Storage.close`: disconnects every pooled connection."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
                client.connection_pool.disconnect()
            except redis.exceptions.RedisError:  # closing a broken connection
                pass


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else ""


def _text(fields: dict[bytes, bytes], name: bytes, record_id: str) -> str:
    value = fields.get(name)
    if not isinstance(value, bytes):
        raise StorageError(f"stored stream {record_id!r} lacks {name.decode()!r}")
    try:
        return value.decode()
    except UnicodeError as exc:
        raise StorageError(f"stored stream {record_id!r} has a corrupt {name.decode()!r}") from exc


def _int(fields: dict[bytes, bytes], name: bytes, record_id: str) -> int:
    text = _text(fields, name, record_id)
    if not text.isdigit():
        raise StorageError(f"stored stream {record_id!r} has a corrupt {name.decode()!r}")
    return int(text)


def _json(fields: dict[bytes, bytes], name: bytes, record_id: str) -> dict[str, Any]:
    value = decode_json(_text(fields, name, record_id), f"stored {name.decode()} of {record_id!r}")
    if not isinstance(value, dict):
        raise StorageError(f"stored {name.decode()} of {record_id!r} is not a JSON object")
    return value


def _entries(raw: Sequence[Any], record_id: str) -> tuple[LogEntry, ...]:
    """Turn XRANGE output into log entries, skipping status markers."""
    entries = []
    for entry_id, values in raw:
        offset, _, sub = entry_id.partition(b"-")
        if sub != b"0":
            continue  # a status marker
        try:
            if b"t" in values:
                entries.append(LogEntry(offset=int(offset), text=values[b"t"].decode()))
            elif b"r" in values:
                entries.append(LogEntry(offset=int(offset), rewind_to=int(values[b"r"])))
            else:
                raise ValueError("no field t or r")
        except (ValueError, UnicodeError) as exc:
            raise StorageError(f"stored stream {record_id!r} has a corrupt log entry") from exc
    return tuple(entries)


def _record(
    record_id: str,
    fields: dict[bytes, bytes],
    entries: Iterable[LogEntry],
    *,
    summary_only: bool = False,
) -> StreamRecord:
    data = _json(fields, b"head", record_id)
    data.update(_json(fields, b"state", record_id))
    body = {"request": {}, "options": {}} if summary_only else _json(fields, b"body", record_id)
    try:
        chunks = apply_entries([], entries)
        updated_at = float(_text(fields, b"updated_at", record_id))
    except (UsageError, ValueError) as exc:
        raise StorageError(f"stored stream {record_id!r} is corrupt: {exc}") from exc
    data.update(request=body.get("request"), options=body.get("options"), chunks=chunks,
                status=_text(fields, b"status", record_id), updated_at=updated_at,
                epoch=_int(fields, b"epoch", record_id))
    record = StreamRecord.from_dict(data)
    if record.id != record_id:
        raise StorageError(f"stored stream {record_id!r} names itself {record.id!r}")
    if not summary_only and len(record.text) != _int(fields, b"text_length", record_id):
        raise StorageError(f"stored stream {record_id!r} is corrupt: its log does not add up")
    return record

