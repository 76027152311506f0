"""Remove the overlap between delivered text and the continuation that resumes it.

When a stream breaks after delivering the *committed* text, the engine asks the
model to continue it (with the text as an assistant prefill, trailing whitespace
stripped, or as an assistant turn plus "continue exactly where it stops"). The
continuation may start cleanly, repeat the tail of the committed text, re-emit
the whitespace that was stripped from the prefill, or start the answer again
from scratch. :class:`Stitcher` takes the continuation delta by delta and
releases only what extends the committed text.

Terms: ``committed = stripped + seam``, where ``seam`` is the trailing whitespace
of ``committed`` (what the prefill lost; ``seam_whitespace`` overrides it) and
``stripped`` is what the model saw. A *candidate* of length ``L`` is a suffix
``stripped[-L:]`` (``L <= window``, starting on a grapheme-cluster boundary)
with which the continuation starts.

Rules, in the order they are applied to the continuation ``X``:

1. **Restart.** Only when ``stripped`` has at least ``restart_threshold``
   characters and those first characters are not a short repeated pattern
   (no period shorter than ``min_overlap``). Let ``d`` be the length of the
   common prefix of ``X`` and ``stripped``. If ``d >= restart_threshold`` and
   ``d`` is longer than the overlap rule 2 would remove (or ``d`` covers all of
   ``stripped``), the continuation is a restart (``restarted = True``):

   * ``d == len(stripped)``: it reproduced the committed text; those
     characters are dropped, no rewind, and rule 3 applies to the rest;
   * otherwise it diverged at ``d``: ``rewind_to`` is ``d`` moved back to the
     start of its grapheme cluster, and the continuation from there on is
     released. Applying the rewind, the consumer's text is exactly ``X``.
     If the continuation ends while still a prefix of ``stripped``, it is
     rewound to where it ended.

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
     ``"Formatter"``, CamelCase), nor after whitespace or a line end;
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

2. **Overlap.** Take the candidates ``L1 > L2 > ... > Ln`` (and ``0``). Walking
   down from the longest, remove the first ``Li`` with ``Li - L(i+1) >=
   min_overlap`` (``L(n+1) = 0``), unless it is a single table cell without
   letters (``" 0     |"``: in a table of zeros the next cell looks the same) or a
   run of cells and numbers that occurs earlier in the text (a date or a quoted
   value written twice, ``"'2024-01-01'"``, is no such run).
   The gap to the next shorter candidate is the smallest period of the
   overlap text, so a long overlap made of a short repeated pattern
   (``"ha ha ha "``, ``"-----"``, ``"0000"``) cannot win. A candidate that
   starts two or more characters deep inside a line's indentation is no
   candidate: a repeated line carries its whole indentation, so ``"    }\n"``
   + ``"  }\n"`` is a shallower line closing the outer block (the last space
   of the indentation and a word, ``" return"``, is a token-style repeat).
   Otherwise:

   * **2b. Word repeat.** The *shortest candidate that starts a word* (a word
     character after a boundary, digits after letters as in ``"p99"``,
     punctuation after whitespace, or token-style a space before a word:
     ``" worst"`` + ``" worst moment"``) is removed
     when it holds a letter ("asks ag" + "again", "that" + "that it works",
     "f" + "façade"), or two or more digits of one number ("15,4" + "15,433",
     "p99" + "99 latency"; not digits spread over table cells, "0 |\n| 0 | 0 | "
     + "0 |\n| 0 | 0 | 1 |" is the table going on), or is one digit that is a
     whole cell ("| 0" + "0 |"), or one digit and its separator followed by a
     digit ("0." + "0.4 ms"). When several candidates start a word, the longest
     wins if it is neither periodic (a period at most half its length: "la la
     l"; a whole number of several groups may be: "2.2." + "2.2.2") nor
     repeated just before it, nor a table run (" the t" + " the table",
     not " t"). A token-style candidate that is a whole word of one or two
     characters (``" I"`` + ``" I know"``, ``" ms"`` + ``" ms,"``) is removed
     unless the continuation goes on repeating it (``"ha"`` + ``" ha ha ha"``:
     the text's own run reads the same, keeping it loses nothing; the stitcher
     holds the few characters needed to see it), or it is a number followed by
     a space (``"[[1 0"`` + ``" 0 1]]"``, ``"XX 00"`` + ``" 00 XX"``: in rows of
     numbers they recur; ``"> 0"`` + ``" 0:"`` is removed). Not removed when the text
     already repeats the candidate just before it ("yes yes" + " yes") unless
     keeping it would glue two words together ("ha ha" + "ha ha" must not give
     "haha").
   * **2c. Lone in-word repeat.** Failing that, a candidate that is the only
     one, not periodic, with at least three non-space characters including a
     letter or digit is removed: ``"middle of answ"`` + ``"f answers"``. So is
     the end of a word and the space the model saw after it (``"per "`` +
     ``"er month"``), and the end of a line with its line break and the
     indentation after it (``"items:\n    "`` + ``":\n        if"``, ``"m)\n"``
     + ``"m)\n\n    def"``: kept, the next line would open with the last one's
     end; ``":\n    "`` recurring in code is no table run). Not a number's
     group written again (``"2024-06"`` + ``"-06, about"`` is the 6th of June),
     unless the number goes on with the same separator (``"2024-06"`` +
     ``"-06-01"``: a date has three groups).
   * **2g. A repeat across a word boundary.** Failing that, the longest
     candidate, at least 3 characters longer than the next shorter one, that
     runs from the end of a word across a space into the next (``"(x_i -"`` +
     ``"i - \\bar"``, ``"reichen 2"`` + ``"n 2–3 MB"``, ``"time —"`` + ``"e —
     call"``, ``"Call `ca"`` + ``"all `call`"``) is removed, unless periodic,
     repeated just before it, or a run of table cells
     (:mod:`~streamrecover.core.tailrepeats`).
   * **2d. One or two letters inside a word**
     (:mod:`~streamrecover.core.shortrepeats`). The shortest candidate, of two
     different letters between letters, is removed (``"tota"`` + ``"tal"``:
     kept, the word would hold a doubled letter pair, "tatal"), and so is one
     letter whose keeping would write it three times (``"instal"`` + ``"ll"``,
     ``"goo"`` + ``"od"``), at a word's end too (``"seconds"`` + ``"ds"``). One
     letter that makes a doubled letter (``"bal"`` + ``"loon"``) is kept: a
     doubled letter is the word far more often. Not in numbers (``"0xdf"`` +
     ``"ff"``). The words the answer already wrote decide first: of the two
     readings of the word at the cut, the one written earlier wins (``"each
     choice ... each choic"`` + ``"ce"``; a one-letter reading only from six
     letters: ``"printed to"`` + ``"o)"`` is "too"). Then English words decide
     (:mod:`~streamrecover.core.lexicon`, SCOWL's words and the standard
     library's): when exactly one reading is a word, it wins, so ``"wha"`` +
     ``"atever"`` is "whatever", ``"key"`` + ``"y —"`` is "key", ``"three"`` +
     ``"ee days"`` is "three", and ``"ban"`` + ``"ana"`` stays "banana"; a word
     of three letters or fewer counts only if common (``"ac"`` + ``"c = 0"``
     stays "acc"). Removing needs an answer of mostly English words (not
     German, not CJK), a Latin word, and no sign of a name in code: ``_ . / \\
     @ $`` or a digit before the word, ``_ ( [`` after it, the cut inside a run
     of capitals (``"READ_COM"`` + ``"M"``, ``"vLL"`` + ``"LM"``); keeping needs
     none of that. Likewise a word's last letter re-sent with the line end or
     mark the model saw after it (``"index,"`` + ``"x, so"``, ``"import
     random\n"`` + ``"m\nimport"``) is removed in an English answer unless it is
     "a" or "I" (after a space it is kept: "the value of f", "for r in rows").
     Any repeat shorter than ``min_overlap`` inside a word is kept when the
     kept word was written before and the other not (``"the SSE decoder ...
     S"`` + ``"SE events"``), or when only the kept reading is a word (``"co"`` +
     ``"conut"`` is "coconut").
   * **2e. Table rows.** When the seam falls inside a markdown table row (a
     line opening with ``|`` under another), the stitcher holds the rest of the
     row and reads every candidate (and none) against the row above
     (:mod:`~streamrecover.core.tablerows`): same number of cells, and in a
     padded table every ``|`` under the row above's. If the reading chosen so
     far breaks the table's shape and exactly one reading keeps it, that one
     wins (``"| 1    | 0"`` + ``"| 0     | 0.00  |"``; the separator
     ``"|--------|------"`` + ``"--------|"``). Where rows repeat (a table of
     zeros), a letterless candidate across rows yields to a shorter one that
     fits the row: the shorter reading loses nothing.
   * **2f. A sentence mark re-sent.** When nothing else is removed, one of
     ``. , ; :`` that ends a word, re-sent with a space after it, is removed
     (``"isn't."`` + ``". It's"``, ``"days;"`` + ``"; Oslo"``), and so is the mark
     with the space the model saw after it (``"`timeout`: "`` + ``": 30"``); not
     before a line end (``"like this:"`` + ``":\n"`` is reST's ``"::"``), nor after
     a space or another mark (``"cd ."`` + ``". && ls"``, ``"Wait.."`` + ``". "``).
   * **2h. The line end re-sent after a prefill.** When nothing else is removed
     and the prefill stripped a line end, a candidate that the continuation
     follows with that same line end is removed (``"`retries`: 3"`` + ``"
     3\\n- **File**"``, ``"`: 3\\n- **File**"``): an exact continuation opens with
     the line end. Not a table row's end (rule 2e reads rows), nor periodic
     text or text repeated just before it.
   * Otherwise nothing is removed.

3. **Seam whitespace** (:mod:`~streamrecover.core.seamspace`). Of what follows
   the removed overlap, the leading whitespace loses ``seam`` when it starts
   with it (the model re-emitted what the prefill stripped); otherwise it is
   dropped, except newlines beyond those in ``seam`` (with the indentation
   after them). So for ``"Hello world. "``, both ``" Next"`` and ``"Next"``
   release ``"Next"``. A combining mark (or another grapheme extender) right
   after the overlap, with ``seam`` not empty, belongs to the last character
   of ``stripped``: ``rewind_to = len(stripped)``, released in place.

   **3b. A dropped space** (:mod:`~streamrecover.core.droppedspace`). With no
   seam and nothing removed, a continuation glued on where the evidence says
   the model dropped the space the cut fell before gets it back (``"go"`` +
   ``"missing"``; not ``"note"`` + ``"book"``): ``space_restored`` is set. The
   continuation is held until its first word is complete.

Holding. The stitcher holds continuation characters only while they are still
a substring of the committed tail (some candidate may still complete, or the
character after a complete one is needed), while they are still a prefix of
the opening shorter than ``restart_threshold``, or while they are whitespace
that rule 3 has not settled. It never holds more than ``window`` characters
between calls; once decided, :meth:`Stitcher.feed` returns its argument
unchanged. Every decision is taken at a point fixed by the characters, never
by how they were split into deltas, so any chunking releases the same text.

Whitespace the model saw. With ``seam_whitespace=""`` (no prefill: the
model saw the committed text whole) nothing is stripped, and whitespace the
continuation writes after the cut is kept: ``"def f():\n"`` + ``"    return 1"``.

Residual ambiguity, by design. Frequencies measured on the project's seam
corpus (``python benchmarks/bench_seams.py --in-process``, seed 11, 1,113 seams
x 4 providers; benchmarks/README.md "Seams") unless said otherwise:

* a space the model silently dropped where the cut fell just before it
  (``"the error rate"`` + ``"is 0.002"``) is restored only where the text says
  so (rule 3b): 116 of 152 exact (84.3% on the holdout corpus); left glued:
  Hangul, units (``"3-5"`` + ``"ms"``), ``"p99"`` + ``"latency"``, words the
  list lacks, other languages, and where both readings are words (``"the"`` +
  ``"e."`` is "thee"). Conversely an exact continuation cut between two words
  that glue into one the list lacks gets a space (``"thread"`` + ``"pool"``):
  130 of 758,740 cuts between letters of real documentation, none in the scans;
* one or two letters repeated inside a word where both readings are words
  (``"in"`` + ``"n lockstep"``: "inn"; ``"The"`` + ``"e p95"``: "Thee";
  ``"but"`` + ``"t Ops"``), or neither (``"Kö"`` + ``"öln"``, names and words
  the lexicon lacks), or in code, numbers, CJK or another language, are read
  without words: one letter that makes a doubled letter is kept (duplicated),
  two are removed. "Repeats 1-2 characters inside a word": 93.8% exact on the
  corpus (4 of 40 one-letter repeats duplicated; 50.0% before the lexicon),
  65.6% on the holdout corpus (34.6% before), whose misses are mostly numbers
  (``"2024-"`` + ``"4-01"``), code and CJK: 86.5% exact on its cuts inside
  words, before a space or a mark. A repeat whose continuation word is just a
  short word (``"I like pizza"`` + ``"a lot"``) is kept, and the space the
  model dropped before it restored (rule 3b). Conversely an exact continuation is altered when
  the word is unknown to the lexicon and its shorter reading a word (names:
  ``"Jan"`` + ``"ne"`` gives "Jane"; ``"x-co"`` + ``"ord"``; typos written on
  purpose), or when a cut in the middle of a doubled letter pair reads both
  ways (``"need"`` + ``"ed"``): of 52,335 exact continuations cut between
  repeated letters in the standard library's modules and this project's
  READMEs, 333 are altered (500 before the lexicon, 8 of the 333 new: names,
  typos, ``"rediss://"``); of 43,482 in prose the lexicon was not built from
  (Rust's release notes, pyenv's documentation, IDLE's news, licences), 356
  (420 before; new: the names "LoongArch", "InnoSetup");
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
* the text itself doubling a word at the cut (``"She said that "`` + ``"that was
  fine"``, ``"What it is "`` + ``" is unclear"``) is read as a repeat and loses
  the second word (no such seam in the corpus);
* periodic text: across a short period at the seam ("ha ha ha", "la la la",
  "0000 0000", "Yes yes yes") the number of periods repeated cannot be told; the
  reading that loses nothing wins, so such seams may be duplicated by a few
  periods (42 of the 72 remaining failures outside the two behaviours above);
* a lone ``"_"`` re-sent token-style (``"def _"`` + ``" __init__"``) is kept;
* a restart that diverges within 8 characters, or within 16 at a sentence or
  line end (``"run:\n\n"`` + ``"To install, use pip"``, ``"old one.\n"`` + ``"To
  rotate keys:"``), is duplicated, not rewound: a list or a parallel sentence
  may open a line the way the answer opened, and a continuation may open with
  a chatty preamble like the answer's (``"Sure! Here is the list: ..."`` +
  ``"Sure! Here is more:"``: 8 characters after a single line end were tried
  and rejected, they rewound that preamble and 4 of 311,546 line-start cuts of
  hard-wrapped documentation). "Restarts the answer and diverges early": 98.1%
  exact; 94.4% on the holdout corpus, whose restarts often share under 8
  characters, "Here is" / "Here's", or reopen a code block after a closed one
  (``"```\n\n"`` + ``"```\n2024-11-02 10:15"``); 96.2% and 91.3% before the
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
* a table whose rows do not line up and have the same number of cells gives
  rule 2e nothing to read; scripts written without spaces (CJK) have no word
  starts inside a run, so there a repeat is removed after punctuation or from
  three characters.

Grapheme clusters are approximated (marks, ZWJ sequences, emoji modifiers,
tags, regional-indicator pairs, CR LF); Hangul jamo sequences are not
recognised.
"""

