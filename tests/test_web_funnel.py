"""The Identification page on both engines: the funnel of a known set of hits and drops
with its drop reasons, the data sources with their licences, periods, other workspaces,
bad parameters, French."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user, text
from webleads.app import WebleadsApp, create_app
from webleads.db import store
from webleads.model import Client, Hit, Network, Site
from webleads.networks.sources import status_rows
from webleads.periods import LocalTime
from webleads.settings import Settings
from webleads.sites import create_site

TZ = "Europe/Paris"
ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", category="enterprise",
               confidence=0.9)
UNI = Network(asn=64513, as_org="UNI-AS", org_name="Uni Example", category="education",
              confidence=0.9)
ISP = Network(asn=65000, as_org="ISP", category="isp", confidence=0.5)
LOCAL = LocalTime(TZ)
TODAY = LOCAL.today(datetime.now(UTC))


def at(days_ago: int, hour: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(hour),
                            tzinfo=LOCAL.tz).astimezone(UTC)


def hit(site: Site, visitor: str, ts: datetime, network: Network | None) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.51.100.0")
    return Hit(client=client, type="pageview", ts=ts, received_at=ts,
               url="https://example.com/")


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


@pytest.fixture
def site(engine: Engine) -> Site:
    return create_site(engine, "Example", "example.com", timezone=TZ, workspace="Acme").site


def day(n: int) -> date:
    return TODAY - timedelta(days=n)


def test_funnel_numbers_reasons_and_sources(app: WebleadsApp, site: Site) -> None:
    with app.engine.begin() as conn:
        store.store_hits(conn, [
            hit(site, "a1", at(2, 9), ACME), hit(site, "a1", at(2, 10), ACME),
            hit(site, "u1", at(3, 11), UNI),
            hit(site, "i1", at(1, 12), ISP), hit(site, "i2", at(1, 13), ISP),
            hit(site, "n1", at(1, 14), None),
            hit(site, "old", at(60, 9), ACME),  # outside the 30 days
        ])
        store.add_drops(conn, {(site.id, day(1), "bot"): 5,
                               (site.id, day(2), "headless_browser"): 2,
                               (site.id, day(2), "do_not_track"): 3,
                               (site.id, day(45), "bot"): 100})
    add_user(app, "ann@example.com", workspace="Acme")
    add_user(app, "zoe@example.com", workspace="Acme", locale="fr")
    with Browser(app) as b:
        b.login("ann@example.com")
        page = b.get("/w/1/funnel")
        assert page.status_code == 200
        steps = re.search(r'<table class="funnel-steps">.*?</table>', page.text, re.S)
        assert steps
        rows = text(steps.group(0))
        # 6 stored + 10 dropped = 16 received; 7 were no people; 3 refused by DNT.
        assert "Hits received Every valid hit the tag or the API sent. 16 100.0%" in rows
        assert "From people Not sent by a crawler or a robot. 9 56.2%" in rows
        assert ("Declared crawlers and automation tools: 5" in rows
                and "Headless browsers: 2" in rows)
        assert "Stored" in rows and " 6 37.5% Do Not Track or Global Privacy Control: 3" in rows
        assert "3 18.8% Internet providers: 2 Unknown network: 1" in rows
        assert "Identified Put on an organisation" in rows and rows.endswith("3 18.8% –")
        shown = html.unescape(text(page.text))
        assert "Identified 2 distinct organisations In target 0" in shown
        # The data sources, with their licences: what `webleads data status` says.
        expected = status_rows(app.web.settings.data_dir)
        assert expected
        for row in expected:
            assert row["name"] in shown and (row["licence"] or "–") in shown
        assert any("CC BY" in row["licence"] for row in expected)
        # A shorter period, and the empty state of a period without hits.
        week = text(b.get(f"/w/1/funnel?period=custom&from={day(1)}&to={day(1)}").text)
        assert "Hits received Every valid hit the tag or the API sent. 8 100.0%" in week
        empty = b.get(f"/w/1/funnel?period=custom&from={day(20)}&to={day(10)}")
        assert "No hits in this period" in text(empty.text)
        assert "Data sources in use" in text(empty.text)
    with Browser(app, lang="fr") as b:
        b.login("zoe@example.com")
        shown = text(b.get("/w/1/funnel").text)
        assert "Entonnoir d'identification" in shown
        assert "Hits reçus Tous les hits valides envoyés par le tag ou l'API. 16 100,0 %" in shown
        assert "Sources de données utilisées" in shown


def test_bad_parameters_and_other_workspaces(app: WebleadsApp, site: Site) -> None:
    other = create_site(app.engine, "Theirs", "theirs.example", workspace="Other").site
    add_user(app, "ann@example.com", workspace="Acme")
    with Browser(app) as b:
        b.login("ann@example.com")
        assert b.get("/w/1/funnel?period=evil").status_code == 200
        bad = b.get("/w/1/funnel?period=custom&from=2026-01-01&to=2026-02-31")
        assert bad.status_code == 400
        assert re.search(r'id="f-to"[^>]*aria-invalid="true"', bad.text)
        assert b.get("/w/1/funnel?site=abc").status_code == 400
        assert b.get(f"/w/1/funnel?site={other.id}").status_code == 404
        assert b.get("/w/2/funnel").status_code == 404
