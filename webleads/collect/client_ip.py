"""The client's IP address: the socket peer, or what a trusted proxy says.

``X-Forwarded-For`` and ``Forwarded`` are believed only when the direct peer is a
trusted proxy (``WEBLEADS_TRUSTED_PROXIES``); then the address is the right-most
one in the chain that is not itself a trusted proxy (the left-most one when every
hop is trusted: a visitor inside the proxies' network).  Anything unparsable falls
back to the socket address: a client cannot choose its address by sending headers.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from functools import lru_cache

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
# (version, integer value, canonical text): parsed with the C ``inet_pton`` rather than
# ``ipaddress``, which costs several microseconds per address on the collect path.
Addr = tuple[int, int, str]
_MAPPED = b"\x00" * 10 + b"\xff\xff"


def _parse(value: str) -> Addr | None:
    value = value.strip().strip('"')
    if value.startswith("["):  # [v6]:port
        if "]" not in value:
            return None
        value = value[1:value.find("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        packed = socket.inet_pton(socket.AF_INET, value)
        return (4, int.from_bytes(packed, "big"), socket.inet_ntop(socket.AF_INET, packed))
    except (OSError, ValueError):
        pass
    try:
        packed = socket.inet_pton(socket.AF_INET6, value)
    except (OSError, ValueError):
        return _parse_slow(value)
    if packed[:12] == _MAPPED:
        # An IPv4 client seen through a dual-stack socket (::ffff:a.b.c.d) is an IPv4 client.
        v4 = packed[12:]
        return (4, int.from_bytes(v4, "big"), socket.inet_ntop(socket.AF_INET, v4))
    return (6, int.from_bytes(packed, "big"), socket.inet_ntop(socket.AF_INET6, packed))


def _parse_slow(value: str) -> Addr | None:
    """Forms ``inet_pton`` refuses but ``ipaddress`` reads (IPv6 scope ids)."""
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
    addr = mapped or addr
    return (addr.version, int(addr), str(addr))


@lru_cache(maxsize=16)
def _bounds(nets: tuple[Net, ...]) -> tuple[tuple[int, int, int], ...]:
    return tuple((n.version, int(n.network_address), int(n.broadcast_address)) for n in nets)


def _trusted(addr: Addr, bounds: tuple[tuple[int, int, int], ...]) -> bool:
    version, value, _ = addr
    return any(v == version and lo <= value <= hi for v, lo, hi in bounds)


def client_ip(peer: str | None, headers: dict[bytes, bytes], trusted: Sequence[Net]) -> str | None:
    """The address to attribute a request to (``headers`` keys are lower-case bytes)."""
    if peer is None:
        return None
    peer_addr = _parse(peer)
    if peer_addr is None:
        return peer
    bounds = _bounds(tuple(trusted)) if trusted else ()
    if not bounds or not _trusted(peer_addr, bounds):
        return peer_addr[2]
    chain: list[str] = []
    forwarded = headers.get(b"forwarded")
    if forwarded:
        for element in forwarded.decode("latin-1").split(","):
            for pair in element.split(";"):
                key, _, val = pair.strip().partition("=")
                if key.lower() == "for":
                    chain.append(val)
    else:
        xff = headers.get(b"x-forwarded-for")
        if xff:
            chain = xff.decode("latin-1").split(",")
    client = peer_addr
    for candidate in reversed(chain):
        addr = _parse(candidate)
        if addr is None:
            return peer_addr[2]
        if not _trusted(addr, bounds):
            return addr[2]
        client = addr  # every hop so far is trusted: the left-most one is the client
    return client[2]
