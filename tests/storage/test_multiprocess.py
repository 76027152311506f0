"""Several processes write to one SQLite file / one disk directory at once: nothing is lost."""

from __future__ import annotations

import re
import subprocess
import sys
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
