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

from streamrecover.testing.seams.report import PROVIDERS, report, run_corpus


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
    cases, results, seconds = run_corpus(
        args.corpus,
        seed=args.seed,
        providers=providers,
        in_process=args.in_process,
        per_kind=args.per_kind,
        holdout_rounds=args.holdout_rounds,
    )
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
