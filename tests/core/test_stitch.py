"""The stitcher: overlap removal, seam whitespace, restarts, chunking independence."""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from streamrecover.core.errors import UsageError
from streamrecover.core.stitch import Stitcher

ZWJ = "\u200d"
ACUTE = "\u0301"
GRAVE = "\u0300"


@dataclass(frozen=True)
class Outcome:
    released: str
    overlap: int
    restarted: bool
    rewind_to: int | None
    final: str  # the consumer's text: committed, rewound, plus what was released
    space_restored: bool = False


def stitch(committed: str, chunks: list[str], **options: int) -> Outcome:
    """Feed ``chunks`` one by one, checking the holding bound after every call."""
    stitcher = Stitcher(committed, **options)  # type: ignore[arg-type]
    window = options.get("window", 2000)
    released = []
    for chunk in chunks:
        released.append(stitcher.feed(chunk))
        assert stitcher.held <= window
    released.append(stitcher.finish())
    assert stitcher.decided
    text = "".join(released)
    base = committed if stitcher.rewind_to is None else committed[: stitcher.rewind_to]
    return Outcome(
        text,
        stitcher.overlap,
        stitcher.restarted,
        stitcher.rewind_to,
        base + text,
        stitcher.space_restored,
    )


def stitch_every_way(committed: str, continuation: str, **options: int) -> Outcome:
    """Whole, character by character and split at every point: all must agree."""
    whole = stitch(committed, [continuation], **options)
    assert stitch(committed, list(continuation), **options) == whole
    for cut in range(len(continuation) + 1):
        split = [continuation[:cut], continuation[cut:]]
        assert stitch(committed, split, **options) == whole, cut
    # Whatever the rule decided, the released text is the continuation minus
    # what was dropped from its start (after a space the model dropped, rule 3b).
    assert whole.released == " " * whole.space_restored + continuation[whole.overlap :]
    return whole


# -- overlap ------------------------------------------------------------------------


def test_clean_continuation_is_released_whole() -> None:
    outcome = stitch_every_way("The quick brown", " fox jumps")
    assert outcome.final == "The quick brown fox jumps"
    assert (outcome.overlap, outcome.restarted, outcome.rewind_to) == (0, False, None)


def test_repeated_word_is_removed() -> None:
    outcome = stitch_every_way("the quick brown", "brown fox")
    assert outcome.final == "the quick brown fox"
    assert outcome.overlap == 5


def test_repeated_words_are_removed() -> None:
    outcome = stitch_every_way("the quick brown", "quick brown fox")
    assert outcome.final == "the quick brown fox"
    assert outcome.overlap == 11


def test_repeated_sentence_is_removed() -> None:
    committed = "First, boil the water. Then add the pasta and stir it well."
    outcome = stitch_every_way(
        committed, "Then add the pasta and stir it well. Drain after ten minutes."
    )
    assert outcome.final == committed + " Drain after ten minutes."


def test_restarted_partial_word_is_removed() -> None:
    outcome = stitch_every_way("Now the implementa", "implementation details")
    assert outcome.final == "Now the implementation details"


def test_whole_committed_text_repeated_is_removed() -> None:
    outcome = stitch_every_way("Hello world.", "Hello world. Next")
    assert outcome.final == "Hello world. Next"
    assert outcome.overlap == 12
    assert outcome.restarted
    assert outcome.rewind_to is None


def test_word_overlap_with_the_seam_whitespace_in_between() -> None:
    outcome = stitch_every_way("the quick brown ", "brown fox")
    assert outcome.final == "the quick brown fox"
    outcome = stitch_every_way("the quick brown\n", "brown\nfox")
    assert outcome.final == "the quick brown\nfox"


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # A single letter inside a word, digits, symbols: coincidences, kept.
        ("We need a bal", "loon", "We need a balloon"),
        ("It costs 10", "00 dollars", "It costs 1000 dollars"),
        ("Example:\n``", "`python\nprint(1)", "Example:\n```python\nprint(1)"),
        ("This is *", "*important**", "This is **important**"),
        # "a" is not removed; the space the model dropped before it is restored (rule 3b).
        ("I like pizza", "a lot", "I like pizza a lot"),
    ],
)
def test_short_coincidental_overlap_is_not_removed(
    committed: str, continuation: str, final: str
) -> None:
    assert stitch_every_way(committed, continuation).final == final


def test_text_doubling_a_short_word_at_the_cut_reads_as_a_token_repeat() -> None:
    # Documented ambiguity: " is" re-sent with its space reads the same as the
    # text's own "is is"; a model re-sending its last token is the likelier one
    # (" a" + " a cost" is never right doubled).
    assert stitch_every_way("What it is ", " is unclear").final == "What it is unclear"
    assert stitch_every_way("Each choice has a ", " a cost").final == "Each choice has a cost"


def test_single_letter_word_repeated_is_removed() -> None:
    assert stitch_every_way("I saw a", "a cat").final == "I saw a cat"


