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
from collections.abc import Callable, Sequence
from functools import lru_cache

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
# (version, integer value, canonical text): parsed with the C ``inet_pton`` rather than
# ``ipaddress``, which costs several microseconds per address on the collect path.
Addr = tuple[int, int, str]
# The trusted networks as integer bounds (version, first, last): computed once, since
# hashing or walking ``ipaddress`` networks per request costs microseconds.
Bounds = tuple[tuple[int, int, int], ...]
# (peer, X-Forwarded-For, Forwarded) -> the client's address
ClientIp = Callable[[str | None, bytes | None, bytes | None], str | None]
_MAPPED = b"\x00" * 10 + b"\xff\xff"
_AF_INET = socket.AF_INET
_inet_pton = socket.inet_pton
_inet_ntop = socket.inet_ntop


def _parse(value: str) -> Addr | None:
    if ":" not in value:
        # The common form first (a bare dotted quad): inet_pton takes nothing else, so a
        # success here is what the general path below would find too.
        try:
            packed = _inet_pton(_AF_INET, value)
        except (OSError, ValueError):  # ValueError: a NUL in the text
            pass
        else:
            return (4, int.from_bytes(packed, "big"), _inet_ntop(_AF_INET, packed))
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


def trusted_bounds(nets: Sequence[Net]) -> Bounds:
    """The trusted networks as (version, first, last) integers."""
    return tuple((n.version, int(n.network_address), int(n.broadcast_address)) for n in nets)


_bounds = lru_cache(maxsize=16)(trusted_bounds)


def _trusted(addr: Addr, bounds: Bounds) -> bool:
    version, value, _ = addr
    for v, lo, hi in bounds:  # a plain loop: any() over a generator costs more
        if v == version and lo <= value <= hi:
            return True
    return False


def client_ip(peer: str | None, headers: dict[bytes, bytes], trusted: Sequence[Net]) -> str | None:
    """The address to attribute a request to (``headers`` keys are lower-case bytes)."""
    bounds = _bounds(tuple(trusted)) if trusted else ()
    return resolve(peer, headers.get(b"x-forwarded-for"), headers.get(b"forwarded"), bounds)


def resolve(peer: str | None, xff: bytes | None, forwarded: bytes | None,
            bounds: Bounds) -> str | None:
    """``client_ip`` from the two headers' values and the trusted networks' bounds."""
    if peer is None:
        return None
    peer_addr = _parse(peer)
    if peer_addr is None:
        return peer
    if not bounds or not _trusted(peer_addr, bounds):
        return peer_addr[2]
    chain: list[str] = []
    if forwarded:
        for element in forwarded.decode("latin-1").split(","):
            for pair in element.split(";"):
                key, _, val = pair.strip().partition("=")
                if key.lower() == "for":
                    chain.append(val)
    elif xff:
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


# Header values longer than this are resolved without the cache: a client can make
# them up, and the cache must stay small whatever it is sent.
MAX_CACHED_HEADER = 256


def make_client_ip(trusted: Sequence[Net], cache_size: int = 32768) -> ClientIp:
    """``resolve`` bound to the trusted networks, behind an LRU cache: senders repeat
    (keep-alive, proxies).  The size holds a busy site's visitors of the last minutes
    (20,000 distinct senders fit, where 8,192 entries missed three times in five)."""
    bounds = trusted_bounds(trusted)

    @lru_cache(maxsize=cache_size)
    def cached(peer: str | None, xff: bytes | None, forwarded: bytes | None) -> str | None:
        return resolve(peer, xff, forwarded, bounds)

    def client_address(peer: str | None, xff: bytes | None, forwarded: bytes | None
                       ) -> str | None:
        if ((xff is not None and len(xff) > MAX_CACHED_HEADER)
                or (forwarded is not None and len(forwarded) > MAX_CACHED_HEADER)):
            return resolve(peer, xff, forwarded, bounds)
        return cached(peer, xff, forwarded)

    return client_address
