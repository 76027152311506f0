"""Fixtures for the CLI tests: leak checks and a clean environment for in-process parts.

The CLI itself runs in subprocesses with an environment built by
``cli_helpers.cli_env``; the fake servers, the recovery registry and the
conformance runner run in this process, so they get the same care as the
client tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The shared socket fixtures (leak check) live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cli_helpers import SCRUBBED
from network_fixtures import collect_leaks, collect_module_leaks  # noqa: F401


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # No proxy may reroute loopback requests, and no real key may reach a fake server.
    for name in SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    yield
