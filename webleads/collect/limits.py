"""Rate limits of the hit path: token buckets per client address and per site.

Each bucket holds up to ``BURST_SECONDS`` seconds of its rate and refills continuously;
a request takes one token, or is refused with the time until the next one (the
``Retry-After`` of the 429).  Buckets live in the memory of each server process: with N
processes a sender may get N times the rate.  Nothing is stored, and a bucket's key
(an address) is forgotten once its bucket is full again.

- **Per address** (``WEBLEADS_COLLECT_RATE_PER_IP``): IPv6 addresses count per /64 (one
  subscriber's network), IPv4 per address.  Loopback senders are not limited per
  address: they are this machine (a local sender) or a reverse proxy missing from
  ``WEBLEADS_TRUSTED_PROXIES``, behind which every visitor would share one address.
- **Per site** (``WEBLEADS_COLLECT_RATE_PER_SITE``): keeps one flooded site from filling
  the writer's queue for every other site.

A rate of 0 turns a limit off.  A limited request is answered 429 before anything is
decoded or stored; it is not kept in quarantine (a flood must not fill the database)
and is counted in ``webleads_requests_rejected_total`` under its reason.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

BURST_SECONDS = 10.0
MAX_KEYS = 100_000  # buckets per limit before idle ones are swept

LimitReason = Literal["rate_limited_ip", "rate_limited_site"]
LIMIT_REASONS: tuple[LimitReason, ...] = ("rate_limited_ip", "rate_limited_site")


class TokenBuckets:
    """Token buckets by key, kept as one number each (the "virtual scheduling" form of a
    token bucket, GCRA): the time at which the key's bucket is full again.  A request at
    ``now`` is allowed while that time is at most ``burst - 1`` intervals ahead, and pushes
    it one interval (``1 / rate``) further.  ``take(key)`` is 0.0 when allowed, else the
    seconds to wait.  One float per key, no object to allocate: cheap on the hot path.
    Not thread-safe: used from the event loop only."""

    def __init__(self, rate: float, burst: float, *, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1.0) / rate
        self._max = max_keys
        self._clock = clock
        self._full_at: dict[str, float] = {}

    def take(self, key: str) -> float:
        now = self._clock()
        full_at = self._full_at.get(key, now)
        if full_at < now:
            full_at = now
        ahead = full_at - now
        if ahead > self._tolerance:
            return ahead - self._tolerance
        if len(self._full_at) >= self._max and key not in self._full_at:
            self._sweep(now)
        self._full_at[key] = full_at + self._interval
        return 0.0

    def __len__(self) -> int:
        return len(self._full_at)

    def _sweep(self, now: float) -> None:
        """Forget the buckets that are full again (as good as new); if too many are
        still in use (a flood from very many addresses), start again from none."""
        self._full_at = {k: t for k, t in self._full_at.items() if t > now}
        if len(self._full_at) >= self._max:
            self._full_at.clear()


@lru_cache(maxsize=65536)
def address_key(address: str) -> str | None:
    """The key of an address's bucket: the IPv4 address, the IPv6 /64; None for
    loopback (not limited) and for what is not an address."""
    if ":" not in address:
        return None if address.startswith("127.") else address
    try:
        packed = socket.inet_pton(socket.AF_INET6, address)
    except (OSError, ValueError):
        return None
    if packed == b"\x00" * 15 + b"\x01":
        return None
    return packed[:8].hex() + "::/64"


class RateLimits:
    """The two limits of the hit path (a rate <= 0 turns one off)."""

    def __init__(self, *, per_ip: float, per_site: float, burst_seconds: float = BURST_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_ip = per_ip
        self.per_site = per_site
        self._ip = (TokenBuckets(per_ip, max(1.0, per_ip * burst_seconds), clock=clock)
                    if per_ip > 0 else None)
        self._site = (TokenBuckets(per_site, max(1.0, per_site * burst_seconds), clock=clock)
                      if per_site > 0 else None)

    def ip(self, address: str | None) -> float:
        """0.0: go on; else the seconds before this address may send again."""
        buckets = self._ip
        if buckets is None or address is None:
            return 0.0
        if ":" in address:  # IPv6 (canonical text from client_ip): per /64
            key = address_key(address)
            return 0.0 if key is None else buckets.take(key)
        return 0.0 if address.startswith("127.") else buckets.take(address)

    def site(self, site_key: str) -> float:
        """0.0: go on; else the seconds before this site takes hits again."""
        return 0.0 if self._site is None else self._site.take(site_key)
