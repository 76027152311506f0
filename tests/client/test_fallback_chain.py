"""FallbackChain on its own: the verdicts, the order, what it carries over, what it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

import streamrecover as sr
from streamrecover.core.errors import HTTPStatusError, UsageError
from streamrecover.core.events import Usage
from streamrecover.fallback import Fallback
from streamrecover.fallback_chain import FallbackChain, PreparedFallback
from streamrecover.providers.registry import get_provider


@dataclass
class StubSession:
    """What the chain reads of a session that gave up, and sets on its successor."""

    provider: Any
    text: str = ""
    reasoning_delivered: int = 0
    attempts: int = 0
    resumes: int = 0
    overlap_removed: int = 0
    surrogates_replaced: int = 0
    keep_delivered: bool = False
    usage: Usage = field(default_factory=Usage)


def _gave_up(reason: str, status: int = 529, text: str = "") -> sr.StreamInterrupted:
    return sr.StreamInterrupted(
        f"{reason}: HTTP {status}", cause=HTTPStatusError(status, provider="p"),
        committed_text=text, recoverable=True, attempts=3, reason=reason,
    )


def _chain(*names: str, refuse: frozenset[str] = frozenset()) -> tuple[FallbackChain, list[Any]]:
    built: list[Any] = []

    def make_session(provider: Any, body: Any, policy: Any, committed: str, budget: Any) -> Any:
        if provider.name in refuse:
            raise UsageError(f"{provider.name} cannot continue this body")
        session = StubSession(provider=provider, text=committed)
        built.append((provider.name, body, committed))
        return session

    prepared = [
        PreparedFallback(fallback=Fallback(name, f"{name}-model", api_key="k"),
                         body={"model": f"{name}-model"})
        for name in names
    ]
    chain = FallbackChain(prepared, provider="anthropic", model="claude-x",
                          make_session=make_session)  # type: ignore[arg-type]
    return chain, built


def test_hands_over_in_order_and_carries_the_text_and_counters() -> None:
    chain, built = _chain("openai", "gemini")
    primary = StubSession(provider=get_provider("anthropic", api_key="k"), text="Half an ans",
                          attempts=4, resumes=2, usage=Usage(output_tokens=7))
    takeover = chain.take_over(primary, _gave_up("resumes_exhausted"))  # type: ignore[arg-type]
    assert takeover is not None
    (fell,) = takeover.events
    assert isinstance(fell, sr.FellBack)
    assert (fell.from_provider, fell.to_provider, fell.model, fell.offset) == (
        "anthropic", "openai", "openai-model", 11)
    assert built == [("openai", {"model": "openai-model"}, "Half an ans")]
    assert takeover.session.attempts == 4  # numbering goes on
    assert (chain.resumes, chain.usage.output_tokens) == (3, 7)  # + the fallback's continuation
    assert [c.provider for c in chain.providers] == ["anthropic", "openai"]


@pytest.mark.parametrize(("reason", "status"), [
    ("not_retryable", 400), ("not_retryable", 401), ("deadline", 529), ("cancelled", 529),
])
def test_a_final_error_on_the_primary_is_left_as_it_is(reason: str, status: int) -> None:
    chain, built = _chain("openai")
    primary = StubSession(provider=get_provider("anthropic", api_key="k"))
    assert chain.take_over(primary, _gave_up(reason, status)) is None  # type: ignore[arg-type]
    assert built == [] and not chain.fell_back


def test_a_fallback_whose_resume_cannot_be_built_is_skipped_and_named() -> None:
    chain, built = _chain("openai", "gemini", refuse=frozenset({"openai"}))
    primary = StubSession(provider=get_provider("anthropic", api_key="k"), text="abc")
    takeover = chain.take_over(primary, _gave_up("retries_exhausted"))  # type: ignore[arg-type]
    assert takeover is not None and takeover.fallback.provider.name == "gemini"
    assert [name for name, _, _ in built] == ["gemini"]
    with pytest.raises(sr.FallbacksExhausted) as caught:
        chain.take_over(takeover.session, _gave_up("retries_exhausted"))  # type: ignore[arg-type]
    assert [name for name, _, _ in caught.value.failures] == ["anthropic", "openai", "gemini"]
    assert "cannot build the resume request" in caught.value.failures[1][2]


def test_reasoning_without_text_is_rewound_for_the_fallback() -> None:
    chain, _ = _chain("openai")
    primary = StubSession(provider=get_provider("anthropic", api_key="k"), reasoning_delivered=40)
    takeover = chain.take_over(primary, _gave_up("resumes_exhausted"))  # type: ignore[arg-type]
    assert takeover is not None
    rewind = takeover.events[1]
    assert isinstance(rewind, sr.Rewind) and (rewind.to, rewind.reasoning_to) == (0, 0)


def test_client_budgets_are_per_fallback_endpoint_and_off_without_a_budget() -> None:
    a, b = Fallback("openai", "gpt-4o", api_key="k"), Fallback("openai", "gpt-4o", api_key="k2")
    other = Fallback("openai", "gpt-4o-mini", api_key="k")
    client = sr.Client("anthropic", api_key="k", fallbacks=[a, other])
    shared = client._fallbacks.budget_for(a)
    assert shared is not None and shared is client._fallbacks.budget_for(b)
    assert client._fallbacks.budget_for(other) is not shared
    assert sr.Client("anthropic", api_key="k", budget=None,
                     fallbacks=[a])._fallbacks.budget_for(a) is None
