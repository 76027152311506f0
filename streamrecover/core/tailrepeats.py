"""Repeats of the committed tail that carry their own evidence (rules 2g and 2h of the stitcher).

The word rules of :mod:`~streamrecover.core.overlap` decide short repeats by
where words start. Two shapes say "repeated" on their own, wherever the
candidate starts, because an exact continuation would write text that almost
never occurs:

- **Across a word boundary** (rule 2g): the end of one word, a space, and the
  start of the next (``"(x_i -"`` + ``"i - \\bar{x}"``, ``"reichen 2"`` + ``"n 2–3 MB"``,
  ``"Call `ca"`` + ``"all `call`"``). Keeping it writes the same few characters
  twice in a row across the space, which outside periodic text ("la la la")
  real text does not do.
- **With the line end a prefill stripped** (rule 2h): the model saw ``"...: 3"``
  (the prefill lost the ``"\\n"``) and wrote ``" 3\\n- next"``: it re-sent the end
  of the line *and* its line end. Keeping it writes ``"3 3\\n"``; an exact
  continuation starts with the line end itself.

And one shape says "not repeated": the groups of a number recur by nature
(``"2024-06"`` + ``"-06"`` is the 6th of June), while a number of several groups
re-sent whole may look periodic (``"2.2."`` + ``"2.2.2"``) and still be one repeat.
Digits written in groups of one width (``"0000 0000 0000 0"``, a card number, a
hex dump) keep that width: of the readings of a repeat in the last group, the
one that completes it to the width is the text.
Pure functions, no state; the chooser applies the guards it shares with the
other rules (periodic text, text repeated just before the candidate, tables).

Ambiguities of numbers, by design.

Frequencies measured on the project's seam corpus (``python
benchmarks/bench_seams.py --in-process``, seed 11; benchmarks/README.md
"Seams") unless said otherwise.

* a one-digit number repeated (``"code": 5`` + ``"529}"``) is kept (``"4"`` +
  ``"42"`` is as often 442); a two-digit number at a cut is read as a repeat, so
  ``"in the year 20"`` + ``"20 we met"`` gives "20", not "2020"; a word whose
  start is its whole partial ("the cat" + "cats") is read as a repeat, "coco" +
  "conut" loses "co" ("repeats a number": 20 of 22 exact, 88 of 90 on the
  holdout corpus). One digit followed by its separator and a digit is read as
  a repeat (``"0."`` + ``"0.4 ms"``, ``"| 1"`` + ``"1.5"``), so an exact
  ``"urllib3 2."`` + ``"2.2"`` (version 2.2.2) loses "2." (one of the two seams
  losing text among 1,657 exact continuations of the holdout sweep) and
  ``"11.3–1"`` + ``"1.5"`` loses "1" (20 of the 62 alterations of 54,000 cuts of
  real text, ``benchmarks/scan_exact_seams.py``; a tokenizer that groups up to
  three digits never cuts there). A number's group written again is kept
  unless the number goes on (rule 2c), so ``"10.10"`` + ``".10.1"`` (an address
  of four groups) loses ".10", and ``"2024-"`` + ``"24-01"`` stays duplicated;
* conversely, a repeat that starts inside a number and ends at its separator
  (``"DATE '2024-"`` + ``"24-01-01'"``) is removed even when the date recurs, so
  an exact ``"1924-"`` + ``"24-1"`` (a group repeating the tail of the one before)
  loses "24-": of 120 exact continuations of real docs cut after a number's
  ``-`` where the next group opens with the last two digits before it (Node.js
  API docs and changelogs, 1,500 AWS CLI examples; each cut with and without a
  prefill), 28 are altered, almost all placeholder IDs of zeros
  (``"EXAMPLE0-0000-"`` + ``"0000-0000-0000..."``, periodic);
* digits written in groups of one width (``"0000 0000 0000 0"``): the reading
  that completes the last group to the width wins, so a last group that breaks
  the width at the cut (``"0000-0000-0000-000"`` + ``"000000000"``, a 12-digit
  tail) is cut to the width and loses digits: of 368 exact continuations cut in
  the third or later group of such numbers in the same docs, 52 are altered,
  all AWS placeholder IDs; with the periodic ``"1111 1111 11"``, 70 of the
  exact continuations cut in grouped digits of six texts (106 before the rule).
"""

from __future__ import annotations

__all__ = [
    "BOUNDARY_REPEAT_MIN",
    "digit_group_width",
    "group_width_reading",
    "inside_indentation",
    "is_boundary_repeat",
    "is_number_group",
    "is_number_run",
    "is_seam_echo",
    "number_goes_on",
]

#: Separators inside a number: "2024-06-06", "1.25", "15,433", "10:15".
_NUMBER_SEPARATORS = frozenset(".,-:")
#: Across a word boundary, a repeat is removed from this many characters on.
BOUNDARY_REPEAT_MIN = 3


def is_boundary_repeat(text: str) -> bool:
    """Whether ``text`` (a candidate) runs from inside a word across a space into the next.

    The end of a word (a letter or a digit, possibly with marks after it), inner
    whitespace, and at least one visible character after it: ``"i -"``, ``"n 2"``,
    ``"e —"``, ``"y  |"``, ``"all `ca"``. Not a candidate that starts or ends with
    whitespace (token-style repeats and the seam are other rules' business), and
    not one that spans a line end (a line repeated is rule 2c's).
    """
    if len(text) < BOUNDARY_REPEAT_MIN or text[0].isspace() or text[-1].isspace():
        return False
    if "\n" in text:
        return False
    space = next((index for index, ch in enumerate(text) if ch.isspace()), -1)
    if space <= 0:
        return False
    return any(ch.isalnum() for ch in text[:space])


