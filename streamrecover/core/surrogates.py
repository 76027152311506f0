"""Keep answer text encodable: join surrogate pairs split across deltas, replace lone halves.

A character outside the Basic Multilingual Plane (most emoji) is one code point
in Python but two UTF-16 code units, and JSON escapes it as a pair
(``"\\ud83d\\ude00"``, RFC 8259 section 7). A server or proxy that slices a
string by UTF-16 units can put the two halves in two SSE events; each decodes
to a lone surrogate, which no UTF-8 encoder accepts (storage, a terminal, a
socket all fail on it). :class:`SurrogateJoiner` holds a trailing high
surrogate until the next delta and joins the pair; a half that has no partner
becomes U+FFFD REPLACEMENT CHARACTER and is counted.
"""

from __future__ import annotations

import re

__all__ = ["REPLACEMENT", "SurrogateJoiner", "replace_lone_surrogates"]

REPLACEMENT = "\ufffd"

_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR_OR_HALF = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")


def _join(match: re.Match[str]) -> str:
    found = match.group()
    if len(found) == 2:
        high, low = ord(found[0]), ord(found[1])
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    return REPLACEMENT


def replace_lone_surrogates(text: str) -> tuple[str, int]:
    """Return ``text`` with each surrogate pair joined and each lone half as U+FFFD.

    The second value counts the halves replaced. Text without surrogates is
    returned as is (the check is one regular-expression scan).
    """
    if text.isascii() or _SURROGATE.search(text) is None:
        return text, 0
    replaced = 0

    def join(match: re.Match[str]) -> str:
        nonlocal replaced
        joined = _join(match)
        replaced += joined == REPLACEMENT
        return joined

    return _PAIR_OR_HALF.sub(join, text), replaced


class SurrogateJoiner:
    """Make every delta of a text encodable, across delta boundaries.

    :meth:`feed` takes one delta and returns what may be passed on (possibly
    empty: a delta that is just a high surrogate is held); :meth:`finish`
    returns what is held when no more text follows (a held half as U+FFFD);
    :meth:`reset` drops it (the attempt that sent it failed; the resume
    regenerates the character). ``replaced`` counts the halves replaced.
    """

    __slots__ = ("held", "replaced")

    def __init__(self) -> None:
        #: The high surrogate waiting for its partner, or "" (read-only).
        self.held = ""
        self.replaced = 0

    @property
    def holding(self) -> bool:
        """Whether a high surrogate waits for its partner."""
        return bool(self.held)

    def feed(self, text: str) -> str:
        """Return ``text`` (with any held half in front) made encodable, minus a trailing high
        surrogate, which is held for the next delta."""
        if self.held:
            text, self.held = self.held + text, ""
        elif text.isascii():
            return text
        if text and "\ud800" <= text[-1] <= "\udbff":
            text, self.held = text[:-1], text[-1]
        fixed, replaced = replace_lone_surrogates(text)
        self.replaced += replaced
        return fixed

    def finish(self) -> str:
        """Return what is held, as U+FFFD (a half whose partner never came), or ""."""
        if not self.held:
            return ""
        self.held = ""
        self.replaced += 1
        return REPLACEMENT

    def reset(self) -> None:
        """Forget what is held."""
        self.held = ""
