"""Fixtures shared by the test folders that open real sockets (transport, client).

Each such folder's conftest imports them with ``from network_fixtures import *``
(tests/ is on the path: the test folders are not packages). trustme is imported
here, so folders that need no TLS (the stdlib-only core tests) never load it.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
from leak_check import collect_leaks, collect_module_leaks

__all__ = [
    "ca",
    "ca_file",
    "client_ssl_context",
    "collect_leaks",
    "collect_module_leaks",
    "server_ssl_context",
]


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
