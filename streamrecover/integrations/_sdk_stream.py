"""What the SDK reads: a recovered stream re-encoded as one provider-native stream.

:class:`SDKFeed` sits between a recovering stream's events and the bytes handed
to the SDK. It never hands over what a strategy could still roll back: text
waits in :class:`~streamrecover.observe.SafeText` (as ``text_stream`` does),
reasoning waits until the answer moves past it (only a restart from nothing
drops reasoning), and tool calls arrive whole from the session. Frames the
library does not interpret (:class:`~streamrecover.providers.encode.passthrough.Passthrough`)
keep their place relative to the text: they wait with it, go out just before
the text that followed them, and are dropped with text a rewind takes back. A rewind below
what the SDK already holds (a continuation that restarted and diverged) cannot
be honoured: the stream then ends with the provider's own error event rather
than show the SDK a duplicated or altered answer.
"""

from __future__ import annotations

from collections.abc import Callable

from streamrecover.core.events import (
    Completed,
    Event,
    Finished,
    ReasoningDelta,
    Resumed,
    Retrying,
    Rewind,
    TextDelta,
    ToolCallDelta,
)
from streamrecover.core.sse import ServerSentEvent
from streamrecover.observe import IMMEDIATE, SafeText
from streamrecover.providers.base import Provider, StreamParser
from streamrecover.providers.encode import Encoder
from streamrecover.providers.encode.passthrough import Passthrough, Tap

__all__ = ["SDKFeed", "StreamDiverged", "install_tap"]


def install_tap(provider: Provider, new_tap: Callable[[], Tap | None]) -> None:
    """Make every parser ``provider`` builds add the passed-through frames to its output.

    Each attempt's parser gets a fresh tap (see
    :mod:`streamrecover.providers.encode.passthrough`); the frames it keeps come
    out right after the content events of the same SSE event, so the session
    delivers them in their place.
    """
    build = provider.new_parser

    def new_parser(resume_from: StreamParser | None = None) -> StreamParser:
        parser = build(resume_from)
        tap = new_tap()
        if tap is None:
            return parser
        if not tap.passes_text_frames:
            # The session's text lane skips feed, and with it this tap.
            parser.lane_prefix = b""
            parser.lane_event = ""
        parse = parser.feed

        def feed(sse: ServerSentEvent) -> list[Event]:
            produced = parse(sse)
            kept = tap(sse, produced, parser)
            if not kept:
                return produced
            headers = [k for k in kept if k.header]
            return [*headers, *produced, *(k for k in kept if not k.header)]

        setattr(parser, "feed", feed)  # noqa: B010 - an instance attribute, this parser only
        return parser

    setattr(provider, "new_parser", new_parser)  # noqa: B010


class StreamDiverged(Exception):
    """A rewind would take back text the SDK already received."""


