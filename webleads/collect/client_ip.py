"""The client's IP address: the socket peer, or what a trusted proxy says.

``X-Forwarded-For`` and ``Forwarded`` are believed only when the direct peer is a
trusted proxy (``WEBLEADS_TRUSTED_PROXIES``); then the address is the right-most
one in the chain that is not itself a trusted proxy (the left-most one when every
hop is trusted: a visitor inside the proxies' network).  Anything unparsable falls
back to the socket address: a client cannot choose its address by sending headers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("["):  # [v6]:port
        if "]" not in value:
            return None
        value = value[1:value.find("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket (::ffff:a.b.c.d) is an IPv4 client.
    mapped = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
    return mapped or addr


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Sequence[Net]) -> bool:
    return any(addr in net for net in nets)


def client_ip(peer: str | None, headers: dict[bytes, bytes], trusted: Sequence[Net]) -> str | None:
    """The address to attribute a request to (``headers`` keys are lower-case bytes)."""
    if peer is None:
        return None
    peer_addr = _parse(peer)
    if peer_addr is None:
        return peer
    if not trusted or not _trusted(peer_addr, trusted):
        return str(peer_addr)
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
            return str(peer_addr)
        if not _trusted(addr, trusted):
            return str(addr)
        client = addr  # every hop so far is trusted: the left-most one is the client
    return str(client)