def test_short_repeated_pattern_loses_no_text() -> None:
    # "..." and "=====" cannot tell a repeat from more of the same: keep it all.
    assert stitch_every_way("Loading........", "....done").final == "Loading............done"
    outcome = stitch_every_way("Title\n==========", "=====\nBody")
    assert outcome.final == "Title\n===============\nBody"


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # Ambiguous by nature, read as repeats (issue 11): numbers of two or more
        # digits are words, a word restarted from its start is a repeat, and a
        # word of three or more letters re-sent with its space is a token repeat.
        ("in the year 20", "20 we met", "in the year 20 we met"),
        ("the cat", "cats sleep", "the cats sleep"),
        ("It was very ", " very good", "It was very good"),
    ],
)
def test_ambiguous_short_repeats_are_read_as_repeats(
    committed: str, continuation: str, final: str
) -> None:
    assert stitch_every_way(committed, continuation).final == final


@pytest.mark.parametrize(
    ("committed", "continuation", "seam", "final"),
    [
        # A short word re-sent whole with its space (rule 2b, token style).
        (
            "the server is overloaded. I",
            " I know that",
            None,
            "the server is overloaded. I know that",
        ),
        ("from 340 ms to 118 ms", " ms, and", None, "from 340 ms to 118 ms, and"),
        ("Each choice has a ", " a cost;", "", "Each choice has a cost;"),
        ("if item.price > 0", " 0:\n", None, "if item.price > 0:\n"),
        # A number inside a word ("p99"): digits after letters start a word.
        ("The p99", "99 latency fell", None, "The p99 latency fell"),
        # Rule 2d: two letters repeated inside a word would double a letter pair;
        # one letter would triple it.
        ("def tota", "tal(items):", None, "def total(items):"),
        ("raise Inde", "dexError", None, "raise IndexError"),
        ("and a faç", "açade stays", None, "and a façade stays"),
        ("    pip instal", "ll 'streamrecover'", None, "    pip install 'streamrecover'"),
        ("It is a goo", "od day", None, "It is a good day"),
        # ... and at a word's end ("secondsds").
        ("after 60 seconds", "ds, it closes", None, "after 60 seconds, it closes"),
        # Rule 2c: the end of a line, its line break and the indentation the
        # model saw after it (no prefill).
        (
            "    for item in items:\n    ",
            ":\n        if item",
            "",
            "    for item in items:\n        if item",
        ),
        (
            "    def pop(self):\n      ",
            "):\n        if not",
            "",
            "    def pop(self):\n        if not",
        ),
        (
            "        self.items.append(item)\n",
            "m)\n\n    def pop",
            "",
            "        self.items.append(item)\n\n    def pop",
        ),
    ],
)
def test_repeats_read_from_the_shape_of_the_joined_text(
    committed: str, continuation: str, seam: str | None, final: str
) -> None:
    outcome = stitch_every_way(committed, continuation, seam_whitespace=seam)  # type: ignore[arg-type]
    assert outcome.final == final


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # Kept: the continuation goes on repeating the short word ("ha ha ha").
        ("He laughed: ha", " ha ha ha. Then", "He laughed: ha ha ha ha. Then"),
        # Kept: in a row of numbers a digit recurs by nature.
        ("m = [[1 0", " 0 1]]", "m = [[1 0 0 1]]"),
        # Kept: a doubled letter is far more often the word ("bal" + "loon").
        ("We need a bal", "loon", "We need a balloon"),
        # Kept: a pair of equal letters inside a word reads as a doubled letter,
        # unless the lexicon knows the other reading ("a gree" + "eeting": "greeting").
        ("a grii", "iiting", "a griiiiting"),
    ],
)
def test_short_in_word_readings_that_stay(committed: str, continuation: str, final: str) -> None:
    assert stitch_every_way(committed, continuation).final == final


def test_doubled_letter_pair_in_the_text_is_read_as_a_repeat() -> None:
    # Documented ambiguity of rule 2d: about one cut inside a word in two thousand
    # falls in the middle of a doubled pair ("contain" + "ing", "need" + "eded").
    # Where the lexicon knows only the kept word ("containing"), it is kept
    # (tests/core/test_lexicon_seams.py); where both are words it is not.
    assert stitch_every_way("a list contain", "ing it").final == "a list containing it"
    assert stitch_every_way("We still need", "ed it done").final == "We still need it done"


