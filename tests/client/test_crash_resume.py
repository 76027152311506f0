"""Resume after a crash: a process streaming into storage is killed, another one finishes.

A child process streams a slow answer from a fake server in this process into
SQLite (or a diskcache directory), checkpointing every delta, and is killed with
SIGKILL at a random moment. This process then finds the stream among the
recoverable ones, still "active", freshly updated and within its lease; the
record names its owner (this host, the child's pid and start time), so
``resume()`` with no ``force`` sees that the owner is gone and claims it at
once. It resumes against a second fake server that continues from exactly the
partial answer the resume request carries, and checks that the stored text
plus the new text is the reference answer, character for character.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reference_frames import (
    REFERENCE,
    Received,
    ReferenceServer,
    answer,
    base_url,
    partial_of,
    request_body,
)

import streamrecover as sr
from streamrecover.registry import RecoveryRegistry
from streamrecover.storage import current_owner
from streamrecover.transport import Timeouts

#: Kills per storage backend.
ITERATIONS = 5
#: The fake server pauses this long after every word: the answer (29 words)
#: takes about 0.6 s, so a kill within KILL_WINDOW always lands mid-stream.
WORD_PAUSE = 0.02
KILL_WINDOW = (0.0, 0.4)

CHILD = """
import json
import sys

import streamrecover as sr

provider, url, storage, body = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
client = sr.Client(
    provider,
    base_url=url,
    api_key="child-key",
    storage=storage,
    checkpoint_interval=0.0,
    retry=sr.RetryPolicy(max_retries=0, max_resumes=0),
)
stream = client.stream(**body)
print(stream.recovery_id, flush=True)
for event in stream:
    pass
print("completed", flush=True)
"""


@pytest.mark.parametrize(
    ("scheme", "provider", "seed"),
    [("sqlite", "openai", 1), ("disk", "anthropic", 2)],
)
def test_a_killed_stream_is_finished_by_another_process(
    scheme: str, provider: str, seed: int, tmp_path: Path
) -> None:
    storage_url = (
        f"sqlite:///{tmp_path}/streams.db" if scheme == "sqlite" else f"disk:///{tmp_path}/store"
    )
    assert storage_url.startswith(f"{scheme}:////")  # four slashes: an absolute path
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    rng = random.Random(seed)
    slow = [answer(provider, pause=WORD_PAUSE)]
    stored_lengths = []
    with (
        ReferenceServer(default=slow) as streaming,
        ReferenceServer(default=[answer(provider, overlap_words=1)]) as finishing,
    ):
        for iteration in range(ITERATIONS):
            command = [
                sys.executable,
                str(script),
                provider,
                base_url(streaming, provider),
                storage_url,
                json.dumps(request_body(provider)),
            ]
            with subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ) as child:
                assert child.stdout is not None and child.stderr is not None
                recovery_id = child.stdout.readline().strip()
                time.sleep(rng.uniform(*KILL_WINDOW))
                child.kill()  # SIGKILL: no cleanup, no final flush
                child.wait()
                assert recovery_id, child.stderr.read()
                assert child.stdout.read() == ""  # it never completed

            with RecoveryRegistry(storage_url) as registry:
                recoverable = {s.id: s for s in registry.list_recoverable_streams()}
                assert recovery_id in recoverable
                # A crash leaves the stream "active": nobody marked it.
                assert recoverable[recovery_id].status == "active"
                left = registry.get_partial_response(recovery_id)
                stored = left.text
                # It names its dead owner, and its lease (10 s) has not run out.
                assert left.owner is not None and left.owner.pid == child.pid
                assert left.lease is not None and time.time() - left.updated_at < left.lease
            assert REFERENCE.startswith(stored)
            stored_lengths.append(len(stored))

            client = sr.Client(
                provider,
                base_url=base_url(finishing, provider),
                api_key="parent-key",
                storage=storage_url,
                timeouts=Timeouts(idle=5),
            )
            with client:
                # Fresh from the kill and within its lease, but its owner (this
                # host, the child's pid) is gone: resume() claims it at once.
                with client.resume(recovery_id) as stream:
                    received = Received()
                    for event in stream:
                        received.feed(event)
                assert client.storage is not None
                record = client.storage.get(recovery_id)
            assert record.epoch == 1 and record.owner == current_owner()
            request = finishing.requests[iteration]
            # The resume request continues from exactly the stored text (an
            # Anthropic prefill without its trailing whitespace).
            assert partial_of(provider, request) == stored.rstrip()
            assert stored + received.text == stream.text == REFERENCE
            assert (record.status, record.text) == ("completed", REFERENCE)
            assert request.header("x-api-key" if provider == "anthropic" else "authorization") in (
                "parent-key",
                "Bearer parent-key",
            )
    # The kills landed at different points of the answer.
    assert len(set(stored_lengths)) > 1
