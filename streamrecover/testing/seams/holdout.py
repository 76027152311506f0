"""The holdout seam corpus: an independent check of the stitcher.

The main corpus (:mod:`~streamrecover.testing.seams.answers`, ``tokens``,
``cases``) is what the stitcher is tuned on; a rule fitted to its answers or
its tokenizer would look perfect there and fail on real text. This corpus is
written apart from it, with its own answers
(:mod:`~streamrecover.testing.seams.holdout_answers`), its own BPE-shaped
tokenizer (:mod:`~streamrecover.testing.seams.holdout_tokens`), its own cut
kinds and continuation derivations
(:mod:`~streamrecover.testing.seams.holdout_cases`), and plays through the
same players (:mod:`~streamrecover.testing.seams.holdout_play`).

``python benchmarks/bench_seams.py --corpus holdout`` prints its table;
``tests/testing/test_seams_holdout.py`` holds its floors.
"""

from __future__ import annotations

from streamrecover.testing.seams.holdout_answers import (
    HOLDOUT_ANSWERS,
    HOLDOUT_RESTARTS,
    PERIODIC_HOLDOUT_ANSWERS,
)
from streamrecover.testing.seams.holdout_cases import (
    HOLDOUT_CUT_KINDS,
    HoldoutCase,
    build_holdout_cases,
    build_holdout_sweep,
    holdout_continuation,
    holdout_cut_kind,
)
from streamrecover.testing.seams.holdout_play import (
    DIVERGENCE_BUCKETS,
    HoldoutPlayer,
    divergence_rates,
    play_holdout_cases,
    play_holdout_in_process,
    sweep_report,
)
from streamrecover.testing.seams.holdout_tokens import holdout_deltas, holdout_tokens

__all__ = [
    "DIVERGENCE_BUCKETS",
    "HOLDOUT_ANSWERS",
    "HOLDOUT_CUT_KINDS",
    "HOLDOUT_RESTARTS",
    "PERIODIC_HOLDOUT_ANSWERS",
    "HoldoutCase",
    "HoldoutPlayer",
    "build_holdout_cases",
    "build_holdout_sweep",
    "divergence_rates",
    "holdout_continuation",
    "holdout_cut_kind",
    "holdout_deltas",
    "holdout_tokens",
    "play_holdout_cases",
    "play_holdout_in_process",
    "sweep_report",
]
