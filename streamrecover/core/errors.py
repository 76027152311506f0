"""The exception hierarchy of streamrecover.

Everything the library raises on purpose derives from :class:`StreamRecoverError`.
The families are the ones a caller can act on:

``StreamRecoverError``
    ``UsageError``            the library was called wrongly (bad argument, wrong call order)
    ``ProtocolError``         bytes on the wire do not follow the protocol
        ``SSEProtocolError``       the Server-Sent Events framing is broken or too large
        ``ProviderProtocolError``  an SSE event does not have the shape its provider documents
    ``Fault``                 one attempt failed; the engine classifies it (retry, resume, stop)
        ``TransportError``         the connection failed (``kind`` says how)
        ``HTTPStatusError``        the server answered with a non-2xx status
        ``ProviderStreamError``    the provider sent an error payload inside the stream
        ``IncompleteStreamError``  the body ended before the provider's terminal marker
        ``UnexpectedContentError`` a 2xx answer that is not an event stream

    ``StorageError``          a storage backend failed or holds data it cannot read
    ``MissingExtraError``     an optional dependency is not installed (also an ``ImportError``)
    ``StreamInterrupted``     recovery is exhausted; carries the committed text and the cause

``SSEProtocolError`` and ``ProviderProtocolError`` are also faults: a corrupted
frame in the middle of a stream is one failed attempt, like a reset.

Faults are exceptions so that a transport can raise them where the failure
happens, but they are also plain values: the session takes them in through
``connection_failed(fault)`` and :func:`streamrecover.core.classify.classify`
turns one into a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = [
    "ContinuationDivergedError",
    "Fault",
    "HTTPStatusError",
    "IncompleteStreamError",
    "MissingExtraError",
    "ProgressTimeoutError",
    "ProtocolError",
    "ProviderProtocolError",
    "ProviderStreamError",
    "SSEProtocolError",
    "StorageError",
    "StreamInterrupted",
    "StreamRecoverError",
    "TransportError",
    "TransportFaultKind",
    "UnexpectedContentError",
    "UsageError",
]

#: How a connection failed. The transport names the kind; classification decides.
TransportFaultKind = Literal[
    "connect_refused",  # nothing listens, or the connection was refused
    "connect_timeout",  # no connection within the connect timeout
    "dns",  # the host name did not resolve
    "reset",  # the peer reset the connection (ECONNRESET, EPIPE)
    "closed",  # the peer closed the connection cleanly before the body ended
    "read_timeout",  # no response headers within the read timeout
    "idle_timeout",  # no byte of the body within the idle timeout
    "tls_eof",  # the TLS session ended without close_notify mid-body
    "tls_certificate",  # the server certificate did not verify (never retried)
    "incomplete_body",  # a chunked or content-length body ended short
    "proxy",  # the proxy refused the CONNECT tunnel
    "deadline",  # the total deadline of the stream passed
    "other",  # any other OS-level network failure
    "proxy_refused",  # the proxy answered CONNECT with a 4xx (403, 407): never retried
]

Headers = Sequence[tuple[str, str]]


class StreamRecoverError(Exception):
    """Root of every exception streamrecover raises on purpose."""


class UsageError(StreamRecoverError):
    """The library was used wrongly: a bad argument or an illegal call order."""


class MissingExtraError(StreamRecoverError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, feature: str, extra: str, missing: str) -> None:
        super().__init__(
            f'{feature} needs the {missing!r} package: pip install "streamrecover[{extra}]"'
        )
        self.feature = feature
        self.extra = extra
        self.missing = missing


class StorageError(StreamRecoverError):
    """A storage backend failed, or found data it cannot read."""


class Fault(StreamRecoverError):
    """One attempt of a stream failed. Classification decides what happens next."""


class ProtocolError(Fault):
    """The bytes received do not follow the protocol."""


class SSEProtocolError(ProtocolError):
    """The Server-Sent Events framing is broken, or a line or event passed the size cap."""


class ProviderProtocolError(ProtocolError):
    """An event does not have the shape its provider documents.

    ``provider`` names the wire format, ``event`` the offending event (its type
    and an excerpt of its data, never more than a few hundred characters).
    """

    def __init__(self, message: str, *, provider: str, event: str = "") -> None:
        detail = f" (event: {event})" if event else ""
        super().__init__(f"{provider}: {message}{detail}")
        self.provider = provider
        self.event = event


class TransportError(Fault):
    """The connection failed. ``kind`` says how (see :data:`TransportFaultKind`)."""

    def __init__(
        self, message: str, *, kind: TransportFaultKind = "other", proxy: str = ""
    ) -> None:
        super().__init__(message)
        self.kind: TransportFaultKind = kind
        #: ``host:port`` of the proxy when the failure was the proxy's (never its credentials).
        self.proxy = proxy


class HTTPStatusError(Fault):
    """The server answered with a status outside 2xx.

    ``headers`` are the response headers as (lower-case name, value) pairs, so
    that classification can read ``retry-after`` and ``x-should-retry``;
    ``body`` is the start of the response body (decoded, at most a few KiB).
    """

    def __init__(
        self,
        status: int,
        *,
        headers: Headers = (),
        body: str = "",
        provider: str = "",
        error_type: str = "",
    ) -> None:
        # An HTML error page (a reverse proxy's 502) is reduced to its title.
        # excerpt (html, its regexes) loads with the first error body, not on import.
        from streamrecover.core.excerpt import body_excerpt

        excerpt = f": {body_excerpt(body)}" if body else ""
        super().__init__(f"HTTP {status}{excerpt}")
        self.status = status
        self.headers: tuple[tuple[str, str], ...] = tuple(
            (name.lower(), value) for name, value in headers
        )
        self.body = body
        self.provider = provider
        self.error_type = error_type


class ProviderStreamError(Fault):
    """The provider sent an error payload in the middle of the stream.

    ``error_type`` is the provider's own name for it (``overloaded_error``,
    ``rate_limit_error``, ``server_error``...), ``status`` its HTTP equivalent
    where the provider gives or implies one (``overloaded_error`` is 529).
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        error_type: str = "",
        status: int | None = None,
        code: str = "",
    ) -> None:
        super().__init__(f"{provider}: {error_type or 'error'}: {message}")
        self.provider = provider
        self.error_type = error_type
        self.status = status
        self.code = code
        self.detail = message


