"""The opt-out page (GET/POST /optout) and its effect on collect; the tag's own opt-out
flag; both in real Chromium too."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer
from tests.test_consent import DESKTOP_UA, quiet, stored, wait_rows
from tests.test_consent import browser as browser  # noqa: F401 (the Chromium fixture)
from tests.test_consent import site_page as site_page  # noqa: F401
from webleads.collect.optout import STYLE, language, opted_out
from webleads.db.schema import drops
from webleads.sites import create_site

CHROME = DESKTOP_UA


def get(server: LiveServer, key: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}/optout", params={"site": key}, headers=headers, timeout=10)


def choose(server: LiveServer, key: str, choice: str, *, origin: str | None = None,
           **headers: str) -> httpx.Response:
    base = {"origin": origin or server.url, **headers}
    return httpx.post(f"{server.url}/optout", data={"site": key, "choice": choice,
                                                   "lang": "en"}, headers=base, timeout=10)


def text(page: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", page)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


@pytest.mark.parametrize("accept, lang, heading, button", [
    ("fr-FR,fr;q=0.9,en;q=0.8", "fr", "Statistiques de visite de Shop : opposition",
     "Ne plus mesurer mes visites"),
    ("en-GB,en;q=0.9", "en", "Visit statistics of Shop: opt out", "Do not measure my visits"),
    ("de-DE, en;q=0.5, fr;q=0.9", "fr", "Statistiques de visite", "Ne plus mesurer"),
    ("", "en", "Visit statistics", "Do not measure my visits"),
])
def test_page_speaks_the_visitor_language(live_server: LiveServer, engine: Engine, accept: str,
                                          lang: str, heading: str, button: str) -> None:
    key = create_site(engine, "Shop", "shop.example").site.key
    r = get(live_server, key, **{"accept-language": accept})
    assert r.status_code == 200
    assert r.headers["content-language"] == lang and f'<html lang="{lang}">' in r.text
    assert heading in text(r.text) and button in text(r.text)
    assert "shop.example" in r.text


def test_page_is_lean_and_csp_safe(live_server: LiveServer, engine: Engine) -> None:
    key = create_site(engine, "Shop", "shop.example", origins=["https://partner.example"],
                      privacy_mode="audience").site.key
    r = get(live_server, key)
    page = r.text
    assert "<script" not in page and "<link" not in page and " src=" not in page
    assert "http://" not in page and "https://" not in page  # no external resource at all
    assert " style=" not in page
    csp = r.headers["content-security-policy"]
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"<style>{STYLE}</style>" in page and f"style-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp and "form-action 'self'" in csp
    assert "frame-ancestors 'self' shop.example *.shop.example https://partner.example" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert len(r.content) < 4096
    # the audience mode's promise, not the B2B one
    assert "identifies neither you nor your organisation" in text(page)
    fr = get(live_server, key, **{"accept-language": "fr"}).text
    assert "ne vous identifie pas" in text(fr)


def test_unknown_site_and_bad_method(live_server: LiveServer) -> None:
    for key in ("wl_nope", "", "\x00"):
        r = get(live_server, key, **{"accept-language": "fr"})
        assert r.status_code == 404 and "clé d'un site connu" in text(r.text)
    r = httpx.delete(f"{live_server.url}/optout?site=x", timeout=10)
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"


def test_opt_out_then_back_in(live_server: LiveServer, engine: Engine) -> None:
    made = create_site(engine, "Shop", "shop.example")
    key = made.site.key
    r = choose(live_server, key, "out")
    assert r.status_code == 303 and r.headers["location"] == f"optout?site={key}&lang=en"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"wl_optout_{key}=1; Max-Age=33696000; Path=/; HttpOnly")
    assert cookie.endswith("SameSite=Lax")
    page = text(get(live_server, key, cookie=f"wl_optout_{key}=1").text)
    assert "You have opted out" in page and "Measure my visits again" in page

    # The effect: hits that carry the cookie are dropped, and counted per site and day.
    hit = {"site": key, "type": "pageview", "url": "https://shop.example/"}
    headers = {"content-type": "text/plain", "user-agent": CHROME}
    r = httpx.post(f"{live_server.url}/api/collect", content=json.dumps(hit), timeout=10,
                   headers={**headers, "cookie": f"_wl_vid=x; wl_optout_{key}=1"})
    assert r.json() == {"accepted": 0, "dropped": 1}
    other = create_site(engine, "Other", "other.example").site.key  # another site's choice
    r = httpx.post(f"{live_server.url}/api/collect", timeout=10,
                   content=json.dumps({**hit, "site": other, "url": "https://other.example/"}),
                   headers={**headers, "cookie": f"wl_optout_{key}=1"})
    assert r.json() == {"accepted": 1, "dropped": 0}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(drops.c.site_id, drops.c.day, drops.c.reason,
                                      drops.c.count)).all()
    assert [tuple(row) for row in rows] == [
        (made.site.id, datetime.now(UTC).date(), "opted_out", 1)]

    r = choose(live_server, key, "in")
    assert r.headers["set-cookie"].startswith(f"wl_optout_{key}=; Max-Age=0;")
    assert "Your visits are measured" in text(get(live_server, key).text)


def test_https_cookie_travels_with_cross_site_hits(live_server: LiveServer,
                                                   engine: Engine) -> None:
    key = create_site(engine, "Shop", "shop.example").site.key
    r = choose(live_server, key, "out", **{"x-forwarded-proto": "https"})
    assert r.headers["set-cookie"].endswith("HttpOnly; SameSite=None; Secure")


def test_a_form_from_another_site_is_refused(live_server: LiveServer, engine: Engine) -> None:
    key = create_site(engine, "Shop", "shop.example").site.key
    r = choose(live_server, key, "in", origin="https://evil.example")
    assert r.status_code == 403 and "set-cookie" not in r.headers


@pytest.mark.parametrize("header, out", [
    (None, False), (b"", False), (b"wl_optout_wl_a=1", True), (b"x=1; wl_optout_wl_a=1", True),
    (b"wl_optout_wl_ab=1", False), (b"wl_optout_wl_a=0", False), (b"xwl_optout_wl_a=1", False),
])
def test_opted_out_cookie(header: bytes | None, out: bool) -> None:
    assert opted_out("wl_a", header) is out


def test_language_choice() -> None:
    assert language("fr", b"en") == "fr" and language("xx", b"fr-CA") == "fr"
    assert language(None, b"en;q=0.1, fr;q=0") == "en" and language(None, None) == "en"
    assert language(None, b"fr;q=abc, en") == "en"


# -- in Chromium ---------------------------------------------------------------------------

def opted_out_drops(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(drops.c.count), 0))
                                .where(drops.c.reason == "opted_out")).scalar_one())


@pytest.mark.browser
def test_opt_out_page_in_chromium_stops_the_tag_hits(
        browser: Any, live_server: LiveServer, engine: Engine,  # noqa: F811
        site_page: Callable[..., str]) -> None:  # noqa: F811
    key = create_site(engine, "Shop", "127.0.0.1").site.key
    url = site_page(live_server.url, key)
    context = browser.new_context(user_agent=DESKTOP_UA, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/optout?site={key}")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("button", name="Ne plus mesurer mes visites").click()
    assert "Vous vous êtes opposé" in page.locator("[role=status]").inner_text()

    page.goto(url)  # the site's page: its hits reach the tracker with the cookie
    page.evaluate("wl('event', 'after_opt_out')")
    page.click("#next")
    deadline = 50
    while opted_out_drops(engine) < 3 and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert opted_out_drops(engine) >= 3 and stored(engine) == []

    page.goto(f"{live_server.url}/optout?site={key}&lang=en")
    page.get_by_role("button", name="Measure my visits again").click()
    assert "Your visits are measured" in page.locator("[role=status]").inner_text()
    page.goto(url)
    wait_rows(engine, lambda r: len(r) >= 1, "the pageview after opting back in")
    context.close()


@pytest.mark.browser
def test_the_tag_honours_the_site_own_opt_out_flag(
        browser: Any, live_server: LiveServer, engine: Engine,  # noqa: F811
        site_page: Callable[..., str]) -> None:  # noqa: F811
    key = create_site(engine, "Shop", "127.0.0.1").site.key
    url = site_page(live_server.url, key)
    context = browser.new_context(user_agent=DESKTOP_UA)
    page = context.new_page()
    page.goto(url)
    wait_rows(engine, lambda r: len(r) >= 1, "the pageview before opting out")
    # The site's own opt-out button (docs/privacy.md): a first-party flag, no id.
    page.evaluate("document.cookie = '_wl_optout=1; max-age=33696000; path=/'; "
                  "document.cookie = '_wl_vid=; max-age=0; path=/'")
    page.reload()
    page.evaluate("wl('event', 'after_opt_out'); wl('identify', 'zoe@acme.example')")
    rows = quiet(page, engine)  # the first page's engaged time left when it was unloaded
    assert [r.type for r in rows if r.type != "engagement"] == ["pageview"]
    assert opted_out_drops(engine) == 0  # nothing was sent at all
    assert "_wl_vid" not in page.evaluate("document.cookie")

    page.evaluate("document.cookie = '_wl_optout=; max-age=0; path=/'")  # opting back in
    page.reload()
    wait_rows(engine, lambda r: len(r) >= 2, "the pageview after opting back in")
    context.close()
