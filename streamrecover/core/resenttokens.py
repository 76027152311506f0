"""Rule 2k of the stitcher: a repeat of one or two characters that only a re-sent token explains.

A stream is cut between deltas, and a delta is whole tokens; a model that
repeats the end of the text re-sends tokens. Some short repeats are shapes an
exact continuation cannot take at a token boundary, or that the script or the
markup around the cut never writes. :func:`resent_token` reads them, for the
shortest candidate ``stripped[-length:]`` (``length`` 1 or 2) that no earlier
rule removed:

- **Digits after a number's last group.** The byte-pair vocabularies of
  OpenAI's models (and Llama 3's, and both seam corpora's tokenizers) cut a
  run of digits into groups of three from its left: the recorded streams of
  ``shared/realstreams`` split numbers only there (``"202|5"``, ``"180|302|106"``:
  all 212 of the Responses API's delta boundaries inside a number). So a run
  whose length is not a multiple of three ended there, and a digit after it
  re-sends the number's end
  (``"input_tokens": 1532`` + ``"2,"``, ``"postgres:16"`` + ``"6.3"``, ``"v1.25"``
  + ``"5/log"``); after a whole group, two different digits written twice are
  re-sent too (``"418"`` + ``"18,"``, ``"db:543"`` + ``"432/app"``). Not a zero
  (round numbers double it: ``"10"`` + ``"0 of 500"``), not an ID after ``/`` or
  ``#`` (``"pull/292"`` + ``"92"``), not digits after a letter or starting a token
  with letters or ``_`` (hashes, literals: ``"`085"`` + ``"8587f21`"``), not a run
  of more than six digits.
- **A Han character written twice.** Of 24,509 cuts between two Han
  characters of real Chinese (vim's and GnuPG's Chinese help texts, the
  standard library's CJK test texts, freedesktop's Chinese MIME names) 43
  fall inside a doubled character (0.18%: 等等, 看看, 仅仅, and words that meet,
  可以|以前), so ``"关键"`` + ``"键在于"`` is a re-sent ``"键"``; a doubling the
  answer wrote before (``"看看"``) is kept.
- **A closing backtick re-sent** (``"`list.sort()`"`` + ``"` is stable"``, also
  with the mark after it, ``"`timeout`:"`` + ``"`: 30"``): keeping it would open
  a code span right where one closed, which Markdown text never does; not
  inside a fenced block, nor on a line with a span of two backticks.
- **A word's last letter re-sent with the space the model saw** (no prefill:
  ``"If step "`` + ``"p 3"``, ``"| Strategy "`` + ``"y  |"``): keeping it writes a
  lone letter after a word that ends in it, which English prose writes only as
  "a" and "I". Only in an answer of English words, outside code (a fence, an
  inline span, an indented line, a name before it), and not when a word
  follows the letter (``"the value of "`` + ``"f exactly"``, ``"for r in rows"``:
  a one-letter name in a sentence).
- **A separator and digits re-sent** after a name (``"worker-1"`` + ``"-1 job"``:
  "worker-1-1") or after a version, when every version the answer wrote has
  as many groups as the reading without the repeat (``"3.12.4 ... v22.4.0"`` +
  ``".0 on"``); not when the number goes on, nor before a port or a prefix
  (``"0.0.0"`` + ``".0:41234"``), nor in the text's own run (``"4.4.4"`` + ``".4"``).
- **A dotted name written before** (``"WHERE o.created_at ... AND o."`` +
  ``".created_at"``): of the two readings of the name at the cut, the one the
  answer wrote before wins when the other was never written.

Ambiguities, by design (seam corpora: ``python benchmarks/bench_seams.py
--in-process --corpus holdout``, seed 11): a number re-sent from a digit other
than its last group's (``"v1."`` + ``"1.25"``), a zero (``"Node.js 20"`` +
``"0.15.1"``), are kept, duplicated. Tokenizers that cut numbers elsewhere
break the digits rule: Anthropic's streams split ``"2|026"`` (1 of 346
boundaries), Gemini's digit by digit (3 of 44 boundaries inside a number).
Cut between any two digits of real text (the READMEs, Node.js's API docs and
changelogs, stdlib modules, realstreams' answers; with and without a
prefill), the stitcher alters 986 of 32,452 exact continuations where
it altered 676 before (the digit after a group of one or two: ``"listen(13"``
+ ``"37"``); cut after whole groups of three, 34 of 11,344 before and after.
Words that meet on one Han character (``"今天"`` + ``"天气"``) lose it. Cut
wherever a 1-2 character repeat can fire (598,586 exact continuations of the
same texts and of vim's and GnuPG's texts in 30-odd languages), rules 2k and
the session-8 readings of 2d alter 326 more than before (5,721 against
5,395), none mended: 282 digits at cuts an OpenAI stream never makes, 30 Han
words that meet, 14 accented vowels (French "créé", typos on purpose).

Pure functions, no state.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from streamrecover.core.shortrepeats import HOLD

__all__ = ["resent_reading", "resent_token", "written_name_reading"]

#: A run of digits is cut into tokens of this many digits from its left.
_DIGIT_GROUP = 3
#: Longer runs of digits are hashes and constants, no quantities.
_NUMBER_MAX = 6
#: English words of one letter: a lone letter after a word may be one of them.
_ONE_LETTER_WORDS = frozenset("aAI")
#: Before a number, what makes it an ID: a path's part, an issue reference.
_ID_BEFORE = frozenset("/#")
#: After an address, its port or its prefix length.
_ADDRESS_ENDS = frozenset(":/")
#: What joins a number's groups, or a numeric suffix to a name.
_SUFFIX_SEPARATORS = frozenset(".-_")
#: A dotted number: a version, an address.
_DOTTED_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)+")
#: Characters of a name in code, with the dots between its parts.
_DOTTED = frozenset("._")
#: Before a word, a name in code: a path, an attribute, a variable.
_CODE_BEFORE = frozenset("_./\\@$")


def is_han(ch: str) -> bool:
    """Whether ``ch`` is a Han ideograph (CJK Unified Ideographs, Extension A, compatibility)."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def resent_reading(
    stripped: str,
    held: str,
    length: int,
    *,
    seam: str,
    code: bool,
    english: Callable[[], bool],
    at_end: bool,
    window: int,
) -> int:
    """Rule 2k for the chooser: ``length`` to remove it, ``0`` to keep it, or ``HOLD``.

    :func:`resent_token`, then :func:`written_name_reading`; ``window`` is the
    most the stitcher holds (past it, what is held decides).
    """
    verdict = resent_token(
        stripped, held, length, seam=seam, code=code, english=english, at_end=at_end
    )
    complete = at_end or len(held) >= window
    if verdict is None:
        return 0 if complete else HOLD
    if not verdict:
        verdict = written_name_reading(stripped, held, length, complete=complete)
        if verdict is None:
            return HOLD
    return length if verdict else 0