def test_words_the_answer_already_wrote_decide_a_short_in_word_repeat() -> None:
    # Of the two readings of the word at the cut, the one written earlier wins.
    committed = "Each choice has a cost; each choic"
    assert stitch_every_way(committed, "ce has a place.").final == (
        "Each choice has a cost; each choice has a place."
    )
    committed = "Lists containing lists; a list contain"
    assert stitch_every_way(committed, "ing it").final == (
        "Lists containing lists; a list containing it"
    )
    # A word start repeated is kept when the answer already wrote the kept word.
    committed = "The SSE decoder reads 40,000 S"
    assert stitch_every_way(committed, "SE events").final == committed + "SE events"
    assert stitch_every_way("def dedent(text): ... def de", "dent(").final == (
        "def dedent(text): ... def dedent("
    )
    # A short word written before proves nothing ("to" + "o)" is "too)").
    assert stitch_every_way("it goes to the log, printed to", "o).").final == (
        "it goes to the log, printed too)."
    )
    # Neither written before: the lexicon reads the word ("choice", not "choicce";
    # tests/core/test_lexicon_seams.py); unknown to it, a doubled letter is kept.
    assert stitch_every_way("It skips the choic", "ce").final == "It skips the choice"
    assert stitch_every_way("It skips the cholc", "ce").final == "It skips the cholcce"


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # Padded table: the row's cells must end under the row above's "|".
        (
            "| step | count |\n|------|-------|\n| 1    | 0",
            "| 0     |\n| 2",
            "| step | count |\n|------|-------|\n| 1    | 0     |\n| 2",
        ),
        # The separator row ends under the header's "|": four dashes repeated.
        (
            "| mode   | overhead |\n|--------|------",
            "--------|\n| memory",
            "| mode   | overhead |\n|--------|----------|\n| memory",
        ),
        # The line end and the "| " of the next row repeated.
        (
            "| a | b |\n|---|---|\n| 1 | 2 |\n| ",
            "|\n| 3 | 4 |\n",
            "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n",
        ),
        # A table of zeros: the shorter reading that fits the row wins.
        (
            "| a | b | c |\n|---|---|---|\n| 0 | 0 | 0 |\n| 0 | 0 | ",
            " 0 | 0 |\n| 0 | 0 | 1 |\n",
            "| a | b | c |\n|---|---|---|\n| 0 | 0 | 0 |\n| 0 | 0 | 0 |\n| 0 | 0 | 1 |\n",
        ),
        # An exact continuation of a table is left alone.
        (
            "| a | b |\n|---|---|\n| 0 | 0 |\n| 0 | ",
            "0 |\n| 1 | 0 |\n",
            "| a | b |\n|---|---|\n| 0 | 0 |\n| 0 | 0 |\n| 1 | 0 |\n",
        ),
    ],
)
def test_table_rows_keep_the_tables_shape(committed: str, continuation: str, final: str) -> None:
    assert stitch_every_way(committed, continuation, seam_whitespace="").final == final  # type: ignore[arg-type]


def test_prefill_that_stripped_a_rows_line_end_reads_the_next_row() -> None:
    committed = "| step | count | ratio |\n|------|-------|-------|\n| 3    | 10    | 0.25  |\n"
    outcome = stitch_every_way(committed, "10    | 0.25  |\n| 4    | 0     | 0.00  |\n")
    assert outcome.final == committed + "| 4    | 0     | 0.00  |\n"
    # The exact continuation, with or without the line end re-sent, is left alone.
    for continuation in ("\n| 4    | 0     | 0.00  |\n", "| 4    | 0     | 0.00  |\n"):
        outcome = stitch_every_way(committed, continuation)
        assert outcome.final == committed + "| 4    | 0     | 0.00  |\n"


def test_restart_that_glues_a_heading_mid_line_is_rewound() -> None:
    committed = "## Configuration\n\nThe loader reads:\n\n- defaults\n- may incl"
    outcome = stitch_every_way(committed, "## How configuration is loaded\n\n1. Defaults")
    assert outcome.final == "## How configuration is loaded\n\n1. Defaults"
    # At a line start a new heading may open like the first one: not a restart.
    committed = "## Configuration\n\nThe loader reads files.\n\n"
    outcome = stitch_every_way(committed, "## Usage\n\nRun it.")
    assert outcome.final == committed + "## Usage\n\nRun it."


def test_restart_gluing_the_first_word_of_the_answer_to_a_word_is_rewound() -> None:
    # The model saw text ending in a letter or a digit and wrote the answer's first
    # word, capitalized, with no space before it: the answer again, worded anew.
    committed = "The query below finds customers who"
    for seam in (None, ""):
        outcome = stitch_every_way(
            committed, "The following query lists them", seam_whitespace=seam
        )  # type: ignore[arg-type]
        assert outcome.rewind_to == 4
        assert outcome.final == "The following query lists them"
    outcome = stitch_every_way("Here is a retry helper:\n\ndef retry(base=0", "Here's one way:")
    assert outcome.final == "Here's one way:"
    outcome = stitch_every_way("Yes. In Python the sort keeps their", "Yes — it is stable.")
    assert outcome.final == "Yes — it is stable."
    # A digit and a dot are inside a number: "3." + "Yes" is glued too.
    outcome = stitch_every_way("Yes. In Python 3.", "Yes — it is stable.")
    assert outcome.final == "Yes — it is stable."


def test_first_word_of_the_answer_after_a_space_a_partial_word_or_camelcase_is_kept() -> None:
    # After a space (the model saw it), a capitalized word is the text going on.
    committed = "The logs are written to disk. Copy them with "
    outcome = stitch_every_way(committed, "The tool below.", seam_whitespace="")  # type: ignore[arg-type]
    assert outcome.final == committed + "The tool below."
    # The text ends with the start of the word: a repeat of the partial word (rule 2).
    committed = "You can retry the request. You can resume from the cut. Yo"
    outcome = stitch_every_way(committed, "You can also restart it.")
    assert outcome.final == committed[:-2] + "You can also restart it."
    # A name going on in CamelCase, its last part a capitalized word.
    committed = "Error codes are listed below; a wrong argument raises Type"
    outcome = stitch_every_way(committed, "Error at once.")
    assert outcome.final == committed + "Error at once."
    # A doubled word at the opening is not glued: the space is there.
    committed = "The answer is short. Then"
    outcome = stitch_every_way(committed, " The end.")
    assert outcome.final == committed + " The end."


