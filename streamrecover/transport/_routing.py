"""Where a request goes and what its head says: pure logic shared by both transports.

URL parsing, the proxy decision (``http_proxy`` / ``https_proxy`` / ``no_proxy``)
and the request header list live here, free of I/O, so that the sync and the
async transport cannot drift apart and tests can check them without sockets.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from streamrecover.core.errors import UsageError
from streamrecover.core.http import HTTPRequest

__all__ = [
    "Origin",
    "Proxy",
    "ProxySetting",
    "Route",
    "bypasses_proxy",
    "connect_headers",
    "default_user_agent",
    "parse_proxy",
    "parse_url",
    "request_headers",
    "route",
    "select_proxy",
]

DEFAULT_PORTS = {"http": 80, "https": 443}

#: ``"env"`` reads the environment, ``None`` means no proxy, a URL names one proxy.
ProxySetting = str | None

#: Headers the transport owns: framing and connection management follow from how
#: it sends the request (RFC 9112 §6, §9.6), so a caller's values are dropped.
TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "upgrade",
        "accept-encoding",
        "proxy-connection",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """Scheme, host and port of a server. ``host`` is bare: no brackets around IPv6."""

    scheme: Literal["http", "https"]
    host: str
    port: int

    @property
    def authority(self) -> str:
        """``host:port`` as written in a Host header or a CONNECT target (RFC 9112 §3.2)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def host_header(self) -> str:
        """The Host header value: the port only when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Proxy:
    """An HTTP proxy: where it listens and the Proxy-Authorization value, if any."""

    origin: Origin
    authorization: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """Where to connect for one request and what to put in its request line.

    ``tunnel`` is True when the connection goes through the proxy with CONNECT
    (https); for plain http through a proxy the request is sent to the proxy in
    absolute form instead (RFC 9112 §3.2.2).
    """

    origin: Origin
    target: str
    proxy: Proxy | None = None

    @property
    def tunnel(self) -> bool:
        return self.proxy is not None and self.origin.scheme == "https"

    @property
    def request_target(self) -> str:
        """The request-target: origin form, or absolute form when a proxy forwards it."""
        if self.proxy is not None and not self.tunnel:
            return f"{self.origin.scheme}://{self.origin.host_header}{self.target}"
        return self.target


def _ascii_host(host: str) -> str:
    # Connecting and the Host header need the ASCII (IDNA) form of a name.
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise UsageError(f"invalid host name {host!r}") from exc


def parse_url(url: str) -> tuple[Origin, str]:
    """Split an absolute http(s) URL into its origin and its origin-form target.

    The target keeps path and query and drops the fragment; userinfo is ignored.
    Raises :class:`~streamrecover.core.errors.UsageError` for another scheme, a
    missing host or a bad port.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UsageError(f"only http and https URLs are supported, got scheme {scheme!r}")
    if not parts.hostname:
        raise UsageError("the URL has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"bad port in URL: {exc}") from exc
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    origin = Origin(
        scheme="https" if scheme == "https" else "http",
        host=_ascii_host(parts.hostname),
        port=DEFAULT_PORTS[scheme] if port is None else port,
    )
    return origin, target


def parse_proxy(url: str) -> Proxy:
    """Parse a proxy URL such as ``http://user:secret@proxy.local:3128``.

    A URL without a scheme is taken as http. Only http proxies are supported (TLS
    to the proxy itself is not); credentials become a Basic Proxy-Authorization.
    Raises :class:`~streamrecover.core.errors.UsageError` for anything else.
    """
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        raise UsageError(
            f"only http:// proxies are supported (got {parts.scheme}://); "
            "https URLs are still tunnelled through them with CONNECT"
        )
    origin, _ = parse_url(url)
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        token = base64.b64encode(credentials.encode("utf-8")).decode("ascii")
        authorization = f"Basic {token}"
    return Proxy(origin=origin, authorization=authorization)


def _host_matches(host: str, entry: str) -> bool:
    if entry == "*":
        return True
    try:
        network = ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        network = None
    if network is not None:
        try:
            return ipaddress.ip_address(host) in network
        except ValueError:
            return False
    # curl's and urllib's convention: "example.com" and ".example.com" both match
    # the domain itself and every name below it.
    domain = entry.lstrip(".").lower()
    return host == domain or host.endswith("." + domain)


def bypasses_proxy(origin: Origin, no_proxy: str) -> bool:
    """Whether ``no_proxy`` (comma-separated hosts, domains, IPs, CIDRs, ``*``) exempts ``origin``.

    An entry may carry a port (``example.com:8080``, ``[::1]:8080``); then only
    that port is exempt.
    """
    host = origin.host.lower()
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        port: int | None = None
        if entry.startswith("["):
            address, _, rest = entry[1:].partition("]")
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
            entry = address
        elif entry.count(":") == 1:
            name, _, port_text = entry.partition(":")
            if port_text.isdigit():
                entry, port = name, int(port_text)
        if port is not None and port != origin.port:
            continue
        if _host_matches(host, entry):
            return True
    return False


def _getproxies() -> Mapping[str, str]:
    # urllib.request costs milliseconds to import: loaded when a proxy is looked up.
    import urllib.request

    return urllib.request.getproxies()


def select_proxy(
    setting: ProxySetting,
    origin: Origin,
    *,
    environment: Callable[[], Mapping[str, str]] = _getproxies,
) -> Proxy | None:
    """Choose the proxy for ``origin``.

    ``setting`` is ``"env"`` (read ``http_proxy`` / ``https_proxy`` /
    ``no_proxy`` through :func:`urllib.request.getproxies`, upper or lower
    case, at every call), ``None`` (connect directly) or a proxy URL used for
    every request. Raises :class:`~streamrecover.core.errors.UsageError` for a
    proxy URL this transport cannot use.
    """
    if setting is None:
        return None
    if setting != "env":
        return parse_proxy(setting)
    proxies = environment()
    url = proxies.get(origin.scheme)
    if not url:
        return None
    no_proxy = proxies.get("no", "")
    if no_proxy and bypasses_proxy(origin, no_proxy):
        return None
    return parse_proxy(url)


def route(request: HTTPRequest, setting: ProxySetting) -> Route:
    """Decide where ``request`` goes: its origin, request target and proxy."""
    origin, target = parse_url(request.url)
    return Route(origin=origin, target=target, proxy=select_proxy(setting, origin))


def _encode(text: str, what: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as exc:
        # The text is not quoted: it may be a credential (a header value).
        raise UsageError(f"{what} is not latin-1 text") from exc


def request_headers(
    request: HTTPRequest, route: Route, *, user_agent: str
) -> list[tuple[bytes, bytes]]:
    """The header list sent for ``request`` on ``route``.

    The transport sets ``host``, ``content-length`` (for a body, and for POST,
    PUT and PATCH without one: RFC 9110 §8.6), ``accept-encoding: identity``
    (bodies are passed on undecoded), ``connection: close`` (one request per
    connection; RFC 9112 §9.6 makes the option a must for such a client) and
    ``proxy-authorization`` when a forward proxy needs it. The caller's own
    headers follow in order; its ``user-agent`` replaces the default one.
    """
    headers: list[tuple[bytes, bytes]] = [(b"host", _encode(route.origin.host_header, "host"))]
    if request.header("user-agent") is None:
        headers.append((b"user-agent", _encode(user_agent, "user agent")))
    headers.append((b"accept-encoding", b"identity"))
    headers.append((b"connection", b"close"))
    if request.body is not None or request.method.upper() in {"POST", "PUT", "PATCH"}:
        headers.append((b"content-length", str(len(request.body or b"")).encode("ascii")))
    if route.proxy is not None and not route.tunnel and route.proxy.authorization:
        headers.append((b"proxy-authorization", route.proxy.authorization.encode("ascii")))
    for name, value in request.headers:
        lowered = name.lower()
        if lowered in TRANSPORT_HEADERS:
            continue
        if lowered == "proxy-authorization" and route.proxy is not None:
            continue
        headers.append((_encode(lowered, "header name"), _encode(value, f"header {name}:")))
    return headers


def connect_headers(route: Route, *, user_agent: str) -> list[tuple[bytes, bytes]]:
    """The headers of the CONNECT request that opens a tunnel for ``route``."""
    headers = [
        (b"host", _encode(route.origin.authority, "host")),
        (b"user-agent", _encode(user_agent, "user agent")),
    ]
    if route.proxy is not None and route.proxy.authorization:
        headers.append((b"proxy-authorization", route.proxy.authorization.encode("ascii")))
    return headers


def default_user_agent() -> str:
    """``streamrecover/<version>``."""
    # Imported here, not at the top: the package __init__ may import the
    # transport while it is still being initialised.
    from streamrecover import __version__

    return f"streamrecover/{__version__}"
