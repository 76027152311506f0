"""The seam corpus in CI: floors per behaviour, and the examples of issue 11 as named tests.

The corpus is played through the public ``Client`` over loopback (one case
after another against a fake provider), for one provider with Anthropic's
prefill (trailing whitespace stripped) and one with an assistant turn plus
"continue" (the model saw everything). The full table is
``benchmarks/bench_seams.py``.
"""

from __future__ import annotations

import collections
import random

import pytest

from streamrecover.testing.seams import (
    AMBIGUOUS,
    BEHAVIOURS,
    SeamResult,
    build_cases,
    classify,
    continuation_for,
    cut_kind,
    play_cases,
)
from streamrecover.testing.seams.inprocess import stitch_pieces
from streamrecover.testing.seams.tokens import deltas, tokens

#: The lowest exact rate each behaviour may reach on the CI corpus (measured:
#: see benchmarks/README.md, section "Seams"); the ambiguous ones are floors too,
#: so that a change that makes them worse is seen.
FLOORS = {
    "exact": 1.0,
    "exact_in_whitespace": 1.0,
    "partial_word": 1.0,
    "whole_words": 1.0,
    "token_repeat": 1.0,
    "number": 0.75,
    "restart_sentence": 0.97,
    "restart_answer": 1.0,
    "restart_diverge": 0.96,
    "overlap": 0.96,
    "short_overlap": 0.9,  # 33% -> 83.3% (10 of 12) with the lexicon; session 8: 12 of 12
    # 0% -> 69.2% (18 of 26) with rule 3b (core/droppedspace.py); session 8: 76.9% (20 of 26)
    "dropped_space": 0.74,
}

#: The same on the full benchmark corpus (``per_kind=3``), played in process.
FULL_FLOORS = {
    "exact": 1.0,
    "exact_in_whitespace": 1.0,
    "partial_word": 1.0,
    "whole_words": 0.98,
    "token_repeat": 0.96,
    "number": 0.90,
    "restart_sentence": 0.99,
    "restart_answer": 1.0,
    "restart_diverge": 0.985,  # session 8: 98.1% -> 99.0% (an announcing line opened again)
    "overlap": 0.975,
    # 50.0% -> 93.8% with the lexicon; 100.0% with rule 2k ("Kö" + "öln": no "öö" in German)
    "short_overlap": 0.98,
    # 0% -> 76.3% with rule 3b; session 8: 89.5% (Hangul, "3-5" + "ms", "ha" + "ha ha" left)
    "dropped_space": 0.87,
}


def stitch(committed: str, continuation: str, *, saw_whitespace: bool = False) -> str:
    """The consumer's text after stitching ``continuation`` delta by delta (one char each)."""
    return stitch_pieces(committed, continuation, prefill=not saw_whitespace)


# -- the examples of the table ---------------------------------------------


@pytest.mark.parametrize("saw_whitespace", [False, True])
def test_table_of_zeros_keeps_its_cell(saw_whitespace: bool) -> None:
    committed = "| 4  | 0     | "
    continuation = " 0     |\n| 5" if not saw_whitespace else "0     |\n| 5"
    final = stitch(committed, continuation, saw_whitespace=saw_whitespace)
    assert final == "| 4  | 0     | 0     |\n| 5"


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        ("It asks ag", "again — without", "It asks again — without"),
        ("The server is overlo", "overloaded", "The server is overloaded"),
        ("a façade stays a f", "façade.", "a façade stays a façade."),
    ],
)
def test_partial_last_word_repeated(committed: str, continuation: str, final: str) -> None:
    assert stitch(committed, continuation) == final
    assert stitch(committed, continuation, saw_whitespace=True) == final


@pytest.mark.parametrize("word", ["that", "reader", "level", "did", "says"])
def test_whole_word_whose_first_and_last_letters_match(word: str) -> None:
    committed = f"I know {word} "
    assert stitch(committed, f"{word} it works") == f"I know {word} it works"
    assert stitch(committed, f"{word} it works", saw_whitespace=True) == f"I know {word} it works"


def test_token_style_repeat_with_the_space_before_it() -> None:
    assert stitch("at the worst", " worst moment") == "at the worst moment"
    assert stitch("at the worst ", " worst moment", saw_whitespace=True) == "at the worst moment"


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        ("grew by 1.25", "1.25% in March", "grew by 1.25% in March"),
        ("by 15,4", "15,433 requests", "by 15,433 requests"),
        ("costs $1,2", "1,299.99 a year", "costs $1,299.99 a year"),
    ],
)
def test_number_repeated(committed: str, continuation: str, final: str) -> None:
    assert stitch(committed, continuation) == final


def test_sentence_restarted() -> None:
    committed = "It works. The middle of answers is where cu"
    assert stitch(committed, "The middle of answers is where cuts land.") == (
        "It works. The middle of answers is where cuts land."
    )


