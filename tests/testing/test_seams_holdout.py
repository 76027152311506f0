"""The holdout seam corpus: its cases are well formed, and the stitcher stays above its floors.

The holdout corpus (``streamrecover/testing/seams/holdout*.py``) is written
apart from the corpus the stitcher is tuned on, to catch rules fitted to that
corpus. Its cases are played in process (the stitcher alone, told what the
model saw as the resume planner tells it) for one provider with a prefill
(Anthropic) and one without (OpenAI); a sample is played over loopback through
the public ``Client`` to check that the two paths agree. The full table is
``python benchmarks/bench_seams.py --corpus holdout``.
"""

from __future__ import annotations

import collections
import os
import random
import subprocess
import sys

import pytest

from streamrecover.testing.seams import BEHAVIOURS, SeamResult
from streamrecover.testing.seams.holdout import (
    HOLDOUT_ANSWERS,
    HOLDOUT_CUT_KINDS,
    HOLDOUT_RESTARTS,
    HoldoutCase,
    build_holdout_cases,
    build_holdout_sweep,
    divergence_rates,
    holdout_continuation,
    holdout_cut_kind,
    holdout_deltas,
    holdout_tokens,
    play_holdout_cases,
    play_holdout_in_process,
)
from streamrecover.testing.seams.holdout_behaviours import repeat_start, shared_prefix

PROVIDERS = ("openai", "anthropic")

#: The lowest exact rate each behaviour may reach: each floor sits a little under
#: what main's stitcher measured on this corpus (openai + anthropic; see
#: benchmarks/README.md, "Seams — holdout corpus"): at 10ff77b, before the
#: session-5 stitcher, then at adc5129, after it (the floors protect the latter).
FLOORS = {
    "exact": 0.98,  # measured 100% -> 100%
    "exact_in_whitespace": 0.98,  # 100% -> 100%
    "partial_word": 0.96,  # 100% -> 100%
    "whole_words": 0.97,  # 100% -> 100%
    "token_repeat": 0.99,  # 95.1% -> 99.5%; seams3: 100%
    "number": 0.96,  # 91.1% -> 95.6% (n = 90); seams3: 97.8%
    "restart_sentence": 0.97,  # 99.5% -> 99.5%
    "restart_answer": 0.98,  # 100% -> 100%
    # 65.0% -> 75.0% -> 91.2%; seams3: 94.2%; seams4: 94.6%; restart5: 97.7%
    "restart_diverge": 0.965,
    "overlap": 0.98,  # 92.6% -> 96.4%; seams3: 99.3%
    # 0% -> 33.3% -> 63.5% with the lexicon; seams4: 84.1% (rules 2i, 2j, common words, names);
    # short5: 95.7% (rule 2k: re-sent tokens; 2d: accents, names in code, words written)
    "short_overlap": 0.95,
    # 0% -> 84.3% with rule 3b; restart5: 92.2%; still ambiguous by nature ("the" + "e.")
    "dropped_space": 0.90,
}
#: Overall, the dropped space left out (ambiguous by nature, issue 11): 86.0% -> 91.2%.
OVERALL_FLOOR = 0.985  # seams4: 98.0%; short5: 99.1%
#: Overall, 1-2 character in-word repeats left out too: 94.5% -> 96.9%.
CLEAR_FLOOR = 0.99  # seams3: 99.2%; seams4: 99.4%


@pytest.fixture(scope="module")
def cases() -> list[HoldoutCase]:
    return build_holdout_cases()


@pytest.fixture(scope="module")
def results(cases: list[HoldoutCase]) -> list[SeamResult]:
    return list(play_holdout_in_process(cases, PROVIDERS))


# -- the tokenizer ---------------------------------------------------------------


@pytest.mark.parametrize("answer", sorted(HOLDOUT_ANSWERS))
def test_tokens_and_deltas_concatenate_to_the_text(answer: str) -> None:
    text = HOLDOUT_ANSWERS[answer]
    for seed in range(20):
        tokens = holdout_tokens(text, random.Random(seed))
        assert "".join(tokens) == text
        assert all(tokens)
        deltas = holdout_deltas(text, random.Random(seed))
        assert "".join(deltas) == text
        assert len(tokens) / 4 <= len(deltas) <= len(tokens)


