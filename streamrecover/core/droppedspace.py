"""Rule 3b of the stitcher: a space the model dropped where the cut fell before it.

The cut fell just before a space (``"... the word"`` | ``" next ..."``) and the
continuation begins without it (``"next ..."``): glued on, the answer reads
"wordnext". Character by character that is an exact continuation cut inside a
word (``"note"`` + ``"book"``). Only where the text around the cut says so
strongly is the space restored:

* **two words** that glue into none (:mod:`~streamrecover.core.gluedwords`):
  ``"go"`` + ``"missing"``, ``"overloaded. I"`` + ``"know"``, accents aside
  (``"façade"`` + ``"stays"``: the list has "facade"); not ``"note"`` +
  ``"book"``, a word glued before in the answer (``"codebase ... code"`` +
  ``"base"``), a prefix, a suffix, an inflection, a technical word or a name's
  pieces (``"micro"`` + ``"tasks"``, ``"programmatic"`` + ``"ally"``,
  ``"check"`` + ``"pointed"``, ``"simple"`` + ``"json"``, ``"Greg"`` + ``"or"``),
  nor camelCase (``"file"`` + ``"Name"``, ``"on"`` + ``"Windows"``) except after a
  word that opens no camelCase name (``"but"`` + ``"Ops will"``);
* **code**: a statement keyword opening its line glued to a name
  (``"    return"`` + ``"self.items"``, ``"    raise"`` + ``"IndexError("``), a
  command opening a shell line (or an inline code span) glued to a listed word
  (``"    pip"`` + ``"install"``, ``"$ git"`` + ``"commit"``; not ``"pip"`` +
  ``"env"``, ``"git"`` + ``"hub"``);
* **marks spaced on both sides** (:mod:`~streamrecover.core.gluedmarks`): an
  operator or a dash followed by a space (``"self.items"`` + ``"= []"``,
  ``"private key"`` + ``"— and"``; not ``"--prefix"`` + ``"= when"``,
  ``"PrivateNetwork"`` + ``"= in"``); an opening mark after a word: a backquote
  outside code (``"with"`` + ``"`sudo`"``), a double quote outside a quotation,
  ``„`` or ``«``;
* **numbers** (:mod:`~streamrecover.core.gluednumbers`): a number glued to a word
  of four letters or more (``"60"`` + ``"seconds"``) or to a function word
  (``"v22.4.0"`` + ``"on"``; not ``"3.5"`` + ``"in"``, inches), a unit the answer
  writes spaced after a number (``"2.5 GB ... 1"`` + ``"GB"``, in any language), a
  unit after a number glued to a function word (``"3-5 ms"`` + ``"of"``), a
  common word glued to a number with separators inside (``"on"`` +
  ``"2024-07-02"``, ``"Python"`` + ``"3.12"``; not ``"python"`` + ``"3.11-dev"``), a
  function word glued to a name with digits (``"The"`` + ``"p95"``; not ``"the"``
  + ``"me2"``, "theme2"), a short name with digits glued to a word of four
  letters or more (``"p99"`` + ``"latency"``; not ``"base64"`` + ``"encode"``);
* **sentence marks**: ``"end."`` + ``"Next"``, ``"first,"`` + ``"then"``, unless
  the answer glues such marks itself (``"red,green"``, ``"os.Path"``).

Nothing is restored where the cut fell beside whitespace (the consumer has
the space, or the continuation re-sent it), after a removed overlap, inside
inline code or (but for keywords and operators) a fenced code block, after a
sign of a name before the word (``_ . / \\ @ $ # -``), before one after the
continuation's word (``_ ( [ =``, a dot and a letter), in an answer that is
not mostly English words, or in a script the word list does not cover (CJK,
Hangul); the context is read by :mod:`~streamrecover.core.seamcontext`. The
continuation is held until its first word is complete and two more characters
are known (at most :data:`HOLD_MAX`); nothing is held where no reading could
restore a space (a capital after a lowercase word). Pure functions; the word
list is read on the first question (:mod:`streamrecover.core.lexicon`).

Ambiguities, by design ("drops the space the cut fell before", ``python
benchmarks/bench_seams.py --in-process``, seed 11: 89.5% exact on the main
corpus, 34 of 38 seams; 92.2% on the holdout, 47 of 51; 76.3% and 84.3% before
session 8's numbers, units, names with digits, commands, capitals and accents).
Left glued: Hangul (``"한국어"`` + ``"문장도"``: Korean compounds are written
both ways; 2 of 38), a unit the answer has not written yet (``"3-5"`` + ``"ms"``:
"3-5ms" is a style too; 1 of 38), periodic text (``"ha"`` + ``"ha ha"``, read as a
repeat by rule 2b; 1 of 38), camelCase shapes (``"on"`` + ``"Windows"``:
``"onClick"``), other languages (``"mit"`` + ``"drei"``), both readings words
(``"the"`` + ``"e."`` is "thee"), a log line's fields (``"worker-1"`` +
``"job=4411"``; each 1 of 51 on the holdout). Conversely, an exact continuation
glued where the text says a space was dropped gets a wrong space: compounds
the list lacks the first time (``"thread"`` + ``"pool"``), a unit written both ways
in one text (``"2 GiB ... 2"`` + ``"GiB"``). On 400 answers of about 4,000
characters cut from /usr/share/doc READMEs, the Node.js API docs,
/work/shared/*.md and the recorded streams' texts, at every cut of an exact
continuation between two non-space characters: 137 wrong spaces of 83,954
mid-word cuts whose halves are both words (0.16%), 14 of 671,435 other cuts
between letters, 20 of 197,223 cuts beside digits and marks (19 before session
8); of every single space dropped there, 67.0% are restored after a letter or a
digit (66.7% before), 8.3% after a mark.
"""

