"""The holdout corpus's tokenizer: deltas shaped like byte-pair-encoding output.

Written apart from :mod:`~streamrecover.testing.seams.tokens`, and shaped
differently on purpose, after the pre-tokenizer of the common BPE vocabularies:

- a word carries its leading space (``" server"``); a long word is cut into
  pieces of 2-6 letters (``" Miss"``, ``"iss"``, ``"ippi"``), a short one
  sometimes in two; an accented letter is often a token of its own
  (``"Gr"``, ``"ö"``, ``"ße"``), and English contractions are split off
  (``"doesn"``, ``"'t"``);
- digits come in groups of one to three, *without* the space before them
  (``" "``, ``"12"``, ``","``, ``"480"``);
- punctuation comes in runs of up to three characters with an optional
  leading space and the newlines after it (``"```"``, ``"\\":"``, ``".\\n\\n"``);
  symbols outside ASCII (emoji, ZWJ, variation selectors) one or two code
  points a token, so a ZWJ sequence can be split between deltas;
- a run of spaces leaves its last space to the word after it
  (``"   "`` + ``" return"``), and newlines with the spaces before them are
  one token;
- CJK and kana come one to three characters a token.

A delta is one to four tokens (more often one or two). All choices come from
the ``random.Random`` passed in, so a seed gives the same deltas on every run.
"""

from __future__ import annotations

import random
import re

__all__ = ["holdout_deltas", "holdout_tokens"]

_PRETOKEN = re.compile(
    r"""['\u2019](?:s|t|re|ve|m|ll|d)(?![^\W\d_])"""  # contractions
    r"""| ?[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+"""  # CJK, kana, Hangul
    r"""| ?[^\W\d_\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+"""  # letters
    r"""|\d{1,3}"""
    r"""| ?(?:[^\s\w]|_)+[\r\n]*"""
    r"""|\s*[\r\n]+"""
    r"""|\s+(?!\S)"""
    r"""|\s+""",
    re.IGNORECASE,
)

#: How many tokens a delta carries, and how often.
_DELTA_SIZES = (1, 2, 3, 4)
_DELTA_WEIGHTS = (0.38, 0.32, 0.18, 0.12)


def _is_wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80


def _word_pieces(word: str, rng: random.Random) -> list[str]:
    """Cut one (possibly space-led) word of letters into BPE-like pieces."""
    lead = " " if word.startswith(" ") else ""
    letters = word[len(lead) :]
    # Accented and other non-ASCII letters are often tokens of their own.
    parts: list[str] = []
    run = ""
    for ch in letters:
        if ord(ch) > 0x7F and rng.random() < 0.5:
            if run:
                parts.append(run)
            parts.append(ch)
            run = ""
        else:
            run += ch
    if run:
        parts.append(run)
    pieces: list[str] = []
    for part in parts:
        if len(part) <= 6:
            if len(part) >= 4 and rng.random() < 0.2:
                middle = rng.randint(2, len(part) - 2)
                pieces.extend((part[:middle], part[middle:]))
            else:
                pieces.append(part)
            continue
        position = 0
        while position < len(part):
            size = rng.randint(2, 6)
            if len(part) - (position + size) == 1:
                size += 1  # no one-letter tail: BPE rarely leaves one
            pieces.append(part[position : position + size])
            position += size
    pieces[0] = lead + pieces[0]
    return pieces


def _wide_pieces(run: str, rng: random.Random) -> list[str]:
    lead = " " if run.startswith(" ") else ""
    chars = run[len(lead) :]
    pieces: list[str] = []
    position = 0
    while position < len(chars):
        size = rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0]
        pieces.append(chars[position : position + size])
        position += size
    pieces[0] = lead + pieces[0]
    return pieces


def _punctuation_pieces(run: str, rng: random.Random) -> list[str]:
    body = run.rstrip("\r\n")
    newlines = run[len(body) :]
    pieces: list[str] = []
    position = 0
    while position < len(body):
        if ord(body[position]) > 0x7F:
            size = rng.choice((1, 1, 2))
        else:
            size = rng.randint(1, 3)
            # An ASCII run does not swallow the emoji after it.
            end = position
            while end < min(len(body), position + size) and ord(body[end]) <= 0x7F:
                end += 1
            size = max(1, end - position)
        pieces.append(body[position : position + size])
        position += size
    if newlines:
        if pieces:
            pieces[-1] += newlines
        else:
            pieces.append(newlines)
    return pieces


def holdout_tokens(text: str, rng: random.Random) -> list[str]:
    """Cut ``text`` into BPE-like tokens that concatenate back to it exactly."""
    tokens: list[str] = []
    for match in _PRETOKEN.finditer(text):
        piece = match.group()
        core = piece.lstrip(" ")
        if not core or core[0].isspace():
            tokens.append(piece)
        elif _is_wide(core[0]) and core[0].isalpha():
            tokens.extend(_wide_pieces(piece, rng))
        elif core[0].isalpha() and piece[0] not in "'\u2019":
            tokens.extend(_word_pieces(piece, rng))
        elif core[0].isdigit() or piece[0] in "'\u2019":
            tokens.append(piece)
        else:
            lead = piece[: len(piece) - len(core)]
            rest = _punctuation_pieces(core, rng)
            rest[0] = lead + rest[0]
            tokens.extend(rest)
    return tokens


def holdout_deltas(text: str, rng: random.Random) -> list[str]:
    """Group the :func:`holdout_tokens` of ``text`` into deltas of one to four tokens."""
    tokens = holdout_tokens(text, rng)
    result: list[str] = []
    position = 0
    while position < len(tokens):
        size = rng.choices(_DELTA_SIZES, weights=_DELTA_WEIGHTS)[0]
        result.append("".join(tokens[position : position + size]))
        position += size
    return result
