"""Bad input to the CLI: exit 2, one line of error, usage where argparse applies, no traceback."""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import pytest
from cli_helpers import cli_env, command, no_traceback, run_cli

from streamrecover import cli
from streamrecover.storage import open_storage
from streamrecover.storage.record import new_record

#: argv -> a phrase of the error line. argparse's own errors come with the usage.
USAGE_ERRORS = {
    "no command": ([], "the following arguments are required: COMMAND"),
    "unknown command": (["frobnicate"], "invalid choice: 'frobnicate'"),
    "show without id": (["show"], "the following arguments are required: id"),
    "clear without id": (["clear"], "the following arguments are required: id"),
    "resume without id": (["resume"], "the following arguments are required: id"),
    "negative ttl": (["cleanup", "--ttl", "-1"], "must be zero or more seconds"),
    "ttl not a number": (["cleanup", "--ttl", "abc"], "not a number of seconds: 'abc'"),
    "ttl nan": (["cleanup", "--ttl", "nan"], "must be zero or more seconds"),
    "unknown option": (["list", "--everything"], "unrecognized arguments: --everything"),
    "demo provider": (["demo", "--provider", "nope"], "invalid choice: 'nope'"),
    "demo strategy": (["demo", "--strategy", "nope"], "invalid choice: 'nope'"),
    "demo seed": (["demo", "--seed", "x"], "invalid int value: 'x'"),
    "resume strategy": (["resume", "abc", "--strategy", "fast"], "invalid choice: 'fast'"),
    "conformance provider": (["conformance", "--provider", "nope"], "invalid choice: 'nope'"),
    "conformance adapter": (["conformance", "--adapter", "gevent"], "invalid choice: 'gevent'"),
}

#: argv -> a phrase of the error line; errors found after parsing: one line, no usage.
INPUT_ERRORS = {
    "unknown scheme": (["list", "--storage", "bogus://x"], "unknown storage 'bogus'"),
    "host in sqlite url": (["list", "--storage", "sqlite://host/x"], "has a host part 'host'"),
    "no scheme": (["show", "abc", "--storage", "streams.db"], "a storage URL looks like"),
    "sqlite url without path": (["clear", "abc", "--storage", "sqlite:///"], "names no path"),
    "memory url with path": (["list", "--storage", "memory://x"], "is just 'memory://'"),
    "cleanup bad url": (["cleanup", "--ttl", "5", "--storage", "disk://h/x"], "host part"),
    "demo bad url": (["demo", "--faults", "", "--storage", "bogus://"], "unknown storage"),
    "no scenario matched": (["conformance", "-k", "no-such-scenario"], "no scenario matched"),
    "transport spec": (["conformance", "--transport", "nocolon"], "must be MODULE:FACTORY"),
    "transport module": (
        ["conformance", "--transport", "no_such_module_xyz:make"],
        "cannot load transport factory",
    ),
}


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_argument_errors(case: str, tmp_path: Path) -> None:
    argv, phrase = USAGE_ERRORS[case]
    run = run_cli(argv, tmp_path)
    assert run.returncode == 2, str(run)
    no_traceback(run)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines[0].startswith("usage: streamrecover")
    (error,) = [line for line in lines if "error:" in line]
    assert error == lines[-1]
    assert error.startswith("streamrecover")
    assert phrase in error, run.stderr


@pytest.mark.parametrize("case", list(INPUT_ERRORS))
def test_input_errors(case: str, tmp_path: Path) -> None:
    argv, phrase = INPUT_ERRORS[case]
    run = run_cli(argv, tmp_path)
    assert run.returncode == 2, str(run)
    no_traceback(run)
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith("streamrecover: error: ")
    assert phrase in line, line


def test_bad_storage_from_the_environment(tmp_path: Path) -> None:
    run = run_cli(["list"], tmp_path, env={"STREAMRECOVER_STORAGE": "sqlite://host/x.db"})
    assert run.returncode == 2, str(run)
    no_traceback(run)
    assert run.stderr.startswith("streamrecover: error: 'sqlite://host/x.db' has a host part")


