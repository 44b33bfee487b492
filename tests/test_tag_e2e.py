"""The tag in real Chromium, end to end: a page on one origin, webleads on another,
hits stored in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer, serve_in_thread
from webleads.app import create_app
from webleads.db.hit_queue import queue_engine
from webleads.db.schema import contacts, hits, quarantine
from webleads.processor import Processor
from webleads.settings import Settings
from webleads.sites import SiteBook, create_site

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
# Headless Chromium announces itself as "HeadlessChrome", which the pipeline drops as
# automation; the pages here stand for a person's browser, so they use its user agent.
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

PAGE = """<!doctype html><html><head><title>{title}</title>
<script>window.wl=window.wl||function(){{(wl.q=wl.q||[]).push(arguments)}};
wl('event', 'queued_before_load', {{plan: 'pro'}});</script>
<script defer src="{tracker}/wl.js" data-site="{key}"{attrs}></script></head><body>
<a id="out" href="https://partner.example.org/offer">partner</a>
<a id="pdf" href="/files/brochure.pdf">brochure</a>
<form id="contact" data-wl-form="contact" onsubmit="event.preventDefault();
 location.href = '/thanks.html'">
<input type="email" name="email" value="jane.doe@acme-industries.example">
<input type="password" name="password" value="hunter2-secret">
<button id="send" type="submit">send</button></form>
</body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("WEBLEADS_REQUIRE_BROWSER") == "1":
            pytest.fail("Debian's chromium is required (WEBLEADS_REQUIRE_BROWSER=1)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # The context's user agent does not reach beacons sent while a page unloads:
        # Chromium's own command-line user agent does.
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, f"--user-agent={DESKTOP_UA}"])
        yield b
        b.close()


@pytest.fixture(params=["separate", "inline"])
def live_server(request: pytest.FixtureRequest, settings: Settings,
                engine: Engine) -> Iterator[LiveServer]:
    """Both processors: ``separate`` (the default: the hits reach the tables through the
    hit queue and a processor, here a thread) and ``inline``."""
    mode = request.param
    server = serve_in_thread(create_app(settings.model_copy(update={"processor": mode}),
                                        engine=engine))
    stop = threading.Event()
    processor = Processor(engine, SiteBook(engine).get,
                          queue=queue_engine(engine, sqlite_synchronous="NORMAL"))
    worker = threading.Thread(target=processor.run, args=(stop,), kwargs={"idle": 0.05},
                              daemon=True)
    if mode == "separate":
        worker.start()
    try:
        yield server
    finally:
        stop.set()
        if mode == "separate":
            worker.join(15)
        server.stop()
        processor.dispose()


def site_pages(tmp_path: Path, tracker: str, key: str, attrs: str = "") -> Iterator[str]:
    """Serve the test site from another origin (another port) than webleads."""
    for name, title in (("index.html", "Home"), ("thanks.html", "Thanks")):
        (tmp_path / name).write_text(PAGE.format(title=title, tracker=tracker, key=key,
                                                 attrs=attrs))
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def stored(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(hits).order_by(hits.c.id)))


def wait_for(engine: Engine, check: Callable[[list[Any]], bool], timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        rows = stored(engine)
        if check(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def quarantined(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(quarantine)))


def types(rows: list[Any]) -> list[str]:
    return [r.type for r in rows]


def test_tag_hits_reach_the_database(browser: Any, live_server: LiveServer, engine: Engine,
                                     tmp_path: Path) -> None:
    made = create_site(engine, "Test site", "127.0.0.1")
    pages = site_pages(tmp_path, live_server.url, made.site.key)
    origin = next(pages)
    try:
        context = browser.new_context(user_agent=DESKTOP_UA)
        page = context.new_page()
        page.clock.install()
        page.goto(f"{origin}/index.html?utm_source=newsletter&utm_medium=email")
        page.clock.run_for(1000)  # the tag sends what it queued after 300 ms
        rows = wait_for(engine, lambda r: {"pageview", "event"} <= set(types(r)))
        first = next(r for r in rows if r.type == "pageview")
        assert first.url.endswith("/index.html?utm_source=newsletter&utm_medium=email")
        assert first.title == "Home" and first.source_class == "email"
        assert first.browser and first.device_type == "desktop"
        queued = next(r for r in rows if r.type == "event")
        assert queued.name == "queued_before_load" and queued.props == {"plan": "pro"}
        visitor = first.visitor_key
        assert any(c["name"] == "_wl_vid" and c["value"] == visitor
                   for c in context.cookies())

        # Single-page-app navigation, custom event, outbound click, download.
        page.evaluate("history.pushState({}, '', '/products/crm/')")
        page.evaluate("wl('event', 'video_play', {video: 'intro'})")
        page.click("#out", modifiers=["Control"])  # opens a new tab: the page stays
        page.click("#pdf", button="middle")
        page.clock.run_for(16_000)  # a heartbeat while visible, and the queued hits
        rows = wait_for(engine, lambda r: {"click", "download", "engagement"} <= set(types(r))
                        and types(r).count("pageview") >= 2 and types(r).count("event") >= 2)
        spa = [r for r in rows if r.type == "pageview"][1]
        assert spa.url.endswith("/products/crm/") and spa.referrer == first.url
        assert spa.session_id == first.session_id
        click = next(r for r in rows if r.type == "click")
        assert click.props == {"href": "https://partner.example.org/offer"}
        download = next(r for r in rows if r.type == "download")
        assert download.props["href"].endswith("/files/brochure.pdf")
        assert sum(r.engaged_ms for r in rows if r.type == "engagement") > 0

        # A marked form identifies the visitor; the password never leaves the page.
        with page.expect_navigation():
            page.click("#send")  # leaving the page flushes at once (pagehide)
        rows = wait_for(engine, lambda r: "form" in types(r))
        form = next((r for r in rows if r.type == "form"), None)
        assert form is not None, (quarantined(engine), live_server.app.metrics.render())
        assert form.name == "contact" and form.contact_id is not None
        assert all("hunter2" not in str(tuple(r)) for r in rows)
        with engine.connect() as conn:
            assert conn.execute(sa.select(contacts.c.email)).scalars().all() == [
                "jane.doe@acme-industries.example"]
        assert {r.visitor_key for r in rows} == {visitor}
        context.close()
    finally:
        pages.close()


def test_cookieless_mode_stores_nothing_in_the_browser(browser: Any, live_server: LiveServer,
                                                       engine: Engine, tmp_path: Path) -> None:
    made = create_site(engine, "Cookieless", "127.0.0.1", identity_mode="cookieless")
    pages = site_pages(tmp_path, live_server.url, made.site.key, " data-cookieless")
    origin = next(pages)
    try:
        context = browser.new_context(user_agent=DESKTOP_UA)
        page = context.new_page()
        page.goto(f"{origin}/index.html")
        page.evaluate("wl('event', 'hello')")
        rows = wait_for(engine, lambda r: types(r).count("event") >= 2)
        assert {"pageview", "event"} <= set(types(rows))
        assert context.cookies() == []
        assert page.evaluate("document.cookie") == ""
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        assert all(r.visitor_key.startswith("h-") for r in rows)
        assert len({r.visitor_key for r in rows}) == 1
        context.close()
    finally:
        pages.close()
