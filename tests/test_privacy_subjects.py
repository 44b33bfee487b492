"""Data subjects: export everything held about an e-mail address, erase it (idempotent,
other people untouched, the organisation's counters and scores recomputed), audit."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_privacy_helpers import T0, count, dump, hit, quarantine_body, store_batch, visit
from webleads.db.engine import read_only
from webleads.db.schema import accounts, contacts, hits, quarantine, sessions, visitors
from webleads.db.schema_outbox import outbox
from webleads.db.schema_privacy import audit_log, daily_stats
from webleads.db.schema_scoring import account_scores, contact_scores, score_ledger
from webleads.outbox.queue import enqueue
from webleads.privacy import audit, subjects
from webleads.scoring.rescore import rescore
from webleads.sites import NewSite

JANE = "jane@acme.example"
JOHN = "john@acme.example"


def _two_people(engine: Engine, site: NewSite) -> None:
    s = site.site
    store_batch(engine, visit(s, "v-jane", T0, email=JANE))
    store_batch(engine, visit(s, "v-jane", T0 + timedelta(days=2), pages=2))
    store_batch(engine, visit(s, "v-john", T0 + timedelta(hours=1), email=JOHN, pages=4))
    store_batch(engine, visit(s, "v-anon", T0 + timedelta(hours=2), pages=2))
    with engine.begin() as conn:
        ws = s.workspace_id
        enqueue(conn, workspace_id=ws, channel="email", destination="sales@example.com",
                kind="mql", payload={"contact": JANE, "account": "Acme SA"}, language="en",
                idempotency_key="t-jane", now=T0)
        enqueue(conn, workspace_id=ws, channel="email", destination="sales@example.com",
                kind="mql", payload={"contact": JOHN}, language="en",
                idempotency_key="t-john", now=T0)


def _acme(engine: Engine) -> tuple[int, int, int]:
    with read_only(engine) as conn:
        row = conn.execute(sa.select(accounts.c.visits, accounts.c.pageviews,
                                     accounts.c.engaged_ms)
                           .where(accounts.c.org_key == "acme")).one()
    return int(row[0]), int(row[1]), int(row[2])


def test_export_holds_every_kind_of_row(engine: Engine, site: NewSite) -> None:
    _two_people(engine, site)
    data = subjects.export_for(engine, " Jane@ACME.example ", by="dpo", now=T0)
    assert data["email"] == JANE
    assert [c["email"] for c in data["contacts"]] == [JANE]
    assert data["contacts"][0]["traits"] == {"name": "Jane"}
    assert [v["key"] for v in data["visitors"]] == ["v-jane"]
    assert len(data["sessions"]) == 2
    assert {s["visitor_key"] for s in data["sessions"]} == {"v-jane"}
    assert len(data["hits"]) == 6  # 3 + identify + 2
    assert {h["type"] for h in data["hits"]} == {"pageview", "identify"}
    assert all(h["url"].startswith("https://example.com/") for h in data["hits"])
    assert data["ledger"], "the pricing pages scored"
    assert data["scores"] and data["scores"][0]["points"] > 0
    assert [a["name"] for a in data["accounts"]] == ["Acme SA"]
    assert [m["payload"]["contact"] for m in data["messages"]] == [JANE]
    json.dumps(data)  # JSON-ready
    text = subjects.summary(data, lang="fr", now=T0)
    assert "Données conservées sur jane@acme.example" in text and "Acme SA" in text
    assert "Data held about" in subjects.summary(data, lang="en", now=T0)
    entries = audit.entries(_conn := read_only(engine), last=5)
    _conn.close()
    assert [(e.action, e.actor) for e in entries] == [("privacy.export", "dpo")]
    assert JANE not in entries[0].target and entries[0].target == audit.subject_ref(JANE)


def test_export_of_an_unknown_address_is_empty(engine: Engine, site: NewSite) -> None:
    _two_people(engine, site)
    with read_only(engine) as conn:
        data = subjects.export_subject(conn, "nobody@example.com")
    assert data["contacts"] == data["hits"] == data["messages"] == []


def test_erase_removes_the_subject_and_keeps_the_others(engine: Engine, site: NewSite) -> None:
    _two_people(engine, site)
    with read_only(engine) as conn:
        jane_id = conn.execute(sa.select(contacts.c.id).where(contacts.c.email == JANE)
                               ).scalar_one()
        john = subjects.export_subject(conn, JOHN)
    hits_before = count(engine, hits)
    visits, pageviews, engaged = _acme(engine)

    report = subjects.erase_subject(engine, JANE, by="dpo", now=T0 + timedelta(days=3))

    assert (report.contacts, report.visitors, report.sessions, report.hits) == (1, 1, 2, 6)
    assert report.messages == 1 and report.workspaces_rescored == (site.site.workspace_id,)
    everything = dump(engine)
    assert JANE not in everything
    assert count(engine, contacts, contacts.c.id == jane_id) == 0
    for table in (hits, sessions, visitors, score_ledger):
        assert count(engine, table, table.c.contact_id == jane_id) == 0
    assert count(engine, contact_scores, contact_scores.c.contact_id == jane_id) == 0
    assert count(engine, hits, hits.c.visitor_key == "v-jane") == 0
    assert count(engine, sessions, sessions.c.visitor_key == "v-jane") == 0
    assert count(engine, hits) == hits_before - 6
    # The organisation stays, without Jane's 2 visits and 5 pageviews.
    assert _acme(engine) == (visits - 2, pageviews - 5, engaged)
    # Others untouched.
    with read_only(engine) as conn:
        after = subjects.export_subject(conn, JOHN)
        for kind in ("contacts", "visitors", "sessions", "hits", "messages"):
            assert after[kind] == john[kind], kind
    assert count(engine, outbox) == 1
    with read_only(engine) as conn:
        # Scores as a full rescore computes them from what is left.
        scores = sorted(tuple(r) for r in conn.execute(sa.select(account_scores)))
    rescore(engine, now=T0 + timedelta(days=3))
    with read_only(engine) as conn:
        assert sorted(tuple(r) for r in conn.execute(sa.select(account_scores))) == scores
    # The anonymous daily counts keep Jane's hits.
    with read_only(engine) as conn:
        assert conn.execute(sa.select(sa.func.sum(daily_stats.c.hits))).scalar_one() == 6
    # Idempotent.
    again = subjects.erase_subject(engine, JANE, by="dpo", now=T0 + timedelta(days=3))
    assert (again.contacts, again.hits, again.sessions, again.messages) == (0, 0, 0, 0)
    assert not again.found
    assert _acme(engine) == (visits - 2, pageviews - 5, engaged)
    with read_only(engine) as conn:
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.target)).all()
    assert [a for a, _ in actions] == ["privacy.erase", "privacy.erase"]
    assert all(target == audit.subject_ref(JANE) for _, target in actions)


def test_erase_in_another_workspace_touches_nothing(engine: Engine, site: NewSite) -> None:
    _two_people(engine, site)
    report = subjects.erase_subject(engine, JANE, workspace_id=site.site.workspace_id + 999,
                                    by="dpo", now=T0)
    assert report.contacts == report.hits == 0
    assert count(engine, contacts, contacts.c.email == JANE) == 1


# -- free text: quarantined bodies and hits not linked to the contact ----------------------

JANE_FORMS = (JANE, "jane%40acme.example")
DAY = T0 + timedelta(days=1)


def _free_text(engine: Engine, site: NewSite) -> None:
    """Jane's address where no link leads: request bodies and other visitors' hits."""
    _two_people(engine, site)
    s = site.site
    store_batch(engine, [  # a link from her e-mail: the entry URL names her
        hit(s, "v-other", DAY, url="https://example.com/pricing?email=Jane%40Acme.example"),
        hit(s, "v-other", DAY + timedelta(minutes=1), url="https://example.com/pricing/2")])
    store_batch(engine, [hit(s, "v-lone", DAY, title="Welcome JANE@ACME.EXAMPLE")])
    store_batch(engine, [
        hit(s, "v-props", DAY, url="https://example.com/pricing/1"),
        hit(s, "v-props", DAY + timedelta(minutes=1), kind="event",
            props={"email": "jane@acme.example", "form": "demo"}),
        hit(s, "v-props", DAY + timedelta(minutes=2),
            referrer="https://mail.example/read?to=jane%40acme.example")])
    store_batch(engine, [hit(s, "v-john", DAY, url="https://example.com/?email=john%40acme.example")])
    key = s.key
    quarantine_body(engine, b'{"type":"identify","email":"Jane@Acme.example","traits":{}}',
                    site_key=key)
    quarantine_body(engine, b"email=jane%40acme.example&company=Acme", site_key=key)
    quarantine_body(engine, b"\xff\xfe\x00\\ not utf-8 jane@acme.example", site_key=None)
    quarantine_body(engine, b'{"type":"identify","email":"john@acme.example"}', site_key=key)


def _names_jane(text: str) -> bool:
    return any(form in text.lower() for form in JANE_FORMS)


def test_export_includes_what_text_search_finds(engine: Engine, site: NewSite) -> None:
    _free_text(engine, site)
    with read_only(engine) as conn:
        data = subjects.export_subject(conn, JANE)
    assert len(data["hits"]) == 6, "linked hits are not found twice"
    assert len(data["text_hits"]) == 4
    assert {h["visitor_key"] for h in data["text_hits"]} == {"v-other", "v-lone", "v-props"}
    assert [s["visitor_key"] for s in data["text_sessions"]] == ["v-other"]
    assert len(data["quarantine"]) == 3
    for kind in ("text_hits", "text_sessions", "quarantine"):
        assert {row["found_by"] for row in data[kind]} == {"text_search"}, kind
    assert all(_names_jane(q["payload"]) for q in data["quarantine"])
    json.dumps(data)
    text = subjects.summary(data, lang="en", now=T0)
    assert "Pages and events recorded: 10" in text and "email=Jane%40Acme" in text


def test_erase_removes_the_address_from_free_text(engine: Engine, site: NewSite) -> None:
    _free_text(engine, site)
    assert _names_jane(dump(engine))
    with read_only(engine) as conn:
        john = subjects.export_subject(conn, JOHN)
    hits_before = count(engine, hits)
    visits, pageviews, engaged = _acme(engine)

    report = subjects.erase_subject(engine, JANE, by="dpo", now=DAY)

    assert (report.contacts, report.hits, report.text_hits, report.quarantine) == (1, 6, 4, 3)
    assert (report.text_sessions_deleted, report.sessions_recounted) == (1, 2)
    assert report.found
    assert not _names_jane(dump(engine))
    assert count(engine, hits) == hits_before - 10
    # Other people's rows stay, John's address included.
    assert count(engine, quarantine) == 1
    assert count(engine, hits, hits.c.url.contains("john%40acme.example")) == 1
    with read_only(engine) as conn:
        after = subjects.export_subject(conn, JOHN)
        for kind in ("contacts", "visitors", "sessions", "hits", "messages", "quarantine"):
            assert after[kind] == john[kind], kind
        kept = {r.visitor_key: r for r in conn.execute(sa.select(sessions).where(
            sessions.c.visitor_key.in_(["v-other", "v-lone", "v-props"])))}
    # Sessions: counters down by the hits deleted, the entry URL from the first hit left;
    # a session left without hits is deleted.
    assert set(kept) == {"v-other", "v-props"}
    assert (kept["v-other"].hits, kept["v-other"].pageviews) == (1, 1)
    assert kept["v-other"].entry_url == "https://example.com/pricing/2"
    assert (kept["v-props"].hits, kept["v-props"].pageviews) == (1, 1)
    # The organisation loses Jane's 2 visits and 5 pages, and the 1 visit and 3 pages
    # that named her; its scores are what a full rescore gives.
    assert _acme(engine) == (visits - 3, pageviews - 8, engaged)
    with read_only(engine) as conn:
        scores = sorted(tuple(r) for r in conn.execute(sa.select(account_scores)))
        assert conn.execute(sa.select(sa.func.sum(daily_stats.c.hits))).scalar_one() == 10
    rescore(engine, now=DAY)
    with read_only(engine) as conn:
        assert sorted(tuple(r) for r in conn.execute(sa.select(account_scores))) == scores
    # Idempotent.
    again = subjects.erase_subject(engine, JANE, by="dpo", now=DAY)
    assert not again.found
    assert (again.text_hits, again.quarantine, again.sessions_recounted) == (0, 0, 0)
    assert count(engine, hits) == hits_before - 10 and count(engine, quarantine) == 1
    assert _acme(engine) == (visits - 3, pageviews - 8, engaged)


def test_text_search_keeps_to_the_workspace(engine: Engine, site: NewSite) -> None:
    _free_text(engine, site)
    hits_before = count(engine, hits)
    report = subjects.erase_subject(engine, JANE, workspace_id=site.site.workspace_id + 999,
                                    by="dpo", now=DAY)
    assert (report.text_hits, report.quarantine, report.found) == (0, 0, False)
    assert count(engine, hits) == hits_before and count(engine, quarantine) == 4


def test_export_holds_campaign_rows_and_erase_removes_them(engine: Engine,
                                                           site: NewSite) -> None:
    """Consent to tracked links, tracked-link clicks and won deals belong to the subject:
    exported with the rest, and gone (or unlinked, for the deal) after erasure."""
    from webleads.db.schema_campaigns import campaigns, contact_consents, deals, tracked_clicks

    _two_people(engine, site)
    ws = site.site.workspace_id
    with engine.begin() as conn:
        jane = conn.execute(sa.select(contacts.c.id).where(contacts.c.email == JANE)
                            ).scalar_one()
        campaign = conn.execute(sa.insert(campaigns).values(
            workspace_id=ws, name="Spring", channel="email", objective="visits",
            starts_on=T0.date(), ends_on=T0.date(), currency="EUR", utm_campaign="spring",
            notes="", created_at=T0).returning(campaigns.c.id)).scalar_one()
        conn.execute(sa.insert(contact_consents).values(contact_id=jane, consent=True,
                                                        source="import", updated_at=T0))
        conn.execute(sa.insert(tracked_clicks).values(
            nonce="n" * 22, workspace_id=ws, campaign_id=campaign, contact_id=jane,
            clicked_at=T0, expires_at=T0 + timedelta(minutes=30)))
        conn.execute(sa.insert(deals).values(
            workspace_id=ws, day=T0.date(), contact_id=jane, campaign_id=campaign,
            amount_cents=120_000, currency="EUR", source="import", ref="d1", note="",
            created_at=T0))
    data = subjects.export_for(engine, JANE, by="dpo", now=T0)
    assert sorted(r["table"] for r in data["campaigns"]) == [
        "contact_consents", "deals", "tracked_clicks"]
    json.dumps(data)
    subjects.erase_subject(engine, JANE, by="dpo", now=T0)
    with read_only(engine) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tracked_clicks)
                            ).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(contact_consents)
                            ).scalar_one() == 0
        assert conn.execute(sa.select(deals.c.contact_id, deals.c.amount_cents)).all() == [
            (None, 120_000)]  # the revenue stays, no longer tied to the person
    assert subjects.export_for(engine, JANE, by="dpo", now=T0)["campaigns"] == []
