"""The account page, on both engines: what a sales rep reads before calling (identity
with its evidence, score with why and history, interest, sessions, contacts, owner,
stage, notes) and what they change there; corrections of the identification; 404
across workspaces, 403 by role, 400 for bad forms; English and French.

Hits get into the database through the real store path (``store.store_hits``: sessions,
accounts, scoring, lifecycle) with the networks the shipped data gives real addresses.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user, text
from webleads.app import WebleadsApp, create_app, make_resolver
from webleads.db import store
from webleads.db.schema import accounts, hits, sessions
from webleads.db.schema_fr import account_fr, fr_companies
from webleads.db.schema_privacy import audit_log
from webleads.db.schema_scoring import account_scores
from webleads.db.schema_web import memberships
from webleads.enrich.anonymise import truncate_ip
from webleads.lifecycle import actions
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.networks.resolver import NetworkResolver
from webleads.settings import Settings
from webleads.sites import NewSite, create_site

SG_IP = "194.119.0.10"  # AS3299, curated: Société Générale (enterprise)
ISP_IP = "90.1.2.3"  # AS3215, curated: Orange (isp)
NOW = datetime.now(UTC)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    made = create_app(settings, engine=engine)
    # Log-ins are not what this module tests: a cheap hash keeps it quick.
    made.web.users.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return made


@lru_cache(maxsize=1)
def _resolver(settings: Settings) -> NetworkResolver:
    """The shipped network data, as collect would use it."""
    return make_resolver(settings)


def hit(app: WebleadsApp, site: Site, visitor: str, ago: timedelta, path: str, *,
        ip: str = SG_IP, kind: HitType = "pageview", title: str = "", group: str | None = None,
        utm: str | None = None, email: str | None = None, engaged: int = 0,
        traits: dict[str, Any] | None = None, network: Network | None = None) -> Hit:
    network = network or _resolver(app.settings).lookup(ip)
    assert network is not None
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon=truncate_ip(ip), browser="Firefox", os="Linux",
                    device_type="desktop", country=network.country)
    ts = NOW - ago
    return Hit(client=client, type=kind, ts=ts, received_at=ts,
               url=f"https://www.example.com{path}", title=title, page_group=group,
               engaged_ms=engaged, email=email, traits=traits,
               source_class="paid" if utm else "direct",
               source_name=utm, utm_source=utm, utm_medium="cpc" if utm else None,
               utm_campaign="spring-launch" if utm else None)


def save(app: WebleadsApp, batch: list[Hit]) -> None:
    with app.engine.begin() as conn:
        store.store_hits(conn, batch)


def visits(app: WebleadsApp, site: Site, *, email: bool = True) -> None:
    """Société Générale: an old visit (products, pricing), then Jane's visit with a
    demo page and a form two days ago; an ISP visitor nobody knows.  (Jane's e-mail on
    the company's domain ties her to it whatever the network: ``email=False`` for a
    form without it.)"""
    d = timedelta(days=1)
    m = timedelta(minutes=1)
    save(app, [
        hit(app, site, "v-old", 30 * d, "/products/crm", title="CRM for banks", group="crm"),
        hit(app, site, "v-old", 30 * d - m, "/pricing", title="Pricing", group="pricing"),
        hit(app, site, "v-jane", 2 * d, "/demo", title="Book a demo", utm="linkedin",
            group="pricing"),
        hit(app, site, "v-jane", 2 * d - 2 * m, "/contact", kind="form", title="Contact us",
            email="jane.doe@societegenerale.com" if email else None,
            traits={"first_name": "Jane", "last_name": "Doe"}, engaged=95_000),
        hit(app, site, "v-home", d, "/pricing", ip=ISP_IP, title="Pricing"),
    ])


def account_id(app: WebleadsApp, name: str) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(sa.select(accounts.c.id).where(accounts.c.name == name))
                   .scalar_one())


def shown(page: str) -> str:
    """The visible text of a page, entities decoded."""
    return html.unescape(text(page))


def chart(page: str, chart_id: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{chart_id}">(.*?)</script>',
                      page, re.S)
    assert found, chart_id
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


def test_the_page_shows_what_a_rep_reads_before_calling(app: WebleadsApp,
                                                         site: NewSite) -> None:
    visits(app, site.site)
    sg = account_id(app, "Société Générale")
    with app.engine.begin() as conn:  # as `webleads fr match` would have found it
        conn.execute(sa.insert(fr_companies).values(
            siren="552120222", name="SOCIETE GENERALE", name_key="societe generale",
            name_token="societe", compact_key="societegenerale", naf="64.19Z",
            naf_version="NAFRev2", headcount_band="53", category="GE", active=True,
            city="PARIS", postcode="75009", source="stock", updated_at=NOW))
        conn.execute(sa.insert(account_fr).values(account_id=sg, siren="552120222",
                                                  confidence=0.95, method="domain",
                                                  matched_at=NOW))
    add_user(app, "rep@example.com", role="sales", workspace=1)
    add_user(app, "lea@example.com", role="sales", workspace=1, locale="fr")
    with Browser(app) as b:
        b.login("rep@example.com")
        page = b.get(f"/w/1/account/{sg}")
        assert page.status_code == 200
        seen = shown(page.text)
        # Identity card, with the evidence in words.
        for fact in ("Société Générale", "societegenerale.com", "company",
                     "64.19Z Other monetary intermediation", "10,000+ employees (GE)",
                     "France", "AS3299", "SIREN 552120222", "high (95%)",
                     "The project's reviewed table of networks: AS3299 is Société Générale "
                     "(company)", "registered as “Societe Generale S.A.”"):
            assert fact in seen, fact
        # A sales rep reads, but does not correct the identification.
        assert "Wrong company" not in seen and "/correct" not in page.text
        # Score and why: 20 pricing + 5 product a month ago, 25 demo + 10 paid + 10 LinkedIn
        # + 30 form two days ago, decayed (half-life 30 days).
        score = float(re.search(r"Score (\d+) hot", seen).group(1))  # type: ignore[union-attr]
        assert 70 < score < 95
        assert re.search(r"form sent \+30 \d+ demo or contact page \+25 \d+", seen)
        assert "pricing page +20" in seen and "lost with time (decay) -" in seen
        history = chart(page.text, "score-history")
        values = history["data"]["datasets"][0]["data"]
        assert len(values) == len(history["data"]["labels"]) == 90
        assert values[0] == 0 and 20 < values[60] < 25  # after the first visit, decayed
        assert abs(values[-1] - score) <= 1  # today's point is the live score
        assert values[-4] < values[-2]  # the demo and the form two days ago
        interest = chart(page.text, "interest-chart")
        assert interest["data"]["labels"] == ["pricing", "crm"]
        assert interest["options"]["indexAxis"] == "y"
        # Fit grade with its reasons (the default rules: France).
        assert re.search(r"Fit grade [A-D]", seen) and "in France" in seen
        # Sessions, newest first, with source, landing page, pages, engaged time, contact.
        newest = seen.index("Book a demo")
        assert newest < seen.index("CRM for banks")
        assert "paid campaign · linkedin — campaign linkedin / cpc / spring-launch" in seen
        assert "Landing page: /demo" in seen and "Form sent: Contact us" in seen
        assert "engaged 1 min 35 s" in seen
        assert "Contact: jane.doe@societegenerale.com" in seen
        # Contacts, stage and its history (the score moved it).
        assert "Jane Doe jane.doe@societegenerale.com" in seen
        assert "Stage MQL" in seen and "Stage – → MQL, by the score" in seen
        assert re.search(r"the score reached \d+\.\d \(threshold 50\)", seen)
        # The ISP visitor is no account of this page.
        assert "v-home" not in page.text and "Orange" not in seen
    with Browser(app, lang="fr") as b:
        b.login("lea@example.com")
        seen = shown(b.get(f"/w/1/account/{sg}").text)
        for fact in ("Pourquoi ce score", "entreprise", "64.19Z Autres intermédiations "
                     "monétaires", "10 000+ salariés (GE)", "page tarifs +20",
                     "Visites, de la plus récente", "campagne payante", "Responsable",
                     "Personne ne suit ce compte"):
            assert fact in seen, fact


def test_sessions_come_20_at_a_time_by_htmx_or_plain_link(app: WebleadsApp,
                                                          site: NewSite) -> None:
    save(app, [hit(app, site.site, f"v{i}", timedelta(hours=i), f"/page-{i}",
                   title=f"Page number {i}") for i in range(25)])
    sg = account_id(app, "Société Générale")
    add_user(app, "a@example.com", role="marketer", workspace=1)
    with Browser(app) as b:
        b.login("a@example.com")
        page = b.get(f"/w/1/account/{sg}").text
        seen = shown(page)
        assert "Page number 0 " in seen and "Page number 19 " in seen
        assert "Page number 20 " not in seen
        more = re.search(r'href="(/w/1/account/\d+/sessions\?before=(\d+))"', page)
        assert more and 'hx-get="' + more.group(1) + '"' in page
        fragment = b.client.get(more.group(1), headers={"hx-request": "true"})
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert shown(fragment.text).count("Page number") == 5
        assert "Page number 24 " in shown(fragment.text)
        assert "Older sessions" not in fragment.text  # the end
        plain = b.get(more.group(1))  # without JavaScript: a page of its own
        assert plain.status_code == 200 and "<html" in plain.text
        assert "Page number 20 " in shown(plain.text)
        assert b.get(f"/w/1/account/{sg}/sessions?before=abc").status_code == 400
        assert b.get(f"/w/1/account/{sg}/sessions?before=99999999").status_code == 404


def test_this_is_an_isp_empties_the_account_and_anonymises_its_hits(
        app: WebleadsApp, site: NewSite) -> None:
    visits(app, site.site, email=False)
    sg = account_id(app, "Société Générale")
    add_user(app, "m@example.com", role="marketer", workspace=1)
    with Browser(app) as b:
        b.login("m@example.com")
        assert "Wrong company" in shown(b.get(f"/w/1/account/{sg}").text)
        done = b.post(f"/w/1/account/{sg}/correct", {"kind": "isp", "network": "AS3299"})
        assert done.status_code == 303
        assert done.headers["location"].startswith("/w/1/accounts?flash=")
        flash = b.get(f"/w/1/account/{sg}?flash=x")
        assert "no visit left" in shown(flash.text)
    with app.engine.connect() as conn:
        assert set(conn.execute(sa.select(hits.c.account_id, hits.c.network_category)
                                .where(hits.c.asn == 3299))) == {(None, "isp")}
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)
                            .where(sessions.c.account_id == sg)).scalar_one() == 0
        assert conn.execute(sa.select(accounts.c.visits).where(accounts.c.id == sg)
                            ).scalar_one() == 0
        # Rescored: the points left with the hits.
        assert conn.execute(sa.select(account_scores.c.points)
                            .where(account_scores.c.account_id == sg)).scalar() in (None, 0)
        entry = conn.execute(sa.select(audit_log.c.actor, audit_log.c.action,
                                       audit_log.c.target, audit_log.c.details)
                             .where(audit_log.c.action == "network.override")).one()
    assert entry.actor == "m@example.com" and entry.target == f"account:{sg}"
    assert entry.details["network"] == "AS3299" and entry.details["role"] == "isp"


def test_wrong_company_moves_the_visits_to_the_right_one(app: WebleadsApp,
                                                        site: NewSite) -> None:
    visits(app, site.site, email=False)
    # A network the shipped data does not know (like the demo's): a correction of
    # another network leaves it as it was identified.
    initech = Network(asn=64501, as_org="INITECH-AS", org_name="Initech SAS",
                      org_domain="initech.example", category="enterprise", confidence=0.9,
                      country="FR", evidence=("ranges",))
    save(app, [hit(app, site.site, "v-ini", timedelta(hours=3), "/pricing", ip="198.18.5.10",
                   network=initech)])
    sg = account_id(app, "Société Générale")
    add_user(app, "admin@example.com", workspace=1)
    with Browser(app) as b:
        b.login("admin@example.com")
        done = b.post(f"/w/1/account/{sg}/correct", {
            "kind": "wrong_company", "network": "194.119.0.0/24", "organisation": "Globex",
            "domain": "www.Globex.example"})
        assert done.status_code == 303
        globex = account_id(app, "Globex")
        assert globex != sg
        assert done.headers["location"].startswith(f"/w/1/account/{globex}?flash=")
        page = b.get(done.headers["location"])
        seen = shown(page.text)
        assert "Network 194.119.0.0/24 now belongs to Globex" in seen
        assert "globex.example" in seen and "Book a demo" in seen
        assert "Your workspace's correction: network 194.119.0.0/24 is organisation " \
               "“Globex”" in seen
        assert "Identification corrected by admin@example.com: network 194.119.0.0/24 is " \
               "organisation “Globex”" in seen
        score = float(re.search(r"Score (\d+)", seen).group(1))  # type: ignore[union-attr]
        assert score > 50  # the points followed the visits
        # An office: the visits are not counted any more.
        office = b.post(f"/w/1/account/{globex}/correct", {"kind": "office",
                                                           "network": "194.119.0.0/24"})
        assert office.headers["location"].startswith("/w/1/accounts?flash=")
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(hits)
                            .where(hits.c.asn == 3299, hits.c.account_id.is_not(None))
                            ).scalar_one() == 0
        assert conn.execute(sa.select(accounts.c.visits)
                            .where(accounts.c.name == "Initech SAS")).scalar_one() == 1


def test_corrections_are_for_admins_and_marketers_and_check_their_form(
        app: WebleadsApp, site: NewSite) -> None:
    visits(app, site.site)
    sg = account_id(app, "Société Générale")
    add_user(app, "rep@example.com", role="sales", workspace=1)
    add_user(app, "m@example.com", role="marketer", workspace=1)
    with Browser(app) as b:
        b.login("rep@example.com")
        denied = b.post(f"/w/1/account/{sg}/correct", {"kind": "isp", "network": "AS3299"})
        assert denied.status_code == 403
    with Browser(app) as b:
        b.login("m@example.com")
        assert b.post(f"/w/1/account/{sg}/correct", {"kind": "merge",
                                                     "network": "AS3299"}).status_code == 400
        other = b.post(f"/w/1/account/{sg}/correct", {"kind": "isp", "network": "AS3215"})
        assert other.status_code == 400
        assert "Choose one of this account's networks" in shown(other.text)
        nameless = b.post(f"/w/1/account/{sg}/correct", {"kind": "wrong_company",
                                                         "network": "AS3299"})
        assert nameless.status_code == 400
        assert "Give the right organisation's name or its domain" in shown(nameless.text)
        bad_domain = b.post(f"/w/1/account/{sg}/correct", {
            "kind": "wrong_company", "network": "AS3299", "domain": "not a domain"})
        assert bad_domain.status_code == 400 and "looks like example.com" in bad_domain.text
        assert b.post(f"/w/1/account/{sg}/correct",
                      {"kind": "isp", "network": "x" * 500}).status_code == 400
    with app.engine.connect() as conn:  # nothing was changed
        assert conn.execute(sa.select(accounts.c.visits).where(accounts.c.id == sg)
                            ).scalar_one() > 0


def test_owner_change_and_stage_move_appear_in_the_history(app: WebleadsApp,
                                                           site: NewSite) -> None:
    visits(app, site.site)
    sg = account_id(app, "Société Générale")
    with app.engine.begin() as conn:
        claire = actions.add_owner(conn, 1, name="Claire Martin", email="claire@example.com",
                                   team=None, language="fr", now=NOW)
        paul = actions.add_owner(conn, 1, name="Paul Durand", email="paul@example.com",
                                 team=None, language="fr", now=NOW)
    rep = add_user(app, "paul@example.com", role="sales", workspace=1)
    with app.engine.begin() as conn:
        conn.execute(sa.update(memberships).where(memberships.c.user_id == rep.id)
                     .values(owner_id=paul))
    add_user(app, "m@example.com", role="marketer", workspace=1)
    with Browser(app) as b:
        b.login("paul@example.com")
        assert "Take this account" in b.get(f"/w/1/account/{sg}").text
        # A sales rep cannot give the account to someone else.
        assert b.post(f"/w/1/account/{sg}/owner", {"owner": str(claire)}).status_code == 403
        taken = b.post(f"/w/1/account/{sg}/owner", {"owner": str(paul)})
        assert taken.status_code == 303
        seen = shown(b.get(taken.headers["location"]).text)
        assert "Paul Durand now owns this account" in seen
        assert "Owner – → Paul Durand, by paul@example.com" in seen
        again = b.post(f"/w/1/account/{sg}/owner", {"owner": str(paul)})
        assert "The owner is unchanged" in shown(b.get(again.headers["location"]).text)
        moved = b.post(f"/w/1/account/{sg}/stage", {"stage": "sql",
                                                     "reason": "Call booked <b>Tuesday</b>"})
        assert moved.status_code == 303
        seen = shown(b.get(f"/w/1/account/{sg}").text)
        assert "Stage MQL → SQL, by paul" in seen
        assert "Call booked &lt;b&gt;Tuesday&lt;/b&gt;" in b.get(f"/w/1/account/{sg}").text
    with Browser(app) as b:
        b.login("m@example.com")
        given = b.post(f"/w/1/account/{sg}/owner", {"owner": str(claire)})
        assert given.status_code == 303
        page = b.get(f"/w/1/account/{sg}").text
        assert "Owner Paul Durand → Claire Martin, by m@example.com" in shown(page)
        for bad in ("abc", "999999", "-1", "99999999999999999999"):
            wrong = b.post(f"/w/1/account/{sg}/owner", {"owner": bad})
            assert wrong.status_code == 400, bad
            assert "Choose one of the workspace's active owners" in shown(wrong.text)
        unknown = b.post(f"/w/1/account/{sg}/stage", {"stage": "won"})
        assert unknown.status_code == 400 and "Choose a stage of the list" in shown(unknown.text)
        long_reason = b.post(f"/w/1/account/{sg}/stage", {"stage": "lost",
                                                           "reason": "x" * 1001})
        assert long_reason.status_code == 400
    with Browser(app) as b:
        b.login("paul@example.com")  # owned by Claire now: Paul cannot take it back
        assert b.post(f"/w/1/account/{sg}/owner", {"owner": str(paul)}).status_code == 403


def test_notes_are_added_listed_escaped_and_deleted_by_their_author(
        app: WebleadsApp, site: NewSite) -> None:
    visits(app, site.site)
    sg = account_id(app, "Société Générale")
    add_user(app, "rep@example.com", role="sales", workspace=1)
    add_user(app, "other@example.com", role="sales", workspace=1)
    add_user(app, "admin@example.com", workspace=1, locale="fr")
    with Browser(app) as b:
        b.login("rep@example.com")
        added = b.post(f"/w/1/account/{sg}/notes",
                       {"body": "Budget in Q3.\n<script>alert('x')</script>"})
        assert added.status_code == 303
        page = b.get(f"/w/1/account/{sg}").text
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
        assert "<script>alert" not in page
        assert "rep · " in shown(page) and "Budget in Q3." in shown(page)
        empty = b.post(f"/w/1/account/{sg}/notes", {"body": "   "})
        assert empty.status_code == 400 and "Write the note first" in shown(empty.text)
        too_long = b.post(f"/w/1/account/{sg}/notes", {"body": "x" * 10_001})
        assert too_long.status_code == 400
        assert "10,000 characters at most; this one has 10,001" in shown(too_long.text)
        note_id = re.search(r"/notes/(\d+)/delete", page).group(1)  # type: ignore[union-attr]
    with Browser(app) as b:
        b.login("other@example.com")
        page = b.get(f"/w/1/account/{sg}").text
        assert f"/notes/{note_id}/delete" not in page
        assert b.post(f"/w/1/account/{sg}/notes/{note_id}/delete").status_code == 403
    with Browser(app, lang="fr") as b:
        b.login("admin@example.com")
        empty = b.post(f"/w/1/account/{sg}/notes", {"body": ""})
        assert empty.status_code == 400 and "Écrivez d'abord la note" in shown(empty.text)
        deleted = b.post(f"/w/1/account/{sg}/notes/{note_id}/delete")
        assert deleted.status_code == 303
        assert "Budget in Q3" not in b.get(f"/w/1/account/{sg}").text
        assert b.post(f"/w/1/account/{sg}/notes/{note_id}/delete").status_code == 404


def test_another_workspace_s_account_is_not_found(app: WebleadsApp, site: NewSite) -> None:
    visits(app, site.site)
    sg = account_id(app, "Société Générale")
    other = create_site(app.engine, "Other", "other.example", workspace="Other").site
    save(app, [hit(app, other, "w1", timedelta(hours=1), "/pricing", ip="193.51.24.1")])
    renater = account_id(app, "RENATER")
    add_user(app, "a@example.com", workspace=1)
    with app.engine.begin() as conn:
        note = conn.execute(sa.text(
            "INSERT INTO account_notes (workspace_id, account_id, body, created_at) "
            "VALUES (:ws, :a, 'theirs', :at) RETURNING id"),
            {"ws": other.workspace_id, "a": renater, "at": NOW}).scalar_one()
    with Browser(app) as b:
        b.login("a@example.com")
        for path in (f"/w/1/account/{renater}", f"/w/1/account/{renater}/sessions",
                     "/w/1/account/999999", "/w/1/account/abc", "/w/1/account/0",
                     "/w/1/account/99999999999999999999",
                     f"/w/{other.workspace_id}/account/{renater}"):
            assert b.get(path).status_code == 404, path
        for path, data in ((f"/w/1/account/{renater}/notes", {"body": "x"}),
                           (f"/w/1/account/{renater}/stage", {"stage": "sql"}),
                           (f"/w/1/account/{renater}/owner", {"owner": ""}),
                           (f"/w/1/account/{renater}/correct", {"kind": "isp"}),
                           (f"/w/1/account/{sg}/notes/{note}/delete", {}),
                           (f"/w/1/account/{sg}/notes/abc/delete", {})):
            assert b.post(path, data).status_code == 404, path
    with app.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM account_notes")).scalar_one() == 1
