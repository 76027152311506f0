"""The stored form of one stream: :class:`StreamRecord`, its JSON form and its changes.

A record is what survives a crash: who was asked (provider, model, base URL),
what was asked (the sanitized request body), how to continue (options such as
the resume strategy), what was already delivered (``chunks``, whose
concatenation is the committed text), and where the stream stands (status,
error, counters, native-resume handles, usage).

Backends keep records however they like, but a backend that writes bytes uses
:meth:`StreamRecord.to_dict` / :meth:`StreamRecord.from_dict` (or their JSON
forms) so that every value read back is validated in one place: a corrupted or
foreign value raises :class:`~streamrecover.core.errors.StorageError`, never a
``KeyError`` or ``TypeError`` (the validators are in
:mod:`streamrecover.storage.stored_json`). Nothing is ever pickled. The status
table and the checks backends make before writing are in
:mod:`streamrecover.storage.status`, re-exported here.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.core.redact import redact
from streamrecover.core.surrogates import replace_lone_surrogates
from streamrecover.storage.contribution import (
    Contribution,
    contributions_from_json,
    contributions_to_json,
)
from streamrecover.storage.owner import Owner
from streamrecover.storage.sanitize import redact_text, sanitize_mapping, sanitize_url

# The status table and the write checks live in storage.status; they are
# re-exported here, where backends and users have always imported them from.
from streamrecover.storage.status import (
    CLAIMABLE,
    STATUSES,
    TRANSITIONS,
    UNRENEWED_LEASE,
    Status,
    check_claim,
    check_epoch,
    check_transition,
)
from streamrecover.storage.stored_json import (
    JSONObject,
    _count,
    _field,
    _is_count,
    _is_int,
    _is_lease,
    _json_copy,
    _optional,
    _optional_int,
    _reject_unknown,
    _timestamp,
    _usage,
    decode_json,
    encode_json,
)

__all__ = [
    "CLAIMABLE",
    "RECORD_FORMAT",
    "STATUSES",
    "TRANSITIONS",
    "UNRENEWED_LEASE",
    "ProgressChanges",
    "RecordChanges",
    "RecordedError",
    "Status",
    "StreamRecord",
    "StreamSummary",
    "changes_to_json",
    "check_claim",
    "check_epoch",
    "check_transition",
    "decode_json",
    "encode_json",
    "new_record",
    "validate_changes",
]

#: Marker written by :meth:`StreamRecord.to_json`; a document without it is foreign.
RECORD_FORMAT = "streamrecover.record/1"

_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MAX_ERROR_MESSAGE = 2000


class ProgressChanges(TypedDict, total=False):
    """The counters and handles ``Storage.mark`` may change along with the status."""

    attempts: int
    resumes: int
    last_event_id: str | None
    sequence_number: int | None
    response_id: str | None
    usage: Mapping[str, int]
    providers: tuple[Contribution, ...]


class RecordChanges(ProgressChanges, total=False):
    """The fields ``Storage.update`` may change (``updated_at`` is always set by the storage).

    ``epoch`` is not among them: only ``Storage.claim`` changes it.
    """

    status: Status
    error: RecordedError | None
    owner: Owner | None
    lease: float | None
    storage_error: RecordedError | None


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

    Ownership (see ``Storage.claim``): ``owner`` is the process that writes the
    record (None when unknown), ``lease`` how many seconds after its last
    update the record still belongs to that writer (None: unstated, see
    :data:`UNRENEWED_LEASE`), and ``epoch`` the fencing token, incremented by
    every claim; a write that carries an older epoch is refused. A new record
    has epoch 0. ``storage_error`` is the last storage failure its writer met
    while streaming (the stream went on; text written while storage failed was
    written later, or, if storage never came back, was not durable).
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
    owner: Owner | None = None
    lease: float | None = None
    epoch: int = 0
    storage_error: RecordedError | None = None
    #: Every provider that served the stream, when it fell back (see
    #: :mod:`streamrecover.storage.contribution`); empty when only ``provider`` did.
    providers: tuple[Contribution, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_PATTERN.fullmatch(self.id):
            raise UsageError(f"a record id is 1-128 characters of [A-Za-z0-9_-], got {self.id!r}")
        if self.status not in STATUSES:
            raise UsageError(f"unknown status {self.status!r}; expected one of {STATUSES}")
        if not _is_lease(self.lease):
            raise UsageError(f"lease must be a positive number of seconds or None, "
                             f"got {self.lease!r}")
        if not _is_count(self.epoch):
            raise UsageError(f"epoch must be a non-negative int, got {self.epoch!r}")
        if self.owner is not None and not isinstance(self.owner, Owner):
            raise UsageError(f"owner must be an Owner or None, got {self.owner!r}")
        if any(not chunk.isascii() for chunk in self.chunks):
            # Text is always encodable: a lone surrogate becomes U+FFFD here,
            # so no backend ever meets one.
            object.__setattr__(
                self, "chunks", tuple(replace_lone_surrogates(chunk)[0] for chunk in self.chunks)
            )
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
            "owner": None if self.owner is None else self.owner.to_dict(),
            "lease": self.lease,
            "epoch": self.epoch,
            "storage_error": None if self.storage_error is None else self.storage_error.to_dict(),
            "providers": contributions_to_json(self.providers),
        }

    @classmethod
    def from_dict(cls, data: object) -> StreamRecord:
        """Validate ``data`` (as made by :meth:`to_dict`) and build the record.

        Raises StorageError naming the first field that is missing, unknown or of
        the wrong type. The ownership fields (``owner``, ``lease``, ``epoch``,
        ``storage_error``) came after the first format and may be absent: a
        record written before them has no owner, an unstated lease and epoch 0.
        """
        if not isinstance(data, dict):
            raise StorageError(f"stored record is not an object: {type(data).__name__}")
        _reject_unknown(data, _RECORD_FIELDS, "stored record")
        chunks = _field(data, "chunks", list)
        if not all(isinstance(chunk, str) for chunk in chunks):
            raise StorageError("stored record field 'chunks' holds a non-string")
        error = _optional(data, "error", dict)
        owner = data.get("owner")
        storage_error = data.get("storage_error")
        lease = data.get("lease")
        if not _is_lease(lease):
            raise StorageError(f"stored record field 'lease' is not a lease: {lease!r}")
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
                owner=None if owner is None else Owner.from_dict(owner),
                lease=None if lease is None else float(lease),
                epoch=_count(data, "epoch") if "epoch" in data else 0,
                storage_error=None if storage_error is None
                else RecordedError.from_dict(storage_error),
                # Added with fallbacks: a record from before has none.
                providers=contributions_from_json(data.get("providers")),
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
    owner: Owner | None = None,
    lease: float | None = None,
) -> StreamRecord:
    """Make a fresh ``active`` record with an unguessable id and both timestamps set to now.

    ``request`` is the provider's JSON body and ``options`` the recovery options
    (strategy and so on); both are deep-copied through JSON, so they must be
    JSON-able, and sanitized. ``record_id`` overrides the generated id
    (``secrets.token_urlsafe(16)``: 128 random bits, URL-safe). ``owner`` and
    ``lease`` say who writes the record and for how long an update keeps it
    theirs (see ``Storage.claim``); the epoch starts at 0.

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
        owner=owner,
        lease=lease,
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
    "owner": (lambda value: value is None or isinstance(value, Owner), "an Owner or None"),
    "lease": (_is_lease, "a positive number of seconds or None"),
    "storage_error": (lambda value: value is None or isinstance(value, RecordedError),
                      "a RecordedError or None"),
    "providers": (lambda value: isinstance(value, tuple)
                  and all(isinstance(item, Contribution) for item in value),
                  "a tuple of Contributions"),
}


def changes_to_json(changes: RecordChanges) -> JSONObject:
    """Return validated ``changes`` in the JSON form of :meth:`StreamRecord.to_dict`."""
    data: JSONObject = dict(changes)
    for name in ("error", "storage_error", "owner"):
        if name in data:
            value = data[name]
            data[name] = None if value is None else value.to_dict()
    if "providers" in data:
        data["providers"] = contributions_to_json(data["providers"])
    if data.get("lease") is not None:
        data["lease"] = float(data["lease"])
    return data
