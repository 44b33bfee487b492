"""Tracked e-mail links end to end in Chromium, on both engines: an imported contact
clicks its link, lands on a tagged page of another origin, and is identified; its
account then shows the contact and the campaign in the dashboard.  A tampered link
still lands on the page, and identifies nobody."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer
from tests.dashboard import PASSWORD, add_user
from tests.test_tag_e2e import DESKTOP_UA, browser, site_pages  # noqa: F401 - fixture
from webleads.campaigns import tracked
from webleads.campaigns.contacts import import_contacts
from webleads.campaigns.model import NewCampaign, validate
from webleads.db import campaigns as db
from webleads.db.schema import contacts, hits, sessions
from webleads.db.schema_campaigns import tracked_clicks
from webleads.sites import create_site

pytestmark = pytest.mark.browser

EMAIL = "jeanne.martin@acme-industries.example"


def rows(engine: Engine, table: sa.Table) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(table).order_by(*table.primary_key.columns)))


def wait_until(check: Callable[[], bool], timeout: float = 15) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_contact_clicks_its_link_and_a_tampered_link_identifies_nobody(
        browser: Any, live_server: LiveServer, engine: Engine, tmp_path: Path) -> None:  # noqa: F811
    made = create_site(engine, "Test site", "127.0.0.1")
    ws = made.site.workspace_id
    today = datetime.now(UTC).date()
    with engine.begin() as conn:
        campaign = db.insert_campaign(conn, ws, validate(NewCampaign(
            name="Spring mailing", channel="email", objective="mqls",
            starts_on=today - timedelta(days=7), ends_on=today + timedelta(days=7),
            page_group="ERP", utm_campaign="spring-2026")), now=datetime.now(UTC))
        imported = import_contacts(conn, ws, "email,name,organisation,consent\n"
                                   f"{EMAIL},Jeanne Martin,Acme Industries,yes\n",
                                   now=datetime.now(UTC))
    assert imported.created == 1
    add_user(live_server.app, "ada@example.com", workspace=ws)
    pages = site_pages(tmp_path, live_server.url, made.site.key)
    origin = next(pages)
    try:
        with engine.begin() as conn:
            link = tracked.build_email_link(conn, campaign, EMAIL, f"{origin}/index.html",
                                            base=live_server.url,
                                            secret=live_server.app.settings.secret_key,
                                            now=datetime.now(UTC))
        # The contact's browser: an earlier anonymous visit, then the click in the e-mail.
        context = browser.new_context(user_agent=DESKTOP_UA)
        page = context.new_page()
        page.goto(f"{origin}/thanks.html")
        assert wait_until(lambda: len(rows(engine, hits)) >= 1)
        page.goto(link.url)
        landed = urlsplit(page.url)
        assert landed.path == "/index.html" and "utm_campaign=spring-2026" in landed.query
        assert "wl_t=" in landed.query and link.url.split("/r/")[1][:50] not in page.url

        def identified() -> bool:
            return any(h.contact_id is not None for h in rows(engine, hits))

        assert wait_until(identified), rows(engine, hits)
        [person] = rows(engine, contacts)
        assert person.email == EMAIL and person.account_id is not None
        visits = rows(engine, sessions)
        assert len(visits) == 2 and all(v.contact_id == person.id for v in visits)
        assert visits[1].account_id == person.account_id
        assert visits[1].utm_campaign == "spring-2026"
        assert all("wl_t" not in h.url for h in rows(engine, hits))
        [click] = rows(engine, tracked_clicks)
        assert click.claimed_at is not None and click.contact_id == person.id
        context.close()

        # Its account shows the contact and the campaign; so does the campaign's page.
        desk = browser.new_context()
        dash = desk.new_page()
        dash.goto(f"{live_server.url}/login")
        dash.fill("input[name=email]", "ada@example.com")
        dash.fill("input[name=password]", PASSWORD)
        dash.click("form button.primary")
        dash.wait_for_url(f"{live_server.url}/w/**")
        dash.goto(f"{live_server.url}/w/{ws}/account/{person.account_id}")
        account_page = dash.inner_text("main")
        assert EMAIL in account_page and "spring-2026" in account_page
        dash.goto(f"{live_server.url}/w/{ws}/campaigns/{campaign.id}")
        campaign_page = dash.inner_text("main")
        assert EMAIL in campaign_page and "acme-industries.example" in campaign_page
        desk.close()

        # Someone else, with a tampered link: the same page, anonymously.
        before = len(rows(engine, hits))
        token = urlsplit(link.url).path.removeprefix("/r/")
        forged = link.url.replace(token, token[:20] + ("x" if token[20] != "x" else "y")
                                  + token[21:])
        other = browser.new_context(user_agent=DESKTOP_UA)
        stranger = other.new_page()
        stranger.goto(forged)
        assert urlsplit(stranger.url).path == "/index.html" and "wl_t" not in stranger.url
        # ... and with a made-up wl_t on the landing page itself.
        stranger.goto(f"{origin}/index.html?utm_campaign=spring-2026&wl_t={'B' * 22}")
        assert wait_until(lambda: len(rows(engine, hits)) >= before + 2)
        new = rows(engine, hits)[before:]
        assert all(h.contact_id is None and h.type != "identify" for h in new)
        assert len(rows(engine, contacts)) == 1 and len(rows(engine, tracked_clicks)) == 1
        other.close()
    finally:
        pages.close()
