"""streamrecover: keep LLM streaming responses alive.

Retries what can be retried, resumes a half-delivered answer with no duplicated
and no lost character, and keeps partial answers in storage so that another
process can finish them. The public names are re-exported here.
"""

from __future__ import annotations

from streamrecover.core.errors import (
    Fault,
    HTTPStatusError,
    IncompleteStreamError,
    MissingExtraError,
    ProtocolError,
    ProviderProtocolError,
    ProviderStreamError,
    SSEProtocolError,
    StorageError,
    StreamInterrupted,
    StreamRecoverError,
    TransportError,
    UnexpectedContentError,
    UsageError,
)
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
    Usage,
)
from streamrecover.core.http import HTTPRequest
from streamrecover.core.sse import SSEDecoder, ServerSentEvent

__version__ = "0.1.0"

__all__ = (
    "Completed",
    "Event",
    "Fault",
    "Finished",
    "HTTPRequest",
    "HTTPStatusError",
    "IncompleteStreamError",
    "MissingExtraError",
    "ProtocolError",
    "ProviderProtocolError",
    "ProviderStreamError",
    "ReasoningDelta",
    "Resumed",
    "Retrying",
    "Rewind",
    "SSEDecoder",
    "SSEProtocolError",
    "ServerSentEvent",
    "StorageError",
    "StreamInterrupted",
    "StreamRecoverError",
    "TextDelta",
    "ToolCallDelta",
    "TransportError",
    "UnexpectedContentError",
    "Usage",
    "UsageError",
)
