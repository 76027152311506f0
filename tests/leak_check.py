"""The leak check of the test folders that open sockets and files (transport, client, cli,
realstreams).

A socket or database left open is a ResourceWarning, an error in this suite;
collecting garbage after each test blames the leak on the test that made it.
A full collection walks every object the session holds (thousands of collected
test items, the SDKs' modules): about half a second each on the project's
machine, after each of more than a thousand tests. So after each collection the
survivors are frozen (``gc.freeze``) and the next one walks only the objects
allocated since: what a test made is still examined when that test ends.
Garbage that hangs off an object frozen earlier (a module-scoped server
released when its module ends) is caught by the full collection that ends each
module.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

__all__ = ["collect_leaks", "collect_module_leaks"]


@pytest.fixture(autouse=True, scope="module")
def collect_module_leaks() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.collect()


@pytest.fixture(autouse=True)
def collect_leaks(collect_module_leaks: None) -> Iterator[None]:
    yield
    gc.collect()
    gc.freeze()
