"""Digits in groups of one width (core/tailrepeats.py ``digit_group_width``), on whole seams."""

from __future__ import annotations

import pytest

from streamrecover.core.tailrepeats import digit_group_width
from tests.core.test_tailrepeats import stitched


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # The last group re-sent from its start: keeping it writes five digits.
        (
            "The dump showed 0000 0000 0000 0",
            "0001, then",
            "The dump showed 0000 0000 0000 0001, then",
        ),
        ("Card 4111-1111-1111-11", "1111 expires", "Card 4111-1111-1111-1111 expires"),
        ("at 10:15:0", "06Z INFO", "at 10:15:06Z INFO"),
    ],
)
def test_group_resent_from_its_start_is_removed(
    committed: str, continuation: str, final: str, prefill: bool
) -> None:
    assert stitched(committed, continuation, prefill=prefill) == final


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("text", "cut"),
    [
        # Exact continuations inside groups of one width: the group's width keeps them
        # (the doubled digit read as a repeat altered them before).
        ("Bytes: 00 11 22 33 44 55 66 done.", 14),
        ("Bytes: 00 11 22 33 44 55 66 done.", 23),
        ("Card 4111-1111-1111-1111 expires.", 17),
        ("Card 5500-0055-0000-0004 expires.", 21),
        ("Log at 10:15:06Z, then 00:00:00 end.", 30),
        ("The dump showed 0000 0000 0000 0001, then", 28),
        # Not inside a group: the rule has no opinion.
        ("Values 10 20 30 4 5 and 1 22 333 end.", 21),
    ],
)
def test_exact_continuations_in_digit_groups_stay(text: str, cut: int, prefill: bool) -> None:
    committed = text[:cut]
    shown = committed.rstrip() if prefill else committed
    assert stitched(committed, text[len(shown) :], prefill=prefill) == text


def test_shapes() -> None:
    assert digit_group_width("showed 0000 0000 0000 0") == (4, 1)
    assert digit_group_width("4111-1111-1111-11") == (4, 2)
    assert digit_group_width("at 10:15:0") == (2, 1)
    assert digit_group_width("a 12 34") is None  # one whole group after a word
    assert digit_group_width("2024-06-0") is None  # groups of different widths
    assert digit_group_width("v1.2.3") is None  # groups of one digit
    assert digit_group_width("0000 0000 ") is None  # not inside a group
