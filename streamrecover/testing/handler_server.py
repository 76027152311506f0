"""A fake HTTP server that decides each answer after reading the request.

:class:`HandlerServer` is a :class:`~streamrecover.testing.server.FaultServer`
with a ``responder``: it reads each request whole, hands it to a handler that
returns a script (a list of the steps :mod:`streamrecover.testing.server`
defines: ``SendHead``, ``SendChunk``, ``Reset``, ``Stall``...), and plays it.
A fake *provider* needs this: a continuation is answered with the rest of the
answer from where the request says the text stopped.

It starts in its constructor, and can start without listening
(:meth:`~streamrecover.testing.server.FaultServer.listen` later): its port is
bound but refuses connections until then. Plain TCP on 127.0.0.1 only.
Kept for compatibility: new code can use ``FaultServer(responder=...)``.
"""

from __future__ import annotations

from streamrecover.testing.server import FaultServer, Responder

__all__ = ["Handler", "HandlerServer"]

#: Builds the answer to one request: (request, connection index) -> script.
Handler = Responder


class HandlerServer(FaultServer):
    """Answer every connection on 127.0.0.1 with ``handler(request, index)``'s script.

    Args:
        handler: returns the script for one request. An exception it raises is
            recorded in :attr:`errors` and the connection is reset.
        listening: False binds the port but refuses connections until
            :meth:`listen` is called.

    Raises:
        OSError: the port could not be bound.
    """

    def __init__(self, handler: Handler, *, listening: bool = True) -> None:
        super().__init__(responder=handler, listening=listening)
        self.start()

    def url(self, path: str = "", *, host: str = "127.0.0.1") -> str:
        """The absolute URL of ``path`` on this server (no trailing slash by default)."""
        return super().url(path, host=host)
