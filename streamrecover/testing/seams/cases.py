"""Seam cases: a reference answer, a cut, and how the model continues it.

A :class:`SeamCase` is decided when the corpus is built (answer, cut, the
continuation *behaviour* and its parameter). The continuation text itself is
derived only when the resume request arrives, from what that request actually
showed the model (:func:`continuation_for`): with Anthropic's prefill the model
saw the committed text with its trailing whitespace stripped, and re-emits the
whitespace; with an assistant turn plus "continue" (OpenAI, Responses, Gemini)
it saw the whole text, trailing whitespace included.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from streamrecover.testing.seams.answers import ANSWERS, RESTART_OPENINGS

__all__ = [
    "AMBIGUOUS",
    "BEHAVIOURS",
    "CUT_KINDS",
    "SeamCase",
    "build_cases",
    "continuation_for",
    "cut_kind",
]

#: Continuation behaviours, with what each one means.
BEHAVIOURS: dict[str, str] = {
    "exact": "continues exactly",
    "exact_in_whitespace": "continues exactly, cut inside whitespace",
    "partial_word": "repeats the partial last word",
    "whole_words": "repeats the last 1-3 whole words",
    "token_repeat": "repeats words as tokens, with the space before them",
    "number": "repeats a number",
    "restart_sentence": "restarts the sentence",
    "restart_answer": "restarts the answer verbatim",
    "restart_diverge": "restarts the answer and diverges early",
    "overlap": "repeats 3-12 characters, not from a word start",
    "short_overlap": "repeats 1-2 characters inside a word",
    "dropped_space": "drops the space the cut fell before",
}

#: Behaviours nobody can stitch right every time, by nature (see the stitcher's docstring):
#: a space the model dropped where the cut fell before it is seen by no one. (A 1-2
#: letter repeat inside a word is partly ambiguous, a doubled letter, but counted.)
AMBIGUOUS: frozenset[str] = frozenset({"dropped_space"})

CUT_KINDS: tuple[str, ...] = (
    "in_number",
    "in_table",
    "in_whitespace",
    "cjk",
    "mid_word",
    "after_space",
    "before_space",
    "other",
)

_SENTENCE_END = ".!?。！？:\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class SeamCase:
    """One seam: ``answer`` cut after ``cut`` characters, continued as ``behaviour`` says.

    ``amount`` is the behaviour's parameter (words or characters repeated);
    ``seed`` drives the token shapes of both attempts.
    """

    name: str
    answer: str
    cut: int
    kind: str
    behaviour: str
    amount: int
    seed: int

    @property
    def text(self) -> str:
        """The reference answer."""
        return ANSWERS[self.answer]

    @property
    def committed(self) -> str:
        """What the consumer has when the stream breaks."""
        return self.text[: self.cut]


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _is_wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80


def cut_kind(text: str, cut: int) -> str:
    """Classify the point ``cut`` of ``text`` (one of :data:`CUT_KINDS`)."""
    before, after = text[cut - 1], text[cut]
    line_start = text.rfind("\n", 0, cut) + 1
    if (before.isdigit() or before in ".,") and (after.isdigit() or after in ".,"):  # noqa: SIM102 (two reasons, two comments)
        if before.isdigit() or after.isdigit():
            return "in_number"
    if text.startswith("|", line_start):
        return "in_table"
    if before.isspace() and after.isspace():
        return "in_whitespace"
    if _is_wide(before) and _is_wide(after):
        return "cjk"
    if before.isalpha() and after.isalpha():
        return "mid_word"
    if before == " ":
        return "after_space"
    if _is_word(before) and after == " ":
        return "before_space"
    return "other"


def _word_start(text: str, end: int) -> int:
    """Start of the word that ``text[end - 1]`` belongs to."""
    position = end
    while position > 0 and _is_word(text[position - 1]) and not _is_wide(text[position - 1]):
        position -= 1
    return position


def _whole_word_starts(text: str, end: int) -> list[int]:
    """Starts of the complete words before ``end``, nearest last."""
    starts = []
    for position in range(min(end, len(text))):
        ch = text[position]
        if (
            _is_word(ch)
            and not _is_wide(ch)
            and (position == 0 or not _is_word(text[position - 1]))
        ):
            word_end = position
            while word_end < len(text) and _is_word(text[word_end]):
                word_end += 1
            if word_end <= end:
                starts.append(position)
    return starts


def _is_word_start(text: str, position: int) -> bool:
    return _is_word(text[position]) and (position == 0 or not _is_word(text[position - 1]))


def continuation_for(case: SeamCase, shown: str) -> tuple[str, str]:
    """The continuation the model streams, and the text the consumer must end with.

    Args:
        case: the seam.
        shown: the partial answer the resume request showed the model (the
            committed text, or the committed text stripped of its trailing
            whitespace for a prefill).

    Returns:
        ``(continuation, expected)``. A behaviour that does not apply to what
        was shown falls back to an exact continuation.
    """
    text = case.text
    seen = len(shown)
    start = seen
    behaviour = case.behaviour
    if behaviour == "restart_diverge":
        opening = RESTART_OPENINGS[case.answer]
        return opening, opening
    if behaviour == "restart_answer":
        start = 0
    elif behaviour == "partial_word":
        start = _word_start(text, seen)
    elif behaviour in ("whole_words", "token_repeat"):
        starts = (
            _whole_word_starts(text, seen)
            if behaviour == "whole_words"
            else [s for s in _whole_word_starts(text, seen + 40) if s < seen and text[s - 1] == " "]
        )
        if len(starts) >= case.amount:
            start = starts[-case.amount]
            if behaviour == "token_repeat":
                start -= 1
    elif behaviour == "number":
        position = seen
        while position > 0 and (text[position - 1].isdigit() or text[position - 1] in ".,"):
            position -= 1
        while position < seen and not text[position].isdigit():
            position += 1
        start = position
    elif behaviour == "restart_sentence":
        position = seen - 1
        while position > 0 and not (
            text[position - 1] in _SENTENCE_END
            and (text[position].isspace() or _is_wide(text[position - 1]))
        ):
            position -= 1
        while position < seen and text[position].isspace():
            position += 1
        start = position
    elif behaviour in ("overlap", "short_overlap"):
        position = seen - case.amount
        if position > 0 and not _is_word_start(text, position) and not text[position].isspace():
            start = position
    elif behaviour == "dropped_space" and text.startswith(" ", seen):
        return text[seen + 1 :], text
    return text[start:], text


def _cuts(text: str, rng: random.Random, per_kind: int) -> list[tuple[int, str]]:
    by_kind: dict[str, list[int]] = {}
    for cut in range(12, len(text) - 4):
        by_kind.setdefault(cut_kind(text, cut), []).append(cut)
    chosen = []
    for kind in CUT_KINDS:
        points = by_kind.get(kind, [])
        # Whitespace and table cuts are where broken output hurts most: more of them.
        wanted = per_kind * 2 if kind in ("in_whitespace", "in_table") else per_kind
        for cut in rng.sample(points, min(wanted, len(points))):
            chosen.append((cut, kind))
    return chosen


def _applicable(case_text: str, cut: int, kind: str) -> list[tuple[str, int]]:
    """The (behaviour, amount) pairs that make sense at this cut."""
    pairs: list[tuple[str, int]] = [
        ("exact_in_whitespace" if kind == "in_whitespace" else "exact", 0)
    ]
    if kind == "mid_word":
        pairs.append(("partial_word", 0))
    if kind in ("after_space", "before_space", "other", "mid_word", "in_table"):
        pairs.append(("token_repeat", 1 + cut % 2))
    if kind in ("after_space", "before_space", "other", "in_table"):
        pairs.append(("whole_words", 1 + cut % 3))
    if kind == "in_number" or (kind != "in_whitespace" and case_text[cut - 1].isdigit()):
        pairs.append(("number", 0))
    pairs.append(("restart_sentence", 0))
    if cut % 3 == 0:
        pairs.append(("restart_answer", 0))
    if cut % 2 == 0:
        pairs.append(("restart_diverge", 0))
    position = cut - (3 + cut % 10)
    if (
        position > 0
        and not _is_word_start(case_text, position)
        and not case_text[position].isspace()
    ):
        pairs.append(("overlap", 3 + cut % 10))
    short = 1 + cut % 2
    if kind == "mid_word" and not _is_word_start(case_text, cut - short):  # noqa: SIM102 (two reasons, two comments)
        if not case_text[cut - short].isspace():
            pairs.append(("short_overlap", short))
    if kind == "before_space":
        pairs.append(("dropped_space", 0))
    return pairs


def build_cases(
    seed: int = 11, *, per_kind: int = 3, answers: tuple[str, ...] | None = None
) -> list[SeamCase]:
    """Build the corpus: for every answer, ``per_kind`` cuts of each kind, each behaviour that fits.

    Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    cases = []
    for answer in answers or tuple(ANSWERS):
        text = ANSWERS[answer]
        opening = RESTART_OPENINGS[answer]
        for cut, kind in _cuts(text, rng, per_kind):
            for behaviour, amount in _applicable(text, cut, kind):
                if behaviour == "restart_diverge":
                    shared = 0
                    while text[shared] == opening[shared]:
                        shared += 1
                    if cut <= shared + 2:
                        continue
                cases.append(
                    SeamCase(
                        name=f"{answer}@{cut}:{behaviour}",
                        answer=answer,
                        cut=cut,
                        kind=kind,
                        behaviour=behaviour,
                        amount=amount,
                        seed=rng.randrange(1 << 30),
                    )
                )
    return cases
