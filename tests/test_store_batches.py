"""``store.store_hits`` across batches: the per-batch statements (visitors pre-insert and
upsert, account upsert, updates of resumed sessions, bulk inserts) give the same rows on
both engines, with NULLs where values are absent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import store
from webleads.db.schema import accounts, contacts, hits, sessions, visitors
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.sites import NewSite

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", org_domain="acme.example",
               category="enterprise", confidence=0.9, country="FR")
ISP = Network(asn=65000, as_org="ISP", category="isp", confidence=0.5, country="DE")


def hit(site: Site, visitor: str, minutes: float, *, network: Network | None = None,
        kind: HitType = "pageview", engaged: int = 0, utm: str | None = None) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.18.0.0", browser="Firefox", os="Linux",
                    device_type="desktop", country=network.country if network else None)
    ts = T0 + timedelta(minutes=minutes)
    return Hit(client=client, type=kind, ts=ts, received_at=ts, url=f"https://a.example/{minutes}",
               engaged_ms=engaged, utm_source=utm, utm_campaign="c" if utm else None,
               source_class="paid" if utm else "direct", source_name=utm)


def store_batch(engine: Engine, batch: list[Hit]) -> None:
    with engine.begin() as conn:
        store.store_hits(conn, batch)


def table(engine: Engine, t: sa.Table, *columns: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(*[t.c[c] for c in columns]))]
    return sorted(rows, key=repr)


def test_batches_resume_sessions_and_add_up_accounts(engine: Engine, site: NewSite) -> None:
    s = site.site
    store_batch(engine, [
        hit(s, "v-acme-1", 0, network=ACME),
        hit(s, "v-acme-1", 1, network=ACME, kind="engagement", engaged=1500),
        hit(s, "v-isp-1", 0, network=ISP),
        hit(s, "v-none-1", 2),
    ])
    # Returning within 30 minutes: the sessions are resumed and updated in place; a
    # campaign opens a new one; a new visitor of an existing account joins it.
    store_batch(engine, [
        hit(s, "v-acme-1", 10, network=ACME, kind="engagement", engaged=500),
        hit(s, "v-isp-1", 5, network=ISP),
        hit(s, "v-isp-1", 6, network=ISP, utm="linkedin"),
        hit(s, "v-acme-2", 7, network=ACME),
        hit(s, "v-none-1", 3),
    ])
    assert table(engine, sessions, "visitor_key", "hits", "pageviews", "engaged_ms",
                 "utm_source") == [
        ("v-acme-1", 3, 1, 2000, None),
        ("v-acme-2", 1, 1, 0, None),
        ("v-isp-1", 1, 1, 0, "linkedin"),
        ("v-isp-1", 2, 2, 0, None),
        ("v-none-1", 2, 2, 0, None),
    ]
    with engine.connect() as conn:
        last_seen: dict[str, datetime] = {}
        for key, seen in conn.execute(sa.select(sessions.c.visitor_key, sessions.c.last_seen)):
            last_seen[key] = max(last_seen.get(key, seen), seen)
        account_of = {key: org for key, org in conn.execute(
            sa.select(sessions.c.visitor_key, accounts.c.org_key)
            .select_from(sessions.outerjoin(accounts, accounts.c.id == sessions.c.account_id)))}
    assert last_seen["v-acme-1"] == T0 + timedelta(minutes=10)
    assert last_seen["v-none-1"] == T0 + timedelta(minutes=3)
    assert account_of == {"v-acme-1": "acme", "v-acme-2": "acme",
                          "v-isp-1": None, "v-none-1": None}
    assert table(engine, accounts, "org_key", "name", "asn", "visits", "pageviews",
                 "engaged_ms") == [("acme", "Acme SA", 64512, 2, 2, 2000)]
    assert table(engine, visitors, "key", "session_campaign", "contact_id") == [
        ("v-acme-1", None, None), ("v-acme-2", None, None), ("v-isp-1", "linkedin//c", None),
        ("v-none-1", None, None)]
    assert table(engine, hits, "visitor_key", "engaged_ms", "asn", "network_confidence",
                 "utm_source", "props") == sorted([
        ("v-acme-1", 0, 64512, 0.9, None, None), ("v-acme-1", 1500, 64512, 0.9, None, None),
        ("v-acme-1", 500, 64512, 0.9, None, None), ("v-acme-2", 0, 64512, 0.9, None, None),
        ("v-isp-1", 0, 65000, 0.5, None, None), ("v-isp-1", 0, 65000, 0.5, None, None),
        ("v-isp-1", 0, 65000, 0.5, "linkedin", None), ("v-none-1", 0, None, None, None, None),
        ("v-none-1", 0, None, None, None, None)], key=repr)


def identify(site: Site, visitor: str, minutes: float, email: str,
             network: Network = ISP) -> Hit:
    base = hit(site, visitor, minutes, network=network, kind="identify")
    return Hit(client=base.client, type="identify", ts=base.ts, received_at=base.ts,
               url=base.url, email=email)


def test_work_email_joins_the_account_of_its_domain(engine: Engine, site: NewSite) -> None:
    s = site.site
    store_batch(engine, [hit(s, "v-office", 0, network=ACME)])
    # Later, from home (an ISP), a colleague gives a work address: same organisation.
    store_batch(engine, [hit(s, "v-home", 60), identify(s, "v-home", 61, "jo@acme.example"),
                         identify(s, "v-home2", 62, "al@gmail.com")])
    rows = table(engine, accounts, "org_key", "name", "domain", "visits", "confidence",
                 "evidence")
    # One account: the network's name and its surer evidence stay; both visits count.
    assert rows == [("acme", "Acme SA", "acme.example", 2, 0.9, [])]
    with engine.connect() as conn:
        linked = conn.execute(sa.select(contacts.c.email, contacts.c.account_id)
                              .order_by(contacts.c.email)).all()
        [acme_id] = conn.execute(sa.select(accounts.c.id)).scalars().all()
    assert [tuple(r) for r in linked] == [("al@gmail.com", None), ("jo@acme.example", acme_id)]


def test_account_first_named_by_an_email_takes_its_network_name(engine: Engine,
                                                                site: NewSite) -> None:
    s = site.site
    store_batch(engine, [identify(s, "v-home", 0, "jo@acme.example")])
    assert table(engine, accounts, "name", "domain") == [("acme.example", "acme.example")]
    store_batch(engine, [hit(s, "v-office", 60, network=ACME)])
    assert table(engine, accounts, "name", "domain", "visits") == [
        ("Acme SA", "acme.example", 2)]
