"""What every ``streamrecover`` command shares: exit codes, the default storage, errors.

Kept apart from :mod:`streamrecover.cli` (parsing and dispatch) so that the
command modules import it without importing each other.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from streamrecover.core.errors import StreamRecoverError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "default_storage_url",
    "error",
    "open_storage_for",
    "redact_message",
    "usage_error",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INTERRUPTED = 4

def default_storage_url() -> str:
    """The storage used when none is given: $STREAMRECOVER_STORAGE or the cache file."""
    configured = os.environ.get("STREAMRECOVER_STORAGE")
    if configured:
        return configured
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(cache).absolute() / "streamrecover" / "streams.db"
    # Three slashes and a relative path, four and an absolute one (SQLAlchemy's rule).
    return "sqlite:///" + str(path)


def error(message: str) -> None:
    print(f"streamrecover: error: {message}", file=sys.stderr)


def _api_key_variables() -> list[str]:
    from streamrecover.providers.registry import provider_class, provider_names

    return sorted({name for p in provider_names() for name in provider_class(p).api_key_env})


def redact_message(message: str) -> str:
    """``message`` without credentials: key shapes masked, and the keys the CLI was given.

    A server may echo the key it refused ("Incorrect API key provided: sk-...");
    the CLI's only credentials are the providers' environment variables, so
    their values are cut out of anything it prints.
    """
    from streamrecover.core.redact import redact

    return redact(message, secrets=[os.environ.get(name) for name in _api_key_variables()])


def open_storage_for(args: argparse.Namespace, *, read_only: bool = False) -> Any:
    from streamrecover.storage import open_storage

    url = args.storage or default_storage_url()
    if args.command != "demo" and not _storage_exists(url):
        # Managing streams never creates a database (a mistyped path would
        # otherwise leave an empty one, and its folders, behind): an absent
        # file or folder is an empty storage.
        return open_storage("memory://")
    if read_only and url.split(":", 1)[0].lower() in ("sqlite", "disk") and "?" not in url:
        # Looking never writes: SQLite's mode=ro, so a read-only file or
        # directory can be listed, and nothing (not even a journal mode) changes.
        url += "?mode=ro"
    return open_storage(url)


def _storage_exists(url: str) -> bool:
    from streamrecover.storage.base import file_url

    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("sqlite", "disk"):
        return True
    return file_url(url, scheme)[0].exists()  # a stat: never an open of a live database


def usage_error(message: str) -> StreamRecoverError:
    from streamrecover.core.errors import UsageError

    return UsageError(message)
