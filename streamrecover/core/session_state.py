"""The states of a :class:`~streamrecover.core.session.RecoverySession` and its decisions.

The state machine is a table: for each driver call, the states it may be made
in (``TRANSITIONS``) and the states it may leave the session in (``TARGETS``).
A decision (:class:`Done`, :class:`Retry`, :class:`GiveUp`) is what the session
answers once an attempt has ended.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from streamrecover.core.errors import StreamInterrupted

__all__ = ["TARGETS", "TRANSITIONS", "Decision", "Done", "GiveUp", "Retry", "SessionState"]


class SessionState(enum.Enum):
    """Where the session stands. See ``TRANSITIONS`` for what each state allows."""

    IDLE = "idle"  # a request is due: call next_request()
    SENT = "sent"  # the request is out; waiting for the status line
    STREAMING = "streaming"  # a 2xx event stream is flowing
    ERROR_BODY = "error_body"  # reading the body of a failed response
    DONE = "done"  # the answer is complete
    GAVE_UP = "gave_up"  # recovery is exhausted or the fault is final
    ERROR = "error"  # the session was driven wrongly


# Everything that affects the state machine lives in this table: for each driver
# call, the states it may be made in. The target state is decided by the call
# (a 2xx status goes to STREAMING, a 4xx to ERROR_BODY) but is always one of the
# states listed in TARGETS for that call.
TRANSITIONS: Mapping[str, frozenset[SessionState]] = {
    "next_request": frozenset({SessionState.IDLE}),
    "response_started": frozenset({SessionState.SENT}),
    "receive_data": frozenset({SessionState.STREAMING, SessionState.ERROR_BODY}),
    "connection_failed": frozenset(
        {SessionState.SENT, SessionState.STREAMING, SessionState.ERROR_BODY}
    ),
    "cancel": frozenset(
        {
            SessionState.IDLE,
            SessionState.SENT,
            SessionState.STREAMING,
            SessionState.ERROR_BODY,
        }
    ),
}
TARGETS: Mapping[str, frozenset[SessionState]] = {
    "next_request": frozenset({SessionState.SENT}),
    "response_started": frozenset({SessionState.STREAMING, SessionState.ERROR_BODY}),
    "receive_data": frozenset(
        {
            SessionState.STREAMING,
            SessionState.ERROR_BODY,
            SessionState.DONE,
            SessionState.IDLE,
            SessionState.GAVE_UP,
        }
    ),
    "connection_failed": frozenset({SessionState.IDLE, SessionState.GAVE_UP}),
    "cancel": frozenset({SessionState.GAVE_UP}),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Base of what the session decided after an attempt ended."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Done(Decision):
    """The answer is complete."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry(Decision):
    """Wait ``delay`` seconds, then call ``next_request()`` again."""

    delay: float
    resume: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class GiveUp(Decision):
    """Stop: ``error`` (a :class:`StreamInterrupted`) says why and holds the partial text."""

    error: StreamInterrupted
