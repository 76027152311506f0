"""Discovery through the entry-point group: built-ins, unknown names, broken plugins, extras."""

from __future__ import annotations

import logging
import sys
import time
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path

import pytest

from streamrecover.core.errors import (
    MissingExtraError,
    StorageError,
    StreamRecoverError,
    UsageError,
)
from streamrecover.storage import (
    MemoryStorage,
    SQLiteStorage,
    Storage,
    StorageURLError,
    UnknownStorageError,
    available_storages,
    open_storage,
    registry,
    storage_class,
)
from streamrecover.storage.base import Clock

GROUP = "streamrecover.storage"


class NotAStorage:
    pass


class StubStorage(MemoryStorage):
    """A third-party storage, as a plugin would ship one."""

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = time.time) -> StubStorage:
        return cls(clock=clock)


def plugins(**extra: str) -> EntryPoints:
    builtin = [
        EntryPoint("memory", "streamrecover.storage.memory:MemoryStorage", GROUP),
        EntryPoint("sqlite", "streamrecover.storage.sqlite:SQLiteStorage", GROUP),
    ]
    added = [EntryPoint(name, value, GROUP) for name, value in extra.items()]
    return EntryPoints([*builtin, *added])


@pytest.fixture
def fake_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = plugins(
        broken="no_such_module_for_streamrecover_tests:Storage",
        notastorage=f"{__name__}:NotAStorage",
        stub=f"{__name__}:StubStorage",
    )
    monkeypatch.setattr(registry, "entry_points", lambda group: entries.select(group=group))


def test_the_built_ins_are_found_through_installed_entry_points() -> None:
    found = available_storages()
    assert found["memory"] is MemoryStorage
    assert found["sqlite"] is SQLiteStorage
    assert "disk" in found
    assert storage_class("SQLite") is SQLiteStorage


def test_open_storage_defaults_to_memory() -> None:
    with open_storage() as storage:
        assert isinstance(storage, MemoryStorage)
    with open_storage("memory://") as storage:
        assert isinstance(storage, MemoryStorage)


def test_the_clock_reaches_the_storage(tmp_path: Path) -> None:
    with open_storage(f"sqlite:///{tmp_path}/s.db", clock=lambda: 12.5) as storage:
        assert storage.clock() == 12.5


def test_an_unknown_scheme_lists_what_exists() -> None:
    with pytest.raises(UnknownStorageError) as info:
        open_storage("mongodb://localhost/0")
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, UsageError)
    assert isinstance(error, StreamRecoverError)
    for name in ("memory", "sqlite", "disk"):
        assert name in str(error)
    assert "mongodb" in str(error)
    assert {"memory", "sqlite", "disk", "redis", "rediss"} <= set(error.available)


@pytest.mark.parametrize("url", ["memory", "", "://x", "streams.db"])
def test_a_url_without_a_scheme_is_refused(url: str) -> None:
    with pytest.raises(StorageURLError) as info:
        open_storage(url)
    assert isinstance(info.value, ValueError)


def test_memory_url_takes_nothing_after_the_scheme() -> None:
    with pytest.raises(StorageURLError):
        open_storage("memory://somewhere")


@pytest.mark.usefixtures("fake_plugins")
def test_a_broken_plugin_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="streamrecover"):
        found = available_storages()
    assert "stub" in found
    assert {"memory", "sqlite", "disk"} <= set(found)
    assert not {"broken", "notastorage"} & set(found)
    logged = {record.getMessage() for record in caplog.records if record.name == "streamrecover"}
    assert logged == {"skipping storage plugin 'broken'", "skipping storage plugin 'notastorage'"}
    # ...and a third-party storage works exactly like a built-in one.
    with open_storage("stub://") as storage:
        assert isinstance(storage, StubStorage)


@pytest.mark.usefixtures("fake_plugins")
def test_a_broken_plugin_raises_when_asked_for_by_name() -> None:
    with pytest.raises(StorageError, match="no_such_module_for_streamrecover_tests") as info:
        open_storage("broken://x")
    assert isinstance(info.value.__cause__, ImportError)
    with pytest.raises(StorageError, match="not a Storage subclass"):
        storage_class("notastorage")


@pytest.mark.usefixtures("fake_plugins")
def test_unknown_name_lists_plugins_too() -> None:
    with pytest.raises(
        UnknownStorageError,
        match="broken, disk, memory, notastorage, redis, rediss, sqlite, stub",
    ):
        storage_class("nope")


def test_a_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "diskcache", None)  # import diskcache -> ImportError
    monkeypatch.delitem(sys.modules, "streamrecover.storage.disk", raising=False)
    with pytest.raises(MissingExtraError) as info:
        open_storage("disk:///somewhere")
    assert 'pip install "streamrecover[disk]"' in str(info.value)
    assert isinstance(info.value, ImportError)
    assert "disk" not in available_storages()  # left out quietly, not a warning


def test_every_backend_builds_from_its_url(tmp_path: Path) -> None:
    for url in ("memory://", f"sqlite:///{tmp_path}/a.db", f"disk:///{tmp_path}/d"):
        with open_storage(url) as storage:
            assert isinstance(storage, Storage)