from __future__ import annotations

import re

from streamrecover.core import lexicon
from streamrecover.core.gluedmarks import OPENERS, glued_mark
from streamrecover.core.gluednumbers import (
    LETTERS_DIGITS,
    PURE_NUMBER,
    SEPARATED_NUMBER,
    SHORT_NAME,
    name_then_word,
    number_then_function_word,
    number_then_word,
    number_token,
    unit_as_written,
    unit_then_function_word,
    word_then_name,
    word_then_number,
)
from streamrecover.core.gluedwords import (
    CAMEL_FREE_WORDS,
    ONE_LETTER_WORDS,
    counts_as_word,
    is_letters,
    read_apart,
    written,
)
from streamrecover.core.seamcontext import (
    NAME_SIGNS,
    english,
    in_fence,
    in_inline_code,
    in_prose,
    line_start,
    token_end,
    token_start,
)

__all__ = ["HOLD_MAX", "may_restore", "restore_space"]


#: The longest first word of a continuation held to decide; longer: no space.
HOLD_MAX = 40
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
#: Command-line tools that open a shell line and take a subcommand or a word after a space
#: ("pip install", "git commit"); none of them glues to a listed word.
_COMMANDS = frozenset(
    {
        "apt",
        "brew",
        "cargo",
        "conda",
        "docker",
        "git",
        "helm",
        "kubectl",
        "npm",
        "npx",
        "pip",
        "pip3",
        "pipx",
        "pnpm",
        "poetry",
        "sudo",
        "systemctl",
        "uv",
        "yarn",
    }
)
#: What may stand before a command on its line: a shell prompt.
_PROMPTS = "$>"
#: Sentence and clause marks after which a space was dropped, and the case of the next word.
_END_MARKS = frozenset(".!?")
_CLAUSE_MARKS = frozenset(",;")
#: After a word, what makes it a name in code: an assignment or a call.
_ASSIGNED = re.compile(r"[ \t]*(?:=(?!=)|\()")


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


def _dropped(stripped: str, pending: str, *, at_end: bool) -> bool | None:
    if not pending or not stripped or pending[0].isspace() or stripped[-1].isspace():
        return False
    first = pending[0]
    if not (first.isalnum() or first in OPENERS or first in '`"=!<>+-*/%|&:\u2014\u2013'):
        return False
    if first.isalnum():
        if not _may_glue(stripped, first):
            return False  # decided at once: nothing is held
        number = SEPARATED_NUMBER.match(pending) if first.isdigit() else None
        end = number.end() if number else token_end(pending, 0)
        if end > HOLD_MAX:
            return False
        if len(pending) < end + 2 and not at_end:
            # The first word, and the two characters after it that may make it a
            # name ("self.items", "you're"), are not all known yet.
            return None
        return _glued_word(stripped, pending, end)
    return glued_mark(stripped, pending, at_end=at_end)


