"""A real ``redis-server`` for tests: started on a free loopback port, stopped by pid.

No persistence unless asked (``--save '' --appendonly no``), files in a
temporary directory. When no ``redis-server`` binary is installed the tests
that need one are skipped with the reason; CI installs it (``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BINARY = shutil.which("redis-server")
SKIP_REASON = (
    "no redis-server binary on PATH (install the Debian package redis-server; "
    ".ci/run does it in CI)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


class RedisServer:
    """One redis-server process. ``persistent`` turns on an fsync-always AOF in ``directory``."""

    def __init__(
        self, directory: Path, *, persistent: bool = False, extra: tuple[str, ...] = ()
    ) -> None:
        assert BINARY is not None, SKIP_REASON
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.persistent = persistent
        self.extra = extra
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, port: int | None = None) -> RedisServer:
        """Start (or restart on the same port when ``port`` is given); wait until it answers."""
        for _ in range(5):  # another process may take a probed port first
            self.port = port or free_port()
            persistence = (
                ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
                if self.persistent else ["--appendonly", "no", "--save", ""]
            )
            assert BINARY is not None
            self.process = subprocess.Popen(
                [BINARY, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", str(self.directory), "--daemonize", "no",
                 "--logfile", str(self.directory / "redis.log"), *persistence, *self.extra],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self.process.poll() is None:
                if ping(self.port):
                    return self
                time.sleep(0.02)
            self.stop()
            if port is not None:
                break
        log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")

    def stop(self) -> None:
        """Stop it by pid (SIGTERM: an AOF is flushed), SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
