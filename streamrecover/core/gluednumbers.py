"""A dropped space beside a number: ``"60"`` + ``"seconds"``, ``"on"`` + ``"2024-07-02"``.

Part of rule 3b of the stitcher (:mod:`~streamrecover.core.droppedspace`). Pure functions.
"""

from __future__ import annotations

import re

from streamrecover.core import lexicon
from streamrecover.core.gluedwords import is_letters, written

__all__ = ["PURE_NUMBER", "SEPARATED_NUMBER", "number_then_word", "word_then_number"]

#: Units and suffixes written glued to a number ("64bytes" is no dropped space).
_NUMBER_SUFFIXES = frozenset({"bytes", "byte", "bits", "kbps", "mbps", "gbps", "ghz", "mhz", "khz"})
#: A number with separators inside ("3.11.4", "2024-07-02", "1,200", "10:30").
SEPARATED_NUMBER = re.compile(r"\d+(?:[.,:\-]\d+)+")
PURE_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def number_then_word(stripped: str, start: int, right: str) -> bool:
    """``"60"`` + ``"seconds"``: a number glued to a word of four letters or more."""
    before = stripped[start - 1] if start > 0 else ""
    if before.isalpha() or not is_letters(right) or not right.islower():
        return False
    if len(right) < 4 or right in _NUMBER_SUFFIXES or not lexicon.is_word(right):
        return False
    return not written(stripped, stripped[start:] + right)


def word_then_number(stripped: str, left: str, right: str, follower: str) -> bool:
    """``"on"`` + ``"2024-07-02"``: a word glued to a number with separators inside."""
    if len(left) < 2 or not lexicon.is_word(left) or not lexicon.is_common(left):
        return False
    if follower == "-" or follower.isalnum():
        return False  # "python3.11-dev": a name
    return not written(stripped, left + right)
