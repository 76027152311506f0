"""Rule 1b at a line end: the answer's opening heading or table header written again."""

from __future__ import annotations

import pytest

from streamrecover.testing.seams.inprocess import stitch_pieces


def consumer_text(committed: str, continuation: str, *, prefill: bool, size: int) -> str:
    pieces = [continuation[i : i + size] for i in range(0, len(continuation), size)]
    text = stitch_pieces(committed, pieces, prefill=prefill)
    return text


LIST = "## Steps\n\n1. Install the package.\n2. Create a client and choose a storage.\n"
TABLE = (
    "| Region     | Requests |\n|------------|---------:|\n"
    "| us-east-1  |   12,480 |\n| eu-north-1 |    3,002 |\n"
)


@pytest.mark.parametrize("size", [1, 3, 50])
@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("committed", "restart"),
    [
        (LIST, "## Steps to follow\n\nInstall it, create a client, and stream."),
        (TABLE, "| Region | Error rate |\n|---|---|\n| us-east-1 | 0.25% |\n"),
        (
            "| Strategy  | Keeps text |\n|-----------|------------|\n| native    | yes        |\n",
            "| Strategy | When to use it |\n|---|---|\n",
        ),
    ],
)
def test_opening_heading_or_table_header_written_again_is_rewound(
    committed: str, restart: str, prefill: bool, size: int
) -> None:
    assert consumer_text(committed, restart, prefill=prefill, size=size) == restart


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    "text",
    [
        # A series of headings shares words, not the whole first one.
        "## Step 1\n\nInstall it.\n\n## Step 2\n\nRun it.",
        # The same heading again, ending where the first did: kept.
        "## Usage\n\nInstall it.\n\n## Usage\n\nRun it.",
        # A second table with the same first header after a blank line.
        "| Region | Requests |\n|---|---:|\n| us-east-1 | 12 |\n\n| Region | Errors |\n|---|---:|",
        # A row whose first cell starts like the header's but is another word.
        "| Region | Requests |\n|---|---:|\n| us-east-1 | 12 |\n| Regional total | 12 |",
    ],
)
def test_exact_continuations_at_block_line_ends_stay(text: str, prefill: bool) -> None:
    for cut in [i + 1 for i, ch in enumerate(text) if ch == "\n"]:
        committed = text[:cut]
        shown = committed.rstrip() if prefill else committed
        assert consumer_text(committed, text[len(shown) :], prefill=prefill, size=2) == text, cut


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("committed", "restart"),
    [
        # The answer's first word glued after a hyphen ("2024-" is inside a date).
        (
            "The query below finds customers.\n  AND p.created_at <  DATE '2024-",
            "The following query lists customers",
        ),
        # ... or with the opening quote the answer opened with.
        (
            "“Did you restart it?” she asked.\n“Twice,” he said. 'Fine,' he muttered, 'but",
            "“Did it come back?” she asked.",
        ),
    ],
)
def test_opening_word_glued_after_a_hyphen_or_with_its_quote_is_rewound(
    committed: str, restart: str, prefill: bool
) -> None:
    assert consumer_text(committed, restart, prefill=prefill, size=2) == restart


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    "text",
    [
        "The answer is simple. Use a non-The-like name, not the-The.",
        "“Did it work?” No. She wrote “Did it” twice.",
        "Yes, it does. The Windows-Yes dialog",
    ],
)
def test_glued_words_that_are_text_stay(text: str, prefill: bool) -> None:
    for cut in range(10, len(text) - 3):
        committed = text[:cut]
        shown = committed.rstrip() if prefill else committed
        assert consumer_text(committed, text[len(shown) :], prefill=prefill, size=2) == text, cut


@pytest.mark.parametrize("size", [1, 4, 200])
@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("committed", "continuation"),
    [
        # A model that goes on with the table writes its header again: kept.
        (TABLE, "| Region | Requests |\n|---|---:|\n| ap-south-1 | 977 |\n"),
        # A heading marked as continued goes on with the answer: kept.
        (LIST, "## Steps (continued)\n\n3. Stream."),
    ],
)
def test_block_written_again_to_go_on_is_kept(
    committed: str, continuation: str, prefill: bool, size: int
) -> None:
    shown = committed.rstrip() if prefill else committed
    final = consumer_text(committed, continuation, prefill=prefill, size=size)
    assert final == shown + ("\n" if prefill else "") + continuation