def test_restart_inside_an_open_code_block_is_rewound() -> None:
    # A fence with an info string cannot close the block the text is in.
    committed = "```js\nasync function fetchAll(urls) {\n  return results;\n"
    for seam in (None, ""):
        outcome = stitch_every_way(
            committed, "```javascript\nconst fetchAll = 1;", seam_whitespace=seam
        )  # type: ignore[arg-type]
        assert outcome.final == "```javascript\nconst fetchAll = 1;"
    # A line of prose opening like the answer, inside the code block it opened later.
    committed = "Here is a retry helper:\n\n```python\nimport random\n"
    outcome = stitch_every_way(committed, "Here is a small helper:\n\n```python")
    assert outcome.final == "Here is a small helper:\n\n```python"


def test_closing_fence_or_code_line_inside_an_open_block_is_kept() -> None:
    committed = "```js\nasync function fetchAll(urls) {\n  return results;\n}\n"
    outcome = stitch_every_way(committed, "```\n\nEach worker takes an index.")
    assert outcome.final == committed + "```\n\nEach worker takes an index."
    # After the block is closed a new paragraph may open like the answer did.
    committed = "Here is a retry helper:\n\n```python\nimport random\n```\n\n"
    outcome = stitch_every_way(committed, "Here is a second helper, with jitter.")
    assert outcome.final == committed + "Here is a second helper, with jitter."


def test_sentence_mark_resent_after_the_word_it_ends_is_removed() -> None:
    for seam in (None, ""):
        outcome = stitch_every_way("It isn't a luxury.", ". It is the point.", seam_whitespace=seam)  # type: ignore[arg-type]
        assert outcome.final == "It isn't a luxury. It is the point."
        outcome = stitch_every_way("Rain in three days;", "; Oslo got less.", seam_whitespace=seam)  # type: ignore[arg-type]
        assert outcome.final == "Rain in three days; Oslo got less."
    outcome = stitch_every_way("- `timeout`: ", ": 30 seconds", seam_whitespace="")  # type: ignore[arg-type]
    assert outcome.final == "- `timeout`: 30 seconds"


def test_sentence_mark_that_is_text_is_kept() -> None:
    # reST's literal block marker, a path after a space, a mark after a mark.
    outcome = stitch_every_way("Implement it like this:", ":\n\n    def f(): ...")
    assert outcome.final == "Implement it like this::\n\n    def f(): ..."
    outcome = stitch_every_way("Then run cd .", ". && ls", seam_whitespace="")  # type: ignore[arg-type]
    assert outcome.final == "Then run cd .. && ls"
    outcome = stitch_every_way("Wait..", ". Then go.", seam_whitespace="")  # type: ignore[arg-type]
    assert outcome.final == "Wait... Then go."


def test_restart_after_the_indentation_of_a_new_line_is_rewound_with_or_without_prefill() -> None:
    committed = "## Steps\n\n1. Install it.\n2. Choose a storage.\n  "
    for seam in (None, ""):
        outcome = stitch_every_way(
            committed, "## Steps to follow\n\nInstall it.", seam_whitespace=seam
        )  # type: ignore[arg-type]
        assert outcome.final == "## Steps to follow\n\nInstall it."


def test_periodic_words_are_under_removed_not_over_removed() -> None:
    # The continuation could repeat 2, 5 or 8 characters ("ha", "ha ha", "ha ha ha");
    # the rule removes the shortest whole word, never more.
    outcome = stitch_every_way("He laughed: ha ha ha", "ha ha ha ha and left")
    assert outcome.overlap == 2
    assert outcome.final == "He laughed: ha ha ha ha ha ha and left"


def test_long_overlap_with_a_long_period_is_removed() -> None:
    committed = "Chorus: we will rock you, we will rock you"
    outcome = stitch_every_way(committed, "we will rock you, we will rock you! Verse two")
    assert outcome.final == committed + "! Verse two"


def test_overlap_beyond_the_window_is_not_examined() -> None:
    committed = "alpha beta gamma delta epsilon zeta eta theta"
    continuation = committed[-30:] + " iota"
    narrow = stitch_every_way(
        committed, continuation, window=20, min_overlap=8, restart_threshold=20
    )
    assert narrow.overlap == 0
    # "theta" + "a delta" also reads as a dropped space (rule 3b).
    assert narrow.final == committed + " " * narrow.space_restored + continuation
    wide = stitch_every_way(committed, continuation, window=40, min_overlap=8, restart_threshold=20)
    assert wide.final == committed + " iota"


def test_holding_never_exceeds_the_window() -> None:
    committed = "ab" * 200
    stitcher = Stitcher(committed, window=50, min_overlap=4, restart_threshold=16)
    released = []
    for ch in "ab" * 100 + "c":
        released.append(stitcher.feed(ch))
        assert stitcher.held <= 50
    released.append(stitcher.finish())
    assert "".join(released).endswith("c")


# -- holding and the fast path ---------------------------------------------------------


def test_text_is_held_only_while_it_may_be_overlap() -> None:
    # A seam: without one, a glued-on word is held until it ends (rule 3b).
    stitcher = Stitcher("the quick brown ")
    assert stitcher.feed("bro") == ""
    assert stitcher.held == 3
    assert stitcher.feed("a") == "broa"  # "broa" is in no tail of committed
    assert stitcher.decided
    assert stitcher.overlap == 0


