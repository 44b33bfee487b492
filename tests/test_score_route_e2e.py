"""Issue 4 end to end: a hit collected over HTTP from a company's network scores its
account, moves its stage, and the alert it triggers is delivered once to a real HTTP
receiver by the outbox worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer, serve_in_thread
from tests.test_outbox_receivers import http_receiver
from webleads.app import create_app
from webleads.db.schema import accounts
from webleads.db.schema_lifecycle import account_stages
from webleads.db.schema_outbox import outbox
from webleads.db.schema_scoring import account_scores
from webleads.lifecycle import actions
from webleads.outbox.channels import make_senders
from webleads.outbox.ssrf import Guard
from webleads.outbox.worker import deliver_due
from webleads.settings import Settings
from webleads.sites import NewSite

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
SOCIETE_GENERALE_IP = "194.119.0.10"  # AS3299, curated: enterprise


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[LiveServer]:
    app = create_app(settings.model_copy(update={"allow_private_destinations": True}),
                     engine=engine)
    live = serve_in_thread(app)
    yield live
    live.stop()


def collect(server: LiveServer, site: NewSite, path: str, visitor: str) -> None:
    hit = {"site": site.site.key, "type": "pageview", "visitor": visitor,
           "url": f"https://www.example.com{path}", "ip": SOCIETE_GENERALE_IP,
           "user_agent": CHROME}
    r = httpx.post(f"{server.url}/api/collect", content=json.dumps(hit).encode(),
                   headers={"content-type": "text/plain", "user-agent": CHROME,
                            "authorization": f"Bearer {site.secret}"}, timeout=10)
    assert r.status_code == 202 and r.json() == {"accepted": 1, "dropped": 0}, r.text


def test_hot_page_alert_reaches_a_webhook_once(server: LiveServer, engine: Engine,
                                               site: NewSite) -> None:
    with http_receiver() as receiver:
        with engine.begin() as conn:
            actions.add_alert_rule(conn, site.site.workspace_id, kind="hot_page",
                                   params={"pages": ["/pricing*"]}, channel="webhook",
                                   destination=receiver.url, now=datetime.now(UTC))
        collect(server, site, "/products/crm", "visitor-aaaaaaaa01")
        collect(server, site, "/pricing", "visitor-aaaaaaaa01")
        collect(server, site, "/pricing", "visitor-aaaaaaaa02")  # within the cooldown

        with engine.connect() as conn:
            [account] = conn.execute(sa.select(accounts)).all()
            score = conn.execute(sa.select(account_scores.c.points)).scalar_one()
            stage = conn.execute(sa.select(account_stages.c.stage)).scalar_one()
            queued = conn.execute(sa.select(outbox.c.kind, outbox.c.state)).all()
        assert account.name == "Société Générale" and account.category == "enterprise"
        # 5 (product page) + 20 (pricing: once a day per account, the second visitor adds 0)
        assert score == 25 and stage == "engaged"
        assert [tuple(q) for q in queued] == [("hot_page", "pending")]

        senders = make_senders(guard=Guard(allow_private=True))
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert deliver_due(engine, now=later, worker_id="t", limit=10, senders=senders) == 1
        assert deliver_due(engine, now=later, worker_id="t", limit=10, senders=senders) == 0
        [received] = receiver.requests
        body = received.json()
        assert received.event_id and body["type"] == "hot_page"
        assert "Société Générale" in json.dumps(body, ensure_ascii=False)
    with engine.connect() as conn:
        assert conn.execute(sa.select(outbox.c.state)).scalar_one() == "delivered"


def test_accounts_list_shows_the_lifecycle_stage_and_owner(server: LiveServer, engine: Engine,
                                                           site: NewSite) -> None:
    from webleads.scoring.explain import site_accounts

    now = datetime.now(UTC)
    with engine.begin() as conn:
        actions.add_owner(conn, site.site.workspace_id, name="Claire Martin",
                          email="claire@example.com", team=None, language="fr", now=now)
        actions.add_assignment_rule(conn, site.site.workspace_id, kind="territory",
                                    conditions={"countries": ["FR"]},
                                    owner_email="claire@example.com", team=None, now=now)
    collect(server, site, "/pricing", "visitor-bbbbbbbb01")
    with engine.begin() as conn:
        [summary] = site_accounts(conn, site.site.id, now=datetime.now(UTC))
        assert (summary.stage, summary.owner) == ("engaged", "Claire Martin")
        actions.move_stage(conn, summary.id, "sql", by="Claire Martin", reason="call booked",
                           now=datetime.now(UTC))
        [summary] = site_accounts(conn, site.site.id, now=datetime.now(UTC))
    assert summary.stage == "sql" and summary.reasons
