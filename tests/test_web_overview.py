"""The Overview page and its daily rollups, on both engines, with hits stored through the
real store path: hand-computed numbers on the page (against the previous period, the
heatmap cell of a known visit in the site's time zone), rollups equal to the raw tables
after a late hit and after a purge, empty state, bad parameters, other workspaces, FR."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user, text
from webleads import traffic
from webleads.app import WebleadsApp, create_app
from webleads.db import store
from webleads.db.overview import Report, SiteRef
from webleads.db.rollups import page_path
from webleads.db.schema import accounts, hits, sessions
from webleads.db.schema_privacy import daily_stats
from webleads.db.schema_rollups import rollup_days
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.periods import LocalTime, Period, period_of
from webleads.privacy.retention import Retention, purge, set_retention
from webleads.settings import Settings
from webleads.sites import create_site, update_site

TZ = "Europe/Paris"
ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", category="enterprise",
               confidence=0.9)
UNI = Network(asn=64513, as_org="UNI-AS", org_name="Uni Example", category="education",
              confidence=0.9)
ISP = Network(asn=65000, as_org="ISP", category="isp", confidence=0.5)
NOW = datetime.now(UTC)
LOCAL = LocalTime(TZ)
TODAY = LOCAL.today(NOW)


def day(n: int) -> date:
    return TODAY - timedelta(days=n)


def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """An instant of the site's time zone, ``days_ago`` days before today."""
    return datetime.combine(day(days_ago), time(hour, minute), tzinfo=LOCAL.tz).astimezone(UTC)


def hit(site: Site, visitor: str, ts: datetime, network: Network | None, path: str, *,
        kind: HitType = "pageview", country: str = "FR", received: datetime | None = None,
        **fields: object) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.51.100.0", country=country)
    return Hit(client=client, type=kind, ts=ts, received_at=received or ts,
               url=f"https://example.com{path}", **fields)  # type: ignore[arg-type]


def known_hits(s: Site) -> list[Hit]:
    """Current period (7 days): 4 visits of 3 visitors, 5 page views, 30 s engaged;
    previous period: 1 visit.  Acme was first seen in the previous period, Uni is new."""
    return [
        hit(s, "v1", at(2, 9, 10), ACME, "/pricing", source_class="search"),
        hit(s, "v1", at(2, 9, 12), ACME, "/products/crm", page_group="crm"),
        hit(s, "v1", at(2, 9, 14), ACME, "/products/crm", kind="engagement",
            engaged_ms=30_000, page_group="crm"),
        # 23:30 in Paris is 22:30 or 21:30 UTC: the heatmap cell is the local one.
        hit(s, "v2", at(1, 23, 30), ISP, "/?utm_campaign=spring", country="BE",
            source_class="email", utm_source="news", utm_medium="email",
            utm_campaign="spring"),
        hit(s, "v3", at(1, 10), UNI, "/pricing", source_class="search"),
        hit(s, "v1", at(1, 14), ACME, "/products/crm", page_group="crm",
            source_class="direct"),
        hit(s, "p1", at(9, 11), ACME, "/", source_class="direct"),  # previous period
        hit(s, "old", at(45, 11), ISP, "/", source_class="direct"),  # before both
    ]


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


@pytest.fixture
def paris(engine: Engine) -> Site:
    return create_site(engine, "Example", "example.com", timezone=TZ, workspace="Acme").site


def store_hits(engine: Engine, batch: list[Hit]) -> None:
    with engine.begin() as conn:
        store.store_hits(conn, batch)


def ref(s: Site) -> SiteRef:
    return SiteRef(s.id, s.workspace_id, s.name, s.domain, s.timezone)


def section(html: str, css: str) -> str:
    found = re.search(rf'<section class="{css}".*?</section>', html, re.S)
    assert found, css
    return text(found.group(0))


