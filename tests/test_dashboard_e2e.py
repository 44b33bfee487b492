"""The dashboard in real Chromium (issue 5): log in, visit every page with `webleads demo`
data in English and in French, use the filters, open an account and correct its
identification, create an alert rule and send a test to a local receiver, export CSV
and XLSX and open the files — with no console error on any page.

Screenshots of every page are saved for people to look at (not committed): in
``$WEBLEADS_SCREENSHOTS`` or ``build/screenshots/`` of the checkout.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, serve_in_thread
from tests.dashboard import PASSWORD
from tests.test_tag_e2e import ARGS, CHROMIUM, DESKTOP_UA
from webleads import demo_data as data
from webleads.app import WebleadsApp, create_app
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.demo import run_demo, seed_team
from webleads.demo_data import demo_networks
from webleads.settings import Settings
from webleads.sites import create_site

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("WEBLEADS_SCREENSHOTS") or ROOT / "build" / "screenshots")
PAGES = ("live", "accounts", "overview", "campaigns", "funnel", "settings/sites",
         "settings/privacy", "settings/scoring", "settings/alerts", "settings/team",
         "settings/deliveries", "settings/data", "settings/audit")
ADMIN = "admin@demo.example"


class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps what it gets."""

    def __init__(self) -> None:
        got: list[dict[str, Any]] = []
        self.got = got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                got.append({"headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, WebleadsApp]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'demo.db'}"
    engine = create_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, secret_key="e2e-secret",
                        allow_private_destinations=True)
    made = create_site(engine, data.SITE_NAME, data.SITE_DOMAIN, timezone=data.SITE_TIMEZONE,
                       page_groups=data.PAGE_GROUPS)
    seed_team(engine, made.site.workspace_id, now=datetime.now(UTC))
    asyncio.run(run_demo(create_app(settings, engine=engine, resolver=demo_networks(120, 7)),
                         site_key=made.site.key, site_secret=made.secret, days=14,
                         organisations=120, seed=7,
                         now=datetime.now(UTC) - timedelta(minutes=3)))
    app = create_app(settings, engine=engine)
    app.web.users.create(ADMIN, PASSWORD, name="Ada Admin", role="admin",
                         workspace=made.site.workspace_id)
    server = serve_in_thread(app)
    yield server, app
    server.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("WEBLEADS_REQUIRE_BROWSER") == "1":
            pytest.fail("Debian's chromium is required (WEBLEADS_REQUIRE_BROWSER=1)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, f"--user-agent={DESKTOP_UA}"])
        yield b
        b.close()


class Watched:
    """A logged-in page that records console errors and failed requests."""

    def __init__(self, browser: Any, base: str, lang: str) -> None:
        self.context = browser.new_context(locale="fr-FR" if lang == "fr" else "en-GB",
                                           accept_downloads=True,
                                           viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base, self.lang = base, lang
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        # A request cut short by the next navigation (net::ERR_ABORTED) is no error.
        self.page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")
                     else self.errors.append(f"request failed: {r.url} {r.failure}"))

    def login(self) -> None:
        self.page.goto(f"{self.base}/login")
        self.page.fill("#f-email", ADMIN)
        self.page.fill("#f-password", PASSWORD)
        self.page.click("form[action='/login'] button")
        self.page.wait_for_url("**/w/*/accounts**")

    def visit(self, path: str) -> Any:
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None and response.status == 200, (path, response and
                                                                  response.status)
        self.page.wait_for_load_state("networkidle")
        assert self.page.locator("html").get_attribute("lang") == self.lang
        return response

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        # caret="initial": Playwright's caret hiding adds style="" to inputs, which htmx
        # would copy, and the CSP would report.
        self.page.screenshot(path=str(SHOTS / f"{self.lang}-{name}.png"), full_page=True,
                             caret="initial")

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_page_in_both_languages(demo: tuple[LiveServer, WebleadsApp], browser: Any,
                                      lang: str) -> None:
    server, _app = demo
    w = Watched(browser, server.url, lang)
    try:
        w.login()
        ws = w.page.url.split("/w/")[1].split("/")[0]
        french = {"accounts": "Comptes", "overview": "Vue d'ensemble", "live": "En direct"}
        for page in PAGES:
            w.visit(f"/w/{ws}/{page}")
            if lang == "fr" and page in french:
                assert french[page] in w.page.locator("h1").first.inner_text()
            # Charts drew (a canvas that Chart.js sized) wherever the page has one.
            for canvas in w.page.locator("canvas[data-chart]").all():
                assert canvas.get_attribute("data-drawn") == "1", page
            w.shot(page.replace("/", "-"))
        first = w.page.locator
        w.visit(f"/w/{ws}/accounts")
        href = first("table.feed tbody a[href*='/account/']").first.get_attribute("href")
        assert href
        w.visit(href)
        w.shot("account")
        assert w.errors == [], w.errors
    finally:
        w.close()


def test_filters_account_correction_alert_test_and_exports(
        demo: tuple[LiveServer, WebleadsApp], browser: Any) -> None:
    server, app = demo
    receiver = Receiver()
    w = Watched(browser, server.url, "en")
    page = w.page
    try:
        w.login()
        ws = page.url.split("/w/")[1].split("/")[0]
        w.visit(f"/w/{ws}/accounts")
        rows = page.locator("table.feed tbody tr")
        everything = rows.count()
        assert everything > 5

        # Filters: a stage, applied by htmx in place, the URL pushed (a shareable link).
        label = page.locator("#f-stage option[value='mql']").inner_text().strip()
        page.select_option("#f-stage", "mql")
        page.wait_for_url("**stage=mql**")
        page.wait_for_load_state("networkidle")
        assert 0 < rows.count() <= everything
        stages = [rows.nth(i).locator("td").nth(3).inner_text().strip()
                  for i in range(rows.count())]
        assert set(stages) == {label}, stages
        filtered = rows.count()
        page.reload()
        assert rows.count() == filtered  # the pushed URL gives the same view

        # Exports of what is shown: CSV and XLSX, opened.
        with page.expect_download() as got:
            page.click("a[href*='accounts.csv']")
        text = Path(got.value.path()).read_text(encoding="utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        assert len(table) == filtered + 1 and "Organisation" in table[0][0]
        with page.expect_download() as got:
            page.click("a[href*='accounts.xlsx']")
        from openpyxl import load_workbook

        assert got.value.suggested_filename.endswith(".xlsx")
        saved = SHOTS.parent / "accounts.xlsx"
        saved.parent.mkdir(parents=True, exist_ok=True)
        got.value.save_as(saved)
        sheet = load_workbook(saved, read_only=True).active
        assert sheet is not None
        assert sum(1 for _ in sheet.iter_rows()) == filtered + 1

        # Open an account and correct its identification: "this is an Internet provider".
        # Its visits from that network go (those of its identified contacts stay).
        link = page.locator("table.feed tbody a[href*='/account/']").first
        link.click()
        page.wait_for_url("**/account/**")
        visits = page.locator(".kpi:has(.label:text-is('Visits')) .value")
        before = int(visits.inner_text().replace(",", ""))
        w.shot("account-before-correction")
        page.locator("details", has=page.locator("input[name=kind][value=isp]")).locator(
            "summary").click()
        page.once("dialog", lambda d: d.accept())
        page.locator("form:has(input[name=kind][value=isp]) button").click()
        page.wait_for_load_state("networkidle")
        assert page.locator(".flash").count() == 1, page.locator("main").inner_text()[:500]
        assert "Internet provider" in page.locator(".flash").inner_text()
        after = int(visits.inner_text().replace(",", ""))
        assert after < before
        w.shot("account-after-correction")

        # An alert rule, then a test sent to a local receiver, shown in place.
        w.visit(f"/w/{ws}/settings/alerts")
        page.click("details.add > summary")
        page.select_option("#f-kind", "hot_page")
        page.fill("#f-pages", "/pricing*")
        page.select_option("#f-channel", "webhook")
        page.fill("#f-destination", receiver.url)
        page.click("details.add form button.primary")
        page.wait_for_load_state("networkidle")
        assert receiver.url in page.locator("main").inner_text()
        page.select_option("#f-test-channel", "webhook")
        page.fill("#f-test-destination", receiver.url)
        page.click("form:has(#f-test-destination) button")
        from playwright.sync_api import expect

        expect(page.locator("#test-new")).not_to_be_empty()  # the answer, shown in place
        assert len(receiver.got) == 1
        body = json.loads(receiver.got[0]["body"])
        assert body  # a signed test event
        w.shot("alerts-after-test")
        assert w.errors == [], w.errors
    finally:
        w.close()
        receiver.close()
