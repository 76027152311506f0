"""Fault classification: one failed attempt in, one :class:`Verdict` out.

:func:`classify` says whether a fault is worth another attempt, names the rule
that decided (``reason``, short and machine-friendly: ``"http_529"``,
``"transport_reset"``, ``"stream_overloaded_error"``...) and reports how long
the server asked us to wait. It does not decide *whether to retry now* — that
is :class:`streamrecover.core.policy.RetryPolicy`, which also knows the attempt
counts, the deadline and the shared budget.

The rules are data: the tables below are the whole classification, and the
functions under them only look things up. Decisions that are ours rather than a
spec's are written next to the table entry that makes them.

Sans-IO: the wall clock is never read. An HTTP-date in ``Retry-After`` is
turned into a delay only against the ``now`` the caller passes in.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from streamrecover.core.errors import (
    Fault,
    Headers,
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

__all__ = [
    "CONTEXT_LENGTH_MARKERS",
    "FATAL_ERROR_TYPES",
    "NEVER_RETRIED_5XX",
    "RETRYABLE_ERROR_TYPES",
    "RETRYABLE_STATUSES",
    "TRANSPORT_RULES",
    "Verdict",
    "classify",
    "is_recoverable",
    "parse_retry_after",
    "server_delay_from_headers",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What one fault means for the next attempt.

    ``retryable``
        whether another attempt (retry or resume) may succeed.
    ``reason``
        the rule that decided, short and stable enough to log or count.
    ``server_delay``
        seconds the server asked us to wait (``Retry-After``, ``retry-after-ms``,
        Google ``RetryInfo``), or None when it asked nothing. Never negative.
    ``status``
        the HTTP status, or the provider's HTTP equivalent, when there is one.
    ``transport``
        the connection itself failed (a :class:`TransportError`): nothing was
        answered, so reconnecting at once is sensible. The policy makes the
        first such retry immediate.
    ``retry_limit``
        when not None, at most this many retries (or resumes) make sense for this
        kind of fault, whatever the policy allows: a fault that is as likely to
        be a misconfiguration as a hiccup gets one more chance, not the whole
        budget.
    """

    retryable: bool
    reason: str
    server_delay: float | None = None
    status: int | None = None
    transport: bool = False
    retry_limit: int | None = None


# --------------------------------------------------------------------------
# Transport faults, by kind. (retryable, retry_limit)
# --------------------------------------------------------------------------

#: How each :data:`~streamrecover.core.errors.TransportFaultKind` is treated.
#: A kind that is not in the table (a transport inventing one) is treated
#: like ``"other"``.
TRANSPORT_RULES: Mapping[str, tuple[bool, int | None]] = {
    "connect_refused": (True, None),  # server restarting, or a load balancer draining
    "connect_timeout": (True, None),
    # Resolver failures are often transient (EAI_AGAIN, a flapping local
    # resolver). A typo'd host fails the same way every time, but that costs
    # only the retry count, and the transport cannot tell the two apart.
    "dns": (True, None),
    "reset": (True, None),  # the classic: a pooled keep-alive connection the peer dropped
    "closed": (True, None),  # proxies cutting a stream that was idle while the model thought
    "read_timeout": (True, None),
    "idle_timeout": (True, None),
    "tls_eof": (True, None),
    "incomplete_body": (True, None),
    # The proxy answered CONNECT with a 5xx: its own overload, or the origin
    # unreachable from it; transient, like the origin's own 502/503.
    "proxy": (True, None),
    # The proxy answered CONNECT with a 4xx: 407 (missing or wrong proxy
    # credentials), 403 (the destination is not allowed). Retrying sends the
    # same credentials to the same policy.
    "proxy_refused": (False, None),
    "other": (True, None),
    # A certificate that did not verify will not verify on the next try, and
    # retrying it would only hide an attack or a misconfiguration.
    "tls_certificate": (False, None),
    # The total deadline of the stream has passed: another attempt has no time.
    "deadline": (False, None),
}
_UNKNOWN_TRANSPORT_RULE = TRANSPORT_RULES["other"]

# --------------------------------------------------------------------------
# HTTP status codes
# --------------------------------------------------------------------------

#: Statuses worth another attempt. 408 Request Timeout, 409 Conflict (OpenAI's
#: lock on a resource being modified), 425 Too Early, 429 Too Many Requests,
#: 500/502/503/504, and Anthropic's 529 Overloaded.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})

