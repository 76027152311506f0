"""Rule 2i of the stitcher: a repeat of one or two characters that keeping would double.

Inside words the letters decide (:mod:`~streamrecover.core.shortrepeats`). Elsewhere
a short repeat is read by what keeping it would write, and by where the text is
(prose, a fenced code block, an inline code span):

- **A pair written twice** (``"xyxy"``): ``"2025"`` + ``"25-01-01"`` ("202525"),
  ``"418"`` + ``"18,"``, ``"2024-"`` + ``"4-01"``, ``"/var/"`` + ``"r/log"``,
  ``"results;\\n"`` + ``";\\n}"`` (a line holding a lone ``;``), ``"```yaml\\n"`` +
  ``"l\\n"``, ``"。東"`` + ``"。東京"``, ``"的 "`` + ``"的 1 GB"``. Inside a number
  the next two digits equal the last two about once in a hundred cuts, and
  almost never across a separator or a line end. Not when the pair ends the
  text just before it too (``"1.1."`` + ``"1.1"``: the text's own run), not a
  number's group (``".0"`` of ``"1.0"`` + ``".0"``, rule 2c), not a letter and a
  space (``"for "`` + ``"r in rows"``: a one-letter name), not two Han
  characters (Chinese repeats verbs as "ABAB", 研究研究), not a closing bracket
  alone on a line in code (``"    f(x)\\n"`` + ``")\\n"`` closes an outer call), not
  a digit alone on a line (a column of numbers), not a table's ``|``.
- **A separator doubled inside a number**: ``"Python 3."`` + ``".12"``,
  ``"0."`` + ``".5%"``, ``"2024-06-"`` + ``"-03"``: a number holds no ``".."``,
  ``",,"`` or ``"--"`` between digits. In code ``".."`` is a range (``0..10``) and
  ``",,"`` an empty field, so there ``"."`` needs the number to go on with a
  second group (``"api:1."`` + ``".14.2"``) and ``","`` is kept.
- **A mark doubled**: an em dash after a space outside CJK text (``"time —"`` +
  ``"— call"``: "——" is Chinese punctuation, not English), and a ``|`` in a padded
  table row (``"| Requests |"`` + ``"| Errors |"``: a padded table has no ``"||"``).

Ambiguities, by design: a pair of digits is kept here (``"pull/292"`` + ``"92"``:
IDs and counts repeat their last two digits once in a hundred cuts; rule 2k,
:mod:`~streamrecover.core.resenttokens`, removes a pair after a whole group of
three outside IDs, ``"418"`` + ``"18,"``); a digit and ``.`` or ``,`` likewise
(``"v18."`` + ``"8.0"`` is version 18.8.0); two marks (``"(x,)"`` + ``"),"``) and two
CJK letters are kept, duplicated (a letter and a space, ``"If step "`` + ``"p 3"``,
and one doubled Han character, ``"关键"`` + ``"键在于"``, are rule 2k's). These
exclusions come from a scan of 173,568 exact continuations of real docs cut
where a 1-2 character repeat can fire (Node.js API docs and changelogs, CMake
release notes, AWS CLI examples, stdlib modules; each cut with and without a
prefill): the first version of the rule altered 247 more of them, this one none.

Pure functions, no state.
"""

from __future__ import annotations

from streamrecover.core.textshape import is_wide

__all__ = ["CodeContext", "code_context", "doubled_mark", "doubled_pair"]

#: Brackets that close a call or a block: alone on a line in code they are common.
_CLOSERS = frozenset(")]}>")
#: Separators inside a number that a number never doubles between digits.
_NUMBER_SEPARATORS = frozenset(".,-")
#: Separators after a digit in a pair ("4-" of "2024-").
_PAIR_SEPARATORS = frozenset("-:/")
_EM_DASH = "\u2014"
#: Quotes: a pair with one is a string's edge, which recurs ("','", "': '").
_QUOTES = frozenset("'\"`\u2018\u2019\u201c\u201d")
#: What rule 2d reads after a word's last letter re-sent alone.
_LONE_SEPARATORS = frozenset(",;:`'\"")


class CodeContext:
    """Where the committed text ends: inside a fenced code block, an inline code span."""

    __slots__ = ("fence", "inline")

    def __init__(self, fence: bool, inline: bool) -> None:
        self.fence = fence
        self.inline = inline

    @property
    def code(self) -> bool:
        return self.fence or self.inline