class SDKFeed:
    """Events in, provider-native bytes out (see the module docstring)."""

    def __init__(self, encoder: Encoder, safe_mode: str) -> None:
        self.encoder = encoder
        self._mode = safe_mode
        self._immediate = safe_mode in IMMEDIATE
        self._safe = SafeText(safe_mode)  # type: ignore[arg-type]
        #: Characters of text the SDK holds.
        self._shown = 0
        #: Characters of text received (rewinds applied): where a queued event stands.
        self._received = 0
        # Trailing whitespace of the safe text: a continuation's seam may still
        # rewrite it (a prefill is sent with trailing whitespace stripped).
        self._held = ""
        # Reasoning and passed-through frames, each with the text position it came
        # at: it goes out just before the text that followed it (or at the end).
        self._queue: list[tuple[int, Event]] = []
        # The session releases tool calls only as the answer completes: they wait
        # for Completed, so that text SafeText still holds goes out before them.
        self._tools: list[ToolCallDelta] = []
        #: The upstream gave its stop reason: what passes through now is a trailer.
        self._finished = False

    def feed(self, event: Event) -> bytes:
        """Return the bytes that became safe with ``event`` (often empty).

        Raises:
            StreamDiverged: ``event`` rewinds text the SDK already holds.
        """
        kind = type(event)
        if kind is TextDelta:
            text: str = event.text  # type: ignore[attr-defined]
            length = len(text)
            self._received += length
            if (
                self._immediate
                and not self._held
                and not self._queue
                and text[-1:] > " "
                and (text[-1].isascii() or not text[-1].isspace())
            ):
                # The common case, inline: safe at once (SafeText.feed of an
                # immediate mode), nothing held or queued, no trailing whitespace
                # (str.rstrip's whitespace is <= " " or non-ASCII).
                self._safe.shown += length
                self._shown += length
                return self.encoder.text(text)
            pending = self._safe.feed(event)
            if self._held:
                pending = self._held + pending
            body = pending.rstrip()
            if len(body) == len(pending):
                self._held = ""
                if not body:
                    return b""
                if not self._queue:
                    # The common case: no queued frame to interleave.
                    self._shown += len(body)
                    return self.encoder.text(body)
            else:
                self._held = pending[len(body) :]
            return self._release(body, final=False) if body else b""
        if kind is ReasoningDelta or kind is Passthrough:
            if kind is Passthrough:
                assert isinstance(event, Passthrough)
                if event.header:
                    return self.encoder.feed(event)
                if self._finished:
                    self.encoder.trailer(event)  # after the stop reason (a trailer)
                    return b""
            self._queue.append((self._received, event))
            return b""
        if kind is Rewind:
            assert isinstance(event, Rewind)
            self._rewind(event)
            return b""
        if kind is ToolCallDelta:
            assert isinstance(event, ToolCallDelta)
            self._tools.append(event)
            return b""
        if kind is Finished:
            self._finished = True
        elif kind is Retrying or kind is Resumed:
            self._finished = False  # a new attempt: its frames are not trailers
        elif kind is Completed:
            chunk = self._held + self._safe.feed(event)
            self._held = ""
            out = self._release(chunk, final=True)
            tools, self._tools = self._tools, []
            out += b"".join(self.encoder.feed(tool) for tool in tools)
            return out + self.encoder.feed(event)
        return self.encoder.feed(event)

    def _rewind(self, event: Rewind) -> None:
        if event.to < self._shown:
            raise StreamDiverged(
                f"a continuation rewrote {self._shown - event.to} characters already delivered"
            )
        restart = event.reasoning_to == 0
        # What followed text that is taken back goes with it; a restart from
        # nothing drops everything not yet delivered (it is regenerated).
        self._queue = [
            (position, queued)
            for position, queued in self._queue
            if not restart and (position <= event.to or type(queued) is ReasoningDelta)
        ]
        self._received = event.to
        if event.to < self._shown + len(self._held):
            # Into the held whitespace: what SafeText still holds goes too.
            self._held = self._held[: event.to - self._shown]
            self._safe = SafeText(self._mode, already_shown=event.to)  # type: ignore[arg-type]
        else:
            self._safe.feed(event)

    def _release(self, text: str, *, final: bool) -> bytes:
        """Encode ``text`` (the next safe text) with the queued events that came inside it."""
        start = self._shown
        end = start + len(text)
        self._shown = end
        if not self._queue:
            return self.encoder.text(text) if text else b""
        out = b""
        cursor = start
        kept: list[tuple[int, Event]] = []
        for position, queued in self._queue:
            if position >= end and not final:
                kept.append((position, queued))
                continue
            if position > cursor:
                out += self.encoder.text(text[cursor - start : position - start])
                cursor = position
            out += self.encoder.feed(queued)
        self._queue = kept
        if cursor < end:
            out += self.encoder.text(text[cursor - start :])
        return out

    def fail(self, message: str, error_type: str) -> bytes:
        """Return what ends the stream with the provider's error event."""
        return self.encoder.error(message, error_type)
