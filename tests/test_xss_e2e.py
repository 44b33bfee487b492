"""Stored XSS attempts render inert in Chromium (issue 7).

Strings that visitors, imports and colleagues can put in the database — page titles and
addresses, UTM values, organisation names, form traits, notes, view and campaign names,
owner names — are set to script payloads, and every page that shows them is opened in
Chromium **with the Content-Security-Policy switched off** (``bypass_csp``): escaping
alone must keep them inert.  No payload may run, and no ``javascript:`` link may be
rendered; the payloads must show as text.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import LiveServer, serve_in_thread
from tests.dashboard import PASSWORD
from tests.test_tag_e2e import ARGS, CHROMIUM, DESKTOP_UA
from webleads import demo_data as data
from webleads.app import WebleadsApp, create_app
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.db.schema import metadata
from webleads.demo import run_demo, seed_team
from webleads.demo_data import demo_networks
from webleads.settings import Settings
from webleads.sites import create_site

pytestmark = pytest.mark.browser

PAYLOADS = (
    "<script>window.__xss = 1</script>",
    '"><img src=x onerror="window.__xss = 2">',
    "<svg onload=\"window.__xss = 3\"></svg>",
    "javascript:window.__xss = 4",
)
ADMIN = "admin@demo.example"


def poison(engine: Any, ws: int) -> int:
    """Put the payloads in every user-typed string of one account and around it."""
    t = metadata.tables
    now = datetime.now(UTC)
    p1, p2, p3, p4 = PAYLOADS
    with engine.begin() as conn:
        account = conn.execute(sa.select(t["accounts"].c.id).where(
            t["accounts"].c.workspace_id == ws).order_by(t["accounts"].c.visits.desc())
            .limit(1)).scalar_one()
        conn.execute(sa.update(t["accounts"]).where(t["accounts"].c.id == account)
                     .values(name=f"Org {p2}", domain=p3, evidence=[p1, p2]))
        conn.execute(sa.update(t["hits"]).where(t["hits"].c.account_id == account)
                     .values(title=p1, url=p4, referrer=p4, name=p2, utm_campaign=p3))
        conn.execute(sa.update(t["sessions"]).where(t["sessions"].c.account_id == account)
                     .values(entry_url=p4, referrer=p4, utm_campaign=p2, utm_source=p1,
                             utm_medium=p3))
        user = conn.execute(sa.select(t["users"].c.id)).scalar_one()
        conn.execute(sa.insert(t["account_notes"]).values(
            workspace_id=ws, account_id=account, user_id=user, body=p1 + p2, created_at=now))
        conn.execute(sa.insert(t["saved_views"]).values(
            workspace_id=ws, user_id=user, name=p2, query="q=" + p1, shared=True,
            created_at=now))
        conn.execute(sa.update(t["owners"]).where(t["owners"].c.workspace_id == ws)
                     .values(name=p2, team=p1))
        conn.execute(sa.insert(t["campaigns"]).values(
            workspace_id=ws, name=p2, channel=p1, objective="visits",
            starts_on=now.date() - timedelta(days=20), ends_on=now.date(),
            budget_cents=1000, currency="EUR", utm_campaign=p3, notes=p1, created_at=now))
        contacts = t["contacts"]
        conn.execute(sa.update(contacts).where(contacts.c.workspace_id == ws)
                     .values(traits={"name": p1, "company": p2}))
    return int(account)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('xss') / 'xss.db'}"
    engine = create_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, secret_key="xss-secret")
    made = create_site(engine, data.SITE_NAME, data.SITE_DOMAIN, timezone=data.SITE_TIMEZONE,
                       page_groups=data.PAGE_GROUPS)
    seed_team(engine, made.site.workspace_id, now=datetime.now(UTC))
    asyncio.run(run_demo(create_app(settings, engine=engine, resolver=demo_networks(60, 3)),
                         site_key=made.site.key, site_secret=made.secret, days=7,
                         organisations=60, seed=3,
                         now=datetime.now(UTC) - timedelta(minutes=2)))
    app: WebleadsApp = create_app(settings, engine=engine)
    app.web.users.create(ADMIN, PASSWORD, name="Ada", role="admin",
                         workspace=made.site.workspace_id)
    account = poison(engine, made.site.workspace_id)
    server = serve_in_thread(app)
    yield server, account
    server.stop()
    engine.dispose()


def test_stored_payloads_stay_text_without_the_csp(served: tuple[LiveServer, int]) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("WEBLEADS_REQUIRE_BROWSER") == "1":
            pytest.fail("Debian's chromium is required (WEBLEADS_REQUIRE_BROWSER=1)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    server, account = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=[*ARGS, f"--user-agent={DESKTOP_UA}"])
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server.url}/login")
        page.fill("#f-email", ADMIN)
        page.fill("#f-password", PASSWORD)
        page.click("form[action='/login'] button")
        page.wait_for_url("**/w/*/accounts**")
        ws = page.url.split("/w/")[1].split("/")[0]
        seen_text = ""
        for path in (f"/w/{ws}/accounts", f"/w/{ws}/account/{account}",
                     f"/w/{ws}/overview?period=7d", f"/w/{ws}/live", f"/w/{ws}/campaigns",
                     f"/w/{ws}/funnel", f"/w/{ws}/settings/team",
                     f"/w/{ws}/settings/alerts", f"/w/{ws}/accounts?q=Org"):
            response = page.goto(f"{server.url}{path}")
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("networkidle")
            assert page.evaluate("() => window.__xss") is None, path
            assert page.locator("a[href^='javascript:' i]").count() == 0, path
            assert page.locator("main script:not([type='application/json'])").count() == 0
            assert page.locator("main img[src='x'], main svg[onload]").count() == 0, path
            seen_text += page.locator("main").inner_text()
        assert dialogs == []
        # The payloads are there, as text people can read.
        assert PAYLOADS[1] in seen_text and PAYLOADS[0] in seen_text
        context.close()
        browser.close()
