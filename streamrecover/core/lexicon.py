"""English words: whether a piece of text the stitcher reads at a seam is a word.

A repeat of one or two letters inside a word (``"wha"`` + ``"atever"``) and an
exact continuation across a doubled letter (``"bal"`` + ``"loon"``) look the
same character by character; the words they would write do not ("whaatever"
against "whatever", "balloon" against "baloon"). :func:`is_word` answers for
one such reading, :func:`is_mostly_english` whether a text is prose this list
can judge at all (another language, or code whose names the list lacks, is
left to the rules that do not read words).

The list is SCOWL's English words up to size 70 (the "large" spelling
dictionaries: inflected forms, American and British spellings, capitalized
words and common names), plus technical words of the Python standard library
and this project's READMEs; ``scripts/build_lexicon.py`` builds it into
``data/english-words.txt.gz`` (licence: ``data/english-words.LICENSE``). It
is read from the package on the first question, never at import, and kept
packed: one string per word length, the words of that length sorted and
written end to end, searched by bisection (130,878 words and the 11,112
common ones in about 1.3 MB, where sets of the same strings took 16 MB;
loading and packing take about 0.1 s once, a lookup a few microseconds). A package without the file
answers "unknown" to every word, which leaves the stitcher to its
word-blind rules.

Reading the package's own data file is the only I/O, once; after it, pure
lookups. Thread-safe.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from pathlib import Path

__all__ = ["is_common", "is_mostly_english", "is_technical", "is_word", "loaded"]

_DATA = "english-words.txt.gz"
#: A text is English enough when this share of its words (3+ letters) is known.
_ENGLISH_SHARE = 0.7
#: Apostrophes inside a word: ASCII and the typographic right quote.
_APOSTROPHES = "'\u2019"

_lock = threading.Lock()


class _Packed:
    """A set of words, packed: per length, the sorted words concatenated in one string."""

    __slots__ = ("_by_length", "_count")

    def __init__(self, words: list[str]) -> None:
        # Sorted, then (stably) by length: each length's words are one sorted run.
        ordered = sorted(sorted(words), key=len)
        lengths = list(map(len, ordered))
        self._by_length = {
            size: "".join(ordered[bisect_left(lengths, size) : bisect_right(lengths, size)])
            for size in set(lengths)
        }
        self._count = len(ordered)

    def __len__(self) -> int:
        return self._count

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        size = len(word)
        packed = self._by_length.get(size)
        if packed is None:
            return False
        low, high = 0, len(packed) // size
        while low < high:
            middle = (low + high) // 2
            start = middle * size
            here = packed[start : start + size]
            if here < word:
                low = middle + 1
            elif here == word:
                return True
            else:
                high = middle
        return False


_words: _Packed | None = None
_technical: frozenset[str] = frozenset()
_common: _Packed = _Packed([])


def loaded() -> bool:
    """Whether the word list has been read (it is, on the first lookup)."""
    return _words is not None


def _read_data() -> bytes:
    """The gzip'd list's bytes; ``b""`` when the package ships none."""
    try:
        return (Path(__file__).parent / "data" / _DATA).read_bytes()
    except OSError:
        pass
    try:  # a zipped install, where the data is no file
        from importlib import resources

        return resources.files("streamrecover.core").joinpath(f"data/{_DATA}").read_bytes()
    except (OSError, ModuleNotFoundError):
        return b""


def _load() -> _Packed:
    global _words, _technical, _common  # noqa: PLW0603 (a load-once cache)
    with _lock:
        if _words is not None:
            return _words
        import gzip  # on the first lookup only: no import cost for a stream that never needs words

        raw = _read_data()
        try:
            text = gzip.decompress(raw).decode("utf-8") if raw else ""
        except (OSError, EOFError, UnicodeDecodeError):
            text = ""  # a damaged list: every word is unknown
        head, _, tail = text.partition("\n#technical\n")
        tail, _, common = tail.partition("\n#common\n")
        lines = head.split("\n")
        # "#" lines (a comment, the section header) open the file; "" ends a section.
        start = 0
        while start < len(lines) and lines[start][:1] == "#":
            start += 1
        _technical = frozenset(tail.split("\n")) - {""}
        _common = _Packed([word for word in common.split("\n") if word])
        # The list is sorted already: packing it (and the technical words,
        # sorted after it) costs a merge of sorted runs, not a sort.
        _words = _Packed([*filter(None, lines[start:]), *sorted(_technical)])
        return _words


def _known(word: str, words: _Packed) -> bool:
    if word in words:
        return True
    return _technical_inflection(word) or _possessive(word, words)


def _possessive(word: str, words: _Packed) -> bool:
    for apostrophe in _APOSTROPHES:
        if word.endswith(apostrophe + "s"):
            return word[:-2] in words
        if word.endswith(apostrophe) and word[:-1].endswith("s"):
            return word[:-1] in words
    return False


def _technical_inflection(word: str) -> bool:
    """``word`` as an inflection of a technical word (SCOWL's words come inflected).

    Only a bare stem inflects: "retries" from "retry", "tokenizers" from
    "tokenizer", "dedented" from "dedent"; never a stem that ends in the suffix
    already ("parsess" is no plural of "parses").
    """
    stems: list[str] = []
    if word.endswith("ies"):
        stems.append(word[:-3] + "y")
    if word.endswith("es"):
        stems.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        stems.append(word[:-1])
    for suffix in ("ed", "ing", "er"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            stems += [stem, stem + "e"]
            if len(stem) >= 2 and stem[-1] == stem[-2]:
                stems.append(stem[:-1])  # "mmapped"
    return any(len(stem) >= 3 and stem in _technical for stem in stems)


def _pieces(token: str) -> list[str]:
    """The parts of an identifier: its camelCase humps ("getUserName", "HTTPServer")."""
    pieces = []
    start = 0
    for index in range(1, len(token)):
        before, here = token[index - 1], token[index]
        after = token[index + 1] if index + 1 < len(token) else ""
        if (before.islower() and here.isupper()) or (
            before.isupper() and here.isupper() and after.islower()
        ):
            pieces.append(token[start:index])
            start = index
    pieces.append(token[start:])
    return pieces


def is_word(token: str) -> bool:
    """Whether ``token`` reads as an English word, or as words glued as names are.

    Letter case aside; a possessive (``"stitcher's"``) is its word. An
    identifier reads as words when each of its camelCase pieces does
    (``"getUserName"``); snake_case and kebab-case pieces come apart at their
    separators, which the caller does not pass. Words glued without a hump are
    no words unless listed ("streamrecover" is, from the READMEs): splitting
    them reads too much as words ("baalcony" would be "Baal" + "cony").

    Args:
        token: letters, possibly with apostrophes inside (no spaces, digits or
            separators).

    Returns:
        False for anything else, and for every token when no list is shipped.
    """
    if not token:
        return False
    words = _words if _words is not None else _load()
    if not words:
        return False
    folded = token.casefold()
    if _known(folded, words):
        return True
    pieces = _pieces(token)
    return len(pieces) > 1 and all(_known(piece.casefold(), words) for piece in pieces)


def is_common(word: str) -> bool:
    """Whether ``word`` is one of the few thousand most common English words (SCOWL size 20).

    Letter case aside. Short words are dense among all words ("ac", "cur",
    "ms" are listed), so a reading of three letters proves a word only when it
    is a common one ("key", "and", "has").
    """
    if _words is None:
        _load()
    return word.casefold() in _common


def is_technical(word: str) -> bool:
    """Whether ``word`` is listed only as a technical word (a name from code: "json", "kwargs").

    Letter case aside. Such a word glued to another is a name ("simplejson"),
    not two words.
    """
    if _words is None:
        _load()
    return word.casefold() in _technical


def is_mostly_english(words: Iterable[str]) -> bool:
    """Whether most of ``words`` (those of three letters or more) are English words.

    The guard for prose the list cannot judge: another language, or code whose
    names are not English. With none (a code fence, numbers), nothing says
    it is not: True.
    """
    total = known = 0
    for word in words:
        if len(word) < 3:
            continue
        total += 1
        known += is_word(word)
    return known >= _ENGLISH_SHARE * total
