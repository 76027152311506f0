"""Provider error payloads: their HTTP equivalents and the reading of error bodies."""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "ANTHROPIC_ERROR_STATUS",
    "GOOGLE_ERROR_STATUS",
    "OPENAI_ERROR_STATUS",
    "error_info",
    "status_of",
]

#: Anthropic error types and their HTTP status
#: (https://docs.anthropic.com/en/api/errors, "HTTP errors").
ANTHROPIC_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

#: OpenAI error types and codes (chat ``error`` frames, Responses ``error`` events and
#: ``response.failed`` codes) and the status the same failure has as an HTTP answer.
OPENAI_ERROR_STATUS = {
    "invalid_request_error": 400,
    "invalid_prompt": 400,
    "context_length_exceeded": 400,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "model_not_found": 404,
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "internal_error": 500,
    "api_error": 500,
    "service_unavailable": 503,
    "overloaded_error": 529,
}

#: Google RPC status names (google.rpc.Code) and their HTTP mapping.
GOOGLE_ERROR_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

_EXCERPT = 200


def status_of(table: dict[str, int], *names: object) -> int | None:
    """Return the HTTP status of the first of ``names`` found in ``table``.

    An integer between 400 and 599 among ``names`` (vLLM and Gemini put the
    status itself in ``code``) is taken as it is.
    """
    for name in names:
        if type(name) is int and 400 <= name <= 599:
            return name
        if type(name) is str and name in table:
            return table[name]
    return None


def _text(value: Any) -> str:
    return value if type(value) is str else ""


def error_info(body_text: str) -> tuple[str, str]:
    """Return ``(error_type, message)`` from the body of a non-2xx response.

    Reads every shape the built-in formats use: OpenAI
    ``{"error": {"type", "code", "message"}}``, Anthropic
    ``{"type": "error", "error": {"type", "message"}}``, Gemini
    ``{"error": {"code", "status", "message"}}`` (also inside a one-element
    array), vLLM's flat ``{"object": "error", "type", "message"}`` and Ollama's
    ``{"error": "message"}``. Never raises: a body that is not JSON, or JSON of
    another shape, gives ``("", excerpt of the body)``.
    """
    fallback = ("", body_text.strip()[:_EXCERPT])
    try:
        document = json.loads(body_text)
    except (ValueError, RecursionError):
        return fallback
    if type(document) is list and len(document) == 1:
        document = document[0]
    if type(document) is not dict:
        return fallback
    error = document.get("error")
    if type(error) is str:
        return "", error[:_EXCERPT] or fallback[1]
    if type(error) is not dict:
        if document.get("object") == "error" or "message" in document:
            error = document
        else:
            return fallback
    error_type = _text(error.get("type")) or _text(error.get("status")) or _text(error.get("code"))
    message = _text(error.get("message"))
    return error_type, message or fallback[1]
