"""streamrecover: keep LLM streaming responses alive.

Retries what can be retried, resumes a half-delivered answer with no duplicated
and no lost character, and keeps partial answers in storage so that another
process can finish them. The public names are re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from streamrecover.client import AsyncClient, Client
    from streamrecover.core.classify import is_recoverable
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
    from streamrecover.fallback import Fallback
    from streamrecover.providers.translate import UntranslatableError
    from streamrecover.registry import RecoveryRegistry
    from streamrecover.storage import Storage, StreamRecord, open_storage
    from streamrecover.stream import AsyncStream, Stream
    from streamrecover.transport import Timeouts
    from streamrecover.wrap import recover_stream

__version__ = "0.1.0"

# Only the exceptions load with the package; every other public name loads from
# its module on first use (PEP 562), so that ``import streamrecover`` and
# ``from streamrecover import Client`` cost only what they use (issue 14: the
# client path stays under 30 ms of ``-X importtime``).
_LAZY = {
    "AsyncClient": "streamrecover.client",
    "AsyncStream": "streamrecover.stream",
    "Client": "streamrecover.client",
    "Completed": "streamrecover.core.events",
    "Event": "streamrecover.core.events",
    "Fallback": "streamrecover.fallback",
    "FallbacksExhausted": "streamrecover.core.fallback",
    "FellBack": "streamrecover.core.events",
    "Finished": "streamrecover.core.events",
    "HTTPRequest": "streamrecover.core.http",
    "ReasoningDelta": "streamrecover.core.events",
    "RecoveryRegistry": "streamrecover.registry",
    "Resumed": "streamrecover.core.events",
    "RetryBudget": "streamrecover.core.policy",
    "RetryPolicy": "streamrecover.core.policy",
    "Retrying": "streamrecover.core.events",
    "Rewind": "streamrecover.core.events",
    "SSEDecoder": "streamrecover.core.sse",
    "ServerSentEvent": "streamrecover.core.sse",
    "Storage": "streamrecover.storage",
    "Stream": "streamrecover.stream",
    "StreamRecord": "streamrecover.storage",
    "TextDelta": "streamrecover.core.events",
    "Timeouts": "streamrecover.transport",
    "ToolCallDelta": "streamrecover.core.events",
    "UntranslatableError": "streamrecover.providers.translate",
    "Usage": "streamrecover.core.events",
    "is_recoverable": "streamrecover.core.classify",
    "open_storage": "streamrecover.storage",
    "recover_stream": "streamrecover.wrap",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'streamrecover' has no attribute {name!r}")
    # __import__ rather than importlib.import_module: the C import path is the
    # one ``-X importtime`` reports, so the cost shows under the module's name.
    value = getattr(__import__(module, fromlist=[name]), name)
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
