"""What the conformance kit cannot see: URLs, credentials, TTLs, prefixes, no KEYS, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.exceptions
from redis_server import RedisServer, free_port

from streamrecover.core.errors import StorageError
from streamrecover.storage import StorageURLError, new_record, open_storage
from streamrecover.storage.record import RecordedError, StreamRecord
from streamrecover.storage.redis import RedisStorage

_PASSWORD = "pw-SECRET-5f3c9a"
_KEY = "sk-planted-SECRET-0123456789abcdef"


@pytest.fixture
def storage(redis_url: str) -> Iterator[RedisStorage]:
    with RedisStorage(redis_url) as opened:
        yield opened


def _raw(url: str) -> redis.Redis:
    return redis.Redis.from_url(url.partition("?")[0])


def _record(**request: object) -> StreamRecord:
    return new_record(provider="openai", model="m", request={"messages": [], **request})


def test_open_storage_finds_redis_through_the_entry_point(redis_url: str) -> None:
    with open_storage(redis_url) as storage:
        assert isinstance(storage, RedisStorage)
        assert storage.prefix.startswith("t") and storage.ttl == 1800


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost/zero",
        "redis://localhost:99999/0",
        "redis://localhost/0?prefix=",
        "redis://localhost/0?prefix=a%20b",
        "redis://localhost/0?ttl=-1",
        "redis://localhost/0?ttl=1.5",
        "redis://localhost/0?colour=blue",
        "redis://localhost/0#frag",
        "http://localhost/0",
    ],
)
def test_bad_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(StorageURLError) as info:
        RedisStorage(url)
    assert isinstance(info.value, ValueError)


def test_prefix_and_ttl_come_from_the_url(redis_server: RedisServer) -> None:
    with RedisStorage(f"{redis_server.url}?prefix=app1:&ttl=60") as storage:
        assert (storage.prefix, storage.ttl) == ("app1:", 60)
        assert repr(storage) == (
            f"RedisStorage('redis://127.0.0.1:{redis_server.port}/0', prefix='app1:', ttl=60)")


def test_prefixes_keep_applications_apart(redis_server: RedisServer) -> None:
    with RedisStorage(f"{redis_server.url}?prefix=appA:") as first, \
            RedisStorage(f"{redis_server.url}?prefix=appB:") as second:
        record = _record()
        first.create(record)
        assert [summary.id for summary in first.summaries()] == [record.id]
        assert second.summaries() == []
        second.create(record)  # the same id, another application
        first.append(record.id, ["A"])
        assert second.get(record.id).text == ""
        keys = sorted(key.decode() for key in _raw(redis_server.url).scan_iter("app*"))
        assert all(key.startswith(("appA:", "appB:")) for key in keys)
        first.delete(record.id)
        second.delete(record.id)


def test_stopped_records_expire_and_a_claim_keeps_them(redis_url: str) -> None:
    with RedisStorage(redis_url.replace("?", "?ttl=100&")) as storage:
        raw = _raw(redis_url)
        record = _record()
        storage.create(record)
        hash_key, log_key = (f"{storage.prefix}r:{record.id}", f"{storage.prefix}l:{record.id}")
        storage.append(record.id, ["text"])
        assert (raw.ttl(hash_key), raw.ttl(log_key)) == (-1, -1)  # active: no TTL
        storage.mark(record.id, "interrupted")
        assert 90 < raw.ttl(hash_key) <= 100 and 90 < raw.ttl(log_key) <= 100
        storage.claim(record.id)
        assert (raw.ttl(hash_key), raw.ttl(log_key)) == (-1, -1)
        storage.mark(record.id, "completed")
        assert 90 < raw.ttl(hash_key) <= 100
        # Gone on the server's clock: the index forgets it, nothing else breaks.
        raw.delete(hash_key, log_key)
        assert storage.summaries() == []
        assert storage.cleanup(older_than=0) == 0
        assert raw.zcard(f"{storage.prefix}index") == 0


def test_ttl_zero_keeps_stopped_records(redis_url: str) -> None:
    with RedisStorage(redis_url.replace("?", "?ttl=0&")) as storage:
        record = _record()
        storage.create(record)
        storage.mark(record.id, "completed")
        assert _raw(redis_url).ttl(f"{storage.prefix}r:{record.id}") == -1


def test_listing_and_cleanup_never_use_keys(storage: RedisStorage, redis_url: str) -> None:
    raw = _raw(redis_url)
    raw.config_resetstat()
    for _ in range(5):
        record = _record()
        storage.create(record)
        storage.append(record.id, ["x"])
    assert len(storage.summaries()) == 5
    assert len(storage.list(status="active")) == 5
    assert storage.cleanup(older_than=0) == 5
    stats = raw.info("commandstats")
    assert "cmdstat_zrangebyscore" in stats
    assert "cmdstat_keys" not in stats and "cmdstat_scan" not in stats


def test_no_secret_reaches_redis(storage: RedisStorage, redis_url: str) -> None:
    record = new_record(
        provider="openai", model="m",
        request={"messages": [], "api_key": _KEY},
        base_url=f"https://user:{_KEY}@api.example.test/v1?key={_KEY}",
        options={"headers": {"Authorization": f"Bearer {_KEY}"}},
    )
    storage.create(record)
    storage.append(record.id, ["partial"])
    storage.mark(record.id, "failed", error=RecordedError(
        type="HTTPStatusError", message=f"401 (Authorization: Bearer {_KEY})", recoverable=False))
    raw = _raw(redis_url)
    dumped = b""
    for key in raw.scan_iter(f"{storage.prefix}*"):
        dumped += raw.dump(key) or b""
    assert b"partial" in dumped
    assert _KEY.encode() not in dumped


@pytest.fixture
def locked_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "locked", extra=("--requirepass", _PASSWORD)).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_password_in_the_url_is_used_and_never_shown(
    locked_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"redis://:{_PASSWORD}@127.0.0.1:{locked_server.port}/0?prefix=pw:"
    with RedisStorage(url) as storage:
        record = _record()
        storage.create(record)
        assert storage.get(record.id).id == record.id
        shown = repr(storage) + str(vars(storage))
        assert _PASSWORD not in shown
    wrong = f"redis://:wrong-{_PASSWORD}@127.0.0.1:{locked_server.port}/0"
    with RedisStorage(wrong) as storage, pytest.raises(StorageError) as info:
        storage.summaries()
    assert _PASSWORD not in str(info.value)
    assert "127.0.0.1" in str(info.value)
    assert _PASSWORD not in caplog.text


def test_an_unreachable_server_is_a_storage_error() -> None:
    with RedisStorage(f"redis://:{_PASSWORD}@127.0.0.1:{free_port()}/0") as storage:
        for operation in (storage.summaries, lambda: storage.get("abc"),
                          lambda: storage.append("abc", ["x"])):
            with pytest.raises(StorageError) as info:
                operation()
            assert "ConnectionError" in str(info.value)
            assert _PASSWORD not in str(info.value)



class _LoseReply:
    """Wraps the append script: the next call fails as if the connection dropped, either
    after the server applied it (``applied``) or before it reached the server."""

    def __init__(self, script: Any, *, applied: bool) -> None:
        self.script, self.applied, self.armed = script, applied, True

    def __call__(self, **arguments: Any) -> Any:
        if self.armed:
            self.armed = False
            if self.applied:
                self.script(**arguments)
            raise redis.exceptions.ConnectionError("Connection closed by server.")
        return self.script(**arguments)


@pytest.mark.parametrize("applied", [True, False])
@pytest.mark.parametrize("before", ["", "ha", "hahaha"])
def test_a_retried_append_after_a_lost_reply_is_applied_once(
    storage: RedisStorage, applied: bool, before: str
) -> None:
    record = _record()
    storage.create(record)
    if before:
        storage.append(record.id, [before])
    real = storage._append
    storage._append = _LoseReply(real, applied=applied)  # type: ignore[assignment]
    with pytest.raises(StorageError):
        storage.append(record.id, ["ha"])
    # The checkpointer retries with the failed batch at the front of the next one.
    storage.append(record.id, ["ha", "x🙂"])
    storage.append(record.id, ["!"])
    stored = storage.get(record.id)
    assert stored.text == before + "hax🙂!"
    assert storage.summaries()[0].text_length == len(before + "hax🙂!")
    storage._append = real  # type: ignore[method-assign]
