"""Faults that are the proxy's, named as the proxy's.

Behind a corporate proxy, "connection refused (127.0.0.1:3128)" reads as if
the API were down, and a 407 from the proxy retried three times reads as an
outage. These helpers turn what happened on the way to the origin into a
:class:`~streamrecover.core.errors.TransportError` whose message starts with
the proxy's ``host:port`` (never its credentials), whose ``proxy`` attribute
holds it, and whose ``kind`` tells recovery what to do:

* the proxy could not be reached, or dropped the connection before answering
  CONNECT: the kind of that failure (``connect_refused``, ``connect_timeout``,
  ``dns``, ``closed``...), retried like any connection failure;
* the proxy answered CONNECT (or, for plain http, the forwarded request) with a
  4xx, 407 above all: ``proxy_refused``, final, since the same credentials
  will be refused again;
* the proxy answered CONNECT with a 5xx (it could not reach the origin, or it
  is overloaded): ``proxy``, retried.
"""

from __future__ import annotations

from typing import NoReturn

from streamrecover.core.errors import TransportError
from streamrecover.core.excerpt import body_excerpt

__all__ = ["proxy_answer_failure", "proxy_hop_failure"]

_ADVICE = {
    407: "the proxy needs credentials, or refused the ones in the proxy URL "
    "(http://user:password@host:port, percent-encoded)",
    403: "the proxy does not allow this destination",
}


def proxy_hop_failure(exc: TransportError, proxy: str) -> TransportError:
    """Return ``exc`` (a failure on the way to or at the proxy) restated as the proxy's."""
    if exc.proxy:
        return exc
    error = TransportError(f"proxy {proxy}: {exc}", kind=exc.kind, proxy=proxy)
    error.__cause__ = exc.__cause__
    return error


def proxy_answer_failure(
    status: int, reason: str, *, proxy: str, target: str, body: str = ""
) -> NoReturn:
    """Raise for a proxy that refused to open a tunnel to (or forward to) ``target``."""
    what = f"{status} {reason}".strip()
    excerpt = body_excerpt(body)
    if excerpt and excerpt.lower() not in what.lower():
        what = f"{what}: {excerpt}"
    advice = _ADVICE.get(status)
    detail = f" ({advice})" if advice else ""
    if 400 <= status < 500:
        raise TransportError(
            f"proxy {proxy} refused the tunnel to {target}: {what}{detail}",
            kind="proxy_refused",
            proxy=proxy,
        )
    raise TransportError(
        f"proxy {proxy} could not open the tunnel to {target}: {what}",
        kind="proxy",
        proxy=proxy,
    )
