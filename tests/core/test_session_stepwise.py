"""queue_data + next_events: one SSE event at a time, the same events as receive_data.

The clients feed a whole socket read (many SSE events) with ``queue_data`` and
take the events one SSE event at a time, so that a consumer that stops between
two events leaves the session's committed text exactly at what it was handed.
"""

from __future__ import annotations

import itertools
import random

import pytest
from _frames import BODIES, SSE_HEADERS, Tool, error_frame, frames
from hypothesis import given, settings
from hypothesis import strategies as st

from streamrecover.core.errors import TransportError, UsageError
from streamrecover.core.events import Event, Retrying, TextDelta
from streamrecover.core.session import RecoverySession, SessionState
from streamrecover.providers import get_provider

DELTAS = ["Hel", "lo, ", "wörld", " 🙂", "\n\nand", " more."]


def make(name: str) -> RecoverySession:
    session = RecoverySession(get_provider(name), BODIES[name], rng=random.Random(0))
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    return session


def stepwise(session: RecoverySession, pieces: list[bytes]) -> list[list[Event]]:
    steps: list[list[Event]] = []
    for piece in [*pieces, b""]:
        session.queue_data(piece)
        while (events := session.next_events()) is not None:
            steps.append(events)
        if session.state is not SessionState.STREAMING:
            break
    return steps


def whole(session: RecoverySession, pieces: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for piece in [*pieces, b""]:
        events += session.receive_data(piece)
        if session.state is not SessionState.STREAMING:
            break
    return events


def comparable(events: list[Event]) -> list[object]:
    # Exceptions compare by identity: a Retrying's cause is compared by type and message.
    return [
        (type(e).__name__, e.attempt, e.delay, repr(e.cause)) if isinstance(e, Retrying) else e
        for e in events
    ]


def cut(wire: bytes, points: set[int]) -> list[bytes]:
    edges = [0, *sorted(p for p in points if 0 < p < len(wire)), len(wire)]
    return [wire[a:b] for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize("name", list(BODIES))
@pytest.mark.parametrize("tail", ["complete", "error", "truncated"])
@given(points=st.sets(st.integers(min_value=1, max_value=2000), max_size=6))
@settings(max_examples=25, deadline=None)
def test_stepwise_gives_the_events_of_receive_data(
    name: str, tail: str, points: set[int]
) -> None:
    parts = frames(name, DELTAS, tool=Tool(), complete=tail == "complete")
    if tail == "error":
        parts = [*parts[:3], error_frame(name, "overloaded_error")]
    wire = b"".join(parts)
    pieces = cut(wire, points)
    one, two = make(name), make(name)
    steps = stepwise(one, pieces)
    taken = [event for step in steps for event in step]
    assert comparable(taken) == comparable(whole(two, pieces))
    assert one.state is two.state
    assert one.text == two.text


@pytest.mark.parametrize("name", list(BODIES))
def test_the_text_is_committed_one_sse_event_at_a_time(name: str) -> None:
    session = make(name)
    session.queue_data(b"".join(frames(name, DELTAS)))
    handed = ""
    while (events := session.next_events()) is not None:
        handed += "".join(e.text for e in events if isinstance(e, TextDelta))
        # Whatever has not been taken yet is not the session's text either.
        assert session.text == handed
    assert handed == "".join(DELTAS)
    assert session.state is SessionState.DONE


def test_a_consumer_that_stops_half_way_leaves_only_what_it_took() -> None:
    session = make("openai")
    session.queue_data(b"".join(frames("openai", DELTAS)))
    taken = ""
    while not taken.endswith("wörld"):
        step = session.next_events()
        assert step is not None
        taken += "".join(e.text for e in step if isinstance(e, TextDelta))
    session.cancel()
    assert session.text == "Hello, wörld"
    assert session.next_events() in ([], None)
    assert session.next_events() is None


def test_queueing_before_the_queue_was_taken_is_a_usage_error() -> None:
    session = make("openai")
    session.queue_data(b"".join(frames("openai", DELTAS[:2])))
    with pytest.raises(UsageError):
        session.queue_data(b"data: more\n\n")
    assert session.state is SessionState.ERROR


def test_a_fault_after_a_partly_taken_read_drops_the_rest() -> None:
    session = make("openai")
    session.queue_data(b"".join(frames("openai", DELTAS)))
    assert session.next_events() is not None  # the role chunk, or the first text
    session.connection_failed(TransportError("reset", kind="reset"))
    assert session.state is SessionState.IDLE
    # The next attempt queues afresh.
    session.next_request()
    session.response_started(200, SSE_HEADERS)
    session.queue_data(b"".join(frames("openai", DELTAS)))
    while session.next_events() is not None:
        pass
