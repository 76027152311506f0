"""A deterministic tokenizer that cuts text into deltas shaped like real model tokens.

Real streams carry 1-4 tokens per delta; a token is a word piece with its
leading space (``" over"``, ``"lo"``, ``"aded"``), a group of 1-3 digits, one
punctuation mark, a newline, a run of up to four spaces of indentation, or one
or two CJK characters. Which word is split where is chosen by a seeded
``random.Random``, so a corpus is the same on every run.
"""

from __future__ import annotations

import random
import re

__all__ = ["deltas", "tokens"]

_PIECE = re.compile(r" ?[^\W\d_]+| ?\d+|\n| +|.", re.DOTALL)


def _is_wide(ch: str) -> bool:
    # CJK, kana and Hangul: tokenizers give them one or two characters a token.
    return ord(ch) >= 0x2E80


def _split_word(word: str, rng: random.Random) -> list[str]:
    if _is_wide(word.lstrip()[:1] or " "):
        pieces: list[str] = []
        position = 0
        while position < len(word):
            size = 1 + (rng.random() < 0.4)
            pieces.append(word[position : position + size])
            position += size
        return pieces
    letters = len(word.lstrip())
    if letters <= 5 or rng.random() < 0.3:
        return [word]
    pieces = []
    position = 0
    while position < len(word):
        size = rng.randint(2, 5) + (1 if position == 0 and word[0] == " " else 0)
        pieces.append(word[position : position + size])
        position += size
    return pieces


def tokens(text: str, rng: random.Random) -> list[str]:
    """Cut ``text`` into token-like pieces that concatenate back to it exactly."""
    result: list[str] = []
    for match in _PIECE.finditer(text):
        piece = match.group()
        stripped = piece.lstrip(" ")
        if stripped[:1].isdigit():
            lead = piece[: len(piece) - len(stripped)]
            groups = [stripped[i : i + 3] for i in range(0, len(stripped), 3)]
            result.append(lead + groups[0])
            result.extend(groups[1:])
        elif stripped[:1].isalpha():
            result.extend(_split_word(piece, rng))
        elif piece.startswith(" ") and len(piece) > 1:
            result.extend(piece[i : i + 4] for i in range(0, len(piece), 4))
        else:
            result.append(piece)
    return result


def deltas(text: str, rng: random.Random) -> list[str]:
    """Group the :func:`tokens` of ``text`` into deltas of 1-4 tokens."""
    pieces = tokens(text, rng)
    result: list[str] = []
    position = 0
    while position < len(pieces):
        size = rng.randint(1, 4)
        result.append("".join(pieces[position : position + size]))
        position += size
    return result
