"""``streamrecover demo`` end to end, in subprocesses.

Each full demo sleeps about a second (the fake provider's 529 carries
``Retry-After: 1``), so the runs of the matrix start together and the tests
check them as they finish.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Run, finish, no_traceback, run_cli, run_on_terminal, start_cli

from streamrecover.demo import DEMO_FAULTS
from streamrecover.testing.fakeprovider import REFERENCE_TEXT, TOOL_CALL

#: name -> (provider, strategy, seed). Every provider, every strategy, three+ seeds,
#: each with the full set of faults.
MATRIX = {
    "anthropic-exact-1": ("anthropic", "exact", 1),
    "openai-paragraph-2": ("openai", "paragraph", 2),
    "gemini-restart-3": ("gemini", "restart", 3),
    "responses-summarize-4": ("openai-responses", "summarize", 4),
}

#: What the Resumed events of a full demo name, by strategy: ``paragraph`` cut
#: before the first paragraph break rolls back to zero (a restart); ``summarize``
#: resends a partial this short whole (exact).
RESUMED_AS = {
    "exact": {"exact"},
    "paragraph": {"restart", "paragraph"},
    "restart": {"restart"},
    "summarize": {"exact"},
}


def _replay(events: list[dict[str, Any]]) -> tuple[str, str]:
    """Apply the JSON events as a consumer would: (text, tool-call arguments)."""
    text = ""
    arguments = ""
    for event in events:
        if event["event"] == "TextDelta":
            text += event["text"]
        elif event["event"] == "Rewind":
            text = text[: event["to"]]
        elif event["event"] == "ToolCallDelta":
            arguments += event["arguments"]
    return text, arguments


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Run, Path]]]:
    """Every demo of MATRIX, run at once, each with its own cache directory."""
    started: dict[str, tuple[list[str], subprocess.Popen[str], Path]] = {}
    try:
        for name, (provider, strategy, seed) in MATRIX.items():
            home = tmp_path_factory.mktemp(name)
            args = [
                "demo",
                "--json",
                "--provider",
                provider,
                "--strategy",
                strategy,
                "--seed",
                str(seed),
            ]
            started[name] = (args, start_cli(args, home), home)
        yield {
            name: (finish(args, process), home) for name, (args, process, home) in started.items()
        }
    finally:
        for _args, process, _home in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("name", list(MATRIX))
def test_demo_text_is_exact(name: str, demo_runs: dict[str, tuple[Run, Path]]) -> None:
    run, _home = demo_runs[name]
    _provider, strategy, _seed = MATRIX[name]
    assert run.returncode == 0, str(run)
    no_traceback(run)
    events = run.json_lines()
    summary = events[-1]
    assert summary["event"] == "Summary"
    assert summary["text_exact"] is True
    assert summary["tool_call_whole"] is True
    assert summary["error"] is None
    # One attempt per fault, and one that succeeds.
    assert summary["attempts"] == len(DEMO_FAULTS) + 1
    # The text rebuilt from the events themselves, not the demo's own verdict.
    text, arguments = _replay(events[:-1])
    assert text == REFERENCE_TEXT
    assert arguments == TOOL_CALL.arguments
    kinds = [event["event"] for event in events]
    assert kinds.count("Retrying") == len(DEMO_FAULTS)
    assert kinds.count("Summary") == 1
    # The 529 comes before any text: retried, not resumed; the others are resumes.
    used = {event["strategy"] for event in events if event["event"] == "Resumed"}
    assert used == RESUMED_AS[strategy], used
    assert summary["recovering_seconds"] > 0  # --json measures recovery as text mode does


def test_demo_writes_to_default_storage(demo_runs: dict[str, tuple[Run, Path]]) -> None:
    run, home = demo_runs["anthropic-exact-1"]
    recovery_id = run.json_lines()[-1]["recovery_id"]
    database = home / "cache" / "streamrecover" / "streams.db"
    assert database.is_file()
    assert database.stat().st_mode & 0o077 == 0  # created 0600
    listed = run_cli(["list", "--all"], home)
    assert listed.returncode == 0, str(listed)
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [row[:2] for row in rows] == [[recovery_id, "completed"]]
    assert rows[0][3:5] == ["anthropic", "claude-sonnet-4-5"]
    assert rows[0][5] == str(len(REFERENCE_TEXT))
    # Completed is not recoverable: the default listing leaves it out.
    recoverable = run_cli(["list"], home)
    assert (recoverable.returncode, recoverable.stdout) == (0, ""), str(recoverable)
    shown = run_cli(["show", recovery_id], home)
    assert shown.returncode == 0, str(shown)
    assert "status: completed" in shown.stdout.splitlines()
    assert shown.stdout.endswith("---\n" + REFERENCE_TEXT + "\n")


def test_demo_text_mode_one_fault(tmp_path: Path) -> None:
    run = run_cli(["demo", "--faults", "reset", "--seed", "5"], tmp_path)
    assert run.returncode == 0, str(run)
    no_traceback(run)
    lines = run.stdout.splitlines()
    assert "faults, one per attempt: reset" in lines
    assert sum("failed:" in line for line in lines) == 1
    assert "reset in the middle of a UTF-8 character" in run.stdout
    assert any(
        line.split() == ["final", "text", "exact:", "equals", "the", "reference"] for line in lines
    )
    # Not a terminal: no colour even without --no-color.
    assert "\x1b[" not in run.stdout


def test_demo_only_the_faults_asked_for(tmp_path: Path) -> None:
    run = run_cli(["demo", "--json", "--faults", "reset", "--provider", "openai"], tmp_path)
    assert run.returncode == 0, str(run)
    events = run.json_lines()
    retries = [event for event in events if event["event"] == "Retrying"]
    assert len(retries) == 1
    assert "reset" in retries[0]["cause"]
    assert events[-1]["attempts"] == 2
    assert _replay(events[:-1]) == (REFERENCE_TEXT, TOOL_CALL.arguments)


def test_demo_without_faults_is_one_attempt(tmp_path: Path) -> None:
    run = run_cli(["demo", "--json", "--faults", "", "--provider", "gemini"], tmp_path)
    assert run.returncode == 0, str(run)
    events = run.json_lines()
    assert "Retrying" not in [event["event"] for event in events]
    assert events[-1]["attempts"] == 1
    assert events[-1]["text_exact"] is True


def test_demo_unknown_fault_is_a_usage_error(tmp_path: Path) -> None:
    run = run_cli(["demo", "--faults", "reset,meteor"], tmp_path)
    assert run.returncode == 2, str(run)
    no_traceback(run)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("streamrecover: error: unknown fault(s) meteor")
    assert all(fault in lines[0] for fault in DEMO_FAULTS)
    # Nothing was recorded for a demo that never started.
    assert not (tmp_path / "cache" / "streamrecover" / "streams.db").exists()


def test_demo_colours_only_on_a_terminal(tmp_path: Path) -> None:
    code, coloured, _ = run_on_terminal(["demo", "--faults", "reset"], tmp_path, stream="stdout")
    assert code == 0
    assert b"\x1b[" in coloured  # proves the next check could fail
    for flag, env in ((["--no-color"], {}), ([], {"NO_COLOR": "1"})):
        code, plain, _ = run_on_terminal(
            ["demo", "--faults", "reset", *flag], tmp_path, stream="stdout", env=env
        )
        assert code == 0
        assert b"\x1b" not in plain
        assert b"exact: equals the reference" in plain


def test_demo_survives_an_ascii_only_stdout(tmp_path: Path) -> None:
    # The answer is full of non-ASCII; a console that cannot show it gets escapes.
    run = run_cli(["demo", "--faults", "reset"], tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert run.returncode == 0, str(run)
    no_traceback(run)
    assert "Z\\xfcrich" in run.stdout
    assert "exact: equals the reference" in run.stdout