def test_a_file_that_is_not_a_streamrecover_database(tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    connection.close()
    before = other.read_bytes()
    run = run_cli(["list", "--storage", "sqlite:///" + str(other)], tmp_path)
    assert run.returncode == 1, str(run)  # a storage it cannot use: the operation failed
    no_traceback(run)
    (line,) = run.stderr.splitlines()
    assert "is not a streamrecover database" in line
    # Refused before anything changed: not a byte of the file (not even its
    # journal mode), and no table of ours.
    assert other.read_bytes() == before
    with sqlite3.connect(other) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    connection.close()
    assert tables == ["notes"]


def test_help_exits_0(tmp_path: Path) -> None:
    run = run_cli(["--help"], tmp_path)
    assert run.returncode == 0, str(run)
    assert "exit codes:" in run.stdout
    for name in ("demo", "list", "show", "resume", "cleanup", "clear", "conformance"):
        assert name in run.stdout


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # `streamrecover list | head -0`: the reader is gone before anything is written.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            command(["cleanup", "--ttl", "0", "--storage", "memory://"]),
            env=cli_env(tmp_path),
            stdout=writer,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 1
    assert done.stderr == b""  # neither a traceback nor "Exception ignored ... BrokenPipeError"


def test_show_on_an_ascii_terminal_escapes_what_it_cannot_encode(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "s.db")
    with open_storage(url) as storage:
        record = new_record(provider="openai", model="m", request={"model": "m"})
        storage.create(record)
        storage.append(record.id, ["café 🚀"])
    run = run_cli(
        ["show", record.id, "--storage", url], tmp_path, env={"PYTHONIOENCODING": "ascii"}
    )
    assert run.returncode == 0, str(run)
    no_traceback(run)
    assert run.stdout.endswith("---\ncaf\\xe9 \\U0001f680\n")


# -- stream ids that begin with "-" -------------------------------------------------------

#: Ids are token_urlsafe(16): 22 characters of A-Z a-z 0-9 - _, so "-" may come first.
DASH_IDS = ["-hVbW0c1mZ3sQ2xYk9aT7Q", "--storage_xq1Z2y3W4v5u", "-x", "-_-_-_-_-_-_-_-_-_-_-_"]


@pytest.mark.parametrize("recovery_id", DASH_IDS)
def test_ids_beginning_with_a_dash(recovery_id: str, tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "s.db")
    with open_storage(url) as storage:
        storage.create(
            new_record(provider="openai", model="m", request={"model": "m"}, record_id=recovery_id)
        )
        storage.append(recovery_id, ["partial"])
    shown = run_cli(["show", "--storage", url, recovery_id, "--json"], tmp_path)
    assert shown.returncode == 0, str(shown)
    assert shown.json_lines()[0]["id"] == recovery_id
    cleared = run_cli(["clear", recovery_id, f"--storage={url}"], tmp_path)
    assert (cleared.returncode, cleared.stdout) == (0, f"removed {recovery_id}\n"), str(cleared)
    again = run_cli(["show", recovery_id, "--storage", url], tmp_path)
    assert again.returncode == 3, str(again)
    # The explicit way still works.
    explicit = run_cli(["show", "--storage", url, "--", recovery_id], tmp_path)
    assert explicit.returncode == 3, str(explicit)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["show", "abc"], ["show", "abc"]),
        (["show", "-abc"], ["show", "--", "-abc"]),
        (["show", "-hX", "--json"], ["show", "--json", "--", "-hX"]),
        (["show", "-h"], ["show", "-h"]),
        (["show", "--storage", "-weird", "-id"], ["show", "--storage", "-weird", "--", "-id"]),
        (["show", "--storage=x", "-id"], ["show", "--storage=x", "--", "-id"]),
        (["show", "--stor", "x", "-id"], ["show", "--stor", "x", "--", "-id"]),
        (
            ["resume", "-id", "--replay", "--strategy", "exact"],
            ["resume", "--replay", "--strategy", "exact", "--", "-id"],
        ),
        (["show", "--", "-id"], ["show", "--", "-id"]),
        (["list", "-x"], ["list", "-x"]),  # only the commands that take an id
    ],
)
def test_protect_ids(argv: list[str], expected: list[str]) -> None:
    assert cli._protect_ids(argv) == expected


def test_the_id_option_table_matches_the_parser() -> None:
    parser = cli._build_parser()
    (commands,) = [
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    ]
    for name, options in cli._ID_COMMAND_OPTIONS.items():
        sub = commands.choices[name]
        actual = {
            option: action.nargs != 0 for option, action in sub._option_string_actions.items()
        }
        assert actual == options, name


def test_managing_streams_never_creates_a_storage(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "streams.db"
    url = "sqlite:///" + str(missing)
    listed = run_cli(["list", "--all", "--storage", url], tmp_path)
    assert listed.returncode == 0, str(listed)
    assert listed.stdout == ""
    shown = run_cli(["show", "abc", "--storage", url], tmp_path)
    assert shown.returncode == 3, str(shown)
    no_traceback(shown)
    assert not missing.exists()
    assert not (tmp_path / "no").exists()
