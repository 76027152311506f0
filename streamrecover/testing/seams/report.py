"""The seam corpus's report: exact / duplicated / lost per behaviour x provider, per cut kind.

Shared by ``benchmarks/bench_seams.py`` and ``streamrecover conformance --seams``.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Sequence

from streamrecover.testing.seams.cases import AMBIGUOUS, BEHAVIOURS, SeamCase, build_cases
from streamrecover.testing.seams.holdout import (
    PERIODIC_HOLDOUT_ANSWERS,
    build_holdout_cases,
    play_holdout_cases,
    play_holdout_in_process,
)
from streamrecover.testing.seams.inprocess import play_in_process
from streamrecover.testing.seams.player import SeamResult, play_cases

__all__ = ["PERIODIC_ANSWERS", "PROVIDERS", "exact_losses", "report", "run_corpus"]

PROVIDERS = ("openai", "openai-responses", "anthropic", "gemini")
#: Answers made of a short repeated pattern ("ha ha ha", a table of zeros): at
#: a seam there, "repeated" and "went on" often read the same.
PERIODIC_ANSWERS = frozenset({"repetitive", "zeros_table"})
PERIODIC_ANSWERS |= PERIODIC_HOLDOUT_ANSWERS  # log lines, similar list items, yes/no tables


def _rate(results: Sequence[SeamResult]) -> str:
    if not results:
        return "-"
    exact = sum(r.outcome == "exact" for r in results)
    return f"{100 * exact / len(results):5.1f}%"


def _counts(results: Sequence[SeamResult]) -> str:
    counter = collections.Counter(r.outcome for r in results)
    total = len(results)
    return (
        f"{100 * counter['exact'] / total:5.1f}% exact, "
        f"{100 * (counter['duplicated'] + counter['garbled']) / total:4.1f}% dup, "
        f"{100 * (counter['lost'] + counter['garbled']) / total:4.1f}% lost, "
        f"{counter['failed']} failed (n={total})"
    )


def report(results: Sequence[SeamResult], providers: Sequence[str]) -> str:
    """The markdown tables of a run."""
    lines = [
        "| behaviour | " + " | ".join(providers) + " | all |",
        "|---|" + "---|" * (len(providers) + 1),
    ]
    for behaviour, label in BEHAVIOURS.items():
        rows = [r for r in results if r.case.behaviour == behaviour]
        if not rows:
            continue
        cells = [_rate([r for r in rows if r.provider == p]) for p in providers]
        mark = " (ambiguous)" if behaviour in AMBIGUOUS else ""
        lines.append(f"| {label}{mark} | " + " | ".join(cells) + f" | {_rate(rows)} |")
    lines.append("")
    lines.append("| cut | exact | n |")
    lines.append("|---|---|---|")
    kinds = sorted({r.case.kind for r in results})
    for kind in kinds:
        rows = [r for r in results if r.case.kind == kind]
        lines.append(f"| {kind} | {_rate(rows)} | {len(rows)} |")
    lines.append("")
    clear = [r for r in results if r.case.behaviour not in AMBIGUOUS]
    lines.append(f"overall:              {_counts(results)}")
    lines.append(f"without ambiguous:    {_counts(clear)}")
    aperiodic = [r for r in clear if r.case.answer not in PERIODIC_ANSWERS]
    lines.append(f"  and not periodic:   {_counts(aperiodic)}")
    exact_rows = [r for r in results if r.case.behaviour in ("exact", "exact_in_whitespace")]
    lost = sum(r.lost for r in exact_rows)
    losing = sum(r.lost > 0 for r in exact_rows)
    lines.append(f"exact continuations:  {lost} characters lost in {losing} of {len(exact_rows)}")
    return "\n".join(lines)


def exact_losses(results: Sequence[SeamResult]) -> int:
    """Characters lost on continuations that went on exactly (the guarantee: 0)."""
    return sum(r.lost for r in results if r.case.behaviour in ("exact", "exact_in_whitespace"))


def run_corpus(
    corpus: str = "main",
    *,
    seed: int = 11,
    providers: Sequence[str] = PROVIDERS,
    in_process: bool = True,
    per_kind: int = 3,
    holdout_rounds: int = 1,
) -> tuple[list[SeamCase], list[SeamResult], float]:
    """Play ``corpus`` (``"main"``, ``"holdout"`` or ``"both"``); returns cases, results, seconds.

    ``in_process`` plays through the stitcher alone (seconds); otherwise every
    seam goes through the public ``Client`` over loopback (a minute or two).

    Raises:
        ValueError: an unknown ``corpus``.
    """
    if corpus not in ("main", "holdout", "both"):
        raise ValueError(f"corpus must be main, holdout or both, not {corpus!r}")
    cases = build_cases(seed, per_kind=per_kind) if corpus != "holdout" else []
    held = build_holdout_cases(seed, rounds=holdout_rounds) if corpus != "main" else []
    started = time.perf_counter()
    player = play_in_process if in_process else play_cases
    results = list(player(cases, providers))
    holdout_player = play_holdout_in_process if in_process else play_holdout_cases
    results += holdout_player(held, providers)
    return cases + held, results, time.perf_counter() - started
