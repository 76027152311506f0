"""Which overlap to remove: rule 2 of the stitcher, on the candidates a continuation offers.

A *candidate* of length ``L`` is a suffix ``stripped[-L:]`` of the text the
model saw (starting on a grapheme-cluster boundary) with which the
continuation starts. :class:`OverlapChooser` reads the held continuation and
answers how many of its characters repeat the committed text (``0``: none), or
:data:`HOLD` when a rule needs a few more characters to tell. The rules, with
their examples and the ambiguities they leave, are listed in
:mod:`streamrecover.core.stitch`; this module holds only the reading.

Ambiguities of rule 2, by design (frequencies on the project's seam corpus,
``python benchmarks/bench_seams.py --in-process``, seed 11):

* the text itself doubling a word at the cut (``"She said that "`` + ``"that was
  fine"``, ``"What it is "`` + ``" is unclear"``) is read as a repeat and loses
  the second word (no such seam in the corpus);
* periodic text: across a short period at the seam ("ha ha ha", "la la la",
  "0000 0000", "Yes yes yes") the number of periods repeated cannot be told; the
  reading that loses nothing wins, so such seams may be duplicated by a few
  periods (most of the failures outside the dropped space and 1-2 character
  repeats);
* a lone ``"_"`` re-sent token-style (``"def _"`` + ``" __init__"``) is kept;
* a cut right after a zero-width joiner (``"Families: 👨\u200d"``) whose exact
  continuation repeats the person before it (``"👨\u200d👦"``, a family of two
  men) reads as the sequence re-sent (the rule that fixed ``"- 👨\u200d"`` +
  ``"- 👨\u200d👩\u200d👧"``, emoji cuts 91.7% -> 100.0%) and loses ``"👨\u200d"``:
  only sequences that repeat a person (👨‍👨‍👦, 👩‍👩‍👧), none in the scanned texts;
"""

from __future__ import annotations

from streamrecover.core.doubling import CodeContext, code_context, doubled_mark, doubled_pair
from streamrecover.core.numberformats import NumberFormats
from streamrecover.core.resenttokens import resent_reading
from streamrecover.core.shortrepeats import (
    HOLD,
    KEPT,
    ShortRepeatReading,
    has_word,
    partial_word_start,
)
from streamrecover.core.tablerows import TableRow, table_row_after, table_row_at_end
from streamrecover.core.tailrepeats import (
    BOUNDARY_REPEAT_MIN,
    digit_group_width,
    group_width_reading,
    inside_indentation,
    is_boundary_repeat,
    is_number_group,
    is_number_run,
    is_seam_echo,
    number_goes_on,
)
from streamrecover.core.textshape import (
    WORD,
    ZWJ,
    char_class,
    has_short_period,
    has_table_cells,
    is_boundary,
    is_cluster_start,
    is_pictograph,
)

__all__ = ["HOLD", "OverlapChooser"]

#: Marks re-sent after the word they end (rule 2f); not "!" and "?", doubled in speech.
_SENTENCE_MARKS = frozenset(".,;:")
#: A lone candidate inside a word is removed from this many letters or digits on.
_IN_WORD_MIN = 3
#: A token-style repeat of a word this short is removed only when the run stops.
_TOKEN_WORD_MIN = 3
#: What a letterless run that recurs in a table or a list of numbers is made of.
_TABULAR = frozenset("0123456789|.,:;-+=%* \t\n")


