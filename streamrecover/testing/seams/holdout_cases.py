"""Cases of the holdout seam corpus: cuts between deltas, and how the model continues.

Independent of :mod:`~streamrecover.testing.seams.cases` (its own answers,
tokenizer, cut kinds and derivations), but its :class:`HoldoutCase` is a
:class:`~streamrecover.testing.seams.cases.SeamCase`, so results come out as
the same :class:`~streamrecover.testing.seams.player.SeamResult` and
``benchmarks/bench_seams.py`` prints them with the same tables; behaviour
names are the same too (:data:`~streamrecover.testing.seams.cases.BEHAVIOURS`).

A cut always falls between two deltas of the first attempt (that is where a
broken connection leaves a real stream). The continuation is derived when the
resume request is seen, from what it showed the model
(:func:`~streamrecover.testing.seams.holdout_behaviours.holdout_continuation`):
an Anthropic prefill has the committed text's trailing whitespace stripped, so
the model re-emits that whitespace; an assistant turn plus "continue"
(OpenAI, Responses, Gemini) showed the text whole. A behaviour is only given
to a cut where it makes sense for both kinds of request, so every case means
what its name says for every provider.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from streamrecover.testing.seams.cases import SeamCase
from streamrecover.testing.seams.holdout_answers import HOLDOUT_ANSWERS, HOLDOUT_RESTARTS
from streamrecover.testing.seams.holdout_behaviours import (
    NUMBER_JOINERS,
    is_emoji_part,
    is_wide,
    is_word,
    repeat_start,
    shared_prefix,
)
from streamrecover.testing.seams.holdout_tokens import holdout_deltas

__all__ = [
    "HOLDOUT_CUT_KINDS",
    "HoldoutCase",
    "build_holdout_cases",
    "build_holdout_sweep",
    "holdout_cut_kind",
]

HOLDOUT_CUT_KINDS: tuple[str, ...] = (
    "emoji",
    "cjk",
    "in_number",
    "in_whitespace",
    "after_newline",
    "in_table",
    "in_code",
    "mid_word",
    "after_space",
    "before_space",
    "punctuation",
)

#: Cuts of each kind per round: more where a wrong seam hurts most (broken
#: code, tables, numbers, split characters) and where behaviours of their own
#: need them (a partial word, a repeated number, a dropped space); one otherwise.
_CUTS_PER_ROUND = {
    "emoji": 2,
    "cjk": 2,
    "in_number": 3,
    "in_whitespace": 2,
    "after_newline": 2,
    "in_table": 2,
    "mid_word": 2,
    "before_space": 2,
}


#: Deltas far from the seam are merged, which keeps the loopback run short: the
#: stitcher only sees the committed text and the start of the continuation,
#: and what it releases does not depend on how the continuation is split.
#: Kept token-shaped: the last deltas before the cut, and the start of the continuation.
REAL_DELTAS_BEFORE_CUT = 8
REAL_CONTINUATION_CHARS = 200
FAR_PIECE = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldoutCase(SeamCase):
    """A seam of the holdout corpus (``answer`` names one of :data:`HOLDOUT_ANSWERS`).

    ``seed`` gives the first attempt's deltas (``cut`` is one of their
    boundaries); the continuation's deltas come from :attr:`continuation_seed`.
    ``amount`` is the behaviour's parameter: words or characters repeated, or
    which of the answer's :data:`HOLDOUT_RESTARTS` a diverging restart gives.
    """

    @property
    def text(self) -> str:
        """The reference answer."""
        return HOLDOUT_ANSWERS[self.answer]

    @property
    def continuation_seed(self) -> str:
        """Seed of the continuation's deltas (a string: stable across runs and hash seeds)."""
        return f"{self.seed}/{self.cut}/{self.behaviour}/{self.amount}"

    def first_deltas(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The first attempt's deltas: those delivered before the cut, and the rest.

        Raises:
            ValueError: if ``cut`` is not between two deltas (a malformed case).
        """
        pieces = _first_attempt(self.text, self.seed)
        position = 0
        for index, piece in enumerate(pieces):
            if position == self.cut:
                return tuple(pieces[:index]), tuple(pieces[index:])
            position += len(piece)
        raise ValueError(f"{self.name}: cut {self.cut} is not between two deltas")

    def streamed_deltas(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """:meth:`first_deltas` as the fake provider streams them: far from the cut, merged.

        The last :data:`REAL_DELTAS_BEFORE_CUT` deltas before the cut are kept;
        those before them, and the rest after the cut (never delivered), travel
        in pieces of about :data:`FAR_PIECE` characters.
        """
        delivered, rest = self.first_deltas()
        near = delivered[-REAL_DELTAS_BEFORE_CUT:]
        far = delivered[: len(delivered) - len(near)]
        return (*_merged(far), *near), tuple(_merged(rest))

    def continuation_deltas(self, continuation: str) -> list[str]:
        """The continuation cut into deltas, the same way on every run.

        The deltas of its first :data:`REAL_CONTINUATION_CHARS` characters are
        token-shaped; the rest travels in pieces of about :data:`FAR_PIECE`.
        """
        pieces = holdout_deltas(continuation, random.Random(self.continuation_seed))
        position = 0
        for index, piece in enumerate(pieces):
            if position >= REAL_CONTINUATION_CHARS:
                return pieces[:index] + _merged(pieces[index:])
            position += len(piece)
        return pieces


@functools.lru_cache(maxsize=256)
def _first_attempt(text: str, seed: int) -> tuple[str, ...]:
    # Many cases share one tokenization of their answer: tokenize it once.
    return tuple(holdout_deltas(text, random.Random(seed)))


def _merged(pieces: Sequence[str]) -> list[str]:
    """Consecutive deltas joined into pieces of about :data:`FAR_PIECE` characters."""
    merged: list[str] = []
    for piece in pieces:
        if merged and len(merged[-1]) < FAR_PIECE:
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def _in_fence(text: str, cut: int) -> bool:
    return text.count("```", 0, cut) % 2 == 1


def holdout_cut_kind(text: str, cut: int) -> str:
    """Classify the point ``cut`` of ``text``: the first of :data:`HOLDOUT_CUT_KINDS` that fits."""
    before, after = text[cut - 1], text[cut]
    if is_emoji_part(before) or is_emoji_part(after):
        return "emoji"
    if is_wide(before) or is_wide(after):
        return "cjk"
    if (before.isdigit() and (after.isdigit() or after in NUMBER_JOINERS)) or (
        after.isdigit() and before in NUMBER_JOINERS and text[cut - 2 : cut - 1].isdigit()
    ):
        return "in_number"
    if before.isspace() and after.isspace():
        return "in_whitespace"
    if before == "\n":
        return "after_newline"
    if text.startswith("|", text.rfind("\n", 0, cut) + 1):
        return "in_table"
    if _in_fence(text, cut):
        return "in_code"
    if before.isalpha() and after.isalpha():
        return "mid_word"
    if before == " ":
        return "after_space"
    if is_word(before) and after == " ":
        return "before_space"
    return "punctuation"


def _fits(text: str, committed: str, behaviour: str, amount: int, answer: str) -> bool:
    """Whether the behaviour fits the cut for both request shapes (whole and stripped)."""
    if behaviour == "restart_diverge":
        shared = shared_prefix(text, HOLDOUT_RESTARTS[answer][amount])
        return len(committed.rstrip()) >= shared + 3
    return all(
        repeat_start(text, len(shown), behaviour, amount) is not None
        for shown in (committed, committed.rstrip())
    )


def _behaviours(
    text: str, cut: int, kind: str, answer: str, rng: random.Random
) -> list[tuple[str, int]]:
    committed = text[:cut]
    exact = (
        "exact_in_whitespace"
        if committed[-1:].isspace() and kind in ("in_whitespace", "after_newline")
        else "exact"
    )
    wanted: list[tuple[str, int]] = [
        (exact, 0),
        ("partial_word", 0),
        ("whole_words", rng.randint(1, 3)),
        ("token_repeat", rng.randint(1, 2)),
        ("number", 0),
        ("restart_sentence", 0),
        ("short_overlap", rng.randint(1, 2)),
        ("dropped_space", 0),
    ]
    if rng.random() < 0.5:
        wanted.append(("restart_answer", 0))
    if rng.random() < 0.6:
        wanted.append(("restart_diverge", rng.randrange(len(HOLDOUT_RESTARTS[answer]))))
    # An overlap of 3-12 characters: try a few lengths until one does not start a word.
    for _ in range(4):
        amount = rng.randint(3, 12)
        if _fits(text, committed, "overlap", amount, answer):
            wanted.append(("overlap", amount))
            break
    return [pair for pair in wanted if _fits(text, committed, *pair, answer)]


def build_holdout_cases(seed: int = 11, *, rounds: int = 1) -> list[HoldoutCase]:
    """Build the holdout corpus: cuts of every kind in every answer, every fitting behaviour.

    Each of the ``rounds`` tokenizes every answer afresh (a new seed) and
    picks, among the boundaries of its deltas, one cut of each kind (two of
    the kinds where a wrong seam hurts most). Deterministic for a given ``seed``.
    """
    rng = random.Random(f"holdout/{seed}")
    cases: list[HoldoutCase] = []
    for answer, text in HOLDOUT_ANSWERS.items():
        used: set[int] = set()
        for _round in range(rounds):
            tokenization = rng.randrange(1 << 30)
            boundaries: dict[str, list[int]] = {}
            position = 0
            for piece in holdout_deltas(text, random.Random(tokenization))[:-1]:
                position += len(piece)
                if 6 <= position <= len(text) - 3 and position not in used:
                    boundaries.setdefault(holdout_cut_kind(text, position), []).append(position)
            for kind in HOLDOUT_CUT_KINDS:
                points = boundaries.get(kind, [])
                wanted = _CUTS_PER_ROUND.get(kind, 1)
                for cut in rng.sample(points, min(wanted, len(points))):
                    used.add(cut)
                    cases.extend(_cases_at(answer, cut, kind, tokenization, rng))
    return cases


def _cases_at(
    answer: str, cut: int, kind: str, tokenization: int, rng: random.Random
) -> list[HoldoutCase]:
    text = HOLDOUT_ANSWERS[answer]
    return [
        HoldoutCase(
            name=f"holdout:{answer}@{cut}:{behaviour}",
            answer=answer,
            cut=cut,
            kind=kind,
            behaviour=behaviour,
            amount=amount,
            seed=tokenization,
        )
        for behaviour, amount in _behaviours(text, cut, kind, answer, rng)
    ]


def build_holdout_sweep(seed: int = 11, *, every_behaviour: bool = False) -> list[HoldoutCase]:
    """Every delta boundary of every answer (one tokenization each), continued exactly.

    Where the sampled corpus meets a legitimately doubled span at the cut
    ("agreed that " + "that spelling", "'2024-01" + "-01'") only by chance,
    the sweep meets all of them, at their natural frequency: it measures what
    an exact continuation can lose. With ``every_behaviour``, each boundary
    gets every behaviour that fits it, as in :func:`build_holdout_cases`
    (about 11,000 cases: a check that the sampled corpus's rates hold).
    """
    rng = random.Random(f"holdout-sweep/{seed}")
    cases: list[HoldoutCase] = []
    for answer, text in HOLDOUT_ANSWERS.items():
        tokenization = rng.randrange(1 << 30)
        position = 0
        for piece in holdout_deltas(text, random.Random(tokenization))[:-1]:
            position += len(piece)
            if not 6 <= position <= len(text) - 3:
                continue
            kind = holdout_cut_kind(text, position)
            if every_behaviour:
                cases.extend(_cases_at(answer, position, kind, tokenization, rng))
                continue
            behaviour = (
                "exact_in_whitespace"
                if text[position - 1].isspace() and kind in ("in_whitespace", "after_newline")
                else "exact"
            )
            cases.append(
                HoldoutCase(
                    name=f"holdout-sweep:{answer}@{position}:{behaviour}",
                    answer=answer,
                    cut=position,
                    kind=kind,
                    behaviour=behaviour,
                    amount=0,
                    seed=tokenization,
                )
            )
    return cases
