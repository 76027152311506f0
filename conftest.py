"""Root test configuration shared by tests/ and conformance/."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# CI's second run of the core tests (tox -e core, which proves they need only the
# stdlib): the same strategies with fewer examples; "ci" runs them in full.
settings.register_profile(
    "ci-stdlib", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every anyio test on both asyncio and trio (pinned: anyio's default changed)."""
    return str(request.param)