def resent_token(
    stripped: str,
    held: str,
    length: int,
    *,
    seam: str,
    code: bool,
    english: Callable[[], bool],
    at_end: bool,
) -> bool | None:
    """Whether the candidate ``stripped[-length:]`` at the start of ``held`` is a re-sent token.

    Args:
        stripped: the committed text as the model saw it.
        held: the continuation held so far; it starts with the candidate.
        length: the candidate's length, 1 or 2.
        seam: the whitespace a prefill cut off after ``stripped`` (``""``: none).
        code: whether ``stripped`` ends inside a fenced block or an inline span.
        english: asked whether the answer's words are mostly English ones.
        at_end: whether the continuation ended with ``held``.

    Returns:
        ``None`` when the characters after the candidate are needed to tell.
    """
    if length >= len(stripped) or length > 2:
        return False
    text = stripped[len(stripped) - length :]
    if text.isdigit():
        if not _digits_after_last_group(stripped, length):
            return False
        # The token the digits start: a hash or a literal ("085" + "8587f21", "7.745" +
        # "45_01427") holds letters or "_"; a quantity does not.
        end = length
        while end < len(held) and (held[end].isalnum() or held[end] == "_"):
            end += 1
        if end == len(held) and not at_end:
            return None
        return held[length:end].isdigit() or end == length
    if length == 1 and is_han(text):
        return text * 2 not in stripped
    # The readings below need what follows the candidate: until it comes, undecided
    # (None), and at the continuation's end, no re-sent token (False).
    undecided = False if at_end else None
    if text[0] in _SUFFIX_SEPARATORS and text[1:].isdigit():
        if len(held) <= length:
            return undecided
        return _group_resent(stripped, held, length)
    if text[0] == "`":
        if len(held) <= length:
            return undecided
        return _closing_backtick(stripped, held, length, code=code)
    if length == 2 and text[1] == " " and not seam:
        after = held[length:].lstrip(" ")
        if not after:
            return undecided
        if after[0].isalpha():
            # "the value of " + "f exactly": a one-letter name in a sentence is
            # followed by words; a letter re-sent goes on with what followed its word.
            return False
        return _lone_letter_after_word(stripped, code=code) and english()
    return False


