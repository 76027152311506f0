"""``list``, ``show``, ``resume``, ``cleanup`` and ``clear`` against a SQLite file.

The interrupted stream is made in this process with the library (the recovery
registry), pointing at a fake OpenAI server this process runs on loopback; the
CLI runs in a subprocess with the key in its environment, as a user would run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from cli_helpers import Run, no_traceback, run_cli, run_on_terminal

import streamrecover as sr
from streamrecover.storage import current_owner
from streamrecover.testing.fakeprovider import (
    DEFAULT_ANSWER,
    REFERENCE_TEXT,
    Expectations,
    Inspection,
    continuation_answer,
    error_body,
    inspect_request,
    render_frames,
)
from streamrecover.testing.handler_server import HandlerServer
from streamrecover.testing.scripts import build_script
from streamrecover.testing.server import RecordedRequest, Step, http_response

API_KEY = "sk-cli-test-7f3a9c2e1b"
BODY = {"model": "gpt-4o", "max_tokens": 2048, "messages": [{"role": "user", "content": "Hi"}]}
#: The cut: inside "Zürich" (after the ü), so the continuation starts mid-word.
PARTIAL = REFERENCE_TEXT[: REFERENCE_TEXT.index("rich")]


@dataclass
class FakeOpenAI:
    """A fake OpenAI Chat server that continues the reference answer, or refuses the key."""

    refuse: bool = False
    inspections: list[Inspection] = field(default_factory=list)

    def __call__(self, request: RecordedRequest, index: int) -> list[Step]:
        expect = Expectations(reference=REFERENCE_TEXT, api_key=API_KEY)
        inspection = inspect_request("openai", BODY, request, expect)
        self.inspections.append(inspection)
        if self.refuse:
            # As the real API does, the refusal names the key it got.
            message = f"Incorrect API key provided: {API_KEY}."
            return list(http_response(401, error_body("openai", 401, message)))
        if not inspection.ok:
            return list(
                http_response(400, error_body("openai", 400, "; ".join(inspection.problems)))
            )
        # A model that repeats the last words of the cut: the stitcher removes them.
        answer = continuation_answer(DEFAULT_ANSWER, inspection, overlap=12)
        return build_script("openai", render_frames("openai", answer), {"fault": "none"})


@dataclass
class Setup:
    home: Path
    database: Path
    url: str
    fake: FakeOpenAI
    server: HandlerServer
    recovery_id: str

    def cli(self, *args: str, key: bool = True) -> Run:
        env = {"STREAMRECOVER_STORAGE": self.url}
        if key:
            env["OPENAI_API_KEY"] = API_KEY
        run = run_cli(list(args), self.home, env=env)
        no_traceback(run)
        assert API_KEY not in run.stdout + run.stderr, str(run)
        return run

    def record(self) -> sr.StreamRecord:
        with sr.RecoveryRegistry(self.url) as registry:
            return registry.get_partial_response(self.recovery_id)

    def stored_bytes(self) -> bytes:
        # The database and its WAL and shared-memory files.
        return b"".join(path.read_bytes() for path in self.database.parent.glob("streams.db*"))


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """An interrupted OpenAI stream in a SQLite file, and the server that can finish it."""
    database = tmp_path / "data" / "streams.db"
    url = "sqlite:///" + str(database)  # an absolute path: four slashes
    assert url.startswith("sqlite:////")
    fake = FakeOpenAI()
    with HandlerServer(fake) as server:
        with sr.RecoveryRegistry(url) as registry:
            recovery_id = registry.init_recovery(
                "openai", BODY, {"strategy": "exact"}, base_url=server.url()
            )
            registry.record_chunk(recovery_id, PARTIAL[:40])
            registry.record_chunk(recovery_id, PARTIAL[40:])
            assert registry.record_error(recovery_id, sr.TransportError("reset", kind="reset"))
        yield Setup(
            home=tmp_path,
            database=database,
            url=url,
            fake=fake,
            server=server,
            recovery_id=recovery_id,
        )
        assert server.errors == []


def test_list_prints_tab_separated_rows(setup: Setup) -> None:
    run = setup.cli("list")
    assert run.returncode == 0, str(run)
    assert run.stderr == ""
    (line,) = run.stdout.splitlines()
    fields = line.split("\t")
    assert len(fields) == 7
    identifier, status, age, provider, model, chars, error = fields
    assert (identifier, status, provider, model) == (
        setup.recovery_id,
        "interrupted",
        "openai",
        "gpt-4o",
    )
    assert age.endswith("s") and age[:-1].isdigit()
    assert chars == str(len(PARTIAL))
    assert error.startswith("TransportError: reset")
    # No header and no padding when stdout is not a terminal.
    assert "ID" not in run.stdout and "  " not in run.stdout


def test_list_json(setup: Setup) -> None:
    run = setup.cli("list", "--json")
    assert run.returncode == 0, str(run)
    (row,) = run.json_lines()
    assert row["id"] == setup.recovery_id
    assert row["status"] == "interrupted"
    assert row["chars"] == len(PARTIAL)
    assert row["error"]["type"] == "TransportError"
    assert row["error"]["recoverable"] is True


def test_show_and_show_json(setup: Setup) -> None:
    run = setup.cli("show", setup.recovery_id)
    assert run.returncode == 0, str(run)
    head, _, text = run.stdout.partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    assert fields["id"] == setup.recovery_id
    assert fields["status"] == "interrupted"
    assert fields["base_url"] == setup.server.url()
    assert fields["chars"] == str(len(PARTIAL))
    assert text == PARTIAL + "\n"
    as_json = setup.cli("show", setup.recovery_id, "--json")
    assert as_json.returncode == 0, str(as_json)
    (record,) = as_json.json_lines()
    assert record["id"] == setup.recovery_id
    assert "".join(record["chunks"]) == PARTIAL
    assert record["request"]["messages"] == BODY["messages"]


def test_resume_finishes_the_stream(setup: Setup) -> None:
    run = setup.cli("resume", setup.recovery_id)
    assert run.returncode == 0, str(run)
    # Only the new text, exactly: the repeated overlap was removed at the seam.
    assert run.stdout == REFERENCE_TEXT[len(PARTIAL) :] + "\n"
    assert run.stderr.startswith("completed:")
    (inspection,) = setup.fake.inspections
    assert inspection.kind == "continuation"
    assert inspection.partial == PARTIAL
    assert inspection.ok, inspection.problems  # the key from the environment was sent
    shown = setup.cli("show", setup.recovery_id)
    assert shown.returncode == 0, str(shown)
    assert "status: completed" in shown.stdout.splitlines()
    assert shown.stdout.endswith("\n---\n" + REFERENCE_TEXT + "\n")
    record = setup.record()
    assert (record.status, record.text) == ("completed", REFERENCE_TEXT)
    # Completed: no longer listed as recoverable, still listed with --all.
    assert setup.cli("list").stdout == ""
    assert setup.cli("list", "--all").stdout.split("\t")[:2] == [setup.recovery_id, "completed"]
    # Finished streams cannot be resumed again.
    again = setup.cli("resume", setup.recovery_id)
    assert again.returncode == 2, str(again)
    assert "already complete" in again.stderr
    assert API_KEY.encode() not in setup.stored_bytes()


def test_resume_with_replay_prints_the_whole_answer(setup: Setup) -> None:
    run = setup.cli("resume", setup.recovery_id, "--replay")
    assert run.returncode == 0, str(run)
    assert run.stdout == REFERENCE_TEXT + "\n"


def test_resume_that_gives_up_exits_4_and_keeps_the_text(setup: Setup) -> None:
    setup.fake.refuse = True
    run = setup.cli("resume", setup.recovery_id)
    assert run.returncode == 4, str(run)
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith("streamrecover: error: ")
    assert f"recovery id {setup.recovery_id}" in line
    assert "401" in line
    # The server echoed the key; neither stderr (checked in Setup.cli) nor storage keeps it.
    assert len(setup.fake.inspections) == 1  # a 401 is final: no retry
    record = setup.record()
    assert record.text == PARTIAL
    assert record.status == "failed"
    assert record.error is not None and "401" in record.error.message
    assert API_KEY.encode() not in setup.stored_bytes()
    shown = setup.cli("show", setup.recovery_id)
    assert shown.stdout.endswith("\n---\n" + PARTIAL + "\n")


def test_resume_without_a_key_refuses_before_touching_the_stream(setup: Setup) -> None:
    run = setup.cli("resume", setup.recovery_id, key=False)
    assert run.returncode == 2, str(run)
    (line,) = run.stderr.splitlines()
    assert line.startswith("streamrecover: error: no API key")
    assert "OPENAI_API_KEY" in line
    assert setup.fake.inspections == []  # nothing was sent
    assert setup.record().status == "interrupted"  # still recoverable


def test_cleanup_by_age(setup: Setup) -> None:
    kept = setup.cli("cleanup", "--ttl", "3600")
    assert kept.returncode == 0, str(kept)
    assert kept.stdout == "removed 0 stream(s) older than 3600 s\n"
    assert setup.cli("list", "--all").stdout.startswith(setup.recovery_id)
    removed = setup.cli("cleanup", "--ttl", "0")
    assert removed.returncode == 0, str(removed)
    assert removed.stdout == "removed 1 stream(s) older than 0 s\n"
    assert setup.cli("list", "--all").stdout == ""
    gone = setup.cli("show", setup.recovery_id)
    assert gone.returncode == 3, str(gone)


def test_clear(setup: Setup) -> None:
    run = setup.cli("clear", setup.recovery_id)
    assert (run.returncode, run.stdout) == (0, f"removed {setup.recovery_id}\n"), str(run)
    assert setup.cli("list", "--all").stdout == ""
    again = setup.cli("clear", setup.recovery_id)
    assert again.returncode == 3, str(again)
    assert again.stderr == f"streamrecover: error: no stored stream with id {setup.recovery_id!r}\n"


@pytest.mark.parametrize("command", ["show", "clear", "resume"])
def test_unknown_id_exits_3(setup: Setup, command: str) -> None:
    run = setup.cli(command, "no-such-id")
    assert run.returncode == 3, str(run)
    assert run.stdout == ""
    assert run.stderr == "streamrecover: error: no stored stream with id 'no-such-id'\n"
    assert setup.record().status == "interrupted"


def test_storage_option_overrides_the_environment(setup: Setup, tmp_path: Path) -> None:
    # Three slashes: relative to the working directory (SQLAlchemy's rule).
    run = run_cli(
        ["list", "--all", "--storage", "sqlite:///rel/other.db"],
        setup.home,
        env={"STREAMRECOVER_STORAGE": setup.url},
        cwd=tmp_path,
    )
    # Empty: the environment's storage (which holds a stream) was not used;
    # and listing a storage that does not exist creates nothing.
    assert (run.returncode, run.stdout) == (0, ""), str(run)
    assert not (tmp_path / "rel").exists()
    listed = setup.cli("list", "--all", "--json")
    assert [row["id"] for row in listed.json_lines()] == [setup.recovery_id]


def test_show_json_is_valid_for_every_stored_field(setup: Setup) -> None:
    run = setup.cli("show", "--json", setup.recovery_id)
    record = json.loads(run.stdout)
    assert record["status"] == "interrupted"
    assert record["error"] == {"type": "TransportError", "message": "reset", "recoverable": True}


def test_list_on_a_terminal_has_a_header(setup: Setup) -> None:
    env = {"STREAMRECOVER_STORAGE": setup.url}
    code, terminal, errors = run_on_terminal(["list"], setup.home, stream="stdout", env=env)
    assert (code, errors) == (0, b"")
    lines = terminal.decode().splitlines()
    assert lines[0].split() == [
        "ID",
        "STATUS",
        "AGE",
        "PROVIDER",
        "MODEL",
        "CHARS",
        "LAST",
        "ERROR",
    ]
    assert lines[1].startswith(setup.recovery_id + "  interrupted  ")
    assert "\t" not in terminal.decode()


def test_list_and_show_open_the_database_read_only(setup: Setup) -> None:
    # Looking never writes: not a page of the database, not its journal mode.
    before = (setup.database.read_bytes(), setup.database.stat().st_mtime_ns)
    assert setup.cli("list").returncode == 0
    assert setup.cli("show", setup.recovery_id).returncode == 0
    assert (setup.database.read_bytes(), setup.database.stat().st_mtime_ns) == before
    # And a read-only URL is taken as given.
    run = setup.cli("list", "--storage", setup.url + "?mode=ro")
    assert run.returncode == 0, str(run)
    assert setup.recovery_id in run.stdout


def test_resume_claims_a_dead_writers_active_stream_without_force(setup: Setup) -> None:
    # The stream's writer died while streaming (on this host: the pid is free).
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    with sr.RecoveryRegistry(setup.url) as registry:
        storage = registry.storage
        owner = replace(current_owner(), pid=int(dead.stdout), started="0")
        claimed = storage.claim(setup.recovery_id, lease=3600.0, owner=owner)
        assert claimed.status == "active"
    run = setup.cli("resume", setup.recovery_id)
    assert run.returncode == 0, str(run)
    assert setup.record().status == "completed"
    assert setup.record().text == REFERENCE_TEXT
