"""What the text around a seam says: words at the cut, code, the answer's language.

Shared by the readings of a dropped space (:mod:`~streamrecover.core.droppedspace`,
:mod:`~streamrecover.core.gluedmarks`, :mod:`~streamrecover.core.gluednumbers`).
Pure functions; the language is judged by :mod:`streamrecover.core.lexicon`.
"""

from __future__ import annotations

import re

from streamrecover.core import lexicon
from streamrecover.core.gluedwords import APOSTROPHES, fold_accents

__all__ = [
    "NAME_SIGNS",
    "WORDS",
    "english",
    "in_fence",
    "in_inline_code",
    "in_prose",
    "line_start",
    "token_end",
    "token_start",
]

#: How far back the answer is read for its language and its code context.
_CONTEXT = 2000
#: What, before the word at the cut, marks a name, a path or a number, not prose.
NAME_SIGNS = frozenset("_./\\@$#-~=:+*&%^|<>[{")
WORDS = re.compile(r"[^\W\d_]+")
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)", re.MULTILINE)
_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~).*$", re.MULTILINE)


def token_end(text: str, start: int) -> int:
    """End of the word starting at ``start``: letters, digits, ``_``, apostrophes inside."""
    position = start
    size = len(text)
    while position < size:
        ch = text[position]
        if (
            ch.isalnum()
            or ch == "_"
            or (
                ch in APOSTROPHES
                and position > start
                and position + 1 < size
                and text[position + 1].isalpha()
            )
        ):
            position += 1
        else:
            break
    return position


def token_start(text: str, end: int) -> int:
    """Start of the word ending at ``end`` (the same characters as :func:`token_end`)."""
    position = end
    while position > 0:
        ch = text[position - 1]
        if (
            ch.isalnum()
            or ch == "_"
            or (
                ch in APOSTROPHES
                and position < end
                and position >= 2
                and text[position - 2].isalpha()
                and text[position].isalpha()
            )
        ):
            position -= 1
        else:
            break
    return position


def in_fence(stripped: str) -> bool:
    """Whether ``stripped`` ends inside a fenced code block."""
    return len(_FENCE.findall(stripped)) % 2 == 1


def in_inline_code(stripped: str) -> bool:
    """Whether the paragraph ``stripped`` ends in has an open inline code span (fences aside)."""
    paragraph = _FENCE_LINE.sub("", stripped[stripped.rfind("\n\n") + 1 :])
    return paragraph.count("`") % 2 == 1


def english(stripped: str) -> bool:
    """Whether the answer's last words are mostly English (accents aside: "naïve", "façade")."""
    words = WORDS.findall(stripped[-_CONTEXT:])
    return bool(words) and lexicon.is_mostly_english(map(_as_listed, words[-80:]))


def _as_listed(word: str) -> str:
    """``word``, or its accents aside when only that form is listed ("naïve"; not "café")."""
    folded = fold_accents(word)
    return word if folded == word or lexicon.is_word(word) else folded


def line_start(stripped: str, position: int) -> int:
    return stripped.rfind("\n", 0, position) + 1


def in_prose(stripped: str) -> bool:
    """Neither code (a fence, an inline code span) nor a language the word list cannot judge."""
    return not in_fence(stripped) and not in_inline_code(stripped) and english(stripped)
