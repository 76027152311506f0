"""A throwaway redis-server for the benchmarks: a free loopback port, no persistence."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

#: The environment variable through which benchmark subprocesses find the server.
ENVIRONMENT = "STREAMRECOVER_BENCH_REDIS"


class BenchRedis:
    """``with BenchRedis() as url:`` runs redis-server until the block ends (url None: none)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.directory = ""

    def __enter__(self) -> str | None:
        binary = shutil.which("redis-server")
        if binary is None:
            return None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.directory = tempfile.mkdtemp(prefix="sr-bench-redis-")
        self.process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.directory, "--logfile", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        url = f"redis://127.0.0.1:{port}/0"
                        os.environ[ENVIRONMENT] = url
                        return url
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def __exit__(self, *exc_info: object) -> None:
        os.environ.pop(ENVIRONMENT, None)
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        shutil.rmtree(self.directory, ignore_errors=True)
