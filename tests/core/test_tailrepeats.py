"""Rules 2g and 2h of the stitcher, and number groups (core/tailrepeats.py), on whole seams."""

from __future__ import annotations

import pytest

from streamrecover.core.tailrepeats import is_boundary_repeat, is_number_group, is_number_run
from streamrecover.testing.seams.inprocess import stitch_pieces


def stitched(committed: str, continuation: str, *, prefill: bool) -> str:
    """The consumer's text, checked to be the same for every split into two deltas and per char."""
    results = set()
    splits = [[continuation], list(continuation)]
    splits += [[continuation[:cut], continuation[cut:]] for cut in range(len(continuation) + 1)]
    for pieces in splits:
        text = stitch_pieces(committed, pieces, prefill=prefill)
        results.add(text)
    assert len(results) == 1, results
    return results.pop()


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # Rule 2g: the end of a word, a space, the start of the next, re-sent.
        ("(x_i -", "i - \\bar{x})^2$.", "(x_i - \\bar{x})^2$."),
        ("Fotos reichen 2", "n 2–3 MB.", "Fotos reichen 2–3 MB."),
        ("restart it a third time —", "e — call Ops.", "restart it a third time — call Ops."),
        ("| Strategy  |", "y  | Keeps text |", "| Strategy  | Keeps text |"),
        ('    """Call `ca', "all `call` until", '    """Call `call` until'),
    ],
)
def test_repeat_across_a_word_boundary_is_removed(
    committed: str, continuation: str, final: str, prefill: bool
) -> None:
    assert stitched(committed, continuation, prefill=prefill) == final


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        # Rule 2h: the end of the line re-sent with the line end the prefill stripped.
        (
            "- `timeout`: 30 seconds\n  - `retries`: 3\n",
            " 3\n- **File** at",
            "- `timeout`: 30 seconds\n  - `retries`: 3\n- **File** at",
        ),
        (
            "- `timeout`: 30 seconds\n  - `retries`: 3\n",
            "`: 3\n- **File** at",
            "- `timeout`: 30 seconds\n  - `retries`: 3\n- **File** at",
        ),
        # A date written twice is no table run ("occurs earlier" reads only cells).
        (
            "WHERE d >= DATE '2024-01-01'\n  AND p.at < DATE '2024-01-01'\n",
            "024-01-01'\n)\nORDER BY",
            "WHERE d >= DATE '2024-01-01'\n  AND p.at < DATE '2024-01-01'\n)\nORDER BY",
        ),
    ],
)
def test_line_end_resent_after_a_prefill_is_removed(
    committed: str, continuation: str, final: str
) -> None:
    assert stitched(committed, continuation, prefill=True) == final


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("text", "cut"),
    [
        # Exact continuations that must stay: a number's groups recur.
        ("It was released on 2024-06-06, about two months", 26),
        ("AND o.created_at >= DATE '2024-01-01'\n  AND o.created", 33),
        ("It ran on 2024-01-01. Then it", 17),
        ("at 10:10:10 sharp", 8),
        # The text itself writes a word boundary twice only when periodic.
        ("then la la la la la la. Yes", 18),
        ("He laughed: ha ha ha ha. Then", 17),
        # A line end that the text itself writes twice.
        ("| 0 | 0 |\n| 0 | 0 |\n| 0 | 0 |\n| 1 | 0 |", 20),
        ("total: 3 3\n3 3 done", 11),
        ("`retries`: 3\n- **File** at", 13),
    ],
)
def test_exact_continuations_stay(text: str, cut: int, prefill: bool) -> None:
    committed = text[:cut]
    shown = committed.rstrip() if prefill else committed
    assert stitched(committed, text[len(shown) :], prefill=prefill) == text


def test_whole_number_of_several_groups_resent_is_removed() -> None:
    for prefill in (False, True):
        assert (
            stitched("pip picks 2.32.3; urllib3 2.2.", "2.2.2 fixed", prefill=prefill)
            == "pip picks 2.32.3; urllib3 2.2.2 fixed"
        )


def test_shapes() -> None:
    assert is_boundary_repeat("i -")
    assert is_boundary_repeat("all `ca")
    assert not is_boundary_repeat(" ha")  # token style: rule 2b
    assert not is_boundary_repeat("ha ")  # the space the model saw: rule 2c
    assert not is_boundary_repeat("- x")  # no word end before the space
    assert not is_boundary_repeat("s:\n  x")  # a line end: rule 2c
    assert is_number_group("2024-06", 3)
    assert not is_number_group("2024-06", 2)
    assert not is_number_group("v-06", 3)
    assert is_number_run("urllib3 2.2.", 4)
    assert not is_number_run("urllib3 2.2.", 2)  # starts inside the number
    assert not is_number_run("x 0000", 4)  # one group: "0000" + "0000" may be 8 zeros


def test_number_group_resent_before_the_next_group_is_removed() -> None:
    # Keeping "-06" would write a date of four groups, "2024-06-06-01".
    for prefill in (False, True):
        assert (
            stitched("date,station\n2024-06", "-06-01,Oslo,14.2", prefill=prefill)
            == "date,station\n2024-06-01,Oslo,14.2"
        )


@pytest.mark.parametrize("prefill", [False, True])
def test_repeat_from_inside_a_number_is_removed(prefill: bool) -> None:
    # The date was written before, so "24-" recurs; still no table goes on mid-number.
    committed = "WHERE a >= DATE '2024-01-01'\n  AND b <  DATE '2024-"
    assert (
        stitched(committed, "24-01-01'\n)", prefill=prefill)
        == "WHERE a >= DATE '2024-01-01'\n  AND b <  DATE '2024-01-01'\n)"
    )


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("WHERE a >= DATE '2024-01-01'\n  AND b <  DATE '2024-01-01'\n)", 47),
        ("| 2024-01 | 24-01 |\n| 2024-02 | 24-02 |", 30),
        ("at 10:10:10, then 10:10:10 again", 24),
        ("on 12/12/2012 and 12/12/2012 again", 24),
        ("ratios 1:1:1 and 2:2:2 then", 21),
    ],
)
def test_exact_continuations_after_a_number_separator_stay(
    text: str, cut: int, prefill: bool
) -> None:
    committed = text[:cut]
    shown = committed.rstrip() if prefill else committed
    assert stitched(committed, text[len(shown) :], prefill=prefill) == text
