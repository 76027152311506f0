"""The one place where text is stripped of credentials before anyone can read it.

Every ``repr`` (clients, providers, transports, streams, records), every log
line and every error message the library builds goes through :func:`redact`.
What it removes:

* the userinfo (``user:password@``) of every URL;
* the value of every key-like query parameter (:data:`SECRET_QUERY_KEYS`:
  ``api_key``, ``key``, ``token``, ``access_token``, ``sig``...), in a URL or in
  a bare query string (``POST /v1/chat?api_key=...``);
* the value of every credential header (:data:`SECRET_HEADERS`) written as
  ``Name: value``, ``name=value`` or a Python ``('name', 'value')`` pair;
* ``Bearer``/``Basic`` tokens and the shapes provider keys take in error bodies
  (``sk-...``, ``sk-ant-...``, ``AIza...``);
* every literal ``secrets`` value the caller names: the API key itself, which
  a server may echo in an error body in any shape.

It is a filter on text, so it errs on the side of removing too much: a header
value is masked to the end of its line or quote. Idempotent; never raises.
Stdlib only, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_KEYS",
    "is_secret_header",
    "redact",
    "redact_exception",
    "redact_headers",
    "redact_url",
]

REDACTED = "[redacted]"

#: Header names (lower case) whose values are credentials: never logged, never stored.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
    }
)

#: Query parameter names (lower case) whose values are credentials: API keys,
#: OAuth tokens, and the signatures of pre-signed URLs (Azure SAS ``sig``, AWS
#: SigV4 and Google V4 ``X-*-Signature`` / ``-Credential`` / ``-Security-Token``).
SECRET_QUERY_KEYS = frozenset(
    {
        "key",
        "api_key",
        "api-key",
        "apikey",
        "access_token",
        "id_token",
        "refresh_token",
        "token",
        "auth",
        "auth_token",
        "sig",
        "signature",
        "secret",
        "client_secret",
        "password",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
    }
)

#: A literal secret shorter than this is not searched for in text: replacing
#: every "ab" in a message would destroy it and protect nothing.
_MIN_SECRET = 4

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@'\"<>]*@")
_QUERY_NAMES = "|".join(sorted((re.escape(name) for name in SECRET_QUERY_KEYS), key=len)[::-1])
_SECRET_QUERY = re.compile(rf"(?i)([?&;](?:{_QUERY_NAMES})=)[^&#;\s'\"<>]*")
_HEADER_NAMES = "|".join(sorted((re.escape(name) for name in SECRET_HEADERS), key=len)[::-1])
_SECRET_HEADER = re.compile(
    rf"(?i)(?<![\w-])((?:{_HEADER_NAMES})(?:['\"]\s*[:,]|\s*[:=])\s*(?:b?['\"])?)"
    r"(?!b?['\"]?\[redacted\])[^\s'\"][^'\"\r\n]*"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]+")
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_-]{12,}|AIza[A-Za-z0-9_-]{20,})")


def redact(text: str, *, secrets: Iterable[str | None] = ()) -> str:
    """Return ``text`` with every credential in it replaced by ``[redacted]``.

    Args:
        text: any text: a URL, a log line, an error message, a repr.
        secrets: literal values to remove wherever they appear (the API key,
            the value of a credential header); None and empty values are skipped.

    Returns:
        The redacted text (the same text when there was nothing to remove).
    """
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len)[::-1]:
        text = text.replace(secret, REDACTED)
    if "@" in text:
        text = _URL_USERINFO.sub(r"\1", text)
    if "=" in text:
        text = _SECRET_QUERY.sub(lambda match: match.group(1) + REDACTED, text)
    text = _SECRET_HEADER.sub(lambda match: match.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    return _KEY_SHAPES.sub(REDACTED, text)


def redact_url(url: str) -> str:
    """Return ``url`` without userinfo and with key-like query values replaced.

    The rest of the URL is kept byte for byte (no re-encoding). Equivalent to
    :func:`redact` on a string that holds one URL.
    """
    return redact(url)


def is_secret_header(name: str) -> bool:
    """Whether header ``name`` (any case) carries a credential."""
    return name.lower() in SECRET_HEADERS


def redact_headers(headers: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Return ``headers`` with the value of every credential header replaced."""
    return tuple((name, REDACTED if is_secret_header(name) else value) for name, value in headers)


def redact_exception(exc: BaseException, *, secrets: Iterable[str | None] = ()) -> None:
    """Redact, in place, the message and the text attributes of ``exc`` (one of ours).

    A fault may quote what a server sent back, and a server may echo the key it
    refused; the exception is scrubbed once, where the library first holds it,
    so that ``str(exc)``, its ``body`` or ``detail`` and every message built
    from it are clean.
    """
    exc.args = tuple(
        redact(arg, secrets=secrets) if isinstance(arg, str) else arg for arg in exc.args
    )
    for name, value in list(vars(exc).items()):
        if isinstance(value, str):
            setattr(exc, name, redact(value, secrets=secrets))