class IncompleteStreamError(Fault):
    """The body ended before the provider's terminal marker: a truncated answer."""

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(f"{provider}: {message}" if provider else message)
        self.provider = provider


class UnexpectedContentError(Fault):
    """A 2xx answer whose content type is not ``text/event-stream``."""

    def __init__(self, content_type: str, *, body: str = "") -> None:
        # A captive portal's or a proxy's HTML page says who answered in its title.
        from streamrecover.core.excerpt import body_excerpt

        excerpt = f": {body_excerpt(body)}" if body.strip() else ""
        super().__init__(
            f"expected text/event-stream, got {content_type or 'no content type'}{excerpt}"
        )
        self.content_type = content_type
        self.body = body


class StreamInterrupted(StreamRecoverError):
    """Recovery is exhausted, or the fault could not be recovered.

    ``recovery_id`` names the stored partial response (resume it later with
    ``Client.resume``), ``committed_text`` is everything the consumer has been
    given, ``cause`` the last fault, ``recoverable`` whether a later resume
    may succeed (False for a 401, True for a stream that ran out of retries).
    ``reason`` is one word for dashboards: a policy give-up reason
    (:data:`~streamrecover.core.policy.GiveUpReason`), ``resume_unbuildable``,
    ``repeated_protocol_error`` (the same malformed event on two attempts in a row),
    ``cancelled``, or empty where none applies.
    """

    def __init__(
        self,
        message: str,
        *,
        cause: BaseException | None,
        committed_text: str = "",
        recovery_id: str | None = None,
        recoverable: bool = False,
        attempts: int = 0,
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.committed_text = committed_text
        self.recovery_id = recovery_id
        self.recoverable = recoverable
        self.attempts = attempts
        self.reason = reason


class ProgressTimeoutError(Fault):
    """The stream went ``seconds`` without a content event (text, reasoning, a tool call).

    Bytes may have kept coming (SSE comments, pings, keep-alive events, text
    the stitcher dropped as a repeat): none of them is progress. Recoverable:
    the engine retries or resumes, within the policy's limits.
    """

    def __init__(self, seconds: float, *, provider: str = "") -> None:
        where = f"{provider}: " if provider else ""
        super().__init__(f"{where}no content for {seconds:g} s (progress timeout)")
        self.seconds = seconds
        self.provider = provider


class ContinuationDivergedError(Fault):
    """A continuation rewrote text the consumer can no longer take back.

    Raised inside a session that must keep every delivered character (see
    ``RecoverySession.keep_delivered``, set by the SDK transports): a continuation
    that restarted the answer and diverged from it would need a rewind. The
    attempt is a failed one; the next resume continues from the delivered text.
    """

    def __init__(self, delivered: int, rewind_to: int, *, provider: str = "") -> None:
        where = f"{provider}: " if provider else ""
        super().__init__(
            f"{where}the continuation diverged {delivered - rewind_to} characters before "
            "the end of the delivered text, which cannot be taken back"
        )
        self.delivered = delivered
        self.rewind_to = rewind_to
        self.provider = provider
