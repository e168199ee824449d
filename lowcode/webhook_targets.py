"""Where outbound webhooks may go: never to this machine or its private network unless allowed.

A webhook URL comes from a rule definition, so whoever may publish rules could otherwise make the server
call its own admin ports, a cloud metadata service (169.254.169.254) or other hosts of the private network.
:func:`resolve_target` resolves the URL's host, refuses loopback, link-local, private and unspecified
addresses unless the ``WEBHOOK_ALLOW`` setting (``LOWCODE_WEBHOOK_ALLOW``: host names and CIDRs, comma or
space separated) names the host or the address, and returns the checked address: the caller connects to
that very address, so a DNS answer that changes between the check and the connection (DNS rebinding)
cannot redirect the call."""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FORBIDDEN: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "::/128",
        "::1/128",
        "fe80::/10",
        "fc00::/7",
    )
)
"""Unspecified, loopback, link-local, private (RFC 1918, carrier-grade NAT) and unique-local addresses."""

Resolver = Callable[[str, int], Iterable[str]]


class UnsafeTarget(Exception):
    """The webhook URL is not allowed (the message says why, naming the host)."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (TCP), as the operating system answers."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def allow_list(settings: Mapping[str, Any]) -> tuple[frozenset[str], tuple[Network, ...]]:
    """The ``WEBHOOK_ALLOW`` setting as (host names in lower case, networks)."""
    raw = settings.get("WEBHOOK_ALLOW") or ""
    items = raw.replace(",", " ").split() if isinstance(raw, str) else [str(i) for i in raw]
    hosts, networks = set(), []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            hosts.add(item.lower().rstrip("."))
    return frozenset(hosts), tuple(networks)


def forbidden(address: IPAddress) -> bool:
    """Whether ``address`` is on this machine or a private network (IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_multicast or any(address in network for network in FORBIDDEN)


def resolve_target(url: str, settings: Mapping[str, Any], resolver: Resolver = system_resolver) -> str:
    """The address to connect to for ``url``: the first resolved one, after checking them all.

    :raises UnsafeTarget: a bad URL, a host that does not resolve, or a forbidden address not allowed."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeTarget(f"not an http(s) URL with a host: {url[:200]!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    hosts, networks = allow_list(settings)
    try:
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
    except (OSError, ValueError) as exc:
        raise UnsafeTarget(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise UnsafeTarget(f"{host} resolves to no address")
    if host.lower() not in hosts:
        for address in addresses:
            if forbidden(address) and not any(address in network for network in networks):
                raise UnsafeTarget(
                    f"{host} resolves to {address}, a local or private address; "
                    "LOWCODE_WEBHOOK_ALLOW must name the host or address to call it"
                )
    return str(addresses[0])


LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
"""Host names that mean this machine without asking DNS (and every ``*.localhost``, RFC 6761)."""


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for - dotted quads, IPv6 (zone dropped) and the
    short or numeric IPv4 forms a resolver also accepts (``127.1``, ``2130706433``, ``0x7f.0.0.1``) - or
    None for a name. No DNS is asked."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    if not host or not all(c in "0123456789abcdefxABCDEFX." for c in host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def literal_target_problem(url: str, settings: Mapping[str, Any]) -> str | None:
    """Why ``url`` may never be called, judged without DNS (at publish): not http(s), or a host that is an IP
    literal in a forbidden range or a loopback name, unless ``WEBHOOK_ALLOW`` names it. None when the URL
    may be fine - a host name is resolved and checked again at every delivery (:func:`resolve_target`)."""
    try:
        parts = urlsplit(url)
        host, _port = (parts.hostname or "").rstrip(".").lower(), parts.port
    except ValueError:  # a malformed IPv6 literal or port
        host = ""
    if not host or parts.scheme not in ("http", "https"):
        return f"not an http(s) URL with a host and a valid port: {url[:200]!r}"
    hosts, networks = allow_list(settings)
    if host in hosts:
        return None
    address = literal_address(host)
    if address is None and (host in LOOPBACK_NAMES or host.endswith(".localhost")):
        candidates = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
        if not any(a in n for a in candidates for n in networks):
            return (
                f"{host} is this machine; LOWCODE_WEBHOOK_ALLOW must name it (or its address) "
                "for a webhook to call it"
            )
        return None
    if address is not None and forbidden(address) and not any(address in n for n in networks):
        return (
            f"{host} is a local or private address ({address}); LOWCODE_WEBHOOK_ALLOW must name it "
            "for a webhook to call it"
        )
    return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address (the Host header still names the URL's host)."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout, self.source_address)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address; the certificate is verified for the URL's host name."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout, self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPConnection, address=self.address), req)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The default TLS context (system CAs), built once: loading the CAs costs ~100 ms per call."""
    return ssl.create_default_context()


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, address: str):
        super().__init__(context=_tls_context())
        self.address = address

    def https_open(self, req):
        return self.do_open(
            functools.partial(_PinnedHTTPSConnection, address=self.address), req, context=self._context
        )


def pinned_opener(address: str, *handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """A urllib opener whose HTTP(S) connections go to ``address`` only (no proxy: a proxy would resolve
    the host again), with ``handlers`` added (e.g. one refusing redirects)."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _PinnedHTTPHandler(address), _PinnedHTTPSHandler(address), *handlers
    )
