"""Streams shared across processes through a real Redis: a writer killed mid-answer, another
process resuming it, watchers in other processes seeing every character exactly once.

Worker A (a child process) streams a slow answer from a fake server in this
process into Redis, checkpointing every delta, and is SIGKILLed mid-answer.
Watcher C, another process started before the kill, prints every event with
its offset. Worker B, a third process, resumes the stream with no ``force``
(A's lease rules allow it: A is gone) against a second fake server that
continues from exactly the partial answer the resume request carries. C must
end with ``Completed`` having seen each offset once and the reference text
exactly; a watcher started after completion replays the same events; one
started at a later offset gets exactly the rest.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from reference_frames import REFERENCE, ReferenceServer, answer, base_url, request_body

from streamrecover.storage import open_storage
from streamrecover.testing.server import Stall

WORD_PAUSE = 0.08  # the answer (29 words) would take about 2.3 s
# A never gets past this many words (the slow server then stalls until A is killed),
# so however loaded the machine, A is killed mid-answer.
WORDS_BEFORE_STALL = 12

WORKER = """
import json, sys
import streamrecover as sr

mode, provider, url, storage, argument = sys.argv[1:6]
client = sr.Client(provider, base_url=url, api_key="worker-key", storage=storage,
                   checkpoint_interval=0.0, retry=sr.RetryPolicy(max_retries=0, max_resumes=0))
stream = client.stream(**json.loads(argument)) if mode == "stream" else client.resume(argument)
print(stream.recovery_id, flush=True)
stream.until_done()
print("completed", flush=True)
"""

WATCHER = """
import json, sys
import streamrecover as sr
from streamrecover.core.events import Completed, Rewind, TextDelta

storage, recovery_id, after = sys.argv[1], sys.argv[2], sys.argv[3]
client = sr.Client("openai", api_key="unused", storage=storage)
print("ready", flush=True)
with client.watch(recovery_id, after=None if after == "-" else int(after)) as watcher:
    for event in watcher:
        if isinstance(event, TextDelta):
            line = {"offset": watcher.event_offset, "text": event.text}
        elif isinstance(event, Rewind):
            line = {"offset": watcher.event_offset, "rewind": event.to}
        else:
            assert isinstance(event, Completed)
            line = {"offset": watcher.event_offset, "completed": True}
        print(json.dumps(line), flush=True)
"""


def _spawn(script: Path, *arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _lines(process: subprocess.Popen[str], timeout: float = 60) -> list[dict[str, Any]]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _text(lines: list[dict[str, Any]], text: str = "") -> str:
    for line in lines:
        if "text" in line:
            text += line["text"]
        elif "rewind" in line:
            text = text[: line["rewind"]]
    return text


@pytest.mark.parametrize("seed", [1, 2])
def test_a_killed_writer_is_resumed_elsewhere_and_watchers_see_everything_once(
    redis_url: str, tmp_path: Path, seed: int
) -> None:
    worker, watcher = tmp_path / "worker.py", tmp_path / "watcher.py"
    worker.write_text(WORKER, encoding="utf-8")
    watcher.write_text(WATCHER, encoding="utf-8")
    provider, rng = "openai", random.Random(seed)
    with (
        ReferenceServer(default=[answer(provider, pause=WORD_PAUSE, cut_after=WORDS_BEFORE_STALL,
                                        fault=Stall(max_seconds=60))]) as slow,
        ReferenceServer(default=[answer(provider, overlap_words=1)]) as finishing,
        open_storage(redis_url) as storage,
    ):
        a = _spawn(worker, "stream", provider, base_url(slow, provider), redis_url,
                   json.dumps(request_body(provider)))
        assert a.stdout is not None
        recovery_id = a.stdout.readline().strip()
        assert recovery_id, a.communicate()[1]
        c = _spawn(watcher, redis_url, recovery_id, "-")
        assert c.stdout is not None and c.stdout.readline().strip() == "ready"
        # Let A store a few pieces, then watcher D starts at a later offset.
        while storage.read(recovery_id).end < 3:
            time.sleep(0.01)
        d = _spawn(watcher, redis_url, recovery_id, "2")
        time.sleep(rng.uniform(0.05, 0.3))
        a.kill()  # SIGKILL: no final flush, no mark
        a.communicate()
        killed = storage.get(recovery_id)
        assert killed.status == "active" and REFERENCE.startswith(killed.text)
        assert killed.text != REFERENCE

        b = _spawn(worker, "resume", provider, base_url(finishing, provider), redis_url,
                   recovery_id)
        out, err = b.communicate(timeout=60)
        assert b.returncode == 0, err
        assert out.split() == [recovery_id, "completed"]
        final = storage.get(recovery_id)
        assert (final.status, final.text) == ("completed", REFERENCE)

        seen_by_c, seen_by_d = _lines(c), _lines(d)
        replayed = _lines(_spawn(watcher, redis_url, recovery_id, "-"))
    end = storage_end = seen_by_c[-1]["offset"]
    # C saw every offset exactly once, in order, across the handover, and the exact text.
    assert [line["offset"] for line in seen_by_c[:-1]] == list(range(1, end + 1))
    assert seen_by_c[-1] == {"offset": storage_end, "completed": True}
    assert _text(seen_by_c) == REFERENCE
    # A watcher started after completion replays it all, event for event.
    assert replayed == seen_by_c
    # D started at offset 2: exactly the rest.
    assert seen_by_d == seen_by_c[2:]
    assert _text(seen_by_d, _text(seen_by_c[:2])) == REFERENCE
