"""Rule 3b of the stitcher: a space the model dropped where the cut fell before it.

The cut fell just before a space (``"... the word"`` | ``" next ..."``) and the
continuation begins without it (``"next ..."``): glued on, the answer reads
"wordnext". Character by character that is an exact continuation cut inside a
word (``"note"`` + ``"book"``). Only where the text around the cut says so
strongly is the space restored:

* **two words** that glue into none (:mod:`~streamrecover.core.gluedwords`):
  ``"go"`` + ``"missing"``, ``"overloaded. I"`` + ``"know"``; not ``"note"`` +
  ``"book"``, a word glued before in the answer (``"codebase ... code"`` +
  ``"base"``), a prefix, a suffix, an inflection, a technical word or a name's
  pieces (``"micro"`` + ``"tasks"``, ``"programmatic"`` + ``"ally"``,
  ``"check"`` + ``"pointed"``, ``"simple"`` + ``"json"``, ``"Greg"`` + ``"or"``),
  nor camelCase (``"file"`` + ``"Name"``);
* **code**: a statement keyword opening its line glued to a name
  (``"    return"`` + ``"self.items"``, ``"    raise"`` + ``"IndexError("``);
* **marks spaced on both sides**: an operator or a dash followed by a space
  (``"self.items"`` + ``"= []"``, ``"private key"`` + ``"— and"``; not
  ``"--prefix"`` + ``"= when"``, ``"PrivateNetwork"`` + ``"= in"``); an opening
  mark after a word: a backquote outside code (``"with"`` + ``"`sudo`"``), a
  double quote outside a quotation, ``„`` or ``«``;
* **numbers**: a number glued to a word of four letters or more (``"60"`` +
  ``"seconds"``), a common word glued to a number with separators inside
  (``"on"`` + ``"2024-07-02"``, ``"Python"`` + ``"3.12"``; not ``"python"`` +
  ``"3.11-dev"``);
* **sentence marks**: ``"end."`` + ``"Next"``, ``"first,"`` + ``"then"``, unless
  the answer glues such marks itself (``"red,green"``, ``"os.Path"``).

Nothing is restored where the cut fell beside whitespace (the consumer has
the space, or the continuation re-sent it), after a removed overlap, inside
inline code or (but for keywords and operators) a fenced code block, after a
sign of a name before the word (``_ . / \\ @ $ # -``), before one after the
continuation's word (``_ ( [ =``, a dot and a letter), in an answer that is
not mostly English words, or in a script the word list does not cover (CJK,
Hangul). The continuation is held until its first word is complete and two
more characters are known (at most :data:`HOLD_MAX`); nothing is held where
no reading could restore a space (a capital after a lowercase word). Pure
functions; the word list is read on the first question
(:mod:`streamrecover.core.lexicon`).
"""

from __future__ import annotations

import re

from streamrecover.core import lexicon
from streamrecover.core.gluedwords import (
    APOSTROPHES,
    FUNCTION_WORD_MAX,
    FUNCTION_WORDS,
    ONE_LETTER_WORDS,
    counts_as_word,
    is_letters,
    read_apart,
    written,
)

__all__ = ["HOLD_MAX", "may_restore", "restore_space"]


#: The longest first word of a continuation held to decide; longer: no space.
HOLD_MAX = 40
#: How far back the answer is read for its language and its code context.
_CONTEXT = 2000
#: What, before the word at the cut, marks a name, a path or a number, not prose.
_NAME_SIGNS = frozenset("_./\\@$#-~=:+*&%^|<>[{")
#: What, after the continuation's first word, marks a name.
_NAME_FOLLOWERS = frozenset("_([{=/\\@$#<>|~^*+")
#: Statement keywords of Python and JavaScript that open a line and take a name after a space.
_STATEMENT_KEYWORDS = frozenset(
    {
        "assert",
        "async",
        "await",
        "class",
        "const",
        "def",
        "del",
        "elif",
        "except",
        "for",
        "from",
        "global",
        "if",
        "import",
        "let",
        "nonlocal",
        "raise",
        "return",
        "throw",
        "var",
        "while",
        "with",
        "yield",
    }
)
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
_OPENERS = frozenset("\u201e\u00ab")  # „ «
#: Sentence and clause marks after which a space was dropped, and the case of the next word.
_END_MARKS = frozenset(".!?")
_CLAUSE_MARKS = frozenset(",;")
#: Units and suffixes written glued to a number ("64bytes" is no dropped space).
_NUMBER_SUFFIXES = frozenset({"bytes", "byte", "bits", "kbps", "mbps", "gbps", "ghz", "mhz", "khz"})
#: A number with separators inside ("3.11.4", "2024-07-02", "1,200", "10:30").
_SEPARATED_NUMBER = re.compile(r"\d+(?:[.,:\-]\d+)+")
_PURE_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORDS = re.compile(r"[^\W\d_]+")
#: After a word, what makes it a name in code: an assignment or a call.
_ASSIGNED = re.compile(r"[ \t]*(?:=(?!=)|\()")
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)", re.MULTILINE)
_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~).*$", re.MULTILINE)


