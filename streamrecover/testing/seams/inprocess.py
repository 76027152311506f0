"""Play seam cases in process, through the stitcher alone (fast, for tests and quick runs).

What the model saw is derived from the request shape, as the resume planner
does it: with a prefill (Anthropic's, trailing whitespace stripped) the
stitcher is told nothing and strips the seam itself; without one (an
assistant turn plus "continue") it is told the model saw the text whole
(``seam_whitespace=""``). The continuation is cut in token-shaped deltas
with the case's seed, exactly as :mod:`~streamrecover.testing.seams.player`
does over loopback, and the consumer's text (``rewind_to`` applied) is
classified the same way. No server, no client: about a hundred times faster
than the loopback path, which stays the reference (it also checks that each
provider's resume request really carries what this path assumes).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from streamrecover.core.stitch import Stitcher
from streamrecover.testing.seams.cases import SeamCase, continuation_for
from streamrecover.testing.seams.player import SeamResult
from streamrecover.testing.seams.tokens import deltas

__all__ = ["PREFILL", "play_in_process", "stitch_pieces"]

#: Whether each provider's default resume request shows the partial as a prefill.
PREFILL = {"openai": False, "openai-responses": False, "anthropic": True, "gemini": False}


def stitch_pieces(committed: str, pieces: Iterable[str], *, prefill: bool) -> str:
    """The consumer's text after stitching ``pieces`` onto ``committed``."""
    stitcher = Stitcher(committed, seam_whitespace=None if prefill else "")
    text = committed
    for piece in [*pieces, None]:
        released = stitcher.finish() if piece is None else stitcher.feed(piece)
        if stitcher.rewind_to is not None:
            text = text[: stitcher.rewind_to]
            stitcher.rewind_to = None
        text += released
    return text


def play_in_process(cases: Iterable[SeamCase], providers: Iterable[str]) -> Iterator[SeamResult]:
    """Play every case for every provider through the stitcher alone."""
    cases = list(cases)
    for provider in providers:
        prefill = PREFILL[provider]
        for case in cases:
            shown = case.committed.rstrip() if prefill else case.committed
            continuation, expected = continuation_for(case, shown)
            rng = random.Random(case.seed * 4 + 1)
            text = stitch_pieces(case.committed, deltas(continuation, rng), prefill=prefill)
            yield SeamResult.judged(case, provider, prefill=prefill, text=text, expected=expected)
