"""Settings pages: data sources and their licences, the workspace's network overrides
(add, list, remove, stored hits identified again), and the audit log, on SQLite and
PostgreSQL through a real server."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user, text
from webleads.app import WebleadsApp, create_app
from webleads.db.overrides import upsert_override
from webleads.db.schema import hits, network_overrides
from webleads.db.schema_privacy import audit_log
from webleads.networks.overrides import Override
from webleads.networks.sources import status_rows
from webleads.privacy.audit import record_audit
from webleads.settings import Settings
from webleads.sites import create_site

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


def words(page: str) -> str:
    return html.unescape(text(page))


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<small class="error" id="e-{name}">(.*?)</small>', page, re.S)
    return words(found.group(1)) if found else ""


def test_data_sources_show_licences_and_attributions_to_every_role(app: WebleadsApp) -> None:
    create_site(app.engine, "Shop", "shop.example", workspace="Acme")
    add_user(app, "rep@acme.example", workspace=1, role="sales")
    rows = status_rows(app.settings.data_dir)
    assert rows, "the package ships network data"
    with Browser(app) as b:
        b.login("rep@acme.example")
        page = b.get("/w/1/settings/data")
        assert page.status_code == 200
        shown = words(page.text)
        for row in rows:
            assert row["name"] in shown
            if row["licence"]:
                assert row["licence"] in shown
            if row["attribution"]:
                assert row["attribution"] in shown
        assert "shipped" in shown
        assert 'aria-current="page">Data sources</a>' in page.text
        assert "Add an override" not in shown  # sales reps do not change overrides
        # The footer's link of every page leads here.
        assert 'href="/w/1/settings/data"' in page.text
    with Browser(app, lang="fr") as b:
        b.login("rep@acme.example")
        b.post("/lang", {"lang": "fr", "next": "/"})
        assert "Sources de données de l'identification" in words(b.get("/w/1/settings/data").text)


def test_overrides_add_list_remove_and_stored_hits_follow(app: WebleadsApp) -> None:
    site = create_site(app.engine, "Shop", "shop.example", workspace="Acme").site
    add_user(app, "mk@acme.example", workspace=1, role="marketer")
    with Browser(app) as b:
        # A visit from this machine (127.0.0.1), stored through the real collect path.
        stored = b.client.post("/api/collect", content=json.dumps({
            "site": site.key, "type": "pageview", "url": "https://shop.example/",
            "visitor": "visitor-0001"}).encode(), headers={
            "content-type": "text/plain;charset=UTF-8", "user-agent": CHROME})
        assert stored.status_code == 202
        b.login("mk@acme.example")
        assert "No override yet" in words(b.get("/w/1/settings/data").text)
        bad = b.post("/w/1/settings/data/overrides", {"target": "10.0.0.300/8", "role": "office"})
        assert bad.status_code == 400 and "neither a network" in field_error(bad.text, "target")
        bad = b.post("/w/1/settings/data/overrides", {"target": "AS64500", "role": "customer"})
        assert bad.status_code == 400
        assert "need an organisation" in field_error(bad.text, "organisation")
        assert 'value="AS64500"' in bad.text  # what was typed stays
        bad = b.post("/w/1/settings/data/overrides", {"target": "AS64500", "role": "boss"})
        assert bad.status_code == 400 and field_error(bad.text, "role")
        added = b.post("/w/1/settings/data/overrides", {
            "target": "127.0.0.0/8", "role": "customer", "organisation": "Loopback Industries",
            "domain": "loopback.example", "note": "our best customer"})
        assert added.status_code == 303, words(added.text)[:300]
        assert "1 of the 1 stored hits of this network re-identified" in html.unescape(
            added.headers["location"].replace("%20", " "))
        with app.engine.connect() as conn:
            assert conn.execute(sa.select(hits.c.org_name)).scalar() == "Loopback Industries"
            override_id = conn.execute(sa.select(network_overrides.c.id)).scalar_one()
        listed = words(b.get("/w/1/settings/data").text)
        assert "127.0.0.0/8" in listed and "Loopback Industries" in listed
        assert "our best customer" in listed
        removed = b.post(f"/w/1/settings/data/overrides/{override_id}/remove")
        assert removed.status_code == 303
        assert "No override yet" in words(b.get("/w/1/settings/data").text)
        with app.engine.connect() as conn:
            assert conn.execute(sa.select(hits.c.org_name)).scalar() != "Loopback Industries"
        assert b.post(f"/w/1/settings/data/overrides/{override_id}/remove").status_code == 404
    actions = [r.action for r in _audit(app.engine)]
    assert actions[-2:] == ["override.add", "override.remove"]


def test_overrides_of_another_workspace_and_sales_reps(app: WebleadsApp) -> None:
    create_site(app.engine, "Shop", "shop.example", workspace="Acme")
    create_site(app.engine, "Theirs", "theirs.example", workspace="Globex")
    add_user(app, "admin@acme.example", workspace=1)
    add_user(app, "rep@acme.example", workspace=1, role="sales")
    now = datetime.now(UTC)
    with app.engine.begin() as conn:
        theirs = upsert_override(conn, Override(workspace_id=2, role="office",
                                                cidr="198.51.100.0/24"), now=now)
        ours = upsert_override(conn, Override(workspace_id=1, role="office",
                                              cidr="203.0.113.0/24"), now=now)
    with Browser(app) as b:
        b.login("admin@acme.example")
        page = words(b.get("/w/1/settings/data").text)
        assert "203.0.113.0/24" in page and "198.51.100.0/24" not in page
        assert b.post(f"/w/1/settings/data/overrides/{theirs}/remove").status_code == 404
        for bad_id in ("abc", "9" * 40, "-3"):
            assert b.post(f"/w/1/settings/data/overrides/{bad_id}/remove").status_code in (
                400, 404)
        assert b.post("/w/1/settings/data/overrides", {
            "target": "x" * 500, "role": "office", "note": "a\x00b"}).status_code == 400
    with Browser(app) as b:
        b.login("rep@acme.example")
        assert "203.0.113.0/24" in words(b.get("/w/1/settings/data").text)
        assert b.post(f"/w/1/settings/data/overrides/{ours}/remove").status_code == 403
        assert b.post("/w/1/settings/data/overrides",
                      {"target": "192.0.2.0/24", "role": "office"}).status_code == 403
    with app.engine.connect() as conn:
        assert sorted(conn.execute(sa.select(network_overrides.c.cidr)).scalars()) == [
            "198.51.100.0/24", "203.0.113.0/24"]


def _audit(engine: Engine) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log).order_by(audit_log.c.id)))


def test_audit_log_is_paginated_filtered_and_for_admins_only(app: WebleadsApp) -> None:
    create_site(app.engine, "Shop", "shop.example", workspace="Acme")
    create_site(app.engine, "Theirs", "theirs.example", workspace="Globex")
    add_user(app, "admin@acme.example", workspace=1)
    add_user(app, "mk@acme.example", workspace=1, role="marketer")
    add_user(app, "rep@acme.example", workspace=1, role="sales")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with app.engine.begin() as conn:
        for i in range(60):
            record_audit(conn, workspace_id=1, actor="purge job", action="retention.purge",
                         target=f"site:n{i:02d}", details={"hits": i},
                         now=start + timedelta(minutes=i))
        record_audit(conn, workspace_id=2, actor="someone", action="retention.purge",
                     target="site:globex-secret", details={}, now=start)
    with Browser(app) as b:
        b.login("admin@acme.example")
        first = words(b.get("/w/1/settings/audit").text)
        # Newest first: the three user.create entries (now), then the purges from n59 down.
        assert "Page 1 of 2 (63 entries)" in first
        assert "site:n59" in first and "site:n13" in first and "site:n12" not in first
        assert "globex-secret" not in first
        second = words(b.get("/w/1/settings/audit?page=2").text)
        assert "site:n12" in second and "site:n00" in second and "site:n13" not in second
        beyond = words(b.get("/w/1/settings/audit?page=" + "9" * 25).text)
        assert "Page 2 of 2" in beyond
        only = words(b.get("/w/1/settings/audit?action=user.create").text)
        assert "Page 1 of 1 (3 entries)" in only and "site:n59" not in only
        unknown = words(b.get("/w/1/settings/audit?action=<script>").text)
        assert "63 entries" in unknown
        assert b.get("/w/1/settings/audit?page=x").status_code == 400
        assert b.get("/w/2/settings/audit").status_code == 404
    for who in ("mk@acme.example", "rep@acme.example"):
        with Browser(app) as b:
            b.login(who)
            assert b.get("/w/1/settings/audit").status_code == 403
            assert "/settings/audit" not in b.get("/w/1/settings/data").text