def test_first_character_that_cannot_be_overlap_decides_at_once() -> None:
    stitcher = Stitcher("the quick brown")
    assert stitcher.feed("Z") == "Z"
    assert stitcher.decided
    chunk = "ebra crossing"
    assert stitcher.feed(chunk) is chunk  # pass-through, not even copied


def test_release_follows_the_decision_immediately() -> None:
    stitcher = Stitcher("the quick brown")
    assert stitcher.feed("brown") == ""
    assert stitcher.feed(" ") == " "  # the word ended: overlap decided, rest released
    assert stitcher.overlap == 5
    assert stitcher.feed("fox") == "fox"


def test_empty_committed_text_passes_everything_through() -> None:
    stitcher = Stitcher("")
    assert stitcher.decided
    assert stitcher.feed("anything") == "anything"
    assert stitcher.finish() == ""


def test_empty_continuation_releases_nothing() -> None:
    outcome = stitch("Hello world. ", [])
    assert outcome.final == "Hello world. "
    assert outcome.overlap == 0


def test_continuation_that_is_only_a_tail_fragment_is_released_at_finish() -> None:
    # The model re-sent part of the tail and stopped: nothing to remove.
    # ("brown" + "quick" also reads as a dropped space: rule 3b restores it.)
    assert stitch_every_way("the quick brown", "quick bro").final == "the quick brown quick bro"


# -- seam whitespace -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        ("Hello world. ", " Next", "Hello world. Next"),
        ("Hello world. ", "Next", "Hello world. Next"),
        ("Hello world. ", "  Next", "Hello world.  Next"),
        ("Hello world.", " Next", "Hello world. Next"),
        ("Intro:\n\n", "\n\nBody", "Intro:\n\nBody"),
        ("Intro:\n\n", "Body", "Intro:\n\nBody"),
        ("Intro:\n\n", "\nBody", "Intro:\n\nBody"),
        ("Intro:\n\n", " Body", "Intro:\n\nBody"),
        ("Intro:\n", "\n\nBody", "Intro:\n\nBody"),
        ("Intro: ", "\n\nBody", "Intro: \n\nBody"),
        ("Intro:\n", "  \n\n  Body", "Intro:\n\n  Body"),
        ("def f():\n    ", "\n    return 1", "def f():\n    return 1"),
        ("def f():\n    ", "return 1", "def f():\n    return 1"),
        ("def f():\n", "\n    return 1", "def f():\n    return 1"),
        ("Hello world. ", "world. Next", "Hello world. Next"),
    ],
)
def test_seam_whitespace_is_neither_doubled_nor_lost(
    committed: str, continuation: str, final: str
) -> None:
    outcome = stitch_every_way(committed, continuation)
    assert outcome.final == final
    assert outcome.rewind_to is None


def test_whitespace_only_continuation() -> None:
    assert stitch_every_way("Hello world. ", " ").final == "Hello world. "
    assert stitch_every_way("Hello world.\n", "\n\n").final == "Hello world.\n\n"


def test_seam_whitespace_hint() -> None:
    # The model saw the trailing space, so a space it sends is a second one.
    outcome = stitch_every_way("Hello world. ", " Next", seam_whitespace="")  # type: ignore[arg-type]
    assert outcome.final == "Hello world.  Next"
    outcome = stitch_every_way("a\n\n", "\nb", seam_whitespace="\n")  # type: ignore[arg-type]
    assert outcome.final == "a\n\nb"


def test_whitespace_only_committed_text() -> None:
    assert stitch_every_way("\n", "\nHello").final == "\nHello"
    assert stitch_every_way("  ", "Hello").final == "  Hello"


# -- restarts ----------------------------------------------------------------------------

ANSWER = (
    "The capital of France is Paris. It has been the capital since 987, "
    "and today it is home to about two million people."
)


def test_restart_from_scratch_drops_what_the_consumer_has() -> None:
    committed = ANSWER[:70]
    outcome = stitch_every_way(committed, ANSWER)
    assert outcome.final == ANSWER
    assert outcome.restarted
    assert outcome.rewind_to is None
    assert outcome.overlap == len(committed)


def test_restart_from_scratch_after_a_stripped_space() -> None:
    committed = ANSWER[: ANSWER.index("It has")]  # ends with ". "
    outcome = stitch_every_way(committed, ANSWER)
    assert outcome.final == ANSWER
    assert outcome.rewind_to is None


def test_restart_that_diverges_rewinds_to_the_divergence() -> None:
    committed = ANSWER[:90]
    continuation = "The capital of France is Paris. It is also its largest city."
    outcome = stitch_every_way(committed, continuation)
    assert outcome.restarted
    assert outcome.rewind_to == len("The capital of France is Paris. It ")
    assert outcome.final == continuation


def test_restart_longer_than_the_window_is_tracked_without_holding() -> None:
    committed = ANSWER[:100]
    options = {"window": 40, "min_overlap": 8, "restart_threshold": 32}
    full = stitch_every_way(committed, ANSWER, **options)
    assert full.final == ANSWER
    assert full.rewind_to is None
    diverging = ANSWER[:80] + "but not today."
    outcome = stitch_every_way(committed, diverging, **options)
    assert outcome.rewind_to == 80
    assert outcome.final == diverging


