"""The shape of text the stitcher reads: characters, grapheme clusters, word boundaries.

What counts as one character to the eye (UAX #29 grapheme clusters,
approximated: marks, ZWJ sequences, emoji modifiers, tags, regional-indicator
pairs, CR LF), where a word ends, and whether a piece of text is periodic or
spans table cells. Pure functions, no state.
"""

from __future__ import annotations

import unicodedata

# Character classes for word boundaries.
SPACE = 0
WORD = 1
OTHER = 2

ZWJ = "\u200d"


def common_prefix_length(text: str, reference: str, start: int) -> int:
    """How many leading characters of ``text`` equal ``reference[start:]``'s."""
    limit = min(len(text), len(reference) - start)
    if limit <= 0:
        return 0
    if reference.startswith(text if limit == len(text) else text[:limit], start):
        return limit
    # Binary search on the prefix length: startswith runs in C, so this stays
    # fast for long deltas where a per-character loop would not.
    low, high = 0, limit  # text[:low] matches, text[:high] does not
    while high - low > 1:
        middle = (low + high) // 2
        if reference.startswith(text[:middle], start):
            low = middle
        else:
            high = middle
    return low


def has_table_cells(text: str) -> bool:
    """Whether ``text`` spans table cells ("0 |\n| 0 | 0"): its digits are not one number."""
    return sum(any(ch.isdigit() for ch in cell) for cell in text.split("|")) > 1


def has_short_period(text: str, bound: int) -> bool:
    """Whether ``text`` repeats with a period shorter than ``bound``."""
    return any(text[period:] == text[: len(text) - period] for period in range(1, bound))


def is_extender(ch: str) -> bool:
    """Whether ``ch`` continues the grapheme cluster before it (UAX #29, approximated)."""
    if ch == ZWJ:
        return True
    if unicodedata.category(ch) in ("Mn", "Mc", "Me"):
        return True
    # Emoji skin-tone modifiers (UTS #51) and tag characters (emoji tag sequences).
    return "\U0001f3fb" <= ch <= "\U0001f3ff" or "\U000e0020" <= ch <= "\U000e007f"


def is_wide(ch: str) -> bool:
    """CJK, kana and Hangul: one character carries about a word's worth of text."""
    return ord(ch) >= 0x2E80


def _is_regional_indicator(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def is_cluster_start(text: str, index: int) -> bool:
    """Whether a grapheme cluster starts at ``text[index]`` (UAX #29, approximated)."""
    if index <= 0 or index >= len(text):
        return True
    ch = text[index]
    previous = text[index - 1]
    if is_extender(ch) or previous == ZWJ or (previous == "\r" and ch == "\n"):
        return False
    if _is_regional_indicator(ch) and _is_regional_indicator(previous):
        run = 0
        position = index - 1
        while position >= 0 and _is_regional_indicator(text[position]):
            run += 1
            position -= 1
        return run % 2 == 0  # flags are pairs: a start after an even number
    return True


def char_class(ch: str) -> int:
    if ch.isspace():
        return SPACE
    if ch.isalnum() or ch == "_" or is_extender(ch):
        return WORD
    return OTHER


def is_boundary(before: str, after: str) -> bool:
    """Whether a word (or a run of symbols) ends between ``before`` and ``after``."""
    kind = char_class(before)
    return kind != char_class(after) or kind == SPACE


def is_pictograph(ch: str) -> bool:
    """Whether ``ch`` is a symbol drawn as a picture (an emoji's base): category ``So``."""
    return unicodedata.category(ch) == "So"
