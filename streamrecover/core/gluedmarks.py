"""A dropped space before a mark: an operator, a dash, an opening quote or backquote.

Part of rule 3b of the stitcher (:mod:`~streamrecover.core.droppedspace`): the
continuation opens with a mark glued to the word the model saw last. Marks
written with a space on both sides (``"self.items"`` + ``"= []"``, ``"private
key"`` + ``"\u2014 and"``; not ``"--prefix"`` + ``"= when"``, ``"PrivateNetwork"`` +
``"= in"``), and opening marks after a word: a backquote outside code
(``"with"`` + ``"`sudo`"``), a double quote outside a quotation, ``\u201e`` or
``\u00ab``. Pure functions.
"""

from __future__ import annotations

from streamrecover.core.gluedwords import (
    FUNCTION_WORD_MAX,
    FUNCTION_WORDS,
    counts_as_word,
    is_letters,
)
from streamrecover.core.seamcontext import (
    NAME_SIGNS,
    WORDS,
    english,
    in_fence,
    in_inline_code,
    token_start,
)

__all__ = ["OPENERS", "glued_mark"]

#: Marks written with a space on both sides: followed by a space, glued before it they lost one.
_SPACED_OPERATORS = (
    "**=",
    "//=",
    "===",
    "!==",
    "==",
    "!=",
    "<=",
    ">=",
    "+=",
    "-=",
    "*=",
    "/=",
    "%=",
    "|=",
    "&=",
    ":=",
    "->",
    "=>",
    "&&",
    "||",
    "=",
    "\u2014",  # em dash
    "\u2013",  # en dash
)
#: Opening marks that never follow a letter directly.
OPENERS = frozenset("\u201e\u00ab")  # „ «


def glued_mark(stripped: str, pending: str, *, at_end: bool) -> bool | None:
    """The continuation opens with a mark: an operator, a dash, an opening quote or backquote."""
    last = stripped[-1]
    if not (last.isalnum() or last in ")]\"'"):
        return False
    first = pending[0]
    if first in OPENERS:
        return last.isalpha() and not in_inline_code(stripped) and not in_fence(stripped)
    if first == "`":
        return _backquote(stripped, pending, at_end=at_end)
    if first == '"':
        return _double_quote(stripped, pending, at_end=at_end)
    run = stripped[-60:].rsplit(maxsplit=1)[-1]
    if run.startswith("-"):
        return False  # a command-line option, "--prefix= when building"
    if not at_end and any(
        len(operator) > len(pending) and operator.startswith(pending)
        for operator in _SPACED_OPERATORS
    ):
        return None  # "!" may become "!="
    for operator in _SPACED_OPERATORS:
        if pending.startswith(operator):
            size = len(operator)
            if len(pending) == size:
                return None if not at_end else False
            if pending[size] not in " \t":
                return False
            if first == "=" and len(pending) == size + 1 and not at_end:
                return None  # the word after the mark is not known yet
            words = WORDS.match(pending, size + 1) if first == "=" else None
            if words and len(words.group()) <= FUNCTION_WORD_MAX:
                if words.end() == len(pending) and not at_end:
                    return None  # the word after the mark is not complete yet
                if words.group().casefold() in FUNCTION_WORDS:
                    return False  # prose about a setting: "PrivateNetwork= in service units"
            if in_inline_code(stripped) and not in_fence(stripped):
                return False
            # Not a run of the mark ("====" under a heading), nor glued to one.
            return stripped[-1] not in "=-<>!" and (
                len(pending) <= size + 1 or pending[size + 1] != first
            )
    return False


def _backquote(stripped: str, pending: str, *, at_end: bool) -> bool | None:
    """``"with"`` + ``"`sudo nginx`"``: inline code opened glued to a word."""
    if len(pending) < 3 and not at_end:
        return None
    if pending.startswith("``") or not stripped[-1].isalpha():
        return False
    if in_fence(stripped) or in_inline_code(stripped):
        return False
    start = token_start(stripped, len(stripped))
    left = stripped[start:]
    if not is_letters(left) or not counts_as_word(left):
        return False
    before = stripped[start - 1] if start > 0 else ""
    return before not in NAME_SIGNS and english(stripped)


def _double_quote(stripped: str, pending: str, *, at_end: bool) -> bool | None:
    """``"the"`` + ``'"count" field'``: a quotation opened glued to a word."""
    if len(pending) < 2 and not at_end:
        return None
    if not stripped[-1].isalpha() or len(pending) < 2 or not pending[1].isalpha():
        return False
    if in_fence(stripped) or in_inline_code(stripped):
        return False
    paragraph = stripped[stripped.rfind("\n\n") + 1 :]
    if paragraph.count('"') % 2 == 1:
        return False  # a quotation is open: this one closes it
    start = token_start(stripped, len(stripped))
    left = stripped[start:]
    if not is_letters(left) or len(left) < 2 or not counts_as_word(left):
        return False
    before = stripped[start - 1] if start > 0 else ""
    return before not in NAME_SIGNS and english(stripped)
