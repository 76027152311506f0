"""The lexicon (core/lexicon.py) and the short in-word repeats it decides (rule 2d, issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streamrecover.core import lexicon
from streamrecover.testing.seams.inprocess import stitch_pieces

PACKAGE_ROOT = Path(lexicon.__file__).parent.parent.parent


def stitch_every_way(committed: str, continuation: str, *, saw_whitespace: bool) -> set[str]:
    """The consumer's texts for every split of ``continuation`` in two, and one char a delta."""
    splits = [[continuation[:i], continuation[i:]] for i in range(len(continuation) + 1)]
    splits.append(list(continuation))
    finals = set()
    for pieces in splits:
        text = stitch_pieces(committed, pieces, prefill=not saw_whitespace)
        finals.add(text)
    return finals


# -- the lexicon ---------------------------------------------------------------------


def test_import_does_not_load_the_word_list() -> None:
    probe = (
        f"import sys; sys.path.insert(0, {str(PACKAGE_ROOT)!r})\n"
        "import json, streamrecover, streamrecover.core.lexicon as lexicon\n"
        "from streamrecover.core.stitch import Stitcher\n"
        "before = lexicon.loaded()\n"
        "lexicon.is_word('balloon')\n"
        "print(json.dumps([before, lexicon.loaded()]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == [False, True]


def test_the_word_list_and_its_licence_are_shipped() -> None:
    data = PACKAGE_ROOT / "streamrecover" / "core" / "data"
    assert (data / "english-words.txt.gz").stat().st_size < 500_000
    assert "Kevin Atkinson" in (data / "english-words.LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "word",
    ["whatever", "balloon", "Banana", "THE", "stitcher's", "retries", "getUserName", "mmap"],
)
def test_words(word: str) -> None:
    assert lexicon.is_word(word)


@pytest.mark.parametrize(
    "word", ["whaatever", "baloon", "bana", "getUserNaame", "baalcony", "", "Kööln"]
)
def test_no_words(word: str) -> None:
    assert not lexicon.is_word(word)


def test_common_words_and_english_texts() -> None:
    assert lexicon.is_common("key")
    assert not lexicon.is_common("ms")
    assert lexicon.is_mostly_english(["The", "loader", "reads", "settings"])
    assert not lexicon.is_mostly_english(["Die", "Größe", "der", "Datei", "hängt", "vom"])
    assert lexicon.is_mostly_english([])  # nothing says it is not English
    assert not lexicon.is_mostly_english(["Hola"])


# -- repeats the lexicon removes -----------------------------------------------------


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # The example: one letter repeated where it makes a doubled letter.
        (
            "Nothing should go missing, wha",
            "atever the network did.",
            "Nothing should go missing, whatever the network did.",
        ),
        ("A partial answer is never lost.\n\n**No", "ote:** a partial", None),
        ("Install it with pip and then configure the streamrec", "cover client.", None),
        ("Delete the old private key", "y and make sure.", None),
        ("Then the loader reads", "s settings in this order.", None),
        ("Only job 4411 needed", "ed a retry.", None),
        ("Bergen got 32.0 mm of rain in three", "ee days; Oslo got less.", None),
        ("It is good with a balloon, a coffee", "ee, a success.", None),
        ("Each worker takes the next index,", "x, so no URL is fetched twice.", None),
        ("Here is a retry helper:\n\nimport random\n", "m\nimport time\n", None),
    ],
)
def test_short_in_word_repeats_the_lexicon_removes(
    committed: str, continuation: str, final: str | None
) -> None:
    for saw_whitespace in (False, True):
        finals = stitch_every_way(committed, continuation, saw_whitespace=saw_whitespace)
        assert len(finals) == 1  # any chunking gives the same text
        (text,) = finals
        if final is not None:
            assert text == final
        # The repeat is gone: the seam reads as the intended answer.
        assert "whaa" not in text and "Noote" not in text and "reccover" not in text
        assert "keyy" not in text and "readss" not in text and "neededed" not in text
        assert "threeee" not in text and "coffeeee" not in text and ",x," not in text
        assert "\nm\n" not in text


# -- exact continuations that must stay exact ----------------------------------------


@pytest.mark.parametrize(
    ("committed", "continuation"),
    [
        ("I read a good bo", "ok about it."),  # "book", not "bok"
        ("She ate a ban", "ana for lunch."),  # "banana", not "bana"
        ("We need a bal", "loon for the party."),
        ("The list is contain", "ing the items it needs."),
        # A doubled letter in a code identifier: "acc", not "ac"; "self.curr".
        ("def total(items):\n    ac", "c = 0\n    for item in items:"),
        ("for item in items:\n    self.cur", "r = item\n    x = 1"),
        ("The constants are READ_COM", "M and READ_DATA."),
        ("The variable of the loop; for r in rows the value of ", "f exactly."),
        # Another language: the answer's words are not English ones.
        ("Die Größe der Datei hängt vom Format ab, und man schreibt es mit", "t drei f."),
        ("Mañana vamos al mercado de la ciudad, hoy ", "y mañana también."),
        # CJK: no lexicon reading at all (a doubled Han character is rule 2k's, in
        # tests/core/test_resent_tokens.py).
        ("断点续传的关键", "在于：客户端记住已经收到的字节数。"),
    ],
)
def test_exact_continuations_stay_exact(committed: str, continuation: str) -> None:
    for saw_whitespace in (False, True):
        if not saw_whitespace and committed != committed.rstrip():
            continue  # a prefill strips the seam; the model's continuation would differ
        finals = stitch_every_way(committed, continuation, saw_whitespace=saw_whitespace)
        assert finals == {committed + continuation}, (saw_whitespace, finals)


def test_a_word_start_repeat_is_kept_when_only_the_kept_reading_is_a_word() -> None:
    # Rule 2b removes a repeated word start ("asks ag" + "again") but not a cut
    # inside a word whose glued reading is the word: "co" + "conut" is "coconut".
    assert stitch_every_way("Then add the co", "conut milk.", saw_whitespace=True) == {
        "Then add the coconut milk."
    }
    assert stitch_every_way("He asks ag", "again, without", saw_whitespace=True) == {
        "He asks again, without"
    }
