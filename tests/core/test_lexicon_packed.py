"""The packed word set answers membership exactly as a set of the same words would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core import lexicon
from streamrecover.core.lexicon import _Packed

WORDS = st.text(alphabet="abcé'", min_size=1, max_size=6)


@given(st.lists(WORDS, max_size=60), st.lists(WORDS, max_size=20))
def test_packed_membership_is_set_membership(words: list[str], probes: list[str]) -> None:
    packed = _Packed(words)
    assert len(packed) == len(words)
    for word in [*words, *probes, ""]:
        assert (word in packed) == (word in set(words))


def test_the_shipped_list_is_packed_whole() -> None:
    assert lexicon.is_word("whatever") and not lexicon.is_word("whaatever")
    words = lexicon._words
    assert words is not None and len(words) > 100_000
    # Every length's run is sorted: bisection finds each word it holds.
    for size, run in words._by_length.items():
        assert len(run) % size == 0
        pieces = [run[i : i + size] for i in range(0, len(run), size)]
        assert pieces == sorted(pieces)
