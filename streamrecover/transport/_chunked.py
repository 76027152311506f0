"""The chunked transfer coding (RFC 9112 §7.1), decoded with no I/O.

Once h11 has parsed a response head that announces ``Transfer-Encoding:
chunked``, :class:`~streamrecover.transport._exchange.Exchange` hands the rest
of the bytes to a :class:`ChunkedDecoder` instead of h11. A server that
flushes every SSE event sends one chunk per event, and h11 spends a pass of its
state machine, a regular expression and an event object on each; here a
chunk costs one ``bytes.find``, a check of its size digits and one slice.
:meth:`ChunkedDecoder.next_body` gives the pieces h11 gave: one per chunk, or
the part of a chunk at hand; :meth:`ChunkedDecoder.body_at_hand` (what the
transports use) gives the same bytes joined, one piece per read.

The decoder accepts what h11 accepted and refuses what it refused, with tighter
bounds on what it buffers:

* chunk-size: 1 to 20 hex digits; chunk extensions (RFC 9112 §7.1.1) are
  ignored; whitespace before the CRLF is tolerated when there is no extension,
  as h11 does, because some servers send it. The size line is at most
  :data:`MAX_SIZE_LINE` bytes.
* chunk-data must be followed by exactly CRLF.
* the trailer section (RFC 9112 §7.1.2) is read, checked line by line and
  discarded; it is at most :data:`MAX_TRAILER_SECTION` bytes. As in h11, its
  lines may end in a bare LF.
* bytes after the end of the body are ignored (the transport closes the
  connection after every response).

Malformed framing raises :class:`~streamrecover.core.errors.TransportError`
with kind ``other``; an end of the connection before the last chunk raises
``incomplete_body``, or ``tls_eof`` when TLS ended without close_notify. Every
piece of body before the fault is returned first, one per call, as with h11.
"""

from __future__ import annotations

import re
from typing import Final, Literal, NoReturn

from streamrecover.core.errors import TransportError, UsageError
from streamrecover.transport._faults import fail

__all__ = ["MAX_SIZE_LINE", "MAX_TRAILER_SECTION", "ChunkedDecoder"]

#: Longest chunk-size line (digits, extensions and CRLF) accepted.
MAX_SIZE_LINE: Final = 4096
#: Longest trailer section (its lines and the blank line ending it) accepted.
MAX_TRAILER_SECTION: Final = 16384
# h11's bound: 20 hex digits already exceed 2**64, nobody sends more.
_MAX_SIZE_DIGITS: Final = 20
_HEX_DIGITS: Final = b"0123456789abcdefABCDEF"

