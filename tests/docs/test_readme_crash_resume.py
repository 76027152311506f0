"""The README's crash-resume example, run as written, while another process writes the file.

The example opens the SQLite file twice in one process (a ``Client`` and a
``RecoveryRegistry``). Finding 1 of issue 12: with a second process opening,
writing and closing the same file meanwhile, records went into a deleted WAL,
a fresh process saw fewer of them, and new storages in the first process failed
with "disk I/O error". Here the second process writes all along; afterwards
every stream is finished exactly, and a fresh process sees every record.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from test_readme import ANSWER, README, _frames

from streamrecover.storage import current_owner, new_record, open_storage
from streamrecover.testing.server import FaultServer, sse_response

# Opens, writes and closes the file over and over until told to stop; prints its count.
# Each of its records is briefly active, owned by that live process.
OTHER_PROCESS = r"""
import sys
from pathlib import Path
from streamrecover.storage import current_owner, new_record, open_storage

url, stop = sys.argv[1], Path(sys.argv[2])
written = 0
while not stop.exists() or written < 5:
    with open_storage(url) as storage:
        # Owned and leased, as a Client writes it: a live stream the example must not pick.
        record = new_record(provider="openai", model="m", request={}, owner=current_owner(),
                            lease=10.0)
        storage.create(record)
        storage.append(record.id, ["other"])
        storage.mark(record.id, "completed")
    written += 1
    print("wrote", flush=True)
print(written, flush=True)
"""


def _crash_resume_block() -> str:
    text = README.read_text(encoding="utf-8")
    (block,) = [found for found in re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
                if "client.resume(summary.id)" in found]
    return block


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_the_crash_resume_example_with_another_process_writing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'streams.db'}"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    with open_storage(url) as storage:
        cut = replace(new_record(provider="openai", model="gpt-4o-mini", request=body),
                      chunks=("Hello there.",), status="interrupted")
        # Killed mid-stream a moment ago: active, fresh, but its owner is gone.
        crashed = replace(new_record(provider="openai", model="gpt-4o-mini", request=body,
                                     owner=replace(current_owner(), pid=_dead_pid(),
                                                   started="0"), lease=3600.0),
                          chunks=("Hello there. Streams",))
        storage.create(cut)
        storage.create(crashed)
    stop = tmp_path / "stop"
    other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, url, str(stop)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "wrote"  # it is writing now
        with FaultServer(default=sse_response(_frames())) as server:
            namespace = {"base_url": server.url("/v1"), "storage_url": url}
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(compile(_crash_resume_block(), "README.md crash-resume", "exec"), namespace)
            # The example's objects are still open, as in a long-running program.
            client = namespace["client"]
            with client.stream(**body) as stream:
                assert stream.until_done() == "".join(ANSWER)
    finally:
        stop.touch()
        stdout, stderr = other.communicate(timeout=60)
    assert other.returncode == 0, stderr
    written = int(stdout.split()[-1])
    answer = "".join(ANSWER)
    # Both streams were finished exactly, the crashed one without force.
    with open_storage(url) as storage:
        for record_id in (cut.id, crashed.id):
            record = storage.get(record_id)
            assert (record.status, record.text) == ("completed", answer)
    # A fresh process sees every record: ours, the example's new one, and the other's.
    count = subprocess.run(
        [sys.executable, "-c",
         "import sys; from streamrecover.storage import open_storage\n"
         "with open_storage(sys.argv[1]) as s: print(len(s.summaries()))", url],
        capture_output=True, text=True, check=True, timeout=60,
    )
    assert int(count.stdout) == 3 + written
    client.close()
