"""Settings pages: sites and their tag (snippet, secret shown once, the live "tag
received" check), the privacy tab (retention, data subjects, record of processing),
roles and workspace scoping, on SQLite and PostgreSQL through a real server."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user
from tests.dashboard import text as raw_text
from webleads.app import WebleadsApp, create_app
from webleads.db.schema import contacts, sites
from webleads.db.schema_privacy import audit_log, site_retention
from webleads.model import Site
from webleads.settings import Settings
from webleads.sites import check_secret, create_site

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
GOOD = {"name": "Shop", "domain": "shop.example", "origins": "https://www.shop-cdn.example",
        "timezone": "Europe/Paris", "identity_mode": "cookie", "ip_mode": "truncate",
        "respect_dnt": "on", "ignored_networks": "192.0.2.0/24\n2001:db8::/48",
        "rule_pattern": ["/pricing*", "/crm/**", ""], "rule_group": ["Pricing", "CRM", ""]}


def text(page: str) -> str:
    """The visible text of a page, entities decoded."""
    return html.unescape(raw_text(page))


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


def field_error(html: str, name: str) -> str:
    """The error message shown under the field ``name``."""
    found = re.search(rf'<small class="error" id="e-{name}">(.*?)</small>', html, re.S)
    return text(found.group(1)) if found else ""


def collect(b: Browser, body: dict[str, Any], **headers: str) -> httpx.Response:
    return b.client.post("/api/collect", content=json.dumps(body).encode(), headers={
        "content-type": "text/plain;charset=UTF-8", "user-agent": CHROME, **headers})


def audit_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log).order_by(audit_log.c.id)))


def test_create_a_site_then_see_its_tag_and_the_secret_only_once(app: WebleadsApp) -> None:
    add_user(app, "admin@acme.example", workspace="Acme")
    with Browser(app) as b:
        b.login("admin@acme.example")
        assert b.get("/w/1/settings").headers["location"] == "/w/1/settings/sites"
        empty = b.get("/w/1/settings/sites")
        assert empty.status_code == 200 and "No site yet" in text(empty.text)
        assert 'aria-current="page">Sites</a>' in empty.text
        assert b.get("/w/1/settings/sites/new").status_code == 200
        created = b.post("/w/1/settings/sites/new", GOOD)
        assert created.status_code == 201, text(created.text)[:500]
        with app.engine.connect() as conn:
            row = conn.execute(sa.select(sites)).one()
        assert (row.workspace_id, row.domain, row.timezone) == (1, "shop.example", "Europe/Paris")
        assert row.ignored_networks == ["192.0.2.0/24", "2001:db8::/48"]
        assert row.page_groups == [{"group": "Pricing", "pattern": "/pricing*"},
                                   {"group": "CRM", "pattern": "/crm/**"}]
        secret = re.search(r"wls_[\w-]+", created.text)
        assert secret is not None
        assert check_secret(Site(id=row.id, workspace_id=1, key=row.key, name="",
                                 domain="", secret_hash=row.secret_hash), secret.group(0))
        assert "shown only this once" in text(created.text)
        # The snippet: script and noscript pixel, with the request's base URL, copyable.
        assert f'{b.base}/wl.js&#34; data-site=&#34;{row.key}&#34;' in created.text
        assert f"{b.base}/p.gif?site={row.key}" in created.text
        assert f'data-copy="snippet-{row.id}"' in created.text
        page = b.get(f"/w/1/settings/sites/{row.id}")
        assert page.status_code == 200
        assert f"/p.gif?site={row.key}" in page.text and "&lt;noscript&gt;" in page.text
        assert secret.group(0) not in page.text and "wls_" not in page.text
        listing = text(b.get("/w/1/settings/sites").text)
        assert "shop.example" in listing and row.key in listing and "no hit yet" in listing
    assert [(r.action, r.actor) for r in audit_rows(app.engine)][-1] == (
        "site.create", "admin@acme.example")


BAD_FIELDS = [
    ("domain", "not a domain!", "This is not a host name"),
    ("ignored_networks", "192.0.2.0/24\n10.0.0.300/8", "“10.0.0.300/8” is not a network"),
    ("timezone", "Mars/Olympus", "Unknown time zone"),
    ("origins", "ftp://files.example", "Write each origin like"),
    ("name", "", "Give the site a name"),
]


def test_a_bad_field_is_shown_next_to_it_with_a_400(app: WebleadsApp) -> None:
    add_user(app, "admin@acme.example", workspace="Acme")
    existing = create_site(app.engine, "Old", "old.example", workspace="Acme").site
    with Browser(app) as b:
        b.login("admin@acme.example")
        for field, value, message in BAD_FIELDS:
            bad = b.post("/w/1/settings/sites/new", {**GOOD, field: value})
            assert bad.status_code == 400, field
            assert message in field_error(bad.text, field), field
            others = [f for f, _, _ in BAD_FIELDS if f != field]
            assert not any(field_error(bad.text, f) for f in others)  # next to this field only
            assert 'value="Shop"' in bad.text or field == "name"  # what was typed stays
            edit = b.post(f"/w/1/settings/sites/{existing.id}", {**GOOD, field: value})
            assert edit.status_code == 400 and message in field_error(edit.text, field)
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(sites.c.domain)).scalars().all() == ["old.example"]


def test_bad_input_of_any_shape_is_a_400_or_404_never_a_500(app: WebleadsApp) -> None:
    add_user(app, "admin@acme.example", workspace="Acme")
    site = create_site(app.engine, "Old", "old.example", workspace="Acme").site
    with Browser(app) as b:
        b.login("admin@acme.example")
        for data in ({}, {"name": "x\x00y", "domain": "a.example"},
                     {**GOOD, "name": "n" * 20_000}, {**GOOD, "identity_mode": "maybe"},
                     {**GOOD, "ip_mode": ""}, {**GOOD, "rule_pattern": ["pricing"],
                                               "rule_group": ["P"]},
                     {**GOOD, "rule_pattern": ["/p"], "rule_group": ["g" * 150]},
                     {**GOOD, "origins": "\n".join(f"https://o{i}.example" for i in range(300))}):
            assert b.post("/w/1/settings/sites/new", data).status_code == 400, data
            assert b.post(f"/w/1/settings/sites/{site.id}", data).status_code == 400, data
        for path in ("/w/1/settings/sites/abc", "/w/1/settings/sites/" + "9" * 40,
                     "/w/1/settings/sites/-1", "/w/1/settings/sites/0/check",
                     "/w/1/settings/privacy/record?lang=xx&format=zz",
                     "/w/1/settings/audit?page=" + "9" * 30, "/w/1/settings/audit?page=x"):
            assert b.get(path).status_code in (200, 400, 404), path
        for data in ({"hits_days": "0", "sessions_days": "1", "contacts_days": "1"},
                     {"hits_days": "1e9"}, {"hits_days": "٣"}, {}):
            assert b.post(f"/w/1/settings/privacy/retention/{site.id}",
                          data).status_code == 400
        for email in ("", "not-an-address", "a@b\x00.example", "x" * 300 + "@a.example"):
            assert b.post("/w/1/settings/privacy/export", {"email": email}).status_code == 400
            assert b.post("/w/1/settings/privacy/erase", {"email": email}).status_code == 400


def test_tag_check_turns_from_waiting_to_received_after_a_hit(app: WebleadsApp) -> None:
    add_user(app, "admin@acme.example", workspace="Acme")
    site = create_site(app.engine, "Shop", "shop.example", workspace="Acme").site
    check = f"/w/1/settings/sites/{site.id}/check"
    with Browser(app) as b:
        b.login("admin@acme.example")
        page = b.get(f"/w/1/settings/sites/{site.id}")
        assert f'hx-get="{check}"' in page.text and 'hx-trigger="every 5s"' in page.text
        waiting = b.htmx("GET", check)
        assert waiting.status_code == 200 and "<html" not in waiting.text
        assert "Waiting for the first hit" in text(waiting.text)
        # Refused (a page of another domain) and dropped (a crawler): explained.
        assert collect(b, {"site": site.key, "type": "pageview", "url": "https://evil.example/"},
                       origin="https://evil.example").status_code == 403
        assert collect(b, {"site": site.key, "type": "pageview",
                           "url": "https://shop.example/"}, **{"user-agent": "Googlebot/2.1"}
                       ).status_code == 202
        why = text(b.htmx("GET", check).text)
        assert "Waiting for the first hit" in why
        assert "not on the site's domain" in why and "Declared crawlers" in why
        stored = collect(b, {"site": site.key, "type": "pageview", "visitor": "visitor-0001",
                             "url": "https://shop.example/pricing"},
                         origin="https://shop.example")
        assert stored.status_code == 202 and stored.json()["accepted"] == 1
        received = text(b.htmx("GET", check).text)
        assert "Waiting" not in received
        assert "Last hit received just now from https://shop.example/pricing" in received
        assert "1 hit today." in received
        listing = text(b.get("/w/1/settings/sites").text)
        assert "just now" in listing and "no hit yet" not in listing
    with Browser(app, lang="fr") as b:
        b.login("admin@acme.example")
        b.post("/lang", {"lang": "fr", "next": "/"})
        fr = text(b.htmx("GET", check).text)
        assert "Dernier hit reçu à l'instant depuis https://shop.example/pricing" in fr


def test_roles_marketers_view_sales_reps_see_the_tag_only(app: WebleadsApp) -> None:
    site = create_site(app.engine, "Shop", "shop.example", workspace="Acme").site
    add_user(app, "mk@acme.example", workspace=1, role="marketer")
    add_user(app, "rep@acme.example", workspace=1, role="sales")
    for who in ("mk@acme.example", "rep@acme.example"):
        with Browser(app) as b:
            b.login(who)
            assert b.get("/w/1/settings/sites").status_code == 200
            page = b.get(f"/w/1/settings/sites/{site.id}")
            assert page.status_code == 200 and f"/p.gif?site={site.key}" in page.text
            assert 'name="domain"' not in page.text  # no form
            assert b.htmx("GET", f"/w/1/settings/sites/{site.id}/check").status_code == 200
            assert b.get("/w/1/settings/sites/new").status_code == 403
            assert b.post("/w/1/settings/sites/new", GOOD).status_code == 403
            assert b.post(f"/w/1/settings/sites/{site.id}", GOOD).status_code == 403
            assert b.post(f"/w/1/settings/privacy/retention/{site.id}", {
                "hits_days": "30", "sessions_days": "30", "contacts_days": "30"}
            ).status_code == 403
            assert b.post("/w/1/settings/privacy/erase",
                          {"email": "a@b.example", "confirm": "yes"}).status_code == 403
            privacy = b.get("/w/1/settings/privacy")
            export = b.post("/w/1/settings/privacy/export", {"email": "a@b.example"})
            if who.startswith("rep"):
                assert privacy.status_code == 403 and export.status_code == 403
                assert b.get("/w/1/settings/privacy/record").status_code == 403
                assert "/settings/privacy" not in page.text.split('class="tabs"')[1][:2000]
            else:
                assert privacy.status_code == 200 and export.status_code == 200
                assert 'name="hits_days"' not in privacy.text  # retention read-only
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(sites.c.domain)).scalars().all() == ["shop.example"]


def test_a_site_of_another_workspace_is_404_on_every_route(app: WebleadsApp) -> None:
    add_user(app, "admin@acme.example", workspace="Acme")
    other = create_site(app.engine, "Theirs", "theirs.example", workspace="Globex").site
    assert other.workspace_id == 2
    with Browser(app) as b:
        b.login("admin@acme.example")
        for path in (f"/w/1/settings/sites/{other.id}", f"/w/1/settings/sites/{other.id}/check"):
            assert b.get(path).status_code == 404, path
        assert b.post(f"/w/1/settings/sites/{other.id}", GOOD).status_code == 404
        assert b.post(f"/w/1/settings/privacy/retention/{other.id}", {
            "hits_days": "1", "sessions_days": "1", "contacts_days": "1"}).status_code == 404
        assert b.get("/w/2/settings/sites").status_code == 404
        assert b.get(f"/w/2/settings/sites/{other.id}").status_code == 404
        listing = text(b.get("/w/1/settings/sites").text)
        assert "theirs.example" not in listing
        record = text(b.get("/w/1/settings/privacy/record?lang=en").text)
        assert "theirs.example" not in record
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(site_retention)).all() == []


def test_retention_is_saved_and_audited(app: WebleadsApp) -> None:
    add_user(app, "admin@acme.example", workspace="Acme")
    site = create_site(app.engine, "Shop", "shop.example", workspace="Acme").site
    with Browser(app) as b:
        b.login("admin@acme.example")
        page = text(b.get("/w/1/settings/privacy").text)
        assert "Returning visitors are recognised by a first-party cookie" in page
        bad = b.post(f"/w/1/settings/privacy/retention/{site.id}",
                     {"hits_days": "90", "sessions_days": "0", "contacts_days": "abc"})
        assert bad.status_code == 400
        assert "from 1 to 36" in text(re.search(
            rf'id="re-{site.id}-sessions_days">(.*?)<', bad.text).group(1))  # type: ignore[union-attr]
        assert f'id="re-{site.id}-contacts_days"' in bad.text
        assert f'id="re-{site.id}-hits_days"' not in bad.text
        saved = b.post(f"/w/1/settings/privacy/retention/{site.id}",
                       {"hits_days": "90", "sessions_days": "180", "contacts_days": "365"})
        assert saved.status_code == 303
        assert 'value="180"' in b.get("/w/1/settings/privacy").text
    with app.engine.connect() as conn:
        row = conn.execute(sa.select(site_retention)).one()
    assert (row.hits_days, row.sessions_days, row.contacts_days) == (90, 180, 365)
    last = audit_rows(app.engine)[-1]
    assert (last.action, last.actor, last.workspace_id) == ("retention.set",
                                                            "admin@acme.example", 1)
    assert last.details["sessions_days"] == 180


def test_export_then_erase_a_data_subject(app: WebleadsApp) -> None:
    add_user(app, "admin@acme.example", workspace="Acme")
    site = create_site(app.engine, "Shop", "shop.example", workspace="Acme").site
    theirs = create_site(app.engine, "Theirs", "theirs.example", workspace="Globex").site
    with Browser(app) as b:
        for s in (site, theirs):
            for body in ({"type": "pageview", "url": f"https://{s.domain}/pricing"},
                         {"type": "identify", "email": "Jane.Doe@Client.example"}):
                assert collect(b, {"site": s.key, "visitor": "visitor-jane", **body}
                               ).status_code == 202
        b.login("admin@acme.example")
        download = b.post("/w/1/settings/privacy/export",
                          {"email": "jane.doe@client.example", "format": "json"})
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("application/json")
        assert download.headers["content-disposition"].startswith("attachment;")
        data = download.json()
        assert data["email"] == "jane.doe@client.example"
        assert [c["email"] for c in data["contacts"]] == ["jane.doe@client.example"]
        assert {h["url"] for h in data["hits"]} >= {"https://shop.example/pricing"}
        assert "theirs.example" not in download.text  # only this workspace
        shown = text(b.post("/w/1/settings/privacy/export",
                            {"email": "jane.doe@client.example"}).text)
        assert "Data held about jane.doe@client.example" in shown
        summary = b.post("/w/1/settings/privacy/export",
                         {"email": "jane.doe@client.example", "format": "md"})
        assert summary.headers["content-type"].startswith("text/markdown")
        # Step one shows what is held and erases nothing.
        confirm = b.post("/w/1/settings/privacy/erase", {"email": "jane.doe@client.example"})
        assert confirm.status_code == 200 and "data-confirm=" in confirm.text
        assert "1 contact record" in text(confirm.text)
        with app.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(contacts)).scalar() == 2
        erased = b.post("/w/1/settings/privacy/erase",
                        {"email": "jane.doe@client.example", "confirm": "yes"})
        assert erased.status_code == 303 and "Erased" in erased.headers["location"]
        again = b.post("/w/1/settings/privacy/export",
                       {"email": "jane.doe@client.example", "format": "json"}).json()
        assert again["contacts"] == [] and again["hits"] == [] and again["sessions"] == []
    with app.engine.connect() as conn:
        left = conn.execute(sa.select(contacts.c.workspace_id)).scalars().all()
    assert left == [2]  # the other workspace's contact is not touched
    rows = audit_rows(app.engine)
    erase = [r for r in rows if r.action == "privacy.erase"]
    assert len(erase) == 1 and erase[0].workspace_id == 1
    assert erase[0].target.startswith("subject:sha256:")
    assert [r.action for r in rows].count("privacy.export") == 4
    assert not any("client.example" in json.dumps([r.target, r.details]) for r in rows)


def test_record_of_processing_in_french_and_english_follows_the_sites(app: WebleadsApp
                                                                      ) -> None:
    add_user(app, "admin@acme.example", workspace="Acme")
    site = create_site(app.engine, "Shop", "shop.example", workspace="Acme").site
    with Browser(app) as b:
        b.login("admin@acme.example")
        en = text(b.get("/w/1/settings/privacy/record?lang=en").text)
        fr = text(b.get("/w/1/settings/privacy/record?lang=fr").text)
        assert "Record of processing activities" in en and "first-party cookie" in en
        assert "Registre des activités de traitement" in fr and "cookie propriétaire" in fr
        md = b.get("/w/1/settings/privacy/record?lang=fr&format=md")
        assert md.headers["content-disposition"].startswith("attachment;")
        assert md.text.startswith("# Registre")
        changed = b.post(f"/w/1/settings/sites/{site.id}", {
            **GOOD, "domain": "shop.example", "identity_mode": "cookieless"})
        assert changed.status_code == 303
        en = text(b.get("/w/1/settings/privacy/record?lang=en").text)
        assert "daily hash, no cookie" in en and "first-party cookie" not in en
        assert "No cookie: visitors are counted" in text(b.get("/w/1/settings/privacy").text)
    update = [r for r in audit_rows(app.engine) if r.action == "site.update"]
    assert update[-1].details["identity_mode"] == "cookieless"


def test_settings_pages_in_french(app: WebleadsApp) -> None:
    add_user(app, "admin@acme.example", workspace="Acme", locale="fr")
    site = create_site(app.engine, "Shop", "shop.example", workspace="Acme").site
    with Browser(app, lang="fr") as b:
        b.login("admin@acme.example")
        listing = text(b.get("/w/1/settings/sites").text)
        assert "Ajouter un site" in listing and "Hits aujourd'hui" in listing
        page = text(b.get(f"/w/1/settings/sites/{site.id}").text)
        assert "Copier le tag" in page and "En attente du premier hit" in page
        privacy = text(b.get("/w/1/settings/privacy").text)
        assert "Personnes concernées" in privacy and "Registre des traitements" in privacy
        bad = b.post("/w/1/settings/sites/new", {**GOOD, "timezone": "Mars/Olympus"})
        assert "Fuseau horaire inconnu" in field_error(bad.text, "timezone")


def test_privacy_mode_and_consent_from_the_dashboard(app: WebleadsApp) -> None:
    """A site moved to audience mode: saved with who did it, and its retention then
    refuses more than 25 months with the reason next to the field (not a 500)."""
    add_user(app, "admin@acme.example", workspace="Acme")
    site = create_site(app.engine, "Shop", "shop.example", workspace="Acme").site
    with Browser(app) as b:
        b.login("admin@acme.example")
        page = text(b.get(f"/w/1/settings/sites/{site.id}").text)
        assert "Audience measurement" in page and "Before the visitor's consent" in page
        bad = b.post(f"/w/1/settings/sites/{site.id}", {**GOOD, "privacy_mode": "spy"})
        assert bad.status_code == 400
        assert field_error(bad.text, "privacy_mode") == "Choose audience or B2B."
        saved = b.post(f"/w/1/settings/sites/{site.id}",
                       {**GOOD, "privacy_mode": "audience", "consent": "wait"})
        assert saved.status_code in (200, 303), saved.text[:300]
        with app.engine.connect() as conn:
            row = conn.execute(sa.select(sites.c.privacy_mode, sites.c.consent)
                               .where(sites.c.id == site.id)).one()
        assert tuple(row) == ("audience", "wait")
        assert [r.actor for r in audit_rows(app.engine) if r.action == "site.privacy"] == [
            "admin@acme.example"]
        refused = b.post(f"/w/1/settings/privacy/retention/{site.id}",
                         {"hits_days": "900", "sessions_days": "180", "contacts_days": "365"})
        assert refused.status_code == 400
        assert "25 months" in text(re.search(
            rf'id="re-{site.id}-hits_days">(.*?)<', refused.text).group(1))  # type: ignore[union-attr]
