"""streamrecover: keep LLM streaming responses alive.

Retries what can be retried, resumes a half-delivered answer with no duplicated
and no lost character, and keeps partial answers in storage so that another
process can finish them. The public names are re-exported here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from streamrecover.core.classify import is_recoverable
from streamrecover.core.errors import (
    Fault,
    HTTPStatusError,
    IncompleteStreamError,
    MissingExtraError,
    ProgressTimeoutError,
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
    FellBack,
    Finished,
    ReasoningDelta,
    Resumed,
    Retrying,
    Rewind,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from streamrecover.core.fallback import FallbacksExhausted
from streamrecover.core.http import HTTPRequest
from streamrecover.core.policy import RetryBudget, RetryPolicy
from streamrecover.core.sse import ServerSentEvent, SSEDecoder

if TYPE_CHECKING:
    from streamrecover.client import AsyncClient, Client
    from streamrecover.fallback import Fallback
    from streamrecover.providers.translate import UntranslatableError
    from streamrecover.registry import RecoveryRegistry
    from streamrecover.storage import Storage, StreamRecord, open_storage
    from streamrecover.stream import AsyncStream, Stream
    from streamrecover.transport import Timeouts
    from streamrecover.wrap import recover_stream

__version__ = "0.1.0"

# The client, storage and transports load on first use, so that importing the
# package costs only the stdlib core (a process that only parses streams never
# pays for sqlite3, ssl or socket setup).
_LAZY = {
    "AsyncClient": "streamrecover.client",
    "AsyncStream": "streamrecover.stream",
    "Client": "streamrecover.client",
    "Fallback": "streamrecover.fallback",
    "RecoveryRegistry": "streamrecover.registry",
    "Storage": "streamrecover.storage",
    "Stream": "streamrecover.stream",
    "StreamRecord": "streamrecover.storage",
    "Timeouts": "streamrecover.transport",
    "UntranslatableError": "streamrecover.providers.translate",
    "open_storage": "streamrecover.storage",
    "recover_stream": "streamrecover.wrap",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'streamrecover' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = (
    "AsyncClient",
    "AsyncStream",
    "Client",
    "Completed",
    "Event",
    "Fallback",
    "FallbacksExhausted",
    "Fault",
    "FellBack",
    "Finished",
    "HTTPRequest",
    "HTTPStatusError",
    "IncompleteStreamError",
    "MissingExtraError",
    "ProgressTimeoutError",
    "ProtocolError",
    "ProviderProtocolError",
    "ProviderStreamError",
    "ReasoningDelta",
    "RecoveryRegistry",
    "Resumed",
    "RetryBudget",
    "RetryPolicy",
    "Retrying",
    "Rewind",
    "SSEDecoder",
    "SSEProtocolError",
    "ServerSentEvent",
    "Storage",
    "StorageError",
    "Stream",
    "StreamInterrupted",
    "StreamRecord",
    "StreamRecoverError",
    "TextDelta",
    "Timeouts",
    "ToolCallDelta",
    "TransportError",
    "UnexpectedContentError",
    "UntranslatableError",
    "Usage",
    "UsageError",
    "is_recoverable",
    "open_storage",
    "recover_stream",
)
