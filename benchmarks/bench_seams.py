"""Seams: how exact the stitched answer is on continuations shaped like real models'.

Run:  python benchmarks/bench_seams.py                 (full corpus, four providers)
      python benchmarks/bench_seams.py --per-kind 1    (a quick third of it)
      python benchmarks/bench_seams.py --failures 20   (show the first failures too)
      python benchmarks/bench_seams.py --in-process    (the stitcher alone: seconds)
      python benchmarks/bench_seams.py --corpus holdout (the independent holdout corpus)

Plays the corpus of :mod:`streamrecover.testing.seams` through the public
``Client`` over loopback: the fake provider streams the committed text in
token-shaped deltas and resets; the resume request is inspected, and the
continuation is derived from what it showed the model (Anthropic's prefill
for ``claude-sonnet-4-5``; an assistant turn plus "continue" for OpenAI, the
Responses API and Gemini). Prints exact / duplicated / lost per behaviour x
provider, per cut kind, and overall, plus the characters lost on exact
continuations. The result does not depend on timing: the same seed gives the
same table on any machine.
"""

from __future__ import annotations

import argparse
import collections
import time
from collections.abc import Sequence

from streamrecover.testing.seams import AMBIGUOUS, BEHAVIOURS, SeamResult, build_cases, play_cases
from streamrecover.testing.seams.holdout import (
    PERIODIC_HOLDOUT_ANSWERS,
    build_holdout_cases,
    play_holdout_cases,
    play_holdout_in_process,
)
from streamrecover.testing.seams.inprocess import play_in_process

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--per-kind", type=int, default=3)
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--failures", type=int, default=0, help="print this many failures")
    parser.add_argument(
        "--in-process", action="store_true", help="through the stitcher alone (fast; no Client)"
    )
    parser.add_argument("--behaviour", default="", help="show failures of this behaviour only")
    parser.add_argument(
        "--corpus",
        choices=("main", "holdout", "both"),
        default="main",
        help="main: testing/seams; holdout: testing/seams/holdout (rounds = --holdout-rounds)",
    )
    parser.add_argument("--holdout-rounds", type=int, default=1)
    args = parser.parse_args()
    providers = tuple(p for p in args.providers.split(",") if p)
    cases = build_cases(args.seed, per_kind=args.per_kind) if args.corpus != "holdout" else []
    held = build_holdout_cases(args.seed, rounds=args.holdout_rounds)
    held = held if args.corpus != "main" else []
    started = time.perf_counter()
    player = play_in_process if args.in_process else play_cases
    results = list(player(cases, providers))
    holdout_player = play_holdout_in_process if args.in_process else play_holdout_cases
    results += holdout_player(held, providers)
    cases += held
    seconds = time.perf_counter() - started
    print(f"{len(cases)} seams x {len(providers)} providers, seed {args.seed}, {seconds:.1f} s")
    print()
    print(report(results, providers))
    shown = 0
    for result in results:
        if shown >= args.failures:
            break
        if result.outcome != "exact" and args.behaviour in ("", result.case.behaviour):
            shown += 1
            case = result.case
            print(
                f"\n{result.provider} {case.name} ({case.kind}, amount {case.amount}):"
                f" {result.outcome} {result.detail}"
            )
            print(f"  committed ...{case.committed[-40:]!r}")
            print(f"  expected  ...{result.expected[max(0, case.cut - 40) : case.cut + 30]!r}")
            print(f"  got       ...{result.text[max(0, case.cut - 40) : case.cut + 30]!r}")


if __name__ == "__main__":
    main()
