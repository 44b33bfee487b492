"""The REST API: token authentication and scopes, workspace scoping, accounts with
their why, and data-subject requests (both engines)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer, serve_in_thread
from webleads import api_tokens
from webleads import demo_data as data
from webleads.app import create_app
from webleads.demo import run_demo
from webleads.demo_data import demo_networks
from webleads.settings import Settings
from webleads.sites import create_site

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """Two workspaces with demo traffic, tokens of both, and the app served."""
    made = create_site(engine, data.SITE_NAME, data.SITE_DOMAIN, workspace="A",
                       timezone=data.SITE_TIMEZONE, page_groups=data.PAGE_GROUPS)
    other = create_site(engine, "B site", "b.example", workspace="B")
    app = create_app(settings, engine=engine, resolver=demo_networks(40, 3))
    asyncio.run(run_demo(app, site_key=made.site.key, site_secret=made.secret, days=5,
                         organisations=40, seed=3, now=NOW))
    a, b = made.site.workspace_id, other.site.workspace_id
    tokens = {
        "read": api_tokens.create(engine, workspace_id=a, user_id=None, name="crm",
                                  scopes=["read"], actor="test").token,
        "admin": api_tokens.create(engine, workspace_id=a, user_id=None, name="dpo",
                                   scopes=["admin"], actor="test").token,
        "other": api_tokens.create(engine, workspace_id=b, user_id=None, name="b",
                                   scopes=["admin"], actor="test").token,
        "site": made.site.key,
    }
    server = serve_in_thread(create_app(settings, engine=engine))
    yield server, tokens
    server.stop()


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def client(server: LiveServer, token: str | None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    made = httpx.Client(base_url=server.url, headers=headers, timeout=30)
    _OPEN.append(made)
    return made


def test_tokens_are_required_and_checked(world: tuple[LiveServer, dict[str, str]]) -> None:
    server, tokens = world
    for token in (None, "wlt_" + "x" * 43, "garbage", tokens["read"] + "x"):
        response = client(server, token).get("/api/v1/sites")
        assert response.status_code == 401, token
        assert response.json()["field"] == "authorization"
        assert response.headers["www-authenticate"] == "Bearer"
    assert client(server, tokens["read"]).get("/api/v1/sites").status_code == 200


def test_scopes(world: tuple[LiveServer, dict[str, str]]) -> None:
    server, tokens = world
    refused = client(server, tokens["read"]).post("/api/v1/privacy/export",
                                                 json={"email": "x@example.com"})
    assert refused.status_code == 403
    assert "admin" in refused.json()["error"]
    # An admin token reads too.
    assert client(server, tokens["admin"]).get("/api/v1/sites").status_code == 200


def test_accounts_with_why_in_the_tokens_workspace_only(
        world: tuple[LiveServer, dict[str, str]]) -> None:
    server, tokens = world
    mine = client(server, tokens["read"])
    sites = mine.get("/api/v1/sites").json()
    assert [s["key"] for s in sites] == [tokens["site"]]
    listed = mine.get("/api/v1/accounts", params={"site": tokens["site"], "limit": 5,
                                                  "lang": "fr"}).json()
    items = listed["items"]
    assert 1 <= len(items) <= 5
    assert items == sorted(items, key=lambda a: -a["priority"])
    top = items[0]
    assert top["score"] > 0 and top["reasons"]
    assert all(r["label"] and r["count"] >= 0 for r in top["reasons"])
    detail = mine.get(f"/api/v1/accounts/{top['id']}").json()
    assert detail["name"] == top["name"] and detail["evidence"]
    assert abs(detail["score"] - top["score"]) < 0.01
    # The other workspace sees neither the site nor the account.
    theirs = client(server, tokens["other"])
    assert theirs.get("/api/v1/sites").json() == [
        s for s in theirs.get("/api/v1/sites").json() if s["key"] != tokens["site"]]
    assert theirs.get("/api/v1/accounts", params={"site": tokens["site"]}).status_code == 404
    assert theirs.get(f"/api/v1/accounts/{top['id']}").status_code == 404
    assert mine.get("/api/v1/accounts/999999").status_code == 404


def test_bad_parameters_are_4xx_naming_the_field(
        world: tuple[LiveServer, dict[str, str]]) -> None:
    server, tokens = world
    mine = client(server, tokens["admin"])
    bad = mine.get("/api/v1/accounts", params={"site": tokens["site"], "limit": 0})
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["field"] == "limit"
    assert mine.get("/api/v1/accounts/abc").status_code == 422
    # Found by schemathesis: an id beyond 64 bits crashed the SQLite driver (500).
    assert mine.get("/api/v1/accounts/" + "9" * 30).status_code == 422
    assert mine.get("/api/v1/accounts").status_code == 422  # site is required
    assert mine.post("/api/v1/privacy/export", content=b"{not json").status_code == 422
    nope = mine.post("/api/v1/privacy/erase", json={"email": "not an address"})
    assert nope.status_code == 422 and nope.json()["field"] == "email"


def test_subject_export_then_erase(world: tuple[LiveServer, dict[str, str]],
                                   engine: Engine) -> None:
    import sqlalchemy as sa

    from webleads.db.schema import contacts

    server, tokens = world
    with engine.connect() as conn:
        email = conn.execute(sa.select(contacts.c.email).limit(1)).scalar_one()
    mine = client(server, tokens["admin"])
    exported = mine.post("/api/v1/privacy/export", json={"email": email.upper()}).json()
    assert exported["email"] == email and exported["contacts"]
    # Another workspace's token finds nothing and erases nothing there.
    theirs = client(server, tokens["other"])
    assert theirs.post("/api/v1/privacy/export", json={"email": email}).json()["contacts"] == []
    erased = mine.post("/api/v1/privacy/erase", json={"email": email}).json()
    assert erased["deleted"]["contacts"] == 1 and email not in str(erased)
    again = mine.post("/api/v1/privacy/export", json={"email": email}).json()
    assert again["contacts"] == [] and again["hits"] == []


def test_revoked_token_stops_working(world: tuple[LiveServer, dict[str, str]],
                                     engine: Engine) -> None:
    server, tokens = world
    [token] = [t for t in api_tokens.tokens(engine, 1) if t.name == "crm"]
    assert api_tokens.revoke(engine, workspace_id=1, token_id=token.id, actor="test")
    assert client(server, tokens["read"]).get("/api/v1/sites").status_code == 401
