"""Consent modes (wait | anonymous | ignore): through the collect endpoint, and the tag's
``wl('consent', …)`` in real Chromium, end to end into the database."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer
from tests.test_tag_e2e import DESKTOP_UA
from tests.test_tag_e2e import browser as browser  # noqa: F401 (the Chromium fixture)
from webleads.db.schema import contacts, drops, hits
from webleads.model import ConsentMode
from webleads.sites import create_site

CHROME = DESKTOP_UA
HEADERS = {"content-type": "text/plain;charset=UTF-8", "user-agent": CHROME}


def post(server: LiveServer, body: Any) -> dict[str, Any]:
    r = httpx.post(f"{server.url}/api/collect", content=json.dumps(body), headers=HEADERS,
                   timeout=10)
    assert r.status_code == 202, r.text
    result: dict[str, Any] = r.json()
    return result


def stored(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(hits).order_by(hits.c.id)))


def emails(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(contacts.c.email).order_by(contacts.c.id)).scalars())


def drop_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {r.reason: int(r.count) for r in conn.execute(sa.select(drops))}


def visit(key: str, consent: bool | None, email: str) -> list[dict[str, Any]]:
    """A page view and an identify call of the visitor whose cookie id is ``cookie-id-…``."""
    extra = {} if consent is None else {"consent": consent}
    return [{"site": key, "type": "pageview", "url": "https://example.com/pricing",
             "visitor": "cookie-id-000000000001", **extra},
            {"site": key, "type": "identify", "email": email,
             "url": "https://example.com/pricing", "visitor": "cookie-id-000000000001", **extra}]


# What each mode makes of a visit without consent, with consent: true, with consent: false:
# "full" (the tag's id, identify works), "anonymous" (a- key, identify dropped), "drop".
OUTCOMES: dict[str, tuple[str, str, str]] = {
    "wait": ("drop", "full", "drop"),
    "anonymous": ("anonymous", "full", "anonymous"),
    "ignore": ("full", "full", "anonymous"),
}


@pytest.mark.parametrize("mode", list(OUTCOMES))
def test_consent_modes_through_the_collect_endpoint(live_server: LiveServer, engine: Engine,
                                                    mode: ConsentMode) -> None:
    key = create_site(engine, "Example", "example.com", consent=mode).site.key
    for consent, outcome in zip((None, True, False), OUTCOMES[mode], strict=True):
        before_hits, before_drops = len(stored(engine)), drop_counts(engine)
        email = f"{outcome}-{str(consent).lower()}@acme.example"
        answer = post(live_server, visit(key, consent, email))
        new = stored(engine)[before_hits:]
        after = drop_counts(engine)
        dropped = {r: n - before_drops.get(r, 0) for r, n in after.items()
                   if n != before_drops.get(r, 0)}
        if outcome == "drop":
            assert answer == {"accepted": 0, "dropped": 2}
            assert new == [] and dropped == {"no_consent": 2}
        elif outcome == "anonymous":
            assert answer == {"accepted": 1, "dropped": 1}
            assert dropped == {"no_identification": 1}
            (row,) = new
            assert row.visitor_key.startswith("a-") and "cookie" not in row.visitor_key
            assert row.contact_id is None and row.account_id is None
            assert email not in emails(engine)
        else:
            assert answer == {"accepted": 2, "dropped": 0}
            assert {r.visitor_key for r in new} == {"cookie-id-000000000001"}
            assert email in emails(engine)


# -- the tag in Chromium -------------------------------------------------------------------

PAGE = """<!doctype html><html><head><title>{title}</title>{queue}
<script defer src="{tracker}/wl.js" data-site="{key}"{attrs}></script></head><body>
<a id="next" href="/next.html">next</a></body></html>"""
# A consent manager that remembers a refusal says it again on the next page, before the
# tag has loaded (the wl.q queue).
REFUSED = """<script>window.wl=window.wl||function(){(wl.q=wl.q||[]).push(arguments)};
wl('consent', false)</script>"""


@pytest.fixture
def site_page(tmp_path: Path) -> Iterator[Callable[[str, str, str], str]]:
    """Serves pages of the site on another port than the tracker; returns a function
    (tracker, key, attrs) -> the page's URL."""
    servers: list[ThreadingHTTPServer] = []

    def serve(tracker: str, key: str, attrs: str = "", next_queue: str = "") -> str:
        for name, title, queue in (("index.html", "Home", ""),
                                   ("next.html", "Next", next_queue)):
            (tmp_path / name).write_text(PAGE.format(title=title, tracker=tracker, key=key,
                                                     attrs=attrs, queue=queue))
        handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
        handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/index.html"

    yield serve
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def wait_rows(engine: Engine, check: Callable[[list[Any]], bool], what: str,
              timeout: float = 10) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        rows = stored(engine)
        if check(rows):
            return rows
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}: {[(r.type, r.name) for r in rows]}")
        time.sleep(0.1)


