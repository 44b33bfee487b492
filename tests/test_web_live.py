"""The Live page on both engines: who is on the site now (5 minutes) and in the last 30
minutes, with hits stored through the real store path; the polled fragment; empty state,
other workspaces, bad parameters, French."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user, text
from webleads.app import WebleadsApp, create_app
from webleads.db import store
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.settings import Settings
from webleads.sites import create_site

ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", category="enterprise",
               confidence=0.9)
GLOBEX = Network(asn=64520, as_org="GLOBEX-AS", org_name="Globex Corp", category="enterprise",
                 confidence=0.9)
MOBILE = Network(asn=65001, as_org="MOBILE", category="mobile", confidence=0.5)


def hit(site: Site, visitor: str, ts: datetime, network: Network | None, path: str, *,
        kind: HitType = "pageview", **fields: object) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.51.100.0", country="FR")
    return Hit(client=client, type=kind, ts=ts, received_at=ts,
               url=f"https://example.com{path}", title=f"Title of {path}",
               **fields)  # type: ignore[arg-type]


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


@pytest.fixture
def site(engine: Engine) -> Site:
    return create_site(engine, "Example", "example.com", timezone="Europe/Paris",
                       workspace="Acme").site


def test_visitors_of_now_and_not_of_two_hours_ago(app: WebleadsApp, site: Site) -> None:
    now = datetime.now(UTC)
    with app.engine.begin() as conn:
        store.store_hits(conn, [
            # Acme: on the pricing page two minutes ago, after the home page.
            hit(site, "acme-1", now - timedelta(minutes=3), ACME, "/", source_class="search",
                source_name="google"),
            hit(site, "acme-1", now - timedelta(minutes=2), ACME, "/pricing"),
            hit(site, "acme-1", now - timedelta(minutes=2), ACME, "/pricing",
                kind="engagement", engaged_ms=45_000),
            # Someone on a mobile network, 20 minutes ago: in the 30 minutes, not now.
            hit(site, "phone", now - timedelta(minutes=20), MOBILE, "/blog/a"),
            # Globex two hours ago: gone.
            hit(site, "globex", now - timedelta(hours=2), GLOBEX, "/careers"),
        ])
    add_user(app, "ann@example.com", workspace="Acme")
    add_user(app, "zoe@example.com", workspace="Acme", locale="fr")
    with Browser(app) as b:
        b.login("ann@example.com")
        page = b.get("/w/1/live")
        assert page.status_code == 200
        assert 'hx-get="/w/1/live/now"' in page.text and 'hx-trigger="every 10s"' in page.text
        shown = text(page.text)
        assert ("Visitors now 1 active in the last 5 minutes Organisations now 1 active in "
                "the last 5 minutes Visitors, last 30 minutes 2 Organisations, last 30 minutes 1"
                ) in shown
        assert re.search(r'<a href="/w/1/account/\d+">Acme SA</a>', page.text)
        assert "Globex" not in shown and "/careers" not in shown
        acme = re.search(r"<tr>.*?Acme SA.*?</tr>", page.text, re.S)
        assert acme
        row = text(acme.group(0))
        assert "/pricing" in row and "Search engines · google" in row
        assert "45 s" in row and "2 minutes ago" in row and "On the site now" in row
        # The phone is anonymous, counted under its network.
        assert "Mobile networks 0 1" in shown
        assert "Mobile networks /blog/a" in shown
        # The polled fragment is only the fragment, through htmx or as a plain URL.
        for fragment in (b.htmx("GET", "/w/1/live/now"), b.get("/w/1/live/now")):
            assert fragment.status_code == 200
            assert "<html" not in fragment.text and "<header" not in fragment.text
            assert "Acme SA" in fragment.text and "hx-trigger" not in fragment.text
    with Browser(app, lang="fr") as b:
        b.login("zoe@example.com")
        shown = text(b.get("/w/1/live/now").text)
        assert "Visiteurs en ce moment 1" in shown and "Réseaux mobiles 0 1" in shown
        assert "il y a 2 minutes" in shown


def test_empty_state_sites_and_workspaces(app: WebleadsApp, site: Site) -> None:
    other = create_site(app.engine, "Theirs", "theirs.example", workspace="Other").site
    shop = create_site(app.engine, "Shop", "shop.example.com", workspace="Acme").site
    now = datetime.now(UTC)
    with app.engine.begin() as conn:
        store.store_hits(conn, [hit(shop, "s1", now - timedelta(minutes=1), ACME, "/cart"),
                                hit(other, "o1", now - timedelta(minutes=1), GLOBEX, "/x")])
    add_user(app, "ann@example.com", workspace="Acme")
    with Browser(app) as b:
        b.login("ann@example.com")
        everything = text(b.get("/w/1/live").text)
        assert "/cart" in everything and "Globex" not in everything
        quiet = b.get(f"/w/1/live?site={site.id}")
        assert quiet.status_code == 200
        assert "Nobody on your site in the last 30 minutes" in text(quiet.text)
        assert f'hx-get="/w/1/live/now?site={site.id}"' in quiet.text
        assert "Acme SA" in text(b.get(f"/w/1/live/now?site={shop.id}").text)
        assert b.get(f"/w/1/live?site={other.id}").status_code == 404
        assert b.get(f"/w/1/live/now?site={other.id}").status_code == 404
        assert b.get("/w/1/live/now?site=abc").status_code == 400
        assert b.get("/w/1/live?site=" + "1" * 60).status_code == 400
        assert b.get("/w/2/live").status_code == 404
        assert b.get("/w/2/live/now").status_code == 404
