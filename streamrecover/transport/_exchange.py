"""One HTTP/1.1 exchange framed by h11, with no I/O.

Bytes to send come out, bytes received go in, and what h11 makes of them comes
back as a :class:`ResponseHead` or a piece of body (``None`` while more bytes
are needed). h11's
own exceptions are turned into :class:`~streamrecover.core.errors.TransportError`
here, with the kind that depends on where in the exchange the peer stopped:
before the response head (``closed``), inside a body whose framing says more
was due (``incomplete_body``, or ``tls_eof`` when TLS ended without
close_notify).

This module imports h11 at the top; the transports import it lazily so that
``import streamrecover`` needs no optional dependency.
"""

from __future__ import annotations

from dataclasses import dataclass

import h11

from streamrecover.core.errors import TransportFaultKind, UsageError
from streamrecover.transport._faults import fail

__all__ = ["Exchange", "ResponseHead"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseHead:
    """Status line and headers of a final (non-1xx) response; header names lower case."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]


class Exchange:
    """The client side of one request/response on a fresh connection.

    ``what`` names the peer (``host:port``) in error messages.
    """

    def __init__(self, what: str) -> None:
        self._connection = h11.Connection(h11.CLIENT)
        self._what = what
        self._eof = False
        self._ragged_eof = False
        self._head_received = False

    def request(
        self,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes | None,
    ) -> bytes:
        """Return the bytes of the whole request (head and body).

        Raises :class:`~streamrecover.core.errors.UsageError` when h11 refuses
        the request, for example a header value with a line break.
        """
        try:
            head = h11.Request(
                method=method.encode("ascii"), target=target.encode("ascii"), headers=headers
            )
            data = self._connection.send(head)
            if body:
                data += self._connection.send(h11.Data(data=body)) or b""
            data += self._connection.send(h11.EndOfMessage()) or b""
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            raise UsageError(f"cannot send this request: {exc}") from exc
        return data or b""

    def connect_request(self, authority: str, headers: list[tuple[bytes, bytes]]) -> bytes:
        """Return the bytes of a ``CONNECT authority`` request (RFC 9110 §9.3.6)."""
        return self.request("CONNECT", authority, headers, None)

    def receive_data(self, data: bytes, *, ragged_eof: bool = False) -> None:
        """Feed bytes read from the connection; ``b""`` means the peer closed it.

        ``ragged_eof`` says the TLS session ended without close_notify.
        """
        if not data:
            self._eof = True
            self._ragged_eof = ragged_eof
        self._connection.receive_data(data)

    def next_head(self) -> ResponseHead | None:
        """Return the final response head (1xx responses skipped), or None: feed more bytes."""
        while True:
            event = self._next_event()
            if event is h11.NEED_DATA:
                return None
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                self._head_received = True
                return ResponseHead(
                    status=event.status_code,
                    reason=event.reason.decode("latin-1"),
                    headers=tuple(
                        (name.decode("latin-1"), value.decode("latin-1"))
                        for name, value in event.headers
                    ),
                )
            fail("other", self._what, RuntimeError(f"unexpected {type(event).__name__}"))

    def next_body(self) -> bytes | None:
        """Return the next piece of body, ``b""`` once it has ended, or None: feed more bytes."""
        while True:
            event = self._next_event()
            if event is h11.NEED_DATA:
                return None
            if isinstance(event, h11.Data):
                if event.data:
                    return bytes(event.data)
                continue
            if isinstance(event, h11.EndOfMessage):
                return b""
            fail("other", self._what, RuntimeError(f"unexpected {type(event).__name__}"))

    def leftover(self) -> bytes:
        """Bytes received after a tunnel was accepted (none, from a well-behaved proxy)."""
        data, _closed = self._connection.trailing_data
        return bytes(data)

    def _next_event(self) -> object:
        try:
            return self._connection.next_event()
        except h11.RemoteProtocolError as exc:
            kind: TransportFaultKind
            if not self._eof:
                kind = "other"  # malformed bytes, not an early close
            elif not self._head_received:
                kind = "closed"
            elif self._ragged_eof:
                kind = "tls_eof"
            else:
                kind = "incomplete_body"
            fail(kind, self._what, exc)