#: 5xx statuses that say something permanent: 501 Not Implemented, 505 HTTP
#: Version Not Supported, 511 Network Authentication Required (a captive portal
#: waiting for a human). Every *other* 5xx — including the unregistered ones that
#: CDNs and proxies use (Cloudflare's 520-527, 598/599) — is retried: a server
#: error is by definition the server's trouble, and the attempt limit bounds the
#: cost if it persists.
NEVER_RETRIED_5XX = frozenset({501, 505, 511})

# --------------------------------------------------------------------------
# Provider error types (lower case; matched case-insensitively)
# --------------------------------------------------------------------------

#: Error types (or codes) that a provider uses for transient trouble.
RETRYABLE_ERROR_TYPES = frozenset(
    {
        # Anthropic, https://docs.anthropic.com/en/api/errors
        "overloaded_error",
        "api_error",
        "rate_limit_error",
        "timeout_error",
        # OpenAI (Chat Completions and Responses error payloads)
        "server_error",
        "rate_limit_exceeded",
        "internal_error",
        "server_is_overloaded",
        "service_unavailable",
        # Google (google.rpc.Code names, as Gemini reports them in error.status).
        # AIP-194 names UNAVAILABLE as the retryable code; RESOURCE_EXHAUSTED is
        # Gemini's per-minute quota (it refills), INTERNAL and DEADLINE_EXCEEDED
        # are what a long generation dies of, ABORTED is a concurrency conflict.
        "unavailable",
        "resource_exhausted",
        "internal",
        "deadline_exceeded",
        "aborted",
    }
)

#: Error types (or codes) that no number of retries will fix. They win over a
#: retryable-looking status: a 429 ``insufficient_quota`` is a billing problem,
#: not a rate limit.
FATAL_ERROR_TYPES = frozenset(
    {
        # Anthropic
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "billing_error",
        # OpenAI
        "insufficient_quota",
        "invalid_api_key",
        "context_length_exceeded",
        "invalid_prompt",
        "model_not_found",
        # Google
        "invalid_argument",
        "failed_precondition",
        "permission_denied",
        "unauthenticated",
        "not_found",
        "unimplemented",
        "out_of_range",
        "already_exists",  # maps to 409 like ABORTED, but retrying cannot un-create
        # The caller cancelled: never retried.
        "cancelled",
    }
)

#: Lower-case fragments that mark a context-length error in an error type, code
#: or message. Such an error is deterministic (the same prompt is still too
#: long), so it is never retried, whatever its status.
CONTEXT_LENGTH_MARKERS = (
    "context_length_exceeded",  # OpenAI error code
    "context_window_exceeded",
    "maximum context length",  # OpenAI: "This model's maximum context length is ..."
    "prompt is too long",  # Anthropic: "prompt is too long: 210000 tokens > 200000 maximum"
    "exceeds the context window",  # OpenAI Responses
    "exceeds the maximum number of tokens",  # Gemini: "The input token count (...) exceeds ..."
    "input is too long",  # Bedrock and OpenAI-compatible gateways
)

# --------------------------------------------------------------------------
# Faults with one fixed verdict
# --------------------------------------------------------------------------

_FIXED_VERDICTS: Mapping[type[BaseException], Verdict] = {
    # Bytes flowed but no content did: a stuck upstream kept alive by a proxy's
    # pings, or a continuation going nowhere. Another attempt may well work.
    ProgressTimeoutError: Verdict(retryable=True, reason="no_progress"),
    # EOF without the terminal marker: the answer was cut, not finished.
    IncompleteStreamError: Verdict(retryable=True, reason="incomplete_stream"),
    # A 2xx that is not an event stream: a captive portal or a corporate proxy's
    # HTML page, a load balancer's error page served with 200, or a base URL
    # pointing at the wrong service. The first two can pass in a moment; the
    # last never does. One retry, then a clear error instead of a budget burnt.
    UnexpectedContentError: Verdict(retryable=True, reason="unexpected_content", retry_limit=1),
    # A line or event past the decoder's cap: the same answer will be as large
    # next time, so retrying only repeats the failure.
    SSEProtocolError: Verdict(retryable=False, reason="sse_protocol_error"),
    # Malformed JSON in one event: corruption mid-stream (a proxy mangling a
    # chunk, a truncated frame). The next attempt has fresh bytes.
    ProviderProtocolError: Verdict(retryable=True, reason="provider_protocol_error"),
    ProtocolError: Verdict(retryable=True, reason="protocol_error"),
    # A fault of a kind we do not know: it is, by definition, one failed attempt,
    # and the policy's limits bound the cost of trying again.
    Fault: Verdict(retryable=True, reason="fault"),
    # Not faults of an attempt at all: never retried.
    UsageError: Verdict(retryable=False, reason="usage_error"),
    StorageError: Verdict(retryable=False, reason="storage_error"),
    MissingExtraError: Verdict(retryable=False, reason="missing_extra"),
    StreamInterrupted: Verdict(retryable=False, reason="stream_interrupted"),
    StreamRecoverError: Verdict(retryable=False, reason="library_error"),
    # Any other exception is a bug or the caller's, and retrying would hide it.
    Exception: Verdict(retryable=False, reason="foreign_exception"),
    # asyncio.CancelledError, trio.Cancelled, KeyboardInterrupt, SystemExit,
    # GeneratorExit: someone asked us to stop. Never retried.
    BaseException: Verdict(retryable=False, reason="cancelled"),
}

