"""Fixtures for the transport tests: no proxy from the environment, a test CA."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The shared socket fixtures (test CA, TLS contexts, leak check) live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from network_fixtures import *  # noqa: F403

PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUEST_METHOD",
)


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A proxy configured on the machine running the tests must not reroute
    # loopback requests; tests that want one set it themselves.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
