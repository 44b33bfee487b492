"""IP -> network, organisation, category, confidence and evidence, offline.

Sources and how they combine (docs/identification.md says the same for users):

1. a workspace's **overrides** (applied per workspace afterwards: overrides.py);
2. **registry** assignments, only when the user imported them (opt-in);
3. **published ranges** that say *bot* or *anonymizer* (a declared crawler, a Tor exit,
   a VPN or private relay exit): a fact about this very address, so it beats what the
   address's ASN would suggest;
4. the **curated ASN table** owned by the project;
5. **published ranges** that say *hosting* (cloud, CDN);
6. the **ASN snapshot** and the name and size **heuristics** (low confidence);
7. addresses outside the public Internet are ``reserved``.

Each source is an MMDB file read by maxminddb's C extension; the user's imports of
a layer come before the shipped snapshot of that layer.  ``lookup`` never touches
the network or the database.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import maxminddb
from msgspec.structs import replace

from webleads.model import Network, NetworkCategory
from webleads.networks import heuristics
from webleads.networks.names import display_name
from webleads.networks.sources import (
    CuratedAsn,
    Source,
    imported_sources,
    load_curated,
    shipped_sources,
)

ORGANISATION = frozenset({"enterprise", "education", "government"})
_CATEGORIES = frozenset({
    "enterprise", "education", "government", "isp", "mobile", "hosting", "anonymizer",
    "bot", "reserved", "unknown",
})


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    reader: Any  # maxminddb.Reader (C extension type)

    @classmethod
    def open(cls, name: str, path: str | Path) -> Layer:
        return cls(name, maxminddb.open_database(str(path), maxminddb.MODE_AUTO))


def _first(layers: Sequence[Layer], ip: str) -> tuple[str, dict[str, Any]] | None:
    for layer in layers:
        record = layer.reader.get(ip)
        if isinstance(record, dict):
            return layer.name, record
    return None


class Identifier:
    """The global resolver (no workspace knowledge): see the module docstring."""

    def __init__(
        self,
        *,
        registry: Sequence[Layer] = (),
        ranges: Sequence[Layer] = (),
        asn: Sequence[Layer] = (),
        country: Sequence[Layer] = (),
        curated: Mapping[int, CuratedAsn] | None = None,
    ) -> None:
        self.registry = tuple(registry)
        self.ranges = tuple(ranges)
        self.asn = tuple(asn)
        self.country = tuple(country)
        self.curated = dict(curated or {})

    @classmethod
    def from_sources(cls, sources: Sequence[Source], *, extra_asn: str = "",
                     extra_country: str = "") -> Identifier:
        layers: dict[str, list[Layer]] = {"registry": [], "ranges": [], "asn": [], "country": []}
        if extra_asn:
            layers["asn"].append(Layer.open("asn-file", extra_asn))
        if extra_country:
            layers["country"].append(Layer.open("country-file", extra_country))
        for source in sources:  # imports (newest first) before the shipped files
            layers[source.layer].append(Layer.open(source.key, source.path))
        return cls(**layers, curated=load_curated())

    @classmethod
    def default(cls, data_dir: str | Path = "", *, asn_database: str = "",
                country_database: str = "") -> Identifier:
        """Shipped snapshot + the imports found in ``data_dir`` + explicit MMDB files."""
        sources = (imported_sources(data_dir) if data_dir else []) + shipped_sources()
        return cls.from_sources(sources, extra_asn=asn_database,
                                extra_country=country_database)

    def lookup(self, ip: str) -> Network | None:
        try:  # strict syntax: the MMDB reader would take "1.2.3" for 1.2.0.3
            if ":" in ip:
                packed = socket.inet_pton(socket.AF_INET6, ip)
                if packed[:12] == _MAPPED:  # ::ffff:a.b.c.d is the IPv4 address
                    ip = socket.inet_ntop(socket.AF_INET, packed[12:])
            else:
                socket.inet_pton(socket.AF_INET, ip)
            return self._lookup(ip)
        except (OSError, ValueError):  # not an address
            return None

    def _lookup(self, ip: str) -> Network:
        if _maybe_special(ip) and _special(ipaddress.ip_address(ip)):
            # Before any data file: some published lists wrongly cover special ranges.
            return RESERVED
        country_hit = _first(self.country, ip)
        country = country_hit[1].get("country") if country_hit else None
        asn_hit = _first(self.asn, ip)
        asn: int | None = None
        as_org: str | None = None
        blocks = 0
        evidence: list[str] = []
        if asn_hit:
            source, record = asn_hit
            asn = _asn(record)
            as_org = _as_org(record)
            blocks = int(record.get("blocks") or 0)
            if asn is not None:
                evidence.append(f"{source}: AS{asn} {as_org or ''}".rstrip())
        base = Network(asn=asn, as_org=as_org, country=str(country) if country else None)

        registry_hit = _first(self.registry, ip)
        if registry_hit:
            source, record = registry_hit
            name = str(record.get("org") or "")
            category, confidence, reason = heuristics.classify(name, 1)
            if category not in ORGANISATION | {"isp", "mobile", "hosting"}:
                category, confidence = "enterprise", 0.7
            evidence.insert(0, f"{source}: assigned to {name!r} ({reason})")
            return replace(
                base, org_name=display_name(name) if category in ORGANISATION else None,
                category=category, confidence=max(confidence, 0.7),
                country=str(record.get("country") or "") or base.country,
                evidence=tuple(evidence))

        ranges_hit = _first(self.ranges, ip)
        kind: NetworkCategory | None = None
        if ranges_hit:
            source, record = ranges_hit
            kind = _category(str(record.get("kind") or "hosting"))
            evidence.insert(0, f"{source}: {record.get('provider')} ({kind})")
            if kind in ("bot", "anonymizer"):
                return replace(base, category=kind, confidence=0.95, evidence=tuple(evidence))

        curated = self.curated.get(asn) if asn is not None else None
        if curated is not None:
            evidence.append(f"curated: AS{curated.asn} {curated.brand} ({curated.category})")
            if curated.category in ORGANISATION:
                return replace(base, org_name=curated.brand, org_domain=curated.domain,
                               category=curated.category, confidence=0.95,
                               evidence=tuple(evidence))
            return replace(base, category=curated.category, confidence=0.9,
                           evidence=tuple(evidence))

        if kind is not None:
            return replace(base, category=kind, confidence=0.95, evidence=tuple(evidence))

        if as_org:
            category, confidence, reason = heuristics.classify(as_org, blocks)
            evidence.append(f"heuristic: {reason} ({category})")
            return replace(base, org_name=display_name(as_org) if category in ORGANISATION
                           else None, category=category, confidence=confidence,
                           evidence=tuple(evidence))
        return replace(base, evidence=tuple(evidence) or ("no source knows this address",))


RESERVED = Network(category="reserved", confidence=1.0,
                   evidence=("reserved: private, local, documentation or reserved range",))
# IPv4 first octets under which RFC 6890 special-purpose ranges exist; any other IPv4
# address is global, and so is IPv6 in 2000::/3 outside 2001::/16 and 2002::/16.
_SPECIAL_V4 = frozenset({"0", "10", "100", "127", "169", "172", "192", "198", "203"} |
                        {str(n) for n in range(224, 256)})


_MAPPED = b"\0" * 10 + b"\xff\xff"
# Not global, but not in every Python version's list: 6to4 relays, the IPv6 documentation
# prefix of RFC 9637, and the IETF protocol assignments.
_ALSO_SPECIAL = tuple(ipaddress.ip_network(n) for n in ("2002::/16", "3fff::/20", "2001::/23"))


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (not address.is_global or address.is_multicast
            or any(address in net for net in _ALSO_SPECIAL if net.version == address.version))


def _maybe_special(ip: str) -> bool:
    if ":" in ip:
        return ip[:1] not in "23" or ip.startswith(("2001:", "2002:", "3fff:"))
    return ip.partition(".")[0] in _SPECIAL_V4


def _asn(record: Mapping[str, Any]) -> int | None:
    value = record.get("asn", record.get("autonomous_system_number"))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.upper().removeprefix("AS").isdigit():
        return int(value.upper().removeprefix("AS"))
    return None


def _as_org(record: Mapping[str, Any]) -> str | None:
    value = record.get("org", record.get("autonomous_system_organization",
                                         record.get("as_name")))
    return str(value) if value else None


def _category(value: str) -> NetworkCategory:
    """A published range's kind; anything unexpected is taken as hosting."""
    return value if value in _CATEGORIES else "hosting"  # type: ignore[return-value]
