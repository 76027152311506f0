"""Several processes share one SQLite file / one disk directory: nothing is lost, and of
several processes claiming one stream to resume it exactly one wins."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from streamrecover.storage import new_record, open_storage

WORKERS = 3
APPENDS = 60

# Each worker creates its own record (the disk index is shared), appends to it and,
# interleaved, to one shared record, then marks its own record completed.
WORKER = r"""
import sys
from streamrecover.storage import new_record, open_storage

url, shared_id, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open_storage(url) as storage:
    own = new_record(provider="p", model="m", request={}, record_id=f"worker-{worker}")
    storage.create(own)
    for step in range(count):
        storage.append(shared_id, [f"<{worker}:{step}:", f"{step}:{worker}>"])
        storage.append(own.id, [f"{step},"])
    storage.mark(own.id, "completed")
"""


@pytest.mark.parametrize("scheme", ["sqlite", "disk"])
def test_processes_lose_nothing(tmp_path: Path, scheme: str) -> None:
    if scheme == "disk":
        pytest.importorskip("diskcache")
    url = f"sqlite:///{tmp_path}/streams.db" if scheme == "sqlite" else f"disk:///{tmp_path}/dir"
    shared = new_record(provider="p", model="m", request={})
    with open_storage(url) as storage:
        storage.create(shared)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, shared.id, str(worker), str(APPENDS)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for worker in range(WORKERS)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr

    with open_storage(url) as storage:
        text = storage.get(shared.id).text
        pairs = re.findall(r"<(\d+):(\d+):(\d+):(\d+)>", text)
        assert "".join(f"<{a}:{b}:{c}:{d}>" for a, b, c, d in pairs) == text
        assert len(pairs) == WORKERS * APPENDS
        for worker in range(WORKERS):
            steps = [int(b) for a, b, c, d in pairs if int(a) == worker and (a, b) == (d, c)]
            assert steps == list(range(APPENDS))
            own = storage.get(f"worker-{worker}")
            assert own.text == "".join(f"{step}," for step in range(APPENDS))
            assert own.status == "completed"
        assert len(storage.summaries()) == WORKERS + 1


CLAIMERS = 4

# Each claimer opens the storage, says it is ready, waits for the starting signal
# (a file) so that all of them claim at the same moment, and prints what it got.
CLAIMER = r"""
import os
import sys
import time
from pathlib import Path
from streamrecover.storage import StatusConflictError, open_storage
from streamrecover.storage.owner import Owner

url, record_id, ready, go = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
with open_storage(url) as storage:
    ready.touch()
    while not go.exists():
        time.sleep(0.001)
    try:
        # An owner on another host: the winner exits at once, and a late claimer
        # must still see its record as owned (its lease), not as a dead owner's.
        owner = Owner(host="elsewhere", pid=os.getpid())
        claimed = storage.claim(record_id, owner=owner, lease=60)
    except StatusConflictError as exc:
        print("lost", exc.current)
    else:
        print("won", claimed.status, claimed.text, claimed.epoch)
"""


@pytest.mark.parametrize("status", ["interrupted", "active"])
@pytest.mark.parametrize("scheme", ["sqlite", "disk"])
def test_processes_racing_to_claim_have_exactly_one_winner(
    tmp_path: Path, scheme: str, status: str
) -> None:
    if scheme == "disk":
        pytest.importorskip("diskcache")
    url = f"sqlite:///{tmp_path}/streams.db" if scheme == "sqlite" else f"disk:///{tmp_path}/dir"
    # Interrupted, or active but not updated for an hour (its writer died): both claimable.
    record = replace(
        new_record(provider="p", model="m", request={}),
        status=status,
        chunks=("partial",),
        updated_at=time.time() - 3600,
    )
    with open_storage(url) as storage:
        storage.create(record)
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{number}" for number in range(CLAIMERS)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, url, record.id, str(flag), str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for flag in ready
    ]
    try:
        while not all(flag.exists() for flag in ready):
            if any(process.poll() is not None for process in processes):
                break  # one died before the start: reported below
            time.sleep(0.005)
    finally:
        go.touch()
    outcomes = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        outcomes.append(stdout.strip())
    assert sorted(outcomes) == ["lost active"] * (CLAIMERS - 1) + ["won active partial 1"]
    with open_storage(url) as storage:
        assert storage.get(record.id).status == "active"
