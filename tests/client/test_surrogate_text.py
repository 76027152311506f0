"""A surrogate pair split across two deltas (a proxy slicing by UTF-16 unit) and a lone
half reach neither storage nor the consumer unencodable (finding 6 of issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reference_frames import ReferenceServer, base_url, preamble_frames, request_body
from reference_frames import terminal_frames as ending

import streamrecover as sr
from streamrecover.core.events import TextDelta
from streamrecover.testing.server import Close, LastChunk, SendChunk, sse_frame, sse_head

# What the proxy sends, as JSON escapes (ensure_ascii): "\ud83d" and "\ude00" in two
# events, then a half with no partner.
DELTAS = ["Smile ", "\ud83d", "\ude00", " and a lone half \udc00 here."]
EXPECTED = "Smile \U0001f600 and a lone half \ufffd here."


def _frame(text: str) -> bytes:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": None}
    return sse_frame(json.dumps({"id": "c", "object": "chat.completion.chunk",
                                 "choices": [choice]}))


@pytest.mark.parametrize("storage_kind", ["memory", "sqlite", "disk"])
def test_split_and_lone_surrogates(tmp_path: Path, storage_kind: str) -> None:
    if storage_kind == "disk":
        pytest.importorskip("diskcache")
    url = {"memory": "memory://", "sqlite": f"sqlite:///{tmp_path}/s.db",
           "disk": f"disk:///{tmp_path}/d"}[storage_kind]
    script = [sse_head(), *(SendChunk(frame) for frame in preamble_frames("openai")),
              *(SendChunk(_frame(text)) for text in DELTAS),
              *(SendChunk(frame) for frame in ending("openai", 9)), LastChunk(), Close()]
    with ReferenceServer([script]) as server, sr.Client(
        "openai", base_url=base_url(server, "openai"), api_key="k", storage=url,
        checkpoint_interval=0.0,
    ) as client:
        with client.stream(**request_body("openai")) as stream:
            received = [event.text for event in stream if isinstance(event, TextDelta)]
        shown = "".join(received)
        assert shown == stream.text == EXPECTED
        for piece in received:
            piece.encode("utf-8")  # every delta the consumer saw is encodable
        assert stream.surrogates_replaced == 1
        assert client.storage is not None
        record = client.storage.get(stream.recovery_id or "")
        assert (record.status, record.text) == ("completed", EXPECTED)