def _may_glue(stripped: str, first: str) -> bool:
    """Whether a word opening with ``first`` could be read as glued on (cheap: no context)."""
    last = stripped[-1]
    if last in _END_MARKS:
        return first.isupper()
    if last in _CLAUSE_MARKS:
        return first.islower()
    if not last.isalnum():
        return False
    start = token_start(stripped, len(stripped))
    left = stripped[start:]
    if (left in _STATEMENT_KEYWORDS and first.isalpha()) or (left in _COMMANDS and first.islower()):
        return True
    if first.isalpha() and number_token(stripped) is not None:
        return True  # "v22.4.0" + "on", "1" + "GB"
    if start > 0 and stripped[start - 1] in NAME_SIGNS:
        return False
    if PURE_NUMBER.fullmatch(left) or SHORT_NAME.fullmatch(left):
        return first.islower()
    if not is_letters(left):
        return False
    if first.isupper() and left in CAMEL_FREE_WORDS:
        return True  # "but" + "Ops"
    return first.islower() or first in ONE_LETTER_WORDS or (first.isdigit() and len(left) >= 2)


# -- context ------------------------------------------------------------------------------------


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
    start = token_start(stripped, len(stripped))
    left = stripped[start:]
    before = stripped[start - 1] if start > 0 else ""
    if _keyword_glued(stripped, start, left, right, follower):
        return True
    if follower in _NAME_FOLLOWERS or (follower in ".:" and follower2.isalnum()):
        return False
    if _ASSIGNED.match(pending, end):
        return False  # "nextchar = s[end]": a name in code
    if is_letters(right) and number_token(stripped) is not None:
        if unit_as_written(stripped, right):
            # The answer's own way of writing that unit decides, whatever its language.
            return not in_fence(stripped) and not in_inline_code(stripped)
        if number_then_function_word(right):
            return in_prose(stripped)
    if before in NAME_SIGNS:
        return False
    if PURE_NUMBER.fullmatch(left):
        restored = number_then_word(stripped, start, right)
    elif is_letters(left) and SEPARATED_NUMBER.fullmatch(right):
        restored = word_then_number(stripped, left, right, follower)
    elif is_letters(left) and is_letters(right):
        restored = read_apart(stripped, left, right) or unit_then_function_word(
            stripped, start, left, right
        )
    elif is_letters(left) and LETTERS_DIGITS.fullmatch(right):
        restored = word_then_name(stripped, left, right)
    elif SHORT_NAME.fullmatch(left) and is_letters(right):
        restored = name_then_word(stripped, left, right)
    else:
        return False
    # The context last: it reads the whole answer.
    return restored and in_prose(stripped)


def _keyword_glued(stripped: str, start: int, left: str, right: str, follower: str) -> bool:
    """A statement keyword opening its line glued to a name: ``"    return"`` + ``"self"``."""
    if left in _COMMANDS:
        return _command_glued(stripped, start, left, right, follower)
    if left not in _STATEMENT_KEYWORDS or not right[:1].isalpha() or follower == "_":
        return False
    line = line_start(stripped, start)
    if stripped[line:start].strip():
        return False
    glued = left + right
    if "_" in right or lexicon.is_word(glued.casefold()) or (right.isupper() and len(right) > 1):
        return False
    return not written(stripped, glued) and not in_inline_code(stripped)


def _command_glued(stripped: str, start: int, left: str, right: str, follower: str) -> bool:
    """A command opening a shell line glued to a word: ``"    pip"`` + ``"install requests"``.

    Not a name the command makes with it (``"pip"`` + ``"env"``, ``"git"`` + ``"hub"``
    are "pipenv" and "github": listed), nor one the answer wrote glued.
    """
    if follower in "_-" or not is_letters(right) or not right.islower() or len(right) < 3:
        return False
    line = line_start(stripped, start)
    opens_span = stripped[start - 1 : start] == "`" and in_inline_code(stripped)
    if not opens_span and stripped[line:start].strip(" \t").lstrip(_PROMPTS).strip(" \t"):
        return False  # not where a command opens: a shell line, or "`" + "pip install`"
    if not lexicon.is_word(right) or lexicon.is_technical(right):
        return False
    glued = left + right
    return not lexicon.is_word(glued) and not written(stripped, glued, whole=False)


def _after_mark(stripped: str, right: str, follower: str, follower2: str) -> bool:
    """``"end."`` + ``"Next"``, ``"first,"`` + ``"then"``: a mark ends a word, a word follows."""
    mark = stripped[-1]
    start = token_start(stripped, len(stripped) - 1)
    left = stripped[start:-1]
    before = stripped[start - 1] if start > 0 else ""
    if not (is_letters(left) and is_letters(right)) or len(left) < 2:
        return False
    if before in NAME_SIGNS or before.isdigit() or in_fence(stripped):
        return False
    if in_inline_code(stripped):
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
    return english(stripped)


# -- a mark glued on ----------------------------------------------------------------------
