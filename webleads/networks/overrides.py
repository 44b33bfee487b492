"""A workspace's overrides: its own CIDRs and ASNs, first in precedence.

Roles:

- ``office``: the company's own offices; their traffic is dropped (``ignored_network``);
- ``isp``: "this network is an ISP": its visitors stay anonymous;
- ``customer``, ``partner``, ``competitor``, ``organisation``: the network belongs to
  the named organisation (``organisation`` is the neutral "wrong company" fix; without
  a name it keeps the identified name, or the AS name, and takes the given category,
  e.g. "this network is a university").

A CIDR override beats an ASN override; among CIDRs the narrowest wins.  Corrections
made from the product land here and are applied to stored hits by
``webleads networks reidentify`` (db/reidentify.py).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from webleads.model import Network, NetworkCategory
from webleads.networks.names import display_name

ROLES = ("customer", "office", "partner", "competitor", "isp", "organisation")
ORGANISATION_CATEGORIES = ("enterprise", "education", "government")
OVERRIDE_CATEGORIES = ORGANISATION_CATEGORIES + ("isp", "mobile", "hosting", "anonymizer", "bot")


@dataclass(frozen=True, slots=True)
class Override:
    workspace_id: int
    role: str
    cidr: str | None = None
    asn: int | None = None
    organisation: str | None = None
    domain: str | None = None
    category: str | None = None
    note: str = ""
    id: int = 0

    def __post_init__(self) -> None:
        problems = []
        if (self.cidr is None) == (self.asn is None):
            problems.append("give exactly one of a CIDR or an ASN")
        if self.cidr is not None:
            try:
                net = ipaddress.ip_network(self.cidr, strict=False)
            except ValueError:
                problems.append(f"cidr: {self.cidr!r} is not a network")
            else:
                object.__setattr__(self, "cidr", str(net))
        if self.asn is not None and not 0 < self.asn < 2**32:
            problems.append(f"asn: {self.asn} is out of range")
        if self.role not in ROLES:
            problems.append(f"role: {self.role!r} is not one of {', '.join(ROLES)}")
        if self.category is not None and self.category not in OVERRIDE_CATEGORIES:
            problems.append(f"category: {self.category!r} is not one of "
                            f"{', '.join(OVERRIDE_CATEGORIES)}")
        if self.role in ("customer", "partner", "competitor") and not (
                self.organisation or self.domain):
            problems.append(f"role {self.role} needs an organisation name or a domain")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def target(self) -> str:
        return self.cidr if self.cidr is not None else f"AS{self.asn}"

    def apply(self, network: Network | None) -> Network | None:
        """The network as this override says it is; None for ``office`` (not a visitor)."""
        base = network or Network()
        evidence = (f"override: {self.target} {self.role}"
                    + (f" {self.organisation or self.domain}" if self.organisation
                       or self.domain else ""),) + base.evidence
        if self.role == "office":
            return None
        if self.role == "isp":
            return Network(asn=base.asn, as_org=base.as_org, category="isp", confidence=1.0,
                           country=base.country, evidence=evidence, role="isp")
        category: NetworkCategory = (
            self.category if self.category else  # type: ignore[assignment]
            base.category if base.category in ORGANISATION_CATEGORIES else "enterprise")
        organisation = (self.organisation or self.domain or base.org_name
                        or (display_name(base.as_org) if base.as_org else None)
                        or (f"AS{base.asn}" if base.asn else self.target))
        return Network(asn=base.asn, as_org=base.as_org, org_name=organisation,
                       org_domain=self.domain or (base.org_domain if not self.organisation
                                                  else None),
                       category=category, confidence=1.0, country=base.country,
                       evidence=evidence, role=self.role)


def _address(ip: str) -> tuple[int, int] | None:
    try:
        if ":" in ip:
            packed = socket.inet_pton(socket.AF_INET6, ip)
            if packed[:12] == b"\0" * 10 + b"\xff\xff":  # IPv4-mapped
                return int.from_bytes(packed[12:], "big"), 4
            return int.from_bytes(packed, "big"), 6
        return int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big"), 4
    except OSError:
        return None


class OverrideSet:
    """One workspace's overrides, matched without the ipaddress module on the hot path."""

    def __init__(self, overrides: Iterable[Override]) -> None:
        self._by_prefix: dict[tuple[int, int], dict[int, Override]] = {}
        self._by_asn: dict[int, Override] = {}
        for o in overrides:
            if o.asn is not None:
                self._by_asn[o.asn] = o
                continue
            assert o.cidr is not None
            net = ipaddress.ip_network(o.cidr)
            self._by_prefix.setdefault((net.version, net.prefixlen), {})[
                int(net.network_address)] = o
        self._prefixes = {
            v: sorted((p for version, p in self._by_prefix if version == v), reverse=True)
            for v in (4, 6)
        }

    def __bool__(self) -> bool:
        return bool(self._by_prefix or self._by_asn)

    def match(self, ip: str | None, asn: int | None) -> Override | None:
        if ip is not None and self._by_prefix:
            found = _address(ip)
            if found is not None:
                value, version = found
                bits = 32 if version == 4 else 128
                for prefix in self._prefixes[version]:
                    mask = ((1 << prefix) - 1) << (bits - prefix)
                    hit = self._by_prefix[(version, prefix)].get(value & mask)
                    if hit is not None:
                        return hit
        if asn is not None:
            return self._by_asn.get(asn)
        return None


class OverrideBook:
    """Every workspace's overrides in memory, reloaded when they change (checked every
    ``ttl`` seconds with one cheap query), so a correction reaches collect quickly."""

    def __init__(self, engine: Engine | None, *, ttl: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._ttl = ttl
        self._clock = clock
        self._sets: dict[int, OverrideSet] = {}
        self._signature: tuple[int, int] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    @classmethod
    def of(cls, overrides: Sequence[Override]) -> OverrideBook:
        """A fixed book (tests, tools)."""
        book = cls(None)
        book._install(overrides)
        return book

    def _install(self, overrides: Sequence[Override]) -> None:
        by_workspace: dict[int, list[Override]] = {}
        for o in overrides:
            by_workspace.setdefault(o.workspace_id, []).append(o)
        self._sets = {ws: OverrideSet(items) for ws, items in by_workspace.items()}

    def refresh(self, force: bool = False) -> None:
        if self._engine is None:
            return
        from webleads.db import overrides as q
        from webleads.db.engine import read_only

        with read_only(self._engine) as conn, conn.begin():
            sig = q.signature(conn)
            if force or sig != self._signature:
                self._install(q.load_overrides(conn))
                self._signature = sig
        self._checked = self._clock()

    def for_workspace(self, workspace_id: int) -> OverrideSet | None:
        if self._engine is not None and self._clock() - self._checked > self._ttl:
            with self._lock:
                if self._clock() - self._checked > self._ttl:
                    self.refresh()
        return self._sets.get(workspace_id)
