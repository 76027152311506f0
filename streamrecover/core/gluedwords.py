"""Whether two pieces of text glued at a seam read as two words or as one.

:mod:`~streamrecover.core.droppedspace` asks it of the word the model saw last
and the continuation's first (``"go"`` + ``"missing"``: two words; ``"note"`` +
``"book"``: one). Two English words (:mod:`~streamrecover.core.lexicon`) that
glue into none read apart, unless the glued word is one the answer wrote, or
the pieces look like parts of a word the list lacks: a prefix (``"micro"`` +
``"tasks"``), a suffix (``"programmatic"`` + ``"ally"``), an inflection
(``"check"`` + ``"pointed"``), a technical word (``"simple"`` + ``"json"``),
pieces of a name (``"Greg"`` + ``"or"``). Pure functions.
"""

from __future__ import annotations

import re
import unicodedata

from streamrecover.core import lexicon

__all__ = [
    "APOSTROPHES",
    "CAMEL_FREE_WORDS",
    "FUNCTION_WORDS",
    "FUNCTION_WORD_MAX",
    "ONE_LETTER_WORDS",
    "counts_as_word",
    "fold_accents",
    "is_letters",
    "known",
    "read_apart",
    "written",
]


def _words_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: A word this short counts only when it is a common one (SCOWL size 20), or "a"/"I".
_SHORT_WORD_MAX = 3
ONE_LETTER_WORDS = frozenset({"a", "A", "I"})
#: Both words this long at least, written apart before, outweigh a rare word glued ("the e").
_WRITTEN_APART_MIN = 3
#: Word pieces that glue into words the list lacks ("prog" + "rammatic" + "ally").
_PREFIXES = _words_of(
    "anti auto back bi co counter cross de dis down em en fore geo hyper infra inter intra"
    " meta micro mid mini mis mono multi neo non off omni out over poly post pre pro proto"
    " pseudo quasi re retro self semi sub super tele trans tri ultra un under uni up"
)
_SUFFIXES = _words_of(
    "ability ably al ally dom ed er ers est ful hood ies ing ings ion ions ism ist ists ity"
    " ive ization ize ized izes less ment ments ness or ors ous ship ships ure ward wards wise"
)
#: English function words: no compound word ends with one ("overthe" is two words).
FUNCTION_WORDS = _words_of(
    "a about after again all also an and any are as at be been before being between both but"
    " by can could did do does down during each either for from had has have he her here him"
    " his how i if in into is it its just may me might more most must my neither no not of off"
    " on once only onto or other our out over own same shall she should so some such than that"
    " the their them then there these they this those through to too under up us very was we"
    " were what when where which who whom why will with within without would you your"
)
#: The longest function word (a longer word after a mark is never one).
FUNCTION_WORD_MAX = max(map(len, FUNCTION_WORDS))
#: Function words that open no camelCase name: none in CPython's sources, the Node.js API
#: docs and this project's READMEs (where "is", "to", "do", "from", "on", "the", "and"
#: all do: "isAbsolute", "onClick", "theAnswer"), and none of the shapes code names
#: take elsewhere ("outFile", "sameSite", "whenReady", "soFar", "thenable" left out);
#: glued to a capitalized word they lost a space ("but" + "Ops will").
CAMEL_FREE_WORDS = _words_of(
    "about again also but could during either he her him his me might neither our shall"
    " she such than that their them there they those through us very we were who whom why"
    " within would you your"
)
#: The last code point of the Latin script blocks the lexicon covers (Latin Extended-B).
_LATIN_END = "\u024f"
APOSTROPHES = "'\u2019"


def is_letters(token: str) -> bool:
    """Letters of the Latin script, possibly with apostrophes inside."""
    if not token or not token[0].isalpha() or not token[-1].isalpha():
        return False
    doubled = any(token.count(a + b) for a in APOSTROPHES for b in APOSTROPHES)
    return not doubled and all(
        (ch.isalpha() and ch <= _LATIN_END) or ch in APOSTROPHES for ch in token
    )


