"""Alert rules: quiet hours and parameters (pure), then on both engines: a hot page
fires once within the cooldown and again after it, re-running a batch never duplicates,
quiet hours defer with not_before, a rolled back batch sends nothing, the other kinds,
and "owner" as the destination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_lifecycle_stages import GLOBEX, T0, account_id, collect, pages
from webleads.db.lifecycle import set_thresholds
from webleads.db.schema import accounts
from webleads.db.schema_outbox import outbox
from webleads.lifecycle import actions, alerts
from webleads.lifecycle.hook import after_scoring
from webleads.lifecycle.stages import Thresholds
from webleads.sites import NewSite

PARIS = "Europe/Paris"


def messages(engine: Engine) -> list[dict[str, Any]]:
    o = outbox.c
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(o.kind, o.channel, o.destination, o.language, o.idempotency_key,
                      o.next_attempt_at, o.payload).order_by(o.id))]


def rule(engine: Engine, site: NewSite, kind: str, **options: Any) -> int:
    options.setdefault("channel", "email")
    options.setdefault("destination", "sales@example.com")
    params = options.pop("params", {})
    with engine.begin() as conn:
        return actions.add_alert_rule(conn, site.site.workspace_id, kind=kind, params=params,
                                      now=T0, **options)


# -- pure ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("local", "quiet", "expected"), [
    ("2026-03-02 21:00", "20:00-08:00", "2026-03-03 08:00"),
    ("2026-03-02 07:59", "20:00-08:00", "2026-03-02 08:00"),
    ("2026-03-02 08:00", "20:00-08:00", None),
    ("2026-03-02 19:59", "20:00-08:00", None),
    ("2026-03-02 12:30", "12:00-14:00", "2026-03-02 14:00"),
    ("2026-03-02 14:00", "12:00-14:00", None),
    ("2026-03-28 23:00", "22:00-07:00", "2026-03-29 07:00"),  # the night DST starts
])
def test_quiet_hours(local: str, quiet: str, expected: str | None) -> None:
    zone = alerts.check_timezone(PARIS)
    now = datetime.fromisoformat(local).replace(tzinfo=zone).astimezone(UTC)
    end = alerts.quiet_until(now, quiet, PARIS)
    assert (end.astimezone(zone).strftime("%Y-%m-%d %H:%M") if end else None) == expected
    if end is not None:
        assert end.tzinfo is not None and end > now


@pytest.mark.parametrize(("call", "message"), [
    (lambda: alerts.parse_quiet("20h-8h"), "quiet hours '20h-8h'"),
    (lambda: alerts.parse_quiet("08:00-08:00"), "same"),
    (lambda: alerts.check_timezone("Mars/Olympus"), "time zone 'Mars/Olympus'"),
    (lambda: alerts.check_params("score_crosses", {}), "threshold"),
    (lambda: alerts.check_params("hot_page", {"pages": "pricing"}), "pages"),
    (lambda: alerts.check_params("score_jump", {"hours": 0}), "hours"),
    (lambda: alerts.check_params("flood", {}), "kind"),
])
def test_bad_parameters_name_the_field(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_cooldown() -> None:
    assert alerts.cooled(None, T0, 24)
    assert not alerts.cooled(T0, T0 + timedelta(hours=23, minutes=59), 24)
    assert alerts.cooled(T0, T0 + timedelta(hours=24), 24)


# -- on both engines -----------------------------------------------------------------------

def test_hot_page_fires_once_within_cooldown(engine: Engine, site: NewSite) -> None:
    rule(engine, site, "hot_page", params={"pages": ["/pricing*", "/demo*"]})
    s = site.site
    collect(engine, pages(s, "/", "/blog"))
    assert messages(engine) == []
    items = collect(engine, pages(s, "/pricing/enterprise", at=timedelta(minutes=1)))
    sent = messages(engine)
    assert len(sent) == 1
    m = sent[0]
    assert (m["kind"], m["channel"], m["destination"], m["language"]) == (
        "hot_page", "email", "sales@example.com", "en")
    assert m["payload"]["page"] == "/pricing/enterprise"
    assert m["payload"]["account"]["name"] == "Acme SA"
    assert m["payload"]["reasons"] and m["payload"]["score"] >= 20
    assert m["next_attempt_at"] == T0 + timedelta(minutes=1)  # not quiet: now
    # The same batch again (a replay): the same event, no second message.
    with engine.begin() as conn:
        from webleads.db.schema_lifecycle import alert_state
        conn.execute(sa.delete(alert_state))  # even without the cooldown
        after_scoring(conn, hits=items, now=T0 + timedelta(minutes=1))
    assert len(messages(engine)) == 1
    # Within the cooldown: nothing more.
    collect(engine, pages(s, "/demo", at=timedelta(hours=23)))
    assert len(messages(engine)) == 1
    # After it: again.
    collect(engine, pages(s, "/demo", at=timedelta(hours=25)))
    sent = messages(engine)
    assert len(sent) == 2 and sent[1]["payload"]["page"] == "/demo"


def test_quiet_hours_defer_with_not_before(engine: Engine, site: NewSite) -> None:
    rule(engine, site, "hot_page", quiet_hours="20:00-08:00", timezone=PARIS, language="fr")
    late = timedelta(hours=12)  # 21:00 in Paris
    collect(engine, pages(site.site, "/contact", at=late))
    [m] = messages(engine)
    assert m["language"] == "fr"
    assert m["next_attempt_at"] == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 Paris


def test_rolled_back_batch_sends_nothing(engine: Engine, site: NewSite) -> None:
    rule(engine, site, "hot_page")
    collect(engine, pages(site.site, "/pricing"), fail=True)
    assert messages(engine) == []
    collect(engine, pages(site.site, "/pricing"))
    assert len(messages(engine)) == 1


def test_mql_crossing_jump_and_target(engine: Engine, site: NewSite) -> None:
    with engine.begin() as conn:  # 20 + 25 + 5 points decay below 50 within minutes
        set_thresholds(conn, site.site.workspace_id, now=T0,
                       thresholds=Thresholds(engaged=10, mql=45))
    rule(engine, site, "becomes_mql")
    rule(engine, site, "score_crosses", params={"threshold": 15})
    rule(engine, site, "score_jump", params={"points": 40, "hours": 2})
    rule(engine, site, "target_visits", channel="webhook",
         destination="http://127.0.0.1:9/hook")
    s = site.site
    collect(engine, pages(s, "/pricing"))                          # 20: crosses 15
    assert [m["kind"] for m in messages(engine)] == ["score_threshold"]
    assert messages(engine)[0]["payload"]["threshold"] == "15"
    collect(engine, pages(s, "/contact", "/products/a", at=timedelta(minutes=5)))  # mql
    kinds = [m["kind"] for m in messages(engine)]
    assert sorted(kinds[1:]) == ["mql", "score_jump"]
    jump = next(m for m in messages(engine) if m["kind"] == "score_jump")
    assert jump["payload"]["delta"] >= 40 and jump["payload"]["stage"] == "mql"
    with engine.begin() as conn:
        conn.execute(sa.update(accounts).values(in_target=True))
    collect(engine, pages(s, "/about", at=timedelta(minutes=10)))
    target = [m for m in messages(engine) if m["kind"] == "target_visit"]
    assert len(target) == 1 and target[0]["channel"] == "webhook"
    assert target[0]["payload"]["page"] == "/about"


def test_owner_destination(engine: Engine, site: NewSite) -> None:
    with engine.begin() as conn:
        ws = site.site.workspace_id
        actions.add_owner(conn, ws, name="Claire", email="claire@example.com", team=None,
                          language="fr", now=T0)
        actions.add_assignment_rule(conn, ws, kind="territory", conditions={
            "countries": ["FR"]}, owner_email="claire@example.com", team=None, now=T0)
    rule(engine, site, "hot_page", destination="owner")
    collect(engine, pages(site.site, "/pricing"))                       # Acme, FR
    collect(engine, pages(site.site, "/pricing", network=GLOBEX, visitor="v2"))  # no owner
    [m] = messages(engine)
    assert (m["destination"], m["language"]) == ("claire@example.com", "fr")
    assert m["payload"]["owner"] == "Claire"
    assert m["payload"]["account"]["id"] == account_id(engine)
