"""Builders shared by the privacy tests: hits stored with ``store.store_hits``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import store
from webleads.db.engine import read_only
from webleads.model import Client, Hit, HitType, Network, Site

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", org_domain="acme.example",
               category="enterprise", confidence=0.9, country="FR")


def hit(site: Site, visitor: str, at: datetime, *, network: Network | None = ACME,
        kind: HitType = "pageview", url: str = "https://example.com/pricing",
        email: str | None = None, traits: dict[str, Any] | None = None,
        engaged: int = 0, referrer: str = "", title: str = "",
        props: dict[str, Any] | None = None) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.18.0.0", browser="Firefox", os="Linux",
                    device_type="desktop", country=network.country if network else None)
    return Hit(client=client, type=kind, ts=at, received_at=at, url=url, email=email,
               traits=traits, engaged_ms=engaged, source_class="direct",
               referrer=referrer, title=title, props=props,
               page_group="pricing" if "pricing" in url else None)


def visit(site: Site, visitor: str, at: datetime, *, email: str | None = None,
          pages: int = 3, network: Network | None = ACME) -> list[Hit]:
    """A visit of ``pages`` pageviews one minute apart, identified when ``email``."""
    batch = [hit(site, visitor, at + timedelta(minutes=i), network=network,
                 url=f"https://example.com/pricing/{i}") for i in range(pages)]
    if email:
        batch.append(hit(site, visitor, at + timedelta(minutes=pages), kind="identify",
                         email=email, traits={"name": "Jane"}, network=network))
    return batch


def store_batch(engine: Engine, batch: list[Hit]) -> None:
    with engine.begin() as conn:
        store.store_hits(conn, batch)


def quarantine_body(engine: Engine, payload: bytes, *, site_key: str | None) -> None:
    """Keep a rejected request body, as the collect endpoint does."""
    with engine.begin() as conn:
        store.add_quarantine(conn, [{
            "received_at": T0, "endpoint": "/api/event", "status": 400,
            "reason": "invalid_body", "field": None, "detail": "test", "site_key": site_key,
            "content_type": "application/json", "size": len(payload), "payload": payload}])


def count(engine: Engine, table: sa.Table, *where: Any) -> int:
    with read_only(engine) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)
                                .where(*where)).scalar_one())


def dump(engine: Engine) -> str:
    """Every row of every table, as text: what 'no table contains X' checks."""
    from webleads.db.schema import metadata

    parts = []
    with read_only(engine) as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                parts.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(parts)