def fold_accents(token: str) -> str:
    """``token`` without its combining marks: "façade" -> "facade", "naïve" -> "naive"."""
    if token.isascii():
        return token
    decomposed = unicodedata.normalize("NFD", token)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def known(token: str) -> bool:
    """Whether ``token`` is a listed word, its accents aside ("façade" is "facade")."""
    if lexicon.is_word(token):
        return True
    folded = fold_accents(token)
    return folded != token and lexicon.is_word(folded)


def counts_as_word(token: str) -> bool:
    """Whether ``token`` proves a word: a listed word, common if it is this short, or "a"/"I"."""
    if len(token) == 1:
        return token in ONE_LETTER_WORDS
    if not known(token):
        return False
    return len(token) > _SHORT_WORD_MAX or lexicon.is_common(token)


def written(stripped: str, phrase: str, *, fold: bool = True, whole: bool = True) -> bool:
    """Whether ``phrase`` occurs in ``stripped`` from a word start (and to a word end if ``whole``).

    Letter case aside if ``fold``. Not ``whole``, an inflection counts: "ciphertexts"
    after "ciphertext".
    """
    pattern = r"(?<![\w'])" + re.escape(phrase) + (r"(?![\w])" if whole else "")
    return re.search(pattern, stripped, re.IGNORECASE if fold else 0) is not None


def read_apart(stripped: str, left: str, right: str) -> bool:
    """Two words: restored when both are words and they glue into none the answer wrote."""
    if not right[0].islower() and right != "I":
        # "fileName", "onClick": camelCase glues a capital on; not after a word that
        # opens no such name ("but" + "Ops will").
        return _capital_after_camel_free(stripped, left, right)
    if left[0].islower() and not left.islower():
        return False  # "iPhone"-like names
    if not left.islower() and not left.istitle() and left != left.upper():
        return False
    glued = left + right
    if known(glued):
        # Written apart before, and no common word glued: "the e" + ... stays "thee".
        return (
            min(len(left), len(right)) >= _WRITTEN_APART_MIN
            and not lexicon.is_common(glued)
            and written(stripped, f"{left} {right}", fold=False)
            and not written(stripped, glued)
        )
    if not (counts_as_word(left) and counts_as_word(right)):
        return False
    if _compound_like(left, right) or _inflected_word(glued):
        return False
    return not written(stripped, glued, whole=False)


def _capital_after_camel_free(stripped: str, left: str, right: str) -> bool:
    """``"but"`` + ``"Ops"``: a capitalized word after a word that opens no camelCase name."""
    if left not in CAMEL_FREE_WORDS or not right.istitle() or len(right) < 2:
        return False
    if not (known(right) or written(stripped, right, fold=False)):
        return False
    glued = (left + right).casefold()
    return not known(glued) and not written(stripped, left + right, whole=False)


def _compound_like(left: str, right: str) -> bool:
    """Halves that glue into words the list lacks: pieces of a name, affixes, names in code."""
    # A capitalized piece that is no common word and a short or rare piece after
    # it: a name ("Greg" + "or", "Kerb" + "eros").
    if (
        left[0].isupper()
        and len(left) > 1
        and not lexicon.is_common(left)
        and (len(right) <= 2 or not lexicon.is_common(right))
    ):
        return True
    if lexicon.is_technical(left) or lexicon.is_technical(right):
        return True  # "simple" + "json": a name from code
    left_folded, right_folded = left.casefold(), right.casefold()
    if right_folded in FUNCTION_WORDS:
        return False  # "inthe", "overthe": no compound ends with "the"
    if right_folded in ("able", "ably"):
        return left_folded not in FUNCTION_WORDS  # "clone" + "able"; not "be" + "able"
    return right_folded in _SUFFIXES or left_folded in _PREFIXES


def _inflected_word(token: str) -> bool:
    """Whether ``token`` is an inflection of a listed word the list lacks ("checkpointed")."""
    folded = token.casefold()
    for suffix in ("ing", "ed", "es", "er", "s"):
        if folded.endswith(suffix) and len(folded) - len(suffix) >= 4:
            stem = folded[: -len(suffix)]
            if lexicon.is_word(stem) or lexicon.is_word(stem + "e"):
                return True
            if stem[-1] == stem[-2] and lexicon.is_word(stem[:-1]):
                return True  # "mapped"
    return False