def test_tokens_are_bpe_shaped() -> None:
    text = HOLDOUT_ANSWERS["python_code"] + HOLDOUT_ANSWERS["region_table"]
    tokens = holdout_tokens(text, random.Random(3))
    for token in tokens:
        core = token.lstrip(" ")
        if core.isdigit():
            assert token == core, "digits never carry the space before them"
            assert len(core) <= 3
        elif core.isalpha():
            assert len(core) <= 7
            assert token.count(" ") <= 1
    # Indentation leaves its last space to the word after it.
    assert "   " in tokens
    assert " return" in tokens
    assert " " in tokens  # the space before a padded number is a token of its own


def test_tokens_split_zwj_sequences_between_code_points() -> None:
    text = HOLDOUT_ANSWERS["emoji_zwj"]
    splits = 0
    for seed in range(10):
        tokens = holdout_tokens(text, random.Random(seed))
        splits += sum(token.startswith("\u200d") or token.endswith("\u200d") for token in tokens)
    assert splits > 0


def test_tokens_are_the_same_for_the_same_seed() -> None:
    text = HOLDOUT_ANSWERS["essay"]
    assert holdout_deltas(text, random.Random(5)) == holdout_deltas(text, random.Random(5))
    assert holdout_deltas(text, random.Random(5)) != holdout_deltas(text, random.Random(6))


# -- the cases -------------------------------------------------------------------


def test_corpus_is_deterministic(cases: list[HoldoutCase]) -> None:
    assert build_holdout_cases() == cases
    assert build_holdout_cases(12) != cases
    names = [case.name for case in cases]
    assert len(names) == len(set(names))


_FINGERPRINT = """
import hashlib
from streamrecover.testing.seams.holdout import build_holdout_cases
cases = build_holdout_cases()
print(hashlib.sha256(repr([(c.name, c.seed) for c in cases]).encode()).hexdigest())
"""


def test_corpus_is_the_same_in_every_process() -> None:
    """String seeds and no set iteration: the hash seed does not change the corpus."""
    prints = set()
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", _FINGERPRINT],
            capture_output=True,
            text=True,
            check=True,
            env=environment,
        )
        prints.add(done.stdout.strip())
    assert len(prints) == 1


def test_corpus_covers_every_behaviour_kind_and_answer(cases: list[HoldoutCase]) -> None:
    assert len(HOLDOUT_ANSWERS) >= 20
    assert set(HOLDOUT_ANSWERS) == set(HOLDOUT_RESTARTS)
    behaviours = collections.Counter(case.behaviour for case in cases)
    assert set(behaviours) == set(BEHAVIOURS)
    assert min(behaviours.values()) >= 30
    kinds = collections.Counter(case.kind for case in cases)
    assert set(kinds) == set(HOLDOUT_CUT_KINDS)
    assert {case.answer for case in cases} == set(HOLDOUT_ANSWERS)


def test_restarts_diverge_within_32_characters() -> None:
    for answer, restarts in HOLDOUT_RESTARTS.items():
        for restart in restarts:
            shared = shared_prefix(HOLDOUT_ANSWERS[answer], restart)
            assert shared < 32, (answer, restart)
            assert len(restart) > shared


def test_every_cut_falls_between_deltas(cases: list[HoldoutCase]) -> None:
    for case in cases:
        delivered, rest = case.first_deltas()
        assert "".join(delivered) == case.committed
        assert "".join(delivered + rest) == case.text
        assert delivered and rest
        assert case.kind == holdout_cut_kind(case.text, case.cut)