def test_answer_restarted_and_diverging_within_32_characters_is_rewound() -> None:
    committed = "A stream can break at the worst moment: the reader asks"
    restart = "A stream can break when you least expect it."
    assert stitch(committed, restart) == restart


def test_parallel_opening_after_a_sentence_end_is_not_a_restart() -> None:
    committed = "You can retry the request. "
    assert (
        stitch(committed, "You can resume it.") == "You can retry the request. You can resume it."
    )


def test_indentation_the_model_saw_is_kept() -> None:
    # No prefill: the model saw "\n" and wrote the indentation after it.
    assert stitch("def f():\n", "    return 1", saw_whitespace=True) == "def f():\n    return 1"
    assert stitch("def f():\n  ", "  return 1", saw_whitespace=True) == "def f():\n    return 1"
    # Prefill: the model saw "def f():" and writes the newline and indentation again.
    assert stitch("def f():\n  ", "\n    return 1") == "def f():\n    return 1"


def test_overlap_not_on_a_word_start() -> None:
    assert stitch("the middle of answ", "f answers") == "the middle of answers"
    assert stitch("the middle of answ", "nswers", saw_whitespace=True) == "the middle of answers"


# -- the corpus itself ---------------------------------------------------------------


def test_tokens_and_deltas_concatenate_back() -> None:
    rng = random.Random(3)
    for case in build_cases(per_kind=1):
        assert "".join(tokens(case.text, rng)) == case.text
        pieces = deltas(case.committed, rng)
        assert "".join(pieces) == case.committed
        assert all(len(piece) >= 1 for piece in pieces)


def test_corpus_is_deterministic_and_covers_every_behaviour() -> None:
    first = build_cases(per_kind=1)
    assert first == build_cases(per_kind=1)
    assert {case.behaviour for case in first} == set(BEHAVIOURS)
    assert all(cut_kind(case.text, case.cut) == case.kind for case in first)


def test_continuations_derive_from_what_the_model_saw() -> None:
    case = next(c for c in build_cases() if c.behaviour == "exact_in_whitespace")
    whole, expected = continuation_for(case, case.committed)
    stripped, _ = continuation_for(case, case.committed.rstrip())
    assert expected == case.text
    assert case.committed + whole == case.text
    assert case.committed.rstrip() + stripped == case.text


def test_classify() -> None:
    assert classify("abc", "abc") == ("exact", 0, 0)
    assert classify("abbc", "abc") == ("duplicated", 1, 0)
    assert classify("ac", "abc") == ("lost", 0, 1)
    assert classify("axc", "abc")[0] == "garbled"


@pytest.fixture(scope="module")
def corpus_results() -> list[SeamResult]:
    return list(play_cases(build_cases(per_kind=1), ("openai", "anthropic")))


def test_corpus_plays_through_the_client_without_failures(
    corpus_results: list[SeamResult],
) -> None:
    failed = [r for r in corpus_results if r.outcome == "failed"]
    assert not failed, failed[0].detail
    # Both resume request shapes were played.
    assert {r.prefill for r in corpus_results} == {True, False}


@pytest.mark.parametrize("behaviour", list(BEHAVIOURS))
def test_corpus_floor_per_behaviour(corpus_results: list[SeamResult], behaviour: str) -> None:
    rows = [r for r in corpus_results if r.case.behaviour == behaviour]
    assert rows
    exact = sum(r.outcome == "exact" for r in rows) / len(rows)
    wrong = collections.Counter(r.case.name for r in rows if r.outcome != "exact")
    assert exact >= FLOORS[behaviour], (behaviour, exact, wrong.most_common(5))


def test_corpus_floor_overall_and_nothing_lost_on_exact_continuations(
    corpus_results: list[SeamResult],
) -> None:
    clear = [r for r in corpus_results if r.case.behaviour not in AMBIGUOUS]
    assert sum(r.outcome == "exact" for r in clear) / len(clear) >= 0.965
    assert sum(r.outcome == "exact" for r in corpus_results) / len(corpus_results) >= 0.935
    exact_rows = [r for r in corpus_results if r.case.behaviour.startswith("exact")]
    assert sum(r.lost for r in exact_rows) == 0
    assert all(r.outcome == "exact" for r in exact_rows)


@pytest.mark.parametrize("saw_whitespace", [False, True])
def test_longer_word_start_candidate_wins_over_its_last_word(saw_whitespace: bool) -> None:
    # " the t" and " t" both start a word: the model re-sent " the t", not " t".
    final = stitch("the point of the t", " the table.", saw_whitespace=saw_whitespace)
    assert final == "the point of the table."


