"""Every ```python block of README.md runs, so the documentation cannot rot.

Blocks run in order, each in a fresh namespace holding ``base_url`` (a local
fake OpenAI-compatible server whose first connection is reset halfway, so the
examples also exercise a real recovery) and ``storage_url`` (a SQLite file).
Blocks fenced as ```py are illustrations (a third-party package) and are skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from streamrecover.testing.server import FaultServer, LastChunk, Reset, sse_frame, sse_response

README = Path(__file__).resolve().parents[2] / "README.md"
ANSWER = ["Hello", " there.", " Streams", " break;", " answers", " survive.", " ✓"]


def _frames() -> list[bytes]:
    def chunk(content: str | None, finish: str | None = None) -> str:
        delta = {} if content is None else {"content": content}
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return json.dumps({"id": "c", "object": "chat.completion.chunk", "choices": [choice]})

    return [sse_frame(chunk(word)) for word in ANSWER] + [
        sse_frame(chunk(None, "stop")),
        sse_frame("[DONE]"),
    ]


def python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_has_runnable_examples() -> None:
    assert len(python_blocks()) >= 5


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_block_runs(index: int, tmp_path: Path) -> None:
    block = python_blocks()[index]
    frames = _frames()
    broken = [step for step in sse_response(frames[:3]) if not isinstance(step, LastChunk)]
    with FaultServer([[*broken[:-1], Reset()]], default=sse_response(frames)) as server:
        namespace = {
            "base_url": server.url("/v1"),
            "storage_url": f"sqlite:///{tmp_path / 'streams.db'}",
        }
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(block, f"README.md block {index}", "exec"), namespace)
    if "text_stream" in block and "client.stream(" in block:
        # The answer came through exactly once, despite the reset.
        assert "".join(ANSWER) in output.getvalue()
        assert output.getvalue().count("Hello there.") == 1
