"""One HTTP/1.1 exchange framed by h11, with no I/O.

Bytes to send come out, bytes received go in, and what h11 makes of them comes
back as a :class:`ResponseHead` or a piece of body (``None`` while more bytes
are needed). A chunked response body, the framing of nearly every LLM stream,
is decoded by :class:`~streamrecover.transport._chunked.ChunkedDecoder` once
h11 has parsed the head: h11 costs several microseconds per chunk, and such a
server sends a chunk per event. h11's
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
from streamrecover.core.redact import redact
from streamrecover.transport._chunked import ChunkedDecoder
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
        # Dropped once a chunked body's decoder takes over (see _decode_chunked_body).
        self._connection: h11.Connection | None = h11.Connection(h11.CLIENT)
        self._what = what
        self._eof = False
        self._ragged_eof = False
        self._head_received = False
        self._method = b""
        # Set when the response head announces a chunked body: from then on
        # the bytes go to the decoder, not to h11.
        self._chunked: ChunkedDecoder | None = None

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
            self._method = method.encode("ascii")
            head = h11.Request(method=self._method, target=target.encode("ascii"), headers=headers)
            connection = self._h11()
            data = connection.send(head)
            if body:
                data += connection.send(h11.Data(data=body)) or b""
            data += connection.send(h11.EndOfMessage()) or b""
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            # h11 quotes the offending bytes; a header value may be a credential.
            reason = str(exc)
            if "header value" in reason.lower():
                reason = "a header value holds an illegal character (the value is not shown)"
            raise UsageError(f"cannot send this request: {redact(reason)}") from None
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
        if self._chunked is not None:
            self._chunked.receive_data(data, ragged_eof=ragged_eof)
        else:
            self._h11().receive_data(data)

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
                if self._has_chunked_body(event):
                    self._decode_chunked_body()
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
        """Return the next piece of body, ``b""`` once it has ended, or None: feed more bytes.

        A piece is one chunk's data (or the part of it at hand) in a chunked
        body, else what one read brought.
        """
        if self._chunked is not None:
            return self._chunked.next_body()
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

    def body_at_hand(self) -> bytes | None:
        """Like :meth:`next_body`, but every chunk of a chunked body at hand comes in one piece."""
        if self._chunked is not None:
            return self._chunked.body_at_hand()
        return self.next_body()

    def leftover(self) -> bytes:
        """Bytes received after a tunnel was accepted (none, from a well-behaved proxy)."""
        data, _closed = self._h11().trailing_data
        return bytes(data)

    def _has_chunked_body(self, response: h11.Response) -> bool:
        # h11's own choice of framing (RFC 9112 §6.3), which it does not
        # expose: a response to HEAD, a 204 or 304, or a 2xx to CONNECT has
        # no body whatever its headers say; otherwise Transfer-Encoding, which
        # h11 accepts only as "chunked", wins over Content-Length.
        status = response.status_code
        if (
            status in (204, 304)
            or self._method == b"HEAD"
            or (self._method == b"CONNECT" and 200 <= status < 300)
        ):
            return False
        return any(name == b"transfer-encoding" for name, _ in response.headers)

    def _decode_chunked_body(self) -> None:
        # What h11 holds beyond the head is the start of the body.
        decoder = ChunkedDecoder(self._what)
        data, closed = self._h11().trailing_data
        if data:
            decoder.receive_data(data)
        if closed:
            decoder.receive_data(b"", ragged_eof=self._ragged_eof)
        self._chunked = decoder
        # h11 is done with this exchange, and its receive buffer still holds
        # the whole first read (up to 64 KiB per stream, for as long as the
        # stream lasts): let it go.
        self._connection = None

    def _h11(self) -> h11.Connection:
        connection = self._connection
        if connection is None:
            raise UsageError("the exchange's head was parsed; its body goes to the chunked decoder")
        return connection

    def _next_event(self) -> object:
        try:
            return self._h11().next_event()
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
