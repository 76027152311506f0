"""Disk (diskcache) storage: URLs, file modes, no pickle, no eviction, layout version."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from streamrecover.core.errors import StorageError
from streamrecover.storage import StorageURLError, new_record, open_storage

diskcache = pytest.importorskip("diskcache")

from streamrecover.storage.disk import DiskStorage  # noqa: E402

UNPICKLED: list[str] = []


class Tripwire:
    """Unpickling this records it: proof that a pickle was (or was not) loaded."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (UNPICKLED.append, ("unpickled!",))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def add_record(storage: DiskStorage) -> str:
    record = new_record(provider="p", model="m", request={"messages": []})
    storage.create(record)
    storage.append(record.id, ["hello"])
    return record.id


def test_urls_follow_the_sqlite_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_storage("disk:///rel/cache") as storage:
        assert isinstance(storage, DiskStorage)
        assert storage.directory == Path("rel/cache")
    with open_storage(f"disk:///{tmp_path}/abs") as storage:
        assert isinstance(storage, DiskStorage)
        assert storage.directory == tmp_path / "abs"
    with pytest.raises(StorageURLError):
        open_storage("disk://host/dir")


def test_directory_is_0700_and_files_0600(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    old_umask = os.umask(0o022)
    try:
        with DiskStorage(directory) as storage:
            add_record(storage)
            files = sorted(path for path in directory.rglob("*") if path.is_file())
            assert [path.name for path in files] == ["cache.db", "cache.db-shm", "cache.db-wal"]
            assert {mode(path) for path in files} == {0o600}
            assert mode(directory) == 0o700
    finally:
        os.umask(old_umask)


def test_the_json_disk_refuses_to_write_anything_but_text(tmp_path: Path) -> None:
    with DiskStorage(tmp_path / "store") as storage:
        assert storage._cache is not None
        for value in (b"bytes", 3, {"a": 1}, Tripwire()):
            with pytest.raises(StorageError):
                storage._cache.set("k", value)
        with pytest.raises(StorageError):
            storage._cache.set(("tuple", "key"), "v")


def test_a_planted_pickle_is_never_loaded(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    with DiskStorage(directory) as storage:
        record_id = add_record(storage)
    # Someone with write access replaces the state with a pickle, through plain diskcache.
    plain = diskcache.Cache(str(directory))
    plain.set(f"s:{record_id}", Tripwire())
    plain.set(f"c:{record_id}:0", Tripwire())
    plain.close()
    with DiskStorage(directory) as storage:
        with pytest.raises(StorageError, match="pickle"):
            storage.get(record_id)
        with pytest.raises(StorageError, match="pickle"):
            storage.summaries()
    assert UNPICKLED == []


def test_nothing_is_evicted(tmp_path: Path) -> None:
    with DiskStorage(tmp_path / "store") as storage:
        assert storage._cache is not None
        assert storage._cache.eviction_policy == "none"


def test_a_newer_layout_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    DiskStorage(directory).close()
    plain = diskcache.Cache(str(directory))
    plain.set("streamrecover:layout", "3")
    plain.close()
    with pytest.raises(StorageError, match=r"layout '3'.*layout 2"):
        DiskStorage(directory)


def test_a_layout_1_directory_is_upgraded_and_reads_as_a_log(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    with DiskStorage(directory) as storage:
        record = new_record(provider="openai", model="m", request={})
        storage.create(record)
        storage.append(record.id, ["one ", "two"])
    plain = diskcache.Cache(str(directory))
    plain.set("streamrecover:layout", "1")  # layout 1 had text entries only
    plain.close()
    with DiskStorage(directory) as storage:
        storage.truncate(record.id, 4)
        assert storage.get(record.id).text == "one "
        assert [entry.rewind_to for entry in storage.read(record.id).entries] == [None, 4]
    plain = diskcache.Cache(str(directory))
    assert plain.get("streamrecover:layout") == "2"
    plain.close()


@pytest.mark.parametrize(
    ("key", "value"),
    [("s:{id}", "{"), ("s:{id}", "[]"), ("s:{id}", '{"chunk_count": -1}'),
     ("b:{id}", "null"), ("c:{id}:0", None), ("streamrecover:index", "{}")],
)
def test_corrupted_values_raise_storage_error(tmp_path: Path, key: str, value: str | None) -> None:
    directory = tmp_path / "store"
    with DiskStorage(directory) as storage:
        record_id = add_record(storage)
        assert storage._cache is not None
        if value is None:
            storage._cache.delete(key.format(id=record_id))
        else:
            storage._cache.set(key.format(id=record_id), value)
        with pytest.raises(StorageError):
            storage.get(record_id)
            storage.summaries()