def test_the_page_shows_hand_computed_numbers(app: WebleadsApp, paris: Site) -> None:
    store_hits(app.engine, known_hits(paris))
    add_user(app, "ann@example.com", workspace="Acme")
    add_user(app, "zoe@example.com", workspace="Acme", locale="fr")
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    with Browser(app) as b:
        b.login("ann@example.com")
        page = b.get("/w/1/overview?period=7d")
        assert page.status_code == 200
        assert section(page.text, "kpis") == (
            "Visits 4 ▲ +300% (Previous period: 1) "
            "Visitors 3 ▲ +200% (Previous period: 1) "
            "Page views 5 ▲ +400% (Previous period: 1) "
            "Identified visits 75% 3 of 4 visits ▼ −25.0 pts (Previous period: 100%) "
            "Organisations 2 1 new, 1 returning ▲ +100% (Previous period: 1) "
            "Engaged time 30 s 8 s per visit – (Previous period: 0 s)")
        html = page.text
        # The visit at 23:30 in Paris is in the 23:00 cell of its local weekday.
        weekday = names[day(1).weekday()]
        assert f'class="h9" title="{weekday} 23:00–00:00: 1 visit"' in html
        assert f'title="{weekday} 22:00–23:00: 0 visits"' in html
        assert html.count('class="h9"') == 4 and html.count('class="h0"') == 168 - 4
        shown = text(html)
        for expected in ("Search engines 2 50%", "E-mail 1 25%", "Direct 1 25%",
                         "email 1", "spring 1 100%", "crm 2 100%", "France 3 75%",
                         "Belgium 1 25%", "/pricing 2", "/products/crm 2", "/ 1"):
            assert expected in shown, expected
        assert "utm_campaign=spring" not in html  # paths without their query string
        month = b.get("/w/1/overview?period=30d")
        assert section(month.text, "kpis").startswith("Visits 5 ▲ +400% (Previous period: 1)")
        # A custom period of one day, against the day before.
        one = b.get(f"/w/1/overview?period=custom&from={day(1)}&to={day(1)}")
        assert section(one.text, "kpis").startswith(
            "Visits 3 ▲ +200% (Previous period: 1) Visitors 3 ▲ +200% (Previous period: 1)")
    with Browser(app, lang="fr") as b:
        b.login("zoe@example.com")
        page = b.get("/w/1/overview?period=7d")
        kpis = section(page.text, "kpis")
        assert kpis.startswith("Visites 4 ▲ +300 % (Période précédente : 1)"), kpis
        assert "Visites identifiées 75 % 3 visites sur 4" in kpis
        assert "nouvelles : 1 · déjà venues : 1" in kpis
        assert "Quand viennent-ils" in text(page.text)


def test_rollups_are_built_once_and_match_the_raw_tables(engine: Engine, paris: Site
                                                          ) -> None:
    store_hits(engine, known_hits(paris))
    site = ref(paris)
    period = period_of("7d", TODAY)
    first = traffic.overview(engine, site, period, now=NOW)
    assert first == raw_report(engine, paris, period)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(rollup_days.c.day).where(
            rollup_days.c.site_id == paris.id)).scalars().all()
    assert sorted(stored) == [day(n) for n in range(13, 0, -1)]  # closed days only
    assert traffic.refresh(engine, site, first=day(13), last=TODAY, now=NOW) == 0

    # A late hit for a day already rolled up: counted, and only that day is rebuilt.
    store_hits(engine, [hit(paris, "late", at(2, 16), UNI, "/late", received=NOW,
                            source_class="social")])
    assert traffic.refresh(engine, site, first=day(13), last=TODAY, now=NOW) == 1
    after_late = traffic.overview(engine, site, period, now=NOW)
    assert after_late == raw_report(engine, paris, period)
    assert after_late.current.visits == first.current.visits + 1
    assert dict(after_late.dims["page"])["/late"] == 1

    # A purge deletes the hits before yesterday: their counts move to daily_stats, the
    # days are rebuilt from what is left, and the totals stay what they were.
    set_retention(engine, paris.id, Retention(hits_days=1), by="test", now=NOW)
    report = purge(engine, now=LOCAL.start(TODAY), site_id=paris.id)
    assert report.hits == 6  # v1 (3), late, p1 and old
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.sum(daily_stats.c.pageviews))).scalar() == 5
    after_purge = traffic.overview(engine, site, period, now=NOW)
    assert after_purge == raw_report(engine, paris, period)
    assert after_purge.current == after_late.current
    assert after_purge.previous == after_late.previous
    assert "/late" not in dict(after_purge.dims["page"])  # pages of purged hits are gone
    assert dict(after_purge.dims["group"]) == dict(after_late.dims["group"])

    # Another time zone: every day is rebuilt in it.
    moved = update_site(engine, paris.key, timezone="America/New_York")
    ny = period_of("30d", LocalTime(moved.timezone).today(NOW))
    assert traffic.overview(engine, ref(moved), ny, now=NOW) == raw_report(
        engine, moved, ny, tz=moved.timezone)


