"""Request building, native resume requests, error bodies and the registry."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import StreamRecoverError, UsageError
from streamrecover.core.http import HTTPRequest
from streamrecover.providers import (
    AnthropicProvider,
    GeminiProvider,
    OpenAIChatProvider,
    OpenAIResponsesProvider,
    Provider,
    ResumePoint,
    UnknownProviderError,
    get_provider,
    provider_class,
    provider_names,
)

KEY = "sk-secret-0123456789"

BODIES: dict[str, dict[str, Any]] = {
    "openai": {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Grüß dich"}],
        "max_tokens": 100,
    },
    "openai-responses": {"model": "gpt-4.1", "input": "Grüß dich", "max_output_tokens": 100},
    "anthropic": {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Grüß dich"}],
    },
    "gemini": {
        "model": "gemini-2.5-flash",
        "contents": [{"role": "user", "parts": [{"text": "Grüß dich"}]}],
        "generationConfig": {"maxOutputTokens": 100},
    },
}

EXPECTED_URL = {
    "openai": "https://api.openai.com/v1/chat/completions",
    "openai-responses": "https://api.openai.com/v1/responses",
    "anthropic": "https://api.anthropic.com/v1/messages",
    "gemini": "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
}

AUTH = {
    "openai": ("authorization", f"Bearer {KEY}"),
    "openai-responses": ("authorization", f"Bearer {KEY}"),
    "anthropic": ("x-api-key", KEY),
    "gemini": ("x-goog-api-key", KEY),
}

ALL = sorted(BODIES)


def body_json(request: HTTPRequest) -> dict[str, Any]:
    assert request.body is not None
    decoded: dict[str, Any] = json.loads(request.body.decode("utf-8"))
    return decoded


@pytest.mark.parametrize("name", ALL)
def test_request_url_method_and_headers(name: str) -> None:
    request = get_provider(name, api_key=KEY).build_request(BODIES[name])
    assert request.method == "POST"
    assert request.url == EXPECTED_URL[name]
    assert request.header("content-type") == "application/json"
    assert request.header("accept") == "text/event-stream"
    auth_name, auth_value = AUTH[name]
    assert request.header(auth_name) == auth_value
    if name == "anthropic":
        assert request.header("anthropic-version") == "2023-06-01"


@pytest.mark.parametrize("name", ALL)
def test_request_body_is_compact_utf8_json_with_stream_forced(name: str) -> None:
    body = {**BODIES[name], "stream": False}
    if name == "gemini":
        del body["stream"]
    request = get_provider(name).build_request(body)
    assert request.body is not None
    raw = request.body
    assert "Grüß".encode() in raw  # ensure_ascii=False
    assert b", " not in raw and b'": ' not in raw  # compact separators
    sent = body_json(request)
    if name == "gemini":
        assert "model" not in sent and "stream" not in sent
        assert sent == {k: v for k, v in BODIES[name].items() if k != "model"}
    else:
        assert sent["stream"] is True
        assert sent["model"] == BODIES[name]["model"]


@pytest.mark.parametrize("name", ALL)
def test_build_request_never_mutates_the_callers_body(name: str) -> None:
    body = copy.deepcopy(BODIES[name])
    before = copy.deepcopy(body)
    get_provider(name, api_key=KEY).build_request(body)
    assert body == before


@pytest.mark.parametrize("name", ALL)
def test_no_key_means_no_auth_header(name: str) -> None:
    request = get_provider(name).build_request(BODIES[name])
    auth_name, _ = AUTH[name]
    assert request.header(auth_name) is None
    assert request.header("authorization") is None


@pytest.mark.parametrize("name", ALL)
def test_repr_never_shows_the_key(name: str) -> None:
    provider = get_provider(name, api_key=KEY)
    request = provider.build_request(BODIES[name])
    assert KEY not in repr(provider)
    assert KEY not in repr(request)
    assert KEY not in str(request.sanitized().headers)


@pytest.mark.parametrize("name", ALL)
def test_base_url_and_extra_headers(name: str) -> None:
    provider = get_provider(
        name,
        base_url="http://localhost:8000/v1/",
        api_key=KEY,
        headers={"Authorization": "Bearer other", "X-Trace": "1"},
    )
    request = provider.build_request(BODIES[name])
    assert request.url.startswith("http://localhost:8000/v1/")
    assert "/v1//" not in request.url
    # A caller's header replaces the default of the same name (case-insensitive).
    assert [v for k, v in request.headers if k.lower() == "authorization"] == ["Bearer other"]
    assert request.header("x-trace") == "1"


def test_api_key_env_names() -> None:
    assert OpenAIChatProvider.api_key_env == ("OPENAI_API_KEY",)
    assert OpenAIResponsesProvider.api_key_env == ("OPENAI_API_KEY",)
    assert AnthropicProvider.api_key_env == ("ANTHROPIC_API_KEY",)
    assert GeminiProvider.api_key_env == ("GEMINI_API_KEY", "GOOGLE_API_KEY")


def test_openai_adds_include_usage_unless_the_caller_set_stream_options() -> None:
    provider = OpenAIChatProvider()
    body = BODIES["openai"]
    assert body_json(provider.build_request(body))["stream_options"] == {"include_usage": True}
    own = {**body, "stream_options": {"include_usage": False}}
    assert body_json(provider.build_request(own))["stream_options"] == {"include_usage": False}
    # None drops the field, for servers that reject it.
    assert "stream_options" not in body_json(
        provider.build_request({**body, "stream_options": None})
    )


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("openai", {"model": "m"}, "messages"),
        ("openai", {"model": "m", "messages": [], "n": 2}, "n > 1"),
        ("anthropic", {"model": "m", "messages": "hi"}, "messages"),
        ("gemini", {"contents": []}, "model"),
        ("gemini", {"model": "g", "generationConfig": {"candidateCount": 3}}, "candidateCount"),
        ("openai", {"messages": [], "x": float("nan")}, "not JSON"),
        ("openai-responses", {"input": "x", "metadata": object()}, "not JSON"),
    ],
)
def test_bad_bodies_are_usage_errors(name: str, body: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        get_provider(name).build_request(body)


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("gemini-2.5-pro", "/v1beta/models/gemini-2.5-pro:"),
        ("models/gemini-2.0-flash", "/v1beta/models/gemini-2.0-flash:"),
        ("tunedModels/my-model-7", "/v1beta/tunedModels/my-model-7:"),
    ],
)
def test_gemini_model_goes_to_the_path(model: str, path: str) -> None:
    request = GeminiProvider(api_version="v1beta").build_request({"model": model, "contents": []})
    assert path in request.url
    assert request.url.endswith(":streamGenerateContent?alt=sse")
    assert "model" not in body_json(request)


# -- native resume --------------------------------------------------------------------


def test_responses_native_resume_for_background_requests() -> None:
    provider = OpenAIResponsesProvider(api_key=KEY)
    body = {**BODIES["openai-responses"], "background": True, "store": True}
    point = ResumePoint(response_id="resp_abc", sequence_number=41)
    request = provider.native_resume_request(body, point)
    assert request is not None
    assert request.method == "GET"
    assert (
        request.url == "https://api.openai.com/v1/responses/resp_abc?stream=true&starting_after=41"
    )
    assert request.body is None
    assert request.header("authorization") == f"Bearer {KEY}"
    assert request.header("accept") == "text/event-stream"
    assert request.header("content-type") is None


@pytest.mark.parametrize(
    ("body_extra", "point"),
    [
        ({}, ResumePoint(response_id="resp_abc", sequence_number=4)),  # not background
        ({"background": True}, ResumePoint(response_id="", sequence_number=4)),
        ({"background": True}, ResumePoint(response_id="resp_abc")),
    ],
)
def test_responses_no_native_resume_without_what_it_needs(
    body_extra: dict[str, Any], point: ResumePoint
) -> None:
    provider = OpenAIResponsesProvider()
    assert (
        provider.native_resume_request({**BODIES["openai-responses"], **body_extra}, point) is None
    )


@pytest.mark.parametrize("name", ["openai", "anthropic", "gemini"])
def test_official_apis_offer_no_native_resume(name: str) -> None:
    provider = get_provider(name)
    assert provider.native_resume_request(BODIES[name], ResumePoint(last_event_id="17")) is None


@pytest.mark.parametrize("name", ALL)
def test_last_event_id_resume_when_enabled(name: str) -> None:
    provider = get_provider(name, last_event_id_resume=True)
    request = provider.native_resume_request(BODIES[name], ResumePoint(last_event_id="17"))
    assert request is not None
    assert request.header("last-event-id") == "17"
    assert request.url == provider.build_request(BODIES[name]).url
    assert provider.native_resume_request(BODIES[name], ResumePoint()) is None


# -- error bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '{"error": {"message": "Rate limit reached", "type": "requests", '
            '"param": null, "code": "rate_limit_exceeded"}}',
            ("requests", "Rate limit reached"),
        ),
        (
            '{"error": {"message": "No such model", "type": null, "code": "model_not_found"}}',
            ("model_not_found", "No such model"),
        ),
        (
            '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, '
            '"request_id": "req_1"}',
            ("overloaded_error", "Overloaded"),
        ),
        (
            '{"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}',
            ("RESOURCE_EXHAUSTED", "Quota exceeded"),
        ),
        (
            '[{"error": {"code": 503, "message": "Overloaded", "status": "UNAVAILABLE"}}]',
            ("UNAVAILABLE", "Overloaded"),
        ),
        (
            '{"object": "error", "message": "max_tokens too large", '
            '"type": "BadRequestError", "param": null, "code": 400}',
            ("BadRequestError", "max_tokens too large"),
        ),
        ('{"error": "model \\"llama9\\" not found"}', ("", 'model "llama9" not found')),
        (
            "<html><body>502 Bad Gateway</body></html>",
            ("", "<html><body>502 Bad Gateway</body></html>"),
        ),
        ("", ("", "")),
        ("[1, 2]", ("", "[1, 2]")),
        ('{"detail": "nope"}', ("", '{"detail": "nope"}')),
        ("[" * 100_000, ("", "[" * 200)),
    ],
)
def test_error_info_reads_every_error_body(body: str, expected: tuple[str, str]) -> None:
    for name in ALL:
        assert provider_class(name).error_info(body) == expected


# -- registry -------------------------------------------------------------------------


def test_provider_names() -> None:
    assert provider_names() == ("anthropic", "gemini", "openai", "openai-responses")


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("openai", OpenAIChatProvider),
        ("openai-responses", OpenAIResponsesProvider),
        ("anthropic", AnthropicProvider),
        ("gemini", GeminiProvider),
    ],
)
def test_get_provider_builds_the_named_class(name: str, cls: type[Provider]) -> None:
    provider = get_provider(name, base_url="http://h/")
    assert type(provider) is cls
    assert provider.name == name
    assert provider.base_url == "http://h"


def test_unknown_provider_lists_the_available_ones() -> None:
    with pytest.raises(UnknownProviderError) as info:
        get_provider("mistral")
    error = info.value
    assert isinstance(error, UsageError) and isinstance(error, ValueError)
    assert isinstance(error, StreamRecoverError)
    for name in provider_names():
        assert name in str(error)


def test_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unexpected keyword"):
        get_provider("anthropic", prefill_style="prefix")
    with pytest.raises(UsageError, match="prefill_style"):
        get_provider("openai", prefill_style="nope")
    with pytest.raises(UsageError, match="prefill"):
        get_provider("openai-responses", prefill=True)


@given(
    st.text(max_size=200)
    | st.builds(
        json.dumps,
        st.recursive(
            st.none() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["error", "type", "message", "code", "status"]),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=10,
        ),
    )
)
def test_error_info_never_raises(body: str) -> None:
    error_type, message = provider_class("openai").error_info(body)
    assert isinstance(error_type, str) and isinstance(message, str)
    assert len(message) <= 200 or message in body


def test_a_key_set_after_construction_is_used() -> None:
    provider = AnthropicProvider()
    provider.api_key = KEY
    assert provider.build_request(BODIES["anthropic"]).header("x-api-key") == KEY
