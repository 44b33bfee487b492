"""Campaigns on both engines: campaigns, cost imports, short links and the report
(sessions matched by utm_campaign and click ids, accounts, MQLs, cost, credits)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.campaigns import links
from webleads.campaigns.costs import import_costs
from webleads.campaigns.model import Campaign, NewCampaign, match_campaign, validate
from webleads.campaigns.reports import campaign_reports
from webleads.db import campaigns as db
from webleads.db import store
from webleads.db.schema import accounts, sites
from webleads.db.schema_campaigns import campaign_costs, short_link_clicks
from webleads.db.schema_lifecycle import stage_history
from webleads.model import Client, Hit, Network, Site
from webleads.sites import NewSite

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 1, tzinfo=UTC)
ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", org_domain="acme.example",
               category="enterprise", confidence=0.9, country="FR")
ISP = Network(asn=65000, as_org="ISP", category="isp", confidence=0.5, country="DE")


def hit(site: Site, visitor: str, at: datetime, *, network: Network | None = None,
        utm: str | None = None, click: str | None = None) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.18.0.0", browser="Firefox", os="Linux",
                    device_type="desktop", country="FR")
    return Hit(client=client, type="pageview", ts=at, received_at=at,
               url="https://example.com/", utm_source="newsletter" if utm else None,
               utm_medium="email" if utm else None, utm_campaign=utm,
               click_id_kind=click, click_id="abc" if click else None,
               source_class="paid" if (utm or click) else "direct")


def workspace(engine: Engine, site: NewSite) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sites.c.workspace_id)).scalar_one())


def add(engine: Engine, ws: int, name: str, channel: str, utm: str = "",
        budget: int | None = None) -> Campaign:
    new = validate(NewCampaign(name=name, channel=channel, objective="mqls",
                               starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
                               budget_cents=budget, utm_campaign=utm, page_group="ERP"))
    with engine.begin() as conn:
        return db.insert_campaign(conn, ws, new, now=NOW)


def test_campaigns_are_unique_by_name_and_key(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    made = add(engine, ws, "Salon Industrie 2026", "Event")
    assert (made.utm_campaign, made.channel, made.currency) == ("salon-industrie-2026",
                                                                "event", "EUR")
    with pytest.raises(ValueError, match="name"):
        add(engine, ws, "Salon Industrie 2026", "event", utm="other")
    with pytest.raises(ValueError, match="utm-campaign"):
        add(engine, ws, "Other", "event", utm="SALON-industrie-2026")
    with engine.connect() as conn:
        assert [c.name for c in db.list_campaigns(conn, ws)] == ["Salon Industrie 2026"]
        assert db.find_campaign(conn, ws, "salon industrie 2026") == made
        assert db.find_campaign(conn, ws, str(made.id)) == made
        assert db.find_campaign(conn, ws, "nope") is None


def test_cost_import_is_all_or_nothing(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    salon = add(engine, ws, "Salon", "event", utm="salon-2026")
    bad = ("day,campaign,amount,currency\n"
           "2026-03-01,salon-2026,100.00,EUR\n"
           "2026-13-01,salon-2026,100,EUR\n"
           "2026-03-02,unknown,1.234,usd\n")
    with engine.begin() as conn:
        result = import_costs(conn, ws, bad, now=NOW)
    assert [str(e) for e in result.errors] == [
        "line 3, day: '2026-13-01' is not a date (YYYY-MM-DD)",
        "line 4, campaign: no campaign 'unknown'",
        "line 4, amount: amount '1.234' has more than two decimals",
    ]
    assert result.days == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(campaign_costs)).scalar() == 0
    good = ("\ufeffDay,Campaign,Amount,Currency\n"
            "2026-03-01,salon-2026,1000.50,EUR\n"
            "2026-03-02,Salon,\"499,50\",eur\n"
            "2026-03-02,SALON-2026,100,EUR\n\n")
    for _ in range(2):  # importing twice replaces, never doubles
        with engine.begin() as conn:
            result = import_costs(conn, ws, good, now=NOW)
        assert (result.lines, result.days, result.total_cents, result.errors) == (
            3, 2, {"EUR": 160000}, ())
    with engine.connect() as conn:
        assert db.costs_by_campaign(conn, [salon.id]) == {salon.id: 160000}
    with engine.begin() as conn:
        mixed = import_costs(conn, ws, "day,campaign,amount,currency\n"
                                       "2026-03-03,salon,5,USD\n", now=NOW)
    assert [str(e) for e in mixed.errors] == [
        "line 2, currency: USD differs from the currency of campaign 'Salon' (EUR)"]
    with engine.begin() as conn:
        missing = import_costs(conn, ws, "day,amount\n", now=NOW)
    assert [str(e) for e in missing.errors] == ["line 1, campaign, currency: missing column"]


def test_short_links_count_clicks(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    salon = add(engine, ws, "Salon", "event", utm="salon-2026")
    codes = iter(["Taken1234X", "Taken1234X", "Fresh5678Y"])
    with engine.begin() as conn:
        first = links.create_link(conn, salon, "https://example.com/erp?x=1&utm_source=old",
                                  source="LinkedIn", medium="social", content="banner",
                                  now=NOW, code=lambda: next(codes))
        # A collision draws a new code.
        second = links.create_link(conn, salon, "https://example.com/", source="newsletter",
                                   medium="email", now=NOW, code=lambda: next(codes))
    assert first.url == ("https://example.com/erp?x=1&utm_source=linkedin&utm_medium=social"
                         "&utm_campaign=salon-2026&utm_content=banner")
    assert (first.code, second.code) == ("Taken1234X", "Fresh5678Y")
    for day in (1, 1, 2):
        with engine.begin() as conn:
            assert links.follow(conn, "Taken1234X",
                                now=datetime(2026, 3, day, 8, tzinfo=UTC)) == first.url
    with engine.begin() as conn:
        assert links.follow(conn, "Unknown123", now=NOW) is None
        assert links.follow(conn, "bad/code", now=NOW) is None
    with engine.connect() as conn:
        assert db.clicks_per_day(conn, "Taken1234X") == {date(2026, 3, 1): 2,
                                                         date(2026, 3, 2): 1}
        assert [(x.code, x.clicks) for x in db.short_link_rows(conn, [salon.id])] == [
            ("Fresh5678Y", 0), ("Taken1234X", 3)]  # same time: by code
        assert conn.execute(sa.select(sa.func.count()).select_from(short_link_clicks)
                            ).scalar() == 2
    assert len(links.new_code()) == 10 and links.CODE.match(links.new_code())
    with pytest.raises(ValueError, match="absolute"):
        links.utm_link("example.com/x", salon, source="a", medium="b")


def test_report(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    salon = add(engine, ws, "Salon", "event", utm="salon-2026", budget=500000)
    google = add(engine, ws, "Google Q1", "google", utm="google-q1")
    idle = add(engine, ws, "Idle", "email")
    s = site.site
    with engine.begin() as conn:
        store.store_hits(conn, [
            hit(s, "v1", T0, network=ACME, utm="Salon-2026"),  # salon (case ignored)
            hit(s, "v2", T0, network=ISP, utm="SALON-2026"),  # salon, no account
            hit(s, "v3", T0, network=ISP),  # direct: no campaign
        ])
    with engine.begin() as conn:  # two days later, from an ad: google by its click id
        store.store_hits(conn, [hit(s, "v1", T0 + timedelta(days=2), network=ACME,
                                    click="gclid")])
    mql_at = T0 + timedelta(days=3)
    with engine.begin() as conn:
        acme = int(conn.execute(sa.select(accounts.c.id)).scalar_one())
        conn.execute(stage_history.insert().values(
            workspace_id=ws, account_id=acme, from_stage="engaged", to_stage="mql", at=mql_at,
            by="score", reason="test"))
        import_costs(conn, ws, "day,campaign,amount,currency\n2026-03-01,salon-2026,1500,EUR\n",
                     now=NOW)
        links.create_link(conn, salon, "https://example.com/", source="newsletter",
                          medium="email", now=NOW, code=lambda: "Click12345")
        links.follow(conn, "Click12345", now=NOW)
    with engine.connect() as conn:
        reports = {r.campaign.name: r for r in campaign_reports(
            conn, ws, half_life=timedelta(days=2))}
    assert list(reports) == ["Salon", "Google Q1", "Idle"]
    r = reports["Salon"]
    assert (r.sessions, r.identified_accounts, r.new_accounts, r.mqls, r.clicks,
            r.cost_cents, r.cost_per_mql_cents) == (2, 1, 1, 1, 1, 150000, 150000)
    g = reports["Google Q1"]
    assert (g.sessions, g.identified_accounts, g.new_accounts, g.mqls, g.cost_cents,
            g.cost_per_mql_cents) == (1, 1, 1, 1, 0, 0)
    # Acme's journey: salon at T0, google at T0+2d, MQL at T0+3d (half-life 2 days:
    # weights 2**-1.5 and 2**-0.5, i.e. 1/3 and 2/3).
    assert r.credits == {"first_touch": 1.0, "last_touch": 0.0, "linear": 0.5,
                         "position_based": 0.5, "time_decay": pytest.approx(1 / 3)}
    assert g.credits == {"first_touch": 0.0, "last_touch": 1.0, "linear": 0.5,
                         "position_based": 0.5, "time_decay": pytest.approx(2 / 3)}
    i = reports["Idle"]
    assert (i.sessions, i.mqls, i.cost_per_mql_cents, i.credits["linear"]) == (0, 0, None, 0.0)
    assert idle.utm_campaign == "idle" and google.channel == "google"
    assert r.as_dict()["credits"] == {"first_touch": 1.0, "last_touch": 0.0, "linear": 0.5,
                                      "position_based": 0.5, "time_decay": 0.3333}


def test_click_ids_match_only_one_running_campaign_of_their_network() -> None:
    def campaign(i: int, channel: str, start: int, end: int, key: str) -> Campaign:
        return Campaign(i, 1, key, channel, None, "visits", date(2026, 3, start),
                        date(2026, 3, end), None, "EUR", key)

    one = [campaign(1, "google", 1, 10, "a"), campaign(2, "linkedin", 1, 31, "b")]
    at = datetime(2026, 3, 5, 23, 59, tzinfo=UTC)
    assert match_campaign(one, utm_campaign=None, click_id_kind="gbraid", started_at=at) == one[0]
    assert match_campaign(one, utm_campaign=None, click_id_kind="li_fat_id",
                          started_at=at) == one[1]
    assert match_campaign(one, utm_campaign=None, click_id_kind="gclid",
                          started_at=at + timedelta(days=10)) is None  # after its end
    assert match_campaign(one, utm_campaign=None, click_id_kind="fbclid", started_at=at) is None
    both = [*one, campaign(3, "google", 5, 6, "c")]  # two google campaigns: not guessed
    assert match_campaign(both, utm_campaign=None, click_id_kind="gclid", started_at=at) is None
    # utm_campaign wins over the click id, and is matched whatever the date.
    assert match_campaign(both, utm_campaign=" B ", click_id_kind="gclid",
                          started_at=at + timedelta(days=300)) == one[1]
    assert match_campaign(both, utm_campaign="zzz", click_id_kind="gclid", started_at=at) is None
