"""Find storage backends through the entry-point group ``streamrecover.storage``.

The entry-point name is the URL scheme: ``sqlite = "pkg.module:SQLiteStorage"``
makes ``sqlite:///streams.db`` open a ``SQLiteStorage``. The built-in backends
are registered in streamrecover's own ``pyproject.toml`` exactly as a third
party registers one, and are also known by name here (:data:`BUILTIN_STORAGES`,
kept equal to ``pyproject.toml`` by a test): opening ``memory://``, ``sqlite://``,
``disk://`` or ``redis://`` imports no ``importlib.metadata`` and reads no
installed metadata (about 35 ms of the first ``Client`` otherwise), and a
third-party distribution cannot take a built-in scheme over (it is logged at
DEBUG and ignored). Any other scheme is looked up in the group, which is read
again whenever the installed distributions may have changed (the import path,
or the modification time of a folder on it: pip adds or removes a
``*.dist-info`` folder there), so a package installed at run time is seen,
while building many clients reads the installed metadata once (reading it
costs about 10 ms a time; the check, a few ``stat`` calls).

A plugin that fails to load is logged (logger ``streamrecover``) and skipped by
:func:`available_storages`; its error is raised only when it is asked for by
name, so one broken package cannot take the others down.
"""

from __future__ import annotations

import importlib
import os
import sys
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
#: The backends streamrecover ships, by scheme: the same as its ``pyproject.toml`` entry points.
BUILTIN_STORAGES: dict[str, str] = {
    "memory": "streamrecover.storage.memory:MemoryStorage",
    "sqlite": "streamrecover.storage.sqlite:SQLiteStorage",
    "disk": "streamrecover.storage.disk:DiskStorage",
    "redis": "streamrecover.storage.redis:RedisStorage",
    "rediss": "streamrecover.storage.redis:RedisStorage",
}


def entry_points(*, group: str) -> EntryPoints:
    """``importlib.metadata.entry_points(group=...)``, imported on first use (slow to load)."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


#: The last group read, under the state of the import path it was read under.
_last_read: dict[tuple[object, ...], dict[str, EntryPoint]] = {}


def _installed_state() -> tuple[object, ...]:
    """What changes when a distribution is installed or removed under the import path."""
    state: list[object] = [entry_points, tuple(sys.path)]
    for folder in sys.path:
        try:
            state.append(os.stat(folder or ".").st_mtime_ns)
        except OSError:  # a path hook or a folder that does not exist (yet)
            state.append(None)
    return tuple(state)


def _entry_points() -> dict[str, EntryPoint]:
    state = _installed_state()
    kept = _last_read.get(state)
    if kept is not None:
        return dict(kept)
    found: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        name = entry_point.name.lower()
        if name in BUILTIN_STORAGES:
            if entry_point.value != BUILTIN_STORAGES[name]:
                logger.debug(
                    "ignoring storage plugin %r (%s): the scheme is built in",
                    name, entry_point.value,
                )
            continue
        # Two distributions may claim one name; the first found wins, as in keyring.
        found.setdefault(name, entry_point)
    _last_read.clear()
    _last_read[state] = found
    return dict(found)


def _load_builtin(name: str) -> type[Storage]:
    module_name, _, class_name = BUILTIN_STORAGES[name].partition(":")
    # MissingExtraError (an ImportError saying which extra to install) passes through.
    loaded: type[Storage] = getattr(importlib.import_module(module_name), class_name)
    return loaded


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
    plugins = _entry_points()
    for name in sorted([*BUILTIN_STORAGES, *plugins]):
        try:
            storages[name] = _load_builtin(name) if name in BUILTIN_STORAGES else _load(
                name, plugins[name]
            )
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
    scheme = name.lower()
    if scheme in BUILTIN_STORAGES:
        return _load_builtin(scheme)
    found = _entry_points()
    entry_point = found.get(scheme)
    if entry_point is None:
        raise UnknownStorageError(name, sorted([*BUILTIN_STORAGES, *found]))
    return _load(scheme, entry_point)


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
            f"a storage URL looks like 'memory://' or 'sqlite:///streams.db', got {redact(url)!r}"
        )
    return storage_class(scheme).from_url(url, clock=clock)
