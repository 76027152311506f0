"""The description of one HTTP request, as the core hands it to a transport.

The core never sends anything; a provider builds an :class:`HTTPRequest` and a
transport carries it out. Credentials live only in ``headers`` (or, for Gemini,
may be in the URL's ``key=`` query value); :meth:`HTTPRequest.sanitized` is what
may be logged or stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["SECRET_HEADERS", "SECRET_QUERY_KEYS", "HTTPRequest", "redact_url"]

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
#: Query parameter names whose values are credentials.
SECRET_QUERY_KEYS = frozenset({"key", "api_key", "api-key", "access_token"})
REDACTED = "[redacted]"


def redact_url(url: str) -> str:
    """Return ``url`` with credential query values and userinfo replaced by a marker."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        # Userinfo (user:password) is dropped whole; a bracketed marker there
        # would read back as an IPv6 literal.
        netloc = netloc.rsplit("@", 1)[1]
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = [
        (name, REDACTED if name.lower() in SECRET_QUERY_KEYS else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(pairs, safe="[]")))


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
        headers = tuple(
            (name, REDACTED if name.lower() in SECRET_HEADERS else value)
            for name, value in self.headers
        )
        return replace(self, url=redact_url(self.url), headers=headers)

    def __repr__(self) -> str:
        # Never let a credential reach a log line through repr().
        safe = self.sanitized()
        size = 0 if self.body is None else len(self.body)
        return f"HTTPRequest(method={safe.method!r}, url={safe.url!r}, body={size} bytes)"