def test_periodic_text_keeps_the_shortest_word_start() -> None:
    # "la la l" is made of "la " repeated: the longer reading would lose "la la ".
    final = stitch("then la la la la l", "la la la.")
    assert final == "then la la la la la la la."


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        ("| memory | 0.", "0.4 ms   |", "| memory | 0.4 ms   |"),
        ("| sqlite | 3.", "3.1 ms", "| sqlite | 3.1 ms"),
        ("| 2 | 0.", "05 |", "| 2 | 0.05 |"),
    ],
)
def test_one_digit_number_re_sent_from_its_separator(
    committed: str, continuation: str, final: str
) -> None:
    assert stitch(committed, continuation) == final


def test_in_process_corpus_agrees_with_the_floors() -> None:
    from streamrecover.testing.seams.inprocess import play_in_process

    results = list(play_in_process(build_cases(per_kind=3), ("openai", "anthropic")))
    clear = [r for r in results if r.case.behaviour not in AMBIGUOUS]
    assert sum(r.outcome == "exact" for r in clear) / len(clear) >= 0.975
    for behaviour in BEHAVIOURS:
        rows = [r for r in results if r.case.behaviour == behaviour]
        exact = sum(r.outcome == "exact" for r in rows) / len(rows)
        assert exact >= FULL_FLOORS[behaviour], (behaviour, exact)


#: Rows the seams2 rules raised on the holdout corpus (in process, round 1, openai and
#: anthropic; measured 91.2% and 35.9%, before them 75.0% and 33.3%): the answer's first
#: word glued to a word, a restart inside an open code block, a sentence mark re-sent;
#: seams3 raised restart_diverge to 94.2% (a heading or table header written again, the
#: first word glued after a hyphen or with its opening quote).
#: The lexicon (core/lexicon.py) raised short_overlap to 64.5% (35.9% before).
#: seams4 raised short_overlap to 84.1% (rules 2i, 2j, common words and written names in
#: rule 2d) and restart_diverge to 94.6% (";" is no sentence end); session 8 raised
#: short_overlap to 95.7% (rule 2k, core/resenttokens.py, and the 2d readings of names) and
#: restart_diverge to 97.7% (never-CamelCase opening words, a paragraph right after a list
#: item, an empty block).
HOLDOUT_FLOORS = {"restart_diverge": 0.965, "short_overlap": 0.95}


def test_holdout_rows_raised_by_the_glued_restart_and_mark_rules_stay() -> None:
    from streamrecover.testing.seams.holdout import build_holdout_cases
    from streamrecover.testing.seams.holdout_play import play_holdout_in_process

    results = list(
        play_holdout_in_process(build_holdout_cases(11, rounds=1), ("openai", "anthropic"))
    )
    for behaviour, floor in HOLDOUT_FLOORS.items():
        rows = [r for r in results if r.case.behaviour == behaviour]
        exact = sum(r.outcome == "exact" for r in rows) / len(rows)
        assert exact >= floor, (behaviour, exact)


@pytest.mark.parametrize("saw_whitespace", [False, True])
def test_table_of_zeros_row_going_on_is_not_a_number_repeated(saw_whitespace: bool) -> None:
    # "0 |\n| 0 | 0 | " has four digits but is not a number: the table goes on.
    committed = "| a | b | c |\n|---|---|---|\n| 0 | 0 | 0 |\n| 0 | 0 | "
    final = stitch(committed, "0 |\n| 0 | 0 | 1 |\n", saw_whitespace=saw_whitespace)
    assert final == committed + "0 |\n| 0 | 0 | 1 |\n"


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        ("or $129.50 per ", "er month.", "or $129.50 per month."),
        ("then check ", "ck the reader", "then check the reader"),
    ],
)
def test_word_end_with_the_space_the_model_saw_is_a_repeat(
    committed: str, continuation: str, final: str
) -> None:
    assert stitch(committed, continuation, saw_whitespace=True) == final


@pytest.mark.parametrize("saw_whitespace", [False, True])
def test_restart_glued_to_a_decimal_point_is_rewound(saw_whitespace: bool) -> None:
    committed = "To install, run:\n\n| mode | ms |\n|---|---|\n| sqlite | 3."
    final = stitch(committed, "To install, use pip.", saw_whitespace=saw_whitespace)
    assert final == "To install, use pip."


def test_loopback_and_in_process_paths_agree(corpus_results: list[SeamResult]) -> None:
    # The fake provider closes cleanly at the cut (no reset losing frames in
    # flight), so the client resumes from exactly the case's cut.
    from streamrecover.testing.seams.inprocess import play_in_process

    local = list(play_in_process(build_cases(per_kind=1), ("openai", "anthropic")))
    assert [(r.case.name, r.provider, r.text) for r in local] == [
        (r.case.name, r.provider, r.text) for r in corpus_results
    ]
