"""Every ```python block of README.md runs, so the documentation cannot rot.

Blocks run in order, each in a fresh namespace holding ``base_url`` (a local
fake OpenAI-compatible server whose first connection is reset halfway, so the
examples also exercise a real recovery) and ``storage_url`` (a SQLite file),
``https_base_url`` (the same answer over TLS, with a certificate from a private
test CA) and ``ca_file`` (that CA, as a PEM file).
Blocks fenced as ```py are illustrations (a third-party package) and are skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import ssl
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


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    import trustme

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return server_context, str(path)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_block_runs(
    index: int, tmp_path: Path, private_ca: tuple[ssl.SSLContext, str]
) -> None:
    block = python_blocks()[index]
    frames = _frames()
    broken = [step for step in sse_response(frames[:3]) if not isinstance(step, LastChunk)]
    server_context, ca_file = private_ca
    with (
        FaultServer([[*broken[:-1], Reset()]], default=sse_response(frames)) as server,
        FaultServer([], default=sse_response(frames), ssl_context=server_context) as tls_server,
    ):
        namespace = {
            "base_url": server.url("/v1"),
            "storage_url": f"sqlite:///{tmp_path / 'streams.db'}",
            "https_base_url": tls_server.url("/v1"),
            "ca_file": ca_file,
        }
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(block, f"README.md block {index}", "exec"), namespace)
    if "text_stream" in block and "client.stream(" in block:
        # The answer came through exactly once, despite the reset.
        assert "".join(ANSWER) in output.getvalue()
        assert output.getvalue().count("Hello there.") == 1
