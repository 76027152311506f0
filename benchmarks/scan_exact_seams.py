"""Exact continuations cut in real text: how many does the stitcher alter?

    python benchmarks/scan_exact_seams.py            (all scans, a few seconds)
    python benchmarks/scan_exact_seams.py --show 20  (print the first alterations)

An exact continuation should come out unchanged; each alteration is a false
positive of some rule (a duplicate is the usual failure, a rewind the worst).
Texts: this repository's README.md and benchmarks/README.md (they change with
the repository, so figures drift a little between commits) and the stdlib's
json package, textwrap and argparse. Each cut is played with and without a
prefill, in deltas of 3 characters. Scans:

- random: 3,000 random cuts per file (seed 5);
- marks: every ``. , ; :`` ending a word before a space, cut after it, after
  the space, and before it;
- fences: every line start and line middle inside fenced code of the READMEs,
  for answers opening at every third paragraph.
"""

from __future__ import annotations

import argparse
import random
import re
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from streamrecover.core.stitch import Stitcher

ROOT = Path(__file__).resolve().parent.parent


def texts() -> list[tuple[str, str]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    paths = [ROOT / "README.md", ROOT / "benchmarks" / "README.md"]
    paths += sorted((stdlib / "json").glob("*.py"))
    paths += [stdlib / "textwrap.py", stdlib / "argparse.py"]
    return [(str(p), p.read_text(encoding="utf-8")) for p in paths if p.exists()]


def play(text: str, cut: int, *, prefill: bool) -> tuple[bool, str]:
    """Stitch the exact continuation of ``text`` cut at ``cut``; (unchanged, a sample)."""
    committed = text[:cut]
    shown = committed.rstrip() if prefill else committed
    continuation = text[len(shown) : len(shown) + 120]
    stitcher = Stitcher(committed, seam_whitespace=None if prefill else "")
    out = committed
    pieces: list[str | None] = [continuation[i : i + 3] for i in range(0, len(continuation), 3)]
    for piece in [*pieces, None]:
        released = stitcher.finish() if piece is None else stitcher.feed(piece)
        if stitcher.rewind_to is not None:
            out = out[: stitcher.rewind_to]
            stitcher.rewind_to = None
        out += released
    expected = text[: max(len(committed), len(shown) + 120)]
    around = out[len(committed) - 30 : len(committed) + 30]
    sample = f"{prefill} {committed[-30:]!r} + {continuation[:30]!r} -> {around!r}"
    return out == expected, sample


def random_cuts(corpus: list[tuple[str, str]]) -> Iterator[tuple[str, int]]:
    rng = random.Random(5)
    for _, text in corpus:
        for _ in range(3000):
            yield text, rng.randrange(20, len(text) - 50)


def mark_cuts(corpus: list[tuple[str, str]]) -> Iterator[tuple[str, int]]:
    for _, text in corpus:
        for match in re.finditer(r"(?<=\S)[.,;:](?= )", text):
            for cut in (match.end(), match.end() + 1, match.start()):
                if 20 <= cut <= len(text) - 130:
                    yield text, cut


def fence_cuts(corpus: list[tuple[str, str]]) -> Iterator[tuple[str, int]]:
    for name, full in corpus:
        if not name.endswith(".md"):
            continue
        starts = [m.start() for m in re.finditer(r"(?<=\n\n)[^\n`]", full)]
        for start in starts[::3]:
            answer = full[start : start + 2500]
            inside, position = False, 0
            for line in answer.splitlines(keepends=True):
                if line.lstrip().startswith("```"):
                    inside = not inside
                elif inside:
                    for cut in (position, position + len(line) // 2):
                        if 10 <= cut <= len(answer) - 50:
                            yield answer, cut
                position += len(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="print this many alterations")
    args = parser.parse_args()
    corpus = texts()
    for label, cuts in (("random", random_cuts), ("marks", mark_cuts), ("fences", fence_cuts)):
        total = 0
        altered = []
        for text, cut in cuts(corpus):
            for prefill in (False, True):
                total += 1
                unchanged, sample = play(text, cut, prefill=prefill)
                if not unchanged:
                    altered.append(sample)
        print(f"{label}: {len(altered)} altered of {total:,} exact continuations")
        for sample in altered[: args.show]:
            print("   ", sample)


if __name__ == "__main__":
    main()
