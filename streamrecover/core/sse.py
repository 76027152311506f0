"""Incremental Server-Sent Events decoder.

Follows the WHATWG HTML Living Standard, section 9.2.6 "Interpreting an event
stream" (https://html.spec.whatwg.org/multipage/server-sent-events.html
#event-stream-interpretation), with the decoding rules of 9.2.5 "Parsing an
event stream": UTF-8 decode with U+FFFD for invalid bytes, one leading BOM
ignored, and CRLF, lone LF and lone CR all ending a line.

The decoder is sans-IO: :meth:`SSEDecoder.feed` takes bytes and returns the
events they complete; ``feed(b"")`` is the end of the stream. Chunk boundaries
never change the result: a CRLF split across two chunks is one line end, a
multi-byte character split across two chunks decodes whole, and a BOM split
across chunks is still dropped.

What this module adds to the standard, for LLM streams:

* **Truncation signal.** The standard discards an unterminated event at the end
  of the stream, silently. The decoder discards it too, and sets
  :attr:`SSEDecoder.truncated` when the stream ended in the middle of something:
  an unterminated line (including an incomplete UTF-8 sequence), or ``data``
  lines not yet followed by the blank line that dispatches them. A stream that
  ends right after a blank line, or after field lines that would not dispatch an
  event anyway (``event:``, ``id:``, ``retry:``, comments), is not truncated.
* **Bounded memory.** A line longer than ``max_line_size`` characters, or an
  event whose data is longer than ``max_event_size`` characters, raises
  :class:`~streamrecover.core.errors.SSEProtocolError` instead of growing
  without end. Sizes count decoded characters (code points), so the memory held
  is at most four bytes per counted character plus Python's overhead.
* **Strict call order.** After ``feed(b"")`` any further call raises
  :class:`~streamrecover.core.errors.UsageError` (a wrong call order). After a
  :class:`~streamrecover.core.errors.SSEProtocolError` the decoder is failed and
  every further call raises ``SSEProtocolError`` again; events completed earlier
  in the failing call are not returned (the attempt is a fault as a whole).
"""

from __future__ import annotations

from streamrecover.core.sse_fastpaths import SSEChunkFeed
from streamrecover.core.sse_interpret import (
    DEFAULT_MAX_EVENT_SIZE,
    DEFAULT_MAX_LINE_SIZE,
    ServerSentEvent,
)

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "DEFAULT_MAX_LINE_SIZE", "SSEDecoder", "ServerSentEvent"]


class SSEDecoder(SSEChunkFeed):
    """Feed bytes in, get events out; ``feed(b"")`` is the end of the stream.

    Attributes for reconnecting (read-only):

    ``last_event_id``
        The event source's last event ID string: set from the ``id`` buffer at
        every blank line, as the standard says, so it is the value to send as
        ``Last-Event-ID`` when reconnecting. An ``id`` of an event that was never
        dispatched is not counted.
    ``retry``
        The last valid reconnection time in milliseconds, or None. A value of
        more than 4300 significant digits (Python's limit for ``int()``) is
        ignored like an invalid one.
    ``truncated``
        True once ``feed(b"")`` found the stream cut in the middle of a line or of
        an event's data (see the module docstring for the exact rule).
    """

    # The state's slots are SSELineInterpreter's; the decoding of a chunk and its
    # shortcuts are SSEChunkFeed's (core/sse_fastpaths.py), the interpretation of
    # complete lines SSELineInterpreter's (core/sse_interpret.py).
    __slots__ = ()

    @property
    def last_event_id(self) -> str:
        """The last event ID string (send it as ``Last-Event-ID`` on reconnect)."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid reconnection time from a ``retry`` field, in milliseconds."""
        return self._retry

    @property
    def truncated(self) -> bool:
        """Whether the stream ended in the middle of a line or of an event."""
        return self._truncated

    @property
    def max_line_size(self) -> int:
        """The cap on one line, in characters."""
        return self._max_line_size

    @property
    def max_event_size(self) -> int:
        """The cap on one event's data, in characters."""
        return self._max_event_size
