"""Play every scenario of the catalogue (streamrecover/testing/scenarios) against the client.

The matrix (see ``matrix_cases``): every scenario × provider × adapter (sync,
asyncio, trio) with memory storage; sqlite and disk storage on the sync adapter
for every scenario except the timing-only ones. Each run checks the exact-text
invariant, the stored record, every request the fake provider received, and the
scenario's own expectations; a failing run lists every check that did not hold.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streamrecover.testing.conformance import (
    DEFAULT_SCENARIO_DIR,
    Case,
    load_scenarios,
    matrix_cases,
    resolve_storage_url,
    run_scenario,
)

SCENARIOS = load_scenarios()
CASES = matrix_cases(SCENARIOS)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_scenario(case: Case, storage_dir: Path) -> None:
    result = run_scenario(
        case.scenario,
        provider=case.provider,
        adapter=case.adapter,
        storage_url=resolve_storage_url(case.storage, storage_dir),
    )
    assert result.passed, f"{case.scenario.description}\n" + "\n".join(result.failures)


def test_catalogue_names_match_files() -> None:
    # One scenario per file, named after it, so that a failing id leads to its file.
    files = sorted(path.stem for path in DEFAULT_SCENARIO_DIR.glob("*.json"))
    assert files == [scenario.name for scenario in SCENARIOS]
