"""API tokens on both engines: created once, stored as a hash with a display prefix,
verified (last use written at most once a minute), revoked; input checked."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads import api_tokens
from webleads.db.schema_privacy import audit_log
from webleads.db.schema_web import api_tokens as table
from webleads.sites import create_site

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def workspaces(engine: Engine) -> tuple[int, int]:
    a = create_site(engine, "A", "a.example", workspace="A").site.workspace_id
    b = create_site(engine, "B", "b.example", workspace="B").site.workspace_id
    return a, b


def last_used(engine: Engine, token_id: int) -> datetime | None:
    with engine.connect() as conn:
        found: datetime | None = conn.execute(
            sa.select(table.c.last_used_at).where(table.c.id == token_id)).scalar_one()
    return found


def test_create_verify_revoke(engine: Engine, workspaces: tuple[int, int]) -> None:
    a, b = workspaces
    new = api_tokens.create(engine, workspace_id=a, user_id=None, name="  CRM   sync ",
                            scopes=["collect", "read", "read"], actor="cli", now=T0)
    other = api_tokens.create(engine, workspace_id=b, user_id=None, name="B", scopes=["admin"],
                              actor="cli", now=T0)
    assert new.token.startswith("wlt_") and len(new.token) == 47
    assert new.prefix == new.token[:11] and new.token != other.token
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.id == new.id)).one()
        everything = repr(conn.execute(sa.select(table)).all()) + repr(
            conn.execute(sa.select(audit_log)).all())
    assert row.token_hash == hashlib.sha256(new.token.encode()).hexdigest()
    assert (row.name, row.prefix, list(row.scopes)) == ("CRM sync", new.prefix,
                                                         ["read", "collect"])
    assert new.token not in everything and other.token not in everything
    assert api_tokens.verify(engine, new.token, now=T0) == (a, ("read", "collect"))
    assert api_tokens.verify(engine, other.token, now=T0) == (b, ("admin",))
    # A token of workspace B cannot be revoked from workspace A.
    assert not api_tokens.revoke(engine, workspace_id=a, token_id=other.id, actor="x", now=T0)
    assert api_tokens.revoke(engine, workspace_id=a, token_id=new.id, actor="x", now=T0)
    assert not api_tokens.revoke(engine, workspace_id=a, token_id=new.id, actor="x", now=T0)
    assert api_tokens.verify(engine, new.token, now=T0) is None
    assert api_tokens.verify(engine, other.token, now=T0) == (b, ("admin",))
    with engine.connect() as conn:
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.details)
                               .order_by(audit_log.c.id)).all()
    assert [x for x, _ in actions] == ["api_token.create", "api_token.create",
                                       "api_token.revoke"]
    assert actions[0][1] == {"name": "CRM sync", "prefix": new.prefix,
                             "scopes": ["read", "collect"]}


def test_last_use_is_written_at_most_once_a_minute(engine: Engine,
                                                   workspaces: tuple[int, int]) -> None:
    new = api_tokens.create(engine, workspace_id=workspaces[0], user_id=None, name="t",
                            scopes=["read"], actor="cli", now=T0)
    assert last_used(engine, new.id) is None
    api_tokens.verify(engine, new.token, now=T0)
    assert last_used(engine, new.id) == T0
    api_tokens.verify(engine, new.token, now=T0 + timedelta(seconds=59))
    assert last_used(engine, new.id) == T0
    api_tokens.verify(engine, new.token, now=T0 + timedelta(seconds=61))
    assert last_used(engine, new.id) == T0 + timedelta(seconds=61)


@pytest.mark.parametrize("token", [
    "", "wlt_", "wlt_" + "A" * 42, "wlt_" + "A" * 44, "xx_" + "A" * 43, "wlt_" + "%" * 43,
    "wlt_" + "A" * 43 + "\n", "Bearer wlt_" + "A" * 43,
])
def test_malformed_tokens_are_refused_without_a_query(token: str) -> None:
    empty = sa.create_engine("sqlite://")  # no table: a query would fail
    assert api_tokens.verify(empty, token) is None


def test_unknown_well_formed_token(engine: Engine, workspaces: tuple[int, int]) -> None:
    assert api_tokens.verify(engine, "wlt_" + "A" * 43) is None


@pytest.mark.parametrize(("name", "scopes", "field", "code"), [
    ("", ["read"], "name", "no_name"),
    ("x" * 101, ["read"], "name", "long_name"),
    ("ok", [], "scopes", "no_scope"),
    ("ok", ["read", "root"], "scopes", "bad_scope"),
])
def test_bad_input_names_the_field(engine: Engine, workspaces: tuple[int, int], name: str,
                                   scopes: list[str], field: str, code: str) -> None:
    with pytest.raises(api_tokens.TokenError) as caught:
        api_tokens.create(engine, workspace_id=workspaces[0], user_id=None, name=name,
                          scopes=scopes, actor="cli", now=T0)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert api_tokens.tokens(engine, workspaces[0]) == []
