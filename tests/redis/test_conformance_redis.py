"""The redis:// storage passes the whole storage conformance kit against a real redis-server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from redis_server import RedisServer

from streamrecover.storage.base import Clock
from streamrecover.storage.redis import RedisStorage
from streamrecover.testing.storage import StorageConformance


class TestRedisStorage(StorageConformance):
    large_text_chars = 1024 * 1024

    @pytest.fixture(autouse=True)
    def _server(self, redis_server: RedisServer) -> None:
        self.server_url = redis_server.url

    def make_storage(self, tmp_path: Path, clock: Clock) -> RedisStorage:
        return RedisStorage(f"{self.server_url}?prefix=c{uuid.uuid4().hex[:12]}:", clock=clock)
