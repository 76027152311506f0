"""Fixtures for the transport tests: no proxy from the environment, a test CA."""

from __future__ import annotations

import gc
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUEST_METHOD",
)


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A proxy configured on the machine running the tests must not reroute
    # loopback requests; tests that want one set it themselves.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(autouse=True)
def _collect_leaks() -> Iterator[None]:
    # A socket left open is a ResourceWarning, an error in this suite; collect
    # after each test so that a leak is blamed on the test that caused it.
    yield
    gc.collect()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "::1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="session")
def client_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)
