"""Text frames read by their one varying string, without decoding the whole frame.

The frames of a long answer are byte-identical except for the text: every
Anthropic ``content_block_delta`` of one block is
``{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"…"}}``,
every OpenAI chunk repeats its ``id``, ``created``, ``model``... around
``"content":"…"`` (and, on the OpenAI API, an ``"obfuscation":"…"`` padding
string that changes every time). A :class:`TextTemplate` learns, from the
last frame the parser decoded in full and found to be a plain text delta, the
bytes before the text's JSON string (``head``), after it (``tail``), and, if
asked, around one string the parser ignores (``middle``). A new frame that
repeats ``head`` and ``tail`` exactly, with one JSON string in each hole and
nothing else, is read by decoding only that string (``json``'s own string
scanner, the one ``json.loads`` runs, strict as it is); anything else is a
miss, and the parser takes its full path.

Why a match is exact. JSON strings are delimited by unescaped quotes, so a
hole that the scanner closes exactly where the next learnt piece begins holds
one string token, whatever its content; the frame is then the learnt frame's
tokens with other strings in the holes: the same structure, the same values
except those strings. The holes are found by a key marker (``"text":"``),
which in valid JSON always opens a value; which field a hole feeds is then
proved once per template before it is first used: a probe (the learnt pieces
with sentinel strings in the holes) goes through the parser's own
classification, which must give back the text hole's sentinel. Its
checks are on types, presence and ``None``, never on the content of a string
other than the text's emptiness, so what held for the sentinels holds for every
string.
"""

from __future__ import annotations

import json.decoder
from collections.abc import Callable

__all__ = ["TextTemplate"]

# Control characters JSON must escape: no real text or padding looks like them.
_TEXT_SENTINEL = "\\u0000\\u0001"
_IGNORED_SENTINEL = "\\u0002\\u0003"
_TEXT_SENTINEL_VALUE = "\x00\x01"
_NOTHING: tuple[str, int] = ("", -1)
# The string scanner json.loads runs (C when available), strict as json.loads is:
# (text, index after the closing quote) of the string that opens at the index given.
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class TextTemplate:
    """One learnt text-frame shape (see the module docstring).

    Args:
        text_marker: what precedes the text's JSON string, its opening quote
            included (``'"text":"'``).
        classify: the parser's own test of a decoded-from-scratch frame: the
            text it would emit for ``data`` when ``data`` is a plain text delta,
            else None (malformed JSON included). It must not change any state.
        ignored_marker: what precedes a string that may change from frame to
            frame and that ``classify`` never reads (``'"obfuscation":"'``), or "".
    """

    __slots__ = (
        "_classify",
        "_framed_head",
        "_framed_start",
        "_framed_tail",
        "_framing",
        "_head",
        "_ignored_marker",
        "_middle",
        "_start",
        "_tail",
        "_tail_length",
        "_text_marker",
        "_verified",
    )

    def __init__(
        self,
        text_marker: str,
        classify: Callable[[str], str | None],
        ignored_marker: str = "",
        framing: str = "",
    ) -> None:
        self._text_marker = text_marker
        self._ignored_marker = ignored_marker
        self._classify = classify
        self._framing = framing
        # No template yet: a head that no frame can start with.
        self._head = "\x00no template"
        self._start = len(self._head)
        self._middle = ""
        self._tail = ""
        self._tail_length = 0
        self._verified = False
        self._frame_reads()

    def match(self, data: str) -> str | None:
        """Return the text of ``data`` if it is the learnt frame with other strings, else None."""
        if not data.startswith(self._head):
            return None
        try:
            text, end = _scanstring(data, self._start)
            middle = self._middle
            if middle:
                if not data.startswith(middle, end):
                    return None
                _, end = _scanstring(data, end + len(middle))
        except ValueError:  # not one valid string there: the full path says what it is
            return None
        if len(data) - end != self._tail_length or not data.startswith(self._tail, end):
            return None
        if not self._verified and not self._verify():
            return None
        return text

    def match_read(self, read: str) -> str | None:
        """Return the text of ``read`` if it is one whole SSE event whose data :meth:`match` reads.

        ``read`` must be the ``framing`` given to the constructor (``"data: "``,
        or an ``event:`` line and ``"data: "``), a frame :meth:`match` gives a
        text for, and a blank line (``"\\n\\n"``); else None. A frame that holds
        a CR or LF outside its strings never matches (the learnt pieces are
        checked once; a JSON string holds none), so such a ``read`` is exactly one
        event with that data, whatever decoder reads it.
        """
        if not read.startswith(self._framed_head):
            return None
        try:
            text, end = _scanstring(read, self._framed_start)
            middle = self._middle
            if middle:
                if not read.startswith(middle, end):
                    return None
                _, end = _scanstring(read, end + len(middle))
        except ValueError:
            return None
        tail = self._framed_tail
        if len(read) - end != len(tail) or not read.startswith(tail, end):
            return None
        if not self._verified and not self._verify():
            return None
        return text

    def _frame_reads(self) -> None:
        # The pieces of match_read: the framing and learnt head, the learnt tail
        # and the blank line; none when a piece holds a line end (the SSE
        # decoder would cut the event there) or the template has no framing.
        pieces = self._head + self._middle + self._tail
        if not self._framing or "\n" in pieces or "\r" in pieces:
            # A lone surrogate: no strictly decoded read starts with it.
            self._framed_head = "\ud800"
            self._framed_tail = ""
        else:
            self._framed_head = self._framing + self._head
            self._framed_tail = self._tail + "\n\n"
        self._framed_start = len(self._framed_head)

    def learn(self, data: str, text: str) -> None:
        """Remember ``data``, a frame the parser decoded in full and read as text ``text``."""
        start = data.rfind(self._text_marker)
        if start < 0:
            return self._forget()
        start += len(self._text_marker)
        value, end = self._string_at(data, start)
        if value != text or end < 0:
            return self._forget()
        middle = ""
        tail_start = end
        if self._ignored_marker:
            found = data.find(self._ignored_marker, end)
            if found >= 0:
                hole = found + len(self._ignored_marker)
                _, ignored_end = self._string_at(data, hole)
                if ignored_end < 0:
                    return self._forget()
                middle = data[end:hole]
                tail_start = ignored_end
        self._head = data[:start]
        self._start = start
        self._middle = middle
        self._tail = data[tail_start:]
        self._tail_length = len(data) - tail_start
        self._verified = False
        self._frame_reads()
        return None

    def _verify(self) -> bool:
        # Once per template, before its first use: which field the text hole
        # feeds, proved on sentinels by the parser's own classification.
        probe = self._head + _TEXT_SENTINEL + '"'
        if self._middle:
            probe += self._middle + _IGNORED_SENTINEL + '"'
        probe += self._tail
        if self._classify(probe) != _TEXT_SENTINEL_VALUE:
            self._forget()
            return False
        self._verified = True
        return True

    @staticmethod
    def _string_at(data: str, start: int) -> tuple[str, int]:
        try:
            return _scanstring(data, start)
        except ValueError:
            return _NOTHING

    def _forget(self) -> None:
        self._head = "\x00no template"
        self._start = len(self._head)
        self._middle = ""
        self._tail = ""
        self._tail_length = 0
        self._verified = False
        self._frame_reads()
