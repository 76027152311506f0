"""Reference answers for the seam corpus: the kinds of text a cut can fall into.

Written for this corpus (not taken from the corpus that measured issue 11), so
that it stays independent of it. Every kind that makes a seam hard is here:
prose with repeated short words ("that", "did", "level"), markdown lists and
tables (padding, zeros), code with indentation, CJK without spaces, numbers and
prices, JSON inside prose, periodic text ("ha ha ha"), parallel openings.
"""

from __future__ import annotations

__all__ = ["ANSWERS", "RESTART_OPENINGS"]

ANSWERS: dict[str, str] = {
    "prose": (
        "A stream can break at the worst moment: the reader asks again, and the "
        "server is overloaded. I know that it works when the level of traffic is low, "
        "and I did check that the reader says so. The middle of answers is where cuts "
        "land most often, because that is where most of the text is. Nothing should "
        "appear twice, and nothing should go missing, whatever the network did."
    ),
    "parallel": (
        "You can retry the request. You can resume the answer from the cut. You can "
        "also restart from scratch, which is the safest choice for JSON. You can "
        "combine them: retry first, then resume, then restart as a last resort. "
        "Each choice has a cost; each choice has a place."
    ),
    "markdown_list": (
        "## Steps\n\n"
        "1. Install the package with `pip install streamrecover`.\n"
        "2. Create a client and choose a storage.\n"
        "   - `memory://` keeps streams in this process.\n"
        "   - `sqlite:///streams.db` survives a crash.\n"
        "3. Stream as usual; recovery is automatic.\n\n"
        "**Note:** a *partial* answer is never lost."
    ),
    "table": (
        "| step | count | ratio |\n"
        "|------|-------|-------|\n"
        "| 1    | 0     | 0.00  |\n"
        "| 2    | 0     | 0.00  |\n"
        "| 3    | 10    | 0.25  |\n"
        "| 4    | 0     | 0.00  |\n"
        "| 5    | 1200  | 1.25  |\n\n"
        "Most rows are zero, which is the point of the table."
    ),
    "code": (
        "Here is the function:\n\n"
        "```python\n"
        "def total(items):\n"
        "    result = 0\n"
        "    for item in items:\n"
        "        if item.price > 0:\n"
        "            result += item.price * item.count\n"
        "    return result\n"
        "```\n\n"
        "It skips items whose price is zero."
    ),
    "code_nested": (
        "class Stack:\n"
        "    def __init__(self):\n"
        "        self.items = []\n"
        "\n"
        "    def push(self, item):\n"
        "        self.items.append(item)\n"
        "\n"
        "    def pop(self):\n"
        "        if not self.items:\n"
        '            raise IndexError("pop from an empty stack")\n'
        "        return self.items.pop()\n"
    ),
    "cjk": (
        "流式响应在网络中断时不应丢失任何文字。恢复后的答案必须与原来的完全一致，"
        "既不重复也不遗漏。日本語の文章も同じです：途中で切れても、続きは正確に"
        "つながらなければなりません。한국어 문장도 마찬가지입니다."
    ),
    "numbers": (
        "The plan costs $1,299.99 per year, or $129.50 per month. Usage grew by 1.25% "
        "in March and by 15,433 requests in April, to 2,048,576 in total. The p99 "
        "latency fell from 340 ms to 118 ms, and the error rate is 0.002 (0.2%). "
        "Version 3.11.4 fixed 27 of the 31 issues."
    ),
    "json_prose": (
        'The endpoint returns {"status": "ok", "count": 42, "items": ["alpha", "beta"]} '
        'on success and {"status": "error", "code": 529} when overloaded. Parse the '
        '"count" field as an integer; the "items" list may be empty ([]).'
    ),
    "repetitive": (
        "He laughed: ha ha ha ha ha ha. Then again, ha ha ha! The log showed "
        "0000 0000 0000 0001, then ---------- as a separator, then "
        "la la la la la la la. Yes yes yes, no no no."
    ),
    "zeros_table": (
        "| a | b | c |\n|---|---|---|\n| 0 | 0 | 0 |\n| 0 | 0 | 0 |\n| 0 | 0 | 1 |\n| 0 | 0 | 0 |\n"
    ),
    "accents": (
        "Le café de la gare sert un thé très fort. Naïve résumés, Zürich "
        "and Köln: the stitcher must not split é or ü, and a façade stays a façade. "
        "Emoji 🚀✨ and flags 🇨🇭 are single characters to the reader."
    ),
    "dialogue": (
        'She said that that was fine. Did he? He did, and he said so: "Level the '
        "level, then check the reader's reader.\" Says who? Says the manual, which "
        "says it twice."
    ),
    "mixed": (
        "To install, run:\n\n"
        "    pip install 'streamrecover[all]'\n\n"
        "Then set `STREAMRECOVER_URL=sqlite:///s.db` and call `client.stream(...)`. "
        "Expect about 3-5 ms of overhead per 1,000 deltas; see the table below.\n\n"
        "| mode   | overhead |\n"
        "|--------|----------|\n"
        "| memory | 0.4 ms   |\n"
        "| sqlite | 3.1 ms   |\n"
    ),
}

#: For "restarts the answer and diverges early": a different wording that
#: shares each answer's first words, then goes its own way (the consumer must end
#: with exactly this text).
RESTART_OPENINGS: dict[str, str] = {
    "prose": "A stream can break when you least expect it, so the client keeps the text.",
    "parallel": "You can retry, resume or restart; the client picks for you.",
    "markdown_list": "## Steps to follow\n\nInstall it, create a client, and stream.",
    "table": "| step | count |\n|------|-------|\n| 1    | 0     |\n",
    "code": (
        "Here is the function, with a comment:\n\n```python\ndef total(items):\n"
        "    return 0\n```"
    ),
    "code_nested": 'class Stack:\n    """A list used as a stack."""\n',
    "cjk": "流式响应在中断后可以继续。",
    "numbers": "The plan costs $1,299.99 a year; monthly it is more.",
    "json_prose": 'The endpoint returns a JSON object with a "status" field.',
    "repetitive": "He laughed: ha ha. That was all.",
    "zeros_table": "| a | b |\n|---|---|\n| 0 | 1 |\n",
    "accents": "Le café est fermé le lundi.",
    "dialogue": "She said that it was fine, and it was.",
    "mixed": "To install, use pip:\n\n    pip install streamrecover\n",
}
