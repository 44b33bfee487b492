"""Won deals, conversions, SQLs, revenue and ROI in the campaign reports, on both
engines; the series over time, the totals per range, and the end-of-campaign summary
e-mails.  Every expected number is worked out in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_campaigns_db import ACME, NOW, T0, add, hit, workspace
from webleads.app import create_app
from webleads.campaigns.contacts import import_contacts
from webleads.campaigns.conversions import campaign_conversions, url_matches, validate
from webleads.campaigns.costs import import_costs
from webleads.campaigns.deals import DealRefused, add_deal, import_deals
from webleads.campaigns.reports import report_set, totals
from webleads.campaigns.summary import send_summaries
from webleads.campaigns.timeline import campaign_timeline
from webleads.db import campaigns as db
from webleads.db import store
from webleads.db.schema import accounts
from webleads.db.schema_campaigns import deals
from webleads.db.schema_lifecycle import stage_history
from webleads.db.schema_outbox import outbox
from webleads.model import Hit, Network
from webleads.settings import Settings
from webleads.sites import NewSite
from webleads.users import Users

GMAIL = Network(asn=65001, as_org="ISP", category="isp", confidence=0.5, country="FR")
HALF_LIFE = timedelta(days=2)


def history(engine: Engine, site: NewSite) -> tuple[int, int]:
    """Acme: a salon session at T0 (with a signup event), a google ad click at T0+2d
    (with the /thanks page); MQL at T0+3d, SQL at T0+5d.  Paul (gmail, no account):
    a salon session at T0+1d with a page of the ERP range, identified by a form."""
    ws = workspace(engine, site)
    s = site.site
    salon_visit = hit(s, "v1", T0, network=ACME, utm="salon-2026")
    signup = Hit(client=salon_visit.client, type="event", ts=T0 + timedelta(minutes=1),
                 received_at=T0, url="https://example.com/", name="signup",
                 utm_campaign="salon-2026", utm_source="newsletter", utm_medium="email")
    ad = hit(s, "v1", T0 + timedelta(days=2), network=ACME, click="gclid")
    thanks = Hit(client=ad.client, type="pageview", ts=ad.ts + timedelta(minutes=2),
                 received_at=ad.ts, url="https://example.com/thanks?x=1", click_id_kind="gclid",
                 click_id="abc", page_group="CRM")
    paul = hit(s, "v9", T0 + timedelta(days=1), network=GMAIL, utm="salon-2026")
    form = Hit(client=paul.client, type="form", ts=paul.ts + timedelta(minutes=3),
               received_at=paul.ts, url="https://example.com/contact", name="contact",
               email="paul.durand@gmail.com", utm_campaign="salon-2026",
               utm_source="newsletter", utm_medium="email", page_group="ERP")
    erp = Hit(client=paul.client, type="pageview", ts=paul.ts + timedelta(minutes=2),
              received_at=paul.ts, url="https://example.com/erp", page_group="ERP",
              utm_campaign="salon-2026", utm_source="newsletter", utm_medium="email")
    for batch in ([salon_visit, signup], [paul, erp, form], [ad, thanks]):
        with engine.begin() as conn:
            store.store_hits(conn, batch)
    with engine.begin() as conn:
        acme = int(conn.execute(sa.select(accounts.c.id)).scalar_one())
        for stage, days in (("mql", 3), ("sql", 5)):
            conn.execute(stage_history.insert().values(
                workspace_id=ws, account_id=acme, from_stage=None, to_stage=stage,
                at=T0 + timedelta(days=days), by="test", reason="test"))
    return ws, acme


DEALS = ("day,account,email,amount,currency,campaign,ref\n"
         "2026-03-10,acme.example,,10000,EUR,,A1\n"  # by model
         "2026-03-12,,paul.durand@gmail.com,\"1234,56\",EUR,,A2\n"  # the contact's journey
         "2026-03-11,https://www.acme.example/,,500,EUR,Google Q1,A3\n"  # in full to google
         "2026-03-11,acme.example,,300,USD,,\n")  # another currency


def test_revenue_roi_and_won_deals(engine: Engine, site: NewSite) -> None:
    salon = add(engine, workspace(engine, site), "Salon", "event", utm="salon-2026",
                budget=100000)
    google = add(engine, workspace(engine, site), "Google Q1", "google", utm="google-q1")
    ws, _ = history(engine, site)
    with engine.begin() as conn:
        result = import_deals(conn, ws, DEALS, now=NOW)
        assert (result.errors, result.added, result.known) == ((), 4, 0)
        assert import_deals(conn, ws, DEALS, now=NOW).added == 0  # twice adds nothing
        import_costs(conn, ws, "day,campaign,amount,currency\n2026-03-01,salon-2026,1500,EUR\n",
                     now=NOW)
    with engine.connect() as conn:
        rs = report_set(conn, ws, half_life=HALF_LIFE)
    s, g = rs.get(salon.id), rs.get(google.id)
    assert s is not None and g is not None
    # Deal A1 (10,000.00): Acme's touches are salon (T0) then google (T0+2d).
    # first: all to salon; last: all to google; linear and position-based (2 touches):
    # half each; time decay, half-life 2 days, touches 2 days apart: 1/3 and 2/3, i.e.
    # 333,333.33 and 666,666.67 cents -> 333,333 and 666,667.
    # Deal A2 (1,234.56): Paul's only touch is salon's, in every model.
    # Deal A3 (500.00): google's in full.  Deal 4: USD, counted by neither revenue.
    assert s.revenue_cents == {"first_touch": 1_123_456, "last_touch": 123_456,
                               "linear": 623_456, "position_based": 623_456,
                               "time_decay": 333_333 + 123_456}
    assert g.revenue_cents == {"first_touch": 50_000, "last_touch": 1_050_000,
                               "linear": 550_000, "position_based": 550_000,
                               "time_decay": 666_667 + 50_000}
    assert (s.won_deals, s.foreign_deals, g.won_deals, g.foreign_deals) == (3, 1, 3, 1)
    assert (s.mqls, s.sqls, g.mqls, g.sqls) == (1, 1, 1, 1)
    # ROI = (623,456 - 150,000) / 150,000; no cost: no ROI.
    assert s.roi("position_based") == pytest.approx(473_456 / 150_000)
    assert s.roi("last_touch") == pytest.approx((123_456 - 150_000) / 150_000)
    assert g.roi("position_based") is None
    assert s.as_dict()["roi"] == {m: round(s.roi(m) or 0, 4) for m in s.revenue_cents}
    # Totals: Acme, its MQL and deals A1 and the USD one count once.
    [all_eur] = totals(rs, "position_based")
    assert (all_eur.campaigns, all_eur.sessions, all_eur.accounts, all_eur.mqls,
            all_eur.won_deals, all_eur.revenue_cents, all_eur.cost_cents) == (
        2, 3, 1, 1, 4, 1_173_456, 150_000)
    ranges = {(x.range, x.currency): x for x in totals(rs, "linear", by_range=True)}
    assert ranges[("ERP", "EUR")].revenue_cents == 623_456 + 550_000  # both are ERP here
    # Over time: salon's visits on March 2 and 3; its cost on March 1; revenue on the
    # deals' days, cumulated.
    with engine.connect() as conn:
        costs = db.costs_per_day(conn, salon.id)
    tl = campaign_timeline(rs, salon.id, costs, "position_based", date(2026, 4, 1))
    assert (tl.step, tl.labels[0], tl.labels[-1]) == ("day", date(2026, 3, 1), date(2026, 3, 31))
    assert (tl.sessions[1], tl.sessions[2], sum(tl.sessions)) == (1, 1, 2)
    assert tl.mqls[4] == 1 and tl.cost_cents[0] == tl.cost_cents[-1] == 150_000
    assert (tl.revenue_cents[8], tl.revenue_cents[9], tl.revenue_cents[11]) == (
        0, 500_000, 623_456)


def test_conversions_of_a_campaign(engine: Engine, site: NewSite) -> None:
    salon = add(engine, workspace(engine, site), "Salon", "event", utm="salon-2026")
    google = add(engine, workspace(engine, site), "Google Q1", "google", utm="google-q1")
    ws, _ = history(engine, site)
    with engine.begin() as conn:
        for name, kind, value in (("Signup", "event", "signup"), ("Thanks", "url", "/thanks*"),
                                  ("Any form", "form", ""), ("SQL", "stage", "SQL"),
                                  ("Won", "deal", "")):
            db.insert_definition(conn, ws, **dict(zip(("name", "kind", "value"),
                                                      validate(name, kind, value),
                                                      strict=True)), now=NOW)
        import_deals(conn, ws, DEALS, now=NOW)
        definitions = db.list_definitions(conn, ws)
        rs = report_set(conn, ws)
        by_salon = {x.definition.name: (x.conversions, x.accounts)
                    for x in campaign_conversions(conn, rs, salon.id, definitions)}
        by_google = {x.definition.name: (x.conversions, x.accounts)
                     for x in campaign_conversions(conn, rs, google.id, definitions)}
    # Salon: Acme's session sent "signup", Paul's (no account) filled the contact form.
    assert by_salon == {"Any form": (1, 0), "SQL": (1, 1), "Signup": (1, 1), "Thanks": (0, 0),
                        "Won": (3, 1)}
    assert by_google == {"Any form": (0, 0), "SQL": (1, 1), "Signup": (0, 0), "Thanks": (1, 1),
                         "Won": (3, 1)}


def test_definitions_are_validated() -> None:
    assert validate("  Demo   booked ", "EVENT", "demo_booked") == (
        "Demo booked", "event", "demo_booked")
    assert validate("Won", "deal", "anything") == ("Won", "deal", "*")
    assert validate("Forms", "form", "") == ("Forms", "form", "*")
    for args, field in ((("", "event", "x"), "name"), (("A", "pageview", "x"), "kind"),
                        (("A", "stage", "lead"), "value"), (("A", "url", "thanks"), "value"),
                        (("A", "event", ""), "value")):
        with pytest.raises(ValueError, match=f"^{field}:"):
            validate(*args)
    assert url_matches("/thanks*", "https://example.com/thanks?x=1")
    assert url_matches("/Thanks", "https://example.com/thanks")
    assert not url_matches("/thanks", "https://example.com/thanks/more")
    assert url_matches("https://shop.example.com/*", "https://shop.example.com/cart")


def test_deal_checks(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    add(engine, ws, "Salon", "event", utm="salon-2026")
    with engine.begin() as conn:
        import_contacts(conn, ws, "email,consent\njeanne@acme.example,yes\n", now=NOW)
        bad = import_deals(conn, ws, "day,account,email,amount,currency,campaign\n"
                                     "2026-02-30,acme.example,,-5,EURO,nope\n"
                                     "2026-03-01,not a domain,,1,EUR,\n"
                                     "2026-03-01,,nobody@acme.example,1,EUR,\n"
                                     "2026-03-01,,,1,EUR,\n", now=NOW)
    assert [str(e) for e in bad.errors] == [
        "line 2, day: '2026-02-30' is not a date (YYYY-MM-DD)",
        "line 2, amount: amount '-5' must be a positive number or zero",
        "line 2, currency: currency 'EURO' is not a three-letter code such as EUR",
        "line 2, account: no account with the domain acme.example in this workspace",
        "line 2, campaign: no campaign 'nope'",
        "line 3, account: 'not a domain' is not a domain such as acme.fr",
        "line 4, email: no contact nobody@acme.example in this workspace (import it first)",
        "line 5, account: give the account's domain or the contact's e-mail",
    ]
    with engine.begin() as conn:
        made = add_deal(conn, ws, {"day": "2026-03-05", "email": "Jeanne@acme.example",
                                   "amount": "99.90", "currency": "eur", "campaign": "Salon"},
                        now=NOW)
        assert (made.amount_cents, made.currency, made.contact_id) == (9990, "EUR", 1)
        with pytest.raises(DealRefused) as refused:
            add_deal(conn, ws, {"day": "x", "amount": "1", "currency": "EUR"}, now=NOW)
    assert [(e.field, e.code) for e in refused.value.problems] == [("day", "not_date"),
                                                                   ("account", "who")]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(deals)).scalar() == 1


def test_summary_e_mails_when_a_campaign_ends(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    salon = add(engine, ws, "Salon", "event", utm="salon-2026", budget=100000)  # ends Mar 31
    users = Users(engine)
    users.create("ada@example.com", "correct horse battery", name="Ada", locale="fr",
                 workspace=ws, role="admin")
    users.create("max@example.com", "correct horse battery", name="Max", locale="en",
                 workspace=ws, role="marketer")
    users.create("rep@example.com", "correct horse battery", name="Rep", workspace=ws,
                 role="sales")
    history(engine, site)
    with engine.begin() as conn:
        import_costs(conn, ws, "day,campaign,amount,currency\n2026-03-01,salon-2026,1500,EUR\n",
                     now=NOW)
    during = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert send_summaries(engine, during) == 0  # not ended yet
    after = datetime(2026, 4, 1, 7, tzinfo=UTC)
    assert send_summaries(engine, after) == 2
    assert send_summaries(engine, after + timedelta(hours=1)) == 0  # idempotent
    with engine.connect() as conn:
        rows = {r.destination: r for r in conn.execute(sa.select(outbox))}
        assert db.summary_sent(conn, salon.id) == after
    assert set(rows) == {"ada@example.com", "max@example.com"}  # not the sales rep
    fr, en = rows["ada@example.com"], rows["max@example.com"]
    assert (fr.kind, fr.language, en.language) == ("campaign_summary", "fr", "en")
    assert fr.idempotency_key.startswith(f"campaign-summary:{salon.id}:")
    assert en.payload["title"] == ("Campaign Salon has ended: what it brought, what to "
                                   "adjust")
    lines = [item["title"] for item in en.payload["items"]]
    assert lines[0] == "It brought 2 visits from 1 identified accounts (1 new)."
    assert lines[2] == "It cost €1,500.00: €1,500.00 per MQL; ROI -100%."
    assert any("over its budget" in x for x in lines)  # 1,500 spent of 1,000
    assert any("does not cover its cost" in x for x in lines)
    assert fr.payload["title"].startswith("La campagne Salon est terminée")
    assert fr.payload["campaign"]["mqls"] == 1
    # Campaigns that ended long ago (before the install, say) get no summary.
    old = add(engine, ws, "Old", "email", utm="old")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET ends_on = :d WHERE id = :i"),
                     {"d": date(2025, 1, 1), "i": old.id})
    assert send_summaries(engine, after + timedelta(days=1)) == 0


def test_serve_runs_the_summaries_hourly(settings: Settings, engine: Engine) -> None:
    jobs = create_app(settings, engine=engine)._periodic_jobs()
    assert "campaign_summaries" in jobs.runs