def code_context(text: str) -> CodeContext:
    """Whether ``text`` ends inside a fenced code block, or an inline code span of its last line."""
    fences = 0
    start = 0
    while True:
        found = text.find("```", start)
        if found < 0:
            break
        before = text[text.rfind("\n", 0, found) + 1 : found]
        if not before.strip():
            fences += 1
        start = found + 3
    last_line = text[text.rfind("\n") + 1 :]
    inline = not last_line.lstrip().startswith("```") and last_line.count("`") % 2 == 1
    return CodeContext(fences % 2 == 1, inline)


def doubled_pair(stripped: str, held: str, *, code: CodeContext) -> bool:
    """Whether ``held`` re-sends the last two characters of ``stripped`` (rule 2i, a pair).

    The caller has checked that ``held`` starts with them and that the pair
    does not also end the text just before it.
    """
    if len(stripped) < 3:
        return False
    x, y = stripped[-2], stripped[-1]
    before = stripped[-3]
    if x == y or x.isspace() or "|" in (x, y) or x in _QUOTES or y in _QUOTES:
        return False  # a quote pair recurs in code: "(','" + "', ':')" is a string of a comma
    if x.isalpha() and y.isalpha() and not is_wide(x):
        return False  # letters inside a word: rule 2d
    if y == " ":
        # "的 " + "的 1 GB", ", " + ", "; not "for " + "r in rows" (a one-letter name),
        # nor "{ b: 1 } " + "} }" (nested brackets).
        return is_wide(x) or x in ",;"
    if y.isspace():
        if y != "\n" or x.isdigit():
            return False  # a column of numbers: "1\n" + "1\n2"
        if x in _CLOSERS:
            # "    f(x)\n" + ")\n": the next line closes the outer call; only a list
            # item's line ("- us-west-2 (Oregon)\n" + ")\n- eu") has no such line after it.
            return not code.fence and _is_list_item(stripped[: len(stripped) - 1])
        return True
    if is_wide(x) or is_wide(y):
        # "。東" + "。東京"; not two letters: Chinese repeats verbs as "ABAB" (研究研究),
        # Japanese writes いろいろ, どきどき.
        return not (x.isalpha() and y.isalpha())
    if x.isdigit() and y.isdigit():
        # "418" + "18,": an ID or a count repeats its last two digits once in a hundred
        # cuts ("pull/292" + "92", "#212" + "12"); a format written before decides.
        return False
    if x.isdigit():
        # "2024-" + "4-01"; not "v18." + "8.0" (a version's minor may repeat the
        # major's last digit), nor "10," + "0,0" (a row of numbers).
        return y in _PAIR_SEPARATORS and before.isalnum()
    if y.isdigit():
        return False  # a number's group: ".0" of "1.0" + ".0.1" (rule 2c)
    if x.isalpha() and y in _LONE_SEPARATORS:
        return False  # "index," + "x, so": the lone letter, rule 2d
    # "r/" + "r/log"; not two marks: code repeats them ("(x,)," + "),", "{}" + "{}").
    return x.isalnum() and not y.isalnum()


def doubled_mark(stripped: str, held: str, *, code: CodeContext) -> bool | None:
    """Whether ``held`` re-sends the last character of ``stripped``, a mark (rule 2i, a mark).

    ``None`` when the characters after it are needed to tell.
    """
    if len(stripped) < 2 or len(held) < 2:
        return None
    mark = stripped[-1]
    before = stripped[-2]
    if mark in _NUMBER_SEPARATORS and before.isdigit():
        if not held[1].isdigit():
            return False
        if mark == "," and code.code:
            return False  # an empty field: "3,,4"
        if mark == "." and code.code:
            # "0..10" is a range; "1." + ".14.2" a version going on.
            end = 1
            while end < len(held) and held[end].isdigit():
                end += 1
            if end + 1 >= len(held):
                return None
            return held[end] == "." and held[end + 1].isdigit()
        return True
    if mark == _EM_DASH and before == " ":
        return held[1] == " " and not any(is_wide(ch) for ch in stripped[-200:])
    if mark == "|":
        return _padded_row_end(stripped) and held[1] == " " and not code.inline
    return False


def _is_list_item(line_end: str) -> bool:
    """Whether the last line of ``line_end`` is a markdown list item outside code."""
    line = line_end[line_end.rfind("\n") + 1 :].lstrip(" ")
    marker = line.split(" ", 1)[0]
    return marker in ("-", "*", "+") or (marker[:-1].isdigit() and marker[-1:] in ".)")


def _padded_row_end(stripped: str) -> bool:
    """Whether ``stripped`` ends with a ``|`` closing a padded cell of a table row."""
    line = stripped[stripped.rfind("\n") + 1 :]
    if not line.lstrip(" ").startswith("|") or line.count("|") < 2:
        return False
    cells = line.strip().strip("|").split("|")
    return all(cell.startswith(" ") and cell.endswith(" ") for cell in cells)
