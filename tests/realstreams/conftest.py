"""Where the recorded real provider streams are, and a clean environment for loopback.

The recordings are not part of the project: they sit next to the repository,
at ``<repo root>/../shared/realstreams`` (where CI's clone finds them too), or
wherever ``STREAMRECOVER_REALSTREAMS`` points. Without them, the tests of this
folder are skipped, saying so.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The leak check (a garbage collection after each test) lives one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from leak_check import collect_leaks, collect_module_leaks  # noqa: F401

_ISOLATED = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A proxy configured on the machine must not reroute loopback requests, and
    # a real key must never reach the fake server.
    for name in _ISOLATED:
        monkeypatch.delenv(name, raising=False)
    yield
