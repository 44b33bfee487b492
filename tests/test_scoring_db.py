"""The incremental scoring path on both engines: hits stored with ``store.store_hits``,
then scored with ``score_stored_hits`` in the same transaction; caps, negative points,
late hits, returning visitors, contacts, committee, interest, explanations, rebase."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webleads.db import scoring as db
from webleads.db import store
from webleads.db.schema import accounts, contacts, hits
from webleads.db.schema_scoring import (
    account_interest,
    account_scores,
    contact_scores,
    score_ledger,
    scoring_rules,
    scoring_settings,
)
from webleads.identify import Plan
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.scoring import document, explain
from webleads.scoring.config import apply_config
from webleads.scoring.incremental import (
    default_config,
    inputs_from_plan,
    score_plan,
    score_stored_hits,
)
from webleads.scoring.model import ScoringInput
from webleads.scoring.rescore import rescore
from webleads.sites import NewSite

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", org_domain="acme.example",
               category="enterprise", confidence=0.9, country="FR")
GLOBEX = Network(asn=64513, as_org="GLOBEX", org_name="Globex Corp",
                 org_domain="globex.example", category="enterprise", confidence=0.9,
                 country="DE")
ISP = Network(asn=65000, as_org="ISP", category="isp", confidence=0.5, country="FR")


def hit(site: Site, visitor: str, at: timedelta, *, network: Network | None = ACME,
        kind: HitType = "pageview", path: str = "/", group: str | None = None,
        engaged: int = 0, utm_source: str | None = None, source: str = "direct",
        name: str | None = None, href: str | None = None, email: str | None = None) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.18.0.0", browser="Firefox", os="Linux",
                    device_type="desktop", country=network.country if network else None)
    ts = T0 + at
    return Hit(client=client, type=kind, ts=ts, received_at=ts,
               url=f"https://example.com{path}", engaged_ms=engaged, utm_source=utm_source,
               utm_campaign="spring" if utm_source else None, source_class=source,  # type: ignore[arg-type]
               source_name=utm_source, page_group=group, name=name,
               props={"href": href} if href else None, email=email)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def stored_items(conn: Connection, batch: Sequence[Hit], before: int) -> list[ScoringInput]:
    """The scoring inputs of the hits stored after id ``before`` (hit ids known)."""
    new_sessions = conn.execute(sa.select(hits.c.session_id).where(hits.c.id > before)
                                .distinct()).scalars()
    returning = db.returning_sessions(conn, new_sessions)
    workspace_id = batch[0].client.site.workspace_id
    site_ids = sorted({h.client.site.id for h in batch})
    return list(db.stored_inputs(conn, workspace_id, site_ids, returning, min_id=before))


def plan_ids(conn: Connection, plan: Plan
             ) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], int]]:
    """The ids the store gave the plan's accounts and contacts (it does not return them)."""
    account_ids = {(int(w), k): int(i) for w, k, i in conn.execute(
        sa.select(accounts.c.workspace_id, accounts.c.org_key, accounts.c.id))}
    contact_ids = {(int(w), e): int(i) for w, e, i in conn.execute(
        sa.select(contacts.c.workspace_id, contacts.c.email, contacts.c.id))}
    by_domain = {(int(w), d): int(i) for w, d, i in conn.execute(
        sa.select(accounts.c.workspace_id, accounts.c.domain, accounts.c.id))}
    for s in plan.sessions:  # keys the store joined to an account of the same domain
        key = (s.workspace_id, s.account_key or "")
        if s.account_key and key not in account_ids and s.contact_email:
            account_ids[key] = by_domain[(s.workspace_id, s.contact_email.rpartition("@")[2])]
    return account_ids, contact_ids


def plan_items(conn: Connection, plan: Plan) -> list[ScoringInput]:
    """The scoring inputs as the store can build them from its plan (hit ids unknown)."""
    returning = db.returning_sessions(conn, (s.id for s in plan.sessions if s.id is not None))
    return inputs_from_plan(plan, *plan_ids(conn, plan), returning)


def score_batch(engine: Engine, batch: list[Hit], *, via_plan: bool = False) -> None:
    with engine.begin() as conn:
        before = db.max_hit_id(conn)
        plan = store.store_hits(conn, batch, score=False)
        if via_plan:  # as the store does
            score_plan(conn, plan, *plan_ids(conn, plan))
        else:
            score_stored_hits(conn, stored_items(conn, batch, before))


def ledger(engine: Engine) -> list[tuple[Any, ...]]:
    """Ledger lines as comparable values (without ids: a rescore renumbers them)."""
    lg = score_ledger.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(
            lg.workspace_id, lg.account_id, lg.contact_id, scoring_rules.c.name, lg.site_id,
            lg.session_id, lg.ts, lg.points, lg.weight, lg.page_group)
            .outerjoin(scoring_rules, scoring_rules.c.id == lg.rule_id)).all()
    return sorted((tuple(r) for r in rows), key=repr)


