"""SQLite and disk storage never touch a live database outside SQLite; read-only use
writes nothing; a database deleted under an open storage is noticed.

Finding 1 of issue 12: closing any descriptor on a database file drops every
POSIX lock this process holds on it, so another process closing the database
took this process's connections for gone, deleted the WAL and shared-memory
files, and this process's next commit went into a deleted WAL.
"""

from __future__ import annotations

import builtins
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamrecover.core.errors import StorageError
from streamrecover.storage import SQLiteStorage, new_record, open_storage

# A second process: opens the same file, writes one record, closes (as the last
# connection it would checkpoint and delete the WAL if it could lock the file).
WRITER = r"""
import sys
from streamrecover.storage import new_record, open_storage
with open_storage(sys.argv[1]) as storage:
    storage.create(new_record(provider="p", model="m", request={}, record_id=sys.argv[2]))
    storage.append(sys.argv[2], ["from the other process"])
"""

COUNTER = r"""
import sys
from streamrecover.storage import open_storage
with open_storage(sys.argv[1]) as storage:
    print(sorted(summary.id for summary in storage.summaries()))
"""


def _run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _record(record_id: str) -> Any:
    return new_record(provider="p", model="m", request={}, record_id=record_id)


@pytest.mark.parametrize("scheme", ["sqlite", "disk"])
def test_two_storages_in_one_process_survive_another_process_closing_the_file(
    tmp_path: Path, scheme: str
) -> None:
    if scheme == "disk":
        pytest.importorskip("diskcache")
    url = f"sqlite:///{tmp_path}/streams.db" if scheme == "sqlite" else f"disk:///{tmp_path}/d"
    database = tmp_path / "streams.db" if scheme == "sqlite" else tmp_path / "d" / "cache.db"
    # Like the README's crash-resume example: a Client and a RecoveryRegistry on one URL.
    first = open_storage(url)
    first.create(_record("first"))
    second = open_storage(url)  # the old code closed a descriptor on the live file here
    second.create(_record("second"))
    _run(WRITER, url, "other")
    # This process's connections still hold the database: nobody deleted its WAL.
    assert Path(f"{database}-wal").exists()
    first.create(_record("third"))
    first.append("third", ["kept"])
    second.create(_record("fourth"))
    # A fresh process sees every record, and a new storage here opens fine.
    assert _run(COUNTER, url) == str(sorted(["first", "second", "third", "fourth", "other"]))
    with open_storage(url) as third:
        assert third.get("third").text == "kept"
        assert len(third.summaries()) == 5
    first.close()
    second.close()


_GUARDED_SUFFIXES = ("", "-wal", "-shm", "-journal")


@pytest.fixture
def file_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, Any]]]:
    """Record every Python-level open/os.open/chmod/stat-free touch of any path."""
    calls: list[tuple[str, str, Any]] = []

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append((name, os.fspath(path) if isinstance(path, str | os.PathLike) else
                          repr(path), args[0] if args else kwargs.get("flags")))
            return original(path, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(os, "open", spy("os.open", os.open))
    monkeypatch.setattr(builtins, "open", spy("open", builtins.open))
    monkeypatch.setattr(os, "chmod", spy("os.chmod", os.chmod))
    monkeypatch.setattr(os, "truncate", spy("os.truncate", os.truncate))
    yield calls


def _touches(calls: list[tuple[str, str, Any]], database: Path) -> list[tuple[str, str, Any]]:
    names = {str(database) + suffix for suffix in _GUARDED_SUFFIXES}
    names |= {str(database.absolute()) + suffix for suffix in _GUARDED_SUFFIXES}
    return [call for call in calls if call[1] in names]


@pytest.mark.parametrize("scheme", ["sqlite", "disk"])
def test_an_existing_database_is_only_ever_opened_by_sqlite(
    tmp_path: Path, scheme: str, file_calls: list[tuple[str, str, Any]]
) -> None:
    if scheme == "disk":
        pytest.importorskip("diskcache")
    url = f"sqlite:///{tmp_path}/s.db" if scheme == "sqlite" else f"disk:///{tmp_path}/d"
    database = tmp_path / "s.db" if scheme == "sqlite" else tmp_path / "d" / "cache.db"
    with open_storage(url) as storage:  # creates it: one exclusive creation, nothing else
        storage.create(_record("a"))
    created = _touches(file_calls, database)
    assert [(name, flags & os.O_EXCL) for name, _, flags in created] == [("os.open", os.O_EXCL)]
    assert (database.stat().st_mode & 0o777) == 0o600
    file_calls.clear()
    with open_storage(url) as storage, open_storage(url) as again:
        storage.append("a", ["text"])
        claimed = again.claim("a", force=True)
        again.append("a", [" more"], epoch=claimed.epoch)
        storage.summaries()
        storage.get("a")
        storage.cleanup(older_than=10**6)
    with open_storage(f"{url}?mode=ro") as reader:
        assert reader.get("a").text == "text more"
    assert _touches(file_calls, database) == []


@pytest.mark.parametrize("scheme", ["sqlite", "disk"])
def test_read_only_storage_lists_and_writes_nothing(tmp_path: Path, scheme: str) -> None:
    if scheme == "disk":
        pytest.importorskip("diskcache")
    url = f"sqlite:///{tmp_path}/s.db" if scheme == "sqlite" else f"disk:///{tmp_path}/d"
    database = tmp_path / "s.db" if scheme == "sqlite" else tmp_path / "d" / "cache.db"
    with open_storage(url) as storage:
        storage.create(_record("a"))
        storage.append("a", ["partial"])
    before = database.read_bytes()
    with open_storage(f"{url}?mode=ro") as reader:
        assert [summary.id for summary in reader.summaries()] == ["a"]
        assert reader.get("a").text == "partial"
        for write in (lambda: reader.append("a", ["x"]), lambda: reader.mark("a", "completed"),
                      lambda: reader.create(_record("b")), lambda: reader.delete("a")):
            with pytest.raises(StorageError):
                write()
    assert database.read_bytes() == before
    # Read-only never creates: a missing database is an error, and stays missing.
    missing = (f"sqlite:///{tmp_path}/none.db?mode=ro" if scheme == "sqlite"
               else f"disk:///{tmp_path}/none?mode=ro")
    with pytest.raises(StorageError):
        open_storage(missing)
    assert not (tmp_path / "none.db").exists()
    assert not (tmp_path / "none").exists()


def test_a_deleted_sqlite_database_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStorage(path) as storage:
        storage.create(_record("a"))
        for suffix in _GUARDED_SUFFIXES:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        with pytest.raises(StorageError, match="deleted or replaced"):
            storage.append("a", ["lost?"])
        # Replaced by another database: writes would go to the old inode.
        with SQLiteStorage(path) as other:
            other.create(_record("b"))
        with pytest.raises(StorageError, match="deleted or replaced"):
            storage.create(_record("c"))


def test_a_deleted_disk_directory_is_detected(tmp_path: Path) -> None:
    pytest.importorskip("diskcache")
    from streamrecover.storage.disk import DiskStorage

    with DiskStorage(tmp_path / "d") as storage:
        storage.create(_record("a"))
        shutil.rmtree(tmp_path / "d")
        with pytest.raises(StorageError, match="deleted or replaced"):
            storage.append("a", ["lost?"])
