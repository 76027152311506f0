"""Where the recorded real provider streams are, and a clean environment for loopback.

The recordings are not part of the project: they sit next to the repository,
at ``<repo root>/../shared/realstreams`` (where CI's clone finds them too), or
wherever ``STREAMRECOVER_REALSTREAMS`` points. Without them, the tests of this
folder are skipped, saying so.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

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
    # A socket left open is a ResourceWarning (an error in this suite): collect
    # now, so that the test that leaked is the one that fails.
    gc.collect()
