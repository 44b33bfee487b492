"""The resolver interface behind the pipeline's network step, and simple resolvers.

A resolver answers ``lookup(ip) -> Network | None``.  The identification work
(curated ASN table, published ranges, overrides, heuristics) plugs in here; the
collect path works with any resolver, including ``NullResolver``.
"""

from __future__ import annotations

import csv
import ipaddress
import socket
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import maxminddb

from webleads.model import Network, NetworkCategory

CATEGORIES: frozenset[str] = frozenset({
    "enterprise", "education", "government", "isp", "mobile", "hosting", "anonymizer",
    "bot", "reserved", "unknown",
})


class NetworkResolver(Protocol):
    def lookup(self, ip: str) -> Network | None: ...


class NullResolver:
    """No data configured: every address is unknown."""

    def lookup(self, ip: str) -> Network | None:
        return None


class MmdbAsnResolver:
    """An MMDB file in the GeoLite2-ASN layout, read by maxminddb's C extension.

    An ASN alone does not say what kind of network it is, so the category stays
    ``unknown`` with no organisation: naming the organisation is the identification
    layer's work.
    """

    def __init__(self, path: str | Path) -> None:
        self._reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)

    def lookup(self, ip: str) -> Network | None:
        try:
            record = self._reader.get(ip)
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
        asn = record.get("autonomous_system_number")
        org = record.get("autonomous_system_organization")
        return Network(
            asn=int(asn) if isinstance(asn, int) else None,
            as_org=str(org) if org else None,
            evidence=("asn-mmdb",),
        )


class RangesResolver:
    """Networks given as CIDR ranges in a CSV file; the narrowest range wins.

    Columns: cidr, asn, as_org, org_name, org_domain, category, country.
    """

    def __init__(self, ranges: Sequence[tuple[str, Network]]) -> None:
        # {(version, prefixlen): {network address as int: Network}}; a lookup masks the
        # address with each prefix length present, longest first.
        table: dict[tuple[int, int], dict[int, Network]] = {}
        for cidr, network in ranges:
            net = ipaddress.ip_network(cidr, strict=False)
            table.setdefault((net.version, net.prefixlen), {})[int(net.network_address)] = network
        self._table = table
        self._prefixes = {
            version: sorted((p for v, p in table if v == version), reverse=True)
            for version in (4, 6)
        }

    @classmethod
    def from_csv(cls, path: str | Path) -> RangesResolver:
        ranges = []
        with open(path, newline="", encoding="utf-8") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    ranges.append((row["cidr"], _network_from_row(row)))
                except (KeyError, ValueError) as exc:
                    raise ValueError(f"{path}:{line}: {exc}") from exc
        return cls(ranges)

    def lookup(self, ip: str) -> Network | None:
        parsed = ip_value(ip)
        if parsed is None:
            return None
        version, value = parsed
        bits = 32 if version == 4 else 128
        for prefix in self._prefixes[version]:
            mask = ((1 << prefix) - 1) << (bits - prefix)
            found = self._table[(version, prefix)].get(value & mask)
            if found is not None:
                return found
        return None


def ip_value(ip: str) -> tuple[int, int] | None:
    """(version, integer value) of an address, as ``ipaddress.ip_address`` reads it.

    The C ``inet_pton`` first: a tenth of ``ipaddress``'s cost, paid by every address
    the cache has not seen yet; ``ipaddress`` for the forms only it reads (scope ids).
    """
    family, version = (socket.AF_INET6, 6) if ":" in ip else (socket.AF_INET, 4)
    try:
        return version, int.from_bytes(socket.inet_pton(family, ip), "big")
    except (OSError, ValueError):
        pass
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return addr.version, int(addr)


def _network_from_row(row: dict[str, str]) -> Network:
    category = (row.get("category") or "unknown").strip()
    if category not in CATEGORIES:
        raise ValueError(f"category: {category!r} is not one of {sorted(CATEGORIES)}")
    asn = (row.get("asn") or "").strip()
    conf = (row.get("confidence") or "").strip()
    return Network(
        asn=int(asn) if asn else None,
        as_org=(row.get("as_org") or "").strip() or None,
        org_name=(row.get("org_name") or "").strip() or None,
        org_domain=(row.get("org_domain") or "").strip() or None,
        category=_category(category),
        confidence=float(conf) if conf else 0.9,
        country=(row.get("country") or "").strip().upper() or None,
        evidence=("ranges",),
    )


def _category(value: str) -> NetworkCategory:
    assert value in CATEGORIES
    return value  # type: ignore[return-value]


class ChainResolver:
    """Ask each resolver in turn; the first answer wins (precedence order)."""

    def __init__(self, resolvers: Sequence[NetworkResolver]) -> None:
        self._resolvers = tuple(resolvers)

    def lookup(self, ip: str) -> Network | None:
        for resolver in self._resolvers:
            found = resolver.lookup(ip)
            if found is not None:
                return found
        return None


def cached(resolver: NetworkResolver, size: int = 65536) -> NetworkResolver:
    """Put an LRU cache in front of a resolver (addresses repeat within visits)."""

    class _Cached:
        lookup = staticmethod(lru_cache(maxsize=size)(resolver.lookup))

    return _Cached()
