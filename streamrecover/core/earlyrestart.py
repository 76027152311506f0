"""Rule 1b of the stitcher: a continuation that restarted the answer and diverged early.

Below the stitcher's ``restart_threshold``, a continuation that reproduces the
answer's opening and then goes its own way is a restart only when that opening
is long enough and unique enough that an exact continuation would not start
the same way (see :mod:`streamrecover.core.stitch`, rule 1b). Pure functions.

The rule, as the stitcher applies it (rule 1b):

**1b. Early restart.** Below ``restart_threshold``, a continuation that
reproduces the opening for at least 8 characters (CJK characters count
twice; 16 when the committed text ends a line, or a sentence with
whitespace at the seam, where a new sentence may open the same way; not
when the continuation is glued to the punctuation: ``"| 3."`` + ``"To
install"``; 8 again when a prefill's seam ends in the indentation of a new
line, as without prefill) and then diverges is a restart and is
rewound the same way, provided that opening occurs nowhere else in
``stripped`` (a parallel construction, "You can retry. You can resume",
is not a restart) and it is longer than the overlap rule 2 would remove.
A heading or a code fence (``"#"``, three backquotes) reproduced from the
opening for 3 characters and glued in the middle of a line is a restart too
(:mod:`~streamrecover.core.earlyrestart`). So is, whatever it shares:

* the answer's first word (capitalized, two letters or more) written with no
  space after text the model saw ending in a letter or a digit (or a digit
  and a dot, or a hyphen after one: ``"DATE '2024-"``), with the opening
  quote or bracket the answer opened with if any (``"'but"`` + ``"“Did it
  come back?”"``), followed by a space, a comma or an apostrophe: ``"finds
  customers"`` + ``"The following query"``, ``"Python 3."`` + ``"Yes —"``;
  not when the text ends with the start of that word (``"cut. Yo"`` +
  ``"You can"``, rule 2) or its last word holds a capital (``"Help"`` +
  ``"Formatter"``, CamelCase) unless the word ends no CamelCase name
  (``"The"``, ``"Yes"``, ``"When"``...: ``"C:\\Progr"`` + ``"The log files"``;
  not ``"In"``, ``"To"``, ``"On"``: ``"ThreadingMixIn"``), nor after whitespace
  or a line end;
* right after a list item's line (one line end), a paragraph opening like the
  answer for 8 characters, when the continuation's next line is no next item
  of that list (``"1. Generate a new key pair.\\n"`` + ``"To rotate keys:\\n\\n1.
  Create"``; not ``"2. Eggs\\n"`` + ``"Sure! Here is more:\\n3. Milk"``);
* after an answer that is one line ending with a colon, a paragraph opening like
  it for 8 characters (``"To install, run:\\n\\n"`` + ``"To install, use pip:"``);
* after an answer that is its opening fence line alone (``"```csv\\n"``), a
  fence: nobody writes an empty code block (``"```\\ndate;station"``);
* inside a code block the answer left open, a fence with an info string
  (``"  return results;\n"`` + ``"```javascript"``: such a fence cannot close
  the block) or, for 8 characters even at a line end, a line opening like
  the answer's prose opening (``"import random\n"`` + ``"Here is a small"``);
* at a line end (one line end: not after a blank line), the heading the
  answer opened with reproduced whole and going on on that line (``"## Steps"``
  + ``"## Steps to follow"``; not ``"## Steps (continued)"``, which goes on with
  the answer), or the first cell of the table header it opened with written
  again under a row of that table (``"| Region | Error rate |"`` under
  ``"| eu-north-1 |    3,002 |"``), unless the line has the header's columns (a
  model going on with the table writes its header again: kept, nothing lost).
  The stitcher holds the continuation's first line to tell.


Ambiguities, by design.
Frequencies measured on the project's seam corpus (``python
benchmarks/bench_seams.py --in-process``, seed 11; benchmarks/README.md
"Seams") unless said otherwise.

* a restart that diverges within 8 characters, or within 16 at a sentence or
  line end (``"run:\n\n"`` + ``"To install, use pip"``, ``"old one.\n"`` + ``"To
  rotate keys:"``), is duplicated, not rewound: a list or a parallel sentence
  may open a line the way the answer opened, and a continuation may open with
  a chatty preamble like the answer's (``"Sure! Here is the list: ..."`` +
  ``"Sure! Here is more:"``: 8 characters after a single line end were tried
  and rejected, they rewound that preamble and 4 of 311,546 line-start cuts of
  hard-wrapped documentation). "Restarts the answer and diverges early": 98.1%
  exact; 97.7% on the holdout corpus (94.6% before the never-CamelCase words, the
  list item and the empty block; 94.4% before ";" stopped counting as a
  sentence end: "per month; " + "The Basic plan"), whose restarts often share under 8
  characters, "Here is" / "Here's", or reopen a code block after a closed one
  (``"```\n\n"`` + ``"```\n2024-11-02 10:15"``: 8 characters there were tried and
  rejected: of 33,071 pairs of an answer opening at a code block and a later block
  right after another in the markdown of /usr/share/doc, 216 rewound, Node.js's
  ``"```cjs\nconst "`` blocks); 96.2% and 91.3% before the
  heading, table-header and hyphen/quote rules, 75.2% before the glued-word and
  open-block rules. Only a heading or a code fence glued in
  the middle of a line needs no more than 3 characters of the opening (``"may
  incl"`` + ``"## How configuration"``), and the answer's first word glued to
  a word none; a restart after a word with a capital (``"C:\\Progr"`` + ``"The
  log files"``) or after a quote stays duplicated;
* conversely, an exact continuation that writes the answer's first word glued
  to a lowercase word, as camelCase does (an answer opening "Modify ..." and
  later ``"self._did"`` + ``"Modify = True"``), or a model that drops the space
  before that word mid-sentence, is rewound to the opening: none in 54,000 cuts
  of real text nor in 1,314 cuts before capitalized words of answers opening
  with one; of 5,670 glued capitalized words of CPython's sources and this
  project's READMEs, 366 would be rewound *if* the answer opened with that word;
* conversely, right after a line end, a heading that extends the answer's
  first heading (an answer opening ``"## Usage"`` and later ``"...\n"`` + ``"##
  Usage with asyncio"``) or a table row whose first cell is the header's first
  cell's word (``"| Region | ..."`` under rows of a table headed ``"| Region
  |"``, with other columns) is rewound: none in 168,642 line-start cuts of
  markdown answers opening at a heading or a table (Node.js API docs, pyenv,
  Rust release notes); a text that writes the same end of a word, space and
  start of the next twice (rule 2g) or re-writes a line's end after a
  prefill's line end (rule 2h): none in the 54,000 cuts of real text;
* conversely, an exact continuation that itself begins with 8 or more
  characters of the answer's opening (``"Retry later. Then "`` + ``"Retry
  later, or give up"``) reads as an early restart (rule 1b) and is rewound;
"""

