"""JSON as storage keeps it: the codec, and the checks a value read back passes.

:func:`encode_json` and :func:`decode_json` are what every byte-writing backend
uses (compact UTF-8 text, no NaN; a bad document is a StorageError). The
underscored helpers are :class:`~streamrecover.storage.record.StreamRecord`'s
validators: each names the field that is missing or of the wrong type, so a
corrupted or foreign value raises StorageError, never ``KeyError`` or
``TypeError``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, cast

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.core.surrogates import replace_lone_surrogates

__all__ = ["JSONObject", "decode_json", "encode_json"]

JSONObject = dict[str, Any]


def _is_count(value: object) -> bool:
    return _is_int(value) and cast(int, value) >= 0


def _is_lease(value: object) -> bool:
    return value is None or (
        isinstance(value, int | float) and not isinstance(value, bool)
        and 0 < value < 1e18  # finite, and a float (an int of 400 digits is not)
    )


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
        # A lone surrogate in the request (a pasted half of an emoji) would make
        # the record unstorable as UTF-8: it becomes U+FFFD, like any text.
        copied = json.loads(replace_lone_surrogates(encode_json(value))[0])
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
