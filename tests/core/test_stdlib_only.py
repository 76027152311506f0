"""The core and the providers import nothing outside the standard library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import streamrecover

PACKAGE_ROOT = Path(streamrecover.__file__).parent

PROBE = r"""
import importlib, json, pkgutil, sys
before = set(sys.modules)
names = []
for package in ("streamrecover.core", "streamrecover.providers"):
    module = importlib.import_module(package)
    names.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
        names.append(info.name)
loaded = sorted(
    {name.split(".")[0] for name in set(sys.modules) - before}
    - set(sys.stdlib_module_names)
    - {"streamrecover"}
)
print(json.dumps({"imported": names, "foreign": loaded}))
"""


def run_probe() -> dict[str, list[str]]:
    root = str(PACKAGE_ROOT.parent)
    # -S keeps site (and any .pth hooks of installed packages) out of the count;
    # the package's own directory is put on the path by hand.
    result = subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {root!r})\n" + PROBE],
        capture_output=True,
        text=True,
        check=True,
    )
    report: dict[str, list[str]] = json.loads(result.stdout)
    return report


def test_core_and_providers_load_only_stdlib_modules() -> None:
    report = run_probe()
    assert report["foreign"] == []


def test_probe_sees_every_module_file() -> None:
    # Guard against a probe that silently imports nothing.
    report = run_probe()
    expected = {
        "streamrecover." + ".".join(path.relative_to(PACKAGE_ROOT).with_suffix("").parts)
        for folder in ("core", "providers")
        for path in (PACKAGE_ROOT / folder).rglob("*.py")
        if path.name != "__init__.py"
    }
    assert expected <= set(report["imported"])
    assert "streamrecover.core.sse" in expected
