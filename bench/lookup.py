"""Lookup benchmark: the identifier on the shipped data, against a bare MMDB reader.

    .venv/bin/python bench/lookup.py [--n 100000] [--seed S] [--v6-share 0.3]

Loads all shipped network data (``Identifier.default()``), draws N random public
addresses (seeded), pins itself to one core and measures, in the same run:

- **uncached**: ``Identifier.lookup`` on every address (registry, ranges, ASN and
  country layers, curated table, heuristics: a full answer with evidence);
- **cached**: ``webleads.networks.resolver.cached(identifier)`` on the same addresses
  after a warm-up pass (the cache holds them all: every lookup is a hit);
- **bare**: ``maxminddb`` ``Reader.get`` on ``asn.mmdb`` alone, the floor of one
  MMDB lookup from Python; the report gives uncached / bare;
- the resident memory (``VmRSS``) after loading and after running.

IPv4 addresses are uniform over the global unicast space.  IPv6 addresses are uniform
over the regional registries' blocks and kept only when the ASN snapshot knows them:
a uniform draw over 2000::/3 is announced 0.05 % of the time, and would measure an
empty branch of the tree.  Each timing is the best of ``--repeat`` passes.  The last
line printed is a JSON object.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import os
import random
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import maxminddb

from webleads.networks.identifier import Identifier
from webleads.networks.resolver import cached
from webleads.networks.sources import SHIPPED

TARGET_CACHED = 300_000  # lookups/s
TARGET_UNCACHED = 100_000  # lookups/s
TARGET_RSS_MB = 200.0
# Where the regional registries allocate IPv6 (2001::/16 holds many early /32s).
V6_BLOCKS = tuple(ipaddress.IPv6Network(n) for n in (
    "2001::/16", "2400::/12", "2600::/12", "2800::/12", "2a00::/12", "2c00::/12",
))
# First octets of the IPv4 special-purpose ranges (RFC 6890) and multicast; any other
# address is global.  Checked with ipaddress only for these.
SPECIAL_V4 = frozenset({0, 10, 100, 127, 169, 172, 192, 198, 203, *range(224, 256)})
MAX_V6_DRAWS = 10_000  # ~6 % of the draws are announced: this is a safety net


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pin_to_one_core() -> int | None:
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
    except (AttributeError, OSError):
        return None
    return core


def _public(text: str) -> bool:
    addr = ipaddress.ip_address(text)
    return addr.is_global and not addr.is_multicast


def draw_addresses(n: int, seed: int, v6_share: float, known: Callable[[str], Any]) -> list[str]:
    """``n`` distinct global addresses, ``v6_share`` of them IPv6 known to ``known``."""
    rng = random.Random(seed)
    n6 = round(n * v6_share)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n - n6:
        value = rng.getrandbits(32)
        text = socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))
        if text in seen or (value >> 24 in SPECIAL_V4 and not _public(text)):
            continue
        seen.add(text)
        out.append(text)
    blocks = [(int(b.network_address), 128 - b.prefixlen) for b in V6_BLOCKS]
    while len(out) < n:
        for _ in range(MAX_V6_DRAWS):
            base, bits = rng.choice(blocks)
            text = socket.inet_ntop(socket.AF_INET6,
                                    (base | rng.getrandbits(bits)).to_bytes(16, "big"))
            if known(text) and text not in seen and _public(text):
                break
        else:
            raise SystemExit(f"no announced IPv6 address in {MAX_V6_DRAWS} draws")
        seen.add(text)
        out.append(text)
    rng.shuffle(out)
    return out


def best_rate(lookup: Callable[[str], Any], ips: Sequence[str], repeat: int) -> float:
    """Lookups per second: the best of ``repeat`` timed passes over ``ips``."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for ip in ips:
            lookup(ip)
        best = min(best, time.perf_counter() - start)
    return len(ips) / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="addresses (default 100000)")
    parser.add_argument("--seed", type=int, default=20261122, help="random seed")
    parser.add_argument("--v6-share", type=float, default=0.3,
                        help="share of IPv6 addresses (default 0.3)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per mode")
    args = parser.parse_args()
    if args.n < 1 or args.repeat < 1 or not 0 <= args.v6_share <= 1:
        parser.error("--n and --repeat must be positive, --v6-share within 0..1")

    core = pin_to_one_core()
    rss_start = rss_mb()
    started = time.perf_counter()
    identifier = Identifier.default()
    bare = maxminddb.open_database(str(SHIPPED / "asn.mmdb"), maxminddb.MODE_AUTO)
    load_s = time.perf_counter() - started
    rss_loaded = rss_mb()

    drawn = time.perf_counter()
    ips = draw_addresses(args.n, args.seed, args.v6_share, bare.get)
    draw_s = time.perf_counter() - drawn
    v6 = sum(":" in ip for ip in ips)
    rss_drawn = rss_mb()

    # The first pass of each mode also warms the page cache; the best pass counts.
    bare_rate = best_rate(bare.get, ips, args.repeat)
    uncached_rate = best_rate(identifier.lookup, ips, args.repeat)
    rss_uncached = rss_mb()
    resolver = cached(identifier, size=max(len(ips), 65536))
    categories: Counter[str] = Counter()
    with_asn = 0
    for ip in ips:  # warm-up: fill the cache, and say what the addresses are
        network = resolver.lookup(ip)
        assert network is not None, ip
        categories[network.category] += 1
        with_asn += network.asn is not None
    cached_rate = best_rate(resolver.lookup, ips, args.repeat)
    info = getattr(resolver.lookup, "cache_info", None)
    rss_end = rss_mb()
    elapsed = time.perf_counter() - started

    met = {
        "cached": cached_rate >= TARGET_CACHED,
        "uncached": uncached_rate >= TARGET_UNCACHED,
        "rss": rss_end <= TARGET_RSS_MB,
    }
    yes = {True: "met", False: "NOT met"}
    print(f"lookup benchmark: {len(ips):,} addresses ({len(ips) - v6:,} IPv4, {v6:,} IPv6), "
          f"seed {args.seed}, core {core if core is not None else '?'}, "
          f"best of {args.repeat} passes, Python {sys.version.split()[0]}")
    print(f"  data loaded in {load_s * 1000:.0f} ms; {with_asn / len(ips):.1%} of the "
          f"addresses have an ASN; categories: "
          + ", ".join(f"{k} {v / len(ips):.1%}" for k, v in categories.most_common()))
    print(f"  uncached  Identifier.lookup       {uncached_rate:>12,.0f} lookups/s "
          f"({1e6 / uncached_rate:.2f} µs)   target ≥ {TARGET_UNCACHED:,}: "
          f"{yes[met['uncached']]}")
    print(f"  cached    resolver.cached(...)     {cached_rate:>12,.0f} lookups/s "
          f"({1e6 / cached_rate:.2f} µs)   target ≥ {TARGET_CACHED:,}: {yes[met['cached']]}"
          + (f"   [{info()}]" if callable(info) else ""))
    print(f"  bare      maxminddb get (asn.mmdb) {bare_rate:>12,.0f} lookups/s "
          f"({1e6 / bare_rate:.2f} µs)")
    print(f"  ratio     uncached / bare          {uncached_rate / bare_rate:12.3f}")
    print(f"  resident  {rss_end:.0f} MB after running   target ≤ {TARGET_RSS_MB:.0f} MB: "
          f"{yes[met['rss']]}")
    print(f"            {rss_start:.0f} MB at start, {rss_loaded:.0f} MB with the data open, "
          f"{rss_drawn:.0f} MB with the addresses drawn, {rss_uncached:.0f} MB after the "
          f"uncached passes; the cache of {len(ips):,} answers takes the rest")
    print(f"  total {elapsed:.1f} s (drawing the addresses {draw_s:.1f} s)")
    print(json.dumps({
        "n": len(ips), "n_ipv6": v6, "seed": args.seed,
        "lookups_per_s": round(uncached_rate), "cached_lookups_per_s": round(cached_rate),
        "bare_mmdb_per_s": round(bare_rate),
        "ratio_uncached_bare": round(uncached_rate / bare_rate, 3),
        "rss_mb": round(rss_end, 1), "rss_loaded_mb": round(rss_loaded, 1),
        "rss_uncached_mb": round(rss_uncached, 1),
        "load_ms": round(load_s * 1000), "with_asn": round(with_asn / len(ips), 4),
        "seconds": round(elapsed, 1),
        "targets_met": met,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
