"""Build the English word list the stitcher reads words with (streamrecover/core/data/).

    apt-get install scowl          # Debian's SCOWL word lists, /usr/share/dict/scowl
    python scripts/build_lexicon.py

Writes ``streamrecover/core/data/english-words.txt.gz`` and the SCOWL copyright
notice next to it (``english-words.LICENSE``, from
``/usr/share/doc/scowl/copyright``, which the SCOWL licence asks to ship with
every copy). The output depends only on the SCOWL release and the Python
standard library it reads, so the same machine builds the same bytes.

What goes in:

- SCOWL's English, American and British words, capitalized words, proper names
  and contractions up to size 70 (the size of the "large" spelling
  dictionaries), lowercased, possessives left out (the reader strips ``'s``);
- technical words: the letter runs (identifiers split at their camelCase humps
  and underscores) of the standard library's own modules, docstrings and
  comments that SCOWL lacks, used at least 20 times in at least 5 modules (so
  a typo or a one-module name does not become a word), with a vowel, and not
  hex-like (``xff``); and those of this repository's README files used at
  least three times outside quotes and backquotes. The reader inflects these
  (``-s``, ``-ed``, ``-ing``...); SCOWL's words come inflected already.

Format (read by :mod:`streamrecover.core.lexicon`): gzip'd UTF-8, one word a
line, sorted; ``#`` lines are comments or section headers (``#words``,
``#technical``, ``#common``: SCOWL's sizes 10 and 20, words also in the
first section). (Front-coding the lines would save a third of the 360 KB but
make the first load four times slower: 0.4 s instead of 0.1 s.)
"""

from __future__ import annotations

import argparse
import collections
import gzip
import re
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "streamrecover" / "core" / "data"
DATA_NAME = "english-words.txt.gz"
LICENSE_NAME = "english-words.LICENSE"

#: SCOWL sizes kept: 70 is the "large" dictionary; 80 and 95 add rare and dubious words.
SIZES = (10, 20, 35, 40, 50, 55, 60, 70)
#: SCOWL sizes of the common words (a short repeat reads as one of them only).
COMMON_SIZES = (10, 20)
#: SCOWL list kinds kept (abbreviations are left out: "inn", "mit" are enough collisions).
KINDS = ("words", "upper", "proper-names", "contractions")
SPELLINGS = ("english", "american", "british")
#: A standard-library word is kept from this many uses, in at least this many modules.
STDLIB_MIN_USES = 20
STDLIB_MIN_MODULES = 5
#: A word of the repository's README files is kept from this many uses.
README_MIN_USES = 3
MIN_LENGTH = 3

_LETTER_RUN = re.compile(r"[A-Za-z]+")
# Identifier pieces: "HTTPServer" -> "HTTP", "Server"; "readLine" -> "read", "Line".
_PIECE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_SCOWL_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_HEX_LIKE = re.compile(r"x[a-f]+")
_VOWEL = re.compile(r"[aeiouy]")
_QUOTED = re.compile(r"`[^`\n]*`|\"[^\"\n]*\"|“[^”\n]*”")


def scowl_words(scowl_dir: Path) -> set[str]:
    words: set[str] = set()
    for spelling in SPELLINGS:
        for kind in KINDS:
            for size in SIZES:
                path = scowl_dir / f"{spelling}-{kind}.{size}"
                if not path.exists():
                    continue
                # SCOWL 2020 lists are UTF-8 (older ones were Latin-1).
                for line in path.read_text(encoding="utf-8").split():
                    word = line.casefold()
                    if word.endswith("'s"):
                        continue
                    if _SCOWL_WORD.fullmatch(word):
                        words.add(word)
    return words


def common_words(scowl_dir: Path) -> set[str]:
    """SCOWL's words of sizes 10 and 20: the few thousand most common ones."""
    words: set[str] = set()
    for spelling in SPELLINGS:
        for size in COMMON_SIZES:
            path = scowl_dir / f"{spelling}-words.{size}"
            if path.exists():
                for line in path.read_text(encoding="utf-8").split():
                    word = line.casefold()
                    if _SCOWL_WORD.fullmatch(word):
                        words.add(word)
    return words


def pieces(text: str) -> list[str]:
    found = []
    for run in _LETTER_RUN.findall(text):
        for piece in _PIECE.findall(run):
            word = piece.casefold()
            if len(word) >= MIN_LENGTH and _VOWEL.search(word) and not _HEX_LIKE.fullmatch(word):
                found.append(word)
    return found


def stdlib_words(known: set[str]) -> set[str]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    uses: collections.Counter[str] = collections.Counter()
    modules: dict[str, set[str]] = collections.defaultdict(set)
    for path in sorted(stdlib.rglob("*.py")):
        parts = set(path.relative_to(stdlib).parts)
        if parts & {
            "site-packages",
            "dist-packages",
            "test",
            "tests",
            "idlelib",
            "tkinter",
            "encodings",
        }:
            continue  # third-party code, test data, GUI widget names, Unicode character names
        text = path.read_text(encoding="utf-8", errors="replace")
        for word in pieces(text):
            if word not in known and not re.search(r"(.)\1\1", word):
                uses[word] += 1
                modules[word].add(str(path.relative_to(stdlib)))
    return {
        word
        for word, count in uses.items()
        if count >= STDLIB_MIN_USES and len(modules[word]) >= STDLIB_MIN_MODULES
    }


def readme_words(known: set[str]) -> set[str]:
    uses: collections.Counter[str] = collections.Counter()
    for path in sorted(ROOT.glob("**/README.md")):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        # Quoted and backquoted text is left out: the READMEs quote seams
        # ("wha" + "atever"), whose pieces are no words.
        text = _QUOTED.sub(" ", path.read_text(encoding="utf-8"))
        for word in pieces(text):
            if word not in known and not re.search(r"(.)\1\1", word):
                uses[word] += 1
    return {word for word, count in uses.items() if count >= README_MIN_USES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scowl-dir", type=Path, default=Path("/usr/share/dict/scowl"))
    parser.add_argument("--copyright", type=Path, default=Path("/usr/share/doc/scowl/copyright"))
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    if not args.scowl_dir.is_dir() or not args.copyright.exists():
        sys.exit(f"SCOWL not found at {args.scowl_dir} (apt-get install scowl)")
    words = scowl_words(args.scowl_dir)
    technical = stdlib_words(words)
    technical |= readme_words(words | technical)
    common = common_words(args.scowl_dir) & words
    version = sysconfig.get_python_version()
    lines = [
        "# streamrecover English lexicon, built by scripts/build_lexicon.py",
        f"# from SCOWL sizes <= {SIZES[-1]} ({', '.join(KINDS)}; see english-words.LICENSE)",
        f"# and the words of the Python {version} standard library and the READMEs",
        "#words",
        *sorted(words),
        "#technical",
        *sorted(technical),
        "#common",
        *sorted(common),
    ]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    (args.out_dir / DATA_NAME).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    notice = (
        "streamrecover/core/data/english-words.txt.gz is derived from SCOWL\n"
        "(Spell Checker Oriented Word Lists, http://wordlist.aspell.net/), as packaged\n"
        "by Debian (package scowl). Its copyright and permission notice follows.\n\n"
        + args.copyright.read_text(encoding="utf-8")
    )
    (args.out_dir / LICENSE_NAME).write_text(notice, encoding="utf-8")
    print(
        f"{len(words)} SCOWL words ({len(common)} common) + {len(technical)} technical words -> "
        f"{(args.out_dir / DATA_NAME).stat().st_size:,} bytes"
    )


if __name__ == "__main__":
    main()