def test_restart_that_ends_inside_the_committed_text_rewinds_to_its_end() -> None:
    committed = ANSWER[:100]
    outcome = stitch_every_way(committed, ANSWER[:60])
    assert outcome.rewind_to == 60
    assert outcome.final == ANSWER[:60]


def test_short_shared_opening_is_not_a_restart() -> None:
    committed = "Sure! Here is the list:\n1. Flour\n2. Eggs\n"
    outcome = stitch_every_way(committed, "Sure! Here is more:\n3. Milk")
    assert outcome.rewind_to is None
    assert not outcome.restarted
    assert outcome.final == committed + "Sure! Here is more:\n3. Milk"


def test_repeated_opening_pattern_disables_restart_detection() -> None:
    committed = "=" * 40 + "\nReport\n"
    outcome = stitch_every_way(committed, "=" * 35 + " more")
    assert outcome.rewind_to is None
    assert outcome.final == committed + "=" * 35 + " more"


def test_restart_divergence_inside_a_combining_sequence_rewinds_to_its_base() -> None:
    opening = "Notes on the French word for coffee, which is cafe"
    committed = opening + ACUTE + " and more text follows here"
    continuation = opening + GRAVE + " (wrong accent)"
    outcome = stitch_every_way(committed, continuation)
    assert outcome.rewind_to == len(opening) - 1  # before the "e" the accent belongs to
    assert outcome.final == continuation


# -- Unicode ------------------------------------------------------------------------------


def test_combining_mark_continuing_the_last_character() -> None:
    outcome = stitch_every_way("cafe", ACUTE + " au lait")
    assert outcome.final == "cafe" + ACUTE + " au lait"
    assert outcome.rewind_to is None


def test_combining_mark_after_stripped_whitespace_rewinds_the_whitespace() -> None:
    outcome = stitch_every_way("cafe ", ACUTE + " au lait")
    assert outcome.rewind_to == 4
    assert outcome.final == "cafe" + ACUTE + " au lait"


def test_overlap_ending_before_a_combining_mark() -> None:
    outcome = stitch_every_way("Un cafe", "cafe" + ACUTE + " au lait")
    assert outcome.final == "Un cafe" + ACUTE + " au lait"


def test_overlap_never_starts_inside_a_combining_sequence() -> None:
    committed = "Un cafe" + ACUTE + " au lait"
    continuation = ACUTE + " au lait, merci"
    outcome = stitch_every_way(committed, continuation)
    assert outcome.overlap == 0  # neither dropped nor half-dropped
    assert outcome.final == committed + continuation


def test_emoji() -> None:
    family = "\U0001f468" + ZWJ + "\U0001f469" + ZWJ + "\U0001f467"
    # A cut inside a ZWJ sequence: the rest joins up again.
    outcome = stitch_every_way("Family: " + family[:3], family[3:] + " done")
    assert outcome.final == "Family: " + family + " done"
    # A repeated emoji alone is not removed (emoji repeat on purpose)...
    assert stitch_every_way("Party 🎉", "🎉 time").final == "Party 🎉🎉 time"
    # ...but inside a long overlap it is.
    committed = "We celebrate 🎉 together today"
    outcome = stitch_every_way(committed, "🎉 together today and tomorrow")
    assert outcome.final == committed + " and tomorrow"
    # A skin-tone modifier belongs to the hand before it.
    outcome = stitch_every_way("Wave 👋 ", "\U0001f3fd hello")
    assert outcome.final == "Wave 👋\U0001f3fd hello"
    # A flag is a pair: no overlap starts between its two halves.
    outcome = stitch_every_way("Go 🇫🇷", "🇷 team")
    assert outcome.final == "Go 🇫🇷🇷 team"


def test_cjk() -> None:
    outcome = stitch_every_way("今天天气很好。我们去公园", "我们去公园散步吧")
    assert outcome.final == "今天天气很好。我们去公园散步吧"
    # A doubled Han character the answer already wrote ("天天") is not overlap. Without
    # it, one Han character written twice reads as a re-sent token (rule 2k): words that
    # meet on one character ("今天" + "天气") lose it, 0.18% of real Han-Han cuts.
    assert stitch_every_way("他天天跑步。今天", "天气很好").final == "他天天跑步。今天天气很好"
    outcome = stitch_every_way("他说今天天气真的非常好", "今天天气真的非常好，我们出去吧")
    assert outcome.final == "他说今天天气真的非常好，我们出去吧"


def test_lone_surrogates_do_not_crash() -> None:
    outcome = stitch_every_way("bad \ud800 text here", "\ud800 text here and more")
    assert outcome.final == "bad \ud800 text here and more"
    assert stitch_every_way("x\udfff", "\udfffy").final == "x\udfff\udfffy"


