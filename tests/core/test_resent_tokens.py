"""Short repeats only a re-sent token explains (rule 2k), and the 2d readings of session 8.

Each class of repaired seam is a named test, and so is each exact continuation
the rules must leave alone. Every case is stitched whole, one character a delta
and split at every point, with and without a prefill where the shape applies:
all must give the one expected text.
"""

from __future__ import annotations

import pytest

from streamrecover.testing.seams.inprocess import stitch_pieces

BOTH = (False, True)
NO_PREFILL = (False,)


def consumer_texts(committed: str, continuation: str, *, prefill: bool) -> set[str]:
    splits = [[continuation[:i], continuation[i:]] for i in range(len(continuation) + 1)]
    splits.append(list(continuation))
    return {stitch_pieces(committed, pieces, prefill=prefill) for pieces in splits}


def check(committed: str, continuation: str, final: str, prefills: tuple[bool, ...]) -> None:
    for prefill in prefills:
        assert consumer_texts(committed, continuation, prefill=prefill) == {final}, prefill


JSON = '```json\n{\n  "usage": {\n    "input_tokens": '
VERSIONS = "Python 3.12.4 came after 3.12.3; pip picks 2.32.3, and Node.js "


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        (JSON + "1532", '2,\n    "output', JSON + '1532,\n    "output'),
        ("image: postgres:16", "6.3\n", "image: postgres:16.3\n"),
        ("the mirror at /docs/v1.25", "5/log.html", "the mirror at /docs/v1.25/log.html"),
        ("It took 7", "7 seconds.", "It took 7 seconds."),  # "77" is one token
        ("Costs rose 3.1415", "5 percent.", "Costs rose 3.1415 percent."),
    ],
)
def test_digits_after_a_numbers_last_group_are_a_resent_token(
    committed: str, continuation: str, final: str
) -> None:
    check(committed, continuation, final, BOTH)


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        (JSON + "418", "18,\n", JSON + "418,\n"),
        (
            "DATABASE_URL: postgres://app@db:543",
            "432/app",
            "DATABASE_URL: postgres://app@db:5432/app",
        ),
        (
            "If the server answers 529",
            "29, the client waits",
            "If the server answers 529, the client waits",
        ),
    ],
)
def test_two_digits_written_twice_after_a_whole_group_are_removed(
    committed: str, continuation: str, final: str
) -> None:
    check(committed, continuation, final, BOTH)


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        ("断点续传的关键", "键在于：客户端", "断点续传的关键在于：客户端"),
        ("客户端记住已", "已经收到的字节数", "客户端记住已经收到的字节数"),
    ],
)
def test_a_han_character_written_twice_is_a_resent_token(
    committed: str, continuation: str, final: str
) -> None:
    check(committed, continuation, final, BOTH)


@pytest.mark.parametrize(
    ("committed", "continuation", "final", "prefills"),
    [
        (
            "In Python 3.12, `list.sort()`",
            "` is stable.",
            "In Python 3.12, `list.sort()` is stable.",
            BOTH,
        ),
        ("  - `timeout`: ", "`: 30 seconds", "  - `timeout`: 30 seconds", (True,)),
        ("Call `close()`", "`, then exit.", "Call `close()`, then exit.", BOTH),
    ],
)
def test_a_closing_backtick_resent_is_removed(
    committed: str, continuation: str, final: str, prefills: tuple[bool, ...]
) -> None:
    check(committed, continuation, final, prefills)


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        (
            "The old key is gone.\n\nIf step ",
            "p 3 is skipped, some",
            "The old key is gone.\n\nIf step 3 is skipped, some",
        ),
        (
            "The retry worked.\n\nOnly job ",
            "b 4411 needed it.",
            "The retry worked.\n\nOnly job 4411 needed it.",
        ),
        ("| Strategy ", "y  | Keeps text |\n", "| Strategy  | Keeps text |\n"),
    ],
)
def test_a_words_last_letter_resent_with_the_space_the_model_saw_is_removed(
    committed: str, continuation: str, final: str
) -> None:
    check(committed, continuation, final, NO_PREFILL)


FETCH = "```js\nconst res = await fetch(url);\n"
LOG = "```\n2024-11-02T10:15:01Z INFO  worker-1"


def test_a_numeric_suffix_resent_after_a_name_is_removed() -> None:
    check(LOG, "-1 job=4411 status=started\n", LOG + " job=4411 status=started\n", BOTH)


def test_a_versions_group_resent_is_removed_when_every_version_has_that_many() -> None:
    committed = VERSIONS + "20.15.1 shipped, and v22.4.0"
    check(committed, ".0 on 2024-07-02.", committed + " on 2024-07-02.", BOTH)


