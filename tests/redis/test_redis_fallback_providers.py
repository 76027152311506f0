"""The record's ``providers`` (who served a stream that fell back) on a real Redis server."""

from __future__ import annotations

import json

import redis

from streamrecover.storage import new_record, open_storage
from streamrecover.storage.contribution import Contribution

SERVED = (
    Contribution(provider="anthropic", model="claude-sonnet-4-5"),
    Contribution(provider="openai", model="gpt-4o", base_url="https://api.openai.com/v1",
                 offset=7, cause="retries_exhausted: HTTPStatusError: HTTP 529"),
)


def test_providers_are_stored_and_a_state_without_them_reads(redis_url: str) -> None:
    with open_storage(redis_url) as storage:
        record = new_record(provider="anthropic", model="claude-sonnet-4-5", request={})
        storage.create(record)
        storage.append(record.id, ["partial"])
        assert storage.get(record.id).providers == ()
        storage.mark(record.id, "interrupted", providers=SERVED)
        assert storage.get(record.id).providers == SERVED
        assert [s.id for s in storage.summaries()] == [record.id]
        # A state written before fallbacks has no such field.
        prefix = redis_url.partition("prefix=")[2]
        raw = redis.Redis.from_url(redis_url.partition("?")[0])
        key = next(k for k in raw.scan_iter(f"{prefix}*") if raw.type(k) == b"hash"
                   and raw.hget(k, "state") is not None)
        state = json.loads(raw.hget(key, "state"))
        del state["providers"]
        raw.hset(key, "state", json.dumps(state))
        assert storage.get(record.id).providers == ()