class OverlapChooser(ShortRepeatReading):
    """Rule 2 for one seam: the committed tail, and how a continuation's start reads against it."""

    __slots__ = (
        "_code",
        "_formats",
        "_groups",
        "_min_overlap",
        "_seam",
        "_stripped",
        "_table",
        "_tail_start",
        "_window",
    )

    def __init__(
        self, stripped: str, seam: str, *, tail_start: int, min_overlap: int, window: int
    ) -> None:
        """Read continuations against ``stripped`` (what the model saw) and ``seam``.

        Args:
            stripped: the committed text as the model saw it.
            seam: the whitespace a prefill cut off after it (``""`` when none).
            tail_start: where the examined tail of ``stripped`` starts.
            min_overlap: an overlap at least this long (not periodic) is removed
                whatever its boundaries.
            window: the most characters the stitcher holds.
        """
        self._stripped = stripped
        self._seam = seam
        self._tail_start = tail_start
        self._min_overlap = min_overlap
        self._window = window
        # Whether the answer reads as English prose the lexicon can judge (None: not asked yet).
        self._english: bool | None = None
        # A seam with a line end closed the row: the continuation opens the next one.
        self._table: TableRow | None = None
        if "\n" not in seam:
            self._table = table_row_at_end(stripped[tail_start:])
        elif seam.count("\n") == 1 and not seam.strip(" \t\r\n"):
            self._table = table_row_after(stripped[tail_start:])
        # Whether the text ends in code (a fence, an inline span); None: not asked yet.
        self._code: CodeContext | None = None
        # The date and time formats written before the cut (None: not read yet).
        self._formats: NumberFormats | None = None
        # Digit groups of one width the cut fell inside ("0000 0000 0"), if any.
        self._groups = None if seam else digit_group_width(stripped[tail_start:])

    def choose(self, held: str, *, at_end: bool) -> int:
        """Rule 2: the length of the committed tail to remove from ``held``, or ``HOLD``."""
        if not held:
            return 0
        stripped = self._stripped
        # Before the end, a candidate as long as everything held would still
        # be "live" (the caller only decides once none is), so it is excluded.
        longest = len(held) if at_end else len(held) - 1
        position = stripped.find(held[0], max(self._tail_start, len(stripped) - longest))
        lengths: list[int] = []
        while position >= 0:
            if (
                is_cluster_start(stripped, position)
                and held.startswith(stripped[position:])
                and not inside_indentation(stripped, position)
            ):
                lengths.append(len(stripped) - position)
            position = stripped.find(held[0], position + 1)
        chosen = self._choose_by_words(held, lengths, at_end=at_end)
        if chosen == 0 and lengths and lengths[-1] <= 2:
            chosen = self._punctuation_repeat(lengths[-1], held, at_end=at_end)
        if chosen == 0 and lengths and lengths[-1] <= 2 and "\n" not in self._seam:
            chosen = self._doubled(lengths[-1], held, at_end=at_end)
        if chosen == 0 and lengths and lengths[-1] <= 2:
            chosen = self._resent(lengths[-1], held, at_end=at_end)
        if 0 < chosen < self._min_overlap:
            chosen = self._unless_written(chosen, held, at_end=at_end)
        if chosen == 0 and lengths and "\n" in self._seam:
            chosen = self._seam_echo(held, lengths, at_end=at_end)
        if chosen >= 0 and lengths and lengths[-1] <= 2:
            chosen = self._choose_by_format(held, lengths, chosen, at_end=at_end)
        if chosen >= 0 and lengths and self._groups is not None:
            chosen = self._choose_by_group_width(held, lengths, chosen, at_end=at_end)
        if chosen < 0 or not lengths or self._table is None:
            return chosen
        return self._choose_by_table(held, lengths, chosen, at_end=at_end)

    def _choose_by_group_width(
        self, held: str, lengths: list[int], chosen: int, *, at_end: bool
    ) -> int:
        """Digits in groups of one width: the one reading that completes the group wins."""
        assert self._groups is not None
        reading = group_width_reading(self._groups, held, lengths, at_end=at_end)
        if reading is None:
            return HOLD if len(held) < self._window else chosen
        return chosen if reading < 0 else reading

    def _choose_by_format(self, held: str, lengths: list[int], chosen: int, *, at_end: bool) -> int:
        """Rule 2j: inside a date or a time, the one reading with a format written before wins."""
        if self._formats is None:
            self._formats = NumberFormats(self._stripped, self._tail_start)
        return self._formats.choose(held, lengths, chosen, at_end=at_end, window=self._window)

    def _doubled(self, length: int, held: str, *, at_end: bool) -> int:
        """Rule 2i: a short repeat that keeping would write twice in a row (:mod:`.doubling`)."""
        if self._code is None:
            self._code = code_context(self._stripped[self._tail_start :])
        if length == 2:
            if self._repeats_before(length) or is_number_group(self._stripped, length):
                return 0
            return length if doubled_pair(self._stripped, held, code=self._code) else 0
        verdict = doubled_mark(self._stripped, held, code=self._code)
        if verdict is None:
            return HOLD if not at_end and len(held) < self._window else 0
        return length if verdict else 0

    def _resent(self, length: int, held: str, *, at_end: bool) -> int:
        """Rule 2k: a short repeat only a re-sent token explains (:mod:`.resenttokens`)."""
        if self._code is None:
            self._code = code_context(self._stripped[self._tail_start :])
        return resent_reading(
            self._stripped, held, length, seam=self._seam, code=self._code.code,
            english=self._is_english, at_end=at_end, window=self._window,
        )  # fmt: skip

    def _punctuation_repeat(self, length: int, held: str, *, at_end: bool) -> int:
        """A sentence mark that ended a word, re-sent with the space after it.

        "isn't." + ". It's", "three days;" + "; Oslo", "`timeout`: " + ": 30": keeping
        it would write the mark twice across a space (". .", ": :") or twice before
        one ("..", ";;"), which text almost never holds after a word ("cd ." + ". "
        is a path: the mark follows a space).
        """
        stripped = self._stripped
        text = stripped[len(stripped) - length :]
        if len(stripped) <= length or text[0] not in _SENTENCE_MARKS or text[1:] not in ("", " "):
            return 0
        before = stripped[len(stripped) - length - 1]
        if before.isspace() or before in _SENTENCE_MARKS:
            return 0
        if len(held) <= length:
            return HOLD if not at_end and len(held) < self._window else 0
        after = held[length]
        if length == 1:
            return length if after == " " else 0  # "this::\n" is reST, not a repeat
        return length if not after.isspace() else 0

    def _seam_echo(self, held: str, lengths: list[int], *, at_end: bool) -> int:
        """Rule 2h: a candidate re-sent with the line end the prefill stripped after it.

        ``"`retries`: 3"`` (the prefill lost ``"\\n"``) + ``" 3\\n- **File**"``: an exact
        continuation opens with the line end; keeping the candidate writes "3 3".
        """
        for length in lengths:
            verdict = is_seam_echo(held, length, self._seam)
            if verdict is None and not at_end and len(held) < self._window:
                return HOLD  # the character after the line end is needed
            if verdict is False:
                continue
            text = self._stripped[len(self._stripped) - length :]
            if (
                text.strip()
                and "|" not in text  # a table row's end: rule 2e reads the row
                and not self._repeats_before(length)
                and not has_short_period(text, len(text) // 2 + 1)
            ):
                return length
        return 0

    def _unless_written(self, chosen: int, held: str, *, at_end: bool) -> int:
        """A short repeat inside a word is kept when the answer wrote the kept word before.

        "the SSE decoder ... 40,000 S" + "SE events": removing "S" would write "SE",
        keeping it "SSE", which the answer already wrote (and "SE" not): kept.
        """
        stripped = self._stripped
        start = partial_word_start(stripped)
        if start == len(stripped) or not held[:1].isalpha():
            return chosen  # not glued inside a word
        word_end = 0
        while word_end < len(held) and held[word_end].isalpha():
            word_end += 1
        if word_end == len(held) and not at_end and len(held) < self._window:
            return HOLD
        if word_end <= chosen:
            return chosen
        kept = stripped[start:] + held[:word_end]
        removed = stripped[start:] + held[chosen:word_end]
        if has_word(stripped, kept, start) and not has_word(stripped, removed, start):
            return 0
        if self._known_reading(kept, removed) == KEPT:
            return 0  # "co" + "coconut": the word, not "conut"
        return chosen

    def _choose_by_table(self, held: str, lengths: list[int], chosen: int, *, at_end: bool) -> int:
        """Rule 2e: inside a table row, the one reading that keeps the table's shape wins."""
        table = self._table
        assert table is not None
        # After a prefill stripped the row's line end, the continuation opens the next row.
        skip = len(self._seam) if table.new_row else 0
        readings = []
        for length in [*lengths, 0]:
            rest = held[length:]
            if not rest.startswith(self._seam):
                rest = self._seam + rest.lstrip(" \t")  # rule 3: the consumer keeps its seam
            row = rest[skip:]
            line_end = row.find("\n")
            if line_end < 0 and not at_end and len(held) < self._window:
                return HOLD  # the row's end shows how many cells it has
            readings.append((length, row if line_end < 0 else row[:line_end], line_end >= 0))
        fitting = [
            length for length, row, ended in readings if table.fits(row, complete=ended or at_end)
        ]
        if chosen in fitting:
            # A candidate across rows competes with a shorter one inside this row
            # only where rows repeat (a table of zeros): the shorter loses nothing.
            shorter = [length for length in fitting if 0 < length < chosen]
            text = self._stripped[len(self._stripped) - chosen :]
            if shorter and "\n" in text and not any(ch.isalpha() for ch in text):
                return shorter[-1]
            return chosen
        return fitting[0] if len(fitting) == 1 else chosen

    def _choose_by_words(self, held: str, lengths: list[int], *, at_end: bool) -> int:
        """Rules 2 to 2d on the candidates ``lengths`` (longest first)."""
        for index, length in enumerate(lengths):
            shorter = lengths[index + 1] if index + 1 < len(lengths) else 0
            if length - shorter >= self._min_overlap and not self._is_table_like(length):
                return length
        if not lengths:
            return 0
        # Rule 2b: the shortest candidate that starts a word ("that" rather than
        # its last letter "t") decides whether a short repeat is a word repeated;
        # a longer one that starts a word too wins when the text does not repeat
        # itself there (" the t" + " the table", not " t").
        starting = [length for length in lengths if self._starts_word(length)]
        if len(starting) > 1:
            longest_start = starting[0]
            if (
                not self._repeats_before(longest_start)
                and (
                    not has_short_period(
                        self._stripped[len(self._stripped) - longest_start :],
                        longest_start // 2 + 1,
                    )
                    # A number of several groups re-sent whole ("2.2." + "2.2.2").
                    or is_number_run(self._stripped, longest_start)
                )
                and not self._is_table_like(longest_start)
            ):
                verdict = self._is_word_repeat(longest_start, held, at_end=at_end)
                if verdict is None:
                    return HOLD
                if verdict:
                    return longest_start
        for length in reversed(lengths):
            if self._starts_word(length):
                verdict = self._is_word_repeat(length, held, at_end=at_end)
                if verdict is None:
                    return HOLD
                if verdict:
                    return length
                break
        # Rule 2c: a lone candidate inside a word ("f answ" + "f answers"),
        # not a number's group written again ("2024-06" + "-06, about").
        if len(lengths) == 1 and is_number_group(self._stripped, lengths[0]):
            separator = self._stripped[len(self._stripped) - lengths[0]]
            goes_on = number_goes_on(held, lengths[0], separator)
            if goes_on is None and not at_end and len(held) < self._window:
                return HOLD
            if not goes_on:
                return 0
            return lengths[0] if self._is_lone_in_word_repeat(lengths[0]) else 0
        if len(lengths) == 1 and self._is_lone_in_word_repeat(lengths[0]):
            return lengths[0]
        # Rule 2g: a repeat across a word boundary ("(x_i -" + "i - \\bar").
        if self._is_boundary_repeat(lengths):
            return lengths[0]
        # Rule 2d: a repeat of one or two letters inside a word, where keeping it
        # would write what words almost never hold.
        chosen = self._short_in_word_repeat(lengths[-1], held, at_end=at_end)
        if chosen == 0 and len(lengths) > 1 and lengths[-2] == 2:
            # A doubled letter re-sent whole ("coffee" + "ee, a"): candidates "e" and
            # "ee"; only the lexicon reads the longer one ("coffee", not "coffeeee").
            chosen = self._short_in_word_repeat(lengths[-2], held, at_end=at_end)
        return chosen

    def _is_boundary_repeat(self, lengths: list[int]) -> bool:
        """Rule 2g on the longest candidate, far enough from the next shorter one."""
        length = lengths[0]
        shorter = lengths[1] if len(lengths) > 1 else 0
        text = self._stripped[len(self._stripped) - length :]
        return (
            length - shorter >= BOUNDARY_REPEAT_MIN
            and is_boundary_repeat(text)
            and not has_short_period(text, len(text) // 2 + 1)
            and not self._repeats_before(length)
            and not self._is_table_like(length)
        )

    def _is_table_like(self, length: int) -> bool:
        """Whether a letterless candidate may just be the table going on.

        Cells shorter than ``2 * min_overlap`` (" 0     |"), or a run that already
        occurs earlier in the committed text: in a table of zeros the next cells
        read like the last ones repeated.
        """
        stripped = self._stripped
        text = stripped[len(stripped) - length :]
        if any(ch.isalpha() for ch in text):
            return False
        start = len(stripped) - length
        if start > 0 and stripped[start - 1].isdigit() and text[-1] in "-:/" and text[0].isdigit():
            # Cut after a number's separator, the candidate starting inside the number
            # ("DATE '2024-" + "24-01-01'"): a table going on opens a cell, not the tail
            # of the number before.
            return False
        if stripped.find(text, self._tail_start) < start and all(ch in _TABULAR for ch in text):
            # (Made of cells and numbers: a date or a quoted value written twice,
            # "'2024-01-01'", is no table run.)
            return True
        # Short runs of cells ("0 |\n| 0 | 0 | " in a table of zeros) likewise.
        return length < 2 * self._min_overlap and "|" in text

    def _starts_word(self, length: int) -> bool:
        """Whether the candidate starts at a word (or, token-style, at the space before one)."""
        stripped = self._stripped
        start = len(stripped) - length
        first = stripped[start]
        if first.isspace():
            # A token-style repeat: " worst" re-sent with the space before it.
            return first == " " and length > 1 and char_class(stripped[start + 1]) == WORD
        if start == 0:
            return True
        before = stripped[start - 1]
        if char_class(first) == WORD:
            if (
                first.isdigit()
                and before.isalpha()
                and length >= 2
                and stripped[start + 1].isdigit()
            ):
                return True  # a number inside a word ("p99" + "99 latency", "H100")
            return is_boundary(before, first)
        # Punctuation that opens a line or follows a space ("**Note", "| 2").
        return before.isspace()

    def _is_word_repeat(self, length: int, held: str, *, at_end: bool) -> bool | None:
        """Rule 2b for one candidate; ``None`` when more of ``held`` is needed to tell."""
        stripped = self._stripped
        text = stripped[len(stripped) - length :]
        core = text.strip()
        if not core:
            return False
        # Keeping a candidate that opens with a word character right after one
        # glues two words ("a a" + "a" must not give "a aa"), whatever follows.
        if char_class(stripped[-1]) != WORD or char_class(held[0]) != WORD:  # noqa: SIM102 (two reasons, two comments)
            # Keeping everything would not glue two words together ("yes yes" +
            # " yes, no"): in text that repeats itself there, keep it.
            if self._repeats_before(length):
                return False
        whole = is_boundary(stripped[-1], held[length]) if length < len(held) else at_end
        if text[0].isspace() and whole and sum(ch.isalnum() for ch in core) < _TOKEN_WORD_MIN:
            # A short word re-sent whole with its space (" I" + " I know", " ms" +
            # " ms,"), unless the continuation goes on repeating it: "ha" + " ha ha
            # ha" is the text's own run as often as a repeat; keeping loses nothing.
            after = held[length : length + len(text)]
            if len(after) < len(text) and not at_end:
                return None
            if after == text:
                return False
            if not any(ch.isalpha() for ch in core) and after[:1].isspace():
                # "[[1 0" + " 0 1]]", "XX 00" + " 00 XX": in a row of numbers or
                # bytes a number recurs by nature ("> 0" + " 0:" is a repeat).
                return False
        if text.endswith(ZWJ) and any(is_pictograph(ch) for ch in core):
            # The cut fell inside an emoji sequence ("- 👨\u200d" + "- 👨\u200d👩"): an
            # exact continuation goes on with the sequence's next emoji.
            return True
        letters = sum(ch.isalpha() for ch in core)
        digits = sum(ch.isdigit() for ch in core)
        if letters:
            # A word restarted from its first letter ("f" + "façade", "ag" +
            # "again"): an exact continuation would start with that letter only
            # for a word with a doubled first letter ("aardvark", "llama").
            return True
        if digits >= 2 and (letters or not has_table_cells(core)):
            return True  # numbers of two or more digits are words ("15,4" + "15,433")
        if (
            digits == 1
            and core[-1] in ".,"
            and length < len(held)
            and held[length].isdigit()
            and text.endswith(core)
        ):
            return True  # a number re-sent from its separator on ("0." + "0.4 ms"): not "0.0.4"
        # A lone digit only as the whole candidate and a whole word ("| 0" +
        # "0 |"): "0 | " + "0 | 0 |" is a table of zeros going on, and "4" +
        # "42" is as often the number 442.
        return digits == 1 and whole and len(core) == 1

    def _is_lone_in_word_repeat(self, length: int) -> bool:
        stripped = self._stripped
        text = stripped[len(stripped) - length :]
        if text[0].isspace() or not any(ch.isalnum() for ch in text):  # noqa: SIM102 (two reasons, two comments)
            if not ("\n" in text and text.strip()):
                return False  # ":\n    " + ":\n        if": a line repeated with its indentation
        line_end = text.find("\n")
        if (
            sum(not ch.isspace() for ch in text) < _IN_WORD_MIN
            and not (
                # The end of a word and the space the model saw after it ("per " +
                # "er month"): an exact continuation does not open with "er ".
                len(text) >= _IN_WORD_MIN
                and text[-1] == " "
                and sum(ch.isalpha() for ch in text) >= 2
                and text[:-1].isalpha()
            )
            and not (
                # The end of a line, its line break and the indentation the model
                # saw after it ("s:\n    " + "s:\n        if", "m)\n" + "m)\n\n    def"):
                # kept, the next line would open with the last one's end.
                len(text) >= _IN_WORD_MIN and line_end > 0 and text[:line_end].strip()
            )
        ):
            return False
        if self._repeats_before(length):
            return False
        if (line_end < 0 or "|" in text) and self._is_table_like(length):
            # (A line end in code, ":\n    ", recurs there by nature: no table run.)
            return False
        return not has_short_period(text, len(text))

    def _repeats_before(self, length: int) -> bool:
        """Whether the candidate's text also ends the committed text just before it.

        Then the text repeats itself there ("ha ha ha", "0000 0000", "that that"),
        and "the model repeated it" reads the same as "the model wrote more of
        it": the shorter reading, which loses nothing, wins.
        """
        stripped = self._stripped
        core = stripped[len(stripped) - length :].strip().casefold()
        before = stripped[: len(stripped) - length].rstrip().casefold()
        return bool(core) and before.endswith(core)
