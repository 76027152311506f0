"""Client.watch / AsyncClient.watch: replay a stored stream, then follow it live, with offsets."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from reference_frames import REFERENCE, Received, ReferenceServer, answer, base_url, request_body

import streamrecover as sr
from streamrecover.core.events import Completed, Rewind, TextDelta
from streamrecover.storage import RecordNotFoundError, new_record, open_storage
from streamrecover.storage.base import Storage
from streamrecover.storage.record import RecordedError


def _write_later(storage: Storage, record_id: str, steps: list[object], pause: float) -> None:
    def run() -> None:
        for step in steps:
            time.sleep(pause)
            if isinstance(step, str):
                storage.append(record_id, [step])
            elif isinstance(step, int):
                storage.truncate(record_id, step)
            else:
                storage.mark(record_id, **step)  # type: ignore[arg-type]

    threading.Thread(target=run, daemon=True).start()


def _record(storage: Storage) -> str:
    record = new_record(provider="openai", model="m", request={"messages": []})
    storage.create(record)
    return record.id


def test_a_live_stream_is_watched_to_the_end_exactly(tmp_path: Path) -> None:
    storage_url = f"sqlite:///{tmp_path}/streams.db"
    with ReferenceServer(default=[answer("openai", pause=0.01)]) as server, sr.Client(
        "openai", base_url=base_url(server, "openai"), api_key="k", storage=storage_url,
        checkpoint_interval=0.0,
    ) as client:
        stream = client.stream(**request_body("openai"))
        assert stream.recovery_id is not None
        producer = threading.Thread(target=stream.until_done)
        producer.start()
        received, offsets = Received(), []
        with client.watch(stream.recovery_id) as watcher:
            for event in watcher:
                received.feed(event)
                offsets.append(watcher.event_offset)
        producer.join()
        assert received.text == stream.text == REFERENCE
        assert isinstance(received.events[-1], Completed)
        texts = received.of_type(TextDelta)
        assert offsets[: len(texts)] == list(range(1, len(texts) + 1))
        assert offsets[-1] == len(texts)
        # Watched after completion: everything again; from an offset: the rest.
        replay = Received()
        for event in client.watch(stream.recovery_id):
            replay.feed(event)
        assert replay.events == received.events
        middle = len(texts) // 2
        rest = "".join(event.text for event in texts[middle:])
        tail = Received()
        for event in client.watch(stream.recovery_id, after=middle):
            tail.feed(event)
        assert tail.text == rest and REFERENCE.endswith(rest)


def test_a_rewind_is_delivered_as_an_event_with_its_offset() -> None:
    with open_storage("memory://") as storage:
        record_id = _record(storage)
        client = sr.Client("openai", api_key="k", storage=storage)
        _write_later(storage, record_id,
                     ["Once ", "upon a tyme", 10, "time.", {"status": "completed",
                                                          "usage": {"output_tokens": 4}}], 0.02)
        seen = []
        with client.watch(record_id) as watcher:
            for event in watcher:
                seen.append((watcher.event_offset, event))
        assert seen == [
            (1, TextDelta(text="Once ")),
            (2, TextDelta(text="upon a tyme")),
            (3, Rewind(to=10)),
            (4, TextDelta(text="time.")),
            (4, Completed(finish_reason="", usage=sr.Usage(output_tokens=4))),
        ]
        text = ""
        for _, event in seen:
            text = event.apply(text) if isinstance(event, Rewind) else text + getattr(
                event, "text", "")
        assert text == storage.get(record_id).text == "Once upon time."


@pytest.mark.parametrize(
    ("status", "recoverable"), [("failed", False), ("interrupted", True), ("cancelled", False)])
def test_a_stream_that_stops_without_completing_raises(status: str, recoverable: bool) -> None:
    with open_storage("memory://") as storage:
        record_id = _record(storage)
        error = (None if status == "cancelled" else
                 RecordedError(type="HTTPStatusError", message="HTTP 529", recoverable=recoverable))
        _write_later(storage, record_id, ["partial", {"status": status, "error": error}], 0.02)
        client = sr.Client("openai", api_key="k", storage=storage)
        received = Received()
        with pytest.raises(sr.StreamInterrupted) as info, client.watch(record_id) as watcher:
            for event in watcher:
                received.feed(event)
        assert received.text == "partial"
        assert (info.value.recovery_id, info.value.committed_text) == (record_id, "partial")
        assert info.value.recoverable is recoverable
        assert status in str(info.value)
        if error is not None:
            assert "HTTP 529" in str(info.value)


def test_bad_watch_arguments() -> None:
    with pytest.raises(sr.UsageError):
        sr.Client("openai", api_key="k", storage=None).watch("abc")
    with sr.Client("openai", api_key="k") as client:
        with pytest.raises(RecordNotFoundError):
            next(iter(client.watch("no-such-record")))
        assert client.storage is not None
        record_id = _record(client.storage)
        for bad in (-1, "3", True):
            with pytest.raises(sr.UsageError):
                client.watch(record_id, after=bad)  # type: ignore[arg-type]
        with pytest.raises(sr.UsageError):
            next(iter(client.watch(record_id, after=5)))  # beyond the log's end


@pytest.mark.anyio
async def test_async_watch_follows_a_stream_without_blocking_the_loop(tmp_path: Path) -> None:
    import anyio

    async with sr.AsyncClient("openai", api_key="k",
                              storage=f"sqlite:///{tmp_path}/s.db") as client:
        assert client.storage is not None
        record_id = _record(client.storage)
        pieces = [f"word{number} " for number in range(20)]
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await anyio.sleep(0.01)

        received = Received()
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                group.start_soon(ticker)
                _write_later(client.storage, record_id,
                             [*pieces, {"status": "completed"}], 0.01)
                async with client.watch(record_id) as watcher:
                    async for event in watcher:
                        received.feed(event)
                group.cancel_scope.cancel()
        assert received.text == "".join(pieces)
        assert isinstance(received.events[-1], Completed)
        assert watcher.event_offset == len(pieces)
        assert ticks > 5  # the loop ran while the watcher waited