from __future__ import annotations

import re

from streamrecover.core.textshape import has_short_period, is_wide

__all__ = ["EARLY_RESTART_AT_END", "EARLY_RESTART_MIN", "is_early_restart", "tracks_opening"]

#: A restart that diverges early must reproduce at least this much of the opening
#: (CJK characters count twice); more when the cut fell at a sentence or line end.
EARLY_RESTART_MIN = 8
EARLY_RESTART_AT_END = 16
#: A restart that glues a heading or a fence mid-line needs only this much of the opening.
_BLOCK_OPENING_MIN = 3
#: Not ";": the clause after it opens in lowercase, so the answer's capitalized
#: opening written after "; " is no new clause ("per month; " + "The Basic plan").
_SENTENCE_ENDS = frozenset(".!?:\n\u3002\uff01\uff1f")
#: What follows the answer's first word when a continuation restarts with it.
_AFTER_OPENING_WORD = frozenset(" ,'\u2019")
#: Marks that may open an answer before its first word (not the straight apostrophe,
#: which ends words: "don" + "'t").
#: A heading that marks a continuation: "## Steps (continued)", "(cont.)".
_CONTINUED = "cont"
#: A markdown list item's line: a bullet or a number, and a space.
_LIST_ITEM = re.compile(r"[ \t]*([-*+]|\d{1,3}[.)])[ \t]+\S")
#: The start of a next list item, read on its first characters (indentation aside).
_NEXT_ITEM = re.compile(r"([-*+]|\d{1,3}[.)])[ \t]")
_ITEM_PROBE = 5
_OPENING_MARKS = frozenset('"(*[\u201c\u2018\u00ab')
#: Opening words that end no CamelCase name (none glued to a capitalized name and followed
#: by a space in CPython's sources, the Node.js API docs and this project's READMEs, where
#: "In", "To", "On", "Of", "Is", "Up", "Ok", "No", "Use", "Short" all are: "ThreadingMixIn",
#: "GoTo", "AlwaysOn", "SizeOf"): glued after a word with a capital, such a word is the
#: answer again ("C:\\Progr" + "The log files", "Yes. In Python" + "Yes \u2014 ...").
_NEVER_CAMEL_TAILS = frozenset(
    {
        "An",
        "Good",
        "Great",
        "How",
        "Its",
        "My",
        "Our",
        "She",
        "Sure",
        "The",
        "Their",
        "There",
        "These",
        "They",
        "Those",
        "We",
        "What",
        "When",
        "Where",
        "Which",
        "Why",
        "Yes",
        "Your",
    }
)