def quiet(page: Any, engine: Engine, seconds: float = 1.0) -> list[Any]:
    """What is stored after the tag had time to send (its queue leaves after 300 ms)."""
    page.wait_for_timeout(seconds * 1000)
    return stored(engine)


def vid_cookie(context: Any) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == "_wl_vid"), None)


@pytest.mark.browser
def test_wait_mode_sends_nothing_before_consent(browser: Any,  # noqa: F811
                                                live_server: LiveServer, engine: Engine,
                                                site_page: Callable[..., str]) -> None:
    key = create_site(engine, "Site", "127.0.0.1", consent="wait").site.key
    url = site_page(live_server.url, key, ' data-consent="wait"')
    context = browser.new_context(user_agent=DESKTOP_UA)
    page = context.new_page()
    page.goto(url)
    page.evaluate("wl('event', 'before_consent')")
    assert quiet(page, engine) == [] and vid_cookie(context) is None

    page.evaluate("wl('consent', true)")  # what was held is sent now, with the new id
    rows = wait_rows(engine, lambda r: len(r) >= 2, "the held pageview and event")
    assert [r.type for r in rows] == ["pageview", "event"]
    vid = vid_cookie(context)
    assert vid is not None and {r.visitor_key for r in rows} == {vid}

    page.evaluate("wl('consent', false); wl('event', 'after_refusal')")
    assert vid_cookie(context) is None  # the stored id is deleted
    assert len(quiet(page, engine)) == 2  # and nothing more is sent
    context.close()


@pytest.mark.browser
def test_anonymous_mode_until_consent(browser: Any,  # noqa: F811
                                      live_server: LiveServer, engine: Engine,
                                      site_page: Callable[..., str]) -> None:
    key = create_site(engine, "Site", "127.0.0.1", consent="anonymous").site.key
    url = site_page(live_server.url, key, ' data-consent="anonymous"')
    context = browser.new_context(user_agent=DESKTOP_UA)
    page = context.new_page()
    page.goto(url)
    page.evaluate("wl('identify', 'early@acme.example')")
    (first,) = wait_rows(engine, lambda r: len(r) >= 1, "the anonymous pageview")
    assert first.visitor_key.startswith("a-") and first.contact_id is None
    assert page.evaluate("document.cookie") == "" and vid_cookie(context) is None
    assert drop_counts(engine) == {"no_identification": 1}  # the identify call before consent

    page.evaluate("wl('consent', true); wl('identify', 'late@acme.example')")
    rows = wait_rows(engine, lambda r: len(r) >= 2, "the identify call after consent")
    vid = vid_cookie(context)
    assert vid is not None and rows[1].type == "identify" and rows[1].visitor_key == vid
    assert emails(engine) == ["late@acme.example"]
    context.close()


@pytest.mark.browser
def test_withdrawn_consent_stops_identification_and_clears_the_id(
        browser: Any, live_server: LiveServer, engine: Engine,  # noqa: F811
        site_page: Callable[..., str]) -> None:
    key = create_site(engine, "Site", "127.0.0.1").site.key  # consent not asked for
    url = site_page(live_server.url, key, "", REFUSED)
    context = browser.new_context(user_agent=DESKTOP_UA)
    page = context.new_page()
    page.goto(url)
    (first,) = wait_rows(engine, lambda r: len(r) >= 1, "the pageview")
    vid = vid_cookie(context)
    assert vid is not None and first.visitor_key == vid

    page.evaluate("wl('consent', false); wl('identify', 'gone@acme.example'); "
                  "wl('event', 'after_withdrawal')")
    rows = wait_rows(engine, lambda r: any(x.type == "event" for x in r), "the event")
    assert vid_cookie(context) is None and "_wl_vid" not in page.evaluate("document.cookie")
    event = next(r for r in rows if r.type == "event")
    assert event.visitor_key.startswith("a-") and vid not in event.visitor_key
    assert event.contact_id is None and emails(engine) == []
    assert drop_counts(engine) == {"no_identification": 1}

    # The next page: the consent manager says "refused" again before the tag loads, so
    # the tag never writes an id there, and the page view is not identified.
    page.click("#next")
    rows = wait_rows(engine, lambda r: sum(x.type == "pageview" for x in r) >= 2,
                     "the next pageview")
    assert rows[-1].visitor_key.startswith("a-") and vid_cookie(context) is None
    context.close()
