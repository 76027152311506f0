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

   **1b. Early restart** (:mod:`~streamrecover.core.earlyrestart`, in full with
   its ambiguities). Below ``restart_threshold``, a continuation that reproduces
   an opening found nowhere else in ``stripped`` for 8 characters (16 at a line
   or sentence end) and then diverges, longer than rule 2's overlap, is a
   restart, rewound the same way; so are shorter shapes: a heading or fence
   glued mid-line, the answer's first word glued to a word, a prose opening or
   a fence with an info string inside an open code block, the opening heading
   or table header written again after a line end, a paragraph opening like the
   answer right after a list item (8 characters), a fence closing an empty block.

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
     characters (``" I"`` + ``" I know"``) is removed unless the continuation
     goes on repeating it (``"ha"`` + ``" ha ha ha"``) or it is a number followed
     by a space (``"[[1 0"`` + ``" 0 1]]"``: in rows of numbers they recur). Not
     removed when the text already repeats the candidate just before it ("yes
     yes" + " yes") unless keeping it would glue two words ("ha ha" + "ha ha").
   * **2c. Lone in-word repeat.** Failing that, a lone candidate, not
     periodic, of three non-space characters with a letter or digit is removed
     (``"middle of answ"`` + ``"f answers"``), and so are a word's end with the
     space the model saw after it (``"per "`` + ``"er month"``) and a line's end
     with its line break and indentation; not a number's group written again
     (``"2024-06"`` + ``"-06, about"``) unless the number goes on (``"-06-01"``).
   * **2g. A repeat across a word boundary**
     (:mod:`~streamrecover.core.tailrepeats`). Failing that, the longest
     candidate, 3 characters longer than the next, that runs from the end of a
     word across a space into the next (``"(x_i -"`` + ``"i - \\bar"``) is removed,
     unless periodic, repeated just before it, or a run of table cells.
   * **2d. One or two letters inside a word**
     (:mod:`~streamrecover.core.shortrepeats`, where the rule is given in full
     with its ambiguities). The words the answer already wrote decide first,
     then English words (:mod:`~streamrecover.core.lexicon`) in an answer of
     mostly English words, guarded against names in code; failing both, two
     different letters are removed (``"tota"`` + ``"tal"``) and one letter that
     makes a doubled letter is kept (``"bal"`` + ``"loon"``).
   * **2e. Table rows** (:mod:`~streamrecover.core.tablerows`). Inside a
     markdown table row the stitcher holds the rest of the row; if the reading
     chosen so far breaks the table's shape (cells, ``|`` under the row above's
     in a padded table) and exactly one reading keeps it, that one wins
     (``"| 1    | 0"`` + ``"| 0     | 0.00  |"``).
   * **2f. A sentence mark re-sent.** When nothing else is removed, one of
     ``. , ; :`` ending a word, re-sent with a space after it, is removed
     (``"isn't."`` + ``". It's"``); not before a line end (reST's ``"::"``).
   * **2h. The line end re-sent after a prefill**
     (:mod:`~streamrecover.core.tailrepeats`). When nothing else is removed, a
     candidate the continuation follows with the line end the prefill stripped
     is removed (``"`retries`: 3"`` + ``" 3\\n- **File**"``).
   * **2i. A repeat that keeping would double** (:mod:`~streamrecover.core.doubling`).
     When nothing else is removed, a repeat of two characters outside a word
     that keeping would write twice in a row (``"2024-"`` + ``"4-01"``,
     ``"/var/"`` + ``"r/log"``, ``"results;\n"`` + ``";\n}"``, ``"。東"`` + ``"。東京"``)
     is removed, and so is one separator doubled between digits (``"Python 3."``
     + ``".12"``), an em dash after a space outside CJK text, a padded table
     row's ``|``. Not after a prefill that stripped a line end.
   * **2k. A re-sent token** (:mod:`~streamrecover.core.resenttokens`). When
     nothing else is removed, a 1-2 character repeat no exact continuation cut
     between tokens starts with, or that the script or markup never writes, is
     removed: digits after a number's last group of three (``"1532"`` + ``"2,"``),
     a Han character twice (``"关键"`` + ``"键在于"``), a closing backtick, a word's
     last letter with the space the model saw (``"If step "`` + ``"p 3"``), a
     numeric suffix or a version's group re-sent, a dotted name written before.
   * **2j. Dates and times** (:mod:`~streamrecover.core.numberformats`). Inside a
     number of a fixed-width format (dates, times, timestamps), of the readings
     of a 1-2 digit repeat the one with the shape of a number the answer
     already wrote wins (``"2024-11-02T10"`` + ``"0:15:06Z"``).
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

Residual ambiguity, by design: each rule's module lists the seams it cannot
decide, with examples and measured frequencies (mostly on the seam corpus,
``python benchmarks/bench_seams.py --in-process``, seed 11). Across modules:

* a space the model silently dropped where the cut fell just before it
  (``"the error rate"`` + ``"is 0.002"``) is restored only where the text says
  so (rule 3b): 89.5% exact on the main corpus, 92.2% on the holdout; left
  glued: Hangul, a unit not written before (``"3-5"`` + ``"ms"``), camelCase
  shapes (``"on"`` + ``"Windows"``), other languages, and where both readings
  are words (``"the"`` + ``"e."`` is "thee"). Conversely an exact continuation cut
  between two words that glue into one the list lacks gets a space (``"thread"``
  + ``"pool"``): 151 of 755,389 cuts between letters of real documentation, none in the scans;
* the text doubling a word at the cut, periodic text, a lone ``"_"`` re-sent
  token-style and a cut after a zero-width joiner: see
  :mod:`~streamrecover.core.overlap`;
* a table whose rows do not line up and have the same number of cells gives
  rule 2e nothing to read; scripts written without spaces (CJK) have no word
  starts inside a run, so there a repeat is removed after punctuation, from
  three characters, or as one Han character written twice (rule 2k: words that
  meet on one character, ``"今天"`` + ``"天气"``, lose it, 0.18% of real cuts).

Grapheme clusters are approximated (marks, ZWJ sequences, emoji modifiers,
tags, regional-indicator pairs, CR LF); Hangul jamo sequences are not
recognised.
"""

from __future__ import annotations

from streamrecover.core.droppedspace import may_restore, restore_space
from streamrecover.core.earlyrestart import is_early_restart, tracks_opening
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
        self._opening_tracked = self._restart_possible or tracks_opening(
            stripped, restart_threshold, min_overlap
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