def tracks_opening(stripped: str, restart_threshold: int, min_overlap: int) -> bool:
    """Whether the stitcher should compare the continuation with the opening of ``stripped``.

    Past :data:`EARLY_RESTART_MIN` characters, unless the opening is a short repeated
    pattern; and a lone opening fence line however short (``"```csv\\n"``).
    """
    if _lone_fence_line(stripped):
        return True
    return len(stripped) > EARLY_RESTART_MIN and not has_short_period(
        stripped[:restart_threshold], min_overlap
    )


def is_early_restart(
    stripped: str, seam: str, matched: int, held: str, *, at_end: bool = False
) -> bool | None:
    """Whether ``held``, sharing ``matched`` characters with the opening, restarted the answer.

    Args:
        stripped: the committed text as the model saw it.
        seam: the whitespace a prefill cut off after it.
        matched: the length of the common prefix of ``held`` and ``stripped``.
        held: the continuation so far.
        at_end: whether the continuation ended with ``held``.

    Returns:
        ``None`` when the rest of the continuation's first line is needed to tell.
    """
    if matched >= len(stripped) or matched >= len(held):
        return False
    if _glued_opening_word(stripped, seam, matched, held):
        return True
    opening = stripped[:matched]
    if _empty_block_closed(stripped, seam, opening):
        return True
    inside_fence = _inside_fence(stripped)
    if inside_fence and opening.startswith("```") and opening[3:4].isalpha():
        # A fence with an info string cannot close the block the text is in:
        # "  return results;\n" + "```javascript" opens the answer again.
        return True
    if matched >= _BLOCK_OPENING_MIN and opening.startswith(("#", "```")) and "\n" not in seam:
        # A heading or a code fence opens a line: glued after text in the middle of a
        # line ("may incl" + "## How configuration is loaded") it is the answer again.
        last_line = stripped[stripped.rfind("\n") + 1 :]
        if last_line.strip():
            return True
    weight = sum(2 if is_wide(ch) else 1 for ch in opening)
    if weight < EARLY_RESTART_MIN or not any(ch.isalnum() for ch in opening):
        return False
    if stripped.find(opening, 1) >= 0:
        return False  # the answer repeats its opening: a parallel sentence, maybe
    last = stripped[-1]
    if seam.rstrip(" \t").endswith("\n") and seam[-1] in " \t":
        # The cut fell in the indentation of a new line: an exact continuation goes
        # on with that line's own text, as with no prefill ("\n  " + "## Steps").
        return True
    if inside_fence and opening[0].isalpha():
        # Inside a code block the answer opened later, a line opening like the
        # prose it began with is no code: "import random\n" + "Here is a small".
        return True
    if "\n" in seam or last == "\n":
        # At a line end a new line may open the same way, except a heading or a
        # table header the answer opened with, written again and going its own way.
        block = _block_opening_again(stripped, seam, matched, held, at_end=at_end)
        if block is not False:
            return block
        if opening[0].isalpha() and _lone_announcing_line(stripped):
            # "To install, run:\n\n" + "To install, use pip:": what a line ending with
            # ":" announces follows it; no paragraph after such a line repeats its
            # opening (none of 1,273 in the markdown of /usr/share/doc and this project).
            return True
        if opening[0].isalpha():
            after_list = _list_not_continued(stripped + seam, held, at_end=at_end)
            if after_list is not False:
                return after_list  # weight >= EARLY_RESTART_MIN: checked above
        return weight >= EARLY_RESTART_AT_END
    if last in _SENTENCE_ENDS and seam:
        # At a sentence end a new sentence may open the same way
        # (not glued to the punctuation: "| 3." + "To install" is a restart).
        return weight >= EARLY_RESTART_AT_END
    return True


