"""``put_anonymised_ip``: runs after every IP-based step.

Per site, the stored form of the address is either truncated (IPv4 /24, IPv6 /48)
or a keyed hash (HMAC-SHA256 with a key derived from the server secret and the site,
16 hex digits).  The raw address leaves the hit here unless the site explicitly
stores raw IPs.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Callable
from functools import lru_cache

from msgspec.structs import replace

from webleads.model import Client


@lru_cache(maxsize=65536)
def truncate_ip(ip: str) -> str | None:
    if ":" not in ip:
        # IPv4 through the C inet_pton/inet_ntop: a tenth of ipaddress's cost on a cache
        # miss (every new visitor); what inet_pton refuses goes the general way below.
        try:
            packed = socket.inet_pton(socket.AF_INET, ip)
        except (OSError, ValueError):
            pass
        else:
            return socket.inet_ntop(socket.AF_INET, packed[:3] + b"\0")
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if addr.version == 4:
        return str(ipaddress.IPv4Address(int(addr) & 0xFFFFFF00))
    return str(ipaddress.IPv6Address(int(addr) & ~((1 << 80) - 1)))


def make_put_anonymised_ip(secret_key: str) -> Callable[[Client], Client]:
    base = hashlib.sha256(b"webleads/ip-hash/" + secret_key.encode()).digest()

    def put_anonymised_ip(client: Client) -> Client:
        ip = client.ip
        if ip is None:
            return client
        site = client.site
        if site.ip_mode == "hash":
            key = base + site.key.encode()
            anon: str | None = hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()[:16]
        else:
            anon = truncate_ip(ip)
        return replace(client, ip_anon=anon, ip=ip if site.store_raw_ip else None)

    return put_anonymised_ip
