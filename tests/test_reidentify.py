"""``db.reidentify``: stored hits, sessions and accounts corrected after the workspace's
overrides change, as if the hits had been collected with them; on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import store
from webleads.db.reidentify import ReidentifyReport, hits_to_check, reidentify
from webleads.db.schema import accounts, contacts, hits, sessions
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.networks.overrides import Override, OverrideBook
from webleads.networks.resolver import RangesResolver
from webleads.sites import NewSite, create_site

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CIDR = "198.51.100.0/24"
TRANSIT = Network(asn=64500, as_org="EXAMPLE-TRANSIT", category="unknown", confidence=0.3,
                  country="FR", evidence=("ranges",))
HOME = Network(asn=65000, as_org="HOME-ISP", category="isp", confidence=0.6, country="DE")
# Knows the override's network only: 192.0.2.0 (HOME) is unknown to it.
RESOLVER = RangesResolver([(CIDR, TRANSIT)])
NOTHING = OverrideBook.of([])


def hit(site: Site, visitor: str, minutes: float, *, network: Network | None,
        ip_anon: str = "198.51.100.0", kind: HitType = "pageview", engaged: int = 0,
        email: str | None = None) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon=ip_anon, browser="Firefox", os="Linux",
                    device_type="desktop", country=network.country if network else None)
    ts = T0 + timedelta(minutes=minutes)
    return Hit(client=client, type=kind, ts=ts, received_at=ts, url=f"https://a.example/{minutes}",
               engaged_ms=engaged, email=email)


def visits(site: Site, network: Network | None) -> list[Hit]:
    """Two visitors from ``network``: three sessions, four pageviews, 1.5 s engaged."""
    return [
        hit(site, "v1", 0, network=network),
        hit(site, "v1", 1, network=network, kind="engagement", engaged=1500),
        hit(site, "v1", 2, network=network),
        hit(site, "v1", 60, network=network),  # a second session
        hit(site, "v2", 5, network=network),
    ]


def store_batch(engine: Engine, batch: list[Hit]) -> None:
    with engine.begin() as conn:
        store.store_hits(conn, batch)


def rows(engine: Engine, t: sa.Table, *columns: str, **where: Any) -> list[tuple[Any, ...]]:
    stmt = sa.select(*[t.c[c] for c in columns])
    for name, value in where.items():
        stmt = stmt.where(t.c[name] == value)
    with engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(stmt)), key=repr)


def snapshot(engine: Engine) -> list[list[tuple[Any, ...]]]:
    return [rows(engine, hits, "id", "account_id", "asn", "as_org", "org_name",
                 "network_category", "network_confidence"),
            rows(engine, sessions, "id", "account_id", "network_category"),
            rows(engine, accounts, *[c.name for c in accounts.columns])]


def account_ids(engine: Engine, workspace_id: int) -> dict[str, int]:
    return {k: i for k, i in rows(engine, accounts, "org_key", "id", workspace_id=workspace_id)}


def unchanged(report: ReidentifyReport, seen: int, excluded: int = 0) -> ReidentifyReport:
    return ReidentifyReport(hits_seen=seen, hits_changed=0, sessions_changed=0,
                            accounts_created=0, accounts_emptied=0, accounts_recounted=0,
                            hits_excluded=excluded)


ACCOUNT_COLUMNS = ("org_key", "name", "domain", "asn", "category", "country", "confidence",
                   "evidence", "role", "in_target", "visits", "pageviews", "engaged_ms",
                   "first_seen", "last_seen")


def test_customer_override_gives_the_accounts_of_a_collect_with_it(
        engine: Engine, site: NewSite) -> None:
    s = site.site
    ws = s.workspace_id
    store_batch(engine, [*visits(s, TRANSIT),
                         hit(s, "v3", 3, network=HOME, ip_anon="192.0.2.0")])
    # The reference: the same hits collected with the override in place, in another
    # workspace (whose own override would turn them into ISP traffic, if it were touched).
    ref = create_site(engine, "Reference", "ref.example", workspace="reference").site
    acme = Override(workspace_id=ws, role="customer", cidr=CIDR, organisation="ACME",
                    domain="acme.example")
    store_batch(engine, visits(ref, acme.apply(TRANSIT)))
    book = OverrideBook.of([acme, Override(workspace_id=ref.workspace_id, role="isp",
                                           cidr=CIDR)])
    assert rows(engine, accounts, "org_key", workspace_id=ws) == []
    reference_before = rows(engine, hits, "id", "account_id", "network_category",
                            site_id=ref.id)

    pages: list[int] = []
    with engine.connect() as conn:
        assert hits_to_check(conn, workspace_id=ws) == 6
    report = reidentify(engine, RESOLVER, book, workspace_id=ws, progress=pages.append,
                        batch_size=2)  # sessions span pages

    assert report == ReidentifyReport(hits_seen=6, hits_changed=5, sessions_changed=3,
                                      accounts_created=1, accounts_emptied=0,
                                      accounts_recounted=1, hits_excluded=0)
    assert pages == [2, 2, 2]
    assert rows(engine, accounts, *ACCOUNT_COLUMNS, workspace_id=ws) == rows(
        engine, accounts, *ACCOUNT_COLUMNS, workspace_id=ref.workspace_id)
    assert rows(engine, accounts, "org_key", "role", "visits", "pageviews", "engaged_ms",
                "first_seen", "last_seen", workspace_id=ws) == [
        ("acme", "customer", 3, 4, 1500, T0, T0 + timedelta(minutes=60))]
    acme_id = account_ids(engine, ws)["acme"]
    assert rows(engine, hits, "visitor_key", "account_id", "asn", "org_name",
                "network_category", "network_confidence", site_id=s.id) == sorted(
        [(v, acme_id, 64500, "ACME", "enterprise", 1.0) for v in ("v1",) * 4 + ("v2",)]
        + [("v3", None, 65000, None, "isp", 0.6)],  # unknown to the resolver: as stored
        key=repr)
    assert rows(engine, sessions, "visitor_key", "account_id", "network_category",
                site_id=s.id) == sorted([("v1", acme_id, "enterprise")] * 2 + [
        ("v2", acme_id, "enterprise"), ("v3", None, "isp")], key=repr)
    # The other workspace was not touched.
    assert rows(engine, hits, "id", "account_id", "network_category",
                site_id=ref.id) == reference_before

    # Idempotent: a second run, in one page, changes nothing.
    before = snapshot(engine)
    assert reidentify(engine, RESOLVER, book, workspace_id=ws) == unchanged(report, 6)
    assert snapshot(engine) == before


def test_isp_and_office_overrides_empty_the_account(engine: Engine, site: NewSite) -> None:
    s = site.site
    ws = s.workspace_id
    store_batch(engine, visits(s, TRANSIT))
    customer = OverrideBook.of([Override(workspace_id=ws, role="customer", cidr=CIDR,
                                         organisation="ACME")])
    reidentify(engine, RESOLVER, customer)
    acme_id = account_ids(engine, ws)["acme"]
    counters = ("visits", "pageviews", "engaged_ms", "first_seen", "last_seen")
    filled = [(3, 4, 1500, T0, T0 + timedelta(minutes=60))]
    assert rows(engine, accounts, *counters) == filled

    isp = OverrideBook.of([Override(workspace_id=ws, role="isp", cidr=CIDR)])
    report = reidentify(engine, RESOLVER, isp)
    assert report == ReidentifyReport(hits_seen=5, hits_changed=5, sessions_changed=3,
                                      accounts_created=0, accounts_emptied=1,
                                      accounts_recounted=1, hits_excluded=0)
    assert set(rows(engine, hits, "account_id", "org_name", "network_category",
                    "network_confidence")) == {(None, None, "isp", 1.0)}
    assert set(rows(engine, sessions, "account_id", "network_category")) == {(None, "isp")}
    # Emptied, not deleted; first and last seen and the identification stay.
    assert rows(engine, accounts, "id", *counters) == [
        (acme_id, 0, 0, 0, T0, T0 + timedelta(minutes=60))]
    assert rows(engine, accounts, "name", "role", "confidence", "evidence") == [
        ("ACME", "customer", 1.0, ["override: 198.51.100.0/24 customer ACME", "ranges"])]
    assert reidentify(engine, RESOLVER, isp) == unchanged(report, 5)

    # Back to the customer: the same account fills again.
    assert reidentify(engine, RESOLVER, customer).accounts_created == 0
    assert rows(engine, accounts, *counters) == filled
    assert set(rows(engine, hits, "account_id")) == {(acme_id,)}

    # An office: the hits should not have been stored; they stay, with their network,
    # and leave the account.
    office = OverrideBook.of([Override(workspace_id=ws, role="office", cidr=CIDR)])
    report = reidentify(engine, RESOLVER, office)
    assert report == ReidentifyReport(hits_seen=5, hits_changed=5, sessions_changed=3,
                                      accounts_created=0, accounts_emptied=1,
                                      accounts_recounted=1, hits_excluded=5)
    assert set(rows(engine, hits, "account_id", "org_name", "network_category")) == {
        (None, "ACME", "enterprise")}
    assert set(rows(engine, sessions, "account_id")) == {(None,)}
    assert rows(engine, accounts, "visits", "pageviews", "engaged_ms") == [(0, 0, 0)]
    assert reidentify(engine, RESOLVER, office) == unchanged(report, 5, excluded=5)

    # No override any more: what the resolver says of the address.
    reidentify(engine, RESOLVER, NOTHING)
    assert set(rows(engine, hits, "account_id", "asn", "org_name", "network_category",
                    "network_confidence")) == {(None, 64500, None, "unknown", 0.3)}


def test_hash_mode_hits_take_asn_overrides_only(engine: Engine) -> None:
    s = create_site(engine, "Hashed", "hashed.example", ip_mode="hash").site
    ws = s.workspace_id
    keep = Network(asn=64502, as_org="KEEP-AS", org_name="Keep Corp", category="enterprise",
                   confidence=0.8, country="FR")
    store_batch(engine, [
        hit(s, "v1", 0, network=TRANSIT, ip_anon="0123456789abcdef"),
        hit(s, "v1", 1, network=TRANSIT, ip_anon="0123456789abcdef"),
        hit(s, "v2", 0, network=keep, ip_anon="fedcba9876543210"),
        hit(s, "v3", 0, network=None, ip_anon="00000000deadbeef"),
    ])
    keep_id = account_ids(engine, ws)["keep"]
    # Would the resolver be asked (it is not: a hash is no address), it would name Globex.
    everything = RangesResolver([("0.0.0.0/0", Network(
        asn=64999, org_name="Globex", category="enterprise", confidence=0.9))])
    book = OverrideBook.of([
        Override(workspace_id=ws, role="partner", asn=64500, organisation="Initech"),
        # The hits' addresses are inside, but a hash cannot say so: no effect.
        Override(workspace_id=ws, role="customer", cidr="0.0.0.0/0", organisation="Acme"),
    ])
    report = reidentify(engine, everything, book, workspace_id=ws)
    assert report == ReidentifyReport(hits_seen=4, hits_changed=2, sessions_changed=1,
                                      accounts_created=1, accounts_emptied=0,
                                      accounts_recounted=1, hits_excluded=0)
    initech_id = account_ids(engine, ws)["initech"]
    assert rows(engine, hits, "visitor_key", "account_id", "asn", "org_name",
                "network_category", "network_confidence") == [
        ("v1", initech_id, 64500, "Initech", "enterprise", 1.0),
        ("v1", initech_id, 64500, "Initech", "enterprise", 1.0),
        ("v2", keep_id, 64502, "Keep Corp", "enterprise", 0.8),
        ("v3", None, None, None, None, None),
    ]
    assert rows(engine, accounts, "org_key", "role", "visits", "pageviews") == [
        ("initech", "partner", 1, 2), ("keep", None, 1, 1)]
    before = snapshot(engine)
    assert reidentify(engine, everything, book) == unchanged(report, 4)
    assert snapshot(engine) == before


def test_email_account_beats_the_override(engine: Engine, site: NewSite) -> None:
    s = site.site
    ws = s.workspace_id
    # Jane's session opens without an account; a later batch identifies her.
    store_batch(engine, [hit(s, "v1", 0, network=TRANSIT), hit(s, "v2", 0, network=TRANSIT)])
    store_batch(engine, [
        hit(s, "v1", 1, network=TRANSIT, kind="identify", email="jane@globex.example")])
    globex_id = account_ids(engine, ws)["globex example"]
    assert rows(engine, contacts, "email", "account_id") == [("jane@globex.example", globex_id)]
    book = OverrideBook.of([Override(workspace_id=ws, role="customer", cidr=CIDR,
                                     organisation="ACME")])
    report = reidentify(engine, RESOLVER, book)
    # Both sessions move to an enterprise network; only Jane's keeps its account.
    assert (report.hits_changed, report.sessions_changed, report.accounts_created) == (3, 2, 1)
    acme_id = account_ids(engine, ws)["acme"]
    # Jane's session keeps the account of her e-mail, and so does the hit that carried it;
    # the hit from before she was identified is ACME's.  Networks are corrected all the same.
    assert rows(engine, hits, "visitor_key", "type", "account_id", "org_name") == [
        ("v1", "identify", globex_id, "ACME"), ("v1", "pageview", acme_id, "ACME"),
        ("v2", "pageview", acme_id, "ACME")]
    assert rows(engine, sessions, "visitor_key", "account_id") == [
        ("v1", globex_id), ("v2", acme_id)]
    assert rows(engine, accounts, "org_key", "visits", "pageviews") == [
        ("acme", 1, 2), ("globex example", 1, 0)]
    before = snapshot(engine)
    assert reidentify(engine, RESOLVER, book) == unchanged(report, 3)
    assert snapshot(engine) == before


def test_overview_rollups_are_built_again_after_a_correction(engine: Engine,
                                                             site: NewSite) -> None:
    """The overview's daily rollups count identified visits: a re-identification that
    changes stored hits drops them, and the next overview counts the new truth."""
    from webleads import traffic
    from webleads.db.overview import SiteRef
    from webleads.db.schema_rollups import rollup_days

    s = site.site
    store_batch(engine, visits(s, TRANSIT))
    ref = SiteRef(s.id, s.workspace_id, s.name, s.domain, s.timezone)
    later = T0 + timedelta(days=3)
    traffic.refresh(engine, ref, first=T0.date(), last=T0.date(), now=later)
    assert rows(engine, rollup_days, "visits", "identified_visits") == [(3, 0)]
    customer = OverrideBook.of([Override(workspace_id=s.workspace_id, role="customer",
                                         cidr=CIDR, organisation="ACME")])
    reidentify(engine, RESOLVER, customer)
    assert rows(engine, rollup_days, "visits") == []
    traffic.refresh(engine, ref, first=T0.date(), last=T0.date(), now=later)
    assert rows(engine, rollup_days, "visits", "identified_visits") == [(3, 3)]
