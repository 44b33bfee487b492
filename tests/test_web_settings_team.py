"""Settings › Team, on both engines: add someone (then they log in and see only this
workspace), roles and the last admin, owners and assignment rules, API tokens shown
once; 404 for ids of another workspace, 403 for other roles, 400 for bad input; French
and English."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import PASSWORD, Browser, add_user, text
from webleads import api_tokens
from webleads.app import WebleadsApp, create_app
from webleads.db.schema_lifecycle import assignment_rules, owners
from webleads.db.schema_privacy import audit_log
from webleads.db.schema_web import api_tokens as api_tokens_table
from webleads.db.schema_web import memberships
from webleads.settings import Settings
from webleads.sites import create_site


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    create_site(engine, "A", "a.example", workspace="A")
    create_site(engine, "B", "b.example", workspace="B")
    return create_app(settings, engine=engine)


def once(html: str) -> str:
    found = re.search(r'data-once="\w+">([^<]+)</code>', html)
    assert found, "nothing shown once"
    return found.group(1).strip()


def audit(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id))
                    .scalars())


def test_someone_added_logs_in_and_sees_only_this_workspace(app: WebleadsApp) -> None:
    add_user(app, "admin@example.com", workspace=1)
    other = add_user(app, "other@example.com", role="marketer", workspace=2)
    with Browser(app) as b:
        b.login("admin@example.com")
        bad = b.post("/w/1/settings/team/members", {"email": "not-an-address",
                                                    "role": "boss", "password": "short"})
        assert bad.status_code == 400
        for field in ("email", "role"):
            assert f'id="e-{field}"' in bad.text, field
        assert "short" not in re.findall(r'name="password"[^>]*', bad.text)[0]
        short = b.post("/w/1/settings/team/members", {"email": "x@example.com",
                                                      "role": "marketer", "password": "short"})
        assert short.status_code == 400 and 'id="e-password"' in short.text
        added = b.post("/w/1/settings/team/members", {
            "email": "New.Person@Example.com", "name": "New Person", "role": "marketer"})
        assert added.status_code == 200
        password = once(added.text)
        assert len(password) >= 16
        assert password not in b.get("/w/1/settings/team").text  # shown once
        assert "New Person" in text(b.get("/w/1/settings/team").text)
        # Someone of another workspace: added with their own password, untouched.
        existing = b.post("/w/1/settings/team/members", {
            "email": "other@example.com", "role": "sales", "password": "ignored password"})
        assert existing.status_code == 303
        assert "already had an account" in text(b.get(existing.headers["location"]).text)
        again = b.post("/w/1/settings/team/members", {"email": "other@example.com",
                                                      "role": "sales"})
        assert again.status_code == 400 and "already a member" in text(again.text)
    with Browser(app) as newcomer:
        newcomer.login("new.person@example.com", password)
        assert newcomer.get("/").headers["location"] == "/w/1/accounts"
        assert newcomer.get("/w/1/settings/scoring").status_code == 200
        assert newcomer.get("/w/2/settings/scoring").status_code == 404
        assert newcomer.get("/w/1/settings/team").status_code == 403  # marketers
    with Browser(app) as b:
        b.login("other@example.com", PASSWORD)  # their password did not change
        assert b.get("/w/1/settings/scoring").status_code == 403  # a sales rep in A
        assert b.get("/w/2/settings/scoring").status_code == 200  # a marketer in B
    assert other.id > 0
    assert audit(app.engine).count("user.create") == 3
    assert "member.add" in audit(app.engine)


def test_roles_change_and_the_last_admin_stays(app: WebleadsApp) -> None:
    boss = add_user(app, "boss@example.com", workspace=1)
    marketer = add_user(app, "mk@example.com", role="marketer", workspace=1)
    with Browser(app) as mk:
        mk.login("mk@example.com")
        assert mk.get("/w/1/settings/alerts").status_code == 200
        with Browser(app) as b:
            b.login("boss@example.com")
            refused = b.post(f"/w/1/settings/team/members/{boss.id}/role",
                             {"role": "marketer"})
            assert refused.status_code == 409
            assert "at least one admin" in text(refused.text)
            refused = b.post(f"/w/1/settings/team/members/{boss.id}/remove")
            assert refused.status_code == 409
            assert b.post(f"/w/1/settings/team/members/{marketer.id}/role",
                          {"role": "root"}).status_code == 400
            assert b.post(f"/w/1/settings/team/members/{marketer.id}/role",
                          {"role": "sales"}).status_code == 303
            # The change takes effect on the marketer's next request.
            assert mk.get("/w/1/settings/alerts").status_code == 403
            assert mk.get("/w/1/settings/scoring").status_code == 403
            assert b.post(f"/w/1/settings/team/members/{marketer.id}/role",
                          {"role": "admin"}).status_code == 303
            assert mk.get("/w/1/settings/team").status_code == 200
            # With two admins, one may go.
            assert b.post(f"/w/1/settings/team/members/{boss.id}/remove").status_code == 303
            assert b.get("/w/1/settings/team").status_code == 404
        assert mk.post(f"/w/1/settings/team/members/{marketer.id}/remove").status_code == 409
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(memberships.c.user_id, memberships.c.role).where(
            memberships.c.workspace_id == 1)).all() == [(marketer.id, "admin")]
    assert audit(app.engine).count("member.role") == 2
    assert audit(app.engine)[-1] == "member.remove"


def test_owners_assignment_rules_and_the_link_of_a_sales_rep(app: WebleadsApp) -> None:
    add_user(app, "admin@example.com", workspace=1)
    rep = add_user(app, "rep@example.com", role="sales", workspace=1)
    with Browser(app) as b:
        b.login("admin@example.com")
        bad = b.post("/w/1/settings/team/owners", {"owner_name": "", "owner_email": "nope"})
        assert bad.status_code == 400 and 'id="e-owner_name"' in bad.text
        for name, email, group in [("Jeanne Martin", "jeanne@example.com", "north"),
                                   ("Paul Durand", "paul@example.com", "north")]:
            assert b.post("/w/1/settings/team/owners", {
                "owner_name": name, "owner_email": email, "owner_team": group,
                "owner_language": "fr"}).status_code == 303
        dup = b.post("/w/1/settings/team/owners", {"owner_name": "J",
                                                   "owner_email": "jeanne@example.com"})
        assert dup.status_code == 400 and 'id="e-owner_email"' in dup.text
        with app.engine.connect() as conn:
            ids = dict(conn.execute(sa.select(owners.c.email, owners.c.id)).all())
        jeanne, paul = ids["jeanne@example.com"], ids["paul@example.com"]
        assert b.post(f"/w/1/settings/team/owners/{paul}/active", {"active": ""}
                      ).status_code == 303
        assert "inactive" in text(b.get("/w/1/settings/team").text)
        bad = b.post("/w/1/settings/team/assignment", {"kind": "territory"})
        assert bad.status_code == 400 and 'id="e-owner_id"' in bad.text
        bad = b.post("/w/1/settings/team/assignment", {"kind": "territory",
                                                       "owner_id": str(jeanne)})
        assert bad.status_code == 400 and 'id="e-countries"' in bad.text
        assert b.post("/w/1/settings/team/assignment", {
            "kind": "territory", "countries": "fr, be", "owner_id": str(jeanne)}
        ).status_code == 303
        assert b.post("/w/1/settings/team/assignment", {
            "kind": "round_robin", "team": "north"}).status_code == 303
        with app.engine.connect() as conn:
            order = conn.execute(sa.select(assignment_rules.c.id, assignment_rules.c.kind)
                                 .order_by(assignment_rules.c.position)).all()
        assert [k for _, k in order] == ["territory", "round_robin"]
        page = text(b.get("/w/1/settings/team").text)
        assert "Country: FR, BE" in page and "team north, in turn" in page
        assert b.post(f"/w/1/settings/team/assignment/{order[1][0]}/up").status_code == 303
        with app.engine.connect() as conn:
            kinds = conn.execute(sa.select(assignment_rules.c.kind)
                                 .order_by(assignment_rules.c.position)).scalars().all()
        assert kinds == ["round_robin", "territory"]
        assert b.post(f"/w/1/settings/team/assignment/{order[0][0]}/remove"
                      ).status_code == 303
        assert b.post(f"/w/1/settings/team/members/{rep.id}/owner",
                      {"owner_id": str(jeanne)}).status_code == 303
        with app.engine.connect() as conn:
            assert conn.execute(sa.select(memberships.c.owner_id).where(
                memberships.c.user_id == rep.id)).scalar_one() == jeanne
        assert b.post(f"/w/1/settings/team/members/{rep.id}/owner",
                      {"owner_id": "abc"}).status_code == 400
    actions = audit(app.engine)
    for action in ("owner.add", "owner.deactivate", "assignment.add", "assignment.move",
                   "assignment.remove", "member.owner"):
        assert action in actions, action


def test_an_api_token_is_shown_once_and_revoked(app: WebleadsApp) -> None:
    add_user(app, "admin@example.com", workspace=1)
    with Browser(app) as b:
        b.login("admin@example.com")
        bad = b.post("/w/1/settings/team/tokens", {"token_name": "", "scopes": "root"})
        assert bad.status_code == 400
        assert 'id="e-token_name"' in bad.text and 'id="e-scopes"' in bad.text
        created = b.post("/w/1/settings/team/tokens", {"token_name": "CRM sync",
                                                       "scopes": ["read", "collect"]})
        assert created.status_code == 200
        token = once(created.text)
        assert token.startswith("wlt_")
        page = b.get("/w/1/settings/team")
        assert token not in page.text and token[:10] in page.text
        assert "never" in text(page.text)
        assert api_tokens.verify(app.engine, token) == (1, ("read", "collect"))
        assert "never" not in text(b.get("/w/1/settings/team").text).split("CRM sync")[1]
        with app.engine.connect() as conn:
            row = conn.execute(sa.select(api_tokens_table)).one()
            dump = repr(tuple(row)) + repr(conn.execute(sa.select(audit_log)).all())
        assert token not in dump
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert b.post(f"/w/1/settings/team/tokens/{row.id}/revoke").status_code == 303
        assert api_tokens.verify(app.engine, token) is None
        assert "revoked" in text(b.get("/w/1/settings/team").text)
    assert audit(app.engine)[-2:] == ["api_token.create", "api_token.revoke"]


def test_other_workspaces_ids_are_404_and_other_roles_403(app: WebleadsApp) -> None:
    add_user(app, "a@example.com", workspace=1)
    b_user = add_user(app, "b@example.com", workspace=2)
    add_user(app, "mk@example.com", role="marketer", workspace=1)
    add_user(app, "rep@example.com", role="sales", workspace=1)
    with Browser(app) as b:
        b.login("b@example.com")
        b.post("/w/2/settings/team/owners", {"owner_name": "Bea", "owner_email": "bea@b.example"})
        b.post("/w/2/settings/team/assignment", {"kind": "round_robin", "team": "t"})
        b.post("/w/2/settings/team/tokens", {"token_name": "B's", "scopes": "read"})
    with app.engine.connect() as conn:
        owner_b = conn.execute(sa.select(owners.c.id)).scalar_one()
        rule_b = conn.execute(sa.select(assignment_rules.c.id)).scalar_one()
        token_b = conn.execute(sa.select(api_tokens_table.c.id)).scalar_one()
    with Browser(app) as b:
        b.login("a@example.com")
        for url, data in [
            (f"/w/1/settings/team/members/{b_user.id}/role", {"role": "sales"}),
            (f"/w/1/settings/team/members/{b_user.id}/remove", {}),
            (f"/w/1/settings/team/members/{b_user.id}/owner", {"owner_id": ""}),
            (f"/w/1/settings/team/owners/{owner_b}/active", {"active": ""}),
            (f"/w/1/settings/team/assignment/{rule_b}/up", {}),
            (f"/w/1/settings/team/assignment/{rule_b}/remove", {}),
            (f"/w/1/settings/team/tokens/{token_b}/revoke", {}),
            ("/w/2/settings/team/owners", {"owner_name": "x", "owner_email": "x@x.example"}),
        ]:
            assert b.post(url, data).status_code == 404, url
        me = b.get("/w/1/settings/team")
        mine = re.search(r'/w/1/settings/team/members/(\d+)/owner', me.text)
        assert mine is not None
        assert b.post(f"/w/1/settings/team/members/{mine.group(1)}/owner",
                      {"owner_id": str(owner_b)}).status_code == 404
        assert b.get("/w/2/settings/team").status_code == 404
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(owners.c.active)).scalar_one() is True
        assert conn.execute(sa.select(api_tokens_table.c.revoked_at)).scalar_one() is None
    for email in ("mk@example.com", "rep@example.com"):
        with Browser(app) as b:
            b.login(email)
            assert b.get("/w/1/settings/team").status_code == 403
            assert b.post("/w/1/settings/team/tokens", {"token_name": "x",
                                                        "scopes": "admin"}).status_code == 403


def test_team_page_in_french(app: WebleadsApp) -> None:
    add_user(app, "admin@example.com", workspace=1, locale="fr")
    with Browser(app) as b:
        b.login("admin@example.com")
        page = text(b.get("/w/1/settings/team").text)
        assert "Membres" in page and "Jetons d'API" in page and "Règles d'attribution" in page
        bad = b.post("/w/1/settings/team/tokens", {"token_name": ""})
        assert "Donnez un nom au jeton" in text(bad.text)
