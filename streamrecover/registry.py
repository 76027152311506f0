"""The recovery registry: ExLLM's StreamRecovery surface, in Python, over durable storage.

For people who drive their own HTTP stack and want the bookkeeping only::

    registry = RecoveryRegistry("sqlite:///streams.db")
    recovery_id = registry.init_recovery("anthropic", body, {"strategy": "paragraph"})
    for chunk in my_stream():
        registry.record_chunk(recovery_id, chunk)
    registry.complete_stream(recovery_id)

and, after a failure (in this process or another one)::

    if registry.record_error(recovery_id, error):          # recoverable?
        stream = registry.resume_stream(recovery_id, api_key=...)

Every call writes through to storage at once (no batching: this API is called by
code that does its own pacing; the Client batches through a Checkpointer).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from streamrecover.core.classify import is_recoverable
from streamrecover.core.errors import UsageError
from streamrecover.core.resume import Strategy
from streamrecover.storage.base import Storage
from streamrecover.storage.errors import RecordNotFoundError, StatusConflictError
from streamrecover.storage.record import (
    RecordedError,
    Status,
    StreamRecord,
    StreamSummary,
    check_claim,
    new_record,
)
from streamrecover.storage.registry import open_storage
from streamrecover.stream import Stream

__all__ = ["RecoveryRegistry"]

#: Statuses of a stream that may still be finished: cut off, or left active by a crash.
RECOVERABLE: tuple[Status, ...] = ("active", "interrupted")


class RecoveryRegistry:
    """Record partial responses and resume them later.

    Args:
        storage: a storage URL or instance (default ``memory://``).
        default_ttl: seconds after which ``cleanup_old_responses()`` forgets a stream.
        cleanup_interval: when set, every ``init_recovery`` call also runs the
            cleanup if this many seconds passed since the last one (no thread).
        clock: epoch seconds, for the cleanup schedule.
    """

    def __init__(
        self,
        storage: str | Storage = "memory://",
        *,
        default_ttl: float = 1800.0,
        cleanup_interval: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._owns_storage = isinstance(storage, str)
        self.storage = open_storage(storage) if isinstance(storage, str) else storage
        self.default_ttl = default_ttl
        self.cleanup_interval = cleanup_interval
        self._clock = clock
        self._last_cleanup = clock()

    def init_recovery(
        self,
        provider: str,
        request: Mapping[str, Any],
        options: Mapping[str, Any] | None = None,
        *,
        base_url: str = "",
    ) -> str:
        """Start recording a stream; returns its recovery id.

        ``request`` is the provider's JSON body (credentials are stripped before
        anything is written); ``options`` may hold ``strategy``.
        """
        self._maybe_cleanup()
        model = str(request.get("model", ""))
        record = new_record(
            provider=provider,
            model=model,
            request=dict(request),
            base_url=base_url,
            options=dict(options or {}),
            clock=self.storage.clock,
        )
        self.storage.create(record)
        return record.id

    def record_chunk(self, recovery_id: str, chunk: str) -> None:
        """Append a piece of answer text."""
        if not isinstance(chunk, str):
            raise UsageError(f"a chunk is text, got {type(chunk).__name__}")
        self.storage.append(recovery_id, [chunk])

    def record_error(self, recovery_id: str, error: BaseException) -> bool:
        """Record that the stream failed with ``error``; returns whether it is recoverable."""
        recoverable = is_recoverable(error)
        self.storage.mark(
            recovery_id,
            "interrupted" if recoverable else "failed",
            error=RecordedError.from_exception(error, recoverable=recoverable),
        )
        return recoverable

    def complete_stream(self, recovery_id: str) -> None:
        """Mark the stream complete: nothing left to recover.

        A stream that had an error recorded was evidently continued by the
        caller, so it goes back to active on its way to completed.
        """
        if self.storage.get(recovery_id).status in ("interrupted", "failed"):
            self.storage.mark(recovery_id, "active")
        self.storage.mark(recovery_id, "completed")

    def get_partial_response(self, recovery_id: str) -> StreamRecord:
        """Return the stored record: request, status, error and the text so far."""
        return self.storage.get(recovery_id)

    def list_recoverable_streams(self) -> list[StreamSummary]:
        """Streams that may still be finished: interrupted ones, and active ones a crash left.

        An ``active`` stream written by a ``Client`` carries its owner and lease:
        it is listed only when ``resume`` could claim it without ``force`` now
        (its owner is certainly gone, or its lease expired), not while another
        live process is writing it. An active stream recorded through this
        registry's own ``init_recovery`` has no owner and is always listed. The
        list is a snapshot: a stream may still finish, or be claimed by another
        resumer, before you resume it; ``resume_stream`` claims atomically, so two
        resumers never both win.
        """
        found: list[StreamSummary] = []
        for summary in self.storage.summaries(status=RECOVERABLE):
            if summary.status == "active" and not self._abandoned(summary.id):
                continue
            found.append(summary)
        return found

    def _abandoned(self, recovery_id: str) -> bool:
        # The storage's own claim rule, read without claiming, for owned records.
        try:
            record = self.storage.get(recovery_id)
            if record.owner is None:
                return True  # nobody to ask: the caller decides (as before owners existed)
            check_claim(record.id, record.status, record.updated_at, self.storage.clock(),
                        owner=record.owner, lease=record.lease, force=False)
        except (RecordNotFoundError, StatusConflictError):
            return False
        return True

    def clear_partial_response(self, recovery_id: str) -> bool:
        """Forget a stream; returns whether it existed."""
        return self.storage.delete(recovery_id)

    def cleanup_old_responses(self, ttl: float | None = None) -> int:
        """Forget streams not updated for ``ttl`` seconds (default ``default_ttl``)."""
        self._last_cleanup = self._clock()
        return self.storage.cleanup(self.default_ttl if ttl is None else ttl)

    @staticmethod
    def is_recoverable(error: BaseException) -> bool:
        """Whether a later attempt may succeed after ``error``."""
        return is_recoverable(error)

    def resume_stream(
        self,
        recovery_id: str,
        *,
        strategy: Strategy | None = None,
        replay: bool = False,
        force: bool = False,
        **client_options: Any,
    ) -> Stream:
        """Continue a stored stream; returns a live :class:`Stream` like ``Client.stream``.

        ``client_options`` are :class:`streamrecover.Client` options: ``api_key``
        (credentials are never stored, so give them again), ``base_url``, ``retry``,
        ``transport``... The provider and base URL default to the stored ones.
        ``strategy``, ``replay`` and ``force`` are those of :meth:`Client.resume`:
        an active stream is claimed only once it looks abandoned, or with
        ``force=True`` when you know its writer is dead.

        Raises what :meth:`Client.resume` raises (StatusConflictError when the
        stream is live elsewhere or another caller claimed it first).
        """
        from streamrecover.client import Client

        record = self.storage.get(recovery_id)
        if record.base_url and "base_url" not in client_options:
            client_options["base_url"] = record.base_url
        client = Client(record.provider, storage=self.storage, **client_options)
        return client.resume(recovery_id, strategy=strategy, replay=replay, force=force)

    def close(self) -> None:
        """Close the storage if the registry opened it from a URL."""
        if self._owns_storage:
            self.storage.close()

    def __enter__(self) -> RecoveryRegistry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _maybe_cleanup(self) -> None:
        interval = self.cleanup_interval
        if interval is not None and self._clock() - self._last_cleanup >= interval:
            self.cleanup_old_responses()