def is_seam_echo(held: str, length: int, seam: str) -> bool | None:
    """Whether ``held`` re-sends ``length`` characters and then the line end the prefill stripped.

    ``None`` when ``held`` ends before the character after that line end.
    """
    if "\n" not in seam:
        return False
    if not held.startswith(seam, length):
        # Still a beginning of the seam: its end decides (any chunking alike).
        return None if seam.startswith(held[length:]) else False
    after = length + len(seam)
    if after >= len(held):
        return None
    return True


def is_number_group(stripped: str, length: int) -> bool:
    """Whether the candidate is a separator and digits after digits: ``"-06"`` in ``"2024-06"``.

    A number's groups recur ("2024-06-06", "1.1.1", "10:10"), so an exact
    continuation opens with the group just written as often as a model re-sends it.
    """
    start = len(stripped) - length
    text = stripped[start:]
    return (
        start > 0
        and stripped[start - 1].isdigit()
        and text[0] in _NUMBER_SEPARATORS
        and len(text) > 1
        and text[1:].isdigit()
    )


def number_goes_on(held: str, length: int, separator: str) -> bool | None:
    """Whether ``held`` goes on after the candidate with ``separator`` and a digit.

    ``"2024-06"`` + ``"-06-01,Oslo"`` writes a fourth group if ``"-06"`` is kept: then it
    was re-sent. ``None`` when ``held`` ends before that can be told.
    """
    if length + 2 > len(held):
        return None
    return held[length] == separator and held[length + 1].isdigit()


def is_number_run(stripped: str, length: int) -> bool:
    """Whether the candidate is a whole number of several groups: ``"2.2."`` in ``"urllib3 2.2."``.

    It starts where the number starts and holds a separator between digits. Such
    a candidate may be periodic ("2.2.") and still be one number re-sent whole:
    keeping it would write a number of five or more groups ("2.2.2.2.2").
    """
    start = len(stripped) - length
    text = stripped[start:]
    if start > 0 and (stripped[start - 1].isdigit() or stripped[start - 1] in _NUMBER_SEPARATORS):
        return False
    if not text[:1].isdigit() or any(not (ch.isdigit() or ch in _NUMBER_SEPARATORS) for ch in text):
        return False
    return any(
        text[index] in _NUMBER_SEPARATORS and text[index + 1 : index + 2].isdigit()
        for index in range(1, len(text))
    )


#: Separators between digit groups of one width: "0000 0000", "12-34-56", "ab:cd".
_GROUP_SEPARATORS = frozenset(" -:.")
#: Groups of one width before the cut that make the width a rule.
_GROUPS_MIN = 2


def digit_group_width(stripped: str) -> tuple[int, int] | None:
    """``(width, partial)`` when ``stripped`` ends inside digit groups of one width.

    ``"showed 0000 0000 0000 0"`` gives ``(4, 1)``: at least two whole groups of
    ``width`` digits, joined by one separator, then ``partial`` digits of the
    next (fewer than ``width``). ``None`` for any other ending.
    """
    partial = len(stripped) - len(stripped.rstrip("0123456789"))
    start = len(stripped) - partial
    if partial == 0 or start == 0 or stripped[start - 1] not in _GROUP_SEPARATORS:
        return None
    separator = stripped[start - 1]
    groups = stripped[: start - 1].split(separator)
    width = len(groups[-1])
    whole = 0
    for group in reversed(groups):
        if len(group) != width or not group.isdigit():
            # The first group may carry what came before it ("showed 0000").
            last = group.rsplit(None, 1)[-1] if group.strip() else ""
            whole += len(last) == width and last.isdigit() and separator != " "
            break
        whole += 1
    if width < 2 or partial >= width or whole < _GROUPS_MIN or not groups[-1].isascii():
        return None
    return width, partial


def group_width_reading(
    groups: tuple[int, int], held: str, lengths: list[int], *, at_end: bool
) -> int | None:
    """Of the readings of a repeat in digit groups of one width, the one that completes the group.

    ``"0000 0000 0000 0"`` + ``"0001, then"``: keeping ``"0"`` writes a group of five
    digits, removing it one of four. ``groups`` is :func:`digit_group_width`'s
    answer. Returns the length to remove, ``-1`` when no reading or several
    complete the group, ``None`` while the continuation's digits may go on.
    """
    width, partial = groups
    digits = 0
    while digits < len(held) and held[digits].isdigit():
        digits += 1
    if digits == len(held) and not at_end:
        return None
    fitting = [
        length
        for length in [*lengths, 0]
        if length <= partial and partial + digits - length == width
    ]
    return fitting[0] if len(fitting) == 1 else -1


def inside_indentation(stripped: str, position: int) -> bool:
    """Whether a candidate at ``position`` starts inside a line's indentation and holds more.

    A model that repeats a line repeats all of its indentation; a candidate
    that starts part-way into it is a shallower line that opens the same way:
    ``"    }\n"`` + ``"  }\n\n  await"`` closes the outer block, it does not
    repeat the inner one. (A candidate of whitespace only is the seam's
    business, rule 3; a candidate of the last space and a word is token-style.)
    """
    if position == 0 or stripped[position] not in " \t" or stripped[position - 1] not in " \t":
        return False
    if stripped[position + 1 : position + 2] not in (" ", "\t"):
        # The indentation's last space and the word after it: a token-style
        # repeat (``"        return"`` + ``" return x"``), as tokenizers cut code.
        return False
    if not stripped[position:].strip():
        return False
    line_start = stripped.rfind("\n", 0, position) + 1
    return not stripped[line_start:position].strip(" \t")
