"""The description of one HTTP request, as the core hands it to a transport.

The core never sends anything; a provider builds an :class:`HTTPRequest` and a
transport carries it out. Credentials live only in ``headers`` (or, for Gemini,
may be in the URL's ``key=`` query value); :meth:`HTTPRequest.sanitized` is what
may be logged or stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from streamrecover.core.redact import (
    REDACTED,
    SECRET_HEADERS,
    SECRET_QUERY_KEYS,
    redact_headers,
    redact_url,
)

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_KEYS",
    "HTTPRequest",
    "join_url",
    "redact_url",
]


def join_url(base_url: str, path: str, query: str = "") -> str:
    """Return ``base_url`` with ``path`` appended to its path and ``query`` to its query.

    A base URL may carry a query string (a gateway's ``?api-version=...`` or
    ``?api_key=...``): the path goes before it, never after it, and the
    endpoint's own ``query`` (``alt=sse``) is joined to it with ``&``. A
    fragment is dropped. ``path`` starts with ``/``.
    """
    base = base_url.split("#", 1)[0]
    base_path, _, base_query = base.partition("?")
    url = base_path.rstrip("/") + path
    joined = "&".join(part for part in (query, base_query) if part)
    return f"{url}?{joined}" if joined else url


@dataclass(frozen=True, slots=True, kw_only=True)
class HTTPRequest:
    """One HTTP request: method, absolute URL, headers (name, value) and body bytes."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def with_header(self, name: str, value: str) -> HTTPRequest:
        """Return a copy with header ``name`` set to ``value`` (replacing any earlier one)."""
        wanted = name.lower()
        kept = tuple((k, v) for k, v in self.headers if k.lower() != wanted)
        return replace(self, headers=(*kept, (name, value)))

    def sanitized(self) -> HTTPRequest:
        """Return a copy safe to log or store: credentials removed from headers and URL."""
        return replace(self, url=redact_url(self.url), headers=redact_headers(self.headers))

    def __repr__(self) -> str:
        # Never let a credential reach a log line through repr().
        safe = self.sanitized()
        size = 0 if self.body is None else len(self.body)
        return f"HTTPRequest(method={safe.method!r}, url={safe.url!r}, body={size} bytes)"