def may_restore(stripped: str) -> bool:
    """Whether a space dropped after ``stripped`` could be seen at all (cheap)."""
    if not stripped:
        return False
    last = stripped[-1]
    return last.isalnum() or last in _END_MARKS or last in _CLAUSE_MARKS or last in ")]\"'"


def restore_space(stripped: str, pending: str, *, at_end: bool) -> str | None:
    """``pending``, with a space before it when the model dropped one; ``None``: hold.

    Args:
        stripped: what the model saw (ends with no whitespace).
        pending: the continuation after the removed overlap, as far as it is known.
        at_end: whether the continuation ended with ``pending``.

    Returns:
        ``" " + pending`` where a dropped space is restored, ``pending`` where
        not, ``None`` while the continuation's first word is incomplete.
    """
    verdict = _dropped(stripped, pending, at_end=at_end)
    if verdict is None:
        return None
    return " " + pending if verdict else pending


def _token_end(text: str, start: int) -> int:
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


def _token_start(text: str, end: int) -> int:
    """Start of the word ending at ``end`` (the same characters as :func:`_token_end`)."""
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


def _dropped(stripped: str, pending: str, *, at_end: bool) -> bool | None:
    if not pending or not stripped or pending[0].isspace() or stripped[-1].isspace():
        return False
    first = pending[0]
    if not (first.isalnum() or first in _OPENERS or first in '`"=!<>+-*/%|&:\u2014\u2013'):
        return False
    if first.isalnum():
        if not _may_glue(stripped, first):
            return False  # decided at once: nothing is held
        number = _SEPARATED_NUMBER.match(pending) if first.isdigit() else None
        end = number.end() if number else _token_end(pending, 0)
        if end > HOLD_MAX:
            return False
        if len(pending) < end + 2 and not at_end:
            # The first word, and the two characters after it that may make it a
            # name ("self.items", "you're"), are not all known yet.
            return None
        return _glued_word(stripped, pending, end)
    return _glued_mark(stripped, pending, at_end=at_end)


def _may_glue(stripped: str, first: str) -> bool:
    """Whether a word opening with ``first`` could be read as glued on (cheap: no context)."""
    last = stripped[-1]
    if last in _END_MARKS:
        return first.isupper()
    if last in _CLAUSE_MARKS:
        return first.islower()
    if not last.isalnum():
        return False
    start = _token_start(stripped, len(stripped))
    left = stripped[start:]
    if left in _STATEMENT_KEYWORDS and first.isalpha():
        return True
    if start > 0 and stripped[start - 1] in _NAME_SIGNS:
        return False
    if _PURE_NUMBER.fullmatch(left):
        return first.islower()
    if not is_letters(left):
        return False
    return first.islower() or first in ONE_LETTER_WORDS or (first.isdigit() and len(left) >= 2)


# -- context ------------------------------------------------------------------------------------


def _in_fence(stripped: str) -> bool:
    """Whether ``stripped`` ends inside a fenced code block."""
    return len(_FENCE.findall(stripped)) % 2 == 1


def _in_inline_code(stripped: str) -> bool:
    """Whether the paragraph ``stripped`` ends in has an open inline code span (fences aside)."""
    paragraph = _FENCE_LINE.sub("", stripped[stripped.rfind("\n\n") + 1 :])
    return paragraph.count("`") % 2 == 1


def _english(stripped: str) -> bool:
    words = _WORDS.findall(stripped[-_CONTEXT:])
    return bool(words) and lexicon.is_mostly_english(words[-80:])


def _line_start(stripped: str, position: int) -> int:
    return stripped.rfind("\n", 0, position) + 1


# -- a word glued on ------------------------------------------------------------------------


def _glued_word(stripped: str, pending: str, end: int) -> bool:
    """The continuation opens with a word (``pending[:end]``)."""
    right = pending[:end]
    follower = pending[end] if end < len(pending) else ""
    follower2 = pending[end + 1] if end + 1 < len(pending) else ""
    last = stripped[-1]
    if last in _END_MARKS or last in _CLAUSE_MARKS:
        return _after_mark(stripped, right, follower, follower2)
    if not last.isalnum():
        return False
    start = _token_start(stripped, len(stripped))
    left = stripped[start:]
    before = stripped[start - 1] if start > 0 else ""
    if _keyword_glued(stripped, start, left, right, follower):
        return True
    if before in _NAME_SIGNS or follower in _NAME_FOLLOWERS:
        return False
    if follower in ".:" and follower2.isalnum():
        return False
    if _ASSIGNED.match(pending, end):
        return False  # "nextchar = s[end]": a name in code
    if _PURE_NUMBER.fullmatch(left):
        restored = _number_then_word(stripped, start, right)
    elif is_letters(left) and _SEPARATED_NUMBER.fullmatch(right):
        restored = _word_then_number(stripped, left, right, follower)
    elif is_letters(left) and is_letters(right):
        restored = read_apart(stripped, left, right)
    else:
        return False
    # The context last: it reads the whole answer.
    return restored and _in_prose(stripped)