def written_name_reading(stripped: str, held: str, length: int, *, complete: bool) -> bool | None:
    """Whether the dotted name at the cut reads as written before only without the candidate.

    ``"AND o."`` + ``".created_at"`` after ``"o.created_at"``: removing the repeat
    writes the name written before, keeping it (``"o..created_at"``) one never
    written. ``None`` when ``held`` ends inside the name.
    """
    if "." not in stripped[len(stripped) - length :]:
        return False  # letters inside a name are rule 2d's ("sx" + "x_partials")
    end = 0
    while end < len(held) and _is_name_char(held[end]):
        end += 1
    if end == len(held) and not complete:
        return None
    if end <= length:
        return False
    start = len(stripped)
    while start > 0 and _is_name_char(stripped[start - 1]):
        start -= 1
    kept = stripped[start:] + held[:end]
    removed = stripped[start:] + held[length:end]
    if "." not in removed.strip(".") or not any(ch.isalpha() for ch in removed):
        return False
    return _has_token(stripped, removed, start) and not _has_token(stripped, kept, start)


def _group_resent(stripped: str, held: str, length: int) -> bool:
    """A separator and a digit re-sent after a name or a version: ``"worker-1"`` + ``"-1 job"``.

    After a name (letters, then ``-`` or ``_``), keeping writes a second numeric
    suffix ("worker-1-1"). After a dotted number (``"v22.4.0"`` + ``".0 on"``),
    keeping writes a version of one group more than every version written
    before, removing one of their number of groups.
    """
    if held[length].isdigit() or held[length] in _SUFFIX_SEPARATORS:
        return False  # the number goes on: "1.0" + ".0.1", "web-1" + "-10"
    if held[length] in _ADDRESS_ENDS:
        return False  # an address and its port or prefix: "0.0.0" + ".0:41234"
    start = len(stripped) - length
    if stripped.endswith(stripped[start:], 0, start):
        return False  # the text's own run ("4.4.4" + ".4"): keeping loses nothing
    if stripped[start] != ".":
        return stripped[start - 1].isalpha()
    begin = start
    while begin > 0 and (stripped[begin - 1].isdigit() or stripped[begin - 1] == "."):
        begin -= 1
    # The groups of the number the answer reads with the repeat removed ("22.4.0": 3).
    groups = stripped.count(".", begin, start) + 2
    written = {match.count(".") + 1 for match in _DOTTED_NUMBER.findall(stripped, 0, begin)}
    return groups in written and groups + 1 not in written


def _digits_after_last_group(stripped: str, length: int) -> bool:
    run = len(stripped) - len(stripped.rstrip("0123456789"))
    start = len(stripped) - run
    if run <= length or run > _NUMBER_MAX or stripped[-1] == "0":
        # Not a zero: round numbers double it ("100", "40,000", "0xd800"); not a long
        # run (a hash, a constant's digits): a tokenizer that cuts numbers digit by
        # digit (Gemini's) may stop anywhere in them.
        return False
    if start > 0 and (stripped[start - 1] in _ID_BEFORE or stripped[start - 1].isalpha()):
        # An ID of a path or a reference repeats digits like any ID does ("pull/292"
        # + "92", "#212" + "12"); after a letter the digits are a hash's or a name's.
        return False
    if run % _DIGIT_GROUP != 0:
        return True
    # After a whole group, two different digits written twice ("418" + "18,").
    return length == 2 and stripped[-1] != stripped[-2]


def _closing_backtick(stripped: str, held: str, length: int, *, code: bool) -> bool:
    """A backtick that closed an inline span, re-sent (with the mark after it)."""
    position = len(stripped) - length
    line = stripped[stripped.rfind("\n", 0, position) + 1 : position + 1]
    if code or held[length] == "`" or line.lstrip().startswith("```"):
        return False
    # Not when a span on the line is delimited by two backticks (it may hold one),
    # nor when this one opens a span.
    return "``" not in line and line.count("`") % 2 == 0


def _lone_letter_after_word(stripped: str, *, code: bool) -> bool:
    """A word's last letter re-sent with the space after it: ``"If step "`` + ``"p 3"``."""
    letter = stripped[-2]
    if not (letter.isalpha() and letter <= "\u024f") or letter in _ONE_LETTER_WORDS:
        return False
    start = len(stripped) - 2
    while start > 0 and stripped[start - 1].isalpha():
        start -= 1
    if len(stripped) - 2 - start < 1 or code:
        return False  # not the end of a word of two letters or more
    line = stripped[stripped.rfind("\n", 0, start) + 1 :]
    if line.startswith(("    ", "\t")) or line.count("`") % 2:
        return False
    before = stripped[start - 1] if start > 0 else ""
    return not (before and (before in _CODE_BEFORE or before.isdigit()))


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch in _DOTTED


def _has_token(text: str, token: str, end: int) -> bool:
    """Whether ``token`` occurs in ``text[:end]`` with no name character on either side."""
    position = text.find(token, 0, end)
    while position >= 0:
        after = position + len(token)
        if (position == 0 or not _is_name_char(text[position - 1])) and (
            after >= len(text) or not _is_name_char(text[after])
        ):
            return True
        position = text.find(token, position + 1, end)
    return False
