"""Ownership across processes: resumers racing with and without force, and a writer
paused (SIGSTOP) while another process takes its record over (finding 3 of issue 12).

Every process streams from a fake server in this process; the stored text must
be the reference answer exactly, never a duplicated continuation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reference_frames import (
    REFERENCE,
    ReferenceServer,
    answer,
    base_url,
    partial_of,
    request_body,
)

import streamrecover as sr
from streamrecover.core.errors import StreamInterrupted
from streamrecover.storage import StatusConflictError, open_storage
from streamrecover.transport import Timeouts

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# Resume a stored stream; print what happened. argv: url, storage, id, force, go-file.
RESUMER = r"""
import sys, time
from pathlib import Path
import streamrecover as sr
from streamrecover.storage import StatusConflictError

url, storage, record_id, force, go = sys.argv[1:6]
client = sr.Client("openai", base_url=url, api_key="k", storage=storage,
                   checkpoint_interval=0.0, retry=sr.RetryPolicy(max_retries=0, max_resumes=0))
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.001)
try:
    with client.resume(record_id, force=force == "force") as stream:
        stream.until_done()
except StatusConflictError:
    print("lost")
except sr.StreamInterrupted as exc:
    print("taken over" if "another process" in str(exc) else f"interrupted: {exc}")
else:
    print("completed")
"""

# Stream a new answer slowly; print the id, then the outcome. argv: url, storage.
WRITER = r"""
import sys
import streamrecover as sr

url, storage = sys.argv[1:3]
client = sr.Client("openai", base_url=url, api_key="k", storage=storage,
                   checkpoint_interval=0.0, renew_interval=0.1,
                   retry=sr.RetryPolicy(max_retries=0, max_resumes=0))
stream = client.stream(model="gpt-test", messages=[{"role": "user", "content": "Say it."}])
print(stream.recovery_id, flush=True)
try:
    stream.until_done()
except sr.StreamInterrupted as exc:
    print("taken over" if "another process" in str(exc) else f"interrupted: {exc}", flush=True)
else:
    print("completed", flush=True)
"""


def _interrupted_record(url: str, words: int = 5) -> str:
    """A stream cut after ``words`` words, left ``interrupted`` in storage."""
    with ReferenceServer([[answer("openai", cut_after=words)]]) as server, sr.Client(
        "openai", base_url=base_url(server, "openai"), api_key="k", storage=url,
        retry=sr.RetryPolicy(max_retries=0, max_resumes=0),
    ) as client, pytest.raises(StreamInterrupted) as cut:
        client.stream(**request_body("openai")).until_done()
    assert cut.value.recovery_id is not None
    return cut.value.recovery_id


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("scheme", ["sqlite", "disk"])
def test_two_resumers_race_and_exactly_one_writes(
    tmp_path: Path, scheme: str, force: bool
) -> None:
    if scheme == "disk":
        pytest.importorskip("diskcache")
    url = f"sqlite:///{tmp_path}/s.db" if scheme == "sqlite" else f"disk:///{tmp_path}/d"
    record_id = _interrupted_record(url)
    go = tmp_path / "go"
    slow = [answer("openai", pause=0.03)]
    with ReferenceServer(default=slow) as server:
        children = [
            subprocess.Popen(
                [sys.executable, "-c", RESUMER, base_url(server, "openai"), url, record_id,
                 "force" if force else "wait", str(go)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for _ in range(2)
        ]
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        go.touch()
        outcomes = []
        for child in children:
            stdout, stderr = child.communicate(timeout=120)
            assert child.returncode == 0, stderr
            outcomes.append(stdout.strip())
    # Without force the second claim is refused; with force the first claimer
    # is fenced out by the second claim (or, had it finished first, the second
    # meets a completed record). Either way exactly one stream wrote.
    assert outcomes.count("completed") == 1, outcomes
    (other,) = [outcome for outcome in outcomes if outcome != "completed"]
    assert other in (("lost",) if not force else ("taken over", "lost")), outcomes
    with open_storage(url) as storage:
        record = storage.get(record_id)
    assert (record.status, record.text) == ("completed", REFERENCE)
    assert record.epoch == (2 if force and other == "taken over" else 1)


@pytest.mark.parametrize("scheme", ["sqlite", "disk"])
def test_a_paused_writer_is_refused_when_it_wakes(tmp_path: Path, scheme: str) -> None:
    if scheme == "disk":
        pytest.importorskip("diskcache")
    url = f"sqlite:///{tmp_path}/s.db" if scheme == "sqlite" else f"disk:///{tmp_path}/d"
    with ReferenceServer(default=[answer("openai", pause=0.05)]) as slow, \
            ReferenceServer(default=[answer("openai", overlap_words=1)]) as finishing:
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, base_url(slow, "openai"), url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert writer.stdout is not None
            record_id = writer.stdout.readline().strip()
            with open_storage(url) as storage:
                while len(storage.get(record_id).text) < 20:
                    time.sleep(0.01)
                os.kill(writer.pid, signal.SIGSTOP)  # paused: alive, but renewing nothing
                paused_at = storage.get(record_id)
                client = sr.Client("openai", base_url=base_url(finishing, "openai"),
                                   api_key="k", storage=storage, timeouts=Timeouts(idle=10))
                # Its owner is alive on this host, so only its lease (0.5 s) lets go.
                for _ in range(3000):
                    try:
                        resumed = client.resume(record_id)
                        break
                    except StatusConflictError:
                        time.sleep(0.01)
                with resumed:
                    # It continued from exactly what the paused writer had stored.
                    assert resumed.until_done() == REFERENCE
                assert partial_of("openai", finishing.requests[-1]) == paused_at.text.rstrip()
                os.kill(writer.pid, signal.SIGCONT)
                stdout, stderr = writer.communicate(timeout=60)
                record = storage.get(record_id)
        finally:
            if writer.poll() is None:
                os.kill(writer.pid, signal.SIGCONT)
                writer.kill()
                writer.wait()
    assert writer.returncode == 0, stderr
    assert stdout.strip() == "taken over", stderr
    # The woken writer's appends and its final mark were all refused.
    assert (record.status, record.text, record.epoch) == ("completed", REFERENCE, 1)