def _in_prose(stripped: str) -> bool:
    """Neither code (a fence, an inline code span) nor a language the word list cannot judge."""
    return not _in_fence(stripped) and not _in_inline_code(stripped) and _english(stripped)


def _keyword_glued(stripped: str, start: int, left: str, right: str, follower: str) -> bool:
    """A statement keyword opening its line glued to a name: ``"    return"`` + ``"self"``."""
    if left not in _STATEMENT_KEYWORDS or not right[:1].isalpha() or follower == "_":
        return False
    line = _line_start(stripped, start)
    if stripped[line:start].strip():
        return False
    glued = left + right
    if "_" in right or lexicon.is_word(glued.casefold()) or (right.isupper() and len(right) > 1):
        return False
    return not written(stripped, glued) and not _in_inline_code(stripped)


def _number_then_word(stripped: str, start: int, right: str) -> bool:
    """``"60"`` + ``"seconds"``: a number glued to a word of four letters or more."""
    before = stripped[start - 1] if start > 0 else ""
    if before.isalpha() or not is_letters(right) or not right.islower():
        return False
    if len(right) < 4 or right in _NUMBER_SUFFIXES or not lexicon.is_word(right):
        return False
    return not written(stripped, stripped[start:] + right)


def _word_then_number(stripped: str, left: str, right: str, follower: str) -> bool:
    """``"on"`` + ``"2024-07-02"``: a word glued to a number with separators inside."""
    if len(left) < 2 or not lexicon.is_word(left) or not lexicon.is_common(left):
        return False
    if follower == "-" or follower.isalnum():
        return False  # "python3.11-dev": a name
    return not written(stripped, left + right)


def _after_mark(stripped: str, right: str, follower: str, follower2: str) -> bool:
    """``"end."`` + ``"Next"``, ``"first,"`` + ``"then"``: a mark ends a word, a word follows."""
    mark = stripped[-1]
    start = _token_start(stripped, len(stripped) - 1)
    left = stripped[start:-1]
    before = stripped[start - 1] if start > 0 else ""
    if not (is_letters(left) and is_letters(right)) or len(left) < 2:
        return False
    if before in _NAME_SIGNS or before.isdigit() or _in_fence(stripped):
        return False
    if _in_inline_code(stripped):
        return False
    if follower in _NAME_FOLLOWERS or (follower in ".:" and follower2.isalnum()):
        return False
    if mark in _END_MARKS:
        if not right.istitle() or (len(right) == 1 and right not in ONE_LETTER_WORDS):
            return False
        glue = re.compile(r"[^\W\d_][.!?][^\W\d_]")
    else:
        if not right.islower():
            return False
        glue = re.compile(r"[^\W\d_][,;][^\W\d_]")
    if glue.search(stripped):
        return False  # the answer glues such marks itself ("red,green", "os.Path")
    if not (counts_as_word(left) and counts_as_word(right)):
        return False
    return _english(stripped)


# -- a mark glued on ----------------------------------------------------------------------


def _glued_mark(stripped: str, pending: str, *, at_end: bool) -> bool | None:
    """The continuation opens with a mark: an operator, a dash, an opening quote or backquote."""
    last = stripped[-1]
    if not (last.isalnum() or last in ")]\"'"):
        return False
    first = pending[0]
    if first in _OPENERS:
        return last.isalpha() and not _in_inline_code(stripped) and not _in_fence(stripped)
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
            words = _WORDS.match(pending, size + 1) if first == "=" else None
            if words and len(words.group()) <= FUNCTION_WORD_MAX:
                if words.end() == len(pending) and not at_end:
                    return None  # the word after the mark is not complete yet
                if words.group().casefold() in FUNCTION_WORDS:
                    return False  # prose about a setting: "PrivateNetwork= in service units"
            if _in_inline_code(stripped) and not _in_fence(stripped):
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
    if _in_fence(stripped) or _in_inline_code(stripped):
        return False
    start = _token_start(stripped, len(stripped))
    left = stripped[start:]
    if not is_letters(left) or not counts_as_word(left):
        return False
    before = stripped[start - 1] if start > 0 else ""
    return before not in _NAME_SIGNS and _english(stripped)


def _double_quote(stripped: str, pending: str, *, at_end: bool) -> bool | None:
    """``"the"`` + ``'"count" field'``: a quotation opened glued to a word."""
    if len(pending) < 2 and not at_end:
        return None
    if not stripped[-1].isalpha() or len(pending) < 2 or not pending[1].isalpha():
        return False
    if _in_fence(stripped) or _in_inline_code(stripped):
        return False
    paragraph = stripped[stripped.rfind("\n\n") + 1 :]
    if paragraph.count('"') % 2 == 1:
        return False  # a quotation is open: this one closes it
    start = _token_start(stripped, len(stripped))
    left = stripped[start:]
    if not is_letters(left) or len(left) < 2 or not counts_as_word(left):
        return False
    before = stripped[start - 1] if start > 0 else ""
    return before not in _NAME_SIGNS and _english(stripped)