# -- usage errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"window": 0},
        {"min_overlap": 0},
        {"min_overlap": 40, "restart_threshold": 32},
        {"window": 16, "restart_threshold": 32},
    ],
)
def test_inconsistent_limits_are_refused(options: dict[str, int]) -> None:
    with pytest.raises(UsageError):
        Stitcher("text", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("seam", ["x", "  ", "\t"])
def test_seam_whitespace_must_end_the_committed_text(seam: str) -> None:
    with pytest.raises(UsageError):
        Stitcher("text x \n", seam_whitespace=seam)


def test_feed_after_finish_is_refused_and_finish_is_idempotent() -> None:
    stitcher = Stitcher("the quick brown")
    assert stitcher.feed("brown") == ""
    assert stitcher.finish() == ""
    assert stitcher.finish() == ""
    assert stitcher.overlap == 5
    with pytest.raises(UsageError):
        stitcher.feed("more")
    with pytest.raises(UsageError):
        stitcher.feed("")


def test_engine_may_clear_rewind_to_after_emitting_it() -> None:
    stitcher = Stitcher("cafe ")
    assert stitcher.feed(ACUTE + "!") == ACUTE + "!"
    assert stitcher.rewind_to == 4
    stitcher.rewind_to = None
    assert stitcher.feed(" ok") == " ok"
    assert stitcher.rewind_to is None


# -- properties ------------------------------------------------------------------------------

TOKENS = [
    "the", "quick", "brown", "fox", "naïve", "cafe" + ACUTE, "résumé", "Ωμέγα", "日本語",
    "テスト", "🎉", "👋🏽", "🇫🇷", "don't", "x=1;", "**bold**", "2024", "\ud800",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\n", "\n\n", ", ", ". ", "\t"]
WORD_ALPHABET = "abcdefghijklmnopqrstuvwxyzéøßЖж中文"

words = st.one_of(st.sampled_from(TOKENS), st.text(WORD_ALPHABET, min_size=1, max_size=9))


#: Rule 1b of the stitcher: from this many characters of the opening, a diverging
#: continuation is read as an early restart.
EARLY_RESTART = 8


@st.composite
def answers(draw: st.DrawFn, min_words: int = 2, max_words: int = 30) -> str:
    """Reference answers: words and non-ASCII tokens joined by spaces and newlines."""
    parts = draw(
        st.lists(
            st.tuples(words, st.sampled_from(SEPARATORS)), min_size=min_words, max_size=max_words
        )
    )
    return "".join(word + separator for word, separator in parts).rstrip(" ") + draw(
        st.sampled_from(["", ".", "\n"])
    )


@st.composite
def chunkings(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=8))))
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


def starts_cluster(text: str, index: int) -> bool:
    """Independent, simple test of a grapheme start for the generators."""
    if index == 0:
        return True
    ch, before = text[index], text[index - 1]
    if unicodedata.category(ch).startswith("M") or ZWJ in (ch, before):
        return False
    if "\U0001f3fb" <= ch <= "\U0001f3ff":
        return False
    return not ("\U0001f1e6" <= ch <= "\U0001f1ff" and "\U0001f1e6" <= before <= "\U0001f1ff")


def overlap_candidates(stripped: str, continuation: str, window: int) -> list[int]:
    """Every L (within the window) such that the continuation starts with stripped[-L:]."""
    top = min(len(stripped), window)
    return [n for n in range(1, top + 1) if continuation.startswith(stripped[-n:])]


def common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def has_short_period(text: str, bound: int) -> bool:
    return any(all(text[i] == text[i + p] for i in range(len(text) - p)) for p in range(1, bound))


@given(
    committed=st.text("ab .\n" + ACUTE + "🎉", max_size=24),
    continuation=st.text("ab .\n" + ACUTE + "🎉", max_size=24),
    data=st.data(),
    limits=st.tuples(st.integers(1, 4), st.integers(0, 6), st.integers(0, 8)),
)
def test_chunking_never_changes_the_outcome(
    committed: str, continuation: str, data: st.DataObject, limits: tuple[int, int, int]
) -> None:
    # A tiny alphabet makes overlaps, periods, restarts and seams collide often.
    min_overlap, extra_threshold, extra_window = limits
    options = {
        "min_overlap": min_overlap,
        "restart_threshold": min_overlap + extra_threshold,
        "window": min_overlap + extra_threshold + extra_window,
    }
    whole = stitch(committed, [continuation], **options)
    chunks = data.draw(chunkings(continuation))
    assert stitch(committed, chunks, **options) == whole
    assert stitch(committed, list(continuation), **options) == whole
    assert whole.released == " " * whole.space_restored + continuation[whole.overlap :]
    if whole.rewind_to is not None:
        stripped_length = len(committed.rstrip())
        assert 0 <= whole.rewind_to <= stripped_length
        if whole.rewind_to < stripped_length:  # a diverging restart
            assert whole.final == continuation


