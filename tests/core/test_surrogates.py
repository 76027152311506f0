"""Surrogate pairs split across deltas are joined; lone halves become U+FFFD (counted)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.surrogates import REPLACEMENT, SurrogateJoiner, replace_lone_surrogates

EMOJI = "\U0001f600"
HIGH, LOW = "\ud83d", "\ude00"  # EMOJI as UTF-16 units, as JSON "\\ud83d\\ude00" decodes


def test_replace_lone_surrogates() -> None:
    assert replace_lone_surrogates("plain") == ("plain", 0)
    assert replace_lone_surrogates("naïve " + EMOJI) == ("naïve " + EMOJI, 0)
    assert replace_lone_surrogates(HIGH + LOW) == (EMOJI, 0)
    assert replace_lone_surrogates(f"a{HIGH}b{LOW}c") == (f"a{REPLACEMENT}b{REPLACEMENT}c", 2)
    assert replace_lone_surrogates(LOW + HIGH) == (REPLACEMENT * 2, 2)


def feed_all(pieces: list[str]) -> tuple[str, int]:
    joiner = SurrogateJoiner()
    out = "".join(joiner.feed(piece) for piece in pieces) + joiner.finish()
    return out, joiner.replaced


def test_a_pair_split_across_deltas_is_joined() -> None:
    assert feed_all(["smile ", HIGH, LOW, " ok"]) == (f"smile {EMOJI} ok", 0)
    assert feed_all(["smile " + HIGH, LOW + " ok"]) == (f"smile {EMOJI} ok", 0)
    joiner = SurrogateJoiner()
    assert joiner.feed("a" + HIGH) == "a"  # held, not passed on half-made
    assert joiner.holding
    assert joiner.feed(LOW) == EMOJI


def test_halves_without_partners_are_replaced_and_counted() -> None:
    assert feed_all(["a", HIGH]) == ("a" + REPLACEMENT, 1)  # the stream ended
    assert feed_all([HIGH, "b"]) == (REPLACEMENT + "b", 1)
    assert feed_all([LOW, "b"]) == (REPLACEMENT + "b", 1)
    assert feed_all([HIGH, HIGH, LOW]) == (REPLACEMENT + EMOJI, 1)


def test_reset_drops_a_held_half() -> None:
    joiner = SurrogateJoiner()
    joiner.feed("x" + HIGH)
    joiner.reset()
    assert (joiner.feed("y"), joiner.finish(), joiner.replaced) == ("y", "", 0)


texts = st.lists(st.sampled_from(["a", "é", " ", EMOJI, HIGH, LOW, "\n"]), max_size=12)


@given(texts, st.lists(st.integers(min_value=0, max_value=12), max_size=5))
def test_any_split_gives_the_whole_text_made_encodable(units: list[str], cuts: list[int]) -> None:
    text = "".join(units)
    bounds = sorted({min(cut, len(text)) for cut in cuts})
    pieces = [text[start:end] for start, end in zip([0, *bounds], [*bounds, len(text)],
                                                    strict=True)]
    out, replaced = feed_all(pieces)
    whole, expected = replace_lone_surrogates(text)
    assert (out, replaced) == (whole, expected)
    out.encode("utf-8")  # never raises
