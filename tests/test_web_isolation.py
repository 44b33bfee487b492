"""Workspace isolation across every dashboard route (issue 5, issue 7).

Two workspaces, A and B, each with demo traffic and one object of every kind (B's carry
marker strings).  A user of A, admin there, then tries every route of the dashboard:

1. in B's workspace (``/w/{B}/...``) with B's objects: always 404;
2. in A's own workspace with B's object ids (path and query parameters): 404 for pages;
   a form sent to such a URL may be refused as 400/404, but B's rows never change.

No answer shows a marker of B.  Routes are discovered from the application, so a new
route is covered as soon as it exists; a route with a parameter this test cannot fill
fails the test (add the parameter to ``OBJECTS`` below).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from sqlalchemy.engine import Connection, Engine

from tests.dashboard import Browser, add_user, api_routes
from webleads import demo_data as data
from webleads.app import WebleadsApp, create_app
from webleads.db.schema import metadata
from webleads.demo import run_demo, seed_team
from webleads.demo_data import demo_networks
from webleads.settings import Settings
from webleads.sites import create_site

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
MARK = "BRAVO-SECRET"
# Tables that change on any request (sessions, rate limits, audit of A's own actions).
VOLATILE = {"web_sessions", "login_failures", "audit_log", "salts", "api_tokens",
            "rollup_days", "rollup_state"}


def _ids(table: str, column: str = "id", where: str = "workspace_id") -> Callable[
        [Connection, int], list[Any]]:
    def find(conn: Connection, ws: int) -> list[Any]:
        t = metadata.tables.get(table)
        if t is None:
            return []
        return [r[0] for r in conn.execute(sa.select(t.c[column]).where(t.c[where] == ws)
                                           .order_by(t.c[column]).limit(3))]
    return find


def _rules(conn: Connection, ws: int) -> list[Any]:
    return [*_ids("scoring_rules")(conn, ws), *_ids("fit_rules")(conn, ws),
            *_ids("alert_rules")(conn, ws), *_ids("assignment_rules")(conn, ws)]


def _fixed(*values: Any) -> Callable[[Connection, int], list[Any]]:
    return lambda conn, ws: list(values)


# Path or query parameter name -> B's values for it.
OBJECTS: dict[str, Callable[[Connection, int], list[Any]]] = {
    "account_id": _ids("accounts"), "account": _ids("accounts"),
    "site_id": _ids("sites"), "site": _ids("sites"),
    "view_id": _ids("saved_views"), "view": _ids("saved_views"),
    "note_id": _ids("account_notes"),
    "override_id": _ids("network_overrides"),
    "rule_id": _rules,
    "owner_id": _ids("owners"), "owner": _ids("owners"),
    "message_id": _ids("outbox"),
    "token_id": _ids("api_tokens"),
    "user_id": lambda conn, ws: [r[0] for r in conn.execute(sa.text(
        "SELECT user_id FROM memberships WHERE workspace_id = :ws"), {"ws": ws})],
    "campaign_id": _ids("campaigns"), "campaign": _ids("campaigns"),
    "contact_id": _ids("contacts"),
    "code": lambda conn, ws: [r[0] for r in conn.execute(sa.text(
        "SELECT s.code FROM short_links s JOIN campaigns c ON c.id = s.campaign_id "
        "WHERE c.workspace_id = :ws"), {"ws": ws})],
    "deal_id": _ids("deals"),
    "definition_id": _ids("conversion_definitions"),
}
# Parameters that are not objects: a value valid in any workspace.
PLAIN: dict[str, list[Any]] = {"kind": ["behaviour", "fit", "scoring", "alert"]}


def b_markers(engine: Engine, ws: int) -> None:
    """Objects of B that name the marker, so that a leak shows in any page."""
    from webleads.db.schema_web import account_notes, saved_views
    from webleads.lifecycle import actions

    with engine.begin() as conn:
        accounts = metadata.tables["accounts"]
        conn.execute(sa.update(accounts).where(accounts.c.workspace_id == ws)
                     .values(name=sa.literal(MARK + " ") + accounts.c.name))
        account = conn.execute(sa.select(accounts.c.id).where(accounts.c.workspace_id == ws)
                               .limit(1)).scalar_one()
        user = conn.execute(sa.text("SELECT user_id FROM memberships WHERE workspace_id = :w"),
                            {"w": ws}).scalar_one()
        conn.execute(sa.insert(account_notes).values(
            workspace_id=ws, account_id=account, user_id=user, body=f"{MARK} note",
            created_at=NOW))
        conn.execute(sa.insert(saved_views).values(
            workspace_id=ws, user_id=user, name=f"{MARK} view", query="stage=mql",
            shared=True, created_at=NOW))
        actions.add_alert_rule(conn, ws, kind="hot_page", params={"pages": ["/pricing"]},
                               channel="webhook", destination="https://b.example/hook",
                               now=NOW)
        from webleads.outbox.queue import enqueue

        enqueue(conn, workspace_id=ws, channel="webhook", destination="https://b.example/h",
                kind="test", payload={"title": f"{MARK} message"}, language="en",
                idempotency_key="b-marker", now=NOW)
        from webleads.db.overrides import upsert_override
        from webleads.networks.overrides import Override

        upsert_override(conn, Override(workspace_id=ws, role="customer",
                                       cidr="203.0.113.0/24",
                                       organisation=f"{MARK} override"), now=NOW)
        campaigns = metadata.tables["campaigns"]
        campaign = conn.execute(sa.insert(campaigns).values(
            workspace_id=ws, name=f"{MARK} campaign", channel="email", objective="visits",
            starts_on=NOW.date() - timedelta(days=10), ends_on=NOW.date(),
            budget_cents=100_000, currency="EUR", utm_campaign="b-secret", notes=MARK,
            created_at=NOW).returning(campaigns.c.id)).scalar_one()
        conn.execute(sa.insert(metadata.tables["short_links"]).values(
            code="bsecret1", campaign_id=campaign, target_url="https://b.example/",
            created_at=NOW, clicks=0))
        conn.execute(sa.insert(metadata.tables["conversion_definitions"]).values(
            workspace_id=ws, name=f"{MARK} conversion", kind="url", value="/thanks*",
            created_at=NOW))
        conn.execute(sa.insert(metadata.tables["deals"]).values(
            workspace_id=ws, day=NOW.date(), account_id=account, campaign_id=campaign,
            amount_cents=500_000, currency="EUR", source="dashboard", ref="b-deal",
            note=f"{MARK} deal", created_at=NOW))


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[tuple[WebleadsApp, int, int]]:
    wss = []
    for name in ("A", "B"):
        made = create_site(engine, f"{name} site", data.SITE_DOMAIN, workspace=name,
                           timezone=data.SITE_TIMEZONE, page_groups=data.PAGE_GROUPS)
        seed_team(engine, made.site.workspace_id, now=NOW)
        demo_app = create_app(settings, engine=engine, resolver=demo_networks(30, 4))
        asyncio.run(run_demo(demo_app, site_key=made.site.key, site_secret=made.secret,
                             days=4, organisations=30, seed=4, now=NOW))
        wss.append(made.site.workspace_id)
    a, b = wss
    app = create_app(settings, engine=engine)
    add_user(app, "alice@a.example", workspace=a, role="admin")
    add_user(app, "bob@b.example", workspace=b, role="admin")
    from webleads import api_tokens

    api_tokens.create(engine, workspace_id=b, user_id=None, name=f"{MARK} token",
                      scopes=["read"], actor="test")
    b_markers(engine, b)
    yield app, a, b


def routes(app: WebleadsApp) -> list[tuple[str, str, APIRoute]]:
    out = []
    for path, route in api_routes(app):
        if path.startswith("/w/{ws}"):
            for method in sorted(route.methods - {"HEAD"}):
                out.append((method, path, route))
    return out


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {t.name: sorted(tuple(str(v) for v in r) for r in conn.execute(sa.select(t)))
                for t in metadata.sorted_tables if t.name not in VOLATILE}


def fill(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), path)


def test_every_route_is_closed_to_other_workspaces(world: tuple[WebleadsApp, int, int],
                                                   engine: Engine) -> None:
    app, a, b = world
    found = routes(app)
    assert len(found) >= 20, "the dashboard's routes were not found"
    with engine.connect() as conn:
        b_objects = {name: find(conn, b) for name, find in OBJECTS.items()}
    unknown = sorted({p for _, path, _ in found for p in re.findall(r"\{(\w+)", path)
                      if p != "ws" and p not in OBJECTS and p not in PLAIN})
    assert unknown == [], f"add these path parameters to OBJECTS or PLAIN: {unknown}"
    checked = 0
    with Browser(app) as browser:
        browser.login("alice@a.example")
        before = snapshot(engine)  # after the log-in, which notes its time on the user
        for method, path, route in found:
            params = [p for p in re.findall(r"\{(\w+)", path) if p != "ws"]
            queries = [q.name for q in route.dependant.query_params if q.name in OBJECTS]
            choices: dict[str, list[Any]] = {}
            for p in params:
                choices[p] = PLAIN.get(p) or b_objects[p]
                assert choices[p], f"{path}: workspace B has no {p} to try"
            combos = [dict(zip(choices, vals, strict=True)) for vals in _product(choices)]
            for values in combos[:6]:
                query = {q: b_objects[q][0] for q in queries if b_objects.get(q)}
                for ws in (b, a):
                    if ws == a and all(p in PLAIN for p in params) and not query:
                        continue  # nothing of B in the URL
                    url = fill(path, {"ws": ws, **values})
                    if method == "GET":
                        response = browser.get(url, params=query)
                        assert response.status_code == 404, (
                            method, url, query, response.status_code)
                    else:
                        response = browser.client.request(
                            method, url, params=query,
                            data={"csrf_token": browser.csrf},
                            headers={"x-csrf-token": browser.csrf})
                        allowed = (404,) if ws == b else (400, 404)
                        assert response.status_code in allowed, (
                            method, url, query, response.status_code, response.text[:300])
                    assert MARK not in response.text, (method, url, "shows B's data")
                    checked += 1
    assert checked >= len(found)
    after = snapshot(engine)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == [], f"requests of A changed rows of {changed}"


def _product(choices: dict[str, list[Any]]) -> Iterator[tuple[Any, ...]]:
    import itertools

    return itertools.product(*choices.values())
