"""Fixtures of the conformance suite (see conformance/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def storage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the sqlite and disk storages of the whole run (records have unique ids)."""
    return tmp_path_factory.mktemp("conformance-storage")
