"""The daily digest on both engines: digest rules fill it instead of sending; one
e-mail per owner and day, grouped by account, enqueued once however often it runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_lifecycle_stages import GLOBEX, T0, collect, pages
from webleads.db.schema_outbox import outbox
from webleads.lifecycle import actions
from webleads.lifecycle.digest import build_digests, default_day, digest_key
from webleads.outbox.render import _content
from webleads.sites import NewSite


def sent(engine: Engine) -> list[dict[str, Any]]:
    o = outbox.c
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(o.kind, o.destination, o.language, o.idempotency_key, o.payload)
            .order_by(o.id))]


def test_digest_per_owner_once_per_day(engine: Engine, site: NewSite) -> None:
    s, ws = site.site, site.site.workspace_id
    with engine.begin() as conn:
        actions.add_owner(conn, ws, name="Claire", email="claire@example.com", team=None,
                          language="fr", now=T0)
        actions.add_owner(conn, ws, name="Dirk", email="dirk@example.com", team=None,
                          language="en", now=T0)
        actions.add_assignment_rule(conn, ws, kind="territory", conditions={
            "countries": ["FR"]}, owner_email="claire@example.com", team=None, now=T0)
        actions.add_assignment_rule(conn, ws, kind="territory", conditions={
            "countries": ["DE"]}, owner_email="dirk@example.com", team=None, now=T0)
        actions.add_alert_rule(conn, ws, kind="hot_page", params={}, channel="email",
                               destination="owner", digest=True, cooldown_hours=0, now=T0)
    collect(engine, pages(s, "/pricing"))
    collect(engine, pages(s, "/contact", at=timedelta(hours=2)))   # same account again
    collect(engine, pages(s, "/pricing", network=GLOBEX, visitor="v2", at=timedelta(hours=3)))
    collect(engine, pages(s, "/demo", at=timedelta(days=1)))       # the next day
    assert sent(engine) == []                                       # nothing immediate
    day = T0.date()
    assert build_digests(engine, T0 + timedelta(days=1, hours=6)) == 2
    assert build_digests(engine, T0 + timedelta(days=1, hours=7)) == 0  # once per day
    digests = sent(engine)
    assert [(m["destination"], m["language"]) for m in digests] == [
        ("claire@example.com", "fr"), ("dirk@example.com", "en")]
    claire = digests[0]
    assert claire["kind"] == "digest" and claire["payload"]["count"] == 1
    [item] = claire["payload"]["items"]
    assert item["account"]["name"] == "Acme SA" and item["page"] == "/contact"
    assert claire["idempotency_key"] == digest_key("claire@example.com", 1, day)
    subject = _content("digest", claire["payload"], "fr", "x").subject
    assert subject == "Vos comptes chauds du jour : 1"
    # The next day's digest has the /demo visit only.
    assert build_digests(engine, T0 + timedelta(days=2)) == 1
    last = sent(engine)[-1]
    assert last["payload"]["items"][0]["page"] == "/demo"


def test_explicit_day_and_nothing_to_send(engine: Engine, site: NewSite) -> None:
    assert build_digests(engine, T0, day=date(2026, 1, 1)) == 0
    assert default_day(datetime(2026, 3, 2, 0, 30, tzinfo=UTC)) == date(2026, 3, 1)
