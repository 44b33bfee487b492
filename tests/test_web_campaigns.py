"""The Campaigns pages on both engines: the list with its report columns and charts,
the model changing the numbers, one campaign, new and edit forms, the link builder and
the tracked e-mail links, uploads of contacts, deals and costs with their line errors,
conversions, comparison, product ranges; roles, other workspaces, bad input, French."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user, text
from tests.test_campaigns_db import NOW, add
from tests.test_campaigns_revenue import DEALS, history
from webleads.app import WebleadsApp, create_app
from webleads.campaigns.contacts import import_contacts
from webleads.campaigns.costs import import_costs
from webleads.campaigns.deals import import_deals
from webleads.campaigns.model import Campaign
from webleads.db import campaigns as db
from webleads.db.schema_campaigns import campaign_costs, deals, short_links
from webleads.settings import Settings
from webleads.sites import NewSite, create_site


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


def world(engine: Engine, site: NewSite) -> tuple[Campaign, Campaign, Campaign]:
    """Salon and Google Q1 in workspace 1 (history of test_campaigns_revenue), and a
    campaign of another workspace."""
    ws = site.site.workspace_id
    salon = add(engine, ws, "Salon", "event", utm="salon-2026", budget=500000)
    google = add(engine, ws, "Google Q1", "google", utm="google-q1")
    history(engine, site)
    other_site = create_site(engine, "Other", "other.example", workspace="Other")
    secret = add(engine, other_site.site.workspace_id, "Secret plan", "email", utm="secret")
    with engine.begin() as conn:
        assert not import_deals(conn, ws, DEALS, now=NOW).errors
        import_costs(conn, ws, "day,campaign,amount,currency\n2026-03-01,salon-2026,1500,EUR\n",
                     now=NOW)
    return salon, google, secret


def visible(page: str) -> str:
    """The visible text, entities decoded."""
    return html.unescape(text(page))


def chart(page: str, name: str) -> dict[str, object]:
    found = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', page,
                      re.S)
    assert found, name
    spec: dict[str, object] = json.loads(found.group(1))
    return spec


def test_list_detail_compare_and_ranges(app: WebleadsApp, engine: Engine, site: NewSite) -> None:
    add_user(app, "ada@example.com", workspace=1)
    with Browser(app) as b:
        b.login("ada@example.com")
        empty = text(b.get("/w/1/campaigns").text)
        assert "No campaign yet" in empty and "Create a campaign" in empty
        salon, google, _ = world(engine, site)
        page = b.get("/w/1/campaigns")
        assert page.status_code == 200
        shown = text(page.text)
        # Salon: 2 visits, 1 account (1 new), 1 MQL, 1 SQL, 3 deals it took part in,
        # revenue 6,234.56 (position-based: 5,000 of A1 + 1,234.56 of A2), cost 1,500,
        # ROI (6,234.56 - 1,500) / 1,500 = +316 %.
        assert re.search(r"Salon event ended ERP .* 2 1 \(1\) 1 1 3 €6,234\.56 €1,500\.00 "
                         r"€1,500\.00 \+316%", shown), shown
        assert "Google Q1 google ended" in shown
        weekly = chart(page.text, "campaigns-weekly")
        assert [d["label"] for d in weekly["data"]["datasets"]] == ["Salon", "Google Q1"]  # type: ignore[index]
        money = chart(page.text, "campaigns-money")
        assert money["data"]["datasets"][0]["data"] == [0.0, 1500.0]  # type: ignore[index]
        # Another model, another revenue: first touch gives Salon all of A1.
        first = text(b.get("/w/1/campaigns?model=first_touch&lookback=30&half_life=2").text)
        assert "€11,234.56" in first and "+649%" in first
        assert b.get("/w/1/campaigns?model=nonsense").status_code == 200  # the default
        for bad in ("lookback=0", "lookback=abc", "lookback=9999", "half_life=-1",
                    "half_life=x"):
            r = b.get(f"/w/1/campaigns?{bad}")
            assert r.status_code == 400, bad
            assert ("Lookback" in r.text) or ("Half-life" in r.text)
        detail = b.get(f"/w/1/campaigns/{salon.id}?model=linear")
        assert detail.status_code == 200
        d = text(detail.text)
        assert "Jeanne" not in d and "Acme SA" in d and "acme.example" in d
        assert "Position-based (40/20/40)" in d and "Time decay" in d
        activity = chart(detail.text, "campaign-activity")
        assert sum(activity["data"]["datasets"][0]["data"]) == 2  # type: ignore[index]
        focus = chart(detail.text, "campaign-focus")
        # Acme's page and Paul's landing page have no range, Paul's second page is ERP's.
        assert focus["data"]["labels"] == ["No range", "ERP"]  # type: ignore[index]
        assert "33% of its page views were on the ERP range." in d
        assert b.get(f"/w/1/campaigns/{google.id}/edit").status_code == 200
        assert b.get("/w/1/campaigns/99999").status_code == 404
        assert b.get("/w/1/campaigns/abc").status_code == 400
        # Side by side, and per product range.
        pick = text(b.get("/w/1/campaigns/compare").text)
        assert "Tick two campaigns or more" in pick
        both = b.get(f"/w/1/campaigns/compare?ids={salon.id}&ids={google.id}&model=last_touch")
        assert both.status_code == 200
        shown = text(both.text)
        # last touch: A1 all to google (10,000 + A3 500), A2 to salon.
        assert re.search(r"Revenue €1,234\.56 €10,500\.00", shown), shown
        counts = chart(both.text, "compare-counts")
        assert counts["data"]["labels"] == ["Salon", "Google Q1"]  # type: ignore[index]
        assert b.get("/w/1/campaigns/compare?ids=x").status_code == 400
        ranges = b.get("/w/1/campaigns/ranges")
        assert ranges.status_code == 200
        r = text(ranges.text)
        assert re.search(r"ERP 2 3 1 1 1 4", r), r  # both campaigns focus on ERP
        # Salon's page views: one of three on ERP; Google Q1's: none of two.
        assert re.search(r"Salon ERP 33% of 3 Google Q1 ERP 0% of 2", r), r


def test_new_and_edit(app: WebleadsApp, engine: Engine, site: NewSite) -> None:
    add_user(app, "ada@example.com", workspace=1)
    with Browser(app) as b:
        b.login("ada@example.com")
        bad = b.post("/w/1/campaigns/new", {"name": "", "channel": "two words",
                                            "objective": "fame", "starts_on": "2026-04-10",
                                            "ends_on": "2026-04-01", "budget": "12.345",
                                            "currency": "euro"})
        assert bad.status_code == 400
        shown = text(bad.text)
        for message in ("Give a name of 1 to 200 characters.", "A word such as email",
                        "Choose an objective.", "The campaign cannot end before it starts.",
                        "two decimals at most", "A three-letter code such as EUR."):
            assert message in shown, message
        assert 'aria-invalid="true"' in bad.text
        good = {"name": "Salon Industrie", "channel": "Event", "objective": "revenue",
                "starts_on": "2026-04-01", "ends_on": "2026-04-30", "budget": "5 000,50",
                "currency": "eur", "page_group": "ERP", "utm_campaign": "", "notes": "Stand B"}
        made = b.post("/w/1/campaigns/new", good)
        assert made.status_code == 303
        cid = int(made.headers["location"].split("/campaigns/")[1].split("?")[0])
        again = b.post("/w/1/campaigns/new", good)
        assert again.status_code == 400 and "already has this name" in again.text
        with engine.connect() as conn:
            c = db.get_campaign(conn, 1, cid)
        assert c is not None and (c.utm_campaign, c.channel, c.budget_cents, c.currency) == (
            "salon-industrie", "event", 500050, "EUR")
        edited = b.post(f"/w/1/campaigns/{cid}/edit", {**good, "name": "Salon 2026",
                                                       "utm_campaign": "salon-2026"})
        assert edited.status_code == 303
        page = text(b.get(f"/w/1/campaigns/{cid}").text)
        assert "Salon 2026" in page and "utm_campaign=salon-2026" in page and "Stand B" in page


def test_roles_and_other_workspaces(app: WebleadsApp, engine: Engine, site: NewSite) -> None:
    salon, _, secret = world(engine, site)
    add_user(app, "rep@example.com", role="sales", workspace=1)
    with Browser(app) as b:
        b.login("rep@example.com")
        assert b.get("/w/1/campaigns").status_code == 200
        assert b.get(f"/w/1/campaigns/{salon.id}").status_code == 200
        for path in ("/w/1/campaigns/new", f"/w/1/campaigns/{salon.id}/edit"):
            assert b.get(path).status_code == 403
        for path in ("/w/1/campaigns/new", f"/w/1/campaigns/{salon.id}/links",
                     f"/w/1/campaigns/{salon.id}/costs", "/w/1/campaigns/contacts",
                     "/w/1/campaigns/deals/import", "/w/1/campaigns/conversions",
                     "/w/1/campaigns/costs"):
            assert b.post(path, {"url": "https://example.com/"}).status_code == 403, path
        # A sales rep may record a won deal.
        deal = b.post("/w/1/campaigns/deals", {"day": "2026-04-02", "account": "acme.example",
                                               "amount": "99", "currency": "EUR"})
        assert deal.status_code == 303
        # Another workspace's campaign is a 404 on every route, like a missing one.
        s = secret.id
        for path in (f"/w/1/campaigns/{s}", f"/w/1/campaigns/{s}/edit",
                     f"/w/1/campaigns/{s}/email-link?contact=a@b.example&url=https://x.example/",
                     f"/w/1/campaigns/{s}/email-links.csv?url=https://example.com/",
                     f"/w/1/campaigns/compare?ids={salon.id}&ids={s}"):
            assert b.get(path).status_code == 404, path
        for path in (f"/w/1/campaigns/{s}/edit", f"/w/1/campaigns/{s}/links",
                     f"/w/1/campaigns/{s}/costs"):
            assert b.post(path, {"day": "2026-04-01", "amount": "1"}).status_code == 404, path
        theirs = b.post("/w/1/campaigns/deals", {"day": "2026-04-02", "account": "acme.example",
                                                 "amount": "1", "currency": "EUR",
                                                 "campaign": str(s)})
        assert theirs.status_code == 404
        assert b.get("/w/2/campaigns").status_code == 404  # not a member


def test_link_builders(app: WebleadsApp, engine: Engine, site: NewSite) -> None:
    salon, _, _ = world(engine, site)
    with engine.begin() as conn:
        import_contacts(conn, 1, "email,name,organisation,consent\n"
                                 "jeanne@acme.example,Jeanne,Acme,yes\n"
                                 "paul@acme.example,Paul,Acme,no\n", now=NOW)
    add_user(app, "ada@example.com", workspace=1)
    with Browser(app) as b:
        b.login("ada@example.com")
        base = f"/w/1/campaigns/{salon.id}"
        bad = b.post(f"{base}/links", {"url": "example.com/x", "source": "", "medium": "email"})
        assert bad.status_code == 400
        assert "Say who shows the link" in bad.text
        bad = b.post(f"{base}/links", {"url": "example.com/x", "source": "linkedin",
                                       "medium": "social"})
        assert bad.status_code == 400 and "Give an absolute address" in bad.text
        made = b.post(f"{base}/links", {"url": "https://example.com/erp", "source": "LinkedIn",
                                        "medium": "social", "content": "banner"})
        assert made.status_code == 303
        with engine.connect() as conn:
            code, target = conn.execute(sa.select(short_links.c.code, short_links.c.target_url)
                                        ).one()
        assert target == ("https://example.com/erp?utm_source=linkedin&utm_medium=social"
                          "&utm_campaign=salon-2026&utm_content=banner")
        page = b.get(made.headers["location"].split("#")[0])
        assert f'data-copy="short-{code}"' in page.text and f"/l/{code}" in page.text
        assert b.get(f"/l/{code}").headers["location"] == target
        # Tracked e-mail links: a consenting contact only, a page of the workspace's site.
        refused = b.get(f"{base}/email-link?contact=paul@acme.example&url=https://example.com/")
        assert refused.status_code == 400 and "has not agreed to tracked links" in refused.text
        unknown = b.get(f"{base}/email-link?contact=x@acme.example&url=https://example.com/")
        assert unknown.status_code == 400 and "import it first" in unknown.text
        elsewhere = b.get(f"{base}/email-link?contact=jeanne@acme.example"
                          "&url=https://evil.example/")
        assert elsewhere.status_code == 400 and "not on one of the workspace" in elsewhere.text
        ok = b.get(f"{base}/email-link?contact=jeanne@acme.example&url=https://example.com/erp")
        assert ok.status_code == 200
        link = re.search(r'<code class="snippet" id="email-link">([^<]+)</code>', ok.text)
        assert link and link.group(1).startswith(b.base + "/r/")
        target_page = b.get(link.group(1).replace(b.base, "").replace("&amp;", "&"))
        assert target_page.status_code == 302
        assert "utm_campaign=salon-2026" in target_page.headers["location"]
        assert "wl_t=" in target_page.headers["location"]
        export = b.get(f"{base}/email-links.csv?url=https://example.com/erp")
        assert export.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert [r[0] for r in rows] == ["email", "jeanne@acme.example"]  # not Paul
        assert b.get(f"{base}/email-links.csv").status_code == 400


def test_uploads_and_their_errors(app: WebleadsApp, engine: Engine, site: NewSite) -> None:
    salon, _, _ = world(engine, site)
    add_user(app, "ada@example.com", workspace=1, locale="fr")
    with Browser(app, lang="fr") as b:
        b.login("ada@example.com")
        bad = b.post("/w/1/campaigns/contacts", files={"file": (
            "contacts.csv", b"email;nom;consentement\npas-une-adresse;Paul;peut-etre\n",
            "text/csv")})
        assert bad.status_code == 400
        shown = visible(bad.text)
        assert "Rien n'a été importé : 2 problèmes à corriger." in shown
        assert "Ligne 2, email : pas-une-adresse n'est pas une adresse e-mail." in shown
        assert "Ligne 2, consent : écrivez oui ou non (yes ou no), pas peut-etre." in shown
        empty = b.post("/w/1/campaigns/contacts", {"text": "  "})
        assert empty.status_code == 400 and "Choisissez un fichier CSV" in empty.text
        good = "Courriel;Nom;Société;Consentement\njeanne@acme.example;Jeanne;Acme;oui\n"
        skipped = b.post("/w/1/campaigns/contacts", {
            "text": good + "nope;X;;oui\n", "skip_invalid": "1"})
        assert skipped.status_code == 200
        assert "1 ligne a été laissée de côté" in visible(skipped.text)
        done = b.post("/w/1/campaigns/contacts", files={"file": (
            "c.csv", good.encode("cp1252"), "text/csv")})  # Windows-1252 from a spreadsheet
        assert done.status_code == 303 and "1%20mis%20%C3%A0%20jour" in done.headers["location"]
        listed = visible(b.get("/w/1/campaigns/contacts?q=jeanne").text)
        assert "jeanne@acme.example" in listed and "Acme SA" in listed and "accepté" in listed
        assert b.get("/w/1/campaigns/contacts?page=0").status_code == 400
        # Deals: one by hand with field errors, then a file.
        wrong = b.post("/w/1/campaigns/deals", {"day": "hier", "amount": "-3", "currency": "EUR"})
        assert wrong.status_code == 400
        assert "n'est pas une date" in visible(wrong.text)
        assert "indiquez le domaine du compte" in visible(wrong.text)
        imported = b.post("/w/1/campaigns/deals/import", files={"file": (
            "d.csv", b"day,account,amount,currency\n2026-04-03,acme.example,250,EUR\n",
            "text/csv")})
        assert imported.status_code == 303
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(deals)).scalar() == 5
            deal_id = conn.execute(sa.select(sa.func.max(deals.c.id))).scalar()
        assert b.post(f"/w/1/campaigns/deals/{deal_id}/delete").status_code == 303
        assert b.post("/w/1/campaigns/deals/999999/delete").status_code == 404
        # Costs: a file with a bad line, a good one, and one day by hand.
        costs = b.post("/w/1/campaigns/costs", {"text": "day,campaign,amount,currency\n"
                                                        "2026-03-02,salon-2026,10,USD\n"})
        assert costs.status_code == 400
        assert "Ligne 2, currency : la devise de la campagne est EUR." in visible(costs.text)
        assert b.post("/w/1/campaigns/costs", {"text": "day,campaign,amount,currency\n"
                                                       "2026-03-02,Salon,10,EUR\n"}
                      ).status_code == 303
        by_hand = b.post(f"/w/1/campaigns/{salon.id}/costs", {"day": "2026-03-03",
                                                              "amount": "20,5"})
        assert by_hand.status_code == 303
        assert b.post(f"/w/1/campaigns/{salon.id}/costs", {"day": "x", "amount": "y"}
                      ).status_code == 400
        with engine.connect() as conn:
            assert db.costs_by_campaign(conn, [salon.id]) == {salon.id: 150000 + 1000 + 2050}
            assert conn.execute(sa.select(sa.func.count()).select_from(campaign_costs)
                                ).scalar() == 3
        page = visible(b.get("/w/1/campaigns/costs").text)
        assert re.search(r"Salon salon-2026 5\s000,00\s€ 1\s530,50\s€", page), page
        # Conversions.
        assert b.post("/w/1/campaigns/conversions", {"name": "", "kind": "event", "value": "x"}
                      ).status_code == 400
        assert b.post("/w/1/campaigns/conversions", {"name": "Inscription", "kind": "event",
                                                     "value": "signup"}).status_code == 303
        dup = b.post("/w/1/campaigns/conversions", {"name": "inscription", "kind": "form"})
        assert dup.status_code == 400 and "porte déjà ce nom" in dup.text
        detail = visible(b.get(f"/w/1/campaigns/{salon.id}").text)
        assert re.search(r"Inscription \(Événement : signup\) 1 1", detail), detail
        assert "Acme SA acme.example engagé 1" in detail
        assert "Ce qu'elle a apporté" in b.get(f"/w/1/campaigns/{salon.id}").text
