"""The stored form of one stream: :class:`StreamRecord`, its JSON codec and its status table.

A record is what survives a crash: who was asked (provider, model, base URL),
what was asked (the sanitized request body), how to continue (options such as
the resume strategy), what was already delivered (``chunks``, whose
concatenation is the committed text), and where the stream stands (status,
error, counters, native-resume handles, usage).

Backends keep records however they like, but a backend that writes bytes uses
:meth:`StreamRecord.to_dict` / :meth:`StreamRecord.from_dict` (or their JSON
forms) so that every value read back is validated in one place: a corrupted or
foreign value raises :class:`~streamrecover.core.errors.StorageError`, never a
``KeyError`` or ``TypeError``. Nothing is ever pickled.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, cast, get_args

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.core.redact import redact
from streamrecover.storage.errors import StatusConflictError
from streamrecover.storage.sanitize import redact_text, sanitize_mapping, sanitize_url

__all__ = [
    "CLAIMABLE",
    "RECORD_FORMAT",
    "STATUSES",
    "TRANSITIONS",
    "ProgressChanges",
    "RecordChanges",
    "RecordedError",
    "Status",
    "StreamRecord",
    "StreamSummary",
    "changes_to_json",
    "check_claim",
    "check_transition",
    "new_record",
    "validate_changes",
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

#: Marker written by :meth:`StreamRecord.to_json`; a document without it is foreign.
RECORD_FORMAT = "streamrecover.record/1"

_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MAX_ERROR_MESSAGE = 2000

JSONObject = dict[str, Any]


class ProgressChanges(TypedDict, total=False):
    """The counters and handles ``Storage.mark`` may change along with the status."""

    attempts: int
    resumes: int
    last_event_id: str | None
    sequence_number: int | None
    response_id: str | None
    usage: Mapping[str, int]


class RecordChanges(ProgressChanges, total=False):
    """The fields ``Storage.update`` may change (``updated_at`` is always set by the storage)."""

    status: Status
    error: RecordedError | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedError:
    """Why a stream stopped: the exception's class name, its (redacted) message, and
    whether a later resume may succeed."""

    type: str
    message: str
    recoverable: bool

    def __post_init__(self) -> None:
        # The message may quote a URL with ?key=... or an error body; scrub it here
        # so that no construction path can carry a credential to storage.
        object.__setattr__(self, "message", redact_text(self.message)[:_MAX_ERROR_MESSAGE])

    @classmethod
    def from_exception(cls, exc: BaseException, *, recoverable: bool) -> RecordedError:
        """Describe ``exc`` for storage; ``recoverable`` says whether resuming later may help."""
        return cls(type=type(exc).__name__, message=str(exc), recoverable=recoverable)

    def to_dict(self) -> JSONObject:
        """Return the JSON form: ``{"type", "message", "recoverable"}``."""
        return {"type": self.type, "message": self.message, "recoverable": self.recoverable}

    @classmethod
    def from_dict(cls, data: object) -> RecordedError:
        """Read the JSON form back. Raises StorageError if it is not one."""
        if not isinstance(data, dict):
            raise StorageError(f"stored error is not an object: {type(data).__name__}")
        _reject_unknown(data, {"type", "message", "recoverable"}, "stored error")
        return cls(
            type=_field(data, "type", str),
            message=_field(data, "message", str),
            recoverable=_field(data, "recoverable", bool),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamRecord:
    """One stored stream. Build new ones with :func:`new_record`.

    ``request`` and ``options`` are JSON objects; credentials are removed from
    them, and from ``base_url``, when the record is built (see
    :mod:`streamrecover.storage.sanitize`). ``chunks`` are the pieces of the
    committed text as the storage keeps them (one per ``append`` call); their
    boundaries carry no meaning, only ``text`` does. Timestamps are seconds since
    the epoch from the storage's clock.
    """

    id: str
    provider: str
    model: str
    base_url: str = ""
    request: JSONObject = field(default_factory=dict, hash=False)
    options: JSONObject = field(default_factory=dict, hash=False)
    chunks: tuple[str, ...] = ()
    status: Status = "active"
    error: RecordedError | None = None
    attempts: int = 0
    resumes: int = 0
    created_at: float
    updated_at: float
    last_event_id: str | None = None
    sequence_number: int | None = None
    response_id: str | None = None
    usage: dict[str, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_PATTERN.fullmatch(self.id):
            raise UsageError(f"a record id is 1-128 characters of [A-Za-z0-9_-], got {self.id!r}")
        if self.status not in STATUSES:
            raise UsageError(f"unknown status {self.status!r}; expected one of {STATUSES}")
        # Sanitizing here, not in each backend, is what makes "no credential is
        # ever written" hold for third-party backends too.
        object.__setattr__(self, "base_url", sanitize_url(self.base_url))
        object.__setattr__(self, "request", sanitize_mapping(self.request))
        object.__setattr__(self, "options", sanitize_mapping(self.options))

    @property
    def text(self) -> str:
        """The committed text: everything the consumer has been given, in order."""
        return "".join(self.chunks)

    def __repr__(self) -> str:
        # Short (no request, no text) and redacted like every repr of the library.
        return redact(
            f"StreamRecord(id={self.id!r}, provider={self.provider!r}, model={self.model!r}, "
            f"base_url={self.base_url!r}, status={self.status!r}, attempts={self.attempts}, "
            f"text_length={sum(len(chunk) for chunk in self.chunks)})"
        )

    def summary(self, text_length: int | None = None) -> StreamSummary:
        """Return the light view of this record (no request, no text).

        ``text_length`` overrides the length computed from ``chunks`` (for a
        backend that holds the record without its text).
        """
        return StreamSummary(
            id=self.id,
            provider=self.provider,
            model=self.model,
            status=self.status,
            error=self.error,
            attempts=self.attempts,
            resumes=self.resumes,
            created_at=self.created_at,
            updated_at=self.updated_at,
            text_length=(
                sum(len(chunk) for chunk in self.chunks) if text_length is None else text_length
            ),
        )

    def to_dict(self) -> JSONObject:
        """Return the record as a JSON-able dict (every field; ``error`` as an object)."""
        return {
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "request": self.request,
            "options": self.options,
            "chunks": list(self.chunks),
            "status": self.status,
            "error": None if self.error is None else self.error.to_dict(),
            "attempts": self.attempts,
            "resumes": self.resumes,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_event_id": self.last_event_id,
            "sequence_number": self.sequence_number,
            "response_id": self.response_id,
            "usage": dict(self.usage),
        }

    @classmethod
    def from_dict(cls, data: object) -> StreamRecord:
        """Validate ``data`` (as made by :meth:`to_dict`) and build the record.

        Raises StorageError naming the first field that is missing, unknown or of
        the wrong type.
        """
        if not isinstance(data, dict):
            raise StorageError(f"stored record is not an object: {type(data).__name__}")
        _reject_unknown(data, _RECORD_FIELDS, "stored record")
        chunks = _field(data, "chunks", list)
        if not all(isinstance(chunk, str) for chunk in chunks):
            raise StorageError("stored record field 'chunks' holds a non-string")
        error = _optional(data, "error", dict)
        try:
            return cls(
                id=_field(data, "id", str),
                provider=_field(data, "provider", str),
                model=_field(data, "model", str),
                base_url=_field(data, "base_url", str),
                request=_field(data, "request", dict),
                options=_field(data, "options", dict),
                chunks=tuple(chunks),
                status=cast(Status, _field(data, "status", str)),
                error=None if error is None else RecordedError.from_dict(error),
                attempts=_count(data, "attempts"),
                resumes=_count(data, "resumes"),
                created_at=_timestamp(data, "created_at"),
                updated_at=_timestamp(data, "updated_at"),
                last_event_id=_optional(data, "last_event_id", str),
                sequence_number=_optional_int(data, "sequence_number"),
                response_id=_optional(data, "response_id", str),
                usage=_usage(_field(data, "usage", dict), StorageError),
            )
        except UsageError as exc:  # an invalid id or status read from storage
            raise StorageError(f"stored record is invalid: {exc}") from exc

    def to_json(self) -> str:
        """Return the record as one JSON document tagged with :data:`RECORD_FORMAT`."""
        return json.dumps({"format": RECORD_FORMAT, **self.to_dict()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, document: str | bytes) -> StreamRecord:
        """Parse a document made by :meth:`to_json`. Raises StorageError if it is not one."""
        data = decode_json(document, "stored record")
        if not isinstance(data, dict) or data.pop("format", None) != RECORD_FORMAT:
            raise StorageError(f"not a {RECORD_FORMAT} document")
        return cls.from_dict(data)


_RECORD_FIELDS = frozenset(StreamRecord.__dataclass_fields__)


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSummary:
    """What ``Storage.summaries`` returns: a record without its request and text.

    ``text_length`` is the length of the committed text in characters.
    """

    id: str
    provider: str
    model: str
    status: Status
    error: RecordedError | None
    attempts: int
    resumes: int
    created_at: float
    updated_at: float
    text_length: int


def _new_id() -> str:
    # 128 random bits, URL-safe; never starting with "-", which a command line
    # would read as an option.
    while True:
        candidate = secrets.token_urlsafe(16)
        if not candidate.startswith("-"):
            return candidate


def new_record(
    *,
    provider: str,
    model: str,
    request: Mapping[str, Any],
    base_url: str = "",
    options: Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.time,
    record_id: str | None = None,
) -> StreamRecord:
    """Make a fresh ``active`` record with an unguessable id and both timestamps set to now.

    ``request`` is the provider's JSON body and ``options`` the recovery options
    (strategy and so on); both are deep-copied through JSON, so they must be
    JSON-able, and sanitized. ``record_id`` overrides the generated id
    (``secrets.token_urlsafe(16)``: 128 random bits, URL-safe).

    Raises UsageError if ``request`` or ``options`` is not JSON-able or the id is invalid.
    """
    now = clock()
    return StreamRecord(
        id=record_id if record_id is not None else _new_id(),
        provider=provider,
        model=model,
        base_url=base_url,
        request=_json_copy(request, "request"),
        options=_json_copy(options or {}, "options"),
        created_at=now,
        updated_at=now,
    )


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
    record_id: str, current: str, updated_at: float, now: float, stale_after: float
) -> None:
    """Raise StatusConflictError unless a resumer may claim a record now (``Storage.claim``).

    ``current`` and ``updated_at`` are the record's stored status and last
    change, ``now`` the storage clock. Claimable: an ``interrupted`` or
    ``failed`` record, and an ``active`` one not updated for at least
    ``stale_after`` seconds (its writer is presumed dead). A timestamp in the
    future (clock skew between machines) counts as "just updated", so that
    ``stale_after=0`` claims any active record. Backends call this inside the
    transaction that writes the claim.
    """
    if current == "active":
        silent_for = max(0.0, now - updated_at)
        if silent_for >= stale_after:
            return
        raise StatusConflictError(
            record_id, current, "active",
            f"it was updated {silent_for:.3g} s ago, so another process may still be "
            f"streaming it; it is presumed abandoned after {stale_after:.3g} s without an "
            "update (claim it with force if you know its writer is dead)",
        )
    if current in CLAIMABLE:
        return
    if current not in TRANSITIONS:
        raise StorageError(f"stream {record_id!r} has an unknown stored status {current!r}")
    raise StatusConflictError(
        record_id, current, "active",
        f"only {sorted(CLAIMABLE)} or stale 'active' streams can be resumed",
    )


def validate_changes(changes: Mapping[str, object]) -> RecordChanges:
    """Check the keyword arguments of ``Storage.update`` and return them normalized.

    Raises UsageError for an unknown field or a value of the wrong type.
    """
    unknown = set(changes) - set(_CHANGE_CHECKS)
    if unknown:
        raise UsageError(f"cannot update {sorted(unknown)}; updatable fields: "
                         f"{sorted(_CHANGE_CHECKS)}")
    clean: dict[str, object] = {}
    for name, value in changes.items():
        check, expectation = _CHANGE_CHECKS[name]
        if not check(value):
            raise UsageError(f"{name} must be {expectation}, got {value!r}")
        clean[name] = _usage(value, UsageError) if name == "usage" else value
    return cast(RecordChanges, clean)


def _is_count(value: object) -> bool:
    return _is_int(value) and cast(int, value) >= 0


# field -> (accepts the value?, what it expects): the runtime side of RecordChanges.
_CHANGE_CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "status": (lambda value: value in STATUSES, f"one of {STATUSES}"),
    "error": (lambda value: value is None or isinstance(value, RecordedError),
              "a RecordedError or None"),
    "attempts": (_is_count, "a non-negative int"),
    "resumes": (_is_count, "a non-negative int"),
    "sequence_number": (lambda value: value is None or _is_int(value), "an int or None"),
    "last_event_id": (lambda value: value is None or isinstance(value, str), "a str or None"),
    "response_id": (lambda value: value is None or isinstance(value, str), "a str or None"),
    "usage": (lambda value: isinstance(value, Mapping), "a mapping of names to ints"),
}


def changes_to_json(changes: RecordChanges) -> JSONObject:
    """Return validated ``changes`` in the JSON form of :meth:`StreamRecord.to_dict`."""
    data: JSONObject = dict(changes)
    if "error" in changes:
        error = changes["error"]
        data["error"] = None if error is None else error.to_dict()
    return data


def decode_json(document: str | bytes, what: str) -> Any:
    """``json.loads`` that raises StorageError (naming ``what``) instead of ValueError."""
    try:
        return json.loads(document)
    except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise StorageError(f"{what} is not valid JSON: {exc}") from exc


def encode_json(value: Any) -> str:
    """``json.dumps`` for storage: compact, UTF-8 text, no NaN (not JSON)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# -- validation helpers ------------------------------------------------------------------


