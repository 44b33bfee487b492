"""``webleads demo``: fictional traffic through the real collect path, on both engines."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads import demo_data as data
from webleads.app import create_app
from webleads.db.schema import accounts, contacts, drops, hits, sessions
from webleads.demo import DemoReport, demo_hits, run_demo
from webleads.demo_data import demo_networks, demo_organisations, demo_ranges
from webleads.settings import Settings
from webleads.sites import create_site

ORGS, DAYS, SEED = 60, 3, 7


def last_thursday() -> datetime:
    """A fixed recent instant (the demo's data depends on the weekday of ``now``)."""
    now = datetime.now(UTC).replace(hour=16, minute=0, second=0, microsecond=0)
    now -= timedelta(days=(now.weekday() - 3) % 7)
    return now if now <= datetime.now(UTC) else now - timedelta(days=7)


NOW = last_thursday()


def test_same_seed_same_hits_and_another_seed_other_hits() -> None:
    first = demo_hits(site_key="wl_x", days=DAYS, organisations=ORGS, seed=SEED, now=NOW)
    assert first == demo_hits(site_key="wl_x", days=DAYS, organisations=ORGS, seed=SEED, now=NOW)
    assert first != demo_hits(site_key="wl_x", days=DAYS, organisations=ORGS, seed=8, now=NOW)
    stamps = [h["ts"] for h in first]
    assert stamps == sorted(stamps)
    assert NOW - timedelta(days=DAYS) <= datetime.fromtimestamp(stamps[0] / 1000, UTC)
    assert datetime.fromtimestamp(stamps[-1] / 1000, UTC) <= NOW


def test_default_volume_and_mix() -> None:
    made = demo_hits(site_key="wl_x", now=NOW)
    assert 20_000 <= len(made) <= 40_000
    bots = sum("visitor" not in h for h in made)
    assert 0.05 <= bots / len(made) <= 0.10
    assert {h["type"] for h in made} == {"pageview", "engagement", "event", "download",
                                         "click", "form", "identify"}
    assert {h["name"] for h in made if h["type"] == "event"} >= {"video_play",
                                                               "pricing_calculator"}
    assert any("gclid=" in h["url"] for h in made)
    assert any("li_fat_id=" in h["url"] for h in made)
    assert any("utm_medium=email" in h["url"] for h in made)
    emails = {h["email"] for h in made if h["type"] == "identify"}
    # Fictional company domains, or a free-mail domain (which names no company).
    assert emails and all(e.endswith((".example", "@laposte.net")) for e in emails)


def test_organisations_are_fictional_and_their_networks_reserved() -> None:
    orgs = demo_organisations(300, SEED)
    assert orgs == demo_organisations(300, SEED) and orgs[:30] == demo_organisations(30, SEED)
    assert len({o.name for o in orgs}) == len({o.domain for o in orgs}) == 300
    assert all(o.domain.endswith(".example") for o in orgs)
    assert {o.category for o in orgs} == {"enterprise", "education", "government"}
    assert sum(o.country == "FR" for o in orgs) > 100
    assert {o.country for o in orgs} >= {"BE", "CH", "LU", "DE", "GB", "ES", "IT", "NL", "US"}
    benchmark = ipaddress.ip_network("198.18.0.0/15")
    documentation = [ipaddress.ip_network(c) for c in ("192.0.2.0/24", "198.51.100.0/24",
                                                       "203.0.113.0/24", "2001:db8::/32")]
    ranges = [ipaddress.ip_network(cidr) for cidr, _ in demo_ranges(300, SEED)]
    for net in ranges:
        assert any(net.subnet_of(space) for space in [benchmark, *documentation]  # type: ignore[arg-type]
                   if space.version == net.version)
    v4 = sorted((n for n in ranges if n.version == 4), key=lambda n: int(n.network_address))
    assert all(not a.overlaps(b) for a, b in zip(v4, v4[1:], strict=False))
    resolver = demo_networks(300, SEED)
    for org in orgs[:50]:
        found = resolver.lookup(str(ipaddress.ip_network(org.cidr).network_address + 3))
        assert found is not None and found.org_name == org.name and found.is_organisation
    for _, country, category, cidr, _ in data.ISPS:
        assert country in data.COUNTRIES
        found = resolver.lookup(str(ipaddress.ip_network(cidr).network_address + 9))
        assert found is not None and not found.is_organisation and found.category == category


def rows(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(query))


def test_demo_fills_a_site_through_collect(settings: Settings, engine: Engine) -> None:
    made = create_site(engine, data.SITE_NAME, data.SITE_DOMAIN, timezone=data.SITE_TIMEZONE,
                       page_groups=data.PAGE_GROUPS)
    app = create_app(settings, engine=engine, resolver=demo_networks(ORGS, SEED))
    seen: list[tuple[int, int]] = []
    report = asyncio.run(run_demo(app, site_key=made.site.key, site_secret=made.secret,
                                  days=DAYS, organisations=ORGS, seed=SEED, now=NOW,
                                  progress=lambda sent, total: seen.append((sent, total))))

    expected = demo_hits(site_key=made.site.key, days=DAYS, organisations=ORGS, seed=SEED,
                         now=NOW)
    assert report == DemoReport(len(expected), report.accepted, report.dropped, ORGS, DAYS,
                                report.seconds)
    assert report.accepted + report.dropped == report.hits_sent
    assert 0.03 <= report.dropped / report.hits_sent <= 0.15
    assert seen[-1] == (report.hits_sent, report.hits_sent)
    [stored] = rows(engine, sa.select(sa.func.count()).select_from(hits))
    assert stored[0] == report.accepted

    # Bots were dropped, with the reason on record.
    reasons = {r.reason: r.count for r in rows(engine, sa.select(drops))}
    assert reasons.get("bot", 0) > 0
    assert sum(reasons.values()) == report.dropped

    # Several organisations became accounts with counters; none of them is an ISP.
    found = rows(engine, sa.select(accounts))
    orgs = demo_organisations(ORGS, SEED)
    assert len(found) >= 5
    by_network = [a for a in found if a.name in {o.name for o in orgs}]
    # A visitor who gave a work e-mail from home adds an account named by its domain.
    by_email = [a for a in found if a.name in {o.domain for o in orgs}]
    assert len(by_network) >= 5 and len(by_network) + len(by_email) == len(found)
    assert all(a.visits > 0 and a.pageviews > 0 and a.engaged_ms > 0 for a in by_network)
    assert all(a.visits > 0 and a.evidence == [f"e-mail domain: {a.domain}"] for a in by_email), [
        (a.name, a.visits, a.evidence) for a in by_email]
    assert {a.category for a in found} <= {"enterprise", "education", "government"}

    # ISP, mobile and hosting visitors are stored but stay anonymous, unless the visitor
    # gave a work e-mail: then they belong to that contact's company.
    anonymous = rows(engine, sa.select(hits.c.network_category, hits.c.account_id,
                                       contacts.c.account_id.label("contact_account"))
                     .outerjoin(contacts, contacts.c.id == hits.c.contact_id)
                     .where(hits.c.network_category.in_(["isp", "mobile", "hosting"])))
    assert {r.network_category for r in anonymous} >= {"isp", "mobile"}
    assert all(r.account_id == r.contact_account for r in anonymous)
    assert any(r.account_id is None for r in anonymous)
    assert rows(engine, sa.select(hits.c.id).where(hits.c.network_category == "enterprise",
                                                   hits.c.account_id.is_(None))) == []

    # Sessions spread over the days; some visitors come back on another day.
    started = rows(engine, sa.select(sessions.c.visitor_key, sessions.c.started_at))
    days = {s.started_at.astimezone(UTC).date() for s in started}
    assert len(days) >= DAYS
    per_visitor: dict[str, set[Any]] = {}
    for s in started:
        per_visitor.setdefault(s.visitor_key, set()).add(s.started_at.date())
    assert any(len(d) > 1 for d in per_visitor.values())

    # Sources are varied, pages fall into product ranges, and some visitors left an e-mail.
    classes = {r.source_class for r in rows(engine, sa.select(sessions.c.source_class))}
    assert len(classes) >= 4 and "direct" in classes
    groups = {r.page_group for r in rows(engine, sa.select(hits.c.page_group).distinct())}
    assert len(groups - {None}) >= 4 and None in groups
    people = rows(engine, sa.select(contacts))
    assert people and all(p.email.endswith((".example", "@laposte.net")) for p in people)
    # Work addresses belong to their company's account; free-mail ones to none.
    assert all((p.account_id is None) == p.email.endswith("@laposte.net") for p in people)


@pytest.mark.parametrize("days", [0, 366])
def test_days_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="days"):
        demo_hits(site_key="wl_x", days=days)


def test_demo_team_owns_the_warm_accounts(settings: Settings, engine: Engine) -> None:
    from webleads.db.schema_lifecycle import account_owners, owners
    from webleads.demo import DEMO_OWNERS, seed_team

    made = create_site(engine, data.SITE_NAME, data.SITE_DOMAIN, timezone=data.SITE_TIMEZONE,
                       page_groups=data.PAGE_GROUPS)
    assert seed_team(engine, made.site.workspace_id, now=NOW) == len(DEMO_OWNERS)
    assert seed_team(engine, made.site.workspace_id, now=NOW) == 0  # once
    app = create_app(settings, engine=engine, resolver=demo_networks(ORGS, SEED))
    asyncio.run(run_demo(app, site_key=made.site.key, site_secret=made.secret, days=DAYS,
                         organisations=ORGS, seed=SEED, now=NOW))
    owned = rows(engine, sa.select(owners.c.team, accounts.c.country)
                 .join(account_owners, account_owners.c.owner_id == owners.c.id)
                 .join(accounts, accounts.c.id == account_owners.c.account_id))
    assert owned, "no account was assigned"
    # German-speaking countries go to the DACH team, the others to France.
    assert all((team == "DACH") == (country in ("DE", "AT", "CH")) for team, country in owned)
