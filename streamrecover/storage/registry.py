"""Find storage backends through the entry-point group ``streamrecover.storage``.

The entry-point name is the URL scheme: ``sqlite = "pkg.module:SQLiteStorage"``
makes ``sqlite:///streams.db`` open a ``SQLiteStorage``. The built-in backends
are registered in streamrecover's own ``pyproject.toml`` exactly as a third
party registers one, so there is one lookup path for all (as keyring and
fsspec do). The group is read on every call; nothing is cached, so a package
installed at run time is seen.

A plugin that fails to load is logged (logger ``streamrecover``) and skipped by
:func:`available_storages`; its error is raised only when it is asked for by
name, so one broken package cannot take the others down.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from streamrecover._logging import logger
from streamrecover.core.errors import MissingExtraError, StorageError, StreamRecoverError
from streamrecover.core.redact import redact
from streamrecover.storage.base import Clock, Storage
from streamrecover.storage.errors import StorageURLError, UnknownStorageError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint, EntryPoints

__all__ = ["ENTRY_POINT_GROUP", "available_storages", "open_storage", "storage_class"]

#: The entry-point group third-party storages register in.
ENTRY_POINT_GROUP = "streamrecover.storage"
#: The storage a client uses when it is given none.
DEFAULT_STORAGE_URL = "memory://"



def entry_points(*, group: str) -> EntryPoints:
    """``importlib.metadata.entry_points(group=...)``, imported on first use (slow to load)."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        # Two distributions may claim one name; the first found wins, as in keyring.
        found.setdefault(entry_point.name.lower(), entry_point)
    return found


def _load(name: str, entry_point: EntryPoint) -> type[Storage]:
    try:
        loaded = entry_point.load()
    except StreamRecoverError:  # MissingExtraError and friends already say what to do
        raise
    except Exception as exc:  # a third-party module may fail in any way at import
        raise StorageError(
            f"storage plugin {name!r} ({entry_point.value}) failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Storage)):
        raise StorageError(
            f"storage plugin {name!r} ({entry_point.value}) is not a Storage subclass: {loaded!r}"
        )
    return loaded


def available_storages() -> dict[str, type[Storage]]:
    """Return every storage backend that loads, by scheme, sorted by name.

    A backend whose optional dependency is missing is left out (logged at
    DEBUG); one that fails to load otherwise is left out and logged as a
    WARNING with its traceback. Never raises for a plugin's fault.
    """
    storages: dict[str, type[Storage]] = {}
    for name, entry_point in sorted(_entry_points().items()):
        try:
            storages[name] = _load(name, entry_point)
        except MissingExtraError as exc:
            logger.debug("storage %r is not available: %s", name, exc)
        except StorageError:
            logger.warning("skipping storage plugin %r", name, exc_info=True)
    return storages


def storage_class(name: str) -> type[Storage]:
    """Return the backend registered under ``name`` (a URL scheme, case-insensitive).

    Raises UnknownStorageError (a ValueError) listing the registered names,
    MissingExtraError if the backend needs an extra that is not installed, and
    StorageError if the plugin fails to load.
    """
    found = _entry_points()
    entry_point = found.get(name.lower())
    if entry_point is None:
        raise UnknownStorageError(name, sorted(found))
    return _load(name.lower(), entry_point)


def open_storage(url: str = DEFAULT_STORAGE_URL, *, clock: Clock = time.time) -> Storage:
    """Open the storage ``url`` names: ``memory://``, ``sqlite:///streams.db``,
    ``disk:///cache/dir`` or a third-party scheme.

    File paths follow SQLAlchemy's rule: ``sqlite:///relative.db`` (three
    slashes) is relative to the working directory, ``sqlite:////abs/path.db``
    (four) is absolute. ``clock`` is the wall clock the storage stamps records with.

    Raises StorageURLError (a ValueError) for a URL without a scheme,
    UnknownStorageError for an unregistered scheme, MissingExtraError for a
    missing extra, StorageError if the storage cannot be opened.
    """
    scheme, separator, _ = url.partition("://")
    if not separator or not scheme:
        raise StorageURLError(
            f"a storage URL looks like 'memory://' or 'sqlite:///streams.db', "
            f"got {redact(url)!r}"
        )
    return storage_class(scheme).from_url(url, clock=clock)
