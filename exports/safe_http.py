"""Fetching a URL the site did not choose itself (a status payload's ``downloadUrl``, a status
URL) without reaching internal services: each connection resolves its host once, refuses it
when an address is not public, and connects to exactly the addresses it checked.

The rules (README, "Download latest NDJSON"):

- https to any host whose every address is public; plain http never, except to a trusted
  origin.
- An address is public when it is none of loopback, private, link-local, unspecified,
  shared (100.64/10), multicast or reserved, checked with ``ipaddress`` after unwrapping an
  IPv4 address carried in IPv6 (``::ffff:a.b.c.d``, ``::a.b.c.d``, 6to4, NAT64). Hosts
  such as ``2130706433`` or ``0x7f000001`` are checked as what they resolve to.
- A trusted origin (exactly scheme, host and port) may use any address and plain http: the
  S3-compatible endpoint ``AWS_ENDPOINT_URL`` and each ``EXPORT_PROXY_ALLOWED_HOSTS`` entry.
- A redirect is followed only to the same origin (scheme, host and port), and is checked again.

No second lookup happens between check and connect, so a name that answers a public address
to the check and a private one a moment later gains nothing. TLS still sends SNI for, and
checks the certificate against, the URL's host name. Proxies and ``.netrc`` from the
environment are not used (a proxy would be connected to instead of the checked address);
``REQUESTS_CA_BUNDLE`` is, for a trusted origin behind an internal CA.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import _set_socket_options, allowed_gai_family
from urllib3.util.timeout import _DEFAULT_TIMEOUT

# (scheme, host, port): what the allow-list and the redirect rule compare.
Origin = tuple[str, str, int]

DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class Refused(Exception):
    """The URL, or an address its host resolves to, is not one this site fetches. The
    message is for the log; callers show their own uniform error."""


def _host(name: str) -> str:
    return name.rstrip(".").lower()


def origin_of(url: str) -> Origin | None:
    """The URL's (scheme, host, port), the port filled in from the scheme; None for anything
    but a well-formed http(s) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number, or out of range
        return None
    return scheme, _host(parts.hostname), port


def allowed_origin(entry: str) -> Origin:
    """An ``EXPORT_PROXY_ALLOWED_HOSTS`` entry as an origin: ``host`` or ``host:port`` for
    plain http (port 80 when left out), ``https://host[:port]`` for https; ValueError for
    anything else (a path, a query, credentials)."""
    text = entry.strip()
    url = text if "://" in text else f"http://{text}"
    parts = urlsplit(url)
    origin = origin_of(url)
    if origin is None or parts.path not in {"", "/"} or parts.query or parts.username:
        raise ValueError(f"{entry!r} is not host, host:port or scheme://host:port")
    return origin


def trusted_origins() -> frozenset[Origin]:
    """The origins that may be fetched over plain http and at any address."""
    origins = set()
    for entry in settings.EXPORT_PROXY_ALLOWED_HOSTS:
        try:
            origins.add(allowed_origin(entry))
        except ValueError as exc:
            raise ImproperlyConfigured(f"EXPORT_PROXY_ALLOWED_HOSTS: {exc}") from exc
    endpoint = origin_of(settings.AWS_ENDPOINT_URL or "")
    if endpoint is not None:
        origins.add(endpoint)
    return frozenset(origins)


def url_allowed(url: str) -> bool:
    """Whether the URL's scheme and origin may be fetched at all (https, or a trusted
    origin); its addresses are checked when it is connected to."""
    origin = origin_of(url)
    return origin is not None and (origin[0] == "https" or origin in trusted_origins())


def address_is_public(address: str) -> bool:
    """Whether an IP address (as getaddrinfo gives it) is on the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:a.b.c.d is a.b.c.d to a dual-stack socket
    candidates = [ip]
    if ip.version == 6:
        if ip.sixtofour is not None:
            candidates.append(ip.sixtofour)
        if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
            candidates.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(
        candidate.is_global and not (candidate.is_multicast or candidate.is_reserved)
        for candidate in candidates
    )


def checked_addresses(scheme: str, host: str, port: int) -> list[tuple]:
    """Resolve ``host`` once; every address, or Refused when one is not public (unless the
    origin is trusted). These results are what the connection uses."""
    infos = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    if (scheme, _host(host), port) in trusted_origins():
        return infos
    for *_, sockaddr in infos:
        if not address_is_public(sockaddr[0]):
            raise Refused(f"{host} resolves to a non-public address")
    return infos


def _connect(infos: list[tuple], timeout, source_address, socket_options) -> socket.socket:
    """urllib3's create_connection, given the addresses instead of looking them up."""
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = None
        try:
            sock = socket.socket(family, kind, proto)
            _set_socket_options(sock, socket_options)
            if timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            if sock is not None:
                sock.close()
    raise error or OSError("the host resolved to no address")


class _CheckedConnectionMixin:
    """A urllib3 connection whose socket goes to the checked addresses only."""

    guard_scheme = "http"

    def _new_conn(self) -> socket.socket:
        try:
            infos = checked_addresses(self.guard_scheme, self._dns_host, self.port)
            sock = _connect(infos, self.timeout, self.source_address, self.socket_options)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class _CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    guard_scheme = "http"


class _CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    guard_scheme = "https"


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class CheckedAddressAdapter(HTTPAdapter):
    """requests' adapter over pools whose connections check the addresses they connect to."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise Refused("a proxy would be connected to instead of the checked address")


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )
    adapter = CheckedAddressAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def guarded_get(url: str, *, timeout: float, max_redirects: int = 0) -> requests.Response:
    """GET ``url`` (streamed) under the rules above, following up to ``max_redirects``
    redirects within its origin; a redirect past that is returned as it is. Raises Refused,
    or requests.RequestException when the host cannot be reached. The caller closes the
    response."""
    origin = origin_of(url)
    session = _session()
    hops = 0
    while True:
        if not url_allowed(url):
            raise Refused(f"{origin_of(url)} is neither https nor a trusted origin")
        response = session.get(url, stream=True, timeout=timeout, allow_redirects=False)
        if not response.is_redirect or hops == max_redirects:
            return response
        target = urljoin(url, response.headers["Location"])
        response.close()
        if origin_of(target) != origin:
            raise Refused(f"redirect from {origin} to another origin {origin_of(target)}")
        url = target
        hops += 1