def raw_report(engine: Engine, s: Site, period: Period, tz: str = TZ) -> Report:
    """The report computed straight from sessions, hits and daily_stats."""
    from webleads.db.overview import Point, Totals

    with engine.connect() as conn:
        session_rows = conn.execute(
            sa.select(sessions, accounts.c.first_seen)
            .select_from(sessions.outerjoin(accounts, accounts.c.id == sessions.c.account_id))
            .where(sessions.c.site_id == s.id)).all()
        hit_rows = conn.execute(sa.select(hits).where(hits.c.site_id == s.id)).all()
        stats = conn.execute(sa.select(daily_stats).where(daily_stats.c.site_id == s.id)).all()

    zone = LocalTime(tz).tz

    def local_day(ts: datetime) -> date:
        return ts.astimezone(zone).date()

    def totals(p: Period) -> Totals:
        ss = [r for r in session_rows if p.first <= local_day(r.started_at) <= p.last]
        hs = [r for r in hit_rows if p.first <= local_day(r.ts) <= p.last]
        st = [r for r in stats if p.first <= r.day <= p.last]
        return Totals(
            visits=len(ss), visitors=len({r.visitor_key for r in ss}),
            pageviews=sum(r.type == "pageview" for r in hs) + sum(r.pageviews for r in st),
            hits=len(hs) + sum(r.hits for r in st),
            identified_visits=sum(r.account_id is not None for r in ss),
            accounts=len({r.account_id for r in ss if r.account_id is not None}),
            new_accounts=len({r.account_id for r in ss if r.account_id is not None
                              and p.first <= local_day(r.first_seen) <= p.last}),
            engaged_ms=sum(r.engaged_ms for r in hs) + sum(r.engaged_ms for r in st))

    def points(p: Period) -> tuple[Point, ...]:
        return tuple(Point(d, sum(local_day(r.started_at) == d for r in session_rows),
                           sum(r.type == "pageview" and local_day(r.ts) == d for r in hit_rows)
                           + sum(r.pageviews for r in stats if r.day == d))
                     for d in p.dates())

    current = [r for r in session_rows if period.first <= local_day(r.started_at) <= period.last]
    views = [r for r in hit_rows if period.first <= local_day(r.ts) <= period.last
             and r.type == "pageview"]
    heatmap: dict[tuple[int, int], int] = {}
    for r in current:
        local = r.started_at.astimezone(zone)
        heatmap[(local.weekday(), local.hour)] = heatmap.get((local.weekday(), local.hour), 0) + 1

    def ranked(values: list[str]) -> tuple[tuple[str, int], ...]:
        counts: dict[str, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        return tuple(sorted(counts.items(), key=lambda vc: (-vc[1], vc[0])))

    groups = [r.page_group for r in views if r.page_group]
    groups += [r.page_group for r in stats if period.first <= r.day <= period.last
               and r.page_group for _ in range(r.pageviews)]
    dims = {
        "source": ranked([r.source_class or "" for r in current]),
        "medium": ranked([r.utm_medium for r in current if r.utm_medium]),
        "campaign": ranked([r.utm_campaign for r in current if r.utm_campaign]),
        "country": ranked([r.country or "" for r in current]),
        "network": ranked([r.network_category or "" for r in current]),
        "group": ranked(groups),
        "page": ranked([page_path(r.url) for r in views]),
    }
    return Report(period=period, current=totals(period), previous=totals(period.previous),
                  daily=points(period), previous_daily=points(period.previous),
                  heatmap=heatmap, dims=dims)


def test_empty_state_shows_the_tag(app: WebleadsApp, paris: Site) -> None:
    add_user(app, "ann@example.com", workspace="Acme")
    with Browser(app) as b:
        b.login("ann@example.com")
        page = b.get("/w/1/overview")
        assert page.status_code == 200
        shown = text(page.text)
        assert "No hits yet: paste this tag" in shown
        assert f'data-site=&#34;{paris.key}&#34;' in page.text
        assert 'href="/w/1/settings/sites"' in page.text
        assert 'class="kpis"' not in page.text


def test_bad_parameters_and_other_workspaces(app: WebleadsApp, paris: Site) -> None:
    store_hits(app.engine, known_hits(paris)[:1])
    other = create_site(app.engine, "Theirs", "theirs.example", workspace="Other").site
    second = create_site(app.engine, "Shop", "shop.example.com", workspace="Acme").site
    add_user(app, "ann@example.com", workspace="Acme")
    with Browser(app) as b:
        b.login("ann@example.com")
        evil = b.get("/w/1/overview?period=evil")
        assert evil.status_code == 200
        assert '<option value="30d" selected>' in evil.text  # the default period
        bad = b.get("/w/1/overview?period=custom&from=2026-02-31&to=2026-03-03")
        assert bad.status_code == 400
        assert re.search(r'id="f-from"[^>]*aria-invalid="true"', bad.text)
        assert "Enter a real date" in text(bad.text)
        backwards = b.get("/w/1/overview?period=custom&from=2026-03-05&to=2026-03-01")
        assert backwards.status_code == 400
        assert "The end date comes before the start date" in text(backwards.text)
        assert b.get("/w/1/overview?period=custom&from=2020-01-01&to=2026-01-01"
                     ).status_code == 400
        assert b.get("/w/1/overview?site=abc").status_code == 400
        assert b.get("/w/1/overview?from=" + "9" * 100).status_code == 400
        assert b.get(f"/w/1/overview?site={other.id}").status_code == 404
        assert b.get("/w/1/overview?site=99999").status_code == 404
        assert b.get("/w/2/overview").status_code == 404
        # Several sites: a selector, and the second site's empty state.
        shop = b.get(f"/w/1/overview?site={second.id}&period=90d")
        assert shop.status_code == 200
        assert f'<option value="{second.id}" selected>' in shop.text
        assert "No hits yet" in text(shop.text)
        assert b.get(f"/w/1/overview?site={paris.id}").status_code == 200
