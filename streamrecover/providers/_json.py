"""Decoding and shape-checking of the JSON carried by SSE data lines.

Every provider parser derives from :class:`JSONStreamParser`. Its accessors
check one field each and raise a :class:`ProviderProtocolError` that names the
provider, the field and the offending event, so that a frame of the wrong shape
never escapes as a bare ``KeyError`` or ``TypeError`` and is never silently
skipped. They are plain ``type(...) is`` tests: cheap enough for the per-event
hot path, where a ``try``/``except`` around everything would hide real bugs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from streamrecover.core.errors import ProviderProtocolError
from streamrecover.core.events import TextDelta
from streamrecover.providers.base import StreamParser

__all__ = ["EXCERPT_CHARS", "JSONStreamParser", "excerpt", "new_event", "set_text"]

#: How much of an offending event's data an error message quotes.
EXCERPT_CHARS = 200

_json_loads = json.loads
# The C scanner that json.loads itself runs (through JSONDecoder.raw_decode),
# called directly: json.loads adds a type check, a whitespace match on each
# side and two Python frames, about a third of its cost on a small payload.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads(data: str) -> Any:
    """``json.loads(data)``, exactly: the same value, the same errors.

    The scanner is tried from the first character; only when it consumes the
    whole string is its value returned. Anything else (whitespace around the
    value, a BOM, extra data, no value at all) goes through ``json.loads``,
    which accepts or raises as it always does. Errors the scanner raises itself
    (bad escapes, control characters, recursion) are the ones json.loads
    raises, because json.loads runs the same scanner.
    """
    try:
        value, end = _scan_once(data, 0)
    except StopIteration:
        return _json_loads(data)
    if end != len(data):
        return _json_loads(data)
    return value


# A TextDelta built through its frozen dataclass __init__ costs a keyword
# call and an object.__setattr__; one TextDelta is made per event, so the hot
# paths make it from its parts: a bare instance and a store into its one slot
# (the slot's own descriptor, which the frozen __setattr__ does not guard). The
# result is an ordinary TextDelta (``event = new_event(TextDelta);
# set_text(event, text)``); a test checks that it equals, hashes and
# prints like one built by the constructor.
new_event: Callable[[type[TextDelta]], TextDelta] = object.__new__
set_text: Callable[[TextDelta, str], None] = TextDelta.__dict__["text"].__set__


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Return ``text`` cut to ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[:limit] + "..."


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


class JSONStreamParser(StreamParser):
    """A parser whose events carry one JSON object each in their data."""

    def _bad(self, message: str) -> ProviderProtocolError:
        """Return the protocol error for the event being mapped."""
        event = self._event
        return ProviderProtocolError(
            message, provider=self.provider, event=f"{event.event}: {excerpt(event.data)}"
        )

    def _decode(self, data: str) -> dict[str, Any]:
        """Parse ``data`` (the event's data) as one JSON object.

        Raises:
            ProviderProtocolError: malformed JSON, or JSON that is not an object.
        """
        try:
            # _loads, inline: this runs once per event.
            try:
                value, end = _scan_once(data, 0)
            except StopIteration:
                value = _json_loads(data)
            else:
                if end != len(data):
                    value = _json_loads(data)
        except ValueError as exc:  # json.JSONDecodeError, or a bad surrogate
            raise self._bad(f"malformed JSON in data: {exc}") from exc
        except RecursionError as exc:
            raise self._bad("JSON nested too deeply") from exc
        if type(value) is not dict:
            raise self._bad(f"expected a JSON object, got {_type_name(value)}")
        return value

    # -- required fields ----------------------------------------------------------

    def _dict(self, obj: dict[str, Any], key: str) -> dict[str, Any]:
        value = obj.get(key)
        if type(value) is not dict:
            raise self._wrong(obj, key, "an object")
        return value

    def _list(self, obj: dict[str, Any], key: str) -> list[Any]:
        value = obj.get(key)
        if type(value) is not list:
            raise self._wrong(obj, key, "an array")
        return value

    def _str(self, obj: dict[str, Any], key: str) -> str:
        value = obj.get(key)
        if type(value) is not str:
            raise self._wrong(obj, key, "a string")
        return value

    def _int(self, obj: dict[str, Any], key: str) -> int:
        value = obj.get(key)
        if type(value) is not int:
            raise self._wrong(obj, key, "an integer")
        return value

    # -- optional fields: absent and null give the default ------------------------

    def _opt_dict(self, obj: dict[str, Any], key: str) -> dict[str, Any] | None:
        value = obj.get(key)
        if value is None or type(value) is dict:
            return value
        raise self._wrong(obj, key, "an object")

    def _opt_list(self, obj: dict[str, Any], key: str) -> list[Any]:
        value = obj.get(key)
        if value is None:
            return []
        if type(value) is list:
            return value
        raise self._wrong(obj, key, "an array")

    def _opt_str(self, obj: dict[str, Any], key: str) -> str:
        value = obj.get(key)
        if value is None:
            return ""
        if type(value) is str:
            return value
        raise self._wrong(obj, key, "a string")

    def _opt_int(self, obj: dict[str, Any], key: str) -> int | None:
        value = obj.get(key)
        if value is None or type(value) is int:
            return value
        raise self._wrong(obj, key, "an integer")

    def _count(self, obj: dict[str, Any] | None, key: str) -> int:
        """Return a token count (absent or null: 0)."""
        if obj is None:
            return 0
        value = obj.get(key)
        if value is None:
            return 0
        if type(value) is int and value >= 0:
            return value
        raise self._wrong(obj, key, "a non-negative integer")

    def _item(self, value: Any, what: str) -> dict[str, Any]:
        """Check that an array element ``value`` (described by ``what``) is an object."""
        if type(value) is not dict:
            raise self._bad(f"{what} must be an object, got {_type_name(value)}")
        return value

    def _wrong(self, obj: dict[str, Any], key: str, expected: str) -> ProviderProtocolError:
        if key not in obj:
            return self._bad(f"missing field {key!r}")
        return self._bad(f"field {key!r} must be {expected}, got {_type_name(obj[key])}")
