"""Sessions, accounts and contacts: ``plan_batch`` as pure logic, then ``store_hits``
end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from msgspec.structs import replace
from sqlalchemy.engine import Engine

from webleads.db.schema import accounts, contacts, hits, sessions, visitors
from webleads.db.store import store_hits
from webleads.identify import VisitorState, account_key, business_domain, plan_batch
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.sites import NewSite, create_site

SITE = Site(id=1, workspace_id=10, key="wl_one", name="One", domain="example.com")
OTHER_SITE = Site(id=2, workspace_id=10, key="wl_two", name="Two", domain="example.org")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ACME = Network(asn=64500, as_org="ACME-AS", org_name="ACME SA", org_domain="acme.fr",
               category="enterprise", confidence=0.9, country="FR")
GLOBEX = Network(asn=64501, org_name="Globex", category="enterprise", country="DE")
ORANGE = Network(asn=3215, as_org="Orange", org_name="Orange", category="isp", country="FR")

CAMPAIGNS: dict[str, dict[str, Any]] = {
    "spring": {"utm_source": "linkedin", "utm_medium": "cpc", "utm_campaign": "spring"},
    "autumn": {"utm_source": "linkedin", "utm_medium": "cpc", "utm_campaign": "autumn"},
    "gclid-a": {"click_id_kind": "gclid", "click_id": "AAA"},
    "gclid-b": {"click_id_kind": "gclid", "click_id": "BBB"},
}


def make_hit(minute: float, *, visitor: str = "visitor-1", site: Site = SITE,
             type: HitType = "pageview", network: Network | None = None,
             campaign: str | None = None, engaged_ms: int = 0, email: str | None = None,
             traits: dict[str, Any] | None = None, url: str = "https://example.com/") -> Hit:
    ts = T0 + timedelta(minutes=minute)
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor=visitor,
                    visitor_key=visitor, network=network, browser="Chrome",
                    device_type="desktop")
    return Hit(client=client, type=type, ts=ts, received_at=ts, url=url,
               engaged_ms=engaged_ms, email=email, traits=traits,
               **CAMPAIGNS.get(campaign or "", {}))


# -- plan_batch: sessions ---------------------------------------------------------------

def test_new_visitor_opens_a_session() -> None:
    plan = plan_batch([make_hit(0, url="https://example.com/pricing")], {})
    [session] = plan.sessions
    assert session.id is None and session.first_hit is plan.hits[0][0]
    assert session.started_at == session.last_seen == T0
    [visitor] = plan.visitors.values()
    assert visitor.is_new and visitor.session is session
    assert (visitor.first_seen, visitor.last_seen) == (T0, T0)


@pytest.mark.parametrize("hits, expected", [
    pytest.param([(0, None), (10, None), (29, None)], [0, 0, 0], id="continues-within-30-min"),
    pytest.param([(0, None), (30, None)], [0, 0], id="exactly-30-min-continues"),
    pytest.param([(0, None), (31, None)], [0, 1], id="new-after-30-min-idle"),
    pytest.param([(0, None), (25, None), (50, None), (75, None)], [0, 0, 0, 0],
                 id="idle-counts-from-last-hit-not-start"),
    pytest.param([(0, None), (5, "spring")], [0, 1], id="campaign-opens-new-session"),
    pytest.param([(0, "spring"), (5, "autumn")], [0, 1], id="other-campaign-opens-new"),
    pytest.param([(0, "spring"), (5, "spring")], [0, 0], id="same-campaign-continues"),
    pytest.param([(0, "spring"), (5, None), (10, "spring")], [0, 0, 0],
                 id="hit-without-campaign-keeps-session"),
    pytest.param([(0, "spring"), (5, None), (10, "autumn")], [0, 0, 1],
                 id="campaign-remembered-across-plain-hit"),
    pytest.param([(0, "gclid-a"), (1, "gclid-a"), (2, "gclid-b")], [0, 0, 1],
                 id="new-click-id-opens-new"),
    pytest.param([(31, None), (0, None)], [1, 0], id="batch-order-does-not-matter"),
])
def test_sessionisation(hits: list[tuple[int, str | None]], expected: list[int]) -> None:
    batch = [make_hit(minute, campaign=campaign) for minute, campaign in hits]
    plan = plan_batch(batch, {})
    by_hit = {id(hit): session for hit, session in plan.hits}
    numbers = [next(i for i, s in enumerate(plan.sessions) if s is by_hit[id(h)])
               for h in batch]
    assert numbers == expected
    assert len(plan.sessions) == max(expected) + 1


def known(session_id: int = 7, *, last_minute: float = 0, campaign: str | None = None,
          email: str | None = None) -> dict[tuple[int, str], VisitorState]:
    campaign_key = make_hit(0, campaign=campaign).campaign_key
    return {(SITE.id, "visitor-1"): VisitorState(
        session_id, T0 + timedelta(minutes=last_minute), campaign_key, email)}


@pytest.mark.parametrize("minute, campaign, continues", [
    (20, None, True),
    (30, None, True),
    (31, None, False),
    (5, "autumn", False),  # a new campaign, later than the last hit
    (5, "spring", True),
])
def test_known_visitor_resumes_or_opens(minute: int, campaign: str | None,
                                        continues: bool) -> None:
    plan = plan_batch([make_hit(minute, campaign=campaign)], known(campaign="spring"))
    [(_, session)] = plan.hits
    [visitor] = plan.visitors.values()
    assert not visitor.is_new
    assert (session.id == 7) is continues
    assert (session.first_hit is None) is continues


@pytest.mark.parametrize("campaign", [None, "autumn"])
def test_hit_older_than_last_hit_joins_the_current_session(campaign: str | None) -> None:
    """Late beacons (even 40 minutes late, even with another campaign) never open a
    session in the past."""
    plan = plan_batch([make_hit(0, campaign=campaign)],
                      known(last_minute=40, campaign="spring"))
    [(_, session)] = plan.hits
    assert session.id == 7 and session.first_hit is None
    [visitor] = plan.visitors.values()
    assert visitor.last_seen == T0 + timedelta(minutes=40)  # not moved back
    assert visitor.campaign == make_hit(0, campaign="spring").campaign_key


def test_session_counters() -> None:
    batch = [
        make_hit(0),
        make_hit(1, type="engagement", engaged_ms=1500),
        make_hit(2, type="click"),
        make_hit(3),
        make_hit(4, type="engagement", engaged_ms=2500),
    ]
    plan = plan_batch(batch, {})
    [session] = plan.sessions
    assert (session.hits, session.pageviews, session.engaged_ms) == (5, 2, 4000)
    assert session.last_seen == T0 + timedelta(minutes=4)


def test_resumed_session_counts_only_this_batch() -> None:
    plan = plan_batch([make_hit(10), make_hit(11, type="engagement", engaged_ms=700)],
                      known(last_minute=5))
    [session] = plan.sessions
    assert (session.id, session.hits, session.pageviews, session.engaged_ms) == (7, 2, 1, 700)
    assert session.last_seen == T0 + timedelta(minutes=11)


def test_visitors_of_different_sites_with_the_same_key_are_separate() -> None:
    plan = plan_batch([make_hit(0), make_hit(1, site=OTHER_SITE), make_hit(2)], {})
    assert set(plan.visitors) == {(1, "visitor-1"), (2, "visitor-1")}
    assert sorted(s.site_id for s in plan.sessions) == [1, 2]
    assert plan.visitors[(1, "visitor-1")].session.hits == 2
    assert plan.visitors[(2, "visitor-1")].session.hits == 1


# -- accounts -----------------------------------------------------------------------------

@pytest.mark.parametrize("network, expected", [
    (ACME, "acme"),
    # The name decides, not the domain: sources agree on names more than on domains.
    (Network(org_name="ACME S.A.", org_domain="WWW.ACME.FR", category="enterprise"),
     "acme"),
    (Network(org_name="Groupe Renault", category="enterprise"), "renault"),
    (Network(org_name="  Société   Générale ", category="enterprise"), "societe generale"),
    (Network(org_name="SOCIÉTÉ GÉNÉRALE", category="enterprise"), "societe generale"),
    (Network(org_name="Université Paris-Saclay", category="education"),
     "universite paris saclay"),
    (Network(org_name="Ministère de l'Économie", category="government"),
     "ministere de leconomie"),
    (Network(org_name="Ｆｕｌｌ Ｗｉｄｔｈ", category="enterprise"), "full width"),
    (Network(org_name="Orange", org_domain="orange.fr", category="isp"), None),
    (Network(org_name="SFR Mobile", category="mobile"), None),
    (Network(org_name="OVH SAS", org_domain="ovh.com", category="hosting"), None),
    (Network(org_name="Some Org", category="unknown"), None),
    (Network(org_name="NordVPN", category="anonymizer"), None),
    (Network(category="enterprise"), None),
    (Network(org_name="", org_domain="acme.fr", category="enterprise"), None),
    (None, None),
])
def test_account_key(network: Network | None, expected: str | None) -> None:
    assert account_key(network) == expected


def test_account_visits_are_entry_hits_of_sessions() -> None:
    batch = [
        make_hit(0, network=ACME), make_hit(1, network=ACME),
        make_hit(2, network=ACME, type="engagement", engaged_ms=900),
        make_hit(40, network=ACME),  # second session of visitor-1
        make_hit(5, visitor="visitor-2", network=ACME),
        make_hit(6, visitor="visitor-3", network=ORANGE),  # an ISP: no account
    ]
    plan = plan_batch(batch, {})
    [acme] = plan.accounts.values()
    assert acme.key == "acme" and acme.workspace_id == 10 and acme.network == ACME
    assert (acme.visits, acme.pageviews, acme.engaged_ms) == (3, 4, 900)
    assert (acme.first_seen, acme.last_seen) == (T0, T0 + timedelta(minutes=40))
    assert sorted(s.account_key or "-" for s in plan.sessions) == ["-", "acme", "acme",
                                                                   "acme"]


def test_resumed_session_adds_no_visit_but_its_hits_count_for_the_account() -> None:
    plan = plan_batch([make_hit(10, network=ACME), make_hit(11, network=ACME)],
                      known(last_minute=5))
    [acme] = plan.accounts.values()
    assert (acme.visits, acme.pageviews) == (0, 2)
    [(_, session), _] = plan.hits
    assert session.id == 7 and session.account_key == "acme"


def test_accounts_are_per_workspace() -> None:
    elsewhere = Site(id=3, workspace_id=11, key="wl_three", name="Three", domain="x.org")
    plan = plan_batch([make_hit(0, network=ACME), make_hit(0, network=ACME, site=elsewhere)],
                      {})
    assert set(plan.accounts) == {(10, "acme"), (11, "acme")}


# -- contacts -----------------------------------------------------------------------------

@pytest.mark.parametrize("type, email, identified", [
    ("identify", "jane@acme.fr", True),
    ("form", "jane@acme.fr", True),
    ("form", None, False),
    ("pageview", "jane@acme.fr", False),
])
def test_identify_and_form_with_email_set_the_contact(type: HitType, email: str | None,
                                                      identified: bool) -> None:
    batch = [make_hit(0), make_hit(1, type=type, email=email, traits={"plan": "pro"}),
             make_hit(40)]
    plan = plan_batch(batch, {})
    [visitor] = plan.visitors.values()
    first, second = plan.sessions
    if identified:
        assert visitor.contact_email == first.contact_email == "jane@acme.fr"
        assert second.contact_email == "jane@acme.fr"  # a later session inherits it
        [contact] = plan.contacts.values()
        assert (contact.email, contact.workspace_id, contact.traits) == (
            "jane@acme.fr", 10, {"plan": "pro"})
        assert contact.first_seen == contact.last_seen == T0 + timedelta(minutes=1)
    else:
        assert visitor.contact_email is None and first.contact_email is None
        assert plan.contacts == {}


def test_known_contact_carries_into_a_new_session() -> None:
    plan = plan_batch([make_hit(60)], known(last_minute=0, email="jane@acme.fr"))
    [(_, session)] = plan.hits
    assert session.id is None and session.contact_email == "jane@acme.fr"


def test_traits_of_one_batch_are_merged() -> None:
    plan = plan_batch([
        make_hit(0, type="identify", email="jane@acme.fr", traits={"plan": "pro"}),
        make_hit(1, visitor="visitor-2", type="identify", email="jane@acme.fr",
                 traits={"company": "ACME"}),
    ], {})
    [contact] = plan.contacts.values()
    assert contact.traits == {"plan": "pro", "company": "ACME"}
    assert contact.last_seen == T0 + timedelta(minutes=1)


# -- store_hits on SQLite and PostgreSQL --------------------------------------------------

def with_site(hit: Hit, site: Site) -> Hit:
    return replace(hit, client=replace(hit.client, site=site))


def store(engine: Engine, batch: list[Hit]) -> None:
    with engine.begin() as conn:
        store_hits(conn, batch)


def select(engine: Engine, table: sa.Table, *order: Any) -> list[Any]:
    with engine.connect() as conn:
        stmt = sa.select(table)
        if order:
            stmt = stmt.order_by(*order)
        return list(conn.execute(stmt))


def test_returning_visitor_continues_then_gets_a_new_session(engine: Engine,
                                                           site: NewSite) -> None:
    s = site.site
    store(engine, [with_site(make_hit(0), s),
                   with_site(make_hit(2, type="engagement", engaged_ms=1000), s)])
    store(engine, [with_site(make_hit(20), s)])  # 18 minutes later: same session
    [first] = select(engine, sessions)
    assert (first.hits, first.pageviews, first.engaged_ms) == (3, 2, 1000)
    assert (first.started_at, first.last_seen) == (T0, T0 + timedelta(minutes=20))

    store(engine, [with_site(make_hit(51, url="https://example.com/again"), s)])  # 31 min gap
    first, second = select(engine, sessions, sessions.c.id)
    assert first.hits == 3 and first.last_seen == T0 + timedelta(minutes=20)
    assert (second.hits, second.started_at, second.entry_url) == (
        1, T0 + timedelta(minutes=51), "https://example.com/again")
    [visitor] = select(engine, visitors)
    assert visitor.session_id == second.id
    assert (visitor.first_seen, visitor.last_seen) == (T0, T0 + timedelta(minutes=51))
    stored = select(engine, hits, hits.c.ts)
    assert [h.session_id for h in stored] == [first.id] * 3 + [second.id]


def test_late_hit_in_a_later_batch_joins_the_current_session(engine: Engine,
                                                            site: NewSite) -> None:
    s = site.site
    store(engine, [with_site(make_hit(0), s), with_site(make_hit(60), s)])
    store(engine, [with_site(make_hit(1, type="engagement", engaged_ms=500), s)])
    first, second = select(engine, sessions, sessions.c.id)
    assert (first.hits, second.hits, second.engaged_ms) == (1, 2, 500)
    assert second.last_seen == T0 + timedelta(minutes=60)
    [visitor] = select(engine, visitors)
    assert visitor.last_seen == T0 + timedelta(minutes=60)


def test_account_counters_add_up_across_batches(engine: Engine, site: NewSite) -> None:
    s = site.site
    store(engine, [with_site(make_hit(10, network=ACME), s),
                   with_site(make_hit(11, network=ACME, type="engagement", engaged_ms=800), s)])
    # visitor-1 continues its session; visitor-2 from the same company arrives, with a
    # hit stamped before anything seen so far (imports, late beacons).
    store(engine, [with_site(make_hit(15, network=ACME), s),
                   with_site(make_hit(2, visitor="visitor-2", network=ACME), s)])
    [acme] = select(engine, accounts)
    assert (acme.org_key, acme.name, acme.domain, acme.category, acme.country) == (
        "acme", "ACME SA", "acme.fr", "enterprise", "FR")
    assert (acme.visits, acme.pageviews, acme.engaged_ms) == (2, 3, 800)
    assert (acme.first_seen, acme.last_seen) == (T0 + timedelta(minutes=2),
                                                 T0 + timedelta(minutes=15))
    assert all(sess.account_id == acme.id for sess in select(engine, sessions))
    # Every hit of the company is on its timeline, including those of a session that
    # started in an earlier batch.
    assert [h.account_id for h in select(engine, hits, hits.c.ts)] == [acme.id] * 4


def test_account_counters_are_atomic_under_concurrent_writers(engine: Engine,
                                                              site: NewSite) -> None:
    s = site.site
    n = 6
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            batch = [with_site(make_hit(i, visitor=f"visitor-{i}", network=ACME), s),
                     with_site(make_hit(i + 1, visitor=f"visitor-{i}", network=ACME,
                                        type="engagement", engaged_ms=100), s)]
            barrier.wait(10)
            store(engine, batch)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    [acme] = select(engine, accounts)
    assert (acme.visits, acme.pageviews, acme.engaged_ms) == (n, n, 100 * n)
    assert (acme.first_seen, acme.last_seen) == (T0, T0 + timedelta(minutes=n))


def test_contact_is_one_row_per_email_and_links_earlier_sessions(engine: Engine,
                                                                 site: NewSite) -> None:
    s = site.site
    store(engine, [with_site(make_hit(0), s)])  # anonymous first visit
    store(engine, [with_site(make_hit(40, type="identify", email="jane@acme.fr",
                                      traits={"plan": "pro"}), s)])
    # the same person on another device, later
    store(engine, [with_site(make_hit(90, visitor="visitor-2", type="form",
                                      email="jane@acme.fr"), s)])
    [contact] = select(engine, contacts)
    assert (contact.email, contact.domain, contact.traits) == ("jane@acme.fr", "acme.fr",
                                                              {"plan": "pro"})
    assert (contact.first_seen, contact.last_seen) == (T0 + timedelta(minutes=40),
                                                       T0 + timedelta(minutes=90))
    stored = select(engine, sessions, sessions.c.id)
    assert len(stored) == 3
    assert [sess.contact_id for sess in stored] == [contact.id] * 3
    assert {v.contact_id for v in select(engine, visitors)} == {contact.id}
    # An older identify arriving late does not move last_seen back.
    store(engine, [with_site(make_hit(41, type="identify", email="jane@acme.fr"), s)])
    [contact] = select(engine, contacts)
    assert contact.last_seen == T0 + timedelta(minutes=90)


def test_two_sites_in_one_batch(engine: Engine, site: NewSite) -> None:
    one = site.site
    two = create_site(engine, "Two", "example.org").site
    store(engine, [with_site(make_hit(0, network=ACME), one),
                   with_site(make_hit(1, network=ACME), two),
                   with_site(make_hit(2, network=ACME), one)])
    by_site = {v.site_id: v for v in select(engine, visitors)}
    assert set(by_site) == {one.id, two.id}
    stored = select(engine, sessions)
    assert sorted((sess.site_id, sess.hits) for sess in stored) == sorted(
        [(one.id, 2), (two.id, 1)])
    for v in by_site.values():
        assert v.key == "visitor-1"
        [sess] = [x for x in stored if x.site_id == v.site_id]
        assert v.session_id == sess.id
    # Both sites are in the default workspace: one account, two visits.
    [acme] = select(engine, accounts)
    assert (acme.visits, acme.pageviews) == (2, 3)
    assert {(h.site_id, h.session_id) for h in select(engine, hits)} == {
        (sess.site_id, sess.id) for sess in stored}


def test_identified_visitor_keeps_its_contact_in_later_batches(engine: Engine,
                                                              site: NewSite) -> None:
    s = site.site
    store(engine, [with_site(make_hit(0, type="identify", email="jane@acme.fr"), s)])
    store(engine, [with_site(make_hit(5), s)])  # same session, a later request
    store(engine, [with_site(make_hit(60), s)])  # a new session, a later request
    [contact] = select(engine, contacts)
    stored = select(engine, sessions, sessions.c.id)
    assert [sess.contact_id for sess in stored] == [contact.id, contact.id]
    assert [h.contact_id for h in select(engine, hits, hits.c.ts)] == [contact.id] * 3
    [visitor] = select(engine, visitors)
    assert visitor.contact_id == contact.id


def test_long_campaign_values_are_stored_and_still_match(engine: Engine,
                                                         site: NewSite) -> None:
    """UTM values are capped at 200 characters each by put_source: a campaign made of
    three of them must fit the visitors table and compare equal in the next batch."""
    s = site.site
    long = {"utm_source": "s" * 200, "utm_medium": "m" * 200, "utm_campaign": "c" * 200}
    first = replace(with_site(make_hit(0), s), **long)
    store(engine, [first])
    store(engine, [replace(with_site(make_hit(5), s), **long)])
    store(engine, [replace(with_site(make_hit(6), s), **{**long, "utm_campaign": "c" * 199})])
    stored = select(engine, sessions, sessions.c.id)
    assert [sess.hits for sess in stored] == [2, 1]


# -- e-mail domain over the network's guess ------------------------------------------------

def test_work_email_moves_the_session_to_its_company_account() -> None:
    batch = [
        make_hit(0, network=ORANGE),  # at home, on a consumer ISP: anonymous so far
        make_hit(1, network=ORANGE, type="identify", email="jane@globex.example"),
        make_hit(2, network=ORANGE),
        make_hit(40, network=ORANGE),  # a later session, still from home
    ]
    plan = plan_batch(batch, {})
    [globex] = plan.accounts.values()
    assert (globex.key, globex.network.org_domain, globex.network.category) == (
        "globex example", "globex.example", "enterprise")
    assert globex.network.evidence == ("e-mail domain: globex.example",)
    # Both sessions count as visits of the company; every hit goes to its account.
    assert (globex.visits, globex.pageviews) == (2, 3)
    assert [s.account_key for s in plan.sessions] == ["globex example"] * 2
    assert plan.contacts[(10, "jane@globex.example")].account_key == "globex example"


def test_free_mail_names_no_company_and_keeps_the_network_guess() -> None:
    batch = [make_hit(0, network=ACME),
             make_hit(1, network=ACME, type="identify", email="jane.doe@gmail.com"),
             make_hit(2, visitor="visitor-2", network=ORANGE, type="identify",
                      email="bob@orange.fr")]
    plan = plan_batch(batch, {})
    assert [a.key for a in plan.accounts.values()] == ["acme"]
    assert {c.account_key for c in plan.contacts.values()} == {None}
    assert business_domain("x@GMAIL.com") is None
    assert business_domain("x@globex.example") == "globex.example"


def test_work_email_beats_the_network_of_another_company() -> None:
    plan = plan_batch([make_hit(0, network=ACME),
                       make_hit(1, network=ACME, type="identify", email="jo@globex.example")],
                      {})
    assert {a.key for a in plan.accounts.values()} == {"acme", "globex example"}
    [session] = plan.sessions
    assert session.account_key == "globex example"
