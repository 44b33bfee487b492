"""Tracked e-mail links on both engines: building a contact's link, ``GET /r/TOKEN``
(redirects, never open, one-time ``wl_t``), and the landing page's hit turning it into
the identification of the contact (the collect path, in-process)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_campaigns_contacts import add_account
from webleads.app import WebleadsApp, create_app
from webleads.campaigns import tracked
from webleads.campaigns.contacts import import_contacts
from webleads.campaigns.model import Campaign, NewCampaign, validate
from webleads.campaigns.redirect import make_tracked_redirect
from webleads.campaigns.reports import campaign_reports
from webleads.db import campaigns as db
from webleads.db.schema import contacts, hits, sessions
from webleads.db.schema_campaigns import tracked_clicks
from webleads.settings import Settings
from webleads.sites import create_site

SECRET = "test-secret"  # the settings fixture's
NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)
UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/126.0.0.0 Safari/537.36")
VISITOR = "visitor-abcdefghijklmn"
CONTACTS = ("email,name,organisation,consent\n"
            "jeanne.martin@acme-industries.example,Jeanne Martin,Acme,yes\n"
            "paul@acme-industries.example,Paul,Acme,no\n")


def setup(engine: Engine, *, ends: date = date(2026, 3, 31)) -> tuple[int, str, Campaign]:
    made = create_site(engine, "Example", "example.com", origins=["https://partner.example"])
    ws = made.site.workspace_id
    with engine.begin() as conn:
        campaign = db.insert_campaign(conn, ws, validate(NewCampaign(
            name="Spring mailing", channel="email", objective="mqls",
            starts_on=date(2026, 3, 1), ends_on=ends, utm_campaign="spring-2026")), now=NOW)
        assert not import_contacts(conn, ws, CONTACTS, now=NOW).errors
    return ws, made.site.key, campaign


def link_of(engine: Engine, campaign: Campaign, email: str, url: str = "https://example.com/erp"
            ) -> tracked.EmailLink:
    with engine.begin() as conn:
        return tracked.build_email_link(conn, campaign, email, url, base="https://t.example/",
                                        secret=SECRET, now=NOW)


def test_links_need_a_known_consenting_contact_and_a_site_page(engine: Engine) -> None:
    _, _, campaign = setup(engine)
    link = link_of(engine, campaign, " Jeanne.Martin@acme-industries.example ")
    assert link.url.startswith("https://t.example/r/")
    assert link.target == ("https://example.com/erp?utm_source=newsletter&utm_medium=email"
                           "&utm_campaign=spring-2026")
    query = parse_qs(urlsplit(link.url).query)
    assert query == {"u": [link.target]}
    # 90 days after the campaign's last day.
    assert link.expires == datetime(2026, 6, 30, tzinfo=UTC)
    for email, url, field in (
            ("paul@acme-industries.example", "https://example.com/", "contact: .*agreed"),
            ("nobody@acme-industries.example", "https://example.com/", "contact: no contact"),
            ("jeanne.martin@acme-industries.example", "https://evil.example/", "url: .*site"),
            ("jeanne.martin@acme-industries.example", "example.com/x", "url")):
        with pytest.raises(ValueError, match=field):
            link_of(engine, campaign, email, url)
    # A sub-domain of the site, or one of its extra origins, is a site page.
    assert link_of(engine, campaign, "jeanne.martin@acme-industries.example",
                   "https://www.example.com/fr/").target.startswith("https://www.example.com/")
    link_of(engine, campaign, "jeanne.martin@acme-industries.example",
            "https://partner.example/landing")


def redirect(engine: Engine, *paths: str, method: str = "GET",
             now: datetime = NOW) -> list[httpx.Response]:
    handler = make_tracked_redirect(engine, secret=SECRET, clock=lambda: now)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=handler)
        async with httpx.AsyncClient(transport=transport, base_url="https://t.example") as c:
            return [await c.request(method, p) for p in paths]

    return asyncio.run(run())


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def clicks(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(tracked_clicks).order_by(tracked_clicks.c.clicked_at)))


def test_redirects_valid_expired_tampered_and_never_open(engine: Engine) -> None:
    _, _, campaign = setup(engine)
    link = link_of(engine, campaign, "jeanne.martin@acme-industries.example")
    path = path_of(link.url)
    token = urlsplit(link.url).path.removeprefix("/r/")
    [ok] = redirect(engine, path)
    assert ok.status_code == 302 and ok.headers["cache-control"] == "no-store"
    location = ok.headers["location"]
    assert location.startswith(link.target + "&wl_t=")
    nonce = location.rsplit("=", 1)[1]
    assert tracked.NONCE.match(nonce) and token not in location
    [row] = clicks(engine)
    assert (row.nonce, row.contact_id, row.campaign_id, row.claimed_at) == (
        nonce, 1, campaign.id, None)
    assert row.expires_at == NOW + timedelta(minutes=30)
    # HEAD (link checkers) redirects without a click or a wl_t.
    [head] = redirect(engine, path, method="HEAD")
    assert head.status_code == 302 and "wl_t" not in head.headers["location"]
    assert len(clicks(engine)) == 1
    # Tampered: still redirects to the page, anonymously.
    forged = path.replace(token, token[:10] + ("x" if token[10] != "x" else "y") + token[11:])
    # Expired: the campaign is known, so its UTM values are added, but no wl_t.
    [tampered] = redirect(engine, forged)
    [expired] = redirect(engine, path, now=link.expires)
    assert tampered.status_code == expired.status_code == 302
    assert tampered.headers["location"] == link.target == expired.headers["location"]
    # Never an open redirect: another host gets the site's home page (valid token) or the
    # 404 page (unknown token), whatever the spelling.
    evil = [f"/r/{token}?u=https://evil.example/", f"/r/{token}?u=//evil.example/",
            f"/r/{token}?u=https://example.com@evil.example/",
            f"/r/{token}?u=javascript:alert(1)", f"/r/{token}?u=https://evil.example%0d%0a"]
    for r in redirect(engine, *evil):
        assert r.status_code == 302
        assert r.headers["location"].startswith("https://example.com/?utm_source=email&"
                                                "utm_medium=email&utm_campaign=spring-2026")
    for r in redirect(engine, "/r/nonsense?u=https://evil.example/", "/r/nonsense",
                      "/r/" + "A" * 5000, "/r/a/b?u=https://example.com/"):
        assert r.status_code == 404 and "Link not valid" in r.text
    [anonymous] = redirect(engine, "/r/nonsense?u=https://www.example.com/x")
    assert anonymous.headers["location"] == "https://www.example.com/x"
    [post] = redirect(engine, path, method="POST")
    assert post.status_code == 405
    # A withdrawn consent stops new identifications, even with a valid link.
    with engine.begin() as conn:
        import_contacts(conn, campaign.workspace_id, "email,consent\n"
                        "jeanne.martin@acme-industries.example,no\n", now=NOW)
    [withdrawn] = redirect(engine, path)
    assert withdrawn.headers["location"] == link.target


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


def collect(app: WebleadsApp, *bodies: tuple[dict[str, Any], str]) -> list[int]:
    """POST each (hit, origin) to /api/collect in turn (each answer comes after its
    commit), the app running once for all of them."""
    async def run() -> list[int]:
        async with app.running():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://t.example") as c:
                out = []
                for body, origin in bodies:
                    r = await c.post("/api/collect", content=json.dumps(body), headers={
                        "content-type": "text/plain", "user-agent": UA, "origin": origin})
                    out.append(r.status_code)
                return out

    return asyncio.run(run())


SITE = "https://example.com"


def test_the_landing_page_identifies_the_contact_once(app: WebleadsApp, engine: Engine) -> None:
    ws, key, campaign = setup(engine, ends=date.today() + timedelta(days=30))
    acme = add_account(engine, ws, "Acme Industries", "acme-industries.example")
    link = link_of(engine, campaign, "jeanne.martin@acme-industries.example")
    [ok] = redirect(engine, path_of(link.url), now=datetime.now(UTC))
    landing = ok.headers["location"]
    earlier = {"site": key, "type": "pageview", "url": "https://example.com/pricing",
               "visitor": VISITOR}
    page = {"site": key, "type": "pageview", "url": landing + "#top", "visitor": VISITOR,
            "referrer": "https://mail.example/"}
    later = {"site": key, "type": "pageview", "url": "https://example.com/erp/features",
             "referrer": landing, "visitor": VISITOR}
    assert collect(app, (earlier, SITE), (page, SITE), (later, SITE), (page, SITE)) == [202] * 4
    assert (app.ingest.links_identified, app.ingest.links_refused) == (1, 1)  # type: ignore
    with engine.connect() as conn:
        stored = list(conn.execute(sa.select(hits).order_by(hits.c.id)))
        visits = list(conn.execute(sa.select(sessions).order_by(sessions.c.id)))
        people = list(conn.execute(sa.select(contacts.c.email, contacts.c.account_id)
                                   .order_by(contacts.c.id)))
    # The nonce is stored nowhere but in tracked_clicks.
    assert all("wl_t" not in f"{h.url} {h.referrer}" for h in stored)
    assert all("wl_t" not in v.entry_url for v in visits)
    assert [h.type for h in stored] == ["pageview", "pageview", "identify", "pageview",
                                        "pageview"]
    assert stored[1].url == link.target + "#top" == stored[2].url
    # The contact: this session, the earlier anonymous one, and the account.
    assert [v.contact_id for v in visits] == [1, 1]
    assert visits[1].account_id == acme and visits[1].utm_campaign == "spring-2026"
    assert people[0] == ("jeanne.martin@acme-industries.example", acme)
    assert {h.contact_id for h in stored[1:]} == {1}
    [click] = clicks(engine)
    assert click.claimed_at is not None
    with engine.connect() as conn:
        [report] = campaign_reports(conn, ws)
    assert (report.sessions, report.identified_accounts, report.email_clicks,
            report.contacts_clicked, report.identified_by_link) == (1, 1, 1, 1, 1)


def test_a_forged_or_foreign_wl_t_identifies_nobody(app: WebleadsApp, engine: Engine) -> None:
    ws, key, campaign = setup(engine, ends=date.today() + timedelta(days=30))
    other = create_site(engine, "Other", "other.example", workspace="Other")
    link = link_of(engine, campaign, "jeanne.martin@acme-industries.example")
    [ok] = redirect(engine, path_of(link.url), now=datetime.now(UTC))
    nonce = ok.headers["location"].rsplit("=", 1)[1]
    forged = "A" * 22
    bodies = [
        {"site": key, "type": "pageview", "url": f"https://example.com/?wl_t={forged}",
         "visitor": VISITOR},
        # a real nonce, sent from another workspace's site
        {"site": other.site.key, "type": "pageview",
         "url": f"https://other.example/?a=1&wl_t={nonce}", "visitor": VISITOR},
        {"site": key, "type": "pageview", "url": "https://example.com/?wl_t=", "visitor": VISITOR},
    ]
    assert collect(app, (bodies[0], SITE), (bodies[2], SITE),
                   (bodies[1], "https://other.example")) == [202] * 3
    with engine.connect() as conn:
        stored = list(conn.execute(sa.select(hits.c.type, hits.c.url, hits.c.contact_id)
                                   .order_by(hits.c.id)))
    assert [tuple(r) for r in stored] == [
        ("pageview", "https://example.com/", None), ("pageview", "https://example.com/", None),
        ("pageview", "https://other.example/?a=1", None)]
    [click] = clicks(engine)
    assert click.claimed_at is None  # still claimable by its own workspace's page


@pytest.mark.parametrize(("url", "clean", "value"), [
    ("https://a.example/x?wl_t=abc", "https://a.example/x", "abc"),
    ("https://a.example/x?a=1&wl_t=abc&b=2#h", "https://a.example/x?a=1&b=2#h", "abc"),
    ("https://a.example/x?a=1&wl_t=abc&wl_t=def", "https://a.example/x?a=1", "abc"),
    ("https://a.example/x?xwl_t=abc", "https://a.example/x?xwl_t=abc", None),
    ("https://a.example/x#wl_t=abc", "https://a.example/x#wl_t=abc", None),
    ("", "", None),
])
def test_strip_param(url: str, clean: str, value: str | None) -> None:
    assert tracked.strip_param(url) == (clean, value)


@pytest.mark.parametrize("case", ["audience", "refused", "dnt"])
def test_no_identification_by_link_where_the_site_forbids_it(app: WebleadsApp,
                                                             engine: Engine,
                                                             case: str) -> None:
    """A tracked link's landing page on an audience-mode site, without consent, or
    with Do Not Track: the address is cleaned, nobody is identified, the click stays
    unclaimed."""
    from webleads.sites import update_site

    ws, key, campaign = setup(engine, ends=date.today() + timedelta(days=30))
    link = link_of(engine, campaign, "jeanne.martin@acme-industries.example")
    [ok] = redirect(engine, path_of(link.url), now=datetime.now(UTC))
    page: dict[str, Any] = {"site": key, "type": "pageview", "url": ok.headers["location"],
                            "visitor": VISITOR}
    if case == "audience":
        update_site(engine, key, privacy_mode="audience")
    elif case == "refused":
        page["consent"] = False
    app.sites.reload()
    headers = {"dnt": "1"} if case == "dnt" else {}

    async def run() -> int:
        async with app.running():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://t.example") as c:
                r = await c.post("/api/collect", content=json.dumps(page), headers={
                    "content-type": "text/plain", "user-agent": UA, "origin": SITE,
                    **headers})
                return r.status_code

    assert asyncio.run(run()) == 202
    with engine.connect() as conn:
        stored = list(conn.execute(sa.select(hits.c.type, hits.c.url, hits.c.contact_id)))
    assert all(r.contact_id is None and "wl_t" not in r.url for r in stored)
    assert "identify" not in [r.type for r in stored]
    [click] = clicks(engine)
    assert click.claimed_at is None