def state(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the scoring writes, comparable between incremental and rescore."""
    out = {"ledger": ledger(engine)}
    with engine.connect() as conn:
        for table in (account_scores, account_interest, contact_scores):
            out[table.name] = sorted((tuple(r) for r in conn.execute(sa.select(table))),
                                     key=repr)
        out["settings"] = [tuple(r) for r in conn.execute(
            sa.select(scoring_settings.c.workspace_id, scoring_settings.c.epoch,
                      scoring_settings.c.half_life_days))]
    return out


def assert_rescore_gives_the_same(engine: Engine, now: datetime) -> None:
    before = state(engine)
    rescore(engine, now=now)
    after = state(engine)
    for key in before:
        assert after[key] == before[key], key


def account_id(engine: Engine, org_key: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(accounts.c.id).where(sa.or_(
            accounts.c.org_key == org_key, accounts.c.domain == f"{org_key}.example"))
        ).scalar_one())


def points_by_rule(engine: Engine) -> list[tuple[str, int, datetime]]:
    return sorted((str(r[3]), int(r[7]), r[6]) for r in ledger(engine))


def set_rules(engine: Engine, text: str) -> None:
    with engine.begin() as conn:
        apply_config(conn, 1, document.loads(text), now=T0)


def test_defaults_are_seeded_on_first_use(engine: Engine, site: NewSite) -> None:
    score_batch(engine, [hit(site.site, "v1", minutes(0), path="/pricing")])
    with engine.connect() as conn:
        names = conn.execute(sa.select(scoring_rules.c.name)).scalars().all()
        [settings] = conn.execute(sa.select(scoring_settings)).all()
    assert len(names) == len(default_config().rules or []) and "pricing" in names
    assert settings.half_life_days == 30.0 and settings.rules_version == 1
    assert points_by_rule(engine) == [("pricing", 20, T0)]


def test_caps_negative_points_and_hits_without_account(engine: Engine, site: NewSite) -> None:
    s = site.site
    score_batch(engine, [
        hit(s, "v1", minutes(0), path="/pricing"),
        hit(s, "v1", minutes(1), path="/pricing"),  # capped: once a day
        hit(s, "v1", minutes(2), path="/careers"),
        hit(s, "v1", minutes(3), path="/products/crm"),
        hit(s, "v1", minutes(4), path="/products/erp"),
        hit(s, "v-isp", minutes(0), network=ISP, path="/pricing"),  # no account: no points
    ])
    score_batch(engine, [hit(s, "v1", days(1), path="/pricing"),
                         hit(s, "v1", days(1) + minutes(1), path="/careers")])
    expected = [
        ("careers", -10, T0 + minutes(2)), ("careers", -10, T0 + days(1) + minutes(1)),
        ("pricing", 20, T0), ("pricing", 20, T0 + days(1)),
        ("product", 5, T0 + minutes(3)), ("product", 5, T0 + minutes(4)),
        ("returning", 15, T0 + days(1)),
    ]
    assert points_by_rule(engine) == expected
    now = T0 + days(3)
    acme = account_id(engine, "acme")
    with engine.connect() as conn:
        assert explain.account_score(conn, acme, now) == pytest.approx(
            sum(p * 0.5 ** ((now - ts) / days(30)) for _, p, ts in expected), abs=1e-3)
    assert_rescore_gives_the_same(engine, T0)


def test_a_late_hit_takes_the_place_of_a_later_one(engine: Engine, site: NewSite) -> None:
    s = site.site
    score_batch(engine, [hit(s, "v1", minutes(60), path="/pricing")])
    # Sent earlier, arrived later (a late beacon, an import): the cap keeps the earliest.
    score_batch(engine, [hit(s, "v2", minutes(0), path="/pricing")])
    assert points_by_rule(engine) == [("pricing", 20, T0)]
    with engine.connect() as conn:
        [(weight, points)] = conn.execute(sa.select(account_scores.c.weight,
                                                    account_scores.c.points)).all()
    assert points == 20
    assert weight == ledger(engine)[0][8]
    assert_rescore_gives_the_same(engine, T0)


def test_week_and_month_caps(engine: Engine, site: NewSite) -> None:
    set_rules(engine, """
[[rules]]
name = "weekly"
label = "weekly"
points = 7
cap = 2
per = "week"
when = { path = ["/a"] }

[[rules]]
name = "monthly"
label = "monthly"
points = -3
cap = 1
per = "month"
when = { path = ["/b"] }
""")
    s = site.site
    at = [days(0), days(1), days(2), days(6), days(7), days(8), days(9)]  # Monday on
    score_batch(engine, [hit(s, "v1", d, path="/a") for d in at])
    score_batch(engine, [hit(s, "v1", d + minutes(5), path="/b")
                         for d in (days(0), days(20), days(29), days(30))])
    assert points_by_rule(engine) == [
        ("monthly", -3, T0 + minutes(5)), ("monthly", -3, T0 + days(30) + minutes(5)),
        ("weekly", 7, T0), ("weekly", 7, T0 + days(1)),
        ("weekly", 7, T0 + days(7)), ("weekly", 7, T0 + days(8)),
    ]
    assert_rescore_gives_the_same(engine, T0)


def test_returning_visits(engine: Engine, site: NewSite) -> None:
    s = site.site
    score_batch(engine, [hit(s, "v1", minutes(0)), hit(s, "v1", minutes(10))])
    score_batch(engine, [hit(s, "v1", minutes(20))])  # same session
    score_batch(engine, [hit(s, "v1", days(1)), hit(s, "v1", days(1) + minutes(40))])
    score_batch(engine, [hit(s, "v2", days(1))])  # a new visitor of the same account
    assert points_by_rule(engine) == [("returning", 15, T0 + days(1))]  # once a day
    assert_rescore_gives_the_same(engine, T0)


def test_contacts_score_with_or_without_an_account(engine: Engine, site: NewSite) -> None:
    s = site.site
    score_batch(engine, [
        hit(s, "v-home", minutes(0), network=ISP, kind="identify", email="al@gmail.com"),
        hit(s, "v-home", minutes(1), network=ISP, path="/pricing"),
        hit(s, "v-home", minutes(2), network=ISP, path="/pricing"),  # capped per contact
        hit(s, "v-work", minutes(0), kind="identify", email="jo@acme.example"),
        hit(s, "v-work", minutes(1), path="/demo"),
    ])
    with engine.connect() as conn:
        emails = dict(conn.execute(sa.select(contacts.c.id, contacts.c.email)).all())
        scores = {emails[c]: (a, p) for c, a, p in conn.execute(
            sa.select(contact_scores.c.contact_id, contact_scores.c.workspace_id,
                      contact_scores.c.points))}
        rows = conn.execute(sa.select(score_ledger.c.account_id, score_ledger.c.contact_id,
                                      score_ledger.c.points)).all()
    assert scores == {"al@gmail.com": (1, 20), "jo@acme.example": (1, 25)}
    acme = account_id(engine, "acme")
    assert sorted((emails[c], a, p) for a, c, p in rows if c) == [
        ("al@gmail.com", None, 20), ("jo@acme.example", acme, 25)]
    assert_rescore_gives_the_same(engine, T0)


def test_committee_interest_and_why(engine: Engine, site: NewSite) -> None:
    s = site.site
    score_batch(engine, [
        hit(s, "v0", days(0), path="/pricing", group="crm"),
        hit(s, "v1", days(10), path="/pricing", group="crm"),
        hit(s, "v1", days(11), path="/pricing", group="crm"),
        hit(s, "v2", days(12), path="/products/erp", group="erp"),
        hit(s, "v3", days(12), path="/careers"),
        hit(s, "g1", days(12), network=GLOBEX, path="/docs/a"),
    ])
    now = T0 + days(12)
    acme, globex = account_id(engine, "acme"), account_id(engine, "globex")
    with engine.connect() as conn:
        assert db.committee(conn, [acme, globex], since=now - days(7)) == {acme: 3, globex: 1}
        assert db.committee(conn, [acme], since=now - days(30)) == {acme: 4}
        groups = explain.interest(conn, acme, now)
        reasons = explain.why(conn, acme, now)
        total = explain.account_score(conn, acme, now)
    assert set(groups) == {"crm", "erp"}
    # The returning visit of day 11 was on a page of the crm range: it counts there too.
    assert groups["crm"] == pytest.approx(
        20 * (0.5 ** (12 / 30) + 0.5 ** (2 / 30) + 0.5 ** (1 / 30)) + 15 * 0.5 ** (1 / 30),
        abs=1e-3)
    assert groups["erp"] == pytest.approx(5, abs=1e-3)
    texts = [r.text("en") for r in reasons]
    assert texts[:4] == ["+20 pricing page ×3", "+15 came back",
                         "-10 careers page (job seeker?)", "+5 product page"]
    assert texts[4] == "-7 decay" and len(texts) == 5
    assert sum(r.decayed for r in reasons[:4]) == pytest.approx(total, abs=1e-6)
    assert reasons[4].decayed == pytest.approx(total - (60 + 15 - 10 + 5), abs=1e-6)
    assert [r.text("fr") for r in reasons][::4] == ["+20 page tarifs ×3", "-7 décroissance"]


def test_inputs_from_the_plan_are_the_stored_hits(engine: Engine, site: NewSite) -> None:
    s = site.site
    batches = [
        [hit(s, "v1", minutes(0), path="/pricing", group="crm"),
         hit(s, "v1", minutes(1), kind="download", href="https://example.com/a.pdf"),
         hit(s, "v2", minutes(0), network=ISP, kind="identify", email="al@gmail.com")],
        [hit(s, "v1", days(1), utm_source="linkedin", source="paid"),
         hit(s, "v1", days(1) + minutes(1), kind="engagement", engaged=70_000),
         hit(s, "v2", days(1), network=ISP, kind="form", name="contact")],
    ]
    for batch in batches:
        with engine.begin() as conn:
            before = db.max_hit_id(conn)
            plan = store.store_hits(conn, batch, score=False)
            from_plan = plan_items(conn, plan)
            stored = stored_items(conn, batch, before)
            key = lambda i: (i.ts, i.visitor_key, i.type)  # noqa: E731
            assert [i.__class__(**{**_fields(i), "hit_id": None})
                    for i in sorted(stored, key=key)] == sorted(
                [i for i in from_plan if i.account_id or i.contact_id], key=key)
            score_stored_hits(conn, from_plan)
    assert {r[3] for r in ledger(engine)} == {"pricing", "pdf-download", "returning",
                                               "paid-campaign", "linkedin-campaign",
                                               "engaged", "form"}
    assert_rescore_gives_the_same(engine, T0)


def _fields(item: ScoringInput) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__dataclass_fields__}


def test_rule_changes_reach_the_next_batch_and_rescore(engine: Engine, site: NewSite) -> None:
    s = site.site
    score_batch(engine, [hit(s, "v1", minutes(0), path="/pricing")])
    set_rules(engine, document.dump(default_config()).replace("points = 20", "points = 50", 1))
    score_batch(engine, [hit(s, "v1", days(1), path="/pricing")])
    assert [p for r, p, _ in points_by_rule(engine) if r == "pricing"] == [20, 50]
    rescore(engine, now=T0)
    assert [p for r, p, _ in points_by_rule(engine) if r == "pricing"] == [50, 50]


def test_a_short_half_life_moves_the_epoch(engine: Engine, site: NewSite) -> None:
    text = document.dump(default_config()).replace("half_life_days = 30.0",
                                                   "half_life_days = 1.0")
    s = site.site
    score_batch(engine, [hit(s, "v1", days(0), path="/pricing")])
    set_rules(engine, text)  # the stored line is weighed again
    acme = account_id(engine, "acme")
    with engine.connect() as conn:
        assert explain.account_score(conn, acme, T0 + days(1)) == \
            pytest.approx(10, abs=1e-4)
    score_batch(engine, [hit(s, "v1", days(40), path="/pricing")])
    with engine.connect() as conn:
        epoch = conn.execute(sa.select(scoring_settings.c.epoch)).scalar_one()
        assert explain.account_score(conn, acme, T0 + days(41)) == pytest.approx(
            10 + 7.5 + 20 * 0.5 ** 41, abs=1e-4)  # pricing, returning, the old line
    assert epoch == datetime(2026, 4, 11, tzinfo=UTC)
    assert_rescore_gives_the_same(engine, T0)


def test_site_accounts_by_priority(engine: Engine, site: NewSite) -> None:
    s = site.site
    score_batch(engine, [
        hit(s, "a1", minutes(0), path="/pricing"),
        hit(s, "a2", minutes(1), path="/products/x"),
        hit(s, "g1", minutes(0), network=GLOBEX, path="/products/x"),
    ])
    now = T0 + minutes(5)
    with engine.begin() as conn:
        assert db.set_target(conn, 1, ["GLOBEX.example", "nobody"], True) == {
            "GLOBEX.example": ["Globex Corp"], "nobody": []}
        rows = explain.site_accounts(conn, s.id, now=now)
    assert [(r.name, r.grade, r.stage, r.committee) for r in rows] == [
        ("Acme SA", "C", "engaged", 2), ("Globex Corp", "A", "anonymous", 1)]
    assert rows[0].score == pytest.approx(25, abs=0.01)
    assert rows[0].priority == pytest.approx(12.5, abs=0.01)
    assert rows[1].priority == pytest.approx(5, abs=0.01)
    assert rows[0].owner == ""
    assert [r.text() for r in rows[0].reasons] == ["+20 pricing page", "+5 product page"]
