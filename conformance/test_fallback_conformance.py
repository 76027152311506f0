"""Play every fallback scenario (testing/scenarios/fallback) on every chain and adapter.

Each provider of a chain is a fake server of its own wire format that checks
every request it receives for that format (roles, content, tools, prefill only
where its model accepts one, the continuation's partial answer) and answers or
fails as the scenario says; each run checks the exact text, the tool call, who
took over at which offset, who finished, and the stored record.
"""

from __future__ import annotations

import pytest

from streamrecover.testing.conformance.fallback_run import (
    FALLBACK_SCENARIO_DIR,
    FallbackScenario,
    load_fallback_scenarios,
    run_fallback_scenario,
)

SCENARIOS = load_fallback_scenarios()
CASES = [
    (scenario, chain, adapter)
    for scenario in SCENARIOS
    for chain in scenario.chains
    for adapter in scenario.adapters
]


@pytest.mark.parametrize(
    ("scenario", "chain", "adapter"),
    CASES,
    ids=[f"{s.name}-{'>'.join(c[: len(s.servers)])}-{a}" for s, c, a in CASES],
)
def test_fallback_scenario(
    scenario: FallbackScenario, chain: tuple[str, ...], adapter: str
) -> None:
    result = run_fallback_scenario(scenario, chain=chain, adapter=adapter)
    assert result.passed, f"{scenario.description}\n" + "\n".join(result.failures)


def test_the_fallback_catalogue_names_match_files() -> None:
    files = sorted(path.stem for path in FALLBACK_SCENARIO_DIR.glob("*.json"))
    assert files == [scenario.name for scenario in SCENARIOS]
    assert len(files) >= 8
