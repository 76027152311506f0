"""The seam corpus: how real models continue a cut-off answer, and a player for it.

- :mod:`~streamrecover.testing.seams.answers`: the reference answers (prose,
  markdown, tables, code, CJK, numbers, JSON in prose, periodic text).
- :mod:`~streamrecover.testing.seams.tokens`: deltas shaped like real tokens.
- :mod:`~streamrecover.testing.seams.cases`: cuts of every kind and every
  continuation behaviour, derived from what the resume request showed the model.
- :mod:`~streamrecover.testing.seams.player`: plays cases through the public
  ``Client`` over loopback against a fake provider and classifies the result
  (exact, duplicated, lost).

``benchmarks/bench_seams.py`` prints the table; ``tests/testing/test_seams.py``
holds the floors.
"""

from __future__ import annotations

from streamrecover.testing.seams.cases import (
    AMBIGUOUS,
    BEHAVIOURS,
    CUT_KINDS,
    SeamCase,
    build_cases,
    continuation_for,
    cut_kind,
)
from streamrecover.testing.seams.player import SeamPlayer, SeamResult, classify, play_cases

__all__ = [
    "AMBIGUOUS",
    "BEHAVIOURS",
    "CUT_KINDS",
    "SeamCase",
    "SeamPlayer",
    "SeamResult",
    "build_cases",
    "classify",
    "continuation_for",
    "cut_kind",
    "play_cases",
]
