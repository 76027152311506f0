"""Rule 2j of the stitcher: a short repeat inside a date or a time, read by the formats written.

Dates, times and timestamps keep their format through an answer: a log
written ``"2024-11-02T10:15:01Z"`` writes its next line the same way. A repeat
of one or two digits at a cut inside such a number breaks a group's width
(``"2024-11-02T10"`` + ``"0:15:06Z"`` would write ``"T100:15"``; ``"2024-01"`` +
``"1-01"`` a month ``"011"``; ``"2025"`` + ``"25-01-01"`` a year ``"202525"``). When
exactly one reading of the number (keep the repeat, or remove it) has the
shape of a number the answer already wrote, that reading wins.

A *shape* writes each digit as ``9`` and keeps the rest (``"9999-99-99"``). Only
fixed-width formats decide: shapes with at least two of the separators ``- :
/`` and no run of two letters (dates, times, ISO timestamps; not versions
``"v20.15.1"``, addresses ``"10.0.0.1"`` or URLs ``"pull/292"``, whose widths
vary), and only when every number of that layout written before has one
shape. Ambiguities: a version or an address (``"Node.js 20"`` + ``"0.15.1"``)
keeps the word-blind reading (``"postgres:16"`` + ``"6.3"`` is rule 2k's: a run of
two digits is a number's last token); a date format the
answer changes midway (``"2024-1-5"`` after ``"2024-01-05"``) gives no opinion.
On the 173,568 exact continuations of real docs of :mod:`.doubling`'s scan the
rule alters none and mends 8 (MAC addresses, timestamps).
"""

from __future__ import annotations

import re

from streamrecover.core.shortrepeats import HOLD

__all__ = ["NumberFormats", "number_token_end", "number_token_start"]

#: A number-like token: letters, digits and the separators between them.
_TOKEN = re.compile(r"[0-9A-Za-z]+(?:[-:/.][0-9A-Za-z]+)*")
_TOKEN_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-:/.")
_FORMAT_SEPARATORS = frozenset("-:/")
_DIGITS = re.compile(r"[0-9]")
_LETTER_RUN = re.compile(r"[A-Za-z]{2}")


def _shape(token: str) -> str:
    return _DIGITS.sub("9", token.casefold())


def _layout(shape: str) -> str:
    """The shape with each run of digits written once: ``"9999-99-99"`` -> ``"9-9-9"``."""
    return re.sub("9+", "9", shape)


def _is_format(token: str) -> bool:
    return (
        sum(ch in _FORMAT_SEPARATORS for ch in token) >= 2
        and any(ch.isdigit() for ch in token)
        and not _LETTER_RUN.search(token)
    )


def number_token_start(text: str) -> int:
    """Where the number-like token that ends ``text`` starts."""
    start = len(text)
    while start > 0 and text[start - 1] in _TOKEN_CHARS:
        start -= 1
    return start


def number_token_end(text: str) -> int:
    """Where the number-like token that opens ``text`` ends (``len(text)``: it may go on)."""
    end = 0
    while end < len(text) and text[end] in _TOKEN_CHARS:
        end += 1
    return end


class NumberFormats:
    """The fixed-width number formats a text wrote: one shape per layout."""

    __slots__ = ("_shapes", "_start", "_stripped")

    def __init__(self, stripped: str, tail_start: int) -> None:
        """Read the formats written in ``stripped[tail_start:]`` before the number at its end."""
        self._stripped = stripped
        self._start = number_token_start(stripped)
        shapes: dict[str, str | None] = {}
        for token in _TOKEN.findall(stripped, tail_start, max(tail_start, self._start)):
            if not _is_format(token):
                continue
            shape = _shape(token)
            layout = _layout(shape)
            known = shapes.get(layout, shape)
            shapes[layout] = shape if known == shape else None  # None: widths vary
        self._shapes = shapes

    def choose(
        self, held: str, lengths: list[int], chosen: int, *, at_end: bool, window: int
    ) -> int:
        """Rule 2j on the continuation ``held``: the reading to take, or ``HOLD``.

        ``chosen`` is what the other rules chose; it stands unless exactly one
        reading of a 1-2 character repeat has a written format.
        """
        stripped = self._stripped
        last = stripped[-1]
        if not (last.isdigit() or (last in "-:/" and stripped[-2:-1].isdigit())):
            return chosen
        end = number_token_end(held)
        if end == len(held) and not at_end:
            return HOLD if len(held) < window else chosen
        start = self._start
        short = [length for length in lengths if length <= 2 and length <= len(stripped) - start]
        reading = self.reading(stripped[start:], held[:end], short)
        return chosen if reading is None else reading

    def fits(self, token: str) -> bool | None:
        """Whether ``token`` has the one shape written for its layout (``None``: no such format)."""
        token = token.rstrip("-:/.")
        if not _is_format(token):
            return None
        shape = _shape(token)
        known = self._shapes.get(_layout(shape))
        if known is None:
            return None
        return known == shape

    def reading(self, before: str, after: str, lengths: list[int]) -> int | None:
        """The one reading ``before + after[length:]`` (``length``: 0 or in ``lengths``) that fits.

        ``before`` is the token's start in the committed text, ``after`` the
        continuation's token. ``None`` unless exactly one reading has the
        written shape and another has a shape of that format that was not written.
        """
        fitting = []
        misfits = 0
        for length in [*lengths, 0]:
            verdict = self.fits(before + after[length:])
            if verdict:
                fitting.append(length)
            elif verdict is False:
                misfits += 1
        if len(fitting) == 1 and misfits:
            return fitting[0]
        return None
