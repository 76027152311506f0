"""Run ``python -m streamrecover`` in a subprocess, in an environment of its own.

Every run gets ``XDG_CACHE_HOME`` and ``HOME`` inside the test's temporary
directory (so the default SQLite file never lands in the real cache), no
provider key unless the test gives one, no ``STREAMRECOVER_STORAGE`` unless
given, and no proxy variables (all traffic is loopback).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Environment variables that would leak the developer's setup into a run.
SCRUBBED = (
    "STREAMRECOVER_STORAGE",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "NO_COLOR",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
)

#: Generous: a demo takes about 2 s; this only stops a hung run from hanging the suite.
TIMEOUT = 60.0


def cli_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for the CLI with its caches under ``home``."""
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    env["XDG_CACHE_HOME"] = str(home / "cache")
    env["HOME"] = str(home / "home")
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra or {})
    return env


def command(args: Sequence[str]) -> list[str]:
    """The argv that runs the CLI with this interpreter."""
    return [sys.executable, "-m", "streamrecover", *args]


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """A finished CLI run."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout parsed as one JSON object per line (fails on any other line)."""
        objects = [json.loads(line) for line in self.stdout.splitlines()]
        assert all(isinstance(o, dict) for o in objects), self.stdout
        return objects

    def __str__(self) -> str:
        return (
            f"streamrecover {' '.join(self.args)} -> {self.returncode}\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )


def run_cli(
    args: Sequence[str],
    home: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run the CLI to the end (in ``cwd``, default ``home``) and return what it printed."""
    done = subprocess.run(
        command(args),
        env=cli_env(home, env),
        cwd=cwd or home,
        capture_output=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return Run(args=tuple(args), returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)


def start_cli(
    args: Sequence[str], home: Path, *, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start the CLI without waiting (several demos sleep at the same time)."""
    return subprocess.Popen(
        command(args),
        env=cli_env(home, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        encoding="utf-8",
    )


def finish(args: Sequence[str], process: subprocess.Popen[str]) -> Run:
    """Wait for a process from :func:`start_cli`."""
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return Run(args=tuple(args), returncode=process.returncode, stdout=stdout, stderr=stderr)


def run_on_terminal(
    args: Sequence[str], home: Path, *, stream: str, env: Mapping[str, str] | None = None
) -> tuple[int, bytes, bytes]:
    """Run the CLI with ``stream`` (``stdout`` or ``stderr``) on a pseudo-terminal.

    The other stream is a pipe. Returns (exit code, terminal bytes, pipe bytes).
    """
    controller, terminal = pty.openpty()
    pipe_end = subprocess.PIPE
    try:
        process = subprocess.Popen(
            command(args),
            env=cli_env(home, env),
            stdin=subprocess.DEVNULL,
            stdout=terminal if stream == "stdout" else pipe_end,
            stderr=terminal if stream == "stderr" else pipe_end,
        )
    finally:
        os.close(terminal)  # the child holds its copy; EOF comes when it exits
    seen = b""
    try:
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO on Linux once the last writer is gone
                break
            if not data:
                break
            seen += data
        piped = process.stderr if stream == "stdout" else process.stdout
        assert piped is not None
        other = piped.read()
        piped.close()
        returncode = process.wait(timeout=TIMEOUT)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
    return returncode, seen, other


def no_traceback(run: Run) -> None:
    """Assert that the run printed no Python traceback or unraisable-exception noise."""
    for text in (run.stdout, run.stderr):
        assert "Traceback" not in text, str(run)
        assert "Exception ignored" not in text, str(run)