# A trailer line is judged as h11 judged it: RFC 9110 §5.5 field-line, with
# surrounding whitespace tolerated and any byte but NUL and whitespace taken as
# a visible character; a line starting with SP/HTAB continues the previous one
# (obs-fold, RFC 9112 §5.2).
_FIELD_LINE: Final = re.compile(
    rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+:[ \t]*(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?[ \t]*"
)
_CONTINUATION_LINE: Final = re.compile(rb"[ \t]+[^\x00\r\n\x0b\x0c]*")
# The blank line that ends a non-empty trailer section, CRLF or bare LF.
_END_OF_TRAILERS: Final = re.compile(rb"\n\r?\n")

_Stage = Literal["size", "data", "data_end", "trailers", "done"]


def _chunk_size(line: bytes) -> int:
    # The size from a chunk-size line without its CRLF, or -1 when malformed.
    semicolon = line.find(b";")
    if semicolon < 0:
        digits = line.rstrip(b" \t")
    else:
        # An extension runs to the end of the line; h11 refused a bare LF in it.
        if b"\n" in line:
            return -1
        digits = line[:semicolon]
    # int(x, 16) would also take a sign, "0x", "_" and surrounding spaces.
    if not digits or len(digits) > _MAX_SIZE_DIGITS or digits.translate(None, _HEX_DIGITS):
        return -1
    return int(digits, 16)


def _valid_trailer_lines(section: bytes) -> bool:
    # ``section`` is the trailer section with its closing blank line.
    lines = [line.removesuffix(b"\r") for line in section.split(b"\n")[:-2]]
    for number, line in enumerate(lines):
        if _FIELD_LINE.fullmatch(line) is None and (
            number == 0 or _CONTINUATION_LINE.fullmatch(line) is None
        ):
            return False
    return True


class ChunkedDecoder:
    """Decodes one chunked response body, fed as it arrives.

    ``what`` names the peer in error messages. Feed bytes with
    :meth:`receive_data` (``b""`` means the connection ended) and take the
    body out with :meth:`next_body`.
    """

    def __init__(self, what: str) -> None:
        self._what = what
        # Bytes received; those before _position have been decoded. Decoding
        # moves the position rather than slicing the buffer, so that a read of
        # many chunks costs one copy per chunk, not one per chunk of the rest.
        self._buffer = b""
        self._position = 0
        self._stage: _Stage = "size"
        self._remaining = 0  # bytes of the current chunk's data still due
        self._eof = False
        self._ragged_eof = False
        self._failure: TransportError | None = None

    @property
    def finished(self) -> bool:
        """True once the last chunk and the trailer section have been decoded."""
        return self._stage == "done"

    def receive_data(self, data: bytes, *, ragged_eof: bool = False) -> None:
        """Feed bytes read from the connection; ``b""`` means the peer closed it.

        ``ragged_eof`` says the TLS session ended without close_notify. Raises
        :class:`~streamrecover.core.errors.UsageError` for data after the end
        of the connection.
        """
        if self._eof:
            raise UsageError("data received after the end of the connection")
        if not data:
            self._eof = True
            self._ragged_eof = ragged_eof
        elif self._position < len(self._buffer):
            # Only an incomplete piece of framing is left when the caller took
            # every piece out before reading more, as the transports do.
            self._buffer = self._buffer[self._position :] + data
            self._position = 0
        else:
            self._buffer = data
            self._position = 0

    def next_body(self) -> bytes | None:
        """Return the next piece of body: one chunk's data, or the part of it at hand.

        Returns ``b""`` once the body has ended, and None when more bytes are
        needed (nothing waits for the rest of a chunk that has begun to arrive).
        Raises :class:`~streamrecover.core.errors.TransportError`: ``other`` for
        malformed framing, ``incomplete_body`` (``tls_eof`` after a TLS close
        without close_notify) when the connection ended first. Once raised, the
        same error is raised by every later call.
        """
        if self._failure is not None:
            raise self._failure
        data = self._buffer
        size = len(data)
        position = self._position
        while position < size:
            stage = self._stage
            if stage == "size":
                end = data.find(b"\r\n", position)
                if end < 0 or end + 2 - position > MAX_SIZE_LINE:
                    if size - position >= MAX_SIZE_LINE:
                        self._malformed(f"chunk size line longer than {MAX_SIZE_LINE} bytes")
                    break
                line = data[position:end]
                if 0 < len(line) <= _MAX_SIZE_DIGITS and not line.translate(None, _HEX_DIGITS):
                    chunk_size = int(line, 16)  # the common line: hex digits only
                else:
                    chunk_size = _chunk_size(line)
                    if chunk_size < 0:
                        self._malformed(f"illegal chunk size line: {line[:80]!r}")
                position = end + 2
                if not chunk_size:
                    self._stage = "trailers"
                    continue
                end = position + chunk_size
                if data.startswith(b"\r\n", end):
                    # The common case, a whole chunk and its CRLF at hand.
                    self._position = end + 2
                    if end + 2 == size:
                        # Nothing undecoded left: do not hold the read (up to
                        # 64 KiB per stream) while the connection waits.
                        self._buffer = b""
                        self._position = 0
                    return data[position:end]
                self._stage = "data"
                self._remaining = chunk_size
            elif stage == "data":
                end = min(position + self._remaining, size)
                self._remaining -= end - position
                if not self._remaining:
                    self._stage = "data_end"
                self._position = end
                if end == size:
                    self._buffer = b""
                    self._position = 0
                return data[position:end]
            elif stage == "data_end":
                if data.startswith(b"\r\n", position):
                    position += 2
                    self._stage = "size"
                elif data[position:] == b"\r":
                    break
                else:
                    crlf = data[position : position + 2]
                    self._malformed(f"chunk data not followed by CRLF: {crlf!r}")
            elif stage == "trailers":
                end = self._end_of_trailers(data, position)
                if end < 0:
                    if size - position > MAX_TRAILER_SECTION:
                        self._malformed(f"trailer section longer than {MAX_TRAILER_SECTION} bytes")
                    break
                if end - position > MAX_TRAILER_SECTION:
                    self._malformed(f"trailer section longer than {MAX_TRAILER_SECTION} bytes")
                if not _valid_trailer_lines(data[position:end]):
                    self._malformed("illegal trailer section")
                position = end
                self._stage = "done"
            else:
                # The body has ended: what follows is not ours to read.
                position = size
        self._position = position
        if position >= size:
            self._buffer = b""  # keep only undecoded bytes between reads
            self._position = 0
        if self._stage == "done":
            return b""
        if self._eof:
            self._fail(
                "tls_eof" if self._ragged_eof else "incomplete_body",
                ValueError("the chunked body ended before its last chunk"),
            )
        return None

    def body_at_hand(self) -> bytes | None:
        """Return all the body at hand: every whole chunk's data and the part of a begun one.

        The same bytes as calls of :meth:`next_body` until it returns None or
        ``b""``, joined: ``b""`` once the body has ended, None when more bytes
        are needed. A server that flushes each SSE event sends a chunk per
        event, and a read brings many; one call per read instead of one per
        chunk is what this is for. Body before a fault is returned first; the
        fault is raised by the next call (and every later one), as with
        :meth:`next_body`.
        """
        pieces: list[bytes] = []
        while True:
            if self._stage == "size" and self._failure is None:
                self._whole_chunks(pieces)
            try:
                piece = self.next_body()
            except TransportError:
                if pieces:
                    return b"".join(pieces)
                raise
            if not piece:
                if not pieces:
                    return piece
                return pieces[0] if len(pieces) == 1 else b"".join(pieces)
            pieces.append(piece)

    def _whole_chunks(self, pieces: list[bytes]) -> None:
        # The common run: whole chunks with plain hex sizes, each with its CRLF,
        # appended to ``pieces``; anything else is left to next_body.
        data = self._buffer
        position = self._position
        find = data.find
        startswith = data.startswith
        while True:
            end = find(b"\r\n", position)
            if end < 0:
                break
            line = data[position:end]
            if not 0 < len(line) <= _MAX_SIZE_DIGITS or line.translate(None, _HEX_DIGITS):
                break
            stop = end + 2 + int(line, 16)
            if stop == end + 2 or not startswith(b"\r\n", stop):
                break  # the last chunk, or one not all here
            pieces.append(data[end + 2 : stop])
            position = stop + 2
        self._position = position

    @staticmethod
    def _end_of_trailers(data: bytes, position: int) -> int:
        # Where the trailer section starting at ``position`` ends (after its
        # blank line), or -1 while it is incomplete.
        if data.startswith(b"\r\n", position):
            return position + 2
        if data.startswith(b"\n", position):
            return position + 1
        match = _END_OF_TRAILERS.search(data, position)
        return -1 if match is None else match.end()

    def _malformed(self, problem: str) -> NoReturn:
        self._fail("other", ValueError(f"malformed chunked body: {problem}"))

    def _fail(
        self, kind: Literal["other", "incomplete_body", "tls_eof"], cause: Exception
    ) -> NoReturn:
        try:
            fail(kind, self._what, cause)
        except TransportError as exc:
            self._failure = exc
            raise
