"""A cut inside an emoji sequence (a ZWJ sequence), on whole seams."""

from __future__ import annotations

import pytest

from streamrecover.core.textshape import is_pictograph
from tests.core.test_tailrepeats import stitched

_TEAM = (
    "Team 🎉\n\n- 👩\u200d💻 Alice: build\n- 👨\u200d👩\u200d👧\u200d👦 the whole team: cake\n"
    "- 👨\u200d💻 Bob 👨\u200d💻 again"
)


@pytest.mark.parametrize("prefill", [False, True])
def test_line_resent_from_inside_a_zwj_sequence_is_removed(prefill: bool) -> None:
    # The answer was cut after "👨 + ZWJ"; the model wrote the list item again.
    committed = "Team\n- 👩\u200d💻 Alice\n- 👨\u200d"
    continuation = "- 👨\u200d👩\u200d👧 all"
    assert stitched(committed, continuation, prefill=prefill) == (
        "Team\n- 👩\u200d💻 Alice\n- 👨\u200d👩\u200d👧 all"
    )


@pytest.mark.parametrize("prefill", [False, True])
def test_exact_continuations_through_emoji_sequences_stay(prefill: bool) -> None:
    for cut in range(1, len(_TEAM)):
        committed = _TEAM[:cut]
        shown = committed.rstrip() if prefill else committed
        assert stitched(committed, _TEAM[len(shown) :], prefill=prefill) == _TEAM, cut


def test_pictographs() -> None:
    assert is_pictograph("👨")
    assert is_pictograph("🎉")
    assert not is_pictograph("a")
    assert not is_pictograph("\u200d")
