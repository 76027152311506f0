"""Importing the package and its clients loads no storage, TLS, proxy or entry-point machinery.

Issue 14: ``from streamrecover import Client, AsyncClient`` stays under 30 ms of
``-X importtime`` (benchmarks/bench_import.py measures it). Time is not asserted
here; what loads is: the exact set of the package's own modules on that path,
and none of the heavy standard-library modules. The rest loads on first use:
the client's machinery when a client is built, a provider's module when it is
asked for by name, the fallback and translation machinery with the first
fallback, the transports when a client needs one.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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

#: Everything of streamrecover that ``from streamrecover import Client, AsyncClient``
#: loads: the classes and what their signatures name at run time. A new module
#: here is a new import-time cost; make it load on first use instead.
CLIENT_PATH = {
    "streamrecover",
    "streamrecover._client_setup",
    "streamrecover.client",
    "streamrecover.core",
    "streamrecover.core.errors",
    "streamrecover.fallback_setup",
    "streamrecover.providers",
    "streamrecover.providers.registry",
    "streamrecover.storage",
    "streamrecover.storage._defaults",
    "streamrecover.storage.errors",
}

#: Standard-library modules that cost milliseconds each to import and that no
#: client needs before its first stream (or at all, for most streams).
HEAVY_STDLIB = (
    "asyncio",
    "dataclasses",
    "datetime",
    "email",
    "inspect",
    "json",
    "logging",
    "random",
    "socket",
    "textwrap",
    "threading",
    "traceback",
    "zipfile",
)

CLIENT_IMPORT = "import streamrecover\nfrom streamrecover import Client, AsyncClient"


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def added_by(statement: str, setup: str = "") -> set[str]:
    """The modules ``statement`` adds to ``sys.modules`` after ``setup`` ran."""
    code = (
        f"import sys\n{setup}\nbefore = set(sys.modules)\n{statement}\n"
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_client_import_path_leaves_the_deferred_modules_unloaded() -> None:
    loaded = loaded_after(CLIENT_IMPORT)
    assert "streamrecover.client" in loaded
    assert sorted(loaded.intersection(DEFERRED)) == []


def test_client_import_path_loads_exactly_the_client_modules() -> None:
    loaded = loaded_after(CLIENT_IMPORT)
    assert {name for name in loaded if name.split(".")[0] == "streamrecover"} == CLIENT_PATH


def test_client_import_path_loads_no_heavy_stdlib_module() -> None:
    # Measured against a bare interpreter, so that what site or a .pth hook
    # loads at start-up (an editable install loads pathlib and re) is not ours.
    baseline = loaded_after("pass")
    loaded = loaded_after(CLIENT_IMPORT) - baseline
    heavy = {name for name in loaded if name.split(".")[0] in HEAVY_STDLIB}
    assert sorted(heavy) == []
    assert not any(name.split(".")[0] in {"h11", "anyio", "opentelemetry"} for name in loaded)


@pytest.mark.parametrize(
    ("name", "module"),
    [("Client", "streamrecover.client"), ("TextDelta", "streamrecover.core.events"),
     ("RetryPolicy", "streamrecover.core.policy"), ("open_storage", "streamrecover.storage")],
)
def test_a_public_name_loads_its_module_on_first_use(name: str, module: str) -> None:
    code = (
        "import json, sys, streamrecover\n"
        f"before = {module!r} in sys.modules\n"
        f"value = streamrecover.{name}\n"
        f"print(json.dumps([before, {module!r} in sys.modules, {name!r} in dir(streamrecover), "
        f"value is getattr(sys.modules[{module!r}], {name!r})]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == [False, True, True, True]


def test_the_deferred_modules_load_on_first_use() -> None:
    loaded = loaded_after(
        "from streamrecover import Client\n"
        "Client('openai', base_url='http://127.0.0.1:9/v1', api_key='sk-x', storage='memory://')"
    )
    assert {"streamrecover.storage.registry", "streamrecover.storage.record"} <= loaded


def test_a_client_loads_its_own_provider_and_no_other() -> None:
    loaded = loaded_after(
        "from streamrecover import Client\n"
        "Client('anthropic', api_key='sk-x', storage=None)"
    )
    assert "streamrecover.providers.anthropic" in loaded
    others = {"streamrecover.providers.openai_chat", "streamrecover.providers.openai_responses",
              "streamrecover.providers.gemini"}
    assert sorted(loaded & others) == []


def test_fallback_machinery_loads_only_with_a_fallback() -> None:
    build = (
        "from streamrecover import Client\n"
        "client = Client('openai', api_key='sk-x', storage=None{fallbacks})\n"
        "client.stream(model='m', messages=[{{'role': 'user', 'content': 'hi'}}])"
    )
    machinery = {"streamrecover.fallback_chain", "streamrecover.providers.translate",
                 "streamrecover.providers.translate.neutral"}
    plain = loaded_after(build.format(fallbacks=""))
    assert sorted(plain & machinery) == []
    with_fallback = loaded_after(build.format(
        fallbacks=", fallbacks=[__import__('streamrecover').Fallback('gemini', 'g', api_key='k')]"
    ))
    assert machinery <= with_fallback


def test_a_client_loads_only_its_own_transport() -> None:
    sync = added_by("Client('openai', api_key='sk-x', storage=None)",
                    setup="from streamrecover import Client")
    assert "streamrecover.transport._sync" in sync
    assert "streamrecover.transport._async" not in sync
    asynchronous = added_by("AsyncClient('openai', api_key='sk-x', storage=None)",
                            setup="from streamrecover import AsyncClient")
    assert "streamrecover.transport._async" in asynchronous
    assert "streamrecover.transport._sync" not in asynchronous
