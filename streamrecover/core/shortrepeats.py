"""Rule 2d of the stitcher: which reading of a one- or two-letter repeat inside a word is a word.

``"wha"`` + ``"atever"`` repeats an ``a`` ("whatever"); ``"bal"`` + ``"loon"``
goes on exactly across a doubled letter ("balloon"). Character by character
they look alike; the words they would write do not. :class:`ShortRepeatReading`
is the part of :class:`~streamrecover.core.overlap.OverlapChooser` that reads
them: the words the answer wrote before, then the English word list
(:mod:`streamrecover.core.lexicon`), guarded so that code, other languages,
numbers and other scripts keep the word-blind rules. The rule and its
ambiguities are listed in :mod:`streamrecover.core.stitch`.

The rule, as the stitcher applies it:

* **2d. One or two letters inside a word**
(:mod:`~streamrecover.core.shortrepeats`). The shortest candidate, of two
different letters between letters, is removed (``"tota"`` + ``"tal"``:
kept, the word would hold a doubled letter pair, "tatal"), and so is one
letter whose keeping would write it three times (``"instal"`` + ``"ll"``,
``"goo"`` + ``"od"``), at a word's end too (``"seconds"`` + ``"ds"``). One
letter that makes a doubled letter (``"bal"`` + ``"loon"``) is kept: a
doubled letter is the word far more often. Not in numbers (``"0xdf"`` +
``"ff"``). The words the answer already wrote decide first: of the two
readings of the word at the cut, the one written earlier wins (``"each
choice ... each choic"`` + ``"ce"``; a one-letter reading only from six
letters: ``"printed to"`` + ``"o)"`` is "too"). Then English words decide
(:mod:`~streamrecover.core.lexicon`, SCOWL's words and the standard
library's): when exactly one reading is a word, it wins, so ``"wha"`` +
``"atever"`` is "whatever", ``"key"`` + ``"y —"`` is "key", ``"three"`` +
``"ee days"`` is "three", and ``"ban"`` + ``"ana"`` stays "banana"; a word
of three letters or fewer counts only if common (``"ac"`` + ``"c = 0"``
stays "acc"). Removing needs an answer of mostly English words (not
German, not CJK), a Latin word, and no sign of a name in code: ``_ . / \\
@ $`` or a digit before the word, ``_ ( [`` after it, the cut inside a run
of capitals (``"READ_COM"`` + ``"M"``, ``"vLL"`` + ``"LM"``), unless the
removed reading has four letters or more (``"res.json"`` + ``"n()"``, ``"C:\\Progr"``
+ ``"ramData"``: a name in code made of words); keeping needs none of that.
One accented vowel doubled (``"Zürich and Kö"`` + ``"öln"``) is removed unless
the answer doubles vowels as Finnish and Estonian do ("aa", "ää", "taas"): of
33,389 accented Latin letters in freedesktop's MIME names and vim's tutors in
30-odd languages, 91 are doubled, 64 of them Finnish or Estonian ``"ää"``, the
rest typos written on purpose (consonants are kept: Slovak "vyššie", Polish
"Jagiełło"). Likewise a
word's last letter re-sent with the line end or mark the model saw after
it (``"index,"`` + ``"x, so"``, ``"import random\n"`` + ``"m\nimport"``) is
removed in an English answer unless it is
"a" or "I" (after a space it is kept: "the value of f", "for r in rows").
Any repeat shorter than ``min_overlap`` inside a word is kept when the
kept word was written before and the other not (``"the SSE decoder ...
S"`` + ``"SE events"``), or when only the kept reading is a word (``"co"`` +
``"conut"`` is "coconut").

Ambiguities, by design. Frequencies measured on the project's seam corpus
(``python benchmarks/bench_seams.py --in-process``, seed 11;
benchmarks/README.md "Seams") unless said otherwise.

* one or two letters repeated inside a word where both readings are words
  (``"in"`` + ``"n lockstep"``: "inn"; ``"The"`` + ``"e p95"``: "Thee", when
  "the" was not written before; ``"but"`` + ``"t Ops"``), or neither (names and words
  the lexicon lacks), or in code, numbers, CJK or another language, are read
  without words: one letter that makes a doubled letter is kept (duplicated),
  two are removed. "Repeats 1-2 characters inside a word": 100.0% exact on the
  corpus (93.8% before session 8's readings; 50.0% before the lexicon), 95.7%
  on the holdout corpus (83.7% before session 8's rule 2k and readings, 34.6%
  before the lexicon), whose 6 misses of 138 per provider are ``"The"`` +
  ``"e p95"`` (both common, "the" not written before), a snake_case piece no
  word reads (``"cost_usd"`` + ``"d\":"``), an acronym (``"CVE"`` + ``"E-2024"``),
  German (``"mit"`` + ``"t drei"``: no German lexicon), and two numbers (``"v1."``
  + ``"1.25"``, ``"Node.js 20"`` + ``"0.15.1"``: a zero, see
  :mod:`~streamrecover.core.resenttokens`). When both readings are words, in prose (a word followed
  by a space and a letter, outside code, capitalized only at a sentence start),
  the common one wins when only the shorter is common ("in", "if", "but" for
  "inn", "iff", "butt"; "The" + "e" stays "Thee", both common): of 44,620
  doubled-letter cuts of prose words (Node.js, CMake and AWS CLI docs, the
  READMEs) 3 read that way ("css"). A name in code with ``_`` or digits that
  the answer wrote before decides its reading (``"`cost"`` + ``"t_usd`"`` after
  ``cost_usd``). A repeat whose continuation word is just a
  short word (``"I like pizza"`` + ``"a lot"``) is kept, and the space the
  model dropped before it restored (rule 3b). Conversely an exact continuation is altered when
  the word is unknown to the lexicon and its shorter reading a word (names:
  ``"Jan"`` + ``"ne"`` gives "Jane"; ``"x-co"`` + ``"ord"``; typos written on
  purpose), or when a cut in the middle of a doubled letter pair reads both
  ways (``"need"`` + ``"ed"``): of 52,335 exact continuations cut between
  repeated letters in the standard library's modules and this project's
  READMEs, 333 are altered (500 before the lexicon, 8 of the 333 new: names,
  typos, ``"rediss://"``); of 43,482 in prose the lexicon was not built from
  (Rust's release notes, pyenv's documentation, IDLE's news, licences), 356
  (420 before; new: the names "LoongArch", "InnoSetup");
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from streamrecover.core import lexicon

__all__ = ["HOLD", "KEPT", "ShortRepeatReading", "has_word", "partial_word_start"]

#: What :meth:`OverlapChooser.choose` answers when it needs more characters.
HOLD = -1
#: A word the answer wrote before decides a doubled letter from this length on.
_WRITTEN_WORD_MIN = 6
#: A reading this short counts as a word only when it is a common one ("key", not "ac").
_SHORT_WORD_MAX = 3
#: What may follow a word's last letter re-sent alone ("index," + "x, so"). Not a
#: space: a letter alone after a word ending in it is a name there ("value of f",
#: "for r in rows").
_LONE_SEPARATORS = frozenset("\n,;:`'\"")
#: In code, a shorter reading proves a word from this many letters ("json", "ProgramData").
_CODE_WORD_MIN = 4
#: The English words of one letter.
_ONE_LETTER_WORDS = frozenset("ai")
#: What :meth:`ShortRepeatReading._known_reading` answers.
_EITHER = 0
KEPT = 1
_REMOVED = 2
#: The words of a text, for :func:`lexicon.is_mostly_english`: runs of letters.
_WORDS = re.compile(r"[^\W\d_]+")
#: Vowels doubled, as Finnish and Estonian write them ("taas", "määrä").
_DOUBLED_VOWELS = re.compile(r"aa|ii|uu|ää|öö|üü|õõ", re.IGNORECASE)
#: The last code point of the Latin script blocks the lexicon covers (Latin Extended-B).
_LATIN_END = "\u024f"


class ShortRepeatReading:
    """The short in-word decisions of :class:`~streamrecover.core.overlap.OverlapChooser`.

    Not used alone: the chooser sets the attributes below and provides the
    methods declared at the end of the class body.
    """

    # Whether the answer reads as English prose the lexicon can judge (None: not asked yet).
    __slots__ = ("_english",)

    _english: bool | None

    _stripped: str
    _tail_start: int
    _window: int

    if TYPE_CHECKING:
        # Provided by OverlapChooser.

        def _is_table_like(self, length: int) -> bool: ...
        def _repeats_before(self, length: int) -> bool: ...

    def _short_in_word_repeat(self, length: int, held: str, *, at_end: bool) -> int:
        """Rule 2d: ``length`` if the shortest candidate is a 1-2 letter repeat inside a word.

        Two distinct letters ("tota" + "tal", "Inde" + "dex") would write a doubled
        pair of letters ("tatal"), which about one in two thousand cuts inside a
        word meets in real text ("contai" + "ining"); one letter only when keeping it
        would write the same letter three times ("instal" + "ll" gives "installl").
        Either way the words the answer already wrote decide first: of the two
        readings of the word at the cut, the one written earlier wins ("Each
        choice ... each choic" + "ce"); then the lexicon, when exactly one reading
        is an English word ("wha" + "atever", "ban" + "ana": see
        :meth:`_known_reading`). ``HOLD`` when the continuation must show more of
        the word first.
        """
        stripped = self._stripped
        if length > 2 or length >= len(stripped):
            return 0
        text = stripped[len(stripped) - length :]
        before = stripped[len(stripped) - length - 1]
        if length == 2 and before.isalpha() and text[0].isalpha() and text[1] in _LONE_SEPARATORS:
            return self._lone_letter_repeat(length, held)
        start = partial_word_start(stripped)
        after_digit = start > 0 and stripped[start - 1].isdigit()
        if not (text.isalpha() and before.isalpha()) or after_digit:
            return 0  # not letters of a word: "0xdf" + "ff" is a hex number going on
        # A snake_case piece ("cost_us" + "sd") is read by the lexicon only.
        piece = start > 0 and stripped[start - 1] == "_"
        word_end = length
        while word_end < len(held) and held[word_end].isalpha():
            word_end += 1
        if word_end == len(held) and not at_end and len(held) < self._window:
            return HOLD  # the word's end shows which reading the answer wrote before
        complete = at_end or len(held) >= self._window
        named = _written_name(stripped, start, held, length, word_end, complete=complete)
        if named is None:
            return HOLD
        if named >= 0:
            return named
        if piece:
            verdict = 0
        elif length == 2:
            # "ll" + "llama": periodic, a doubled letter reads the same; "need" + "ed"
            # repeats the text's own end. Only the lexicon may still remove them
            # ("three" + "ee days", "needed" + "ed a"), when "needed" is a word
            # and "neededed" none.
            periodic = text[0] == text[1] or self._repeats_before(length)
            verdict = 0 if periodic else length
        else:
            run_before = len(stripped) - len(stripped.rstrip(text))
            run_after = len(held) - len(held.lstrip(text))
            verdict = length if run_before + run_after == 3 and run_before < 3 else 0
        kept = stripped[start:] + held[:word_end]
        removed = stripped[start:] + held[length:word_end]
        if verdict and has_word(stripped, kept, start) and not has_word(stripped, removed, start):
            return 0
        if (
            not verdict
            and len(removed) >= _WRITTEN_WORD_MIN
            and has_word(stripped, removed, start)
            and not has_word(stripped, kept, start)
        ):
            return length  # a short word written before proves nothing ("to" + "o)": "too")
        after = held[word_end] if word_end < len(held) else ""
        reading = self._known_reading(kept, removed)
        if reading == _EITHER and not verdict and length == 1:  # noqa: SIM102 (a reading, then its guard)
            if _in_prose(stripped, start, held, word_end):
                reading = self._common_reading(kept, removed)
        if reading == _REMOVED and _reads_as_code(
            stripped, start, kept, after, long_reading=len(removed) >= _CODE_WORD_MIN
        ):
            reading = _EITHER  # "acc" + "c = 0" is a name, "ac" no word of it
        if reading == _REMOVED and word_end == length and _is_short_word(held[:length]):
            # "I like pizza" + "a lot": the model may have dropped the space before
            # a short word; keeping it loses nothing.
            reading = _EITHER
        if reading == KEPT:
            return 0  # "ban" + "ana": "banana", not "bana"
        if reading == _REMOVED:
            return length  # "wha" + "atever": "whatever", not "whaatever"
        if not verdict and length == 1 and _is_accented(text) and not _doubles_accents(stripped):
            return length  # "Zürich and Kö" + "öln": "öö" is Finnish or Estonian, not German
        return verdict

    def _lone_letter_repeat(self, length: int, held: str) -> int:
        """A word's last letter re-sent with the separator the model saw after it.

        ``"index,"`` + ``"x, so"``, ``"import random\n"`` + ``"m\nimport"``: keeping
        it would write the letter alone between two separators, which in English
        is a word only as "a" or "I" (in other languages often: Spanish "hoy y"),
        so only in an answer of English words, and not in a path or a name
        (``"/var/"`` + ``"r/log"``). After a space the letter is as often a name
        ("the value of f", "for r in rows"): kept.
        """
        stripped = self._stripped
        letter = stripped[len(stripped) - length]
        start = partial_word_start(stripped[: len(stripped) - 1])
        if letter.casefold() in _ONE_LETTER_WORDS or not _is_latin(letter):
            return 0
        if _reads_as_code(stripped, start, "", held[length : length + 1]):
            return 0
        if not self._is_english():
            return 0
        return length

    def _is_english(self) -> bool:
        """Whether the answer's words are mostly English ones (asked once per seam)."""
        if self._english is None:
            # The distinct words the answer wrote, not the partial one at the cut.
            stripped = self._stripped
            tail = stripped[self._tail_start : partial_word_start(stripped)]
            self._english = lexicon.is_mostly_english(set(_WORDS.findall(tail)))
        return self._english

    def _common_reading(self, kept: str, removed: str) -> int:
        """When both readings of a doubled letter are words, the common one (``_REMOVED``), if any.

        ``"retrying in"`` + ``"n lockstep"``, ``"If"`` + ``"f the"``, ``"but"`` + ``"t Ops"``:
        "inn", "iff" and "butt" are words, but rare ones next to "in", "if", "but"
        (SCOWL's size-20 list). Only that way round: a common doubled word ("too",
        "all", "add") stays what the letters say, kept.
        """
        if not _is_latin(kept) or not self._is_english():
            return _EITHER
        if not (lexicon.is_word(kept) and lexicon.is_common(removed)) or lexicon.is_common(kept):
            return _EITHER
        return _REMOVED

    def _known_reading(self, kept: str, removed: str) -> int:
        """Which of two readings of the word at the cut is an English word: ``KEPT``...

        ``KEPT`` (keeping the repeat writes a word, removing it does not),
        ``_REMOVED`` (the other way round), or ``_EITHER`` when both or neither
        are words, when the word holds letters of another script than Latin,
        or when the answer is not mostly English words (another language, code
        whose names are not words): then the word-blind rules decide.
        """
        if not _is_latin(kept):
            return _EITHER
        kept_known = lexicon.is_word(kept)
        if kept_known == lexicon.is_word(removed):
            return _EITHER
        if not self._is_english():
            return _EITHER
        if kept_known:
            return KEPT
        if len(removed) <= _SHORT_WORD_MAX and not lexicon.is_common(removed):
            return _EITHER  # "ms" + "s": a rare short word is as likely a name ("mss")
        return _REMOVED


def _doubles_accents(text: str) -> bool:
    """Whether ``text`` doubles vowels as the languages that double accented ones do.

    Finnish and Estonian write "ää", "öö" and as often "aa", "ii", "uu"
    ("määrittäminen", "taas", "kiitos"); English, German and French almost never.
    """
    return _DOUBLED_VOWELS.search(text) is not None


def _is_accented(letter: str) -> bool:
    """Whether ``letter`` is a Latin vowel with a diacritic (Latin-1 to Latin Extended-B)."""
    return "\u00c0" <= letter <= _LATIN_END and _base_letter(letter) in "aeiouyAEIOUY"


def _base_letter(letter: str) -> str:
    """The letter without its diacritics ("ö" -> "o"), or ``""``."""
    return unicodedata.normalize("NFD", letter)[:1] if letter.isalpha() else ""


def _name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _written_name(
    stripped: str, start: int, held: str, length: int, word_end: int, *, complete: bool
) -> int | None:
    """A name in code the answer wrote before decides (``-1``: no opinion; ``None``: hold).

    ``"the JSON's cost_usd ... `cost"`` + ``"t_usd`"``: of the two readings of the
    name at the cut ("costt_usd", "cost_usd"), the one written before wins.
    Only names that are more than a word (with ``_`` or digits): a word is read by
    the lexicon and the words written before.
    """
    name_end = word_end
    while name_end < len(held) and _name_char(held[name_end]):
        name_end += 1
    if name_end == len(held) and not complete:
        return None
    name_start = start
    while name_start > 0 and _name_char(stripped[name_start - 1]):
        name_start -= 1
    kept = stripped[name_start:] + held[:name_end]
    removed = stripped[name_start:] + held[length:name_end]
    if kept.isalpha():
        return -1
    kept_written = _has_name(stripped, kept, name_start)
    removed_written = _has_name(stripped, removed, name_start)
    if kept_written == removed_written:
        return -1
    return length if removed_written else 0


def _has_name(text: str, name: str, end: int) -> bool:
    """Whether ``name`` occurs as a whole name (letters, digits, ``_``) in ``text[:end]``."""
    position = text.find(name, 0, end)
    while position >= 0:
        after = position + len(name)
        if (position == 0 or not _name_char(text[position - 1])) and (
            after >= len(text) or not _name_char(text[after])
        ):
            return True
        position = text.find(name, position + 1, end)
    return False


def _in_prose(stripped: str, start: int, held: str, word_end: int) -> bool:
    """Whether the word at the cut reads as prose: a word of a sentence, not a name.

    Followed by a space and a letter, on a line that is not indented code nor
    inside a code span or block, and capitalized only where a sentence starts
    (``"(For"`` + ``"rest L Norvell"`` is a name; ``"conn)"``, ``"an = "`` are variables).
    """
    if held[word_end : word_end + 1] != " " or not held[word_end + 1 : word_end + 2].isalpha():
        return False
    line_start = stripped.rfind("\n", 0, start) + 1
    line = stripped[line_start:]
    if line.startswith(("    ", "\t")) or line.count("`") % 2 or stripped.count("```") % 2:
        return False
    if stripped[start].isupper():
        before = stripped[line_start:start].rstrip(" \"'\u201c\u2018*_")
        return not before or before[-1] in ".!?:"
    return True


def _reads_as_code(
    stripped: str, start: int, word: str, after: str, *, long_reading: bool = False
) -> bool:
    """Whether the word at the cut is a name in code or an acronym.

    There a word the lexicon lacks is the rule ("self.acc", "curr_append",
    "COMM", "vLLM"), so a shorter reading that is a word ("ac", "COM") proves
    nothing: next to ``_ . / \\ @ $`` or a digit before, ``_ ( [`` after, or
    with the cut in a run of capitals ("ReqLLM", "JSStream", "dns.FORMERR").
    A shorter reading of four letters or more (``long_reading``) is a word even next to
    those marks (``"res.json"`` + ``"n()"``, ``"C:\\Progr"`` + ``"ramData"``).
    """
    before = stripped[start - 1] if start > 0 else ""
    cut = len(stripped) - start
    marked = bool(before) and (before in "_./\\@$" or before.isdigit())
    if (marked or after in ("_", "(", "[")) and not long_reading:
        return True
    # The capitals around the cut: the last letters of the partial word, the
    # first of the continuation (an acronym inside a name is all capitals).
    return word[cut - 1 : cut + 1].isupper()


def _is_short_word(text: str) -> bool:
    """Whether ``text`` is an English word of one or two letters ("a", "I", "an", "on")."""
    if len(text) == 1:
        return text.casefold() in _ONE_LETTER_WORDS
    return len(text) == 2 and lexicon.is_common(text)


def _is_latin(word: str) -> bool:
    """Whether every letter of ``word`` is of the Latin script (the lexicon's)."""
    return all(ch <= _LATIN_END for ch in word)


def partial_word_start(text: str) -> int:
    """Where the letters that end ``text`` (the partial word at the cut) start."""
    start = len(text)
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    return start


def has_word(text: str, word: str, end: int) -> bool:
    """Whether ``word`` occurs as a whole word in ``text[:end]`` (letter case aside)."""
    if not word:
        return False
    haystack = text[:end].casefold()
    needle = word.casefold()
    position = haystack.find(needle)
    while position >= 0:
        after = position + len(needle)
        if (position == 0 or not haystack[position - 1].isalpha()) and (
            after == len(haystack) or not haystack[after].isalpha()
        ):
            return True
        position = haystack.find(needle, position + 1)
    return False
