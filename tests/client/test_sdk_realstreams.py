"""Every recorded real stream, read by the official SDK's own accumulator twice.

Once as recorded (the SDK client over an httpx2 ``MockTransport`` serving the
bytes), once through :class:`RecoveringTransport` in front of that same
transport (the recording parsed into events, re-encoded as one provider-native
stream by ``providers/encode``). The final objects the SDK builds
(``chat.completions.stream().get_final_completion()``,
``responses.stream().get_final_response()``,
``messages.stream().get_final_message()``) must agree on text, tool calls,
thinking and signatures, stop reason and usage; an error recording must raise
the SDK's ``APIError`` both ways. Gemini recordings are skipped: no official
Gemini SDK is among the test dependencies.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Any

import pytest

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")
httpx2 = pytest.importorskip("httpx2")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "realstreams"))
from realstreams_location import ENVIRONMENT_VARIABLE, realstreams_folder  # noqa: E402
from sdk_accumulate import (  # noqa: E402
    async_final_object,
    async_sdk_client,
    essentials,
    final_object,
    full,
    sdk_client,
    serving,
)

import streamrecover as sr  # noqa: E402
from streamrecover.integrations.httpx2 import (  # noqa: E402
    AsyncRecoveringTransport,
    RecoveringTransport,
)

# The SDK itself warns while serializing some recorded item types (web_search_call).
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
FOLDER = realstreams_folder()
EXPECTED_FILE = FOLDER / "expected.json"
if not EXPECTED_FILE.is_file():
    pytest.skip(
        f"no recorded streams at {FOLDER} (set {ENVIRONMENT_VARIABLE}, or place "
        "shared/realstreams next to the repository)",
        allow_module_level=True,
    )
EXPECTED: dict[str, dict[str, Any]] = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))
SDK_PROVIDERS = ("openai", "openai-responses", "anthropic")
NAMES = sorted(name for name, e in EXPECTED.items() if e["provider"] in SDK_PROVIDERS)
#: Recordings that end well (the SDK builds a final object from them).
COMPLETE = [name for name in NAMES if EXPECTED[name]["complete"] and not EXPECTED[name]["error"]]
BROKEN = [name for name in NAMES if name not in COMPLETE]
#: An incomplete recording is retried once, then the error event ends the SDK's stream.
ONE_RETRY = sr.RetryPolicy(max_retries=1, max_resumes=1, backoff_base=0.0001, backoff_cap=0.0002)

# The SDKs build a large heap of pydantic models (at import and lazily); the
# suite collects garbage after every test (leak check). What survives is frozen,
# so that each check scans only the last test's objects: milliseconds instead of
# a third of a second per test.
gc.freeze()


@pytest.fixture(autouse=True)
def collect_leaks() -> Any:
    # Overrides the suite's: the same collection (a leak still fails the test
    # that made it), then the survivors frozen.
    yield
    gc.collect()
    gc.freeze()


def recording(name: str) -> bytes:
    return (FOLDER / name).read_bytes()


def provider_of(name: str) -> str:
    return str(EXPECTED[name]["provider"])


def direct(name: str) -> Any:
    """What the SDK makes of the recording itself."""
    provider = provider_of(name)
    with sdk_client(provider, serving(recording(name))) as client:
        return final_object(client, provider)


def recovered(name: str, **options: Any) -> Any:
    """What the SDK makes of the recording re-encoded by RecoveringTransport."""
    provider = provider_of(name)
    options.setdefault("retry", ONE_RETRY)
    transport = RecoveringTransport(
        "anthropic" if provider == "anthropic" else "openai",
        inner=serving(recording(name)),
        **options,
    )
    with sdk_client(provider, transport) as client:
        return final_object(client, provider)


def test_every_sdk_recording_is_played() -> None:
    assert len(NAMES) == 57
    assert len(BROKEN) == 3


@pytest.mark.parametrize("name", COMPLETE)
def test_the_sdk_builds_the_same_answer_from_the_reencoded_stream(name: str) -> None:
    provider = provider_of(name)
    got = essentials(provider, recovered(name))
    assert got == essentials(provider, direct(name))
    # The reference is independent of the SDK too: expected.json.
    expected = EXPECTED[name]
    assert got["text"] == expected["text"] + expected["refusal"]
    assert [(c["id"], c["name"]) for c in got["tool_calls"]] == [
        (c["id"], c["name"]) for c in expected["tool_calls"]
    ]


#: What the re-encoded stream does not carry, by design (see
#: streamrecover/providers/encode/passthrough.py): unknown fields inside frames
#: the encoder rebuilds. Removed from both sides before comparing.
KNOWN_LOSSES = {
    "caller": "Anthropic tool_use blocks: a field of a block the encoder rebuilds",
    "content_filter_results": "Azure: a field of a content chunk's choice",
    "channel": "Groq: a field of a content delta",
    "reasoning_details": "OpenRouter: a field of a reasoning delta",
    "role": "the upstream repeats role in every delta, which the SDK concatenates",
}
#: Compared on essentials only: a server-tool block after a client tool call goes
#: out before it (tool calls are released whole when the answer completes).
ORDER_LOST = {"anthropic__programmatic-tool-input-in-start.sse"}


def comparable(final: Any) -> Any:
    """The whole final object, known losses removed, encrypted content only as present."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: ("<present>" if k == "encrypted_content" else clean(v))
                for k, v in value.items()
                if k not in KNOWN_LOSSES and not (k == "content" and v == "")
            }
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(full(final))


@pytest.mark.parametrize("name", [n for n in COMPLETE if n not in ORDER_LOST])
def test_what_the_library_does_not_interpret_passes_through(name: str) -> None:
    # Server-tool blocks, citations, annotations, hosted-tool items, logprobs,
    # moderation trailers, other choices, the upstream's model and extra fields:
    # the SDK builds the same whole object from the re-encoded stream.
    assert comparable(recovered(name)) == comparable(direct(name))


@pytest.mark.parametrize("name", BROKEN)
def test_an_error_recording_raises_the_sdks_api_error_both_ways(name: str) -> None:
    with pytest.raises(openai.APIError):
        direct(name)
    with pytest.raises(openai.APIError) as caught:
        recovered(name)
    expected_error = EXPECTED[name]["error"]
    if isinstance(expected_error, dict) and expected_error.get("message"):
        assert expected_error["message"][:40] in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "name", [n for n in COMPLETE if "tool" in n or "thinking" in n or "text" in n][:12]
)
async def test_async_transport_gives_the_same_final_object(name: str) -> None:
    provider = provider_of(name)
    transport = AsyncRecoveringTransport(
        "anthropic" if provider == "anthropic" else "openai",
        inner=_async_serving(recording(name)),
        retry=ONE_RETRY,
    )
    async with async_sdk_client(provider, transport) as client:
        final = await async_final_object(client, provider)
    assert comparable(final) == comparable(recovered(name))


def _async_serving(body: bytes) -> Any:
    async def handler(request: Any) -> Any:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return httpx2.MockTransport(handler)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
