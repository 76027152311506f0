"""Rule 1b of the stitcher: a continuation that restarted the answer and diverged early.

Below the stitcher's ``restart_threshold``, a continuation that reproduces the
answer's opening and then goes its own way is a restart only when that opening
is long enough and unique enough that an exact continuation would not start
the same way (see :mod:`streamrecover.core.stitch`, rule 1b). Pure functions.
"""

from __future__ import annotations

from streamrecover.core.textshape import is_wide

__all__ = ["EARLY_RESTART_AT_END", "EARLY_RESTART_MIN", "is_early_restart"]

#: A restart that diverges early must reproduce at least this much of the opening
#: (CJK characters count twice); more when the cut fell at a sentence or line end.
EARLY_RESTART_MIN = 8
EARLY_RESTART_AT_END = 16
#: A restart that glues a heading or a fence mid-line needs only this much of the opening.
_BLOCK_OPENING_MIN = 3
_SENTENCE_ENDS = frozenset(".!?:;\n\u3002\uff01\uff1f")


def is_early_restart(stripped: str, seam: str, matched: int, held: str) -> bool:
    """Whether ``held``, sharing ``matched`` characters with the opening, restarted the answer.

    Args:
        stripped: the committed text as the model saw it.
        seam: the whitespace a prefill cut off after it.
        matched: the length of the common prefix of ``held`` and ``stripped``.
        held: the continuation so far.
    """
    if matched >= len(stripped) or matched >= len(held):
        return False
    opening = stripped[:matched]
    if matched >= _BLOCK_OPENING_MIN and opening.startswith(("#", "```")) and "\n" not in seam:
        # A heading or a code fence opens a line: glued after text in the middle of a
        # line ("may incl" + "## How configuration is loaded") it is the answer again.
        last_line = stripped[stripped.rfind("\n") + 1 :]
        if last_line.strip():
            return True
    weight = sum(2 if is_wide(ch) else 1 for ch in opening)
    if weight < EARLY_RESTART_MIN or not any(ch.isalnum() for ch in opening):
        return False
    if stripped.find(opening, 1) >= 0:
        return False  # the answer repeats its opening: a parallel sentence, maybe
    last = stripped[-1]
    if seam.rstrip(" \t").endswith("\n") and seam[-1] in " \t":
        # The cut fell in the indentation of a new line: an exact continuation goes
        # on with that line's own text, as with no prefill ("\n  " + "## Steps").
        return True
    if "\n" in seam or last == "\n" or (last in _SENTENCE_ENDS and seam):
        # At a sentence or line end a new sentence may open the same way
        # (not glued to the punctuation: "| 3." + "To install" is a restart).
        return weight >= EARLY_RESTART_AT_END
    return True