def test_a_dotted_name_written_before_decides() -> None:
    committed = "```sql\nWHERE o.created_at >= DATE '2024-01-01'\n  AND o."
    check(
        committed,
        ".created_at <  DATE '2025-01-01'",
        committed + "created_at <  DATE '2025-01-01'",
        BOTH,
    )


def test_a_doubled_accented_letter_is_a_repeat() -> None:
    committed = "Le café de la gare sert un thé très fort. Naïve résumés, Zürich and Kö"
    check(committed, "öln: the stitcher", committed + "ln: the stitcher", BOTH)


@pytest.mark.parametrize(
    ("committed", "continuation", "final"),
    [
        (
            "The logs are in `C:\\Progr",
            "ramData\\nginx` on Windows.",
            "The logs are in `C:\\ProgramData\\nginx` on Windows.",
        ),
        (
            FETCH + "const body = res.ok ? await res.json",
            "n() : null;\n",
            FETCH + "const body = res.ok ? await res.json() : null;\n",
        ),
    ],
)
def test_in_code_a_word_of_four_letters_or_more_decides(
    committed: str, continuation: str, final: str
) -> None:
    check(committed, continuation, final, BOTH)


EXACT = [
    # Round numbers double their zeros; a cut at any character meets them.
    ("a proxy restart cuts 10", "0 of 500 live streams"),
    ("- events/s = 40,00", "0 / wall time"),
    ("        if 0xd80", "0 <= uni <= 0xdbff:"),
    # Two digits after a whole group in an ID of a path or a reference.
    ("See https://github.com/nodejs/node/pull/292", "92 for details."),
    ("Fixed in #212", "12 and #2121."),
    ("See https://github.com/nodejs/node/pull/4217", "7 for details."),
    # A run of more than six digits is a hash or a constant's digits.
    ("sha 10936952303939", "39401656 ok"),
    # Inside a run of 3k digits one digit may go on ("4411", "1000").
    ("Only job 441", "1 needed a retry."),
    # A one-letter name in a sentence is followed by words.
    ("The variable of the loop; for r in rows the value of ", "f exactly."),
    ("Take step ", "p as the width."),
    # A doubled Han character the answer wrote before.
    ("他天天跑步。今天", "天气很好。"),
    # A code span opened by two backticks, and one a backtick opens.
    ("Write ``a`", "` b`` to quote."),
    ("Run `", "`ls` first."),
    # The number goes on after the group: a fourth group, an address.
    (VERSIONS + "20.15.1 and 1.0", ".0.1 later."),
    ("host 10.0", ".0.1 and port"),
    ("node web-1", "-10 is up."),
    # A version with a group more than the versions before it when it goes on.
    ("Install 1.2.3, then 1.2", ".2 works."),
    # A token of digits and letters or "_" is a hash or a literal, no quantity.
    ("* \\[[`085", "8587f21`](https://github.com)"),
    ("        num = 7.745", "45_01427_83414\n"),
    # After a letter, digits are a hash's or a name's.
    ("commit/0bff83", "3df9)] - **src**"),
    # An address with its port.
    ("Prints: server listening 0.0.0", ".0:41234"),
    # A span delimited by two backticks may hold one.
    ("the following quotes: `` ` `", "`, `\"` or `'`."),
    # Capitals around the cut: an acronym glued to a word, a constant.
    ("check HasCaught() in JS", "Stream calls"),
    ("* `dns.FORMER", "R`: DNS server claims"),
    # Two common words: the letters decide ("peer" is as common as "per").
    ("when using symbolically linked pe", "er dependencies, as the per-package"),
    # Consonants with a diacritic double in Slavic names and words.
    ("Maciej Kacper Jagieł", "ło fixed it."),
    # Finnish doubles vowels, accented ones too: such an answer is read as written.
    ("Hän on insinööri ja hänen ystävä", "ä on insinööri."),
    ("Taas kerran: tämän arvon mä", "ärittäminen on sinun."),
    # Letters inside a name are rule 2d's, not the dotted name's.
    (
        "a = sx_partials.items()\nb = sxx_partials[0]\nsxx = f(d*d for d, n in sx",
        "x_partials.items())",
    ),
    # The text's own run: an address of one repeated group.
    ("resolver.setServers(['4.4.4", ".4']);"),
]


@pytest.mark.parametrize(("committed", "continuation"), EXACT)
def test_exact_continuations_of_those_shapes_stay_unchanged(
    committed: str, continuation: str
) -> None:
    for prefill in BOTH:
        # After a prefill the model re-sends the whitespace the prefill stripped.
        sent = committed[len(committed.rstrip()) :] + continuation if prefill else continuation
        texts = consumer_texts(committed, sent, prefill=prefill)
        assert texts == {committed + continuation}, prefill