@given(reference=answers(), data=st.data(), window=st.sampled_from([12, 40, 2000]))
def test_stitched_text_is_the_reference_answer(
    reference: str, data: st.DataObject, window: int
) -> None:
    """committed + released == R, for every way the model may resume R.

    The model continues R after committed = R[:c] by sending R[s:], where s is
    c (it omits the stripped whitespace), len(stripped) (it re-sends it), or
    len(stripped) - k with k >= min_overlap (it repeats k characters). This is a
    theorem of the rules when the true overlap is unambiguous: no other suffix
    of the committed text within the window is longer than it or within
    min_overlap of it (none at all when it is 0), and the continuation does not
    reproduce the opening unless s == 0 for restart_threshold characters, nor for
    the 8 from which rule 1b reads a diverging continuation as an early restart
    (an exact continuation that begins like the answer is ambiguous by nature).
    """
    min_overlap, threshold = 8, min(32, window)
    cut = data.draw(st.integers(1, len(reference)), label="cut")
    committed = reference[:cut]
    stripped = committed.rstrip()
    mode = data.draw(st.sampled_from(["omit", "resend", "repeat"]), label="mode")
    if mode == "omit":
        start = cut
        assume(start == len(stripped) or start == len(reference) or not reference[start].isspace())
    elif mode == "resend":
        start = len(stripped)
    else:
        assume(len(stripped) >= min_overlap)
        k = data.draw(st.integers(min_overlap, min(len(stripped), window)), label="k")
        start = len(stripped) - k
        assume(starts_cluster(reference, start))
    continuation = reference[start:]
    true_overlap = len(stripped) - start if start < len(stripped) else 0
    candidates = overlap_candidates(stripped, continuation, window)
    if true_overlap == 0:
        assume(not candidates)
    else:
        assume(all(n == true_overlap or n <= true_overlap - min_overlap for n in candidates))
        assume(max(candidates) == true_overlap)
    assume(start == 0 or common_prefix(continuation, stripped) < min(threshold, EARLY_RESTART))

    chunks = data.draw(chunkings(continuation), label="chunks")
    outcome = stitch(
        committed, chunks, window=window, min_overlap=min_overlap, restart_threshold=threshold
    )
    assert outcome.rewind_to is None
    assert outcome.final == reference


@given(
    reference=answers(min_words=8, max_words=30), data=st.data(), window=st.sampled_from([40, 2000])
)
def test_restart_from_scratch_yields_the_reference_answer(
    reference: str, data: st.DataObject, window: int
) -> None:
    """A continuation that is R again, from its start, leaves exactly R."""
    min_overlap, threshold = 8, 32
    cut = data.draw(st.integers(min(threshold, len(reference)), len(reference)), label="cut")
    committed = reference[:cut]
    stripped = committed.rstrip()
    assume(len(stripped) >= threshold)
    assume(not has_short_period(stripped[:threshold], min_overlap))
    chunks = data.draw(chunkings(reference), label="chunks")
    outcome = stitch(
        committed, chunks, window=window, min_overlap=min_overlap, restart_threshold=threshold
    )
    assert outcome.final == reference
    assert outcome.restarted
    assert outcome.rewind_to is None


@given(
    reference=answers(min_words=8, max_words=30),
    ending=answers(min_words=1, max_words=5),
    data=st.data(),
    window=st.sampled_from([40, 2000]),
)
def test_restart_that_diverges_yields_the_new_answer(
    reference: str, ending: str, data: st.DataObject, window: int
) -> None:
    """A restart that leaves the committed text at d >= restart_threshold is rewound to d."""
    min_overlap, threshold = 8, 32
    cut = data.draw(st.integers(min(threshold + 1, len(reference)), len(reference)), label="cut")
    committed = reference[:cut]
    stripped = committed.rstrip()
    assume(len(stripped) > threshold)
    assume(not has_short_period(stripped[:threshold], min_overlap))
    diverge = data.draw(st.integers(threshold, len(stripped) - 1), label="diverge")
    assume(ending[0] != stripped[diverge])
    continuation = stripped[:diverge] + ending
    assume(max(overlap_candidates(stripped, continuation, window), default=0) < diverge)
    chunks = data.draw(chunkings(continuation), label="chunks")
    outcome = stitch(
        committed, chunks, window=window, min_overlap=min_overlap, restart_threshold=threshold
    )
    assert outcome.restarted
    assert outcome.rewind_to is not None
    assert outcome.rewind_to <= diverge
    assert starts_cluster(committed, outcome.rewind_to)
    assert outcome.final == continuation


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # An exact continuation that closes an outer block: "  }" is the tail of
        # "    }", but a repeated line would carry its whole indentation.
        (
            "function f(x) {\n  if (x) {\n    return null;\n    }\n",
            "  }\n\n  await g();\n}",
            "function f(x) {\n  if (x) {\n    return null;\n    }\n  }\n\n  await g();\n}",
        ),
        (
            "def f(x):\n    if x:\n        return None\n",
            "    return None\n",
            "def f(x):\n    if x:\n        return None\n    return None\n",
        ),
        # The indentation's last space and a word: a token-style repeat, removed.
        ("    if x:\n        return", " return None\n", "    if x:\n        return None\n"),
    ],
)
def test_a_candidate_starting_inside_indentation_is_a_shallower_line(
    committed: str, continuation: str, final: str
) -> None:
    assert stitch_every_way(committed, continuation, seam_whitespace="").final == final  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # The whole continuation is the repeated last word, glued to the word
        # before if kept: "a a" + "a" must not give "a aa" (found by the session
        # property test, at the end of a stream cut after its last text event).
        ("a a", "a", "a a"),
        ("ha ha", "ha", "ha ha"),
        # With its space the repeat glues nothing: the text's own run is kept.
        ("yes yes", " yes", "yes yes yes"),
    ],
)
def test_a_repeat_that_would_glue_two_words_is_removed_even_at_the_end(
    committed: str, continuation: str, final: str
) -> None:
    assert stitch_every_way(committed, continuation, seam_whitespace="").final == final  # type: ignore[arg-type]
