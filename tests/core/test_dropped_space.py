"""Rule 3b: a space the model dropped where the cut fell before it (core/droppedspace.py).

Every case is stitched whole, character by character and split at every point
(any chunking must give the same text), with and without a prefill.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.droppedspace import HOLD_MAX, restore_space
from streamrecover.core.stitch import Stitcher


def stitched(committed: str, continuation: str, *, prefill: bool = False) -> tuple[str, bool]:
    """The consumer's text and ``space_restored``, the same for every chunking."""
    results = set()
    chunkings = [[continuation], list(continuation)]
    chunkings += [[continuation[:cut], continuation[cut:]] for cut in range(len(continuation))]
    for chunks in chunkings:
        stitcher = Stitcher(committed, seam_whitespace=None if prefill else "")
        text = committed
        for chunk in [*chunks, None]:
            released = stitcher.finish() if chunk is None else stitcher.feed(chunk)
            if stitcher.rewind_to is not None:
                text = text[: stitcher.rewind_to]
                stitcher.rewind_to = None
            text += released
        results.add((text, stitcher.space_restored))
    assert len(results) == 1, results
    return results.pop()


PROSE = "The client retries the request when the server is overloaded, and it keeps "

RESTORED = [
    # Two English words that glue into none (corpus: "go" + "missing").
    ("words", "Twice, and nothing should go", "missing, whatever the network does."),
    ("one-letter word", "the server is overloaded. I", "know that it works."),
    ("article after a verb", PROSE + "what you choose", "a storage backend."),
    ("capitalized function word", "It is done.\n\nMost", "rows are zero, which is fine."),
    # Code: a statement keyword opening its line, glued to a name.
    ("for in a fence", "```python\ndef total(items):\n    result = 0\n    for", "item in items:\n"),
    (
        "return in a fence",
        "```python\n    if not self.items:\n        return",
        "self.items.pop()\n",
    ),
    (
        "raise in a fence",
        "```python\n    if not self.items:\n        raise",
        "IndexError('empty')\n",
    ),
    # Marks spaced on both sides, opening marks.
    ("assignment", "```python\ndef __init__(self):\n    self.items", "= []\n"),
    ("em dash", PROSE + "the old private key", "— and make sure no backup remains."),
    ("inline code opened", PROSE + "the file and reload with", "`sudo nginx -s reload`."),
    ("German opening quote", "Das Wort ist lang, und", "„Schifffahrt“ schreibt man so."),
    # Numbers.
    ("number then word", PROSE + "an idle connection after 60", "seconds doesn't mean much."),
    ("word then date", PROSE + "released on July 8, and v22.4.0 on", "2024-07-02."),
    ("word then version", "Yes. In Python", "3.12, `list.sort()` is stable."),
    # Sentence and clause marks.
    ("sentence end", PROSE + "the answer.", "Next, the client resumes it."),
    ("comma", PROSE + "it retries first,", "then it resumes the answer."),
]


@pytest.mark.parametrize(
    ("committed", "continuation"),
    [case[1:] for case in RESTORED],
    ids=[case[0] for case in RESTORED],
)
@pytest.mark.parametrize("prefill", [False, True], ids=["no-prefill", "prefill"])
def test_dropped_space_is_restored(committed: str, continuation: str, prefill: bool) -> None:
    text, restored = stitched(committed, continuation, prefill=prefill)
    assert text == committed + " " + continuation
    assert restored


KEPT = [
    # Exact continuations cut inside a word: the glued word is a word.
    ("a word", PROSE + "a note", "book and a pen."),
    ("doubled letter", PROSE + "a bal", "loon and a pen."),
    ("there", PROSE + "and the", "re is more."),
    # Halves that are words, glued into words the list lacks.
    ("suffix", PROSE + "should not be relied on programmatic", "ally. If it is"),
    ("prefix", PROSE + "the microtask queue runs the micro", "tasks first."),
    ("able", PROSE + "any arbitrary, clone", "able value."),
    ("a name", "Maintainers:\n\n    Greg", "or Hoffleit <flight@example.org>\n"),
    ("a technical word", PROSE + "the externally maintained simple", "json library."),
    ("an inflection", PROSE + "the text is check", "pointed in batches."),
    ("written glued before", PROSE + "a codebase. The code", "base grows."),
    ("camelCase", PROSE + "the file", "Name argument."),
    ("ambiguous by nature", PROSE + "the m, the t and the", "e. Bookkeeper has three."),
    # Code and names.
    ("inline code", PROSE + "call `get", "name()` first."),
    ("assigned name", "    try:\n        next", "char = string[idx]\n"),
    ("package", PROSE + "build-depending on python", "3.11-dev, and then"),
    ("option", PROSE + "specified with --prefix", "= when building."),
    ("a setting in prose", PROSE + "needed for PrivateNetwork", "= in service units."),
    ("a path", PROSE + "in /usr/share/doc/python", "3.11/README"),
    ("digits in a word", PROSE + "a base", "64 string."),
    # Other languages and scripts.
    ("German", "Die Schifffahrt schreibt man mit", "drei f, und das ist so."),
    ("Korean", "한국어 문장도 마찬가지입니다. 한국어", "문장도 마찬가지입니다."),
    ("a short abbreviation", PROSE + "for example, e.g.", "Foo and Bar."),
]


