"""Scenarios: the declarative fault files, how they load, and the request each one sends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamrecover.testing.fakeprovider import (
    JSON_ANSWER_TEXT,
    PROVIDERS,
    REASONING_TEXT,
    REFERENCE_TEXT,
    TOOL_CALL,
    Answer,
)

#: How a stream is driven: the sync client, or the async client on each backend.
ADAPTERS: tuple[str, ...] = ("sync", "asyncio", "trio")
#: The scenario catalogue, shipped in the package so that an installed
#: ``streamrecover conformance`` finds it.
DEFAULT_SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
#: The API key the client sends and the fake server checks.
API_KEY = "sk-conformance-test"
#: The user prompt of every scenario.
PROMPT = "Explain in three short paragraphs why a streamed answer should survive a dropped link."

_DEFAULT_MODELS = {
    "openai": "gpt-4.1-mini",
    "openai-responses": "gpt-4.1-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.0-flash",
}
_THINKING_MODELS = {
    "openai": "o4-mini",
    "openai-responses": "o4-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
}
_PARAMETERS = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
    "required": ["city"],
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """One scenario file, as loaded. See ``conformance/README.md`` for the fields."""

    name: str
    description: str
    providers: tuple[str, ...]
    request: Mapping[str, Any] = field(default_factory=dict)
    client: Mapping[str, Any] = field(default_factory=dict)
    continuation: Mapping[str, Any] = field(default_factory=dict)
    attempts: tuple[Mapping[str, Any], ...] = ()
    then: Mapping[str, Any] = field(default_factory=lambda: {"fault": "none"})
    streams: int = 1
    expect: Mapping[str, Any] = field(default_factory=dict)
    expect_by_provider: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    adapters: tuple[str, ...] = ADAPTERS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> Scenario:
        """Build a scenario from its JSON object.

        Raises:
            ValueError: a missing name, an unknown provider or adapter, or an
                unknown top-level field (a typo must not silently do nothing).
        """
        known = {
            "name",
            "description",
            "providers",
            "request",
            "client",
            "continuation",
            "attempts",
            "then",
            "streams",
            "expect",
            "expect_by_provider",
            "adapters",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{source}: unknown scenario fields {sorted(unknown)}")
        if not isinstance(data.get("name"), str) or not data["name"]:
            raise ValueError(f"{source}: a scenario needs a 'name'")
        raw = data.get("providers", "all")
        providers = PROVIDERS if raw == "all" else tuple(raw)
        for provider in providers:
            if provider not in PROVIDERS:
                raise ValueError(f"{source}: unknown provider {provider!r}")
        adapters = tuple(data.get("adapters", ADAPTERS))
        for adapter in adapters:
            if adapter not in ADAPTERS:
                raise ValueError(f"{source}: unknown adapter {adapter!r}")
        return cls(
            name=data["name"],
            description=str(data.get("description", "")),
            providers=providers,
            request=dict(data.get("request", {})),
            client=dict(data.get("client", {})),
            continuation=dict(data.get("continuation", {})),
            attempts=tuple(data.get("attempts", ())),
            then=dict(data.get("then", {"fault": "none"})),
            streams=int(data.get("streams", 1)),
            expect=dict(data.get("expect", {})),
            expect_by_provider={k: dict(v) for k, v in data.get("expect_by_provider", {}).items()},
            adapters=adapters,
        )

    def expectations(self, provider: str) -> dict[str, Any]:
        """The expected outcome for ``provider``: ``expect`` with its per-provider overrides."""
        return {**self.expect, **self.expect_by_provider.get(provider, {})}

    def step(self, attempt: int) -> Mapping[str, Any]:
        """The step of attempt ``attempt`` (0-based): from ``attempts``, else ``then``."""
        return self.attempts[attempt] if attempt < len(self.attempts) else self.then

    @property
    def refused_first(self) -> int:
        """How many leading attempts find the port refusing connections."""
        count = 0
        for step in self.attempts:
            if step.get("fault") != "refused":
                break
            count += 1
        return count

    @property
    def always_refused(self) -> bool:
        """Whether no attempt ever finds a listening server."""
        return self.then.get("fault") == "refused" and self.refused_first == len(self.attempts)

    def answer(self, provider: str) -> Answer:
        """The reference answer the fake model gives for this scenario's request."""
        request = self.request
        return Answer(
            text=JSON_ANSWER_TEXT if request.get("json") else REFERENCE_TEXT,
            reasoning=REASONING_TEXT if request.get("thinking") else "",
            tool_call=TOOL_CALL if request.get("tools") else None,
            model=request_body(provider, request).get("model", "fake-model"),
        )