def _json_copy(value: Mapping[str, Any], what: str) -> JSONObject:
    try:
        copied = json.loads(encode_json(value))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{what} must be a JSON-able object: {exc}") from exc
    if not isinstance(copied, dict):
        raise UsageError(f"{what} must be a JSON object, got {type(value).__name__}")
    return copied


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reject_unknown(data: Mapping[str, object], known: Iterable[str], what: str) -> None:
    unknown = set(data).difference(known)
    if unknown:
        raise StorageError(f"{what} has unknown fields {sorted(unknown)}")


def _field(data: Mapping[str, object], name: str, kind: type[Any]) -> Any:
    if name not in data:
        raise StorageError(f"stored record lacks field {name!r}")
    value = data[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise StorageError(
            f"stored record field {name!r} should be {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _optional(data: Mapping[str, object], name: str, kind: type[Any]) -> Any:
    # Present but possibly null: a missing key means the document is not ours.
    if name not in data:
        raise StorageError(f"stored record lacks field {name!r}")
    return None if data[name] is None else _field(data, name, kind)


def _optional_int(data: Mapping[str, object], name: str) -> int | None:
    return cast("int | None", _optional(data, name, int))


def _count(data: Mapping[str, object], name: str) -> int:
    value = cast(int, _field(data, name, int))
    if value < 0:
        raise StorageError(f"stored record field {name!r} is negative")
    return value


def _timestamp(data: Mapping[str, object], name: str) -> float:
    value = data.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise StorageError(f"stored record field {name!r} should be a number, got {value!r}")
    if not math.isfinite(value):
        raise StorageError(f"stored record field {name!r} is not finite")
    return float(value)


def _usage(value: object, error: type[Exception]) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(name, str) and _is_int(count) for name, count in value.items()
    ):
        raise error(f"usage must map token-count names to ints, got {value!r}")
    return dict(value)