# --------------------------------------------------------------------------
# Server-requested delays
# --------------------------------------------------------------------------

# RFC 9110 §10.2.3 defines delay-seconds as 1*DIGIT. A fraction is accepted
# too (the OpenAI SDK parses the value as a float); a sign, an exponent, "inf"
# and "nan" are not.
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# google.rpc.RetryInfo in a Google error body; a protobuf Duration maps to JSON
# as a decimal number of seconds with an "s" suffix, e.g. "retryDelay": "34s".
_RETRY_INFO_DELAY = re.compile(r'"retryDelay"\s*:\s*"([0-9]+(?:\.[0-9]+)?)s"')


def _decimal(value: str) -> float | None:
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    # A very long digit string overflows to inf: kept, because the server did ask
    # for an absurd wait, and the policy gives up on it rather than ignoring it.
    return float(text)


def parse_retry_after(value: str, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` value (RFC 9110 §10.2.3) into seconds to wait.

    Args:
        value: the header value: delay-seconds (``"120"``; a fraction such as
            ``"1.5"`` is tolerated) or an HTTP-date
            (``"Wed, 21 Oct 2015 07:28:00 GMT"``).
        now: the current time in epoch seconds. Needed only for an HTTP-date;
            without it a date is ignored, because the core never reads the clock.

    Returns:
        The delay in seconds (0.0 for a date already past), or None when the
        value is empty, negative, malformed, or a date with no ``now`` to
        compare it with. Never raises.
    """
    seconds = _decimal(value)
    if seconds is not None:
        return seconds
    if now is None or not math.isfinite(now):
        return None
    try:
        # Imported here: email.utils (and the socket module it loads) costs
        # milliseconds at import time, and HTTP-dates are rare.
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # An HTTP-date is always GMT (RFC 9110 §5.6.7); "-0000" and the asctime
        # form parse as naive datetimes.
        when = when.replace(tzinfo=datetime.timezone.utc)
    # A date in the past means "you may retry now", not garbage.
    return max(0.0, when.timestamp() - now)


def _header(headers: Headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def server_delay_from_headers(
    headers: Headers, *, body: str = "", now: float | None = None
) -> float | None:
    """Return the seconds a server asked us to wait, or None when it asked nothing.

    Sources, first usable one wins: ``retry-after-ms`` (milliseconds, sent by
    OpenAI and Anthropic and preferred by their SDKs because it is precise),
    ``Retry-After`` (see :func:`parse_retry_after`), then a Google
    ``RetryInfo.retryDelay`` in the error ``body``. A malformed source is
    skipped, not fatal. Never raises.
    """
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        parsed = _decimal(millis)
        if parsed is not None:
            return parsed / 1000.0
    retry_after = _header(headers, "retry-after")
    if retry_after is not None:
        parsed = parse_retry_after(retry_after, now=now)
        if parsed is not None:
            return parsed
    match = _RETRY_INFO_DELAY.search(body)
    if match is not None:
        return float(match.group(1))
    return None


# --------------------------------------------------------------------------
# The rules that need more than a table lookup
# --------------------------------------------------------------------------

# x-should-retry is sent by the OpenAI and Anthropic APIs; their official SDKs
# obey it before looking at the status, and so do we.
_SHOULD_RETRY = {"true": True, "false": False}


def _mentions_context_length(*texts: str) -> bool:
    return any(marker in text.lower() for text in texts for marker in CONTEXT_LENGTH_MARKERS)


def _status_retryable(status: int) -> bool:
    if status in RETRYABLE_STATUSES:
        return True
    return 500 <= status <= 599 and status not in NEVER_RETRIED_5XX


def _classify_transport(fault: TransportError, now: float | None) -> Verdict:
    retryable, limit = TRANSPORT_RULES.get(fault.kind, _UNKNOWN_TRANSPORT_RULE)
    return Verdict(
        retryable=retryable,
        reason=f"transport_{fault.kind}",
        transport=True,
        retry_limit=limit,
    )


def _classify_http(fault: HTTPStatusError, now: float | None) -> Verdict:
    status = fault.status
    delay = server_delay_from_headers(fault.headers, body=fault.body, now=now)
    should_retry_header = _header(fault.headers, "x-should-retry") or ""
    should_retry = _SHOULD_RETRY.get(should_retry_header.strip().lower())
    if should_retry is not None:
        # The server's explicit word outranks both the status and our reading
        # of the body.
        reason = "x_should_retry_true" if should_retry else "x_should_retry_false"
        return Verdict(retryable=should_retry, reason=reason, server_delay=delay, status=status)
    if _mentions_context_length(fault.error_type, fault.body):
        return Verdict(
            retryable=False, reason="context_length_exceeded", server_delay=delay, status=status
        )
    error_type = fault.error_type.lower()
    if error_type in FATAL_ERROR_TYPES:
        return Verdict(
            retryable=False, reason=f"http_{status}_{error_type}", server_delay=delay, status=status
        )
    return Verdict(
        retryable=_status_retryable(status),
        reason=f"http_{status}",
        server_delay=delay,
        status=status,
    )


def _classify_provider_stream(fault: ProviderStreamError, now: float | None) -> Verdict:
    status = fault.status
    if _mentions_context_length(fault.error_type, fault.code, fault.detail):
        return Verdict(retryable=False, reason="context_length_exceeded", status=status)
    # The type is the provider's documented name; the code is a finer one that
    # some payloads carry instead (OpenAI's error.code). First known one wins.
    for name in (fault.error_type.lower(), fault.code.lower()):
        if name in RETRYABLE_ERROR_TYPES:
            return Verdict(retryable=True, reason=f"stream_{name}", status=status)
        if name in FATAL_ERROR_TYPES:
            return Verdict(retryable=False, reason=f"stream_{name}", status=status)
    if status is not None:
        return Verdict(
            retryable=_status_retryable(status), reason=f"stream_http_{status}", status=status
        )
    # An error event of a type we do not know, with no status to go by. Mid-stream
    # errors are overwhelmingly the server's transient trouble (the request was
    # valid: it had started streaming), so it is retried within the limits.
    return Verdict(retryable=True, reason="stream_error")


_CLASSIFIERS: Mapping[type[BaseException], Callable[[Any, float | None], Verdict]] = {
    TransportError: _classify_transport,
    HTTPStatusError: _classify_http,
    ProviderStreamError: _classify_provider_stream,
}


def classify(fault: BaseException, *, now: float | None = None) -> Verdict:
    """Classify one failure of a stream attempt.

    Args:
        fault: what ended the attempt — normally a
            :class:`~streamrecover.core.errors.Fault`, but any exception is
            accepted (anything that is not a fault is never retryable).
        now: the current time in epoch seconds, used only to turn a
            ``Retry-After`` HTTP-date into a delay. None ignores such dates.

    Returns:
        The :class:`Verdict`. The most specific rule for the fault's class wins
        (a subclass of ``TransportError`` is classified as a transport fault).

    Never raises.
    """
    for cls in type(fault).__mro__:
        classifier = _CLASSIFIERS.get(cls)
        if classifier is not None:
            return classifier(fault, now)
        verdict = _FIXED_VERDICTS.get(cls)
        if verdict is not None:
            return verdict
    # Unreachable: every exception class has BaseException in its MRO.
    return _FIXED_VERDICTS[BaseException]  # pragma: no cover


def is_recoverable(error: BaseException) -> bool:
    """Tell whether trying again later may succeed after ``error``.

    Args:
        error: any exception, typically one the library raised.

    Returns:
        For :class:`~streamrecover.core.errors.StreamInterrupted`, its
        ``recoverable`` attribute (the session already judged its cause); for a
        fault, whether :func:`classify` finds it retryable; False for anything
        else. Never raises.
    """
    if isinstance(error, StreamInterrupted):
        return bool(error.recoverable)
    if isinstance(error, Fault):
        return classify(error).retryable
    return False
