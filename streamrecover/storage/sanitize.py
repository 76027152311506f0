"""The one place where what goes to storage is stripped of credentials.

Every :class:`~streamrecover.storage.record.StreamRecord` passes its URL, request
body, options and error message through these functions when it is built, so
no backend — built-in or third-party — can be handed a credential to write.

What is removed:

* top-level keys of the request body and the options that name a credential
  (``api_key``, ``authorization``, ``x-api-key``, ``key``, ...);
* inside any top-level ``headers`` / ``extra_headers`` / ``default_headers``
  container, every header in :data:`streamrecover.core.http.SECRET_HEADERS`;
* inside any top-level ``query`` / ``extra_query`` / ``params`` container, every
  name in :data:`streamrecover.core.http.SECRET_QUERY_KEYS`;
* userinfo and credential query values of every top-level ``*url`` string
  (:func:`sanitize_url`).

What is kept verbatim: everything nested deeper, above all ``messages`` and tool
inputs. That is the conversation itself; a resume re-sends it, so a tool
argument that happens to be called ``key`` must survive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamrecover.core.redact import SECRET_HEADERS, SECRET_QUERY_KEYS, redact

__all__ = ["redact_text", "sanitize_mapping", "sanitize_url"]


def _normalize(name: str) -> str:
    return name.strip().lower().replace("-", "_")


#: Top-level key names (normalized: lower case, ``-`` as ``_``) that hold a credential.
SECRET_KEYS = frozenset(
    {_normalize(name) for name in SECRET_HEADERS | SECRET_QUERY_KEYS}
    | {"apikey", "api_token", "auth", "auth_token", "bearer", "password", "secret",
       "client_secret", "secret_key", "token", "credentials"}
)
_SECRET_HEADER_NAMES = frozenset(_normalize(name) for name in SECRET_HEADERS)
_SECRET_QUERY_NAMES = frozenset(_normalize(name) for name in SECRET_QUERY_KEYS)
_HEADER_CONTAINERS = frozenset({"headers", "extra_headers", "default_headers", "http_headers"})
_QUERY_CONTAINERS = frozenset({"query", "extra_query", "default_query", "params", "query_params"})



def sanitize_url(url: str) -> str:
    """Return ``url`` without userinfo and with credential query values replaced by a marker.

    Idempotent and never raises (see :func:`streamrecover.core.redact.redact`).
    """
    return redact(url) if url else url


def _filter_pairs(container: Any, secret_names: frozenset[str]) -> Any:
    # Headers and queries come as a mapping or as a list of [name, value] pairs.
    if isinstance(container, Mapping):
        return {
            name: value
            for name, value in container.items()
            if not (isinstance(name, str) and _normalize(name) in secret_names)
        }
    if isinstance(container, list | tuple):
        kept = []
        for item in container:
            if (
                isinstance(item, list | tuple)
                and len(item) == 2
                and isinstance(item[0], str)
                and _normalize(item[0]) in secret_names
            ):
                continue
            kept.append(item)
        return kept
    return container


def sanitize_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a shallow copy of ``data`` with credentials removed (see the module docstring).

    ``data`` is a request body or an options mapping. The function is idempotent
    and never raises; nested values other than header and query containers are
    shared with ``data``, not copied.
    """
    clean: dict[str, Any] = {}
    for name, value in data.items():
        key = _normalize(name) if isinstance(name, str) else ""
        if key in SECRET_KEYS:
            continue
        if key in _HEADER_CONTAINERS:
            clean[name] = _filter_pairs(value, _SECRET_HEADER_NAMES)
        elif key in _QUERY_CONTAINERS:
            clean[name] = _filter_pairs(value, _SECRET_QUERY_NAMES)
        elif key.endswith("url") and isinstance(value, str):
            clean[name] = sanitize_url(value)
        else:
            clean[name] = value
    return clean


def redact_text(text: str) -> str:
    """Return free ``text`` with URLs redacted and bearer tokens and provider keys masked.

    Used on exception messages before they are stored; the one redaction rule
    of the library (:func:`streamrecover.core.redact.redact`).
    """
    return redact(text)
