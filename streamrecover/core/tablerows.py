"""The layout of a markdown table row being written: which seams keep the table's shape.

A seam that falls inside a table row is read against the row above it: the
cells of a row are separated by ``|`` at the same places as the rows before it
when the table is padded (``"| 1    | 0     | 0.00  |"``), and a row has as
many cells as the row above it in any table. Of the readings of a seam (keep
the continuation whole, or drop one of the candidate overlaps), the one whose
row has the table's shape is the right one: ``"| 1    | 0"`` + ``"| 0     |
0.00  |"`` is a repeated ``"| 0"`` (kept, the row would gain a cell), and
``"|--------|------"`` + ``"--------|"`` repeats four dashes (the separator
row must end under the header's ``|``). Pure functions, no state.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TableRow", "table_row_after", "table_row_at_end"]


def _pipes(line: str) -> tuple[int, ...]:
    return tuple(index for index, ch in enumerate(line) if ch == "|")


def _is_row(line: str) -> bool:
    return line.lstrip(" ").startswith("|")


@dataclass(frozen=True, slots=True)
class TableRow:
    """The table row that ``text`` ends inside, and the shape it must take."""

    #: What of the row is already written (from its line start).
    written: str
    #: Where the row above has its ``|`` (offsets from the line start).
    reference: tuple[int, ...]
    #: Whether the table is padded: every ``|`` at the same offset in each row.
    aligned: bool
    #: Whether the row is a new one, after a row that ended (the table may end too).
    new_row: bool = False

    def fits(self, rest: str, *, complete: bool) -> bool:
        """Whether the row ``written + rest`` has the table's shape.

        Args:
            rest: what the continuation writes of the row (up to its line end).
            complete: whether the row ends there (a line end followed), or may go on.
        """
        if self.new_row and not _is_row(rest):
            # A line without "|" ends the table; one with a "|" inside is a broken row.
            return "|" not in rest
        pipes = _pipes(self.written + rest)
        reference = self.reference
        if self.aligned:
            return pipes == reference if complete else reference[: len(pipes)] == pipes
        return len(pipes) == len(reference) if complete else len(pipes) <= len(reference)


def table_row_at_end(text: str) -> TableRow | None:
    """The table row ``text`` ends inside, or ``None`` when it does not end in one.

    A row is a line that opens with ``|`` under another such line. The table
    counts as padded when the rows above agree on where their ``|`` stand and
    what is written of this row agrees with them.
    """
    start = text.rfind("\n") + 1
    written = text[start:]
    if not start or not _is_row(written):
        return None
    above_start = text.rfind("\n", 0, start - 1) + 1
    above = text[above_start : start - 1]
    if not _is_row(above):
        return None
    reference = _pipes(above)
    aligned = reference[: len(_pipes(written))] == _pipes(written)
    if aligned and above_start:
        higher = text[text.rfind("\n", 0, above_start - 1) + 1 : above_start - 1]
        if _is_row(higher):
            aligned = _pipes(higher) == reference
    return TableRow(written=written, reference=reference, aligned=aligned)


def table_row_after(text: str) -> TableRow | None:
    """The row that follows ``text`` when ``text`` ends a table row, or ``None``.

    For a seam whose line end was cut off by a prefill: the continuation opens the
    next row (or ends the table), read against the row ``text`` ends with.
    """
    start = text.rfind("\n") + 1
    last = text[start:]
    if not _is_row(last) or not start:
        return None
    above = text[text.rfind("\n", 0, start - 1) + 1 : start - 1]
    if not _is_row(above):
        return None
    reference = _pipes(last)
    return TableRow(
        written="", reference=reference, aligned=_pipes(above) == reference, new_row=True
    )
