"""The package's public names: ``__all__`` is exactly what it exports."""

from __future__ import annotations

import inspect

import streamrecover


def test_all_is_a_sorted_tuple_without_duplicates() -> None:
    assert isinstance(streamrecover.__all__, tuple)
    assert len(set(streamrecover.__all__)) == len(streamrecover.__all__)
    assert list(streamrecover.__all__) == sorted(streamrecover.__all__)


def test_all_matches_the_public_names_defined() -> None:
    public = {
        name
        for name, value in vars(streamrecover).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert public == set(streamrecover.__all__)


def test_every_exception_derives_from_the_root() -> None:
    for name in streamrecover.__all__:
        value = getattr(streamrecover, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, streamrecover.StreamRecoverError), name
