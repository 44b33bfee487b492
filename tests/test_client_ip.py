"""client_ip: the socket peer, unless a trusted proxy says otherwise."""

from __future__ import annotations

import ipaddress

import pytest

from webleads.collect.client_ip import client_ip

LOCAL = ("127.0.0.1/32", "::1/128")
PRIVATE = ("10.0.0.0/8",)


def nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


def xff(value: str) -> dict[bytes, bytes]:
    return {b"x-forwarded-for": value.encode("latin-1")}


def fwd(value: str) -> dict[bytes, bytes]:
    return {b"forwarded": value.encode("latin-1")}


@pytest.mark.parametrize("peer, headers, trusted, expected", [
    # no trusted proxies: the socket address, whatever the headers say
    ("203.0.113.5", {}, (), "203.0.113.5"),
    ("203.0.113.5", xff("198.51.100.7"), (), "203.0.113.5"),
    ("203.0.113.5", fwd("for=198.51.100.7"), (), "203.0.113.5"),
    # headers from a peer that is not a trusted proxy are ignored
    ("203.0.113.5", xff("198.51.100.7"), PRIVATE, "203.0.113.5"),
    ("203.0.113.5", fwd("for=198.51.100.7"), LOCAL, "203.0.113.5"),
    # a trusted proxy: its header is believed
    ("127.0.0.1", xff("198.51.100.7"), LOCAL, "198.51.100.7"),
    ("127.0.0.1", xff(" 198.51.100.7:52100 "), LOCAL, "198.51.100.7"),
    ("127.0.0.1", {}, LOCAL, "127.0.0.1"),
    # a chain: the right-most address that is not a trusted proxy; what the client
    # put on the left (spoofed) is not believed
    ("10.0.0.1", xff("1.1.1.1, 198.51.100.7, 10.0.0.2"), PRIVATE, "198.51.100.7"),
    ("10.0.0.1", xff("1.1.1.1,198.51.100.7"), PRIVATE, "198.51.100.7"),
    # every hop trusted (a visitor inside the proxies' network): the left-most one
    ("10.0.0.1", xff("10.1.2.3, 10.0.0.2"), PRIVATE, "10.1.2.3"),
    # Forwarded (RFC 7239)
    ("127.0.0.1", fwd("for=198.51.100.7;proto=https;by=127.0.0.1"), LOCAL, "198.51.100.7"),
    ("127.0.0.1", fwd("For=198.51.100.7"), LOCAL, "198.51.100.7"),
    ("127.0.0.1", fwd('for="[2001:db8:cafe::17]:4711"'), LOCAL, "2001:db8:cafe::17"),
    ("127.0.0.1", fwd('for="[2001:db8:cafe::17]"'), LOCAL, "2001:db8:cafe::17"),
    ("127.0.0.1", fwd('for="198.51.100.7:4711"'), LOCAL, "198.51.100.7"),
    ("10.0.0.1", fwd("for=1.1.1.1, for=198.51.100.7;proto=https, for=10.0.0.2"), PRIVATE,
     "198.51.100.7"),
    # Forwarded wins over X-Forwarded-For when both are sent
    ("127.0.0.1", {**fwd("for=198.51.100.7"), **xff("203.0.113.9")}, LOCAL, "198.51.100.7"),
    # garbage falls back to the peer: a client cannot choose its address
    ("127.0.0.1", xff("garbage"), LOCAL, "127.0.0.1"),
    ("127.0.0.1", xff(""), LOCAL, "127.0.0.1"),
    ("127.0.0.1", xff(","), LOCAL, "127.0.0.1"),
    ("127.0.0.1", xff("198.51.100.7, not-an-ip"), LOCAL, "127.0.0.1"),
    ("127.0.0.1", xff("999.1.1.1"), LOCAL, "127.0.0.1"),
    ("127.0.0.1", {b"x-forwarded-for": b"\xff\xfe\x00"}, LOCAL, "127.0.0.1"),
    ("127.0.0.1", fwd("for=unknown"), LOCAL, "127.0.0.1"),
    ("127.0.0.1", fwd("for=_hidden"), LOCAL, "127.0.0.1"),
    ("127.0.0.1", fwd('for="[2001:db8::1'), LOCAL, "127.0.0.1"),
    ("127.0.0.1", fwd("proto=https"), LOCAL, "127.0.0.1"),
    # garbage left of the client's address does not matter
    ("127.0.0.1", xff("not-an-ip, 198.51.100.7"), LOCAL, "198.51.100.7"),
    # IPv6 peers
    ("2001:db8::1", {}, (), "2001:db8::1"),
    ("2001:DB8:0:0::0001", {}, (), "2001:db8::1"),
    ("2001:db8::1", xff("198.51.100.7"), LOCAL, "2001:db8::1"),
    ("::1", xff("2001:db8::7"), LOCAL, "2001:db8::7"),
    ("::1", xff("2001:db8::7, ::1"), LOCAL, "2001:db8::7"),
    ("fd00::1", xff("198.51.100.7"), ("fd00::/8",), "198.51.100.7"),
    # an IPv4 client on a dual-stack socket is an IPv4 client
    ("::ffff:203.0.113.5", {}, (), "203.0.113.5"),
    ("::ffff:127.0.0.1", xff("198.51.100.7"), LOCAL, "198.51.100.7"),
    ("127.0.0.1", xff("::ffff:198.51.100.7"), LOCAL, "198.51.100.7"),
    # no peer (some ASGI servers on unix sockets)
    (None, xff("198.51.100.7"), LOCAL, None),
])
def test_client_ip(peer: str | None, headers: dict[bytes, bytes], trusted: tuple[str, ...],
                   expected: str | None) -> None:
    assert client_ip(peer, headers, nets(*trusted)) == expected
