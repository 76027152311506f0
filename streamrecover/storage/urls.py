"""The URL rules the file-backed storages share: ``scheme:///relative`` and ``scheme:////absolute``.

Re-exported by :mod:`streamrecover.storage.base`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from streamrecover.storage.errors import StorageURLError

__all__ = ["file_url", "path_from_url"]


def path_from_url(url: str, scheme: str) -> Path:
    """Return the filesystem path in ``scheme:///relative`` or ``scheme:////absolute``.

    The rule is SQLAlchemy's: after ``scheme://`` comes an empty host, a ``/``,
    then the path, so three slashes begin a relative path and four an absolute
    one. Percent-escapes are decoded. Raises StorageURLError for another
    scheme, a host, a query or fragment, or an empty path.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != scheme or not url.lower().startswith(f"{scheme}://"):
        raise StorageURLError(f"expected a {scheme}:// URL, got {url!r}")
    if parts.netloc:
        raise StorageURLError(
            f"{url!r} has a host part {parts.netloc!r}; write {scheme}:///relative/path "
            f"or {scheme}:////absolute/path"
        )
    if parts.query or parts.fragment:
        raise StorageURLError(f"{url!r}: a {scheme} URL takes no query or fragment")
    path = unquote(parts.path[1:])
    if not path:
        raise StorageURLError(f"{url!r} names no path; write {scheme}:///relative/path")
    return Path(path)


def file_url(url: str, scheme: str) -> tuple[Path, bool]:
    """Return the path of a file storage URL and whether it asks for read-only use.

    As :func:`path_from_url`, plus one optional query: ``?mode=ro`` (SQLite's
    own name for it) opens the storage read-only, ``?mode=rw`` (the default)
    read-write. Raises StorageURLError for any other query.
    """
    base, _, query = url.partition("?")
    if not query:
        return path_from_url(url, scheme), False
    if query not in ("mode=ro", "mode=rw"):
        raise StorageURLError(
            f"{url!r}: a {scheme} URL takes one query, ?mode=ro or ?mode=rw, got {query!r}"
        )
    return path_from_url(base, scheme), query == "mode=ro"