def _glued_opening_word(stripped: str, seam: str, matched: int, held: str) -> bool:
    """Whether ``held`` opens with the answer's first word glued to a word the model saw.

    ``"The query below finds cus"`` + ``"The following query"``: the model saw text
    ending in a letter or digit (and at most spaces after it, cut off a prefill), yet
    wrote a capitalized word, the answer's first, with no space before it. An exact
    continuation goes on with the word it is in, or writes a space first. Not when
    the text ends with the start of that word (``"cut. Yo"`` + ``"You can"``: rule 2),
    nor when its last word holds a capital (``"Help"`` + ``"Formatter"``: CamelCase).
    """
    seen = stripped[:-1] if stripped.endswith(".") and stripped[-2:-1].isdigit() else stripped
    hyphen = seen.endswith("-") and seen[-2:-1].isalnum()
    if hyphen:
        seen = seen[:-1]  # a hyphen after a word or a number: "DATE '2024-" + "The query"
    if not seen[-1:].isalnum() or "\n" in seam:
        return False  # a digit and a dot count as inside a number: "Python 3." + "Yes"
    lead = 0  # an opening quote or bracket before the word: "“Did you restart it?”"
    while lead < min(2, len(stripped)) and stripped[lead] in _OPENING_MARKS:
        lead += 1
    length = lead
    while length < len(stripped) and stripped[length].isalpha():
        length += 1
    word = stripped[lead:length]
    if len(word) < 2 or not (word[0].isupper() and word[1:].islower()):
        return False
    if any(stripped.endswith(stripped[:end]) for end in range(1, length + 1)):
        return False  # it may repeat the end of the text: "cut. Yo" + "You can"
    start = len(seen)
    while start > 0 and seen[start - 1].isalnum():
        start -= 1
    camel_tail = hyphen or word not in _NEVER_CAMEL_TAILS  # "Windows-" + "Yes dialog"
    if camel_tail and any(ch.isupper() for ch in seen[start:]):
        return False  # "Help" + "Formatter": the name goes on in CamelCase
    return matched >= length and len(held) > length and held[length] in _AFTER_OPENING_WORD


def _lone_fence_line(stripped: str) -> bool:
    """Whether ``stripped`` is an opening fence with an info string and nothing after it."""
    line = stripped.rstrip("\r\n")
    return line.startswith("```") and line[3:4].isalpha() and "\n" not in line


def _empty_block_closed(stripped: str, seam: str, opening: str) -> bool:
    """``"```csv\\n"`` + ``"```\\ndate;station"``: a fence right after the answer's opening fence.

    Nobody writes an empty code block: a continuation that writes a fence on the
    line after the fence the answer opened with (and nothing else) opens the block
    again, with another info string or none.
    """
    return _lone_fence_line(stripped) and (stripped + seam).endswith("\n") and opening == "```"


def _lone_announcing_line(stripped: str) -> bool:
    """Whether the answer so far is one line ending with a colon (``"To install, run:"``)."""
    line = stripped.rstrip()
    return line.endswith(":") and "\n" not in line


