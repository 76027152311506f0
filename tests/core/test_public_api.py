"""The package's public names: ``__all__`` is exactly what it exports."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import streamrecover

LAZY = set(streamrecover._LAZY)


def test_all_is_a_sorted_tuple_without_duplicates() -> None:
    assert isinstance(streamrecover.__all__, tuple)
    assert len(set(streamrecover.__all__)) == len(streamrecover.__all__)
    assert list(streamrecover.__all__) == sorted(streamrecover.__all__)


def test_all_matches_the_public_names_defined() -> None:
    eager = {
        name
        for name, value in vars(streamrecover).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    assert (eager | LAZY) == set(streamrecover.__all__)


def test_every_eager_exception_derives_from_the_root() -> None:
    for name in set(streamrecover.__all__) - LAZY:
        value = getattr(streamrecover, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, streamrecover.StreamRecoverError), name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = streamrecover.no_such_name  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_client_storage_or_transport() -> None:
    probe = (
        "import sys, streamrecover; "
        "print(sorted(m for m in sys.modules if m.startswith('streamrecover.') "
        "and not m.startswith(('streamrecover.core', 'streamrecover.providers'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_importing_the_package_loads_no_heavy_stdlib_module() -> None:
    # The import-time budget: the core needs none of these until it is used.
    probe = (
        "import sys, streamrecover; "
        "print(sorted(m for m in ('logging', 'email', 'socket', 'sqlite3', 'ssl', 'asyncio') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
