"""Rule 3b (a dropped space) on real text: wrong spaces on exact continuations, spaces restored.

    python benchmarks/scan_dropped_space.py             (400 answers, several minutes)
    python benchmarks/scan_dropped_space.py 0 50 --show 5

Answers of 4,000 characters are cut from the READMEs under /usr/share/doc, the
Node.js API docs there, /work/shared/*.md and the texts of the recorded streams
(/work/shared/realstreams/expected.json), shuffled with seed 3 (what is found
depends on the machine: compare runs on one machine only). At every cut between
two non-space characters, the exact continuation is asked of the rule
(``restore_space``, before any overlap rule: an upper bound of what the stitcher
does): a space there is wrong. At every single space between two non-space
characters, the continuation with that space dropped is asked: a space there is
restored.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import random
import re
from pathlib import Path

from streamrecover.core import lexicon
from streamrecover.core.droppedspace import restore_space

_LEFT_LETTERS = re.compile(r"[^\W\d_]+$")
_RIGHT_LETTERS = re.compile(r"[^\W\d_]+")


def answers() -> list[str]:
    files = sorted(glob.glob("/usr/share/doc/**/README*", recursive=True))
    files += sorted(glob.glob("/usr/share/doc/nodejs/api/*.md"))
    files += sorted(glob.glob("/work/shared/*.md"))
    texts = []
    for name in files:
        try:
            raw = Path(name).read_bytes()
            if name.endswith(".gz"):
                raw = gzip.decompress(raw)
            texts.append(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    recorded = Path("/work/shared/realstreams/expected.json")
    if recorded.exists():
        streams = json.loads(recorded.read_text(encoding="utf-8"))
        texts += [v["text"] for v in streams.values() if isinstance(v, dict) and v.get("text")]
    cut = [t[i : i + 4000] for t in texts for i in range(0, len(t), 4000)]
    cut = [a for a in cut if len(a) > 500]
    random.Random(3).shuffle(cut)
    return cut


def kind(answer: str, cut: int) -> str:
    if not (answer[cut - 1].isalpha() and answer[cut].isalpha()):
        return "beside digits or marks"
    left = _LEFT_LETTERS.search(answer, 0, cut)
    right = _RIGHT_LETTERS.match(answer, cut)
    halves = [m.group() for m in (left, right) if m]
    words = len(halves) == 2 and all(len(h) >= 2 and lexicon.is_word(h) for h in halves)
    return "inside a word, both halves words" if words else "other cuts between letters"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("start", type=int, nargs="?", default=0)
    parser.add_argument("stop", type=int, nargs="?", default=400)
    parser.add_argument("--show", type=int, default=0, help="print this many wrong spaces a kind")
    args = parser.parse_args()
    chosen = answers()[args.start : args.stop]
    cuts: collections.Counter[str] = collections.Counter()
    wrong: collections.Counter[str] = collections.Counter()
    dropped: collections.Counter[str] = collections.Counter()
    restored: collections.Counter[str] = collections.Counter()
    samples: dict[str, list[str]] = collections.defaultdict(list)
    for answer in chosen:
        for cut in range(1, len(answer) - 1):
            before, here = answer[cut - 1], answer[cut]
            if before.isspace():
                continue
            if not here.isspace():
                name = kind(answer, cut)
                cuts[name] += 1
                out = restore_space(answer[:cut], answer[cut : cut + 41], at_end=False)
                if out is not None and out.startswith(" "):
                    wrong[name] += 1
                    left, right = answer[max(0, cut - 25) : cut], answer[cut : cut + 20]
                    samples[name].append(f"{left!r} + {right!r}")
            elif here == " " and not answer[cut + 1].isspace():
                name = "after a letter or digit" if before.isalnum() else "after a mark"
                dropped[name] += 1
                out = restore_space(answer[:cut], answer[cut + 1 : cut + 42], at_end=False)
                restored[name] += out is not None and out.startswith(" ")
    print(f"{len(chosen)} answers")
    for name, count in sorted(cuts.items()):
        print(f"exact continuation cut {name}: {wrong[name]} wrong spaces of {count:,}")
        for sample in samples[name][: args.show]:
            print("   ", sample)
    for name, count in sorted(dropped.items()):
        share = 100 * restored[name] / count
        print(f"space dropped {name}: {restored[name]:,} restored of {count:,} ({share:.1f}%)")


if __name__ == "__main__":
    main()