def _list_not_continued(committed: str, held: str, *, at_end: bool) -> bool | None:
    """Whether ``held``, after a list item's line, opens a paragraph and then no next item.

    ``committed`` ends with a list item's line and one line end. An exact continuation
    goes on with the list or leaves a blank line first: a paragraph straight after
    an item, unindented, is rare (550 in the markdown of /usr/share/doc and this
    project, and 1 of them, HTML, opened like the answer 8 to 15 characters long). A
    model restarting the answer writes just that, and then its own list from the
    start: ``"1. Generate a new key pair.\\n"`` + ``"To rotate keys:\\n\\n1. Create"``
    under an answer opening ``"To rotate the signing key"``. A chatty preamble that
    goes on with the list (``"2. Eggs\\n"`` + ``"Sure! Here is more:\\n3. Milk"``, or
    another bullet) is no restart. ``None`` until the continuation's next line shows.
    """
    body = committed.rstrip(" \t")
    if not body.endswith("\n") or body.endswith("\n\n"):
        return False
    item = _LIST_ITEM.match(body, body.rfind("\n", 0, len(body) - 1) + 1)
    if item is None:
        return False
    line_end = held.find("\n")
    rest = held[line_end + 1 :].lstrip("\r\n") if line_end >= 0 else ""
    # Read on the next line's first characters only, so that the decision does not
    # depend on how far the continuation had arrived when it was taken.
    start = rest[: len(rest) - len(rest.lstrip(" \t"))]
    probe = rest[len(start) : len(start) + _ITEM_PROBE]
    if len(probe) < _ITEM_PROBE and "\n" not in probe and not at_end:
        return None
    following = _NEXT_ITEM.match(probe)
    if following is None:
        return True
    marker, next_marker = item.group(1), following.group(1)
    if marker[0].isdigit() and next_marker[0].isdigit():
        return int(next_marker[:-1]) != int(marker[:-1]) + 1
    return marker != next_marker


def _block_opening_again(
    stripped: str, seam: str, matched: int, held: str, *, at_end: bool
) -> bool | None:
    """Whether ``held``, at a line end, writes the answer's opening heading or table header again.

    A heading the answer opened with, reproduced whole and going on on the same
    line (``"## Steps"`` + ``"## Steps to follow"``): a later heading of the
    answer opens with the same words only in a series (``"## Step 1"``, ``"## Step
    2"``), which does not reproduce the whole first one; one that marks a
    continuation (``"## Steps (continued)"``) goes on with the answer. A table
    header whose first cell the continuation writes again, whole, under a row of
    that table, with other columns (``"| Region     | Requests |"`` ... ``"|
    eu-north-1 | 3,002 |\\n"`` + ``"| Region | Error rate |"``): a row of the table
    does not repeat the header's name, and a model that goes on with the table
    writes the same columns again (kept: nothing is lost). ``matched`` is the
    length of the common prefix of ``held`` and ``stripped``; the caller has
    checked that this opening occurs nowhere else. ``None`` while the
    continuation's first line is not complete.
    """
    line_end = stripped.find("\n")
    first_line = stripped if line_end < 0 else stripped[:line_end]
    held_end = held.find("\n")
    if held_end < 0 and not at_end:
        line: str | None = None
    else:
        line = held if held_end < 0 else held[:held_end]
    if first_line.startswith("#"):
        title = first_line.lstrip("#")
        if not (
            title[:1] == " "
            and any(ch.isalpha() for ch in title)
            and matched == len(first_line)
            and matched < len(held)
            and held[matched] not in "\r\n"
        ):
            return False
        return None if line is None else _CONTINUED not in line[matched:].casefold()
    if not first_line.startswith("|"):
        return False
    committed = stripped + seam
    last_line = committed.rstrip()
    if committed[len(last_line) :].count("\n") != 1:
        return False  # a blank line ended the table: a new one may open alike
    last_line = last_line[last_line.rfind("\n") + 1 :]
    if last_line == first_line or not last_line.lstrip(" ").startswith("|"):
        return False  # the table ended (or is the first line)
    cell_end = first_line.find("|", 1)
    cell = first_line[1:cell_end].strip() if cell_end > 0 else ""
    if not any(ch.isalpha() for ch in cell):
        return False
    cell_text_end = first_line.index(cell) + len(cell)
    if not (matched >= cell_text_end and held[cell_text_end : cell_text_end + 1] in (" ", "|")):
        return False
    return None if line is None else _cells(line) != _cells(first_line)


def _cells(row: str) -> list[str]:
    """The texts of a table row's cells, padding aside."""
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _inside_fence(text: str) -> bool:
    """Whether ``text`` ends inside a fenced code block (an odd number of fence lines)."""
    fences = 0
    start = 0
    while True:
        line_start = text.find("```", start)
        if line_start < 0:
            return fences % 2 == 1
        before = text[text.rfind("\n", 0, line_start) + 1 : line_start]
        if not before.strip():
            fences += 1
        start = line_start + 3
