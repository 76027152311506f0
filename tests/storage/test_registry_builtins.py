"""The built-in schemes open without reading installed metadata, and agree with pyproject.toml."""

from __future__ import annotations

import logging
import subprocess
import sys
from importlib.metadata import EntryPoint, EntryPoints, distribution
from pathlib import Path

import pytest

from streamrecover.storage import MemoryStorage, open_storage, registry, storage_class

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_in_table_is_what_pyproject_registers() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the next test covers 3.10
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    registered = pyproject["project"]["entry-points"][registry.ENTRY_POINT_GROUP]
    assert registered == registry.BUILTIN_STORAGES


def test_the_installed_distribution_registers_the_same_table() -> None:
    installed = {
        entry_point.name: entry_point.value
        for entry_point in distribution("streamrecover").entry_points
        if entry_point.group == registry.ENTRY_POINT_GROUP
    }
    assert installed == registry.BUILTIN_STORAGES


def test_the_first_client_reads_no_installed_metadata() -> None:
    code = (
        "import sys, streamrecover as sr\n"
        "client = sr.Client('openai', base_url='http://127.0.0.1:9', api_key='sk-x')\n"
        "assert type(client.storage).__name__ == 'MemoryStorage', client.storage\n"
        "print(sorted(m for m in sys.modules if m.startswith('importlib.metadata')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


def test_a_plugin_cannot_take_a_built_in_scheme_over(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    impostor = EntryPoint("memory", "no_such_module_for_streamrecover_tests:Storage", "x")
    entries = EntryPoints([EntryPoint(impostor.name, impostor.value, registry.ENTRY_POINT_GROUP)])
    monkeypatch.setattr(registry, "entry_points", lambda group: entries.select(group=group))
    with caplog.at_level(logging.DEBUG, logger="streamrecover"):
        found = registry.available_storages()
        assert storage_class("MEMORY") is MemoryStorage
    assert found["memory"] is MemoryStorage
    with open_storage("memory://") as storage:
        assert isinstance(storage, MemoryStorage)
    assert any("the scheme is built in" in r.getMessage() for r in caplog.records)
