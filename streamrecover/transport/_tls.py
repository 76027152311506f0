"""The TLS client context: verification on by default, a custom CA on request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamrecover.core.errors import UsageError

if TYPE_CHECKING:
    import ssl

__all__ = ["client_context"]


def client_context(*, ca_file: str | None = None) -> ssl.SSLContext:
    """Return a verifying client context (hostname check, system CAs or ``ca_file``).

    ALPN offers only ``http/1.1``, the one protocol the transports speak.
    Raises :class:`~streamrecover.core.errors.UsageError` when ``ca_file``
    cannot be read as PEM certificates.
    """
    import ssl  # on first use: it costs several milliseconds to import

    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load CA certificates from {ca_file!r}: {exc}") from exc
    context.set_alpn_protocols(["http/1.1"])
    return context
