"""Fixtures for the Redis tests: one real redis-server per session, a fresh key prefix per test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The fake provider servers of the client tests (reference_frames) serve the cross-process tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "client"))
from redis_server import BINARY, SKIP_REASON, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of the session, without persistence, on a free loopback port."""
    if BINARY is None:
        pytest.skip(SKIP_REASON)
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A storage URL on the session's server with a key prefix of this test's own."""
    return f"{redis_server.url}?prefix=t{uuid.uuid4().hex[:12]}:"
