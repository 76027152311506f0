"""Fault classification: every rule row, Retry-After parsing, and is_recoverable."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.classify import (
    FATAL_ERROR_TYPES,
    NEVER_RETRIED_5XX,
    RETRYABLE_ERROR_TYPES,
    RETRYABLE_STATUSES,
    TRANSPORT_RULES,
    Verdict,
    classify,
    is_recoverable,
    parse_retry_after,
    server_delay_from_headers,
)
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
    TransportFaultKind,
    UnexpectedContentError,
    UsageError,
)

# A fixed "now": 2025-01-01T00:00:00Z.
NOW = datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp()


def http_date(offset: float) -> str:
    when = datetime.fromtimestamp(NOW + offset, tz=timezone.utc)
    return format_datetime(when, usegmt=True)


# --------------------------------------------------------------------------
# Verdict
# --------------------------------------------------------------------------


def test_verdict_is_frozen_slotted_and_keyword_only() -> None:
    verdict = Verdict(retryable=True, reason="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.retryable = False  # type: ignore[misc]
    assert not hasattr(verdict, "__dict__")
    with pytest.raises(TypeError):
        Verdict(True, "x")  # type: ignore[call-arg]


# --------------------------------------------------------------------------
# Transport faults
# --------------------------------------------------------------------------

TRANSPORT_ROWS: list[tuple[str, bool, int | None]] = [
    ("connect_refused", True, None),
    ("connect_timeout", True, None),
    ("dns", True, None),
    ("reset", True, None),
    ("closed", True, None),
    ("read_timeout", True, None),
    ("idle_timeout", True, None),
    ("tls_eof", True, None),
    ("incomplete_body", True, None),
    ("proxy", True, None),
    ("other", True, None),
    ("tls_certificate", False, None),
    ("deadline", False, None),
    ("proxy_refused", False, None),
]


def test_transport_table_covers_every_declared_kind() -> None:
    kinds = set(get_args(TransportFaultKind))
    assert {row[0] for row in TRANSPORT_ROWS} == kinds
    assert set(TRANSPORT_RULES) == kinds


@pytest.mark.parametrize(("kind", "retryable", "limit"), TRANSPORT_ROWS)
def test_transport_kind(kind: TransportFaultKind, retryable: bool, limit: int | None) -> None:
    verdict = classify(TransportError("boom", kind=kind))
    assert verdict == Verdict(
        retryable=retryable, reason=f"transport_{kind}", transport=True, retry_limit=limit
    )


def test_a_stream_without_progress_is_retryable() -> None:
    from streamrecover.core.errors import ProgressTimeoutError

    verdict = classify(ProgressTimeoutError(300.0, provider="openai"))
    assert (verdict.retryable, verdict.reason, verdict.transport) == (True, "no_progress", False)


def test_unknown_transport_kind_is_treated_like_other() -> None:
    verdict = classify(TransportError("boom", kind="weird"))  # type: ignore[arg-type]
    assert verdict.retryable
    assert verdict.transport
    assert verdict.reason == "transport_weird"


def test_transport_subclass_dispatches_as_transport() -> None:
    class PoolClosed(TransportError):
        pass

    verdict = classify(PoolClosed("gone", kind="tls_certificate"))
    assert verdict.reason == "transport_tls_certificate"
    assert not verdict.retryable


# --------------------------------------------------------------------------
# HTTP statuses
# --------------------------------------------------------------------------

STATUS_ROWS: list[tuple[int, bool]] = [
    (408, True),
    (409, True),
    (425, True),
    (429, True),
    (500, True),
    (502, True),
    (503, True),
    (504, True),
    (529, True),
    # Unknown 5xx: retried.
    (507, True),
    (520, True),
    (599, True),
    # Permanent 5xx.
    (501, False),
    (505, False),
    (511, False),
    # 4xx other than the listed ones: never.
    (400, False),
    (401, False),
    (402, False),
    (403, False),
    (404, False),
    (405, False),
    (410, False),
    (413, False),
    (415, False),
    (422, False),
    (451, False),
    # Not an error family we retry.
    (301, False),
    (304, False),
    (600, False),
]


@pytest.mark.parametrize(("status", "retryable"), STATUS_ROWS)
def test_http_status(status: int, retryable: bool) -> None:
    verdict = classify(HTTPStatusError(status))
    assert verdict == Verdict(retryable=retryable, reason=f"http_{status}", status=status)


def test_status_tables_are_what_the_design_lists() -> None:
    assert frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529}) == RETRYABLE_STATUSES
    assert not RETRYABLE_STATUSES & NEVER_RETRIED_5XX


@pytest.mark.parametrize(
    ("status", "value", "retryable", "reason"),
    [
        (400, "true", True, "x_should_retry_true"),
        (401, "TRUE", True, "x_should_retry_true"),
        (503, "false", False, "x_should_retry_false"),
        (529, " False ", False, "x_should_retry_false"),
        (429, "false", False, "x_should_retry_false"),
        # Anything else is not an instruction: the status rule applies.
        (503, "maybe", True, "http_503"),
        (400, "1", False, "http_400"),
        (400, "", False, "http_400"),
    ],
)
def test_x_should_retry_overrides_the_status(
    status: int, value: str, retryable: bool, reason: str
) -> None:
    verdict = classify(HTTPStatusError(status, headers=[("X-Should-Retry", value)]))
    assert verdict.retryable is retryable
    assert verdict.reason == reason
    assert verdict.status == status


def test_x_should_retry_true_outranks_body_heuristics() -> None:
    fault = HTTPStatusError(
        400,
        headers=[("x-should-retry", "true")],
        body="prompt is too long",
        error_type="invalid_request_error",
    )
    assert classify(fault).retryable


# --------------------------------------------------------------------------
# Context length and fatal error types in HTTP answers
# --------------------------------------------------------------------------

CONTEXT_BODIES = [
    '{"error": {"code": "context_length_exceeded", "message": "..."}}',
    "This model's maximum context length is 128000 tokens. However, you requested 130000.",
    '{"type":"error","error":{"type":"invalid_request_error",'
    '"message":"prompt is too long: 210000 tokens > 200000 maximum"}}',
    "Your input exceeds the context window of this model.",
    "The input token count (2000000) exceeds the maximum number of tokens allowed (1048576).",
    "Input is too long for requested model.",
    "MAXIMUM CONTEXT LENGTH reached",
]


@pytest.mark.parametrize("body", CONTEXT_BODIES)
@pytest.mark.parametrize("status", [400, 413, 429, 500, 503, 529])
def test_context_length_is_never_retried_whatever_the_status(body: str, status: int) -> None:
    verdict = classify(HTTPStatusError(status, body=body))
    assert verdict == Verdict(retryable=False, reason="context_length_exceeded", status=status)


def test_context_length_detected_in_error_type() -> None:
    verdict = classify(HTTPStatusError(500, error_type="context_length_exceeded"))
    assert verdict.reason == "context_length_exceeded"
    assert not verdict.retryable


def test_fatal_error_type_outranks_a_retryable_status() -> None:
    # OpenAI's 429 for an account out of credit: a billing problem, not a rate limit.
    verdict = classify(HTTPStatusError(429, error_type="insufficient_quota"))
    assert verdict == Verdict(retryable=False, reason="http_429_insufficient_quota", status=429)


def test_retryable_error_type_does_not_rescue_a_fatal_status() -> None:
    verdict = classify(HTTPStatusError(401, error_type="overloaded_error"))
    assert not verdict.retryable
    assert verdict.reason == "http_401"


# --------------------------------------------------------------------------
# Retry-After, retry-after-ms, RetryInfo
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "now", "expected"),
    [
        ("0", None, 0.0),
        ("5", None, 5.0),
        (" 7 ", None, 7.0),
        ("120", NOW, 120.0),
        ("1.5", None, 1.5),  # a fraction is tolerated (the OpenAI SDK parses floats)
        ("3600", None, 3600.0),  # over any cap: reported, the policy refuses it
        (http_date(30), NOW, 30.0),
        (http_date(0), NOW, 0.0),
        (http_date(-300), NOW, 0.0),  # already past: retry at once
        ("Wed, 01 Jan 2025 00:00:10 -0000", NOW, 10.0),  # naive date read as GMT
        ("Wed Jan  1 00:00:20 2025", NOW, 20.0),  # asctime form
        (http_date(30), None, None),  # a date without a clock is ignored
        ("-1", None, None),
        ("-1", NOW, None),
        ("+5", None, None),
        ("1e3", None, None),
        ("inf", None, None),
        ("nan", NOW, None),
        ("", NOW, None),
        ("soon", NOW, None),
        ("5 seconds", NOW, None),
        ("Wed, 21 Oct 99999 07:28:00 GMT", NOW, None),
        (http_date(30), float("nan"), None),
    ],
)
def test_parse_retry_after(value: str, now: float | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=now) == expected


def test_huge_delay_seconds_is_infinite_not_ignored() -> None:
    assert parse_retry_after("9" * 400) == float("inf")


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ([], "", None),
        ([("retry-after", "2")], "", 2.0),
        ([("retry-after-ms", "1500")], "", 1.5),
        ([("retry-after-ms", "250.5")], "", 0.2505),
        # Both present: the precise one wins, as in the OpenAI SDK.
        ([("retry-after", "30"), ("retry-after-ms", "1500")], "", 1.5),
        # A malformed ms value falls back to Retry-After.
        ([("retry-after-ms", "soon"), ("retry-after", "4")], "", 4.0),
        ([("retry-after-ms", "-100"), ("retry-after", "4")], "", 4.0),
        ([("retry-after-ms", "-100")], "", None),
        ([("retry-after", "garbage")], "", None),
        ([("Retry-After", "9")], "", 9.0),  # header names are case-insensitive
        ([("retry-after", "3"), ("retry-after", "8")], "", 3.0),  # first one counts
        ([("retry-after", http_date(45))], "", 45.0),
        # Google RetryInfo in the body, when no header says anything.
        ([], '{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"}', 34.0),
        ([], '"retryDelay":"0.5s"', 0.5),
        ([("retry-after", "2")], '"retryDelay": "34s"', 2.0),
        ([], '"retryDelay": "-3s"', None),
    ],
)
def test_server_delay_sources(
    headers: list[tuple[str, str]], body: str, expected: float | None
) -> None:
    assert server_delay_from_headers(headers, body=body, now=NOW) == expected


def test_http_verdict_carries_the_server_delay() -> None:
    fault = HTTPStatusError(429, headers=[("Retry-After", http_date(12))])
    assert classify(fault, now=NOW) == Verdict(
        retryable=True, reason="http_429", server_delay=12.0, status=429
    )
    # Without a clock the date is ignored, rather than read from the wall clock.
    assert classify(fault).server_delay is None


def test_server_delay_is_kept_when_x_should_retry_decides() -> None:
    fault = HTTPStatusError(400, headers=[("x-should-retry", "true"), ("retry-after-ms", "200")])
    assert classify(fault).server_delay == 0.2


# --------------------------------------------------------------------------
# Errors inside the stream
# --------------------------------------------------------------------------


@pytest.mark.parametrize("error_type", sorted(RETRYABLE_ERROR_TYPES))
def test_retryable_stream_error_types(error_type: str) -> None:
    verdict = classify(ProviderStreamError("x", provider="p", error_type=error_type))
    assert verdict == Verdict(retryable=True, reason=f"stream_{error_type}")


@pytest.mark.parametrize("error_type", sorted(FATAL_ERROR_TYPES - {"context_length_exceeded"}))
def test_fatal_stream_error_types(error_type: str) -> None:
    verdict = classify(ProviderStreamError("x", provider="p", error_type=error_type))
    assert verdict == Verdict(retryable=False, reason=f"stream_{error_type}")


def test_error_type_tables_do_not_overlap() -> None:
    assert not RETRYABLE_ERROR_TYPES & FATAL_ERROR_TYPES


@pytest.mark.parametrize(
    ("error_type", "code", "status", "retryable", "reason"),
    [
        # The names the brief lists, as providers spell them.
        ("overloaded_error", "", 529, True, "stream_overloaded_error"),
        ("api_error", "", None, True, "stream_api_error"),
        ("rate_limit_error", "", None, True, "stream_rate_limit_error"),
        ("server_error", "", None, True, "stream_server_error"),
        ("UNAVAILABLE", "", 503, True, "stream_unavailable"),
        ("RESOURCE_EXHAUSTED", "", 429, True, "stream_resource_exhausted"),
        ("INTERNAL", "", 500, True, "stream_internal"),
        ("DEADLINE_EXCEEDED", "", 504, True, "stream_deadline_exceeded"),
        ("INVALID_ARGUMENT", "", 400, False, "stream_invalid_argument"),
        ("PERMISSION_DENIED", "", 403, False, "stream_permission_denied"),
        ("UNAUTHENTICATED", "", 401, False, "stream_unauthenticated"),
        ("CANCELLED", "", None, False, "stream_cancelled"),
        ("invalid_request_error", "", 400, False, "stream_invalid_request_error"),
        ("authentication_error", "", None, False, "stream_authentication_error"),
        # The type says nothing we know; the code does (OpenAI error.code).
        ("requests", "rate_limit_exceeded", None, True, "stream_rate_limit_exceeded"),
        ("", "server_error", None, True, "stream_server_error"),
        ("", "insufficient_quota", 429, False, "stream_insufficient_quota"),
        # The type wins over the code when both are known.
        ("server_error", "invalid_api_key", None, True, "stream_server_error"),
        # Neither known: fall back to the status with the HTTP rules.
        ("weird_error", "", 503, True, "stream_http_503"),
        ("weird_error", "", 400, False, "stream_http_400"),
        ("", "", 501, False, "stream_http_501"),
        ("", "", 599, True, "stream_http_599"),
        # Nothing to go by at all: a mid-stream error is presumed transient.
        ("weird_error", "", None, True, "stream_error"),
        ("", "", None, True, "stream_error"),
    ],
)
def test_provider_stream_error(
    error_type: str, code: str, status: int | None, retryable: bool, reason: str
) -> None:
    fault = ProviderStreamError(
        "something", provider="p", error_type=error_type, code=code, status=status
    )
    verdict = classify(fault)
    assert verdict == Verdict(retryable=retryable, reason=reason, status=status)


@pytest.mark.parametrize(
    ("message", "error_type", "code"),
    [
        ("prompt is too long: 210000 tokens > 200000 maximum", "invalid_request_error", ""),
        ("prompt is too long", "overloaded_error", ""),  # even under a retryable type
        ("bad", "", "context_length_exceeded"),
        ("bad", "context_length_exceeded", ""),
        ("Your input exceeds the context window of this model", "", ""),
    ],
)
def test_context_length_in_stream_error(message: str, error_type: str, code: str) -> None:
    fault = ProviderStreamError(message, provider="p", error_type=error_type, code=code, status=500)
    assert classify(fault) == Verdict(retryable=False, reason="context_length_exceeded", status=500)


# --------------------------------------------------------------------------
# Faults and errors with one fixed verdict
# --------------------------------------------------------------------------

FIXED_ROWS: list[tuple[BaseException, bool, str, int | None]] = [
    (IncompleteStreamError("cut", provider="openai"), True, "incomplete_stream", None),
    (UnexpectedContentError("text/html", body="<html>"), True, "unexpected_content", 1),
    (SSEProtocolError("line too long"), False, "sse_protocol_error", None),
    (ProviderProtocolError("bad json", provider="openai"), True, "provider_protocol_error", None),
    (ProtocolError("odd bytes"), True, "protocol_error", None),
    (Fault("unspecified"), True, "fault", None),
    (UsageError("wrong call"), False, "usage_error", None),
    (StorageError("disk full"), False, "storage_error", None),
    (MissingExtraError("async", "async", "anyio"), False, "missing_extra", None),
    (StreamInterrupted("gave up", cause=None), False, "stream_interrupted", None),
    (StreamRecoverError("root"), False, "library_error", None),
    (ValueError("bug"), False, "foreign_exception", None),
    (OSError("unmapped socket error"), False, "foreign_exception", None),
    (TimeoutError(), False, "foreign_exception", None),
    (asyncio.CancelledError(), False, "cancelled", None),
    (KeyboardInterrupt(), False, "cancelled", None),
    (SystemExit(1), False, "cancelled", None),
    (GeneratorExit(), False, "cancelled", None),
]


@pytest.mark.parametrize(
    ("error", "retryable", "reason", "limit"), FIXED_ROWS, ids=[row[2] for row in FIXED_ROWS]
)
def test_fixed_verdicts(
    error: BaseException, retryable: bool, reason: str, limit: int | None
) -> None:
    verdict = classify(error, now=NOW)
    assert verdict == Verdict(retryable=retryable, reason=reason, retry_limit=limit)
    assert not verdict.transport


def test_subclass_of_a_fixed_fault_takes_the_nearest_rule() -> None:
    class LineTooLong(SSEProtocolError):
        pass

    class FrameCorrupt(ProtocolError):
        pass

    assert classify(LineTooLong("x")).reason == "sse_protocol_error"
    assert classify(FrameCorrupt("x")).reason == "protocol_error"


# --------------------------------------------------------------------------
# is_recoverable
# --------------------------------------------------------------------------

RECOVERABLE_ROWS: list[tuple[BaseException, bool]] = [
    (StreamInterrupted("out of retries", cause=None, recoverable=True), True),
    (StreamInterrupted("401", cause=HTTPStatusError(401), recoverable=False), False),
    # The attribute is what counts, not the cause: the session already judged.
    (StreamInterrupted("x", cause=HTTPStatusError(503), recoverable=False), False),
    (TransportError("reset", kind="reset"), True),
    (TransportError("bad cert", kind="tls_certificate"), False),
    (HTTPStatusError(529), True),
    (HTTPStatusError(401), False),
    (HTTPStatusError(400, body="prompt is too long"), False),
    (ProviderStreamError("x", provider="anthropic", error_type="overloaded_error"), True),
    (ProviderStreamError("x", provider="anthropic", error_type="invalid_request_error"), False),
    (IncompleteStreamError("cut"), True),
    (UnexpectedContentError("text/html"), True),
    (SSEProtocolError("too big"), False),
    (ProviderProtocolError("bad json", provider="gemini"), True),
    (ProtocolError("odd"), True),
    (Fault("x"), True),
    (UsageError("x"), False),
    (StorageError("x"), False),
    (MissingExtraError("disk storage", "disk", "diskcache"), False),
    (StreamRecoverError("x"), False),
    (RuntimeError("x"), False),
    (asyncio.CancelledError(), False),
    (KeyboardInterrupt(), False),
]


@pytest.mark.parametrize(("error", "expected"), RECOVERABLE_ROWS)
def test_is_recoverable(error: BaseException, expected: bool) -> None:
    assert is_recoverable(error) is expected


# --------------------------------------------------------------------------
# Properties: classification never raises and never invents a negative delay
# --------------------------------------------------------------------------

header_names = st.sampled_from(["retry-after", "retry-after-ms", "x-should-retry", "other"])


@given(
    status=st.integers(min_value=-1000, max_value=100_000),
    headers=st.lists(st.tuples(header_names, st.text(max_size=40)), max_size=4),
    body=st.text(max_size=200),
    error_type=st.text(max_size=30),
    now=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_http_classification_is_total(
    status: int, headers: list[tuple[str, str]], body: str, error_type: str, now: float | None
) -> None:
    fault = HTTPStatusError(status, headers=headers, body=body, error_type=error_type)
    verdict = classify(fault, now=now)
    assert verdict.status == status
    assert verdict.server_delay is None or verdict.server_delay >= 0.0
    assert classify(fault, now=now) == verdict  # deterministic


@given(
    error_type=st.text(max_size=30),
    code=st.text(max_size=30),
    message=st.text(max_size=100),
    status=st.one_of(st.none(), st.integers(min_value=100, max_value=999)),
)
def test_stream_error_classification_is_total(
    error_type: str, code: str, message: str, status: int | None
) -> None:
    fault = ProviderStreamError(
        message, provider="p", error_type=error_type, code=code, status=status
    )
    verdict = classify(fault)
    assert verdict.status == status
    assert verdict.reason
    assert verdict.server_delay is None