from __future__ import annotations

from streamrecover.core.droppedspace import may_restore, restore_space
from streamrecover.core.earlyrestart import EARLY_RESTART_MIN, is_early_restart
from streamrecover.core.errors import UsageError
from streamrecover.core.overlap import HOLD, OverlapChooser
from streamrecover.core.seamspace import seam_cut
from streamrecover.core.textshape import (
    common_prefix_length,
    has_short_period,
    is_cluster_start,
    is_extender,
)

__all__ = ["Stitcher"]

# States of a Stitcher.
_UNDECIDED = 0  # holding: the continuation may still be overlap or a restart
_TRACKING = 1  # a restart is certain; following it through the committed text
_SEAM = 2  # the overlap is known; settling the whitespace at the seam
_PASSING = 3  # decided; every delta passes through unchanged
_FINISHED = 4


class Stitcher:
    """Stitch a continuation onto committed text, removing what it repeats.

    The rules are in the module docstring. Typical use by the engine::

        stitcher = Stitcher(committed)
        for delta in continuation:
            released = stitcher.feed(delta)
            if stitcher.rewind_to is not None:   # set once, by the deciding call
                emit(Rewind(to=stitcher.rewind_to)); stitcher.rewind_to = None
            if released:
                emit(TextDelta(text=released))
        released = stitcher.finish()   # then the same two checks

    A continuation that breaks before its end is abandoned, not finished: what
    the stitcher held was never delivered, and the next attempt resumes from
    what the consumer has.

    Outcome attributes, final once :attr:`decided` is true:

    ``overlap``
        characters of the continuation dropped (not released).
    ``restarted``
        the continuation started the answer again (rule 1), or its removed
        overlap was the whole committed text.
    ``rewind_to``
        ``None``, or the length the consumer's text must be cut back to before
        the text released by the deciding call is appended. The engine may
        reset it to ``None`` once it has emitted the ``Rewind``.
    ``space_restored``
        a space the model dropped was released before the continuation (rule 3b).
    """

    __slots__ = (
        "_chooser",
        "_held",
        "_opening_tracked",
        "_probe",
        "_restart_matched",
        "_restart_possible",
        "_restart_threshold",
        "_seam",
        "_space",
        "_state",
        "_stripped",
        "_tail_start",
        "_tracked",
        "_window",
        "overlap",
        "restarted",
        "rewind_to",
        "space_restored",
    )

    def __init__(
        self,
        committed: str,
        *,
        window: int = 2000,
        min_overlap: int = 8,
        restart_threshold: int = 32,
        seam_whitespace: str | None = None,
    ) -> None:
        """Prepare to stitch a continuation onto ``committed``.

        Args:
            committed: the text the consumer already has.
            window: the longest overlap examined, in characters; also the most
                the stitcher holds back between calls.
            min_overlap: an overlap at least this long (and not a short repeated
                pattern) is removed whatever its boundaries; shorter ones only
                when they are whole words (rule 2).
            restart_threshold: how many characters of the opening a continuation
                must reproduce to count as a restart (rule 1).
            seam_whitespace: the whitespace cut off the end of ``committed`` when
                it was sent as a prefill. Default: all its trailing whitespace.
                Pass ``""`` when the model saw ``committed`` whole.

        Raises:
            UsageError: unless ``1 <= min_overlap <= restart_threshold <= window``,
                or when ``seam_whitespace`` is not whitespace ending ``committed``.
        """
        if not 1 <= min_overlap <= restart_threshold <= window:
            raise UsageError(
                "need 1 <= min_overlap <= restart_threshold <= window, got "
                f"min_overlap={min_overlap}, restart_threshold={restart_threshold}, "
                f"window={window}"
            )
        if seam_whitespace is None:
            stripped = committed.rstrip()
        elif committed.endswith(seam_whitespace) and not seam_whitespace.strip():
            stripped = committed[: len(committed) - len(seam_whitespace)]
        else:
            raise UsageError("seam_whitespace must be whitespace that ends the committed text")
        self._stripped = stripped
        # Only the first ``window`` characters of the seam are matched, so that
        # holding stays bounded (and chunking-independent) for absurd seams.
        self._seam = committed[len(stripped) :][:window]
        # Rule 3b: with no seam, a space the model dropped may be restored.
        self._space = not self._seam and may_restore(stripped)
        self._window = window
        self._restart_threshold = restart_threshold
        self._tail_start = max(0, len(stripped) - window)
        self._chooser = OverlapChooser(
            stripped,
            self._seam,
            tail_start=self._tail_start,
            min_overlap=min_overlap,
            window=window,
        )
        self._restart_possible = len(stripped) >= restart_threshold and not has_short_period(
            stripped[:restart_threshold], min_overlap
        )
        self._opening_tracked = self._restart_possible or (
            len(stripped) > EARLY_RESTART_MIN
            and not has_short_period(stripped[:restart_threshold], min_overlap)
        )
        self._held = ""
        # Leftmost position (in the tail) where the held text occurs; -1: nowhere.
        self._probe = self._tail_start if stripped else -1
        # Length of the common prefix of the held text and ``stripped``.
        self._restart_matched = 0
        self._tracked = 0
        self.overlap = 0
        self.restarted = False
        self.space_restored = False
        self.rewind_to: int | None = None
        if stripped:
            self._state = _UNDECIDED
        elif self._seam:
            self._state = _SEAM
        else:
            self._state = _PASSING

    @property
    def decided(self) -> bool:
        """Whether the outcome is known and :meth:`feed` has become a pass-through."""
        return self._state >= _PASSING

    @property
    def held(self) -> int:
        """How many continuation characters are held back, neither released nor dropped."""
        return len(self._held)

    def feed(self, text: str) -> str:
        """Take the next delta of the continuation.

        Returns:
            The text that may be released to the consumer now (possibly empty).
            If this call decides a rewind, :attr:`rewind_to` is set and the
            returned text goes after the rewound text.

        Raises:
            UsageError: after :meth:`finish`.
        """
        if self._state == _PASSING:  # the hot path once decided
            return text
        if not text:
            if self._state == _FINISHED:
                raise UsageError("feed() called after finish()")
            return ""
        if self._state == _UNDECIDED:
            return self._feed_undecided(text)
        if self._state == _TRACKING:
            return self._feed_tracking(text)
        if self._state == _SEAM:
            return self._feed_seam(text, at_end=False)
        raise UsageError("feed() called after finish()")

    def finish(self) -> str:
        """The continuation ended: decide with what was held and release the rest.

        Returns:
            The text still to release (possibly empty). Calling it again
            returns ``""``.
        """
        state = self._state
        if state == _UNDECIDED:
            released = self._decide(self._held, at_end=True)
        elif state == _TRACKING:
            released = self._rewind_restart(self._tracked, "")
        elif state == _SEAM:
            released = self._feed_seam("", at_end=True)
        else:
            released = ""
        self._state = _FINISHED
        return released

    # -- undecided: candidates and restart alignment --------------------------------

    def _feed_undecided(self, text: str) -> str:
        stripped = self._stripped
        consumed = len(self._held)
        held = self._held + text
        if self._opening_tracked and self._restart_matched == consumed:
            self._restart_matched = consumed + common_prefix_length(text, stripped, consumed)
        probe = self._probe
        # The leftmost occurrence of a longer text is never left of a shorter
        # one's, so the search resumes where the last one stood: O(window) per
        # decision overall in the usual case, and never worse than one find per call.
        if probe >= 0 and not stripped.startswith(text, probe + consumed):
            probe = stripped.find(held, probe + 1)
            self._probe = probe
        if probe >= 0:
            # Still inside the committed tail: a candidate may complete, or the
            # character after a complete one decides whether it is a whole word.
            self._held = held
            return ""
        if self._restart_possible and self._restart_matched == len(held):
            # Still a prefix of the opening: no candidate is left, so a restart
            # (if it becomes one) is longer than any overlap.
            if len(held) < self._restart_threshold:
                self._held = held
                return ""
            self.restarted = True
            self._held = ""
            if len(held) == len(self._stripped):
                return self._begin_seam(len(held), "", at_end=False)
            self._tracked = len(held)
            self._state = _TRACKING
            return ""
        return self._decide(held, at_end=False)

    def _decide(self, held: str, *, at_end: bool) -> str:
        """Apply rules 1 and 2 to everything held (and rule 3 through the seam)."""
        overlap = self._chooser.choose(held, at_end=at_end)
        if overlap == HOLD:
            # A rule needs a few more characters of the continuation to decide.
            self._held = held
            return ""
        self._held = ""
        matched = self._restart_matched
        stripped_length = len(self._stripped)
        if matched >= self._restart_threshold and (matched > overlap or matched == stripped_length):
            self.restarted = True
            if matched == stripped_length:
                return self._begin_seam(matched, held[matched:], at_end=at_end)
            return self._rewind_restart(matched, held[matched:])
        if matched > overlap:
            early = is_early_restart(self._stripped, self._seam, matched, held, at_end=at_end)
            if early is None and len(held) < self._window:
                self._held = held  # the rest of the line tells (rule 1b)
                return ""
            if early:
                self.restarted = True
                return self._rewind_restart(matched, held[matched:])
        self.restarted = overlap > 0 and overlap == stripped_length
        return self._begin_seam(overlap, held[overlap:], at_end=at_end)

    # -- restart ------------------------------------------------------------------------

    def _feed_tracking(self, text: str) -> str:
        stripped = self._stripped
        position = self._tracked
        matched = common_prefix_length(text, stripped, position)
        reached = position + matched
        if reached == len(stripped):
            return self._begin_seam(reached, text[matched:], at_end=False)
        if matched == len(text):
            self._tracked = reached
            return ""
        return self._rewind_restart(reached, text[matched:])

    def _rewind_restart(self, diverged: int, rest: str) -> str:
        """The restart left the committed text at ``diverged``: rewind there."""
        stripped = self._stripped
        point = diverged
        # Never rewind into the middle of a cluster: a different accent on the
        # same base letter re-sends the base letter.
        while point > 0 and not is_cluster_start(stripped, point):
            point -= 1
        self.rewind_to = point
        self.overlap = point
        self._state = _PASSING
        return stripped[point:diverged] + rest

    # -- seam whitespace (rule 3) --------------------------------------------------

    def _begin_seam(self, overlap: int, rest: str, *, at_end: bool) -> str:
        self.overlap = overlap
        self._held = ""
        if not self._seam and not (self._space and overlap == 0):
            self._state = _PASSING
            return rest
        self._state = _SEAM
        return self._feed_seam(rest, at_end=at_end)

    def _feed_seam(self, text: str, *, at_end: bool) -> str:
        pending = self._held + text
        if not pending:
            if at_end:
                self._state = _PASSING
            return ""
        if not self._seam:  # rule 3b (core/droppedspace.py)
            restored = restore_space(self._stripped, pending, at_end=at_end)
            self._held = pending if restored is None else ""
            self._state = _SEAM if restored is None else _PASSING
            self.space_restored = restored is not None and len(restored) > len(pending)
            return restored or ""
        if is_extender(pending[0]):
            # The mark belongs to the last character the model saw; the seam
            # whitespace the consumer has would separate them.
            self._held = ""
            self._state = _PASSING
            self.rewind_to = len(self._stripped)
            return pending
        cut = seam_cut(pending, self._seam, window=self._window, at_end=at_end)
        if cut is None:
            self._held = pending
            return ""
        self._held = ""
        self._state = _PASSING
        self.overlap += cut
        return pending[cut:]
