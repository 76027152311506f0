"""Importing the package and its clients loads no storage, TLS, proxy or entry-point machinery."""

from __future__ import annotations

import subprocess
import sys

# Loaded on first use: the first storage opened, TLS connection made, proxy looked up.
DEFERRED = (
    "importlib.metadata",
    "sqlite3",
    "ssl",
    "urllib.request",
    "streamrecover.storage.record",
    "streamrecover.storage.base",
    "streamrecover.storage.registry",
    "streamrecover.storage.sqlite",
)


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_client_import_path_leaves_the_deferred_modules_unloaded() -> None:
    loaded = loaded_after("import streamrecover\nfrom streamrecover import Client, AsyncClient")
    assert "streamrecover.client" in loaded
    assert sorted(loaded.intersection(DEFERRED)) == []


def test_the_deferred_modules_load_on_first_use() -> None:
    loaded = loaded_after(
        "from streamrecover import Client\n"
        "Client('openai', base_url='http://127.0.0.1:9/v1', api_key='sk-x', storage='memory://')"
    )
    assert {"streamrecover.storage.registry", "streamrecover.storage.record"} <= loaded
