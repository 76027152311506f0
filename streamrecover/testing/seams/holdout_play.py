"""Play the holdout corpus: in process (the stitcher alone) and over loopback (the Client).

The loopback path is the main corpus's :class:`~streamrecover.testing.seams.player.SeamPlayer`
(the same fake provider server, request inspection and public ``Client``)
with a handler that streams the holdout case's own deltas and derives the
continuation with :func:`~streamrecover.testing.seams.holdout_behaviours.holdout_continuation`
from what the resume request showed the model. The in-process path feeds
the same continuation deltas to the stitcher through
:func:`~streamrecover.testing.seams.inprocess.stitch_pieces`, told what the
model saw the way the resume planner tells it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Any

from streamrecover.testing.seams.holdout_answers import HOLDOUT_RESTARTS
from streamrecover.testing.seams.holdout_behaviours import holdout_continuation, shared_prefix
from streamrecover.testing.seams.holdout_cases import HoldoutCase, build_holdout_sweep
from streamrecover.testing.seams.inprocess import PREFILL, stitch_pieces
from streamrecover.testing.seams.player import SeamPlayer, SeamResult, _Handler

__all__ = [
    "DIVERGENCE_BUCKETS",
    "HoldoutPlayer",
    "divergence_rates",
    "play_holdout_cases",
    "play_holdout_in_process",
    "sweep_report",
]


class _HoldoutHandler(_Handler):
    """The fake provider for holdout cases: their deltas, their continuations."""

    def first_deltas(
        self, case: Any, rng: random.Random
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The case's own deltas (its tokenizer), delivered and the rest."""
        assert isinstance(case, HoldoutCase)
        delivered, rest = case.streamed_deltas()
        return tuple(delivered), tuple(rest)

    def continuation(self, case: Any, partial: str) -> tuple[str, str]:
        """:func:`holdout_continuation` of what the resume request showed."""
        return holdout_continuation(case, partial)

    def continuation_deltas(
        self, case: Any, continuation: str, rng: random.Random
    ) -> tuple[str, ...]:
        """The case's own tokenizer on the continuation."""
        return tuple(case.continuation_deltas(continuation))


class HoldoutPlayer(SeamPlayer):
    """:class:`~streamrecover.testing.seams.player.SeamPlayer` for holdout cases."""

    def __init__(self, provider: str, *, prefill: bool | None = None) -> None:
        super().__init__(provider, prefill=prefill)
        self._handler = _HoldoutHandler(provider, self.body)

    def __enter__(self) -> HoldoutPlayer:
        super().__enter__()
        return self

    def play(self, case: Any) -> SeamResult:
        """Play one :class:`HoldoutCase`; never raises for what the library does wrong."""
        if not isinstance(case, HoldoutCase):
            raise TypeError(f"HoldoutPlayer plays HoldoutCase, not {type(case).__name__}")
        return super().play(case)


def play_holdout_cases(
    cases: Iterable[HoldoutCase], providers: Iterable[str], *, prefill: bool | None = None
) -> Iterator[SeamResult]:
    """Play every case for every provider over loopback (one server and client per provider)."""
    cases = list(cases)
    for provider in providers:
        with HoldoutPlayer(provider, prefill=prefill) as player:
            for case in cases:
                yield player.play(case)


def play_holdout_in_process(
    cases: Iterable[HoldoutCase], providers: Iterable[str]
) -> Iterator[SeamResult]:
    """Play every case for every provider through the stitcher alone."""
    cases = list(cases)
    for provider in providers:
        prefill = PREFILL[provider]
        for case in cases:
            committed = case.committed
            shown = committed.rstrip() if prefill else committed
            continuation, expected = holdout_continuation(case, shown)
            pieces = case.continuation_deltas(continuation)
            text = stitch_pieces(committed, pieces, prefill=prefill)
            yield SeamResult.judged(case, provider, prefill=prefill, text=text, expected=expected)


#: Buckets of :func:`divergence_rates`: how many characters a diverging restart
#: shares with the answer before it diverges.
DIVERGENCE_BUCKETS: tuple[tuple[int, int], ...] = ((0, 7), (8, 15), (16, 31))


def divergence_rates(results: Iterable[SeamResult]) -> dict[str, tuple[int, int]]:
    """(exact, total) of the diverging restarts among ``results``, per shared-prefix bucket.

    A restart that shares fewer characters with the answer is harder to tell
    from a continuation: the bucket shows where the stitcher's line is.
    """
    rates: dict[str, tuple[int, int]] = {
        f"{low}-{high}": (0, 0) for low, high in DIVERGENCE_BUCKETS
    }
    for result in results:
        case = result.case
        if case.behaviour != "restart_diverge" or not isinstance(case, HoldoutCase):
            continue
        shared = shared_prefix(case.text, HOLDOUT_RESTARTS[case.answer][case.amount])
        for low, high in DIVERGENCE_BUCKETS:
            if low <= shared <= high:
                exact, total = rates[f"{low}-{high}"]
                rates[f"{low}-{high}"] = (exact + (result.outcome == "exact"), total + 1)
    return rates


def sweep_report(providers: Iterable[str] = ("openai", "anthropic"), *, seed: int = 11) -> str:
    """Exact continuations at every delta boundary (:func:`build_holdout_sweep`), in process.

    One line per provider (exact rate, characters lost), then every seam that
    did not come out exact: the committed tail, what followed it, the outcome.
    """
    cases = build_holdout_sweep(seed)
    lines = []
    misses = []
    for provider in providers:
        results = list(play_holdout_in_process(cases, [provider]))
        wrong = [r for r in results if r.outcome != "exact"]
        lost = sum(r.lost for r in results)
        exact = 100 * (len(results) - len(wrong)) / len(results)
        lines.append(
            f"{provider}: {exact:.2f}% exact of {len(results)}, {lost} characters lost"
            f" in {sum(r.lost > 0 for r in results)}"
        )
        misses.extend(wrong)
    for result in misses:
        case = result.case
        lines.append(
            f"  {result.provider} {case.answer}@{case.cut} ({case.kind}): "
            f"{case.committed[-24:]!r} + {case.text[case.cut : case.cut + 16]!r} -> "
            f"{result.outcome} (lost {result.lost}, duplicated {result.duplicated})"
        )
    return "\n".join(lines)