def test_streamed_deltas_keep_the_seam_token_shaped(cases: list[HoldoutCase]) -> None:
    for case in cases[::7]:
        delivered, _ = case.first_deltas()
        streamed, streamed_rest = case.streamed_deltas()
        assert "".join(streamed) == case.committed
        assert "".join(streamed_rest) == case.text[case.cut :]
        near = min(len(delivered), 8)
        assert streamed[-near:] == delivered[-near:]
        continuation, _ = holdout_continuation(case, case.committed)
        pieces = case.continuation_deltas(continuation)
        assert "".join(pieces) == continuation
        real = holdout_deltas(continuation, random.Random(case.continuation_seed))
        head = 0
        while head < len(real) and sum(map(len, real[:head])) < 200:
            head += 1
        assert pieces[:head] == real[:head]


def _is_word(ch: str) -> bool:
    # Letters, digits and "_" outside the scripts written without spaces.
    return (ch.isalnum() or ch == "_") and ord(ch) < 0x2E80


def _check_continuation(case: HoldoutCase, shown: str) -> None:
    text = case.text
    seen = len(shown)
    continuation, expected = holdout_continuation(case, shown)
    if case.behaviour == "restart_diverge":
        restart = HOLDOUT_RESTARTS[case.answer][case.amount]
        assert continuation == expected == restart
        assert shared_prefix(text, restart) < min(32, seen)
        return
    assert expected == text
    assert text.endswith(continuation)
    start = len(text) - len(continuation)
    repeated = text[start:seen]
    assert start == repeat_start(text, seen, case.behaviour, case.amount)
    behaviour = case.behaviour
    if behaviour in ("exact", "exact_in_whitespace"):
        assert shown + continuation == text
        if behaviour == "exact_in_whitespace":
            assert case.committed[-1].isspace()
    elif behaviour == "partial_word":
        assert repeated.isalpha()
        assert text[seen].isalpha()
        assert start == 0 or not _is_word(text[start - 1])
    elif behaviour in ("whole_words", "token_repeat"):
        word_start = start
        if behaviour == "token_repeat":
            assert repeated.startswith(" ")
            repeated = repeated[1:]
            word_start += 1
        assert _is_word(repeated[0])
        assert word_start == 0 or not _is_word(text[word_start - 1])
        assert len(repeated.split()) <= case.amount or not repeated.isalpha()
    elif behaviour == "number":
        assert repeated[0].isdigit()
        assert all(ch.isdigit() or ch in ".,:-/" for ch in repeated)
    elif behaviour == "restart_sentence":
        assert len(repeated) >= 4
        assert start == 0 or text[start - 1].isspace() or text[start - 1] in "。！？"
    elif behaviour == "restart_answer":
        assert continuation == text
    elif behaviour in ("overlap", "short_overlap"):
        assert len(repeated) == case.amount
        assert (3 <= case.amount <= 12) if behaviour == "overlap" else (1 <= case.amount <= 2)
        assert not repeated[0].isspace()
        assert not (_is_word(text[start]) and not _is_word(text[start - 1]))
    elif behaviour == "dropped_space":
        assert text[seen] == " "
        assert continuation == text[seen + 1 :]
    else:  # pragma: no cover - a behaviour this test does not know
        pytest.fail(f"unchecked behaviour {behaviour}")


def test_continuations_match_their_behaviour(cases: list[HoldoutCase]) -> None:
    for case in cases:
        # What a no-prefill request shows (the text whole), and an Anthropic prefill.
        _check_continuation(case, case.committed)
        _check_continuation(case, case.committed.rstrip())


def test_the_sweep_of_every_behaviour_is_well_formed() -> None:
    sweep = build_holdout_sweep(every_behaviour=True)
    assert {case.behaviour for case in sweep} == set(BEHAVIOURS)
    assert len(sweep) > 5 * len(build_holdout_sweep())
    for case in sweep[::17]:
        delivered, _ = case.first_deltas()
        assert "".join(delivered) == case.committed
        _check_continuation(case, case.committed)
        _check_continuation(case, case.committed.rstrip())


def test_a_prefill_makes_the_model_re_emit_the_stripped_whitespace(
    cases: list[HoldoutCase],
) -> None:
    in_whitespace = [c for c in cases if c.behaviour == "exact_in_whitespace"]
    assert len(in_whitespace) >= 40
    for case in in_whitespace:
        whole, _ = holdout_continuation(case, case.committed)
        stripped, _ = holdout_continuation(case, case.committed.rstrip())
        seam = case.committed[len(case.committed.rstrip()) :]
        assert stripped == seam + whole


