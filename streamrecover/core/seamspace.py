"""The whitespace at the seam (rule 3 of :mod:`~streamrecover.core.stitch`).

A prefill loses the committed text's trailing whitespace (the *seam*); the
continuation may re-emit it, write other whitespace, or none. The consumer
already has the seam, so what follows the removed overlap is cut as follows:
its leading whitespace ``V`` loses the seam when it starts with it; otherwise
``V`` is dropped, except that newlines beyond those already in the seam are
kept (from the first newline in ``V`` past that count, with any indentation
after it). Pure function, no state.
"""

from __future__ import annotations

__all__ = ["seam_cut"]


def seam_cut(pending: str, seam: str, *, window: int, at_end: bool) -> int | None:
    """How many leading characters of ``pending`` (the text after the overlap) to drop.

    Args:
        pending: the continuation after the removed overlap, as far as it is known.
        seam: the whitespace the consumer has after what the model saw (not empty).
        window: the longest run of leading whitespace examined (the stitcher
            holds no more).
        at_end: whether the continuation ended with ``pending``.

    Returns:
        The number of characters to drop, or ``None`` when ``pending`` is
        whitespace only and more may follow (the whole run is needed to count
        its newlines).
    """
    rest = pending.lstrip()
    # At most window + 1 characters of leading whitespace are examined, the
    # most that is ever held: a longer run is cut at the same place however
    # it arrives.
    leading = min(len(pending) - len(rest), window + 1)
    if pending.startswith(seam):
        return len(seam)
    if not rest and not at_end and len(pending) <= window:
        return None
    seam_newlines = seam.count("\n")
    if pending.count("\n", 0, leading) <= seam_newlines:
        return leading
    cut = 0
    for _ in range(seam_newlines):
        cut = pending.index("\n", cut) + 1
    return cut
