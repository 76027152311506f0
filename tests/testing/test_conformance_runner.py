"""The pieces of the conformance runner: cuts, scripts, the handler server, scenarios, results."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from streamrecover.core.http import HTTPRequest
from streamrecover.testing.conformance import (
    Result,
    Scenario,
    format_matrix,
    load_scenarios,
    matrix_cases,
    request_body,
    run_scenario,
)
from streamrecover.testing.fakeprovider import (
    DEFAULT_ANSWER,
    PROVIDERS,
    TOOL_CALL,
    Answer,
    render_frames,
)
from streamrecover.testing.handler_server import HandlerServer
from streamrecover.testing.scripts import ScriptError, build_script, cut_offset, frames_sent
from streamrecover.testing.server import (
    LastChunk,
    RecordedRequest,
    Reset,
    SendChunk,
    SendHead,
    Stall,
    http_response,
)

FRAMES = render_frames("anthropic", Answer(text=DEFAULT_ANSWER.text, tool_call=TOOL_CALL))
BODY = b"".join(f.data for f in FRAMES)


def test_after_text_cuts_on_an_event_boundary() -> None:
    offset = cut_offset(FRAMES, {"after_text": 2})
    sent = frames_sent(FRAMES, offset)
    assert sum(len(f.data) for f in sent) == offset
    assert [f.kind for f in sent].count("text") == 2


def test_inside_text_cuts_inside_an_event() -> None:
    offset = cut_offset(FRAMES, {"inside_text": 2})
    assert [f.kind for f in frames_sent(FRAMES, offset)].count("text") == 1
    assert BODY[offset - 1 : offset + 1] != b"\n\n"


def test_utf8_cut_splits_a_character() -> None:
    offset = cut_offset(FRAMES, {"after_paragraph": True, "utf8": True})
    with pytest.raises(UnicodeDecodeError):
        BODY[:offset].decode("utf-8")
    assert BODY[offset - 1 : offset + 3].decode("utf-8") == "🚀"


def test_tool_call_cut_falls_between_argument_fragments() -> None:
    sent = frames_sent(FRAMES, cut_offset(FRAMES, {"in": "tool_call"}))
    assert [f.kind for f in sent].count("tool") == 2


def test_impossible_cuts_are_reported() -> None:
    with pytest.raises(ScriptError):
        cut_offset(FRAMES, {"in": "reasoning"})
    with pytest.raises(ScriptError):
        build_script("openai", FRAMES, {"fault": "teleport"})


def test_scripts() -> None:
    reset = build_script("openai", FRAMES, {"fault": "reset", "after_text": 1})
    assert isinstance(reset[-1], Reset)
    assert all(isinstance(step, SendChunk) for step in reset[1:-1])
    whole = build_script("openai", FRAMES, {"fault": "none"})
    assert b"".join(s.data for s in whole if isinstance(s, SendChunk)) == BODY
    assert isinstance(whole[-2], LastChunk)
    stall = build_script("openai", FRAMES, {"fault": "stall", "after_frames": 0})
    assert isinstance(stall[-1], Stall)
    error = build_script("anthropic", FRAMES, {"fault": "http", "status": 529})
    assert isinstance(error[0], SendHead)
    assert error[0].status == 529


def _get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\nhi")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


def test_handler_server_answers_from_the_request_and_refuses_until_listening() -> None:
    seen: list[tuple[RecordedRequest, int]] = []

    def handler(request: RecordedRequest, index: int) -> list:  # type: ignore[type-arg]
        seen.append((request, index))
        return http_response(200, request.body + b"!", content_type="text/plain")

    with HandlerServer(handler, listening=False) as server:
        with pytest.raises(ConnectionRefusedError):
            _get(server.port)
        server.listen()
        assert _get(server.port).endswith(b"hi!")
    assert seen[0][0].body == b"hi"
    assert seen[0][1] == 0
    assert server.errors == []


def test_handler_errors_are_recorded() -> None:
    def handler(request: RecordedRequest, index: int) -> list:  # type: ignore[type-arg]
        raise RuntimeError("boom")

    with HandlerServer(handler) as server, pytest.raises(OSError):
        _get(server.port)
    assert server.errors == ["RuntimeError: boom"]


def test_scenario_fields_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scenario fields"):
        Scenario.from_dict({"name": "x", "expcet": {}})
    with pytest.raises(ValueError, match="unknown provider"):
        Scenario.from_dict({"name": "x", "providers": ["cohere"]})
    (tmp_path / "a.json").write_text(json.dumps({"name": "same"}))
    (tmp_path / "b.json").write_text(json.dumps({"name": "same"}))
    with pytest.raises(ValueError, match="duplicate"):
        load_scenarios(tmp_path)


def test_the_catalogue_loads_and_covers_every_provider() -> None:
    scenarios = load_scenarios()
    assert len(scenarios) >= 50
    assert {p for s in scenarios for p in s.providers} == set(PROVIDERS)


def test_matrix_split() -> None:
    scenarios = load_scenarios(name_filter="transport_")
    cases = matrix_cases(scenarios)
    others = [c for c in cases if c.storage != "memory"]
    assert others and {c.adapter for c in others} == {"sync"}
    assert not any(c.scenario.name == "transport_slow_drip" for c in others)
    memory = [c for c in cases if c.storage == "memory"]
    assert {c.adapter for c in memory} == {"sync", "asyncio", "trio"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_request_bodies_are_accepted_by_the_providers(provider: str) -> None:
    from streamrecover.providers.registry import get_provider

    for options in ({}, {"thinking": True, "tools": True}, {"json": True}):
        body = request_body(provider, options)
        get_provider(provider).build_request(body)
        assert get_provider(provider).structured_output(body) is bool(options.get("json"))


def test_a_run_reports_expectations_that_do_not_hold() -> None:
    scenario = Scenario.from_dict(
        {
            "name": "wrong_on_purpose",
            "providers": ["openai"],
            "attempts": [{"fault": "reset", "after_text": 2}],
            "expect": {"attempts": 5, "requests": ["original"], "events": {"exclude": ["Resumed"]}},
        }
    )
    result = run_scenario(scenario, provider="openai", adapter="sync")
    assert result.outcome == "completed"
    joined = "\n".join(result.failures)
    assert "attempts = 2, expected 5" in joined
    assert "requests ['original', 'continuation']" in joined
    assert "a Resumed event, expected none" in joined


class DuplicatingTransport:
    """Wraps the real transport and sends every continuation with its assistant turn twice."""

    def __init__(self) -> None:
        from streamrecover.transport import SyncTransport

        self.inner = SyncTransport()

    def open(self, request: HTTPRequest, timeouts: Any = None, *, deadline: Any = None) -> Any:
        payload = json.loads(request.body or b"{}")
        messages = payload.get("messages", [])
        if len(messages) > 1:
            messages.insert(1, messages[1])
            request = HTTPRequest(
                method=request.method,
                url=request.url,
                headers=request.headers,
                body=json.dumps(payload).encode(),
            )
        return self.inner.open(request, timeouts, deadline=deadline)


def test_a_run_fails_loudly_when_the_fake_provider_rejects_a_request() -> None:
    scenario = Scenario.from_dict(
        {
            "name": "duplicated_turn",
            "providers": ["openai"],
            "attempts": [{"fault": "reset", "after_text": 3}],
        }
    )
    result = run_scenario(
        scenario, provider="openai", transport_factory=lambda _: DuplicatingTransport()
    )
    assert result.outcome == "interrupted"
    joined = "\n".join(result.failures)
    assert "attempt 2 request: expected one new assistant turn" in joined
    assert "outcome interrupted" in joined and "HTTP 400" in joined


def test_the_prefill_override_is_honoured() -> None:
    # Claude 4.6 refuses prefill, but a scenario that sets the client's override
    # tells the inspector so: the prefilled continuation then passes.
    scenario = Scenario.from_dict(
        {
            "name": "forced_prefill",
            "providers": ["anthropic"],
            "request": {"models": {"anthropic": "claude-sonnet-4-6"}},
            "client": {"prefill": True},
            "attempts": [{"fault": "reset", "after_text": 3}],
            "expect": {"prefill": True},
        }
    )
    result = run_scenario(scenario, provider="anthropic")
    assert result.passed, result.failures


def test_format_matrix() -> None:
    results = [
        Result(scenario="s1", provider="openai", adapter="sync", storage="memory", failures=()),
        Result(
            scenario="s1",
            provider="openai",
            adapter="trio",
            storage="memory",
            failures=("text differs",),
        ),
        Result(scenario="s2", provider="gemini", adapter="sync", storage="sqlite", failures=()),
    ]
    table = format_matrix(results)
    assert "!1/2" in table
    assert "FAIL s1 [openai/trio/memory]: text differs" in table
    assert table.endswith(
        "2 passed, 1 failed, 3 runs (adapters: sync, trio; storages: memory, sqlite)"
    )
