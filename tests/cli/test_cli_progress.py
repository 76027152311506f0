"""The progress counter of ``streamrecover conformance``: on a terminal only."""

from __future__ import annotations

import io
import re
from pathlib import Path

from cli_helpers import no_traceback, run_cli, run_on_terminal

from streamrecover._cli_tools import ProgressLine as _ProgressLine
from streamrecover.testing.conformance import run_matrix

#: A small slice of the matrix: 6 scenarios x 4 providers, sync adapter, memory storage.
SLICE = ["conformance", "-k", "transport_reset", "--adapter", "sync", "--storage", "memory://"]
RUNS = 24


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return True


def test_no_progress_line_for_a_pipe_or_file() -> None:
    assert _ProgressLine.for_stream(io.StringIO()) is None
    closed = _Terminal()
    closed.close()
    assert _ProgressLine.for_stream(closed) is None  # isatty() raises on a closed stream
    assert _ProgressLine.for_stream(None) is None


def test_progress_line_on_a_terminal() -> None:
    terminal = _Terminal()
    progress = _ProgressLine.for_stream(terminal)
    assert progress is not None
    for done in range(4):
        progress(done, 3)
    progress.clear()
    width = len("  3/3 runs")
    assert terminal.getvalue() == (
        "\r  0/3 runs\r  1/3 runs\r  2/3 runs\r  3/3 runs" + "\r" + " " * width + "\r"
    )


def test_a_shorter_line_covers_a_longer_one() -> None:
    terminal = _Terminal()
    progress = _ProgressLine(terminal)
    progress(100, 100)
    progress(7, 9)
    assert terminal.getvalue().split("\r")[-1] == "  7/9 runs".ljust(len("  100/100 runs"))


def test_clear_without_progress_writes_nothing() -> None:
    terminal = _Terminal()
    _ProgressLine(terminal).clear()
    assert terminal.getvalue() == ""


def test_run_matrix_reports_progress() -> None:
    calls: list[tuple[int, int]] = []
    results = run_matrix(
        storage_urls=["memory://"],
        adapters=["sync"],
        providers=["openai", "gemini"],
        scenario_filter="transport_reset_mid_emoji",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert len(results) == 2
    assert calls == [(0, 2), (1, 2), (2, 2)]


def test_progress_on_a_terminal_stderr(tmp_path: Path) -> None:
    code, terminal, piped = run_on_terminal(SLICE, tmp_path, stream="stderr")
    assert code == 0, terminal
    counters = re.findall(rb"\r  (\d+)/(\d+) runs", terminal)
    assert [(int(done), int(total)) for done, total in counters] == [
        (done, RUNS) for done in range(RUNS + 1)
    ]
    assert terminal.endswith(b"\r" + b" " * len(f"  {RUNS}/{RUNS} runs") + b"\r")
    # stdout is a pipe: the matrix alone, with no carriage return in it.
    table = piped.decode()
    assert "\r" not in table
    assert table.splitlines()[-1].startswith(f"{RUNS} passed, 0 failed, {RUNS} runs")


def test_no_progress_when_only_stdout_is_a_terminal(tmp_path: Path) -> None:
    code, terminal, piped = run_on_terminal(SLICE, tmp_path, stream="stdout")
    assert code == 0, terminal
    assert piped == b""  # stderr, a pipe, gets nothing
    assert b"runs" in terminal and b"/24 runs" not in terminal


def test_no_progress_when_nothing_is_a_terminal(tmp_path: Path) -> None:
    run = run_cli(SLICE, tmp_path)
    assert run.returncode == 0, str(run)
    no_traceback(run)
    assert run.stderr == ""
    assert "\r" not in run.stdout
    assert run.stdout.splitlines()[-1].startswith(f"{RUNS} passed, 0 failed")
