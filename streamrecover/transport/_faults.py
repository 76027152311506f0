"""How low-level failures become :class:`TransportError` kinds, and how long a wait may last.

Both I/O backends (stdlib sockets and anyio) map their exceptions through the
tables here, so one failure gets one ``kind`` whichever transport saw it.
"""

from __future__ import annotations

import errno
import math
import socket
import sys
import time
from typing import NoReturn

from streamrecover.core.errors import TransportError, TransportFaultKind

__all__ = [
    "Phase",
    "connect_failure_kind",
    "fail",
    "kind_for_os_error",
    "leaf_errors",
    "time_left",
]

#: errno values that mean "the peer (or a middlebox) tore the connection down".
RESET_ERRNOS = frozenset(
    code
    for code in (
        getattr(errno, "ECONNRESET", None),
        getattr(errno, "EPIPE", None),
        getattr(errno, "ECONNABORTED", None),
        getattr(errno, "ESHUTDOWN", None),
    )
    if code is not None
)


class Phase:
    """A wait of one exchange: its absolute end and the kind to report when it passes.

    ``end`` is a :func:`time.monotonic` value (``math.inf`` for no limit).
    """

    __slots__ = ("end", "kind")

    def __init__(self, seconds: float, kind: TransportFaultKind) -> None:
        self.end = time.monotonic() + seconds
        self.kind: TransportFaultKind = kind


def time_left(phase: Phase, deadline: float | None, what: str) -> tuple[float, TransportFaultKind]:
    """Seconds the next wait may last, and the kind to report if it times out.

    The total ``deadline`` wins over the phase's own end when it comes first, so
    that the error says which limit was hit. Raises :class:`TransportError` at
    once when no time is left: a zero timeout would make a socket non-blocking
    rather than fail.
    """
    end, kind = phase.end, phase.kind
    if deadline is not None and deadline <= end:
        end, kind = deadline, "deadline"
    remaining = end - time.monotonic()
    if remaining <= 0:
        fail(kind, what)
    return (math.inf if math.isinf(remaining) else remaining), kind


def fail(kind: TransportFaultKind, what: str, cause: BaseException | None = None) -> NoReturn:
    """Raise ``TransportError(kind=kind)`` with a message naming ``what`` failed."""
    messages: dict[TransportFaultKind, str] = {
        "connect_refused": "connection refused",
        "connect_timeout": "timed out connecting",
        "dns": "host name did not resolve",
        "reset": "connection reset by peer",
        "closed": "connection closed before the response head",
        "read_timeout": "timed out waiting for the response head",
        "idle_timeout": "no data from the server within the idle timeout",
        "tls_eof": "TLS connection ended without close_notify before the body ended",
        "tls_certificate": "TLS certificate verification failed",
        "incomplete_body": "connection closed before the body ended",
        "proxy": "proxy refused the tunnel",
        "deadline": "the stream's deadline passed",
        "other": "network error",
    }
    detail = f": {cause}" if cause is not None and str(cause) else ""
    raise TransportError(f"{messages[kind]} ({what}){detail}", kind=kind) from cause


def kind_for_os_error(
    exc: BaseException, *, timeout_kind: TransportFaultKind
) -> TransportFaultKind:
    """The ``kind`` for an OS, TLS or name-resolution error.

    ``timeout_kind`` is what a timeout means in the phase that saw it (connect,
    head or idle). Ragged TLS EOFs are not mapped here: whether they truncate
    the body depends on the HTTP framing, which the caller knows.
    """
    # An SSL exception exists only once ssl is loaded (it loads with the first TLS
    # connection): a process that never loaded it has none to classify.
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        return "tls_certificate"
    if ssl is not None and isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return "tls_eof"
    if isinstance(exc, TimeoutError):
        return timeout_kind
    if isinstance(exc, ConnectionRefusedError):
        return "connect_refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "reset"
    # socket.gaierror is an OSError whose errno is an EAI_* code, not an errno:
    # test it before looking at errno values.
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, OSError) and exc.errno in RESET_ERRNOS:
        return "reset"
    if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
        return "connect_refused"
    return "other"


def leaf_errors(exc: BaseException) -> list[BaseException]:
    """The individual errors inside ``exc`` and its exception groups (3.10 has no builtin one)."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, tuple):
        leaves: list[BaseException] = []
        for item in inner:
            leaves.extend(leaf_errors(item))
        return leaves
    return [exc]


def connect_failure_kind(
    exc: BaseException, *, timeout_kind: TransportFaultKind
) -> TransportFaultKind:
    """The kind for a failed connect that tried one or several addresses.

    When every address failed the same way that kind is reported; when they
    differ, a refusal wins (something answered), else ``other``.
    """
    kinds = {kind_for_os_error(leaf, timeout_kind=timeout_kind) for leaf in leaf_errors(exc)}
    if len(kinds) == 1:
        return kinds.pop()
    if "connect_refused" in kinds:
        return "connect_refused"
    return "other"
