"""Fixtures for the client tests: a clean environment, leak checks and a test CA."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The shared socket fixtures (test CA, TLS contexts, leak check) live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from network_fixtures import *  # noqa: F403

ENVIRONMENT_VARIABLES = (
    # A proxy configured on the machine must not reroute loopback requests.
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUEST_METHOD",
    # A real key on the machine must never be sent to a fake server (nor make a
    # test that expects no key pass by accident).
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
