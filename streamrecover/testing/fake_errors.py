"""The error payloads of the fake providers: with a non-2xx status, and in the middle of a stream.

Re-exported by :mod:`streamrecover.testing.fakeprovider`, the usual import.
"""

from __future__ import annotations

from typing import Any, Literal

from streamrecover.testing.fake_frames import PROVIDERS, Frame, _dumps, _sse

__all__ = ["ErrorKind", "error_body", "error_frames"]

ErrorKind = Literal["overloaded", "rate_limit", "server_error"]

_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
_ANTHROPIC_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "api_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_OPENAI_TYPE = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("conflict", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
    504: ("server_error", None),
    529: ("server_error", None),
}


def error_body(provider: str, status: int, message: str = "") -> bytes:
    """Return the JSON error body ``provider`` answers with ``status``.

    Anthropic ``{"type": "error", "error": {"type", "message"}}``, OpenAI
    ``{"error": {"message", "type", "param", "code"}}``, Google
    ``{"error": {"code", "message", "status"}}``.
    """
    text = message or f"fake {provider} error with status {status}"
    if provider == "anthropic":
        payload: dict[str, Any] = {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPE.get(status, "api_error"), "message": text},
        }
    elif provider == "gemini":
        payload = {
            "error": {
                "code": status,
                "message": text,
                "status": _GOOGLE_STATUS.get(status, "UNKNOWN"),
            }
        }
    else:
        error_type, code = _OPENAI_TYPE.get(status, ("server_error", None))
        payload = {"error": {"message": text, "type": error_type, "param": None, "code": code}}
    return _dumps(payload).encode()


def error_frames(
    provider: str, kind: ErrorKind = "overloaded", *, sequence_number: int = 0
) -> list[Frame]:
    """Return the SSE events of an error in the middle of a stream.

    Anthropic ``event: error`` with ``overloaded_error`` (or ``rate_limit_error``,
    ``api_error``); OpenAI Chat ``data: {"error": ...}`` then ``data: [DONE]`` (as
    vLLM and the API send it); Responses an ``error`` event (with
    ``sequence_number``); Gemini ``data: {"error": ...}``.
    """
    if provider == "anthropic":
        error_type = {
            "overloaded": "overloaded_error",
            "rate_limit": "rate_limit_error",
            "server_error": "api_error",
        }[kind]
        payload: dict[str, Any] = {
            "type": "error",
            "error": {"type": error_type, "message": "Overloaded"},
        }
        return [Frame(data=_sse(_dumps(payload), "error"), kind="error")]
    if provider == "openai":
        code = {
            "overloaded": "server_is_overloaded",
            "rate_limit": "rate_limit_exceeded",
            "server_error": "internal_error",
        }[kind]
        payload = {
            "error": {
                "message": "The server had an error while processing your request.",
                "type": "server_error",
                "param": None,
                "code": code,
            }
        }
        return [
            Frame(data=_sse(_dumps(payload)), kind="error"),
            Frame(data=_sse("[DONE]"), kind="terminal"),
        ]
    if provider == "openai-responses":
        code = {
            "overloaded": "server_is_overloaded",
            "rate_limit": "rate_limit_exceeded",
            "server_error": "server_error",
        }[kind]
        payload = {
            "type": "error",
            "code": code,
            "message": "The server is overloaded.",
            "param": None,
            "sequence_number": sequence_number,
        }
        return [
            Frame(
                data=_sse(_dumps(payload), "error"), kind="error", sequence_number=sequence_number
            )
        ]
    if provider == "gemini":
        status, name = {
            "overloaded": (503, "UNAVAILABLE"),
            "rate_limit": (429, "RESOURCE_EXHAUSTED"),
            "server_error": (500, "INTERNAL"),
        }[kind]
        payload = {"error": {"code": status, "message": "The model is overloaded.", "status": name}}
        return [Frame(data=_sse(_dumps(payload)), kind="error")]
    raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