def load_scenarios(
    directory: str | Path | None = None, *, name_filter: str | None = None
) -> list[Scenario]:
    """Load every ``*.json`` scenario of ``directory`` (default: the repository's catalogue).

    ``name_filter`` keeps the scenarios whose name contains it. Sorted by name.

    Raises:
        ValueError: a file is not a valid scenario, or two share a name.
        FileNotFoundError: the directory does not exist.
    """
    folder = Path(directory) if directory is not None else DEFAULT_SCENARIO_DIR
    if not folder.is_dir():
        raise FileNotFoundError(f"no scenario directory at {folder}")
    scenarios: dict[str, Scenario] = {}
    for path in sorted(folder.glob("*.json")):
        scenario = Scenario.from_dict(json.loads(path.read_text("utf-8")), source=path.name)
        if scenario.name in scenarios:
            raise ValueError(f"{path.name}: duplicate scenario name {scenario.name!r}")
        scenarios[scenario.name] = scenario
    chosen = [s for s in scenarios.values() if name_filter is None or name_filter in s.name]
    return sorted(chosen, key=lambda s: s.name)


def request_body(provider: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Build ``provider``'s JSON request body from a scenario's neutral ``request`` options.

    Options: ``thinking``, ``json``, ``tools``, ``background`` (Responses),
    ``max_tokens`` (default 1024), ``models`` (provider -> model name) and
    ``extra`` (provider -> fields merged into the body).
    """
    thinking = bool(options.get("thinking"))
    models = _THINKING_MODELS if thinking else _DEFAULT_MODELS
    model = dict(options.get("models", {})).get(provider, models[provider])
    limit = int(options.get("max_tokens", 1024))
    body: dict[str, Any]
    if provider == "openai":
        body = {
            "model": model,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_completion_tokens": limit,
        }
        if thinking:
            body["reasoning_effort"] = "low"
        if options.get("json"):
            body["response_format"] = {"type": "json_object"}
        if options.get("tools"):
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": TOOL_CALL.name, "parameters": _PARAMETERS},
                }
            ]
    elif provider == "openai-responses":
        body = {"model": model, "input": PROMPT, "max_output_tokens": limit}
        if thinking:
            body["reasoning"] = {"effort": "low", "summary": "auto"}
        if options.get("json"):
            body["text"] = {"format": {"type": "json_object"}}
        if options.get("tools"):
            body["tools"] = [
                {"type": "function", "name": TOOL_CALL.name, "parameters": _PARAMETERS}
            ]
        if options.get("background"):
            body["background"] = True
    elif provider == "anthropic":
        body = {
            "model": model,
            "max_tokens": limit,
            "messages": [{"role": "user", "content": PROMPT}],
        }
        if thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 256}
        if options.get("json"):
            body["output_format"] = {"type": "json_schema", "schema": {"type": "object"}}
        if options.get("tools"):
            body["tools"] = [{"name": TOOL_CALL.name, "input_schema": _PARAMETERS}]
    else:
        config: dict[str, Any] = {"maxOutputTokens": limit}
        if thinking:
            config["thinkingConfig"] = {"thinkingBudget": 256, "includeThoughts": True}
        if options.get("json"):
            config["responseMimeType"] = "application/json"
        body = {
            "model": model,
            "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
            "generationConfig": config,
        }
        if options.get("tools"):
            body["tools"] = [
                {"functionDeclarations": [{"name": TOOL_CALL.name, "parameters": _PARAMETERS}]}
            ]
    body.update(dict(options.get("extra", {})).get(provider, {}))
    return body
