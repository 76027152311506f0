"""A dropped space beside a number: ``"60"`` + ``"seconds"``, ``"on"`` + ``"2024-07-02"``.

Part of rule 3b of the stitcher (:mod:`~streamrecover.core.droppedspace`). Pure functions.
"""

from __future__ import annotations

import re

from streamrecover.core import lexicon
from streamrecover.core.gluedwords import FUNCTION_WORDS, is_letters, known, written

__all__ = [
    "LETTERS_DIGITS",
    "PURE_NUMBER",
    "SEPARATED_NUMBER",
    "SHORT_NAME",
    "name_then_word",
    "number_then_function_word",
    "number_then_word",
    "number_token",
    "unit_as_written",
    "unit_then_function_word",
    "word_then_name",
    "word_then_number",
]

#: Units and suffixes written glued to a number ("64bytes" is no dropped space).
_NUMBER_SUFFIXES = frozenset({"bytes", "byte", "bits", "kbps", "mbps", "gbps", "ghz", "mhz", "khz"})
#: A number with separators inside ("3.11.4", "2024-07-02", "1,200", "10:30").
SEPARATED_NUMBER = re.compile(r"\d+(?:[.,:\-]\d+)+")
PURE_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
#: A number as written between spaces: "3-5", "2.5", "1,200", a version "v22.4.0".
_NUMBER_TOKEN = re.compile(r"v?\d+(?:[.,:\-\u2013]\d+)*")
#: Marks that may open a number's token: "(3.12", "'2024".
_NUMBER_OPENING_MARKS = "([{\"'\u201c\u2018"
#: A name of letters then digits: "p95", "h2", "gpt4", "GPT4", "A100".
LETTERS_DIGITS = re.compile(r"[a-z]+\d[a-z\d]*|[A-Z]+\d[A-Z\d]*")
#: A short name of one or two letters and a number: "p99", "v2", "H100" (not "base64").
SHORT_NAME = re.compile(r"[a-z]{1,2}\d+|[A-Z]{1,2}\d+")
_LEADING_LETTERS = re.compile(r"[A-Za-z]+")
#: A unit: a few letters written after a number ("ms", "GB", "MiB", "fps").
_UNIT = re.compile(r"[^\W\d_]{1,4}")
#: Function words that are units too, glued to a number on purpose ("5in": inches).
_UNIT_WORDS = frozenset({"in"})
#: The longest stretch read back for the number ending the text.
_TOKEN_MAX = 40


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


def number_token(stripped: str) -> str | None:
    """The number ``stripped`` ends with, as written between spaces (``"3-5"``, ``"v22.4.0"``)."""
    tail = stripped[-_TOKEN_MAX:]
    start = len(tail)
    while start > 0 and not tail[start - 1].isspace():
        start -= 1
    token = tail[start:].lstrip(_NUMBER_OPENING_MARKS)
    if start == 0 and len(stripped) > len(tail):
        return None
    return token if _NUMBER_TOKEN.fullmatch(token) else None


def number_then_function_word(right: str) -> bool:
    """``"v22.4.0"`` + ``"on 2024-07-02"``: no function word is glued to a number."""
    return (
        len(right) >= 2 and right.islower() and right in FUNCTION_WORDS and right not in _UNIT_WORDS
    )


def unit_as_written(stripped: str, right: str) -> bool:
    """``"下载剩下的 1"`` + ``"GB"`` after ``"2.5 GB"``: a unit the answer writes spaced."""
    if not _UNIT.fullmatch(right):
        return False
    unit = re.escape(right) + r"(?![^\W_])"
    spaced = re.search(r"\d " + unit, stripped) is not None
    return spaced and re.search(r"\d" + unit, stripped) is None


def unit_then_function_word(stripped: str, start: int, left: str, right: str) -> bool:
    """``"3-5 ms"`` + ``"of overhead"``: a unit after a number, then a function word."""
    if start < 2 or stripped[start - 1] != " " or not stripped[start - 2].isdigit():
        return False
    if not _UNIT.fullmatch(left) or len(left) < 2:
        return False
    if not (len(right) >= 2 and right.islower() and right in FUNCTION_WORDS):
        return False
    return not known((left + right).casefold())


def word_then_name(stripped: str, left: str, right: str) -> bool:
    """``"The"`` + ``"p95 in ap-south-1"``: a function word glued to a name with digits.

    Not when the function word and the name's letters make a word (``"the"`` +
    ``"me2"`` is "theme2", ``"in"`` + ``"t64"`` is "int64").
    """
    if len(left) < 2 or left.casefold() not in FUNCTION_WORDS:
        return False
    if not (left.islower() or left.istitle()) or not LETTERS_DIGITS.fullmatch(right):
        return False
    letters = _LEADING_LETTERS.match(right)
    glued = (left + (letters.group() if letters else "")).casefold()
    if known(glued) or lexicon.is_technical(glued):
        return False
    return not written(stripped, left + right, whole=False)


def name_then_word(stripped: str, left: str, right: str) -> bool:
    """``"The p99"`` + ``"latency fell"``: a short name with digits, then a word.

    One or two letters and a number (a percentile, a version, a model) glued to a
    listed word of four letters or more; not a longer name (``"base64"`` +
    ``"encode"``, ``"ipv4"`` + ``"address"``), a technical word, nor what the answer
    wrote glued.
    """
    if not SHORT_NAME.fullmatch(left) or len(right) < 4 or not right.islower():
        return False
    if not lexicon.is_word(right) or lexicon.is_technical(right):
        return False
    return not written(stripped, left + right, whole=False)
