"""Rule 3b, session 8: dropped spaces beside numbers, units, names with digits, commands,
capitals after words that open no camelCase name, and words with accents.

Every case is stitched whole, character by character and split at every point (any
chunking must give the same text), with and without a prefill.
"""

from __future__ import annotations

import pytest

from streamrecover.core.gluedwords import fold_accents, known
from tests.core.test_dropped_space import stitched

PROSE = "The client retries the request when the server is overloaded, and it keeps "

RESTORED = [
    # A number, then a function word: "v22.4.0on" is nothing.
    ("version then on", PROSE + "v22.4.0", "on 2024-07-02."),
    ("number then of", PROSE + "a total of 1,200", "of them were retried."),
    # A unit after a number, then a function word: "msof" is nothing.
    ("unit then of", PROSE + "about 3-5 ms", "of overhead per call."),
    # The answer writes that unit spaced: it does so again, whatever its language.
    ("unit as written", "下载一个 2.5 GB 的文件时，只需要再下载剩下的 1", "GB。服务器必须支持"),
    ("unit as written, English", PROSE + "a 40 ms budget, or 12", "ms at most."),
    # A function word glued to a name with digits: "Thep95".
    ("function word then name", PROSE + "latency.\n\nThe", "p95 in ap-south-1 is high."),
    ("from then version", PROSE + "the upgrade from", "v2 to v3."),
    # A short name with digits glued to a word: "p99latency".
    ("short name then word", PROSE + "2,048,576 in total. The p99", "latency fell to 118 ms."),
    # A capitalized word after a word that opens no camelCase name.
    ("but then a name", "'Call Ops,' she said. 'Fine,' he muttered, 'but", "Ops will say no.'"),
    ("that then a name", PROSE + "the logs, so that", "Python reads them."),
    # A command opening a shell line, glued to a word.
    ("pip install", "To install, run:\n\n    pip", "install 'streamrecover[all]'\n"),
    ("git commit in a fence", "```bash\n$ git", "commit -m 'fix'\n```"),
    ("npm in inline code", PROSE + "this, so run `npm", "install` first."),
    # Words with accents the list has without them.
    ("accented word", PROSE + "the same, and a façade", "stays a façade."),
]


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(
    ("name", "committed", "continuation"), RESTORED, ids=[r[0] for r in RESTORED]
)
def test_dropped_space_restored(
    name: str, committed: str, continuation: str, prefill: bool
) -> None:
    text, restored = stitched(committed, continuation, prefill=prefill)
    assert text == committed + " " + continuation
    assert restored


KEPT = [
    # Exact continuations that glue: units and versions glued on purpose.
    ("inches", PROSE + "a 3.5", "in floppy disk."),
    ("unit glued in the answer", PROSE + "it takes 40ms, or 12", "ms at most."),
    ("unit never written spaced", PROSE + "about 3-5", "ms of overhead."),
    ("pre-release", PROSE + "version 1.2.3", "a1 of it."),
    # A function word and a name's letters that make a word: "theme2", "int64".
    ("theme2", PROSE + "the", "me2 palette."),
    ("int64", PROSE + "an", "t64 is fine."),
    # Longer names with digits glue to words: "base64encode", "ipv4address".
    ("base64encode", PROSE + "a call to base64", "encode on it."),
    ("ipv4address", PROSE + "the ipv4", "address field."),
    # camelCase after a word that opens such names.
    ("onClick", PROSE + "the on", "Click handler."),
    ("isValid", PROSE + "a call to is", "Valid first."),
    ("theAnswer", PROSE + "the", "Answer variable."),
    ("outFile", PROSE + "pass it as out", "File to the call."),
    ("soFar", PROSE + "the count so", "Far is kept."),
    # Names a command makes with a word: listed, or written glued by the answer.
    ("pipenv", "Use pipenv:\n\n    pip", "env install\n"),
    ("github", "See:\n\n    git", "hub.com/x\n"),
    ("command mid-line", PROSE + "the pip", "install step."),
    ("gitignore written", "Add .gitignore, then:\n\n    git", "ignore x\n"),
    # A unit after a number glued to a word that makes a word with it.
    ("5 min", PROSE + "within 5 m", "in of the start."),
    # Accents aside, a French answer stays French.
    ("french", "Le café de la gare sert un thé très fort et la", "gare ferme tôt."),
]


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize(("name", "committed", "continuation"), KEPT, ids=[k[0] for k in KEPT])
def test_exact_continuation_kept(
    name: str, committed: str, continuation: str, prefill: bool
) -> None:
    text, restored = stitched(committed, continuation, prefill=prefill)
    assert text == committed + continuation
    assert not restored


def test_accents_folded_only_for_lookup() -> None:
    assert fold_accents("façade") == "facade"
    assert fold_accents("naïve") == "naive"
    assert fold_accents("plain") == "plain"
    assert known("façade") and known("café")
    assert not known("gare")
