"""Dashboard access: first-run setup, log-in and its rate limit, sessions, CSRF,
password reset by e-mail link, language, workspace scoping, security headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import PASSWORD, Browser, add_user, text
from webleads.app import WebleadsApp, create_app
from webleads.db.schema_outbox import outbox
from webleads.db.schema_privacy import audit_log
from webleads.settings import Settings
from webleads.sites import create_site


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


def test_first_run_setup_creates_the_install_admin_then_closes(app: WebleadsApp) -> None:
    with Browser(app) as b:
        assert b.get("/").headers["location"] == "/setup"
        page = b.get("/setup")
        assert "Nobody uses this installation yet" in text(page.text)
        bad = b.post("/setup", {"email": "nope", "password": "short", "workspace": ""})
        assert bad.status_code == 400
        assert "Give the workspace a name" in text(bad.text)
        bad = b.post("/setup", {"email": "nope", "password": "long enough pw",
                                "workspace": "Acme"})
        assert "not a valid e-mail address" in text(bad.text)
        done = b.post("/setup", {"email": "Admin@Example.com", "password": PASSWORD,
                                 "name": "Ada", "workspace": "Acme"})
        assert done.status_code == 303
        assert b.get("/").headers["location"].startswith("/w/")
        # Setup is one-time: a second visitor cannot create another admin.
    with Browser(app) as other:
        assert other.get("/setup").headers["location"] == "/login"
        again = other.post("/setup", {"email": "evil@example.com", "password": PASSWORD,
                                      "workspace": "X"})
        assert again.status_code == 409
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(audit_log.c.action)).scalars().all() == ["user.create"]


def test_login_logout_and_session_end(app: WebleadsApp) -> None:
    add_user(app, "rep@example.com", role="sales", workspace="Acme")
    with Browser(app) as b:
        assert b.get("/w/1/").headers["location"] == "/login?next=/w/1/"
        wrong = b.post("/login", {"email": "rep@example.com", "password": "wrong password"})
        assert wrong.status_code == 401
        assert "Wrong e-mail address or password" in text(wrong.text)
        b.login("REP@example.com")
        assert b.get("/").headers["location"] == "/w/1/accounts"
        cookie = b.client.cookies.get("wl_session")
        assert b.post("/logout").headers["location"] == "/login"
    # The old cookie is worth nothing after log-out.
    with Browser(app) as thief:
        thief.client.cookies.set("wl_session", cookie or "")
        assert thief.get("/").headers["location"] == "/login"


def test_forged_session_cookie_is_ignored(app: WebleadsApp) -> None:
    add_user(app, "a@example.com", workspace="Acme")
    with Browser(app) as b:
        b.client.cookies.set("wl_session", "forged.value")
        assert b.get("/").headers["location"] == "/login"


def test_login_rate_limit_per_address(app: WebleadsApp) -> None:
    add_user(app, "a@example.com", workspace="Acme")
    with Browser(app) as b:
        for _ in range(5):
            assert b.post("/login", {"email": "a@example.com",
                                     "password": "bad password"}).status_code == 401
        limited = b.post("/login", {"email": "a@example.com", "password": PASSWORD})
        assert limited.status_code == 429
        assert "Too many failed attempts" in text(limited.text)
    # After the window, the right password works again.
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert app.web.users.login("a@example.com", PASSWORD, ip="x", now=later).outcome == "ok"


def test_csrf_token_and_origin_are_required(app: WebleadsApp) -> None:
    add_user(app, "a@example.com", workspace="Acme")
    with Browser(app) as b:
        missing = b.client.post("/login", data={"email": "a@example.com", "password": PASSWORD})
        assert missing.status_code == 403
        assert "reload the page" in text(missing.text)
        forged = b.client.post("/login", data={"email": "a@example.com", "password": PASSWORD,
                                               "csrf_token": "guess"})
        assert forged.status_code == 403
        cross = b.client.post("/login", data={"email": "a@example.com", "password": PASSWORD,
                                              "csrf_token": b.csrf},
                              headers={"origin": "https://evil.example"})
        assert cross.status_code == 403
        b.login("a@example.com")
        assert b.client.post("/logout").status_code == 403  # no token: still logged in
        assert b.get("/").headers["location"] == "/w/1/accounts"


def test_next_never_leaves_the_site(app: WebleadsApp) -> None:
    add_user(app, "a@example.com", workspace="Acme")
    with Browser(app) as b:
        for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
            response = b.post("/login", {"email": "a@example.com", "password": PASSWORD,
                                         "next": target})
            assert response.headers["location"] == "/"
            b.post("/logout")


def test_password_reset_by_email_link(app: WebleadsApp) -> None:
    user = add_user(app, "a@example.com", workspace="Acme")
    with Browser(app) as b:
        unknown = b.post("/reset", {"email": "nobody@example.com"})
        known = b.post("/reset", {"email": "a@example.com"})
        # The same answer either way: addresses cannot be probed.
        assert text(unknown.text) == text(known.text)
        with app.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox.c.destination, outbox.c.payload)).all()
        assert [r.destination for r in rows] == [user.email]
        link = rows[0].payload["url"]
        path = link.removeprefix(b.base)
        assert b.get(path).status_code == 200
        assert b.post(path, {"password": "short"}).status_code == 400
        changed = b.post(path, {"password": "a brand new password"})
        assert changed.headers["location"].startswith("/login?flash=")
        assert b.get(path).status_code == 410  # used once
        assert b.post(path, {"password": "another new password"}).status_code == 410
        assert b.post("/login", {"email": "a@example.com",
                                 "password": PASSWORD}).status_code == 401
        b.login("a@example.com", "a brand new password")


def test_language_from_browser_then_from_choice(app: WebleadsApp) -> None:
    with Browser(app, lang="fr-FR,fr;q=0.9,en;q=0.5") as b:
        page = b.get("/login")
        assert '<html lang="fr">' in page.text
        assert "Mot de passe oublié" in text(page.text)
        b.post("/lang", {"lang": "en", "next": "/login"})
        assert "Forgot your password" in text(b.get("/login").text)


def test_a_user_gets_404_in_a_workspace_they_are_not_in(app: WebleadsApp) -> None:
    create_site(app.engine, "A", "a.example", workspace="A")
    create_site(app.engine, "B", "b.example", workspace="B")
    add_user(app, "a@example.com", workspace=1, role="marketer")
    with Browser(app) as b:
        b.login("a@example.com")
        assert b.get("/").headers["location"] == "/w/1/accounts"
        assert b.get("/w/1/").headers["location"] == "/w/1/accounts"
        other = b.get("/w/2/")
        assert other.status_code == 404
        assert "not a member" in text(other.text)
        assert b.get("/w/999/").status_code == 404


def test_install_admin_reaches_every_workspace(app: WebleadsApp) -> None:
    create_site(app.engine, "A", "a.example", workspace="A")
    create_site(app.engine, "B", "b.example", workspace="B")
    add_user(app, "root@example.com", install_admin=True, workspace=1)
    assert [m.workspace_name for m in app.web.users.memberships(
        app.web.users.session(app.web.users.login("root@example.com", PASSWORD,
                                                  ip="x").token or "")  # type: ignore[arg-type]
    )] == ["A", "B"]


def test_security_headers_and_static_files(app: WebleadsApp) -> None:
    with Browser(app) as b:
        page = b.get("/login")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in page.headers
        assert "<script>" not in page.text  # no inline script anywhere
        css = b.get(app.web.static("app.css"))
        assert css.status_code == 200 and "immutable" in css.headers["cache-control"]
        assert b.get(app.web.static("vendor/htmx-2.0.11.min.js")).status_code == 200
        assert b.get("/static/nothing.js").status_code == 404


def test_bad_form_input_is_a_clear_400_not_a_crash(app: WebleadsApp) -> None:
    with Browser(app) as b:
        response = b.post("/login", {"email": "x" * 300, "password": "p"})
        assert response.status_code == 400
        assert "email" in text(response.text)


def test_bodies_beyond_the_limit_are_413_not_a_crash(app: WebleadsApp) -> None:
    from webleads.web.security import MAX_BODY

    with Browser(app) as b:
        import socket
        from urllib.parse import urlsplit

        where = urlsplit(b.base)
        with socket.create_connection((where.hostname or "", where.port or 80), 10) as raw:
            raw.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        b"application/x-www-form-urlencoded\r\nContent-Length: "
                        + str(MAX_BODY + 1).encode() + b"\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.1 413")  # before any byte is sent
        big = b"a=" + b"x" * (MAX_BODY + 10)

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(big), 1 << 20):
                yield big[i:i + (1 << 20)]

        streamed = b.client.post("/login", content=chunks(), headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-csrf-token": b.csrf})
        assert streamed.status_code in (400, 413)
        assert b.get("/login").status_code == 200  # the server is fine


def test_no_page_loads_anything_from_another_host(app: WebleadsApp) -> None:
    import re as _re

    with Browser(app) as b:
        assert b.get("/api/docs").status_code == 404  # Swagger UI would need a CDN
        page = b.get("/login").text
        assert not _re.search(r'(src|href)="(https?:)?//', page)
