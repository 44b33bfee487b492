"""Secrets never reach the logs (issue 7): passwords, the installation's secret key,
site secret keys, API tokens, session cookies and password-reset links, through a
run that uses each of them (and gets some wrong), with every logger at DEBUG."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import PASSWORD, Browser, add_user
from tests.test_tag_e2e import DESKTOP_UA
from webleads import api_tokens
from webleads.app import create_app
from webleads.db.schema_outbox import outbox
from webleads.settings import Settings
from webleads.sites import create_site
from webleads.web.security import SESSION_COOKIE

SECRET_KEY = "installation-secret-key-0123456789"


def test_no_secret_in_any_log_line(settings: Settings, engine: Engine,
                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(settings.model_copy(update={"secret_key": SECRET_KEY}), engine=engine)
    made = create_site(engine, "Shop", "example.com", workspace="Acme")
    add_user(app, "admin@acme.example", workspace="Acme")
    token = api_tokens.create(engine, workspace_id=1, user_id=None, name="crm",
                              scopes=["read"], actor="test").token
    with Browser(app) as b:
        b.post("/login", {"email": "admin@acme.example", "password": PASSWORD + "x"})
        b.login("admin@acme.example")
        cookie = b.client.cookies.get(SESSION_COOKIE) or ""
        b.get("/w/1/accounts")
        b.post("/reset", {"email": "admin@acme.example"})
        with engine.connect() as conn:
            link = conn.execute(sa.select(outbox.c.payload)).scalar_one()["url"]
        reset = link.rsplit("/", 1)[1]
        b.get(link.removeprefix(b.base))
        wrong = token[:-1] + ("B" if token.endswith("A") else "A")  # never the token itself
        for bearer in (token, wrong):
            b.client.get("/api/v1/sites", headers={"authorization": f"Bearer {bearer}"})
        for secret in (made.secret, made.secret + "x"):
            b.client.post("/api/collect", content=json.dumps({
                "site": made.site.key, "type": "pageview", "url": "https://example.com/",
                "ip": "192.0.2.10", "user_agent": DESKTOP_UA}), headers={
                "content-type": "application/json", "authorization": f"Bearer {secret}"})
    # The server's records; httpx and httpcore here are the test's own HTTP client,
    # which logs the requests it sends.
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in server)
    assert any("failed log-in" in r.getMessage() for r in server)
    assert any("refused API token" in r.getMessage() for r in server)
    for name, value in (("password", PASSWORD), ("secret key", SECRET_KEY),
                        ("site secret", made.secret), ("API token", token),
                        ("session cookie", cookie), ("reset token", reset)):
        assert value and value not in logged, f"the {name} was logged"
