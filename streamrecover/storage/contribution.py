"""Who served a stream: one :class:`Contribution` per provider that took it over.

A stream that fell back (see :mod:`streamrecover.fallback_chain`) was answered
by more than one provider. Its record keeps them in order, in
``StreamRecord.providers``: the first entry is the provider the stream started
on (offset 0), every later one the fallback that took over at ``offset``
characters of committed text, with ``cause``, why the one before it gave up.
A record of a stream that never fell back has no entries (its ``provider``
and ``model`` say everything). The last entry is who serves the stream now,
and who ``Client.resume`` continues on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage.sanitize import redact_text, sanitize_url

__all__ = ["Contribution", "contributions_from_json", "contributions_to_json"]

_MAX_CAUSE = 500
_FIELDS = frozenset({"provider", "model", "base_url", "offset", "cause"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Contribution:
    """One provider's part of a stream.

    ``provider`` and ``model`` name it, ``base_url`` is its endpoint (no
    credential: sanitized like the record's), ``offset`` is the length of the
    committed text (in characters) when it took over, ``cause`` why the
    provider before it gave up (its verdict and last fault, redacted; empty
    for the first).
    """

    provider: str
    model: str
    base_url: str = ""
    offset: int = 0
    cause: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.provider, str) or not self.provider:
            raise UsageError(f"a contribution needs a provider name, got {self.provider!r}")
        if not isinstance(self.model, str):
            raise UsageError(f"a contribution's model is a string, got {self.model!r}")
        if not isinstance(self.offset, int) or isinstance(self.offset, bool) or self.offset < 0:
            raise UsageError(f"a contribution's offset is a non-negative int, got {self.offset!r}")
        if not isinstance(self.base_url, str):
            raise UsageError(f"a contribution's base_url is a string, got {self.base_url!r}")
        if not isinstance(self.cause, str):
            raise UsageError(f"a contribution's cause is a string, got {self.cause!r}")
        # A fault's message may quote a URL with ?key=...: scrubbed before storage.
        object.__setattr__(self, "cause", redact_text(self.cause)[:_MAX_CAUSE])
        object.__setattr__(self, "base_url", sanitize_url(self.base_url))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"provider", "model", "base_url", "offset", "cause"}``."""
        return {
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "offset": self.offset,
            "cause": self.cause,
        }

    @classmethod
    def from_dict(cls, data: object) -> Contribution:
        """Read the JSON form back. Raises StorageError if it is not one."""
        if not isinstance(data, dict) or set(data) != _FIELDS:
            raise StorageError(f"stored contribution is not a {sorted(_FIELDS)} object: {data!r}")
        try:
            return cls(
                provider=data["provider"],
                model=data["model"],
                base_url=data["base_url"],
                offset=data["offset"],
                cause=data["cause"],
            )
        except UsageError as exc:
            raise StorageError(f"stored contribution is invalid: {exc}") from exc


def contributions_to_json(contributions: Iterable[Contribution]) -> list[dict[str, Any]]:
    """The JSON form of a record's ``providers``."""
    return [contribution.to_dict() for contribution in contributions]


def contributions_from_json(data: object) -> tuple[Contribution, ...]:
    """Read a record's ``providers`` back (None or absent: a record from before fallbacks).

    Raises StorageError if it is not a list of contributions.
    """
    if data is None:
        return ()
    if not isinstance(data, list):
        raise StorageError(f"stored record field 'providers' is not a list: {data!r}")
    return tuple(Contribution.from_dict(item) for item in data)
