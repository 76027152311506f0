"""How the model continues a cut-off answer, for the holdout seam corpus.

Text-level rules only: where in the reference answer a continuation of each
behaviour starts (:func:`repeat_start`), for a model shown the first ``seen``
characters, and the continuation with the text the consumer must end with
(:func:`holdout_continuation`). Words are what a model repeats as one
(``doesn't``, ``us-east-1``, ``12,480``); scripts written without spaces have
no word starts inside a run.
"""

from __future__ import annotations

import functools
import unicodedata

from streamrecover.testing.seams.cases import SeamCase
from streamrecover.testing.seams.holdout_answers import HOLDOUT_RESTARTS

__all__ = [
    "NUMBER_JOINERS",
    "holdout_continuation",
    "is_emoji_part",
    "is_wide",
    "is_word",
    "is_word_start",
    "repeat_start",
    "shared_prefix",
]

_SENTENCE_END = ".!?"
_WIDE_SENTENCE_END = "。！？"
_CLOSING_QUOTES = "\"'\u201d\u2019\u00bb"
NUMBER_JOINERS = ".,:-/"
_WORD_JOINERS = ".,:-/'\u2019"
#: A restarted sentence repeats at least this many characters (a shorter
#: repeat is an overlap, another behaviour).
_MIN_SENTENCE_REPEAT = 4


def is_wide(ch: str) -> bool:
    return 0x2E80 <= ord(ch) < 0x1F000


def is_emoji_part(ch: str) -> bool:
    code = ord(ch)
    return (
        code >= 0x1F000
        or 0x2600 <= code <= 0x27BF
        or ch in "\u200d\ufe0f"
        or unicodedata.category(ch) in ("Mn", "Me", "Cf")
    )


def is_word(ch: str) -> bool:
    return (ch.isalnum() or ch == "_") and not is_wide(ch)


def is_word_start(text: str, position: int) -> bool:
    return is_word(text[position]) and (position == 0 or not is_word(text[position - 1]))


def _word_spans(text: str, end: int) -> list[tuple[int, int]]:
    """(start, end) of the complete words that end at or before ``end``.

    A word here is what a model repeats as one: letters and digits with the
    joiners inside them (``doesn't``, ``us-east-1``, ``12,480``, ``2.2.2``).
    """
    return [span for span in _all_word_spans(text) if span[1] <= end]


@functools.lru_cache(maxsize=64)
def _all_word_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans = []
    position = 0
    while position < len(text):
        if is_word_start(text, position):
            stop = position
            while stop < len(text) and (
                is_word(text[stop])
                or (
                    text[stop] in _WORD_JOINERS and stop + 1 < len(text) and is_word(text[stop + 1])
                )
            ):
                stop += 1
            spans.append((position, stop))
            position = stop
        else:
            position += 1
    return tuple(spans)


def _sentence_start(text: str, seen: int) -> int:
    position = seen - 1
    while position > 0:
        before = text[position - 1]
        if before == "\n" or before in _WIDE_SENTENCE_END:
            break
        if before == " ":
            mark = position - 2
            while mark > 0 and text[mark] in _CLOSING_QUOTES:
                mark -= 1
            if mark >= 0 and text[mark] in _SENTENCE_END:
                break
        position -= 1
    while position < seen and text[position].isspace():
        position += 1
    return position


def shared_prefix(first: str, second: str) -> int:
    """Length of the common prefix of two texts."""
    length = 0
    while length < min(len(first), len(second)) and first[length] == second[length]:
        length += 1
    return length


def repeat_start(text: str, seen: int, behaviour: str, amount: int) -> int | None:
    """Where in ``text`` the continuation starts, for a model shown ``text[:seen]``.

    None when the behaviour does not fit this point (no complete word to
    repeat, no number before the cut, an overlap that would start a word...).
    ``restart_diverge`` is not a position in ``text``: see :func:`holdout_continuation`.
    """
    if seen <= 0:
        return None
    if behaviour in ("exact", "exact_in_whitespace"):
        return seen
    if behaviour == "restart_answer":
        return 0
    if behaviour == "partial_word":
        if not (text[seen - 1].isalpha() and seen < len(text) and text[seen].isalpha()):
            return None
        start = seen
        while start > 0 and is_word(text[start - 1]):
            start -= 1
        return start if start < seen else None  # CJK: no partial word to repeat
    if behaviour in ("whole_words", "token_repeat"):
        spans = _word_spans(text, seen)
        if behaviour == "token_repeat":
            spans = [(s, e) for s, e in spans if s > 0 and text[s - 1] == " "]
        if len(spans) < amount:
            return None
        start = spans[-amount][0]
        return start - 1 if behaviour == "token_repeat" else start
    if behaviour == "number":
        last = text[seen - 1]
        inside = last in NUMBER_JOINERS and seen < len(text) and text[seen].isdigit()
        if not (last.isdigit() or (inside and text[seen - 2 : seen - 1].isdigit())):
            return None
        start = seen
        while start > 0 and (text[start - 1].isdigit() or text[start - 1] in NUMBER_JOINERS):
            start -= 1
        while not text[start].isdigit():
            start += 1
        return start
    if behaviour == "restart_sentence":
        start = _sentence_start(text, seen)
        return start if start <= seen - _MIN_SENTENCE_REPEAT else None
    if behaviour in ("overlap", "short_overlap"):
        start = seen - amount
        if start <= 0 or text[start].isspace() or is_word_start(text, start):
            return None
        if is_emoji_part(text[start]) or text[start:seen].isspace():
            return None
        return start
    if behaviour == "dropped_space":
        if seen < len(text) and text[seen] == " " and is_word(text[seen - 1]):
            return seen + 1
        return None
    raise ValueError(f"unknown behaviour {behaviour!r}")


def holdout_continuation(case: SeamCase, shown: str) -> tuple[str, str]:
    """The continuation the model streams, and the text the consumer must end with.

    Args:
        case: the seam.
        shown: the partial answer the resume request showed the model (the
            committed text, or for a prefill the committed text without its
            trailing whitespace).

    Returns:
        ``(continuation, expected)``.

    Raises:
        ValueError: when the behaviour does not fit what was shown (the corpus
            never builds such a case).
    """
    if case.behaviour == "restart_diverge":
        restart = HOLDOUT_RESTARTS[case.answer][case.amount]
        return restart, restart
    start = repeat_start(case.text, len(shown), case.behaviour, case.amount)
    if start is None:
        raise ValueError(f"{case.name}: {case.behaviour} does not fit {shown[-20:]!r}")
    return case.text[start:], case.text
