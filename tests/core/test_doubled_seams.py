"""Short repeats read by what keeping them would write (rules 2i, 2j and the session-7 2d readings).

Each repaired seam is a named case, and so is each exact continuation the
rules must leave alone (the real-text shapes that narrowed them). Every case
is stitched whole, one character a delta and split at every point, with and
without a prefill where both apply: all must give the one expected text.
"""

from __future__ import annotations

import pytest

from streamrecover.testing.seams.inprocess import stitch_pieces


def consumer_texts(committed: str, continuation: str, *, prefill: bool) -> set[str]:
    splits = [[continuation[:i], continuation[i:]] for i in range(len(continuation) + 1)]
    splits.append(list(continuation))
    return {stitch_pieces(committed, pieces, prefill=prefill) for pieces in splits}


DATES = "```sql\nWHERE o.created_at >= DATE '2024-01-01'\n  AND o.created_at <  DATE '"
CSV = "```csv\n2024-06-03,Oslo\n"
YAML = "```yaml\n    image: ghcr.io/example/"
JSON = '"cost_usd": 0.0123\n}\n```\n\n'
PROSE = "The jitter keeps many clients of the service away from each other when they wait, "
LOG = "```\n2024-11-02T10:15:01Z INFO  worker-1 job=4411 status=started\n"

REPEATED = [
    # A pair written twice: across a separator, a path, a line end, CJK punctuation.
    ("DATE '2024-", "4-01-01'", "DATE '2024-01-01'"),
    ("The logs are in `/var/", "r/log/nginx`", "The logs are in `/var/log/nginx`"),
    ("```js\n  return results;\n", ";\n}\n```", "```js\n  return results;\n}\n```"),
    ("```yaml\n", "l\nservices:\n", "```yaml\nservices:\n"),
    ("- us-west-2 (Oregon)\n", ")\n- eu-west-1", "- us-west-2 (Oregon)\n- eu-west-1"),
    ("重複することも許されません。東", "。東京の天気", "重複することも許されません。東京の天気"),
    ("只需要再下载剩下的 ", "的 1 GB。", "只需要再下载剩下的 1 GB。"),
    # A separator doubled between digits.
    ("Yes. In Python 3.", ".12, sorting", "Yes. In Python 3.12, sorting"),
    ("plus 0.", ".5% of revenue", "plus 0.5% of revenue"),
    (CSV + "2024-06-", "-03,Bergen\n", CSV + "2024-06-03,Bergen\n"),
    (YAML + "api:1.", ".14.2\n", YAML + "api:1.14.2\n"),
    # A mark doubled.
    ("a third time —", "— call Ops.", "a third time — call Ops."),
    ("| Region     | Requests |", "| Errors |\n", "| Region     | Requests | Errors |\n"),
    # Dates and times in a format the answer wrote before (rule 2j).
    (DATES + "2025", "25-01-01'\n", DATES + "2025-01-01'\n"),
    (DATES + "2025-01", "1-01'\n", DATES + "2025-01-01'\n"),
    (LOG + "2024-11-02T10", "0:15:06Z INFO", LOG + "2024-11-02T10:15:06Z INFO"),
    # Both readings words: the common one, in prose.
    (PROSE + "from retrying in", "n lockstep.", PROSE + "from retrying in lockstep."),
    (PROSE + "It retries. If", "f the server", PROSE + "It retries. If the server"),
    # A name the answer wrote before.
    (JSON + "`cost", "t_usd` is rounded", JSON + "`cost_usd` is rounded"),
]


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(("committed", "continuation", "final"), REPEATED)
def test_short_repeat_that_keeping_would_double_is_removed(
    committed: str, continuation: str, final: str, prefill: bool
) -> None:
    if prefill and committed != committed.rstrip():
        # The prefill strips the trailing whitespace: the model re-sends from what it saw.
        pytest.skip("the repeat includes whitespace the prefill stripped")
    assert consumer_texts(committed, continuation, prefill=prefill) == {final}


#: Exact continuations the rules must leave alone; ``¦`` marks the cut.
EXACT = [
    # Versions, IDs and counts: the next two digits may be the last two.
    "added:\n  - v18.¦8.0\n  - v16.18.0\n",
    "See https://github.com/nodejs/node/pull/292¦92 for details.",
    "The times: { user: 2520¦20, nice: 0 }",
    "version: v10.¦0.0 and v20.0.0",
    "The resolver is at 1.1.¦1.1 today.",
    # Code repeats marks and closes calls on their own line.
    '```python\nx = (os.getpid(),¦), "w+b"\n```',
    "```python\nresult = call(\n    other(x)\n¦)\n```",
    "```js\nconst a = { a: { b: 1 } ¦};\n```",
    "```python\nsep = (',¦', ':')\n```",
    "```rust\nfor i in 0.¦.10 {}\n```",
    "```csv\nid,a,b\n3,¦,4\n```",
    "```python\nfor ¦r in rows:\n    pass\n```",
    # A date whose format the answer never wrote; the format written decides.
    "The build of 2024-11-22 replaced 1924-1¦1-22's archive.",
    "Logged 10:15:01 and 10:15:1¦1 (a seconds field of two digits).",
    # Doubled letters of common words, and names.
    "I want to¦o, and al¦l of us ad¦d more.",
]


def _cuts(marked: str) -> tuple[str, list[int]]:
    text = marked.replace("¦", "")
    cuts = []
    position = 0
    for piece in marked.split("¦")[:-1]:
        position += len(piece)
        cuts.append(position)
    return text, cuts


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize("marked", EXACT)
def test_exact_continuations_of_those_shapes_stay_unchanged(marked: str, prefill: bool) -> None:
    text, cuts = _cuts(marked)
    for cut in cuts:
        committed = text[:cut]
        shown = committed.rstrip() if prefill else committed
        continuation = text[len(shown) :]
        assert consumer_texts(committed, continuation, prefill=prefill) == {text}, committed