# -- the stitcher on it ------------------------------------------------------------


def test_exact_rate_per_behaviour_stays_above_its_floor(results: list[SeamResult]) -> None:
    by_behaviour: dict[str, list[SeamResult]] = collections.defaultdict(list)
    for result in results:
        by_behaviour[result.case.behaviour].append(result)
    below = {}
    for behaviour, floor in FLOORS.items():
        rows = by_behaviour[behaviour]
        rate = sum(r.outcome == "exact" for r in rows) / len(rows)
        if rate < floor:
            below[behaviour] = f"{rate:.3f} < {floor}"
    assert not below, below


def _exact_rate(results: list[SeamResult]) -> float:
    return sum(r.outcome == "exact" for r in results) / len(results)


def test_overall_exact_rate_stays_above_its_floor(results: list[SeamResult]) -> None:
    # The corpus's own reading of "ambiguous", so that it does not move with the main corpus's.
    seen = [r for r in results if r.case.behaviour != "dropped_space"]
    assert _exact_rate(seen) >= OVERALL_FLOOR
    clear = [r for r in seen if r.case.behaviour != "short_overlap"]
    assert _exact_rate(clear) >= CLEAR_FLOOR
    assert not [r for r in results if r.outcome == "failed"]


def test_exact_continuations_lose_almost_nothing(results: list[SeamResult]) -> None:
    exact = [r for r in results if r.case.behaviour in ("exact", "exact_in_whitespace")]
    # The target, met on this corpus today (an earlier draft of it found
    # "DATE '2024-01" + "-01'" read as a repeated "-01": such a seam would fail here).
    assert sum(r.lost for r in exact) == 0
    # Indentation and table padding the model re-emits or continues after are never lost.
    in_whitespace = [r for r in exact if r.case.behaviour == "exact_in_whitespace"]
    assert all(r.outcome == "exact" for r in in_whitespace)


#: The sweep (every delta boundary continued exactly), openai + anthropic:
#: 99.37% exact and 231 characters lost at 10ff77b (mostly 16-character cells
#: of a table's alignment row), 99.73% and 30 lost at adc5129.
SWEEP_FLOOR = 0.995
SWEEP_LOST_CEILING = 20  # seams3: 14 (two seams, 7 characters each provider)


def test_exact_continuations_at_every_boundary() -> None:
    sweep = build_holdout_sweep()
    assert len(sweep) > 1500
    assert {case.answer for case in sweep} == set(HOLDOUT_ANSWERS)
    for case in sweep[::11]:
        delivered, _ = case.first_deltas()
        assert "".join(delivered) == case.committed
    results = list(play_holdout_in_process(sweep, PROVIDERS))
    assert _exact_rate(results) >= SWEEP_FLOOR
    assert sum(r.lost for r in results) <= SWEEP_LOST_CEILING
    assert not [r for r in results if r.duplicated]


def test_divergence_rates_cover_every_diverging_restart(results: list[SeamResult]) -> None:
    rates = divergence_rates(results)
    diverging = [r for r in results if r.case.behaviour == "restart_diverge"]
    assert sum(total for _, total in rates.values()) == len(diverging)
    # A restart sharing 16-31 characters with the answer is told apart (measured 100%).
    exact, total = rates["16-31"]
    assert total > 0
    assert exact / total >= 0.95


def test_loopback_agrees_with_in_process(
    cases: list[HoldoutCase], results: list[SeamResult]
) -> None:
    """A sample through the public Client over loopback gives the same text as in process."""
    sample = cases[::53]
    assert len({case.behaviour for case in sample}) >= 8
    in_process = {(r.case.name, r.provider): r for r in results}
    for result in play_holdout_cases(sample, PROVIDERS):
        assert result.outcome != "failed", result.detail
        expected = in_process[(result.case.name, result.provider)]
        assert result.prefill == expected.prefill
        assert result.text == expected.text, result.case.name
