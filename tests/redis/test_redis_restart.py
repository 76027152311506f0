"""Redis restarted mid-stream: the stream goes on for its consumer, the writer's checkpoints
fail while the server is down and resume when it is back, and nothing the storage had
acknowledged is lost or written twice (the server keeps an fsync-always AOF)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from redis_server import BINARY, SKIP_REASON, RedisServer
from reference_frames import REFERENCE, Received, ReferenceServer, answer, base_url, request_body

import streamrecover as sr
from streamrecover.storage.redis import RedisStorage

pytestmark = pytest.mark.skipif(BINARY is None, reason=SKIP_REASON)


def test_a_restart_mid_stream_loses_nothing_acknowledged(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "aof", persistent=True).start()
    try:
        storage = RedisStorage(f"{server.url}?prefix=restart:", socket_timeout=2.0)
        with ReferenceServer(default=[answer("openai", pause=0.05)]) as provider, sr.Client(
            "openai", base_url=base_url(provider, "openai"), api_key="k", storage=storage,
            checkpoint_interval=0.0,
        ) as client:
            stream = client.stream(**request_body("openai"))
            assert stream.recovery_id is not None
            received = Received()
            consumer = threading.Thread(target=lambda: [received.feed(e) for e in stream])
            consumer.start()
            while storage.read(stream.recovery_id).end < 5:
                time.sleep(0.01)
            server.stop()  # SIGTERM: the server flushes its AOF and exits
            acknowledged = len(received.text)
            time.sleep(0.4)  # the writer meets a dead server for a few deltas
            server.start(port=server.port)
            consumer.join(60)
            assert not consumer.is_alive()
            assert received.text == stream.text == REFERENCE
            assert stream.storage_error is not None  # it noticed the outage
            record = storage.get(stream.recovery_id)
        assert (record.status, record.text) == ("completed", REFERENCE)
        assert acknowledged > 0
        # Offsets stayed consecutive: one entry per stored piece, no gap, no repeat.
        log = storage.read(stream.recovery_id)
        assert [entry.offset for entry in log.entries] == list(range(1, log.end + 1))
        assert "".join(entry.text for entry in log.entries) == REFERENCE
        storage.close()
    finally:
        server.stop()
