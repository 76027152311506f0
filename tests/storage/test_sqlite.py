"""SQLite storage: URLs, file modes, WAL, schema versions and migrations, corrupted rows."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from streamrecover.core.errors import StorageError
from streamrecover.storage import SQLiteStorage, StorageURLError, new_record, open_storage
from streamrecover.storage import sqlite as sqlite_module
from streamrecover.storage.sqlite import SCHEMA_VERSION


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def add_record(storage: SQLiteStorage, text: str = "hello") -> str:
    record = new_record(provider="p", model="m", request={"messages": []})
    storage.create(record)
    storage.append(record.id, [text])
    return record.id


def test_three_slashes_is_relative_four_is_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_storage("sqlite:///rel/streams.db") as storage:
        assert isinstance(storage, SQLiteStorage)
        assert storage.path == Path("rel/streams.db")
    assert (tmp_path / "rel" / "streams.db").is_file()
    absolute = tmp_path / "abs dir" / "s.db"
    with open_storage(f"sqlite:///{absolute}".replace(" ", "%20")) as storage:
        assert isinstance(storage, SQLiteStorage)
        assert storage.path == absolute
    assert absolute.is_file()


@pytest.mark.parametrize("url", ["sqlite://streams.db", "sqlite://", "sqlite:///",
                                 "sqlite:///x.db?mode=rx", "sqlite:///x.db?a=b", "sqlite:///x.db#frag"])
def test_malformed_urls(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageURLError) as info:
        open_storage(url)
    assert isinstance(info.value, ValueError)
    assert list(tmp_path.iterdir()) == []


def test_files_are_0600_and_new_directories_0700(tmp_path: Path) -> None:
    path = tmp_path / "new" / "streams.db"
    old_umask = os.umask(0o022)
    try:
        with SQLiteStorage(path) as storage:
            add_record(storage)
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(file.exists() for file in files)
            assert [mode(file) for file in files] == [0o600, 0o600, 0o600]
            assert mode(path.parent) == 0o700
    finally:
        os.umask(old_umask)


def test_wal_mode_and_normal_sync(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "s.db") as storage:
        connection = storage._connection
        assert connection is not None
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_an_append_adds_a_row_and_does_not_rewrite_the_text(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "s.db") as storage:
        record_id = add_record(storage, "first")
        storage.append(record_id, ["second"])
        assert storage._connection is not None
        rows = storage._connection.execute(
            "SELECT seq, text FROM stream_chunks WHERE stream_id = ? ORDER BY seq", (record_id,)
        ).fetchall()
        assert rows == [(0, "first"), (1, "second")]


def test_a_newer_schema_is_refused_naming_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteStorage(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 7")
    connection.close()
    with pytest.raises(StorageError, match=rf"schema version 7.*schema version {SCHEMA_VERSION}"):
        SQLiteStorage(path)


def test_an_empty_version_0_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.touch(mode=0o600)
    with SQLiteStorage(path) as storage:
        record_id = add_record(storage)
        assert storage.get(record_id).text == "hello"
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    connection.close()


def test_a_foreign_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE users (name TEXT)")
    connection.commit()
    connection.close()
    with pytest.raises(StorageError, match="not a streamrecover database"):
        SQLiteStorage(path)
    connection = sqlite3.connect(path)
    tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    connection.close()
    assert tables == ["users"]


def test_a_file_that_is_not_sqlite_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not a database, just some text" * 100)
    with pytest.raises(StorageError):
        SQLiteStorage(path)


def test_a_version_1_database_with_text_migrates_to_a_log(tmp_path: Path) -> None:
    # Version 1 by hand: its schema, one record whose text was truncated the v1 way.
    path = tmp_path / "s.db"
    connection = sqlite3.connect(path)
    sqlite_module.MIGRATIONS[0](connection)
    connection.execute("PRAGMA user_version = 1")
    record = new_record(provider="openai", model="m", request={"messages": []})
    state = ('{"error":null,"attempts":1,"resumes":0,"last_event_id":null,'
             '"sequence_number":null,"response_id":null,"usage":{}}')
    connection.execute(
        "INSERT INTO streams VALUES (?, 'openai', 'm', '', 'interrupted', ?, ?, 8, 2, ?)",
        (record.id, record.created_at, record.updated_at, state))
    connection.execute("INSERT INTO stream_bodies VALUES (?, '{\"messages\":[]}', '{}')",
                       (record.id,))
    connection.executemany("INSERT INTO stream_chunks VALUES (?, ?, ?)",
                           [(record.id, 0, "Once "), (record.id, 1, "upo")])
    connection.commit()
    connection.close()
    with SQLiteStorage(path) as storage:
        assert storage.get(record.id).text == "Once upo"
        read = storage.read(record.id)
        assert [(entry.offset, entry.text) for entry in read.entries] == [(1, "Once "), (2, "upo")]
        assert (read.end, read.status) == (2, "interrupted")
        storage.truncate(record.id, 5)
        storage.append(record.id, ["upon"])
        assert storage.get(record.id).text == "Once upon"
        assert [entry.rewind_to for entry in storage.read(record.id, after=2).entries] == [5, None]
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    connection.close()


def _add_note_column(connection: sqlite3.Connection) -> None:
    connection.execute("ALTER TABLE streams ADD COLUMN note TEXT DEFAULT 'migrated'")


def _broken_step(connection: sqlite3.Connection) -> None:
    connection.execute("ALTER TABLE streams ADD COLUMN half_done TEXT")
    raise sqlite3.OperationalError("step failed halfway")


def test_an_older_schema_is_migrated_step_by_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    with SQLiteStorage(path) as storage:  # a current database with data
        record_id = add_record(storage)
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", [*sqlite_module.MIGRATIONS, _add_note_column])
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with SQLiteStorage(path) as storage:
        assert storage.get(record_id).text == "hello"
        assert storage._connection is not None
        assert storage._connection.execute("PRAGMA user_version").fetchone()[0] == (
            SCHEMA_VERSION + 1)
        assert storage._connection.execute("SELECT note FROM streams").fetchone()[0] == "migrated"


def test_a_failed_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    with SQLiteStorage(path) as storage:
        record_id = add_record(storage)
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", [*sqlite_module.MIGRATIONS, _broken_step])
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StorageError, match="halfway"):
        SQLiteStorage(path)
    monkeypatch.undo()
    with SQLiteStorage(path) as storage:
        assert storage.get(record_id).text == "hello"
        assert storage._connection is not None
        assert storage._connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = [row[1] for row in storage._connection.execute("PRAGMA table_info(streams)")]
        assert "half_done" not in columns


def test_a_version_0_database_built_by_hand_migrates_through_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Version 0 by hand: an empty SQLite database (a header, no tables).
    path = tmp_path / "s.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 0")
    connection.execute("VACUUM")
    connection.close()
    steps: list[int] = []

    real = list(sqlite_module.MIGRATIONS)

    def step(number: int) -> object:
        original = real[number] if number < len(real) else _add_note_column

        def run(db: sqlite3.Connection) -> None:
            steps.append(number)
            original(db)

        return run

    every = list(range(SCHEMA_VERSION + 1))
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", [step(number) for number in every])
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with SQLiteStorage(path) as storage:
        record_id = add_record(storage)
        assert storage.get(record_id).text == "hello"
    assert steps == every


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE streams SET state = '{'",
        "UPDATE streams SET state = '[]'",
        "UPDATE streams SET state = json_set(state, '$.attempts', 'many')",
        "UPDATE streams SET status = 'exploded'",
        "UPDATE streams SET created_at = 'yesterday'",
        "UPDATE streams SET text_length = 99",
        "UPDATE stream_chunks SET text = x'00ff'",
        "UPDATE stream_bodies SET request = 'null'",
        "DELETE FROM stream_bodies",
    ],
)
def test_corrupted_rows_raise_storage_error(tmp_path: Path, statement: str) -> None:
    path = tmp_path / "s.db"
    with SQLiteStorage(path) as storage:
        record_id = add_record(storage)
        assert storage._connection is not None
        storage._connection.execute(statement)
        with pytest.raises(StorageError):
            storage.get(record_id)
