"""Destinations the product may call: no private, loopback or link-local addresses.

A webhook URL is typed by a user; without this guard it could make the server call its
own admin ports, the cloud metadata service (169.254.169.254) or the office network.
URLs are checked when they are configured and enqueued (``check_destination``,
``check_url``: syntax and literal addresses, no DNS) and again at every send
(``Guard.pin``): the host is resolved, **every** address must be public, and the request
goes to the address that was checked (so a DNS answer that changes between the check and
the connection, "DNS rebinding", cannot send it elsewhere).

``allow_private=True`` (setting ``WEBLEADS_ALLOW_PRIVATE_DESTINATIONS``) lifts the
address checks, for an intranet CRM or the tests' receivers on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (tests inject a fake DNS answer)
Resolver = Callable[[str, int], list[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
MAX_URL = 2000


class DestinationRefused(ValueError):
    """The destination is not allowed (never deliverable as it is)."""


class DestinationUnresolved(OSError):
    """The host does not resolve now (may be temporary)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DestinationUnresolved(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public destination, or None when it is."""
    for inner in _embedded(ip):
        why = refusal(inner)
        if why is not None:
            return f"{why} ({inner} inside)"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.version == 4 and ip in _CGNAT:
        return "a shared (CGNAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a non-public address"
    return None


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """IPv4 addresses carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found: list[IPAddress] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_address(ip: IPAddress, *, allow_private: bool, host: str) -> None:
    why = refusal(ip)
    if why is None or (allow_private and not ip.is_multicast):
        return
    literal = _literal(host)
    resolved = "" if literal is not None and literal == ip else f" resolves to {ip}, which"
    raise DestinationRefused(
        f"{host}{resolved} is {why}: refused (set "
        "WEBLEADS_ALLOW_PRIVATE_DESTINATIONS=true to allow private destinations)")


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """Syntax and literal addresses of a webhook URL, without DNS."""
    if len(url.encode("utf-8", "replace")) > MAX_URL:  # it is part of an index key
        raise DestinationRefused(f"URL longer than {MAX_URL} bytes")
    if any(c in url for c in "\r\n\t ") or not url.isprintable():
        raise DestinationRefused("URL with spaces or control characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise DestinationRefused(f"not a URL: {exc}") from exc
    if parsed.scheme not in ("http", "https"):
        raise DestinationRefused(f"URL scheme {parsed.scheme or '(none)'!r}: use https "
                                 "(or http)")
    host = parsed.host
    if not host:
        raise DestinationRefused("URL without a host")
    ip = _literal(host)
    if ip is not None:
        check_address(ip, allow_private=allow_private, host=host)
    elif not allow_private and (host == "localhost" or host.endswith(".localhost")):
        check_address(ipaddress.ip_address("127.0.0.1"), allow_private=False, host=host)
    return parsed


def check_email(address: str) -> None:
    if any(c in address for c in "\r\n") or len(address) > 254:
        raise DestinationRefused("not an e-mail address")
    try:
        parsed = Address(addr_spec=address)
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise DestinationRefused(f"not an e-mail address: {address!r}") from exc
    if not parsed.username or not parsed.domain or parsed.addr_spec != address:
        raise DestinationRefused(f"not an e-mail address: {address!r}")


def check_destination(channel: str, destination: str, *, allow_private: bool,
                      guard: Guard | None = None) -> None:
    """Raise ``DestinationRefused`` with the reason when ``destination`` is not allowed.

    Without ``guard`` only the syntax and literal addresses are checked (enqueue time,
    inside a transaction: no DNS); with it the host is resolved too.
    """
    if channel == "email":
        check_email(destination)
        return
    if channel not in ("slack", "teams", "webhook"):
        raise DestinationRefused(f"unknown channel {channel!r}")
    check_url(destination, allow_private=allow_private)
    if guard is not None:
        guard.pin(destination)


@dataclass(frozen=True, slots=True)
class Pinned:
    """A URL rewritten to the checked address, with what the request must still say."""

    url: httpx.URL       # the address in place of the host name
    host_header: str     # Host: the original host (and port)
    sni_hostname: str | None  # for https: the name the certificate must match


@dataclass(frozen=True, slots=True)
class Guard:
    allow_private: bool = False
    resolve: Resolver = field(default=system_resolver)

    def pin(self, url: str) -> Pinned:
        """Resolve and check ``url``'s host; raise DestinationRefused / DestinationUnresolved."""
        parsed = check_url(url, allow_private=self.allow_private)
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        literal = _literal(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                addresses = [ipaddress.ip_address(a.split("%")[0])
                             for a in self.resolve(host, port)]
            except ValueError as exc:
                raise DestinationUnresolved(f"cannot resolve {host}: {exc}") from exc
            if not addresses:
                raise DestinationUnresolved(f"cannot resolve {host}: no address")
        for ip in addresses:  # every answer: one bad record is enough to refuse
            check_address(ip, allow_private=self.allow_private, host=host)
        netloc = host if parsed.port is None else f"{host}:{parsed.port}"
        if ":" in host:
            netloc = f"[{host}]" if parsed.port is None else f"[{host}]:{parsed.port}"
        return Pinned(url=parsed.copy_with(host=str(addresses[0])), host_header=netloc,
                      sni_hostname=host if parsed.scheme == "https" else None)
