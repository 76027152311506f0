"""Rule 1b: restarts that diverge early, read by the shape the restart gives the text."""

from __future__ import annotations

import pytest

from streamrecover.testing.seams.inprocess import stitch_pieces


def consumer_text(committed: str, continuation: str, *, prefill: bool, size: int) -> str:
    pieces = [continuation[i : i + size] for i in range(0, len(continuation), size)]
    return stitch_pieces(committed, pieces, prefill=prefill)


SIZES = [1, 3, 50]

PATHS = "The logs are in `/var/log/nginx/access.log` on Linux and `C:\\Progr"
STEPS = (
    "To rotate the signing key without downtime:\n\n"
    "1. Generate a new key pair and store it next to the old one.\n"
)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("committed", "restart"),
    [
        # The answer's first word glued after a word with a capital: "The" ends no
        # CamelCase name, so "ProgrThe" is the answer again, not a name going on.
        (PATHS, "The log files live in different places depending on the platform."),
        ("Yes. In Python", "Yes \u2014 Python's sort has always been stable."),
        # A paragraph straight after a list item, opening like the answer.
        (STEPS, "To rotate keys:\n\n1. Create the new pair.\n2. Publish it.\n"),
    ],
)
def test_restart_rewound(committed: str, restart: str, prefill: bool, size: int) -> None:
    assert consumer_text(committed, restart, prefill=prefill, size=size) == restart


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize("restart", ["```\ndate;station;temp_c\n", "```text\ndate;station\n"])
def test_empty_code_block_closed_is_the_block_opened_again(
    restart: str, prefill: bool, size: int
) -> None:
    # Nobody writes an empty code block: a fence right after the opening fence
    # opens the block again, with another info string or none.
    assert consumer_text("```csv\n", restart, prefill=prefill, size=size) == restart


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("committed", "continuation"),
    [
        # CamelCase: "Help" and "In" end names ("RawHelp", "ThreadingMixIn").
        ("Help is printed by argparse.Raw", "Help text formatter."),
        # A chatty preamble that goes on with the list is kept.
        ("Sure! Here is the list:\n1. Flour\n2. Eggs\n", "Sure! Here is more:\n3. Milk"),
        ("To pack, take:\n\n- a towel\n", "To pack, you also need:\n- a map"),
        ("In short: use socketserver.ThreadingMix", "In classes for that."),
        # After a blank line a new paragraph may open like the answer did.
        (
            "To rotate the key:\n\n1. Generate it.\n\n",
            "To rotate often, script it.",
        ),
        # The list goes on, with the answer's words.
        (STEPS, "2. To rotate the old key out, wait a day."),
        ("```csv\n", "date,station\n2024-06-01,Oslo\n```"),
    ],
)
def test_exact_continuation_kept(
    committed: str, continuation: str, prefill: bool, size: int
) -> None:
    shown = committed.rstrip() if prefill else committed
    expected = committed + continuation
    text = consumer_text(committed, expected[len(shown) :], prefill=prefill, size=size)
    assert text == expected


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("prefill", [False, True])
def test_answer_of_one_announcing_line_opened_again_is_rewound(prefill: bool, size: int) -> None:
    # What a line ending with ":" announces follows it, not a line opening the same way.
    restart = "To install, use pip:\n\n    pip install streamrecover\n"
    assert consumer_text("To install, run:\n\n", restart, prefill=prefill, size=size) == restart


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("prefill", [False, True])
def test_announcing_line_then_content_then_parallel_is_kept(prefill: bool, size: int) -> None:
    committed = "To install, run:\n\n    pip install x\n\n"
    continuation = "To install, run as root:\n\n    sudo pip install x\n"
    shown = committed.rstrip() if prefill else committed
    expected = committed + continuation
    text = consumer_text(committed, expected[len(shown) :], prefill=prefill, size=size)
    assert text == expected