@pytest.mark.parametrize(
    ("committed", "continuation"),
    [case[1:] for case in KEPT],
    ids=[case[0] for case in KEPT],
)
def test_exact_continuation_is_kept(committed: str, continuation: str) -> None:
    text, restored = stitched(committed, continuation)
    assert text == committed + continuation
    assert not restored


def test_a_seam_the_consumer_has_is_not_doubled() -> None:
    # The cut fell after the space: the consumer has it (rule 3), none is added.
    committed = PROSE + "nothing should go "
    for prefill in (False, True):
        assert stitched(committed, "missing now.", prefill=prefill) == (
            committed + "missing now.",
            False,
        )


def test_a_removed_overlap_is_not_followed_by_a_restored_space() -> None:
    text, restored = stitched(PROSE + "the quick brown", "brown fox jumps.")
    assert text == PROSE + "the quick brown fox jumps."
    assert not restored


def test_the_first_word_is_held_until_it_ends() -> None:
    stitcher = Stitcher(PROSE + "nothing should go", seam_whitespace="")
    assert stitcher.feed("miss") == ""
    assert stitcher.feed("ing") == ""  # the two characters after the word may make it a name
    assert stitcher.feed(", ok") == " missing, ok"
    assert stitcher.decided and stitcher.space_restored
    assert stitcher.overlap == 0


def test_a_capital_after_a_word_decides_at_once() -> None:
    # Nothing is held where no reading could restore a space.
    stitcher = Stitcher(PROSE + "nothing should go", seam_whitespace="")
    assert stitcher.feed("Zebra") == "Zebra"
    assert stitcher.decided and not stitcher.space_restored


def test_a_long_first_word_is_not_held_past_the_bound() -> None:
    word = "a" * (HOLD_MAX + 1)
    assert restore_space(PROSE + "go", word, at_end=False) == word


def test_restore_space_holds_while_the_word_is_incomplete() -> None:
    assert restore_space(PROSE + "should go", "miss", at_end=False) is None
    assert restore_space(PROSE + "should go", "miss", at_end=True) == " miss"
    assert restore_space(PROSE + "should go", " missing", at_end=False) == " missing"


PIECES = ["the", "go", "missing", "note", "book", "a", "I", "end", "Next", "60", "3.11", "=", "—"]


@given(
    committed=st.lists(st.sampled_from([*PIECES, " ", ".", ",", "\n", "`", "```\n"]), max_size=12),
    continuation=st.lists(st.sampled_from([*PIECES, " ", ".", ",", "(", "_"]), max_size=8),
    data=st.data(),
    prefill=st.booleans(),
)
def test_chunking_never_changes_the_restored_space(
    committed: list[str], continuation: list[str], data: st.DataObject, prefill: bool
) -> None:
    text = "".join(continuation)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=6))))
    bounds = [0, *cuts, len(text)]
    chunks = [text[start:end] for start, end in itertools.pairwise(bounds)]
    outcomes = set()
    for pieces in ([text], chunks, list(text)):
        stitcher = Stitcher(PROSE + "".join(committed), seam_whitespace=None if prefill else "")
        released = "".join([*map(stitcher.feed, pieces), stitcher.finish()])
        outcomes.add((released, stitcher.overlap, stitcher.space_restored, stitcher.rewind_to))
    assert len(outcomes) == 1
    released, overlap, restored, _ = outcomes.pop()
    assert released == " " * restored + text[overlap:]
