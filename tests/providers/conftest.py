"""Shared helpers of the provider tests: golden SSE transcripts and their events."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from streamrecover.core.sse import ServerSentEvent

TRANSCRIPTS = Path(__file__).parent / "transcripts"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def events_from_transcript(raw: bytes) -> list[ServerSentEvent]:
    """Return the events a WHATWG event-stream parser dispatches for ``raw``.

    A deliberately small splitter (WHATWG HTML 9.2.6, "interpreting an event
    stream") so that the provider tests do not depend on the real decoder:
    lines end in CRLF, LF or CR; ``:`` lines are comments; ``field: value``
    with one leading space removed; a blank line dispatches the event when
    its data is non-empty; the last event ID persists across events; a final
    line or event that the stream does not terminate is never dispatched
    (a truncated stream loses it).
    """
    text = raw.decode("utf-8")
    text = text.removeprefix("\ufeff")
    lines = _LINE_BREAK.split(text)[:-1]  # what follows the last line break is unterminated
    events: list[ServerSentEvent] = []
    event_type = ""
    data: list[str] = []
    last_event_id = ""
    retry: int | None = None
    for line in lines:
        if not line:
            if data:
                events.append(
                    ServerSentEvent(
                        event=event_type or "message",
                        data="\n".join(data),
                        id=last_event_id,
                        retry=retry,
                    )
                )
            event_type, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            event_type = value
        elif field == "data":
            data.append(value)
        elif field == "id" and "\0" not in value:
            last_event_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
    return events


def load_transcript(relative: str) -> list[ServerSentEvent]:
    """Return the events of the transcript file ``transcripts/<relative>``."""
    return events_from_transcript((TRANSCRIPTS / relative).read_bytes())


@pytest.fixture
def transcript() -> Callable[[str], list[ServerSentEvent]]:
    """The transcript loader, for tests: ``transcript("anthropic/text.sse")``."""
    return load_transcript


@pytest.fixture
def decode_transcript() -> Callable[[bytes], list[ServerSentEvent]]:
    """:func:`events_from_transcript`, for tests of raw bytes."""
    return events_from_transcript
