"""Cases of the holdout seam corpus: cuts between deltas, and how the model continues.

Independent of :mod:`~streamrecover.testing.seams.cases` (its own answers,
tokenizer, cut kinds and derivations), but its :class:`HoldoutCase` is a
:class:`~streamrecover.testing.seams.cases.SeamCase`, so results come out as
the same :class:`~streamrecover.testing.seams.player.SeamResult` and
``benchmarks/bench_seams.py`` prints them with the same tables; behaviour
names are the same too (:data:`~streamrecover.testing.seams.cases.BEHAVIOURS`).

A cut always falls between two deltas of the first attempt (that is where a
broken connection leaves a real stream). The continuation is derived when the
resume request is seen, from what it showed the model (:func:`holdout_continuation`):
an Anthropic prefill has the committed text's trailing whitespace stripped,
so the model re-emits that whitespace; an assistant turn plus "continue"
(OpenAI, Responses, Gemini) showed the text whole. A behaviour is only given
to a cut where it makes sense for both kinds of request, so every case means
what its name says for every provider.
"""

from __future__ import annotations

import functools
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from streamrecover.testing.seams.cases import SeamCase
from streamrecover.testing.seams.holdout_answers import HOLDOUT_ANSWERS, HOLDOUT_RESTARTS
from streamrecover.testing.seams.holdout_tokens import holdout_deltas

__all__ = [
    "HOLDOUT_CUT_KINDS",
    "HoldoutCase",
    "build_holdout_cases",
    "build_holdout_sweep",
    "holdout_continuation",
    "holdout_cut_kind",
    "repeat_start",
    "shared_prefix",
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

_SENTENCE_END = ".!?"
_WIDE_SENTENCE_END = "。！？"
_CLOSING_QUOTES = "\"'\u201d\u2019\u00bb"
_NUMBER_JOINERS = ".,:-/"
_WORD_JOINERS = ".,:-/'\u2019"
#: A restarted sentence repeats at least this many characters (a shorter
#: repeat is an overlap, another behaviour).
_MIN_SENTENCE_REPEAT = 4
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


def _is_wide(ch: str) -> bool:
    return 0x2E80 <= ord(ch) < 0x1F000


def _is_emoji_part(ch: str) -> bool:
    code = ord(ch)
    return (
        code >= 0x1F000
        or 0x2600 <= code <= 0x27BF
        or ch in "\u200d\ufe0f"
        or unicodedata.category(ch) in ("Mn", "Me", "Cf")
    )


def _is_word(ch: str) -> bool:
    return (ch.isalnum() or ch == "_") and not _is_wide(ch)


def _is_word_start(text: str, position: int) -> bool:
    return _is_word(text[position]) and (position == 0 or not _is_word(text[position - 1]))


def _in_fence(text: str, cut: int) -> bool:
    return text.count("```", 0, cut) % 2 == 1


def holdout_cut_kind(text: str, cut: int) -> str:
    """Classify the point ``cut`` of ``text``: the first of :data:`HOLDOUT_CUT_KINDS` that fits."""
    before, after = text[cut - 1], text[cut]
    if _is_emoji_part(before) or _is_emoji_part(after):
        return "emoji"
    if _is_wide(before) or _is_wide(after):
        return "cjk"
    if (before.isdigit() and (after.isdigit() or after in _NUMBER_JOINERS)) or (
        after.isdigit() and before in _NUMBER_JOINERS and text[cut - 2 : cut - 1].isdigit()
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
    if _is_word(before) and after == " ":
        return "before_space"
    return "punctuation"


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
        if _is_word_start(text, position):
            stop = position
            while stop < len(text) and (
                _is_word(text[stop])
                or (
                    text[stop] in _WORD_JOINERS
                    and stop + 1 < len(text)
                    and _is_word(text[stop + 1])
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
        while start > 0 and _is_word(text[start - 1]):
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
        inside = last in _NUMBER_JOINERS and seen < len(text) and text[seen].isdigit()
        if not (last.isdigit() or (inside and text[seen - 2 : seen - 1].isdigit())):
            return None
        start = seen
        while start > 0 and (text[start - 1].isdigit() or text[start - 1] in _NUMBER_JOINERS):
            start -= 1
        while not text[start].isdigit():
            start += 1
        return start
    if behaviour == "restart_sentence":
        start = _sentence_start(text, seen)
        return start if start <= seen - _MIN_SENTENCE_REPEAT else None
    if behaviour in ("overlap", "short_overlap"):
        start = seen - amount
        if start <= 0 or text[start].isspace() or _is_word_start(text, start):
            return None
        if _is_emoji_part(text[start]) or text[start:seen].isspace():
            return None
        return start
    if behaviour == "dropped_space":
        if seen < len(text) and text[seen] == " " and _is_word(text[seen - 1]):
            return seen + 1
        return None
    raise ValueError(f"unknown behaviour {behaviour!r}")


def holdout_continuation(case: HoldoutCase, shown: str) -> tuple[str, str]:
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
